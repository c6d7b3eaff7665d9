# tests/integration/test_maild_submit.py: submission (AUTH PLAIN/LOGIN only after TLS, own address or
# alias as sender, statuses, send lock on the test clock) and the autoresponder of SPEC §4 / RFC 3834,
# all through the queue to a sink relay.
import base64
import email
import email.header
import smtplib
import ssl
import time

import pytest

from maild_util import Maild, Sink, USER_PW, add_account, send


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def md(db, sink):
    m = Maild(db, relay=sink.port, extra="send_limit_per_day = 3")
    yield m
    m.stop()


@pytest.fixture(scope="module")
def users(db):
    ids = {}
    for n in ("sender", "limited", "replier"):
        ids[n] = add_account(db, "example.test", n)
        db.ctl("account", "set-password", f"{n}@example.test", "--password-stdin", stdin=USER_PW + "\n")
    did = db.query("SELECT id FROM domains WHERE name = 'example.test'")[0][0]
    db.execute("INSERT INTO aliases (domain_id, name, account_id) VALUES (%s, 'sales', %s)", (did, ids["sender"]))
    return ids


def sub(md):
    c = smtplib.SMTP("127.0.0.1", md.sub, timeout=30)
    c.ehlo("client")
    return c


def test_no_auth_before_tls(md, users):
    c = sub(md)
    assert "auth" not in c.esmtp_features
    code, _ = c.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0sender@example.test\0" + USER_PW.encode()).decode())
    assert code == 530
    assert c.mail("sender@example.test")[0] == 530
    c.quit()


def test_submit_plain_and_login(md, users, sink):
    n = len(sink.messages)
    c = sub(md)
    c.starttls(context=tls_ctx())
    c.ehlo("client")
    assert "PLAIN" in c.esmtp_features["auth"] and "LOGIN" in c.esmtp_features["auth"]
    with pytest.raises(smtplib.SMTPAuthenticationError):
        c.login("sender@example.test", "Wrong#Passw0rd")
    c.login("sender@example.test", USER_PW)
    code, text = c.mail("someone@else.test")
    assert code == 553 and b"5.7.1" in text
    c.rset()
    c.sendmail("sales@example.test", ["friend@outside.test"], b"Subject: from alias\r\n\r\nhi\r\n")
    c.quit()
    msgs = sink.wait(n + 1)
    frm, rcpts, data = msgs[n]
    assert frm == "sales@example.test" and rcpts == ["friend@outside.test"]
    assert b"with ESMTPSA" in data and b"Message-ID:" in data and b"Date:" in data
    # implicit TLS port, AUTH LOGIN
    s = smtplib.SMTP_SSL("127.0.0.1", md.smtps, timeout=30, context=tls_ctx())
    s.ehlo("client")
    s.user, s.password = "sender@example.test", USER_PW
    code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    assert code == 235
    s.sendmail("sender@example.test", ["sender@example.test"], b"Subject: to myself\r\n\r\nx\r\n")
    s.quit()
    # a local recipient goes through our own inbound side
    end = time.time() + 15
    while time.time() < end and not md.read_all("example.test", "sender"):
        time.sleep(0.1)
    assert any(b"to myself" in m for m in md.read_all("example.test", "sender"))


def test_send_lock(md, users, db):
    c = smtplib.SMTP_SSL("127.0.0.1", md.smtps, timeout=30, context=tls_ctx())
    c.login("limited@example.test", USER_PW)
    for i in range(3):
        c.sendmail("limited@example.test", ["x@outside.test"], b"Subject: n\r\n\r\nx\r\n")
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.sendmail("limited@example.test", ["x@outside.test"], b"Subject: n\r\n\r\nx\r\n")
    assert e.value.smtp_code == 550
    assert db.query("SELECT send_locked_at IS NOT NULL FROM accounts WHERE id = %s", (users["limited"],))[0][0]
    with pytest.raises(smtplib.SMTPSenderRefused):
        c.sendmail("limited@example.test", ["x@outside.test"], b"Subject: n\r\n\r\nx\r\n")
    c.quit()
    # 24 h later (test clock) it lifts by itself
    md.set_clock(25 * 3600)
    try:
        c = smtplib.SMTP_SSL("127.0.0.1", md.smtps, timeout=30, context=tls_ctx())
        c.login("limited@example.test", USER_PW)
        assert c.sendmail("limited@example.test", ["x@outside.test"], b"Subject: n\r\n\r\nx\r\n") == {}
        c.quit()
    finally:
        md.set_clock(0)


def test_compromised_cannot_send(md, users, db):
    c = smtplib.SMTP_SSL("127.0.0.1", md.smtps, timeout=30, context=tls_ctx())
    c.login("sender@example.test", USER_PW)
    db.execute("UPDATE accounts SET compromised = true WHERE id = %s", (users["sender"],))
    try:
        code, _ = c.mail("sender@example.test")
        assert code == 550
    finally:
        db.execute("UPDATE accounts SET compromised = false WHERE id = %s", (users["sender"],))
    c.quit()


def wait_replies(sink, n, timeout=10):
    end = time.time() + timeout
    while time.time() < end and len(sink.messages) < n:
        time.sleep(0.05)
    time.sleep(0.5)
    return sink.messages


