# tests/integration/test_maild_filters.py: SPEC §5 with real engines: clamd (EICAR from a signature file
# the test writes) refuses 554 5.7.1 and 451 4.7.1 when down; spam = header verdicts, X-Spam-* cleaning,
# the [SPAM] tag (never twice) and .Junk filing per the account's toggles, changed between messages.
import base64
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import free_port
from maild_util import Maild, add_account, send

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(scope="module")
def clamd():
    if shutil.which("clamd") is None:
        pytest.fail("clamd is not installed (scripts/deps.sh test installs clamav-daemon)")
    d = tempfile.mkdtemp(prefix="yubin-clamd-")
    os.mkdir(os.path.join(d, "db"))
    with open(os.path.join(d, "db", "test.hdb"), "w") as f:
        f.write(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n")
    port = free_port()
    with open(os.path.join(d, "clamd.conf"), "w") as f:
        f.write(f"Foreground yes\nTCPSocket {port}\nTCPAddr 127.0.0.1\nUser root\n"
                f"DatabaseDirectory {d}/db\nLogFile {d}/clamd.log\nScanMail yes\n")
    p = subprocess.Popen(["clamd", "-c", os.path.join(d, "clamd.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 60
    while time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), 1)
            s.sendall(b"zPING\0")
            if s.recv(16).startswith(b"PONG"):
                s.close()
                break
            s.close()
        except OSError:
            time.sleep(0.3)
    else:
        p.kill()
        pytest.fail("clamd did not start")
    yield port, p
    if p.poll() is None:
        p.terminate()
        p.wait(10)


@pytest.fixture(scope="module")
def md(db, clamd):
    m = Maild(db, extra=f"spam = header\nvirus = clamd 127.0.0.1:{clamd[0]}")
    yield m
    m.stop()


@pytest.fixture(scope="module")
def acct(db):
    return add_account(db, "example.test", "spamuser")


def test_virus_refused_and_clean_accepted(md, acct):
    att = base64.b64encode(EICAR).decode()
    mime = ("Subject: attached\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
            "--B\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--B\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; filename=e.com\r\n\r\n{att}\r\n--B--\r\n").encode()
    with md.client() as c:
        c.ehlo("x")
        c.mail("a@remote.test")
        c.rcpt("spamuser@example.test")
        code, text = c.data(mime)
        assert code == 554 and b"5.7.1" in text and b"Eicar-Test-Signature" in text
    assert md.read_all("example.test", "spamuser") == []
    assert send(md, ["spamuser@example.test"], b"Subject: clean\r\n\r\nnothing here\r\n") == {}
    assert len(md.read_all("example.test", "spamuser")) == 1


def test_spam_header_verdicts(md, acct, db):
    spam = (b"Subject: buy now\r\nX-Spam-Flag: YES\r\nX-Spam-Score: 12.5\r\nX-Spam-Status: Yes, forged\r\n"
            b"X-Spam-Level: *****\r\n\r\nspam\r\n")
    ham = b"Subject: lunch\r\nX-Spam-Level: ****\r\n\r\nham\r\n"
    before = len(md.read_all("example.test", "spamuser"))
    send(md, ["spamuser@example.test"], spam)
    send(md, ["spamuser@example.test"], ham)
    msgs = md.read_all("example.test", "spamuser")[before:]
    assert len(msgs) == 2
    sp = [m for m in msgs if b"buy now" in m][0]
    hm = [m for m in msgs if b"lunch" in m][0]
    assert sp.count(b"X-Spam-Flag:") == 1 and b"X-Spam-Flag: YES" in sp and b"X-Spam-Score: 12.5" in sp
    assert b"X-Spam-Status" not in sp and b"X-Spam-Level" not in sp
    assert b"Subject: buy now" in sp         # tag off by default
    assert b"X-Spam-Flag: NO" in hm and b"X-Spam-Level" not in hm
    # tag on: "[SPAM] " once, also when it is there already
    db.execute("UPDATE accounts SET spam_tag = true WHERE id = %s", (acct,))
    send(md, ["spamuser@example.test"], spam)
    send(md, ["spamuser@example.test"], spam.replace(b"Subject: buy now", b"Subject: [SPAM] again"))
    send(md, ["spamuser@example.test"], ham)
    msgs = md.read_all("example.test", "spamuser")
    assert sum(b"Subject: [SPAM] buy now" in m for m in msgs) == 1
    assert sum(b"Subject: [SPAM] again" in m for m in msgs) == 1
    assert not any(b"[SPAM] [SPAM]" in m for m in msgs)
    assert not any(b"[SPAM] lunch" in m for m in msgs)
    # sort on: spam into .Junk, ham stays in the inbox
    db.execute("UPDATE accounts SET spam_sort = true WHERE id = %s", (acct,))
    inbox = len(md.read_all("example.test", "spamuser"))
    send(md, ["spamuser@example.test"], spam)
    send(md, ["spamuser@example.test"], ham)
    assert len(md.read_all("example.test", "spamuser", ".Junk")) == 1
    assert len(md.read_all("example.test", "spamuser")) == inbox + 1


def test_clamd_down_tempfails(md, acct, clamd):
    clamd[1].terminate()
    clamd[1].wait(10)
    with md.client() as c:
        c.ehlo("x")
        c.mail("a@remote.test")
        c.rcpt("spamuser@example.test")
        code, text = c.data(b"Subject: x\r\n\r\nx\r\n")
        assert code == 451 and b"4.7.1" in text
