# tests/integration/test_points_issue9.py: issue 9's account statuses end to end across the panel and
# yubin-maild (SPEC §6): one failure counter for panel, SMTP AUTH and POP3, unlocked by support through
# the API; compromised refuses sending until a new password; the send lock after send_limit_per_day,
# released by support or 24 h later on the test clock; each refusal's SMTP/POP3 text and audit row;
# submission on 465 and 587 both going out through the queue; a round trip over submission, POP3 and IMAP.
import email
import imaplib
import os
import poplib
import smtplib
import ssl
import time

import pytest

from conftest import ADMIN_PW, Client, free_port
from dovecot_util import Dovecot
from maild_util import Maild, Sink
from pop3_util import USER_PW, account_id, create_account, deliver, files, mailbox, message, usage, wait_for

D = "example.test"
NEW_PW = "N3w#Secret-pw-x"


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
    pop3, pop3s = free_port(), free_port()
    m = Maild(db, relay=sink.port, extra=f"send_limit_per_day = 2\npop3_listen = 127.0.0.1:{pop3}\n"
                                         f"pop3s_listen = 127.0.0.1:{pop3s}")
    m.pop3, m.pop3s = pop3, pop3s
    yield m
    m.stop()


def clear(db):
    db.execute("DELETE FROM ip_failures")


def smtps(md):
    c = smtplib.SMTP_SSL("127.0.0.1", md.smtps, timeout=30, context=tls_ctx())
    c.ehlo("client")
    return c


def starttls(md):
    c = smtplib.SMTP("127.0.0.1", md.sub, timeout=30)
    c.ehlo("client")
    c.starttls(context=tls_ctx())
    c.ehlo("client")
    return c


