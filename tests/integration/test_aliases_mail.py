# tests/integration/test_aliases_mail.py: SPEC §10 end to end: every alias, domain alias and catch-all
# change made through the panel API governs the very next SMTP transaction of a real maild (smtplib,
# real PostgreSQL); mail to an alias is treated as mail to its account (quota, receive, forwards, spam
# tag/sort, autoreply from the address written to); submission as one's own alias only; the loop stop
# follows aliases; deleting an account takes its aliases and catch-all with it; every change audited.
import base64
import email
import email.policy
import smtplib
import ssl
import time

import pytest

from accounts_util import Listener
from conftest import ADMIN_PW, Client
from maild_util import Maild, Sink, USER_PW

D = "example.test"
ACC = f"/domains/{D}/accounts"
MSG = b"From: a@remote.test\r\nSubject: hello\r\n\r\nbody\r\n"

# Every alias, catch-all and domain-alias change this module makes through the API, as the
# audit log must show it: (action, target). Checked by the last test.
CHANGES = []


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def md(db, sink):
    # spam = header: the trusted X-Spam-Flag a message arrives with is the verdict (SPEC §5).
    m = Maild(db, relay=sink.port, extra="spam = header")
    yield m
    m.stop()


@pytest.fixture(scope="module")
def accounts(panel):
    """Accounts made through the panel API (real Argon2id hashes, so they can sign in)."""
    root = Client(panel.url)
    assert root.login("root", ADMIN_PW).status_code == 200
    names = ("alice", "bob", "carol", "quo", "nokeep", "spammy", "away", "sndr", "loopy", "loopz", "pa", "qb")
    for n in names:
        r = root.post(ACC, {"name": n, "password": USER_PW, "quota_mb": 100})
        assert r.status_code == 201, r.text
    return names


# ---- helpers: API changes (recorded for the audit check) and SMTP probes -------------------

def add_alias(c, account, name):
    r = c.post(f"{ACC}/{account}/aliases", {"name": name})
    assert r.status_code == 201, r.text
    CHANGES.append(("alias_create", f"{name.lower()}@{D}"))


def del_alias(c, account, name):
    r = c.delete(f"{ACC}/{account}/aliases/{name}")
    assert r.status_code == 204, r.text
    CHANGES.append(("alias_delete", f"{name}@{D}"))


def set_catchall(c, account):
    r = c.put(f"/domains/{D}/catch-all", {"account": account})
    assert r.status_code == 200 and r.json() == {"account": account}, r.text
    CHANGES.append(("catchall_set", f"{account}@{D}"))


def catchall_off(c):
    r = c.delete(f"/domains/{D}/catch-all")
    assert r.status_code == 204, r.text
    CHANGES.append(("catchall_off", ""))


def add_domain_alias(c, name):
    r = c.post(f"/domains/{D}/domain-aliases", {"name": name})
    assert r.status_code == 201, r.text
    CHANGES.append(("domain_alias_create", name.lower()))


def del_domain_alias(c, name):
    r = c.delete(f"/domains/{D}/domain-aliases/{name}")
    assert r.status_code == 204, r.text
    CHANGES.append(("domain_alias_delete", name))


def rcpt(md, addr, sender="probe@remote.test"):
    """(code, text) of RCPT TO:<addr> on the inbound port."""
    with md.client() as c:
        c.ehlo("probe.test")
        assert c.mail(sender)[0] == 250
        code, text = c.rcpt(addr)
        return code, text.decode()


def deliver(md, addr, msg=MSG, sender="sender@remote.test"):
    with md.client() as c:
        assert c.sendmail(sender, [addr], msg) == {}


def box(md, name, folder=""):
    return md.read_all(D, name, folder)


def wait_sink(sink, pred, timeout=20):
    """The first message the relay got that pred(mail_from, rcpts, data) accepts."""
    end = time.time() + timeout
    while time.time() < end:
        for m in list(sink.messages):
            if pred(*m):
                return m
        time.sleep(0.05)
    raise AssertionError(f"no such message at the relay; it has {[(f, r) for f, r, _ in sink.messages]}")