def test_autoreply_rules(md, users, db, sink):
    aid = users["replier"]
    text = "ただいま不在です。\n来週戻ります。"
    db.execute("INSERT INTO autoreplies (account_id, body) VALUES (%s, %s)", (aid, text))
    n = len(sink.messages)
    orig = b"From: Friend <friend@remote.test>\r\nSubject: hello\r\nMessage-ID: <orig1@remote.test>\r\n\r\nhi\r\n"
    send(md, ["replier@example.test"], orig, sender="friend@remote.test")
    msgs = wait_replies(sink, n + 1)
    assert len(msgs) == n + 1
    frm, rcpts, data = msgs[n]
    assert frm == "" and rcpts == ["friend@remote.test"]
    m = email.message_from_bytes(data)
    assert m["Auto-Submitted"] == "auto-replied"
    assert m["In-Reply-To"] == "<orig1@remote.test>" and "<orig1@remote.test>" in m["References"]
    assert m.get_content_charset() == "iso-2022-jp"
    assert m.get_payload(decode=True).decode("iso-2022-jp").replace("\r\n", "\n").strip() == text
    assert "replier@example.test" in m["From"]
    # once per sender per day
    send(md, ["replier@example.test"], orig, sender="friend@remote.test")
    # never to lists, bulk, auto-submitted, null or MAILER-DAEMON senders
    send(md, ["replier@example.test"], b"Subject: x\r\nPrecedence: bulk\r\n\r\nx\r\n", sender="a1@remote.test")
    send(md, ["replier@example.test"], b"Subject: x\r\nList-Id: <l.remote.test>\r\n\r\nx\r\n", sender="a2@remote.test")
    send(md, ["replier@example.test"], b"Subject: x\r\nAuto-Submitted: auto-generated\r\n\r\nx\r\n", sender="a3@remote.test")
    send(md, ["replier@example.test"], b"Subject: x\r\n\r\nx\r\n", sender="")
    send(md, ["replier@example.test"], b"Subject: x\r\n\r\nx\r\n", sender="MAILER-DAEMON@remote.test")
    assert len(wait_replies(sink, n + 2, 3)) == n + 1
    # a day later the same sender is answered again
    md.set_clock(86400 + 60)
    try:
        send(md, ["replier@example.test"], orig, sender="friend@remote.test")
        assert len(wait_replies(sink, n + 2)) == n + 2
    finally:
        md.set_clock(0)
    # outside the dates: no reply
    db.execute("UPDATE autoreplies SET end_at = now() - interval '1 hour' WHERE account_id = %s", (aid,))
    send(md, ["replier@example.test"], orig, sender="other@remote.test")
    assert len(wait_replies(sink, n + 3, 3)) == n + 2


def test_temporary_password_refused(md, users, db):
    db.execute("UPDATE accounts SET temp_password = true, must_change_password = true WHERE id = %s",
               (users["replier"],))
    try:
        c = smtplib.SMTP_SSL("127.0.0.1", md.smtps, timeout=30, context=tls_ctx())
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            c.login("replier@example.test", USER_PW)
        assert e.value.smtp_code == 535
        c.quit()
    finally:
        db.execute("UPDATE accounts SET temp_password = false, must_change_password = false WHERE id = %s",
                   (users["replier"],))


def test_plaintext_auth_for_legacy_clients(db, users, sink):
    m = Maild(db, relay=sink.port, extra="plaintext_auth = yes")
    try:
        c = smtplib.SMTP("127.0.0.1", m.sub, timeout=30)
        c.ehlo("old-client")
        assert "PLAIN" in c.esmtp_features.get("auth", "")
        c.login("sender@example.test", USER_PW)
        n = len(sink.messages)
        c.sendmail("sender@example.test", ["legacy@outside.test"], b"Subject: legacy\r\n\r\nx\r\n")
        c.quit()
        sink.wait(n + 1)
        # still never on port 25
        c = smtplib.SMTP("127.0.0.1", m.smtp, timeout=30)
        c.ehlo("x")
        assert "auth" not in c.esmtp_features
        c.quit()
    finally:
        m.stop()


def test_queue_retries_after_relay_outage(db, users):
    from conftest import free_port
    port = free_port()
    m = Maild(db, relay=port)
    try:
        c = smtplib.SMTP_SSL("127.0.0.1", m.smtps, timeout=30, context=tls_ctx())
        c.login("sender@example.test", USER_PW)
        c.sendmail("sender@example.test", ["later@outside.test"], b"Subject: retried\r\n\r\nx\r\n")
        c.quit()
        end = time.time() + 10
        while time.time() < end and "deferred <later@outside.test>" not in m.logtext():
            time.sleep(0.1)
        assert "deferred <later@outside.test>" in m.logtext()
        s = Sink()
        try:
            # the sink listens on a port of its own; point a second relay port at it by restarting
            # maild on the same queue with that relay
            m.stop()
            with open(m.cfgfile) as f:
                cfg = f.read().replace(f"relay = 127.0.0.1:{port}", f"relay = 127.0.0.1:{s.port}")
            with open(m.cfgfile, "w") as f:
                f.write(cfg)
            m.log = open(m.log.name, "a+")
            m.start()
            time.sleep(2)
            assert s.messages == []           # not due yet: backoff
            m.set_clock(600)                  # ten minutes later by the test clock
            msgs = s.wait(1)
            assert msgs[0][1] == ["later@outside.test"] and b"retried" in msgs[0][2]
        finally:
            s.stop()
            m.set_clock(0)
    finally:
        m.stop()