def smtp_auth(c, login, pw, mech="PLAIN"):
    """One AUTH exchange (smtplib's login() would try PLAIN and then LOGIN); answers (code, text)."""
    c.user, c.password = login, pw
    try:
        return c.auth(mech, c.auth_plain if mech == "PLAIN" else c.auth_login, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as e:
        return e.smtp_code, e.smtp_error


def pop3_pass(md, login, pw, implicit=True):
    if implicit:
        p = poplib.POP3_SSL("127.0.0.1", md.pop3s, context=tls_ctx(), timeout=20)
    else:
        p = poplib.POP3("127.0.0.1", md.pop3, timeout=20)
        p.stls(context=tls_ctx())
    p.user(login)
    try:
        r = p.pass_(pw).decode()
    except poplib.error_proto as e:
        r = e.args[0].decode()
    return p, r


def failures(db, login):
    return db.query("SELECT failures, locked_until IS NOT NULL FROM auth_failures WHERE login = %s", (login,))


def audit(db, login, action):
    return [r[0] for r in db.query("SELECT details->>'reason' FROM audit_log WHERE actor = %s AND action = %s "
                                   "ORDER BY id", (login, action))]


def sent_to(sink, rcpt):
    return [m for m in sink.messages if rcpt in m[1]]


def test_submission_on_both_ports_goes_out_through_the_queue(db, root, md, sink):
    create_account(root, "twoports")
    login = f"twoports@{D}"
    # 587: nothing but STARTTLS before TLS, AUTH PLAIN and LOGIN after it.
    c = smtplib.SMTP("127.0.0.1", md.sub, timeout=30)
    c.ehlo("client")
    assert "starttls" in c.esmtp_features and "auth" not in c.esmtp_features
    c.starttls(context=tls_ctx())
    c.ehlo("client")
    assert set(c.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
    c.login(login, USER_PW)
    c.sendmail(login, ["far587@outside.test"], b"Subject: via 587\r\n\r\nx\r\n")
    c.quit()
    # 465: TLS from the first byte, AUTH offered at once.
    c = smtps(md)
    assert set(c.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
    c.login(login, USER_PW)
    c.sendmail(login, ["far465@outside.test"], b"Subject: via 465\r\n\r\nx\r\n")
    c.quit()
    for rcpt, subj in (("far587@outside.test", b"via 587"), ("far465@outside.test", b"via 465")):
        end = time.time() + 20
        while time.time() < end and not sent_to(sink, rcpt):
            time.sleep(0.05)
        (frm, rcpts, data), = sent_to(sink, rcpt)
        assert frm == login and subj in data and b"with ESMTPSA" in data
        # The queue, not the session, delivered it to the relay.
        assert f"queue: delivered to <{rcpt}> from <{login}>" in md.logtext()


def test_failures_mixed_over_panel_smtp_and_pop3_lock_then_support_unlocks(db, root, panel, md, sink):
    create_account(root, "mixed")
    login = f"mixed@{D}"
    clear(db)
    web = Client(panel.url)
    # 10 failures in a row (the default threshold), taken turn about by the three services.
    for i in range(10):
        kind = i % 3
        if kind == 0:
            c = starttls(md) if i % 2 else smtps(md)
            assert smtp_auth(c, login, f"Wrong#pw-{i}", "LOGIN" if i % 2 else "PLAIN")[0] == 535
            c.quit()
        elif kind == 1:
            p, r = pop3_pass(md, login, f"Wrong#pw-{i}", implicit=bool(i % 2))
            assert r.startswith("-ERR [AUTH]"), r
            p.quit()
        else:
            assert web.login(login, f"Wrong#pw-{i}", side="mail").status_code == 401
        assert failures(db, login) == [(i + 1, i == 9)], i
    clear(db)
    until = db.query("SELECT locked_until FROM auth_failures WHERE login = %s", (login,))[0][0]
    # Locked: the right password is refused everywhere, each with a text that says so.
    c = smtps(md)
    code, text = smtp_auth(c, login, USER_PW)
    c.quit()
    assert code == 535 and b"5.7.8" in text and b"locked" in text.lower(), text
    p, r = pop3_pass(md, login, USER_PW)
    p.quit()
    assert r.startswith("-ERR [AUTH]") and "locked" in r.lower()
    r = web.login(login, USER_PW, side="mail")
    assert r.status_code == 423 and r.json()["error"]["code"] == "locked"
    assert failures(db, login) == [(10, True)]          # attempts meanwhile do not count ...
    assert db.query("SELECT locked_until FROM auth_failures WHERE login = %s", (login,))[0][0] == until
    c = starttls(md)                                   # ... nor extend the lock, wrong password or not
    assert smtp_auth(c, login, "Wrong#pw-x")[0] == 535
    c.quit()
    assert db.query("SELECT failures, locked_until FROM auth_failures WHERE login = %s", (login,)) == [(10, until)]
    # ... and each refusal is in the audit log.
    assert audit(db, login, "smtp_login_refused") == ["locked", "locked"]
    assert audit(db, login, "pop3_login_refused") == ["locked"]
    assert "bad_password_locked" in audit(db, login, "smtp_login_failed") + audit(db, login, "pop3_login_failed")
    # Support unlocks through the API; the next sign-in works on every service.
    s = Client(panel.url)
    assert s.login("support1", ADMIN_PW).status_code == 200
    assert s.post(f"/domains/{D}/accounts/mixed/unlock").status_code == 204
    assert failures(db, login) == []
    c = starttls(md)
    assert smtp_auth(c, login, USER_PW)[0] == 235
    c.sendmail(login, ["after-unlock@outside.test"], b"Subject: unlocked\r\n\r\nx\r\n")
    c.quit()
    p, r = pop3_pass(md, login, USER_PW, implicit=False)
    assert r.startswith("+OK")
    p.quit()
    assert web.login(login, USER_PW, side="mail").status_code == 200
    clear(db)


def test_compromised_refuses_sending_until_a_new_password(db, root, panel, support, md, sink):
    create_account(root, "victim")
    login = f"victim@{D}"
    open_session = smtps(md)
    assert smtp_auth(open_session, login, USER_PW)[0] == 235
    assert support.post(f"/domains/{D}/accounts/victim/compromised").status_code == 204
    # A session signed in before: its next MAIL is refused.
    code, text = open_session.mail(login)
    assert code == 550 and b"5.7.1" in text and b"suspended" in text, text
    open_session.quit()
    # The current password signs in nowhere, and the text says what to do.
    c = smtps(md)
    code, text = smtp_auth(c, login, USER_PW)
    c.quit()
    assert code == 535 and b"new password" in text, text
    p, r = pop3_pass(md, login, USER_PW)
    p.quit()
    assert r.startswith("-ERR [AUTH]") and "new password" in r
    assert audit(db, login, "smtp_login_refused") == ["compromised"]
    assert audit(db, login, "pop3_login_refused") == ["compromised"]
    assert audit(db, login, "smtp_send_refused") == ["compromised"]
    # An admin sets a new password: sending works with it, the old one stays refused.
    assert root.patch(f"/domains/{D}/accounts/victim", {"password": NEW_PW}).status_code == 200
    c = smtps(md)
    assert smtp_auth(c, login, USER_PW)[0] == 535
    c.quit()
    n = len(sent_to(sink, "reopened@outside.test"))
    c = starttls(md)
    assert smtp_auth(c, login, NEW_PW)[0] == 235
    assert c.sendmail(login, ["reopened@outside.test"], b"Subject: reopened\r\n\r\nx\r\n") == {}
    c.quit()
    end = time.time() + 20
    while time.time() < end and len(sent_to(sink, "reopened@outside.test")) == n:
        time.sleep(0.05)
    assert len(sent_to(sink, "reopened@outside.test")) == n + 1


def test_send_lock_then_support_releases_it_then_the_clock_lifts_it(db, root, support, md, sink):
    create_account(root, "chatty")
    login = f"chatty@{D}"

    def send_n(c, n, tag):
        for i in range(n):
            assert c.sendmail(login, [f"{tag}{i}@outside.test"], b"Subject: n\r\n\r\nx\r\n") == {}

    c = smtps(md)
    c.login(login, USER_PW)
    send_n(c, 2, "ok")                                   # send_limit_per_day = 2
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.sendmail(login, ["third@outside.test"], b"Subject: n\r\n\r\nx\r\n")
    assert e.value.smtp_code == 550 and b"5.7.1" in e.value.smtp_error and b"limit" in e.value.smtp_error
    code, text = c.mail(login)
    assert code == 550 and b"send-locked" in text, text
    c.quit()
    assert not any("third@outside.test" in m[1] for m in sink.messages)
    assert support.get(f"/domains/{D}/accounts/chatty").json()["status"] == ["send_locked"]
    assert audit(db, login, "smtp_send_locked") == ["send_limit_per_day"]
    assert audit(db, login, "smtp_send_refused") == ["send_locked"]
    # Support reads them in the domain's audit log, with the client's address.
    items = [i for i in support.get(f"/domains/{D}/audit").json()["items"] if i["target"] == login]
    assert [i["action"] for i in items][:2] == ["smtp_send_refused", "smtp_send_locked"]
    assert all(i["remote_addr"] == "127.0.0.1" and i["actor"] == login for i in items[:2])
    # Support releases it: sending works again, with a fresh count.
    assert support.post(f"/domains/{D}/accounts/chatty/release-send-lock").status_code == 204
    c = starttls(md)
    c.login(login, USER_PW)
    send_n(c, 2, "released")
    with pytest.raises(smtplib.SMTPDataError):
        c.sendmail(login, ["again@outside.test"], b"Subject: n\r\n\r\nx\r\n")
    c.quit()
    # 24 h after it was set (test clock), it lifts by itself.
    md.set_clock(24 * 3600 + 120)
    try:
        c = smtps(md)
        c.login(login, USER_PW)
        send_n(c, 1, "nextday")
        c.quit()
    finally:
        md.set_clock(0)


def test_temporary_password_refused_by_mail_until_the_owner_replaces_it(db, root, panel, support, md, sink):
    create_account(root, "reset")
    login = f"reset@{D}"
    assert support.post(f"/domains/{D}/accounts/reset/compromised").status_code == 204
    temp = support.post(f"/domains/{D}/accounts/reset/temporary-password").json()["password"]
    # The temporary password opens the panel's password page only: SMTP AUTH and POP3 refuse it.
    c = smtps(md)
    code, text = smtp_auth(c, login, temp)
    c.quit()
    assert code == 535 and b"new password" in text, text
    p, r = pop3_pass(md, login, temp)
    p.quit()
    assert r.startswith("-ERR [AUTH]") and "new password" in r
    assert audit(db, login, "smtp_login_refused") == ["temp_password"]
    assert audit(db, login, "pop3_login_refused") == ["temp_password"]
    assert failures(db, login) == []          # the password was right: not counted
    # The owner sets a new one in the panel; it signs in to mail and sends.
    u = Client(panel.url)
    assert u.login(login, temp, side="mail").status_code == 200
    assert u.post("/me/password", {"current_password": temp, "new_password": NEW_PW,
                                   "new_password_confirm": NEW_PW}).status_code == 204
    c = starttls(md)
    assert smtp_auth(c, login, NEW_PW, "LOGIN")[0] == 235
    assert c.sendmail(login, ["after-reset@outside.test"], b"Subject: back\r\n\r\nx\r\n") == {}
    c.quit()
    c = smtps(md)
    assert smtp_auth(c, login, temp)[0] == 535
    c.quit()
    p, r = pop3_pass(md, login, NEW_PW)
    assert r.startswith("+OK")
    p.quit()
    clear(db)


def test_over_quota_refused_at_rcpt_with_one_audit_row(db, root, md):
    create_account(root, "fullbox", quota_mb=1)
    login = f"fullbox@{D}"
    db.execute("UPDATE accounts SET usage_bytes = 2 * 1048576 WHERE name = 'fullbox'")
    db.execute("SELECT pg_notify('yubin_config', %s)", (D,))
    for _ in range(3):
        with md.client() as c:
            c.ehlo("x")
            c.mail("someone@remote.test")
            code, text = c.rcpt(login)
            assert code == 452 and b"4.2.2" in text and b"full" in text.lower(), text
    rows = db.query("SELECT actor, actor_role, details->>'reason', details->>'quota_mb' FROM audit_log "
                    "WHERE target = %s AND action = 'smtp_rcpt_refused'", (login,))
    assert rows == [("maild", "system", "over_quota", "1")]     # one row an hour, not one per message
    # The quota raised by an admin: mail is taken again.
    assert root.patch(f"/domains/{D}/accounts/fullbox", {"quota_mb": 10}).status_code == 200
    with md.client() as c:
        assert c.sendmail("someone@remote.test", [login], b"Subject: fits\r\n\r\nx\r\n") == {}


def test_default_send_limit_is_1000_in_24_hours(db, root, sink):
    """SPEC §6's default: the 1,001st message in 24 h sets the lock; it lifts 24 h after it was set."""
    create_account(root, "bulk1000")
    login = f"bulk1000@{D}"
    aid = db.query("SELECT id FROM accounts WHERE name = 'bulk1000'")[0][0]
    # 998 sent an hour ago, as maild's own counter holds them (hour buckets of send_counts).
    db.execute("INSERT INTO send_counts (account_id, hour, count) "
               "VALUES (%s, date_trunc('hour', now()) - interval '1 hour', 998)", (aid,))
    m = Maild(db, relay=sink.port)          # no send_limit_per_day: the default
    try:
        c = smtplib.SMTP_SSL("127.0.0.1", m.smtps, timeout=30, context=tls_ctx())
        c.login(login, USER_PW)
        for i in (999, 1000):
            assert c.sendmail(login, [f"n{i}@outside.test"], b"Subject: n\r\n\r\nx\r\n") == {}
        with pytest.raises(smtplib.SMTPDataError) as e:
            c.sendmail(login, ["n1001@outside.test"], b"Subject: n\r\n\r\nx\r\n")
        assert e.value.smtp_code == 550
        c.quit()
        assert db.query("SELECT send_locked_at IS NOT NULL FROM accounts WHERE id = %s", (aid,)) == [(True,)]
        m.set_clock(23 * 3600)
        c = smtplib.SMTP_SSL("127.0.0.1", m.smtps, timeout=30, context=tls_ctx())
        c.login(login, USER_PW)
        assert c.mail(login)[0] == 550            # 23 h later: still locked
        c.rset()
        m.set_clock(24 * 3600 + 120)
        assert c.sendmail(login, ["later@outside.test"], b"Subject: n\r\n\r\nx\r\n") == {}
        c.quit()
    finally:
        m.set_clock(0)
        m.stop()


def test_send_receive_delete_over_submission_pop3_and_imap(db, root, md):
    """Issue 9's round trip: sent on 587 and 465, delivered through the queue to a local mailbox,
    read and deleted with POP3 (995 and 110) and with IMAP through contrib/dovecot on the same tree."""
    create_account(root, "rtsend")
    create_account(root, "rtrecv")
    frm, to = f"rtsend@{D}", f"rtrecv@{D}"
    c = starttls(md)
    assert smtp_auth(c, frm, USER_PW)[0] == 235
    c.sendmail(frm, [to], "Subject: round trip 587\r\n\r\nおはよう\r\n".encode())
    c.quit()
    c = smtps(md)
    assert smtp_auth(c, frm, USER_PW, "LOGIN")[0] == 235
    c.sendmail(frm, [to], b"Subject: round trip 465\r\n\r\nhello\r\n")
    c.quit()
    end = time.time() + 20
    while time.time() < end and len(md.read_all(D, "rtrecv")) < 2:
        time.sleep(0.1)
    assert len(md.read_all(D, "rtrecv")) == 2
    p, r = pop3_pass(md, to, USER_PW)
    assert r.startswith("+OK") and p.stat()[0] == 2
    subjects = {}
    for i in (1, 2):
        lines = p.retr(i)[1]
        subjects[i] = [ln for ln in lines if ln.startswith(b"Subject:")][0]
        assert any(ln == b"Return-Path: <rtsend@example.test>" or ln.startswith(b"Received:") for ln in lines)
    assert set(subjects.values()) == {b"Subject: round trip 587", b"Subject: round trip 465"}
    p.dele(1)
    p.quit()
    kept = subjects[2]
    os.chmod(md.dir, 0o755)
    dv = Dovecot(db, md.root)
    try:
        m = imaplib.IMAP4_SSL("127.0.0.1", dv.imaps_port, ssl_context=tls_ctx())
        assert m.login(to, USER_PW)[0] == "OK"
        typ, data = m.select("INBOX")
        assert typ == "OK" and data[0] == b"1"
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert kept in data[0][1]
        m.store("1", "+FLAGS", "\\Deleted")
        m.expunge()
        assert m.select("INBOX")[1][0] == b"0"
        m.logout()
    finally:
        dv.stop()
    p, r = pop3_pass(md, to, USER_PW, implicit=False)
    assert r.startswith("+OK") and p.stat() == (0, 0)
    p.quit()


def test_purge_keeps_mail_that_arrives_over_smtp_while_it_runs(db, root, md):
    """Delete mail data (SPEC §2) on a large mailbox while SMTP delivers to it: what was there when the
    job took its snapshot goes, what arrived meanwhile stays, and usage is what stayed."""
    create_account(root, "busybox")
    box = mailbox(md.root, D, "busybox", account_id(db, "busybox"))
    for k in range(30000):
        deliver(box, message(f"old {k}", to=f"busybox@{D}"))
    jid = root.post(f"/domains/{D}/accounts/busybox/purge-mail").json()["job"]["id"]

    def job():
        return db.query("SELECT state, done, total FROM jobs WHERE id = %s", (jid,))[0]
    wait_for(lambda: job()[2] > 0, timeout=60, step=0.02, what="the purge's snapshot")
    with md.client() as c:
        for i in range(3):
            assert c.sendmail("someone@remote.test", [f"busybox@{D}"], f"Subject: new {i}\r\n\r\nx\r\n".encode()) == {}
            if i == 0:
                state, done, total = job()
                assert state == "running" and done < total, (state, done, total)   # it arrived during the run
    wait_for(lambda: job()[0] == "done", timeout=120, what="the purge")
    assert job() == ("done", 30000, 30000)
    left = files(box)
    assert len(left) == 3
    paths = [os.path.join(box, sub, f) for f in left for sub in ("new", "cur")
             if os.path.exists(os.path.join(box, sub, f))]
    subjects = []
    for path in paths:
        with open(path, "rb") as fh:
            subjects.append(email.message_from_bytes(fh.read())["Subject"])
    assert sorted(subjects) == ["new 0", "new 1", "new 2"]
    sizes = sum(os.path.getsize(path) for path in paths)
    wait_for(lambda: usage(db, "busybox") == sizes, what="usage = the mail that arrived")
