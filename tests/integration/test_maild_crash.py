# tests/integration/test_maild_crash.py: kill -9 while 1,000 messages are being sent: every message that
# got 250 is in the Maildir afterwards, none twice; then a relay that refuses gives a DSN bounce.
import re
import smtplib
import threading
import time

import pytest

from maild_util import Maild, Sink, add_account, send


@pytest.fixture(scope="module")
def acct(db):
    return add_account(db, "example.test", "crash", quota_mb=10000)


def test_kill9_during_1000_messages(db, acct):
    md = Maild(db)
    acked, lock = set(), threading.Lock()
    stop = threading.Event()
    counter = iter(range(1000))

    def sender():
        c = None
        while not stop.is_set():
            with lock:
                i = next(counter, None)
            if i is None:
                break
            try:
                if c is None:
                    c = smtplib.SMTP("127.0.0.1", md.smtp, timeout=10)
                c.sendmail("a@remote.test", ["crash@example.test"],
                           f"Subject: msg-{i:04d}\r\n\r\nbody {i}\r\n".encode())
                with lock:
                    acked.add(i)
            except (smtplib.SMTPException, OSError):
                c = None
                time.sleep(0.05)
        if c is not None:
            try:
                c.quit()
            except (smtplib.SMTPException, OSError):
                pass

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    end = time.time() + 120
    while len(acked) < 300 and time.time() < end:
        time.sleep(0.01)
    assert len(acked) >= 300, md.logtext()[-3000:]
    md.kill9()
    time.sleep(0.5)
    md.start()
    for t in threads:
        t.join(120)
    md.stop()
    seen = {}
    for m in md.read_all("example.test", "crash"):
        n = int(re.search(rb"Subject: msg-(\d{4})", m).group(1))
        seen[n] = seen.get(n, 0) + 1
    missing = [i for i in acked if i not in seen]
    twice = [i for i, k in seen.items() if k > 1]
    assert not missing, missing[:20]
    assert not twice, twice[:20]
    assert len(acked) > 900


def test_permanent_failure_bounces(db, acct):
    # A refusing relay: forwards bounce to the envelope sender, who is local here.
    add_account(db, "example.test", "bouncer")
    rid = db.query("INSERT INTO forward_rules (account_id, condition) SELECT id, 'all' FROM accounts "
                   "WHERE name = 'bouncer' RETURNING id")[0][0]
    db.execute("INSERT INTO forward_addresses VALUES (%s, 'gone@outside.test')", (rid,))
    sink = Sink(reply_rcpt="550 5.1.1 no such user here")
    md = Maild(db, relay=sink.port)
    try:
        send(md, ["bouncer@example.test"], b"Subject: will bounce\r\n\r\nx\r\n", sender="crash@example.test")
        end = time.time() + 20
        found = None
        while time.time() < end and found is None:
            for m in md.read_all("example.test", "crash"):
                if b"Undelivered Mail Returned to Sender" in m:
                    found = m
            time.sleep(0.2)
        assert found is not None, md.logtext()[-3000:]
        assert b"message/delivery-status" in found and b"Final-Recipient: rfc822; gone@outside.test" in found
        assert b"Status: 5.0.0" in found and b"5.1.1 no such user here" in found
        assert b"Return-Path: <>" in found
    finally:
        md.stop()
        sink.stop()