def wait_log(md, text, count=1, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if md.logtext().count(text) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged {count} times")


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def submission(md, login, password=USER_PW):
    c = smtplib.SMTP("127.0.0.1", md.sub, timeout=30)
    c.ehlo("client.test")
    c.starttls(context=tls_ctx())
    c.ehlo("client.test")
    c.login(login, password)
    return c


# ---- where mail lands ----------------------------------------------------------------------

def test_alias_create_delete_move_govern_next_message(md, root, accounts, db):
    assert rcpt(md, f"info@{D}")[0] == 550
    add_alias(root, "alice", "Info")
    # The very next message, no wait: into alice's own mailbox, traced to the address used.
    deliver(md, f"INFO@{D}", b"Subject: via alias\r\n\r\nx\r\n")
    msgs = box(md, "alice")
    assert len(msgs) == 1
    assert b"Delivered-To: alice@example.test\n" in msgs[0] and b"for <info@example.test>" in msgs[0]
    # The alias and the account in one transaction: one copy.
    with md.client() as c:
        assert c.sendmail("s@remote.test", [f"info@{D}", f"alice@{D}"], b"Subject: both\r\n\r\nx\r\n") == {}
    assert sum(b"Subject: both" in m for m in box(md, "alice")) == 1
    # A second maild on the same database sees the same (CONTRACT: on every maild).
    md2 = Maild(db)
    try:
        assert rcpt(md2, f"info@{D}")[0] == 250
        # Moved to bob: the next message goes to bob, on both daemons.
        del_alias(root, "alice", "info")
        for m in (md, md2):
            code, text = rcpt(m, f"info@{D}")
            assert code == 550 and "5.1.1" in text, text
        add_alias(root, "bob", "info")
        assert rcpt(md2, f"info@{D}")[0] == 250
    finally:
        md2.stop()
    deliver(md, f"info@{D}", b"Subject: now bob\r\n\r\nx\r\n")
    assert any(b"now bob" in m for m in box(md, "bob"))
    assert not any(b"now bob" in m for m in box(md, "alice"))
    # The account keeps receiving at its own address.
    deliver(md, f"bob@{D}", b"Subject: own address\r\n\r\nx\r\n")
    assert any(b"own address" in m for m in box(md, "bob"))


def test_domain_alias_names_and_aliases(md, root, accounts):
    assert rcpt(md, "alice@alias.test")[1].startswith("5.7.1")
    add_alias(root, "alice", "sales")
    add_domain_alias(root, "Alias.Test")
    # name@aliasdomain and alias@aliasdomain, both on the next message.
    deliver(md, "alice@alias.test", b"Subject: account at alias domain\r\n\r\nx\r\n")
    deliver(md, "Sales@ALIAS.test", b"Subject: alias at alias domain\r\n\r\nx\r\n")
    got = box(md, "alice")
    a = [m for m in got if b"account at alias domain" in m]
    s = [m for m in got if b"alias at alias domain" in m]
    assert len(a) == 1 and b"for <alice@alias.test>" in a[0]
    assert len(s) == 1 and b"for <sales@alias.test>" in s[0] and b"Delivered-To: alice@example.test" in s[0]
    # An unknown name at the alias domain with the catch-all off: 550 5.1.1 (our domain).
    code, text = rcpt(md, "nobody@alias.test")
    assert code == 550 and "5.1.1" in text, text
    # Deleted: the next RCPT is not ours any more (relay refused), the target domain still is.
    del_domain_alias(root, "alias.test")
    code, text = rcpt(md, "alice@alias.test")
    assert code == 550 and "5.7.1" in text, text
    assert rcpt(md, f"sales@{D}")[0] == 250


def test_catchall_on_off_change(md, root, accounts):
    code, text = rcpt(md, f"whoever@{D}")
    assert code == 550 and "5.1.1" in text, text
    add_domain_alias(root, "second.test")
    try:
        set_catchall(root, "carol")
        deliver(md, f"Whoever@{D}", b"Subject: caught\r\n\r\nx\r\n")
        deliver(md, "someone@second.test", b"Subject: caught at alias domain\r\n\r\nx\r\n")
        got = box(md, "carol")
        assert any(b"Subject: caught\n" in m and b"for <whoever@example.test>" in m for m in got)
        assert any(b"caught at alias domain" in m and b"for <someone@second.test>" in m for m in got)
        # Accounts and aliases still go where they belong, not to the catch-all.
        deliver(md, f"sales@{D}", b"Subject: not caught\r\n\r\nx\r\n")
        deliver(md, "bob@second.test", b"Subject: not caught either\r\n\r\nx\r\n")
        assert any(b"not caught\n" in m for m in box(md, "alice"))
        assert any(b"not caught either" in m for m in box(md, "bob"))
        assert not any(b"not caught" in m for m in box(md, "carol"))
        # Changed: the next one goes to the new account.
        set_catchall(root, "bob")
        deliver(md, f"stray@{D}", b"Subject: stray\r\n\r\nx\r\n")
        assert any(b"Subject: stray" in m for m in box(md, "bob"))
        assert not any(b"Subject: stray" in m for m in box(md, "carol"))
        # Off: 550 5.1.1 again at once, at both names of the domain.
        catchall_off(root)
        for addr in (f"stray@{D}", "stray@second.test"):
            code, text = rcpt(md, addr)
            assert code == 550 and "5.1.1" in text, (addr, text)
    finally:
        del_domain_alias(root, "second.test")


# ---- what the account does with its mail holds for its aliases --------------------------

def test_quota_over_quota_through_aliases(md, root, accounts):
    add_alias(root, "quo", "quota-alias")
    add_domain_alias(root, "quota-alias.test")
    try:
        r = root.patch(f"{ACC}/quo", {"quota_mb": 1})
        assert r.status_code == 200, r.text
        # Usage 0 of 1 MB: a 1.3 MB message is still taken (CONTRACT) and takes it over.
        big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 1300
        deliver(md, f"quota-alias@{D}", big)
        assert root.get(f"{ACC}/quo").json()["status"] == ["over_quota"]
        set_catchall(root, "quo")
        for addr in (f"quota-alias@{D}", f"quo@{D}", "quota-alias@quota-alias.test", f"caught-quo@{D}"):
            code, text = rcpt(md, addr)
            assert code == 452 and "4.2.2" in text, (addr, text)
        # Quota raised through the API: the next RCPT is accepted again.
        assert root.patch(f"{ACC}/quo", {"quota_mb": 5}).status_code == 200
        for addr in (f"quota-alias@{D}", "quota-alias@quota-alias.test", f"caught-quo@{D}"):
            assert rcpt(md, addr)[0] == 250, addr
    finally:
        catchall_off(root)
        del_domain_alias(root, "quota-alias.test")


def test_receive_off_and_forwards_through_alias(md, root, accounts, sink):
    add_alias(root, "nokeep", "keepless")
    r = root.post(f"{ACC}/nokeep/forwards", {"condition": "subject", "keyword": "請求書",
                                             "addresses": ["billing@outside.test"]})
    assert r.status_code == 201, r.text
    subj = "=?UTF-8?B?" + base64.b64encode("今月の請求書".encode()).decode() + "?="
    deliver(md, f"keepless@{D}", f"Subject: {subj}\r\n\r\nx\r\n".encode(), sender="inv@remote.test")
    m = wait_sink(sink, lambda f, r, d: r == ["billing@outside.test"] and f == "inv@remote.test")
    assert b"Delivered-To: nokeep@example.test" in m[2]
    assert len(box(md, "nokeep")) == 1          # receive on: kept and forwarded
    # Receive off and an "all" rule: the next message to the alias is forwarded, not kept.
    assert root.patch(f"{ACC}/nokeep", {"receive": False}).status_code == 200
    r = root.post(f"{ACC}/nokeep/forwards", {"condition": "all", "addresses": ["all@outside.test"]})
    assert r.status_code == 201, r.text
    all_id = r.json()["id"]
    code, _ = rcpt(md, f"keepless@{D}")
    assert code == 250                           # receive off still accepts (SPEC §8)
    deliver(md, f"keepless@{D}", b"Subject: gone on\r\n\r\nx\r\n", sender="fw@remote.test")
    m = wait_sink(sink, lambda f, r, d: r == ["all@outside.test"] and b"gone on" in d)
    assert m[0] == "fw@remote.test" and b"for <keepless@example.test>" in m[2]
    assert len(box(md, "nokeep")) == 1
    # The "all" rule deleted through the API: the next message matches no rule and is not kept.
    assert root.delete(f"{ACC}/nokeep/forwards/{all_id}").status_code == 204
    n = len(sink.messages)
    deliver(md, f"keepless@{D}", b"Subject: dropped\r\n\r\nx\r\n", sender="fw2@remote.test")
    wait_log(md, "from=<fw2@remote.test> rcpts=1 kept=0 forwarded=0")
    assert len(box(md, "nokeep")) == 1
    assert not any(b"Subject: dropped" in d for _, _, d in sink.messages[n:])
    # Receive on again: kept at once.
    assert root.patch(f"{ACC}/nokeep", {"receive": True}).status_code == 200
    deliver(md, f"keepless@{D}", b"Subject: kept again\r\n\r\nx\r\n")
    assert any(b"kept again" in m for m in box(md, "nokeep"))


def test_spam_tag_and_sort_through_aliases(md, root, accounts):
    add_alias(root, "spammy", "junkbox")
    add_domain_alias(root, "spam-alias.test")
    spam = b"X-Spam-Flag: YES\r\nX-Spam-Score: 12.5\r\nSubject: buy now\r\n\r\nx\r\n"
    ham = b"X-Spam-Flag: NO\r\nSubject: lunch\r\n\r\nx\r\n"
    try:
        # Both off (default): spam in the inbox, untagged, with the verdict headers.
        deliver(md, f"junkbox@{D}", spam)
        m = box(md, "spammy")[-1]
        assert b"X-Spam-Flag: YES" in m and b"Subject: buy now" in m and b"[SPAM]" not in m
        assert root.patch(f"{ACC}/spammy", {"spam_tag": True}).status_code == 200
        deliver(md, f"junkbox@{D}", spam)
        deliver(md, "junkbox@spam-alias.test", ham)
        got = box(md, "spammy")
        assert sum(b"Subject: [SPAM] buy now" in m for m in got) == 1
        assert any(b"Subject: lunch" in m and b"X-Spam-Flag: NO" in m for m in got)
        assert root.patch(f"{ACC}/spammy", {"spam_sort": True}).status_code == 200
        n = len(box(md, "spammy"))
        deliver(md, "junkbox@spam-alias.test", spam)
        deliver(md, f"junkbox@{D}", ham)
        junk = box(md, "spammy", ".Junk")
        assert len(junk) == 1 and b"Subject: [SPAM] buy now" in junk[0]
        assert b"for <junkbox@spam-alias.test>" in junk[0]
        assert len(box(md, "spammy")) == n + 1
        # Tag off, sort on: the next spam is filed but not tagged.
        assert root.patch(f"{ACC}/spammy", {"spam_tag": False}).status_code == 200
        deliver(md, f"junkbox@{D}", spam)
        junk = box(md, "spammy", ".Junk")
        assert len(junk) == 2 and sum(b"Subject: buy now" in m for m in junk) == 1
    finally:
        del_domain_alias(root, "spam-alias.test")


def reply_to(sink, sender, timeout=20):
    f, r, d = wait_sink(sink, lambda f, r, d: r == [sender] and b"Auto-Submitted: auto-replied" in d,
                        timeout)
    assert f == ""                               # RFC 3834: null return path
    return email.message_from_bytes(d, policy=email.policy.default)


def test_autoreply_answers_from_the_address_written_to(md, root, accounts, sink):
    add_alias(root, "away", "holiday")
    add_domain_alias(root, "away-alias.test")
    try:
        r = root.put(f"{ACC}/away/autoreply", {"text": "I am away."})
        assert r.status_code == 200, r.text
        cases = (("one@remote.test", f"holiday@{D}"), ("two@remote.test", "holiday@away-alias.test"),
                 ("three@remote.test", "away@away-alias.test"), ("four@remote.test", f"away@{D}"))
        for sender, to in cases:
            deliver(md, to.upper(), b"Subject: question\r\nMessage-ID: <q-" + sender.encode() + b">\r\n\r\nx\r\n",
                    sender=sender)
            rep = reply_to(sink, sender)
            assert rep["From"].addresses[0].addr_spec == to, (to, rep["From"])
            assert rep["In-Reply-To"] == f"<q-{sender}>" and "I am away." in rep.get_content()
        # Through the catch-all too: the address written to.
        set_catchall(root, "away")
        deliver(md, f"anything@{D}", b"Subject: question\r\n\r\nx\r\n", sender="five@remote.test")
        assert reply_to(sink, "five@remote.test")["From"].addresses[0].addr_spec == f"anything@{D}"
        catchall_off(root)
        # Never to the account itself or one of its aliases (SPEC §4), however it is spelt.
        for own in (f"holiday@{D}", "holiday@away-alias.test"):
            deliver(md, f"away@{D}", b"Subject: me\r\n\r\nx\r\n", sender=own)
        # (the reply is queued, and logged, before the 250 to the message it answers)
        wait_log(md, "from=<holiday@away-alias.test> rcpts=1 kept=1")
        assert "answered <holiday@" not in md.logtext()
        # The autoreply deleted through the API: the next message gets no reply.
        assert root.delete(f"{ACC}/away/autoreply").status_code == 204
        deliver(md, f"holiday@{D}", b"Subject: late\r\n\r\nx\r\n", sender="six@remote.test")
        wait_log(md, "from=<six@remote.test> rcpts=1 kept=1")
        assert "answered <six@remote.test>" not in md.logtext()
    finally:
        del_domain_alias(root, "away-alias.test")


# ---- submission ----------------------------------------------------------------------------

def test_submission_as_own_alias_only(md, root, accounts, sink):
    add_alias(root, "sndr", "press")
    add_alias(root, "carol", "carols-alias")
    add_domain_alias(root, "send-alias.test")
    try:
        c = submission(md, f"sndr@{D}")
        try:
            for frm in (f"press@{D}", "Press@Send-Alias.test", "sndr@send-alias.test", f"sndr@{D}"):
                body = f"From: Press <{frm}>\r\nSubject: sent as {frm.lower()}\r\n\r\nhi\r\n".encode()
                assert c.sendmail(frm, ["reader@outside.test"], body) == {}
            for frm in (f"carols-alias@{D}", "carols-alias@send-alias.test", f"carol@{D}",
                        "press@other.test", "someone@outside.test", f"nosuch@{D}"):
                code, text = c.mail(frm)
                assert code == 553 and b"5.7.1" in text, (frm, code, text)
                c.rset()
            # The catch-all makes an account receive for unknown names, never send as them.
            set_catchall(root, "sndr")
            code, text = c.mail(f"unknown-name@{D}")
            assert code == 553 and b"5.7.1" in text
            c.rset()
            catchall_off(root)
            # The alias deleted through the API: refused on the next MAIL FROM of the same session.
            del_alias(root, "sndr", "press")
            code, text = c.mail(f"press@{D}")
            assert code == 553 and b"5.7.1" in text
            c.rset()
            add_alias(root, "sndr", "press")
            assert c.mail(f"press@{D}")[0] == 250
            c.rset()
            # Submitted to another account's alias (at either name of the domain): it goes through
            # our own inbound side and lands in that account's mailbox.
            assert c.sendmail(f"press@{D}", [f"carols-alias@{D}", "carols-alias@send-alias.test"],
                              b"Subject: internal via alias\r\n\r\nhi\r\n") == {}
        finally:
            c.quit()
        end = time.time() + 20
        while time.time() < end and sum(b"internal via alias" in m for m in box(md, "carol")) < 2:
            time.sleep(0.05)
        got = [m for m in box(md, "carol") if b"internal via alias" in m]
        assert len(got) == 2 and all(m.startswith(b"Return-Path: <press@example.test>") for m in got)
        # Neither an alias nor the account's name at the domain alias signs in (SPEC §10: the
        # account signs in only with its own address).
        for login in (f"press@{D}", "sndr@send-alias.test"):
            c = smtplib.SMTP("127.0.0.1", md.sub, timeout=30)
            c.ehlo("client.test")
            c.starttls(context=tls_ctx())
            c.ehlo("client.test")
            with pytest.raises(smtplib.SMTPAuthenticationError):
                c.login(login, USER_PW)
            c.close()
    finally:
        del_domain_alias(root, "send-alias.test")
    # Envelope sender and From header go out as the account wrote them.
    for frm in (f"press@{D}", "Press@Send-Alias.test", "sndr@send-alias.test", f"sndr@{D}"):
        m = wait_sink(sink, lambda f, r, d: f.lower() == frm.lower() and r == ["reader@outside.test"])
        assert f"From: Press <{frm}>".encode() in m[2], m[2]
        assert f"Subject: sent as {frm.lower()}".encode() in m[2]


# ---- loops ---------------------------------------------------------------------------------

def test_loop_stop_follows_aliases(md, root, accounts, sink):
    # Rules to names nobody has yet pass the panel's loop check; the aliases made later close
    # the loops, so only maild's Delivered-To check stands between them and a mail storm.
    r = root.post(f"{ACC}/loopy/forwards", {"condition": "all", "addresses": [f"loopback@{D}"]})
    assert r.status_code == 201, r.text
    add_alias(root, "loopy", "loopback")
    n = len(sink.messages)
    before = md.logtext().count("loop stopped")
    deliver(md, f"loopy@{D}", b"Subject: round one\r\n\r\nx\r\n")
    wait_log(md, "loop stopped for loopy@example.test", before + 1)
    deliver(md, f"loopback@{D}", b"Subject: round two\r\n\r\nx\r\n")
    wait_log(md, "loop stopped", before + 2)
    # a -> b's alias -> a's alias: one copy each, then it stops.
    assert root.post(f"{ACC}/pa/forwards", {"condition": "all", "addresses": [f"qb-aka@{D}"]}).status_code == 201
    assert root.post(f"{ACC}/qb/forwards", {"condition": "all", "addresses": [f"pa-aka@{D}"]}).status_code == 201
    add_alias(root, "qb", "qb-aka")
    add_alias(root, "pa", "pa-aka")
    deliver(md, f"pa-aka@{D}", b"Subject: round three\r\n\r\nx\r\n")
    wait_log(md, "loop stopped for pa@example.test", 1)
    # Through the catch-all: a rule to an unknown name, then the catch-all set to the account.
    r = root.post(f"{ACC}/loopz/forwards", {"condition": "subject", "keyword": "round four",
                                            "addresses": [f"nobody-yet@{D}"]})
    assert r.status_code == 201, r.text
    set_catchall(root, "loopz")
    try:
        deliver(md, f"loopz@{D}", b"Subject: round four\r\n\r\nx\r\n")
        wait_log(md, "loop stopped for loopz@example.test", 1)
    finally:
        catchall_off(root)
    time.sleep(1.0)                              # room for any copy that should not exist
    assert [b"round four" in m for m in box(md, "loopz")].count(True) == 1
    assert [b"round one" in m for m in box(md, "loopy")].count(True) == 1
    assert [b"round two" in m for m in box(md, "loopy")].count(True) == 1
    assert len(box(md, "pa")) == 1 and len(box(md, "qb")) == 1
    assert len(sink.messages) == n               # nothing left the house
    assert md.logtext().count("loop stopped") == before + 4


# ---- deleting an account -------------------------------------------------------------------

def test_delete_account_removes_aliases_and_catchall(md, root, db):
    r = root.post(ACC, {"name": "leaver", "password": USER_PW, "quota_mb": 10})
    assert r.status_code == 201, r.text
    add_alias(root, "leaver", "leaver-a")
    add_alias(root, "leaver", "leaver-b")
    set_catchall(root, "leaver")
    assert rcpt(md, f"leaver-a@{D}")[0] == 250 and rcpt(md, f"nobody-here@{D}")[0] == 250
    lis = Listener(db)
    try:
        lis.drain()
        assert root.delete(f"{ACC}/leaver").status_code == 204
        assert lis.wait(D)
    finally:
        lis.close()
    CHANGES.extend([("alias_delete", f"leaver-a@{D}"), ("alias_delete", f"leaver-b@{D}"),
                    ("catchall_off", "")])
    assert db.query("SELECT count(*) FROM aliases WHERE name LIKE 'leaver%%'") == [(0,)]
    assert db.query("SELECT count(*) FROM local_names WHERE name LIKE 'leaver%%'") == [(0,)]
    assert db.query("SELECT catchall_account_id FROM domains WHERE name = %s", (D,)) == [(None,)]
    assert root.get(f"/domains/{D}/catch-all").json() == {"account": None}
    for addr in (f"leaver-a@{D}", f"leaver-b@{D}", f"leaver@{D}", f"nobody-here@{D}"):
        code, text = rcpt(md, addr)
        assert code == 550 and "5.1.1" in text, (addr, text)
    # The audit says what went with the account.
    items = root.get(f"/domains/{D}/audit?per_page=10").json()["items"]
    acts = [(i["action"], i["target"]) for i in items[:4]]
    assert ("account_delete", f"leaver@{D}") in acts
    assert ("alias_delete", f"leaver-a@{D}") in acts and ("alias_delete", f"leaver-b@{D}") in acts
    assert ("catchall_off", "") in acts


# ---- audit ---------------------------------------------------------------------------------

def test_every_change_is_audited(root, accounts):
    r = root.get(f"/domains/{D}/audit?per_page=500")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    log = [(i["action"], i["target"]) for i in reversed(items)
           if i["action"].startswith(("alias_", "catchall_", "domain_alias_"))]
    assert CHANGES, "the suite made no changes"
    # Every change once, in the order made, and nothing else.
    assert log == CHANGES
    assert all(i["actor"] == "root" and i["remote_addr"] == "127.0.0.1" for i in items
               if i["action"].startswith(("alias_", "catchall_", "domain_alias_")))
