# tests/integration/test_maild_smtp.py: inbound SMTP end to end: RCPT answers (unknown 550, over quota
# 452, database down 451), Maildir delivery and headers, size limit 552, receive off, aliases,
# catch-all, forwards through the queue to a sink relay, loops, read-your-writes, metrics.
import os
import smtplib
import ssl
import subprocess
import time

import pytest

from conftest import Database, PGPORT
from maild_util import Maild, Sink, add_account, notify, send

MSG = b"From: a@remote.test\r\nTo: u1@example.test\r\nSubject: hello\r\nMessage-ID: <m1@remote.test>\r\n\r\nbody line\r\n.dot line\r\n"


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def md(db, sink):
    m = Maild(db, relay=sink.port, extra="message_size_limit = 200000")
    yield m
    m.stop()


@pytest.fixture(scope="module")
def accounts(db):
    ids = {}
    for n in ("u1", "u2", "quota", "nokeep", "fwd", "loopa", "loopb"):
        ids[n] = add_account(db, "example.test", n)
    return ids


def test_ehlo_extensions(md):
    with md.client() as c:
        code, text = c.ehlo("client.test")
        assert code == 250
        t = text.decode()
        for ext in ("PIPELINING", "SIZE 200000", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS"):
            assert ext in t
        assert "AUTH" not in t          # port 25 never offers AUTH
        assert c.docmd("AUTH", "PLAIN AGZvbwBiYXI=")[0] == 500
        assert c.docmd("VRFY", "u1")[0] == 252


def test_deliver_to_maildir(md, accounts, db):
    before = db.query("SELECT usage_bytes FROM accounts WHERE id = %s", (accounts["u1"],))[0][0]
    assert send(md, ["u1@example.test"], MSG) == {}
    box = os.path.join(md.root, "example.test", "u1")
    for d in ("cur", "new", "tmp", ".Junk/new", ".Trash/cur", ".Archive/tmp"):
        assert os.path.isdir(os.path.join(box, d)), d
    with open(os.path.join(box, ".yubin-id")) as f:
        assert f.read().strip() == str(accounts["u1"])
    msgs = md.read_all("example.test", "u1")
    assert len(msgs) == 1
    m = msgs[0]
    assert m.startswith(b"Return-Path: <sender@remote.test>\nDelivered-To: u1@example.test\nReceived: from ")
    assert b"\n.dot line\n" in m and b"\r\n" not in m
    after = db.query("SELECT usage_bytes FROM accounts WHERE id = %s", (accounts["u1"],))[0][0]
    assert after - before == len(m)
    name = md.mailbox("example.test", "u1")[0]
    assert name.endswith(f",S={len(m)}")


def test_unknown_and_relay(md, accounts):
    with md.client() as c:
        c.ehlo("x")
        c.mail("a@remote.test")
        code, text = c.rcpt("nobody@example.test")
        assert code == 550 and b"5.1.1" in text
        code, text = c.rcpt("someone@elsewhere.test")
        assert code == 550 and b"5.7.1" in text


def test_over_quota(md, accounts, db):
    aid = accounts["quota"]
    db.execute("UPDATE accounts SET quota_mb = 1, usage_bytes = 1048576 WHERE id = %s", (aid,))
    # at the quota exactly: still accepted (CONTRACT), and it takes usage over
    assert send(md, ["quota@example.test"], MSG) == {}
    with md.client() as c:
        c.ehlo("x")
        c.mail("a@remote.test")
        code, text = c.rcpt("quota@example.test")
        assert code == 452 and b"4.2.2" in text
    db.execute("UPDATE accounts SET quota_mb = 2 WHERE id = %s", (aid,))
    assert send(md, ["quota@example.test"], MSG) == {}


def test_size_limit(md, accounts):
    with md.client() as c:
        c.ehlo("x")
        code, text = c.mail("a@remote.test", ["SIZE=300000"])
        assert code == 552 and b"5.3.4" in text
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 250
    with md.client() as c:
        c.ehlo("x")
        assert c.mail("a@remote.test")[0] == 250      # no SIZE= declared
        assert c.rcpt("u2@example.test")[0] == 250
        code, text = c.data(big)
        assert code == 552 and b"5.3.4" in text
        # the session goes on after the refused body
        assert c.noop()[0] == 250
    assert md.read_all("example.test", "u2") == []


def test_receive_off_forwards_only(md, accounts, db, sink):
    aid = accounts["nokeep"]
    db.execute("UPDATE accounts SET receive = false WHERE id = %s", (aid,))
    rid = db.query("INSERT INTO forward_rules (account_id, condition) VALUES (%s, 'all') RETURNING id", (aid,))[0][0]
    db.execute("INSERT INTO forward_addresses VALUES (%s, 'dest@outside.test')", (rid,))
    n = len(sink.messages)
    assert send(md, ["nokeep@example.test"], MSG) == {}
    msgs = sink.wait(n + 1)
    frm, rcpts, data = msgs[n]
    assert rcpts == ["dest@outside.test"] and frm == "sender@remote.test"
    assert b"Delivered-To: nokeep@example.test" in data and b"Subject: hello" in data
    assert md.read_all("example.test", "nokeep") == []


def test_forward_keyword_japanese(md, accounts, db, sink):
    aid = accounts["fwd"]
    rid = db.query("INSERT INTO forward_rules (account_id, condition, keyword) VALUES (%s, 'subject', '請求書') RETURNING id", (aid,))[0][0]
    db.execute("INSERT INTO forward_addresses VALUES (%s, 'billing@outside.test')", (rid,))
    rid = db.query("INSERT INTO forward_rules (account_id, condition, keyword) VALUES (%s, 'from', 'BOSS') RETURNING id", (aid,))[0][0]
    db.execute("INSERT INTO forward_addresses VALUES (%s, 'boss@outside.test')", (rid,))
    subj_jis = "=?ISO-2022-JP?B?" + __import__("base64").b64encode("今月の請求書です".encode("iso-2022-jp")).decode() + "?="
    subj_sjis = "=?Shift_JIS?B?" + __import__("base64").b64encode("請求書の件".encode("cp932")).decode() + "?="
    n = len(sink.messages)
    send(md, ["fwd@example.test"], f"From: x@remote.test\r\nSubject: {subj_jis}\r\n\r\nhi\r\n".encode())
    send(md, ["fwd@example.test"], f"From: x@remote.test\r\nSubject: {subj_sjis}\r\n\r\nhi\r\n".encode())
    send(md, ["fwd@example.test"], b"From: The Boss <boss@remote.test>\r\nSubject: other\r\n\r\nhi\r\n")
    send(md, ["fwd@example.test"], b"From: x@remote.test\r\nSubject: nothing\r\n\r\nhi\r\n")
    msgs = sink.wait(n + 3)
    time.sleep(1.5)
    got = sorted(r[0] for _, r, _ in sink.messages[n:])
    assert got == ["billing@outside.test", "billing@outside.test", "boss@outside.test"]
    assert len(md.read_all("example.test", "fwd")) == 4


def test_loop_stopped(md, accounts, db, sink):
    # a -> b -> a among local accounts: each copy is kept once, then the loop stops
    a, b = accounts["loopa"], accounts["loopb"]
    for src, dst in ((a, "loopb@example.test"), (b, "loopa@example.test")):
        rid = db.query("INSERT INTO forward_rules (account_id, condition) VALUES (%s, 'all') RETURNING id", (src,))[0][0]
        db.execute("INSERT INTO forward_addresses VALUES (%s, %s)", (rid, dst))
    send(md, ["loopa@example.test"], b"From: x@remote.test\r\nSubject: loop\r\n\r\nhi\r\n")
    end = time.time() + 15
    while time.time() < end and "loop stopped" not in md.logtext():
        time.sleep(0.1)
    time.sleep(1)
    assert len(md.read_all("example.test", "loopa")) == 1
    assert len(md.read_all("example.test", "loopb")) == 1


def test_alias_catchall_domain_alias(md, accounts, db):
    did = db.query("SELECT id FROM domains WHERE name = 'example.test'")[0][0]
    db.execute("INSERT INTO aliases (domain_id, name, account_id) VALUES (%s, 'info', %s)", (did, accounts["u2"]))
    send(md, ["info@example.test"], b"Subject: via alias\r\n\r\nx\r\n")
    msgs = md.read_all("example.test", "u2")
    assert len(msgs) == 1 and b"Delivered-To: u2@example.test" in msgs[0] and b"for <info@example.test>" in msgs[0]
    # catch-all switched on: the next message to an unknown name is taken (read-your-writes)
    db.execute("UPDATE domains SET catchall_account_id = %s WHERE id = %s", (accounts["u2"], did))
    notify(db, "example.test")
    send(md, ["whoever@example.test"], b"Subject: catch\r\n\r\nx\r\n")
    assert len(md.read_all("example.test", "u2")) == 2
    db.execute("UPDATE domains SET catchall_account_id = NULL WHERE id = %s", (did,))
    with md.client() as c:
        c.ehlo("x")
        c.mail("a@remote.test")
        assert c.rcpt("whoever@example.test")[0] == 550
    db.execute("INSERT INTO domain_aliases (name, domain_id) VALUES ('alias.test', %s)", (did,))
    send(md, ["u2@alias.test"], b"Subject: domain alias\r\n\r\nx\r\n")
    assert len(md.read_all("example.test", "u2")) == 3


def test_new_account_read_your_writes(md, db):
    # created and used at once, 20 times: never a 550
    for i in range(20):
        add_account(db, "other.test", f"ryw{i}")
        assert send(md, [f"ryw{i}@other.test"], b"Subject: x\r\n\r\nx\r\n") == {}


def test_old_mailbox_moved_aside(md, db):
    aid = add_account(db, "other.test", "reuse")
    send(md, ["reuse@other.test"], b"Subject: old mail\r\n\r\nx\r\n")
    db.execute("DELETE FROM accounts WHERE id = %s", (aid,))
    add_account(db, "other.test", "reuse")
    send(md, ["reuse@other.test"], b"Subject: new mail\r\n\r\nx\r\n")
    msgs = md.read_all("other.test", "reuse")
    assert len(msgs) == 1 and b"new mail" in msgs[0]
    assert any("reuse@other.test" in n for n in os.listdir(os.path.join(md.root, ".trash")))


def test_starttls(md, accounts):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with md.client() as c:
        c.starttls(context=ctx)
        c.ehlo("x")
        assert "STARTTLS" not in c.esmtp_features
        c.sendmail("a@remote.test", ["u1@example.test"], b"Subject: tls\r\n\r\nx\r\n")
    assert any(b"with ESMTPS" in m for m in md.read_all("example.test", "u1"))


def test_pipelining(md, accounts):
    import socket
    s = socket.create_connection(("127.0.0.1", md.smtp), 10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"220")
    s.sendall(b"EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<u1@example.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n")
    codes = []
    while len(codes) < 5:
        line = f.readline()
        if line[3:4] == b" ":
            codes.append(int(line[:3]))
    assert codes == [250, 250, 250, 550, 354]
    s.sendall(b"Subject: piped\r\n\r\nx\r\n.\r\nQUIT\r\n")
    assert f.readline().startswith(b"250")
    assert f.readline().startswith(b"221")
    s.close()


def test_metrics(md):
    t = md.metrics_text()
    assert "yubin_maild_messages_accepted_total" in t
    assert 'yubin_maild_messages_refused_total{reason="unknown_user"}' in t
    assert "yubin_maild_connections_total" in t


def test_database_outage_then_recovery(accounts):
    # its own cluster, so stopping it disturbs no other suite
    import tempfile
    from conftest import free_port
    pgdir = tempfile.mkdtemp(prefix="yubin-pg-outage-", dir="/var/tmp")
    os.chmod(pgdir, 0o755)
    port = free_port()
    src = os.environ.get("YUBIN_SRC", ".")
    pg = os.path.join(src, "scripts/pg.sh")
    subprocess.run([pg, "start", pgdir + "/c", str(port)], check=True)
    try:
        os.environ["YUBIN_TEST_PGPORT_SAVE"] = PGPORT
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        subprocess.run([os.path.join(os.environ.get("YUBIN_BUILD", "build"), "yubinctl"), "--db", dsn, "migrate"],
                       check=True, capture_output=True)

        class D:
            pass
        d = D()
        d.dsn = dsn
        import psycopg2

        def q(sql, args=()):
            c = psycopg2.connect(dsn)
            c.autocommit = True
            cur = c.cursor()
            cur.execute(sql, args)
            r = cur.fetchall() if cur.description else None
            c.close()
            return r
        d.query = q
        d.execute = q
        subprocess.run([os.path.join(os.environ.get("YUBIN_BUILD", "build"), "yubinctl"), "--db", dsn,
                        "domain", "add", "outage.test"], check=True, capture_output=True)
        add_account(d, "outage.test", "uu")
        m = Maild(d)
        try:
            assert send(m, ["uu@outage.test"], b"Subject: 1\r\n\r\nx\r\n") == {}
            subprocess.run([pg, "stop", pgdir + "/c"], check=True)
            with m.client() as c:
                c.ehlo("x")
                c.mail("a@remote.test")
                code, text = c.rcpt("uu@outage.test")
                assert code == 451 and b"4.3.0" in text
            subprocess.run([pg, "start", pgdir + "/c", str(port)], check=True)
            end = time.time() + 20
            ok = False
            while time.time() < end and not ok:
                try:
                    ok = send(m, ["uu@outage.test"], b"Subject: 2\r\n\r\nx\r\n") == {}
                except smtplib.SMTPException:
                    time.sleep(0.5)
            assert ok
            assert len(m.read_all("outage.test", "uu")) == 2
        finally:
            m.stop()
    finally:
        subprocess.run([pg, "stop", pgdir + "/c"])
