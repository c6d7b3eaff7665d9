# tests/integration/test_user_panel.py: the user's own panel: the account page with the manual's status
# labels, toggles through confirmation pages, delete mail data, the mail data copy request (SPEC §8),
# nothing of another account, lockout counters shared by every sign-in of an address (SPEC §6).
import json
import os
import re
import tempfile
import time

import pytest

from conftest import ADMIN_PW, Client, Panel
from user_util import USER_PW, Browser, clear_throttle, make_user, user

COPY = {"source_host": "imap.old-provider.example", "source_password": "src-secret",
        "notify_address": "me@elsewhere.example"}


@pytest.fixture(scope="module")
def carol(db):
    return make_user(db, "carol")


@pytest.fixture(scope="module")
def dave(db):
    return make_user(db, "dave")


def jobs(db, address):
    name, dom = address.split("@")
    return db.query("SELECT id, kind, state, domain, account, params FROM jobs j "
                    "WHERE kind = 'mail_copy' AND domain = %s AND account = %s ORDER BY id", (dom, name))


# --- mail data copy (SPEC §8, CONTRACT POST /me/mail-copy) ---------------------------------

def test_mail_copy_queues_one_job(panel, db, carol):
    c = user(panel, carol)
    r = c.post("/me/mail-copy", {"password": USER_PW, **COPY})
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert set(job) == {"id", "kind", "state"}
    assert job["kind"] == "mail_copy" and job["state"] == "queued"
    rows = jobs(db, carol)
    assert len(rows) == 1 and rows[0][0] == job["id"]
    params = rows[0][5]
    # The login defaults to the user's own address; maild reads the rest from params.
    assert params == {"source_host": "imap.old-provider.example", "source_port": None,
                      "source_login": carol, "source_password": "src-secret",
                      "notify_address": "me@elsewhere.example", "lang": "en"}
    assert db.query("SELECT account_id = (SELECT id FROM accounts WHERE name = 'carol') FROM jobs "
                    "WHERE id = %s", (job["id"],)) == [(True,)]
    audit = db.query("SELECT actor, details FROM audit_log WHERE action = 'mail_copy_request' AND target = %s",
                     (carol,))
    assert audit and audit[0][0] == carol
    assert "src-secret" not in json.dumps(audit[0][1]) and USER_PW not in json.dumps(audit[0][1])
    db.execute("UPDATE jobs SET state = 'done' WHERE id = %s", (job["id"],))
    # A rerun may be asked for (it resumes, SPEC §8); with another login and a port.
    r = c.post("/me/mail-copy", {"password": USER_PW, **COPY, "source_login": "carol.old",
                                 "source_host": "IMAP.Old-Provider.example:10993"})
    assert r.status_code == 202
    p = jobs(db, carol)[-1][5]
    assert p["source_login"] == "carol.old" and p["source_host"] == "imap.old-provider.example"
    assert p["source_port"] == 10993
    db.execute("UPDATE jobs SET state = 'failed' WHERE kind = 'mail_copy'")
    # The user's own list shows the requests, never the source password.
    r = c.get("/me/mail-copy")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["state"] for i in items] == ["failed", "failed"]
    assert "src-secret" not in r.text


def test_mail_copy_wrong_own_password_counts(panel, db, carol):
    db.execute("DELETE FROM auth_failures")
    c = user(panel, carol)
    before = len(jobs(db, carol))
    r = c.post("/me/mail-copy", {"password": "Wr0ng#password", **COPY})
    assert r.status_code == 422
    e = r.json()["error"]
    assert e["code"] == "invalid"
    assert {"field": "password", "code": "wrong_password"}.items() <= e["details"][0].items()
    assert db.query("SELECT failures FROM auth_failures WHERE login = %s", (carol,)) == [(1,)]
    assert len(jobs(db, carol)) == before
    db.execute("DELETE FROM auth_failures")


def test_mail_copy_rules(panel, db, carol):
    c = user(panel, carol)
    r = c.post("/me/mail-copy", {"password": USER_PW, "source_host": "not a host", "source_password": "x",
                                 "notify_address": "-x@example.jp"})
    assert r.status_code == 422
    got = {(d["field"], d["code"]) for d in r.json()["error"]["details"]}
    assert got == {("source_host", "bad_host"), ("notify_address", "leading_hyphen")}
    r = c.post("/me/mail-copy", {"password": "", "source_host": "", "notify_address": "nope"})
    got = {(d["field"], d["code"]) for d in r.json()["error"]["details"]}
    assert got == {("password", "required"), ("source_host", "required"),
                   ("source_password", "required"), ("notify_address", "bad_address")}
    for host in ("imap.example.jp:0", "imap.example.jp:70000", "-bad-.example.jp", "999.1.1.1", "a..b.jp"):
        r = c.post("/me/mail-copy", {"password": USER_PW, **COPY, "source_host": host})
        assert r.status_code == 422, host
    # Messages in the user's language (ja by Accept-Language).
    j = user(panel, carol, lang="ja")
    r = j.post("/me/mail-copy", {"password": USER_PW, **COPY, "source_host": "bad host"})
    assert "サーバー名" in r.json()["error"]["details"][0]["message"]


def test_mail_copy_is_for_users_only(panel, root, dadmin, support):
    for c in (root, dadmin, support):
        assert c.post("/me/mail-copy", {"password": ADMIN_PW, **COPY}).status_code == 403
    assert Client(panel.url).post("/me/mail-copy", {"password": "x", **COPY}).status_code == 401


def test_mail_copy_pages_confirm_before_starting(panel, db, dave):
    b = Browser(panel.url, lang="ja")
    assert b.login("mail", dave, USER_PW).status_code == 303
    r = b.get("/mail/mail-copy")
    assert r.status_code == 200 and 'action="/mail/mail-copy/confirm"' in r.text
    # A rule error re-renders the form next to its field.
    r = b.post("/mail/mail-copy/confirm", {"source_host": "bad host", "notify_address": "ok@example.jp"})
    assert r.status_code == 422 and "field-error" in r.text and 'value="ok@example.jp"' in r.text
    r = b.post("/mail/mail-copy/confirm", {"source_host": "Imap.Example.JP", "source_login": "",
                                           "notify_address": "ok@example.jp"})
    assert r.status_code == 200
    t = r.text
    assert 'id="mail-copy-confirm"' in t and 'action="/mail/mail-copy"' in t
    assert 'id="confirm-host">imap.example.jp<' in t and f'id="confirm-login">{dave}<' in t
    assert 'name="password" type="password"' in t and 'name="source_password" type="password"' in t
    assert not jobs(db, dave)                          # nothing started by the confirmation
    # Wrong own password on the confirmation page: shown again there, no job.
    r = b.post("/mail/mail-copy", {"confirm_step": "1", "source_host": "imap.example.jp",
                                   "source_login": dave, "notify_address": "ok@example.jp",
                                   "source_password": "s", "password": "Wr0ng#password"})
    assert r.status_code == 422 and 'id="mail-copy-confirm"' in r.text and "field-error" in r.text
    assert "Wr0ng#password" not in r.text
    assert not jobs(db, dave)
    db.execute("DELETE FROM auth_failures")
    r = b.post("/mail/mail-copy", {"confirm_step": "1", "source_host": "imap.example.jp",
                                   "source_login": dave, "notify_address": "ok@example.jp",
                                   "source_password": "s3cret-src", "password": USER_PW})
    assert r.status_code == 303 and r.headers["Location"] == "/mail/mail-copy?done=mail_copy_started"
    assert len(jobs(db, dave)) == 1
    r = b.get(r.headers["Location"])
    assert "メールデータコピーを受け付けました" in r.text
    assert "待機中" in r.text and "imap.example.jp" in r.text and "s3cret-src" not in r.text
    # Without the CSRF token the form is refused.
    r = b.post("/mail/mail-copy", {"source_host": "imap.example.jp", "notify_address": "ok@example.jp",
                                   "source_password": "s", "password": USER_PW}, csrf=False)
    assert r.status_code == 403


# --- the account page, toggles and delete mail data (SPEC §2, §5, §6) ---------------------

def acct_row(db, name, domain="example.test"):
    return db.query("SELECT a.spam_tag, a.spam_sort, a.receive FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = %s AND a.name = %s", (domain, name))[0]


def test_account_page_status_labels_and_usage(panel, db):
    addr = make_user(db, "erin", quota_mb=100)
    b = Browser(panel.url, lang="ja")
    assert b.login("mail", addr, USER_PW).status_code == 303
    r = b.get("/mail/", follow=False)
    assert r.status_code == 303 and r.headers["Location"] == "/mail/account"
    r = b.get("/mail/account")
    assert r.status_code == 200
    t = r.text
    assert 'class="status-ok" data-status="status_normal">正常<' in t
    assert f'id="account-address">{addr}<' in t and 'id="account-usage">0 MB / 100 MB<' in t
    for href in ("/mail/password", "/mail/forwards", "/mail/autoreply", "/mail/aliases", "/mail/purge-mail",
                 "/mail/mail-copy", "/mail/settings"):
        assert f'href="{href}"' in t, href
    assert "POP3" in t and 'id="pop3-note"' in t
    # Usage and quota are shown, not editable.
    assert 'name="quota_mb"' not in t and 'name="comment"' not in t
    # Every abnormal state in red with the manual's label (the session stays open meanwhile).
    db.execute("UPDATE accounts SET usage_bytes = 150 * 1048576 + 1, send_locked_at = now(), compromised = true "
               "WHERE name = 'erin'")
    db.execute("INSERT INTO auth_failures (login, failures, locked_until, locked_at) "
               "VALUES (%s, 10, now() + interval '30 minutes', now())", (addr,))
    t = b.get("/mail/account").text
    for key, label in (("status_compromised", "不正利用検知"), ("status_locked", "アカウントロック"),
                       ("status_send_locked", "メール送信ロック"), ("status_over_quota", "容量オーバー")):
        assert f'class="status-bad" data-status="{key}">{label}<' in t, key
    assert "正常" not in t and 'id="account-usage">151 MB / 100 MB<' in t
    t = b.get("/mail/account?lang=en").text
    assert ">Compromised<" in t and ">Locked<" in t and ">Send locked<" in t and ">Over quota<" in t
    db.execute("UPDATE accounts SET usage_bytes = 0, send_locked_at = NULL, compromised = false WHERE name = 'erin'")
    db.execute("DELETE FROM auth_failures WHERE login = %s", (addr,))


def test_toggles_go_through_a_confirmation(panel, db):
    addr = make_user(db, "frank")
    b = Browser(panel.url, lang="en")
    b.login("mail", addr, USER_PW)
    page = b.get("/mail/account").text
    assert 'href="/mail/account/confirm/spam_sort?value=1"' in page
    r = b.get("/mail/account/confirm/spam_sort?value=1")
    assert r.status_code == 200
    t = r.text
    assert 'id="pop3-note"' in t and "POP3" in t
    assert 'name="_method" value="PATCH"' in t and 'name="spam_sort" value="1"' in t
    assert 'action="/mail/account"' in t
    assert acct_row(db, "frank") == (False, False, True)           # the confirmation changed nothing
    r = b.post("/mail/account", {"_method": "PATCH", "spam_sort": "1"})
    assert r.status_code == 303 and r.headers["Location"] == "/mail/account?done=saved"
    assert acct_row(db, "frank") == (False, True, True)
    t = b.get(r.headers["Location"]).text
    assert "Your settings have been saved." in t
    assert 'href="/mail/account/confirm/spam_sort?value=0"' in t
    # Spam tag on, then off again.
    t = b.get("/mail/account/confirm/spam_tag?value=1").text
    assert 'name="spam_tag" value="1"' in t and "[SPAM]" in t and 'id="pop3-note"' not in t
    b.post("/mail/account", {"_method": "PATCH", "spam_tag": "1"})
    assert acct_row(db, "frank")[0] is True
    b.get("/mail/account/confirm/spam_tag?value=0")
    b.post("/mail/account", {"_method": "PATCH", "spam_tag": "0"})
    assert acct_row(db, "frank")[0] is False
    # Receive off: the warning when no rule forwards all mail (SPEC §3), none when one does.
    t = b.get("/mail/account/confirm/receive?value=0").text
    assert 'id="receive-warning"' in t and 'name="receive" value="0"' in t
    u = user(panel, addr)
    assert u.post("/me/forwards", {"condition": "all", "addresses": ["keep@elsewhere.example"]}).status_code == 201
    t = b.get("/mail/account/confirm/receive?value=0").text
    assert 'id="receive-warning"' not in t
    b.post("/mail/account", {"_method": "PATCH", "receive": "0"})
    assert acct_row(db, "frank")[2] is False
    assert "Do not receive" in b.get("/mail/account").text
    # Anything else is not a toggle.
    assert b.get("/mail/account/confirm/quota_mb?value=1").status_code == 404
    assert b.get("/mail/account/confirm/spam_tag?value=maybe").status_code == 400
    assert b.get("/mail/account/confirm/spam_tag").status_code == 404


def test_delete_mail_data_after_confirmation(panel, db):
    addr = make_user(db, "gina")
    db.execute("UPDATE accounts SET usage_bytes = 3 * 1048576 WHERE name = 'gina'")
    b = Browser(panel.url, lang="en")
    b.login("mail", addr, USER_PW)
    r = b.get("/mail/purge-mail")
    assert r.status_code == 200
    assert 'action="/mail/purge-mail"' in r.text and "3 MB" in r.text and 'id="confirm-submit"' in r.text
    assert not db.query("SELECT 1 FROM jobs WHERE kind = 'purge_mail' AND account = 'gina'")
    r = b.post("/mail/purge-mail", {})
    assert r.status_code == 303 and r.headers["Location"].startswith("/mail/account?done=purge_started")
    assert db.query("SELECT state FROM jobs WHERE kind = 'purge_mail' AND account = 'gina'") == [("queued",)]
    assert "Deleting the mail data has started." in b.get(r.headers["Location"]).text
    # The confirmation is a page only; the API has the POST alone.
    c = user(panel, addr)
    assert c.get("/me/purge-mail").status_code == 405


def test_user_reaches_nothing_but_their_own_account(panel, db, root):
    addr = make_user(db, "hana")
    make_user(db, "ivan")
    make_user(db, "hana", domain="other.test")
    c = user(panel, addr)
    j = c.get("/me/account").json()
    assert j["address"] == addr and j["status"] == [] and "labels" not in j
    # Quota and comment are the admin's (SPEC §1): 403, nothing changes.
    assert c.patch("/me/account", {"quota_mb": 5000}).status_code == 403
    assert c.patch("/me/account", {"comment": "mine now"}).status_code == 403
    assert db.query("SELECT quota_mb, comment FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = 'example.test' AND a.name = 'hana'") == [(100, "")]
    assert c.patch("/me/account", {"spam_tag": True}).json()["spam_tag"] is True
    # Other accounts, lists, domains, admin pages: 403 (never 404 first, never data).
    for path in ("/domains/example.test/accounts/ivan", "/domains/example.test/accounts",
                 "/domains/other.test/accounts/hana", "/domains/example.test/accounts/ivan/forwards",
                 "/domains/example.test/accounts/ivan/autoreply", "/domains", "/admins",
                 "/domains/example.test/audit", "/support", "/support/example.test/ivan"):
        r = c.get(path)
        assert r.status_code == 403, path
        assert "ivan" not in r.text
    for method, path in (("PATCH", "/domains/example.test/accounts/ivan"),
                         ("POST", "/domains/example.test/accounts/ivan/unlock"),
                         ("POST", "/domains/example.test/accounts/ivan/temporary-password"),
                         ("POST", "/domains/example.test/accounts/ivan/purge-mail"),
                         ("DELETE", "/domains/example.test/accounts/ivan")):
        assert c.call(method, path, json={"quota_mb": 1}).status_code == 403, path
    # The address in a path of the user's own account is still only the own one.
    assert c.get("/domains/example.test/accounts/hana").status_code == 403
    # The admin side: the user's pages are not for admins.
    assert root.get("/me/account").status_code == 403
    b = Browser(panel.url)
    b.login("mail", addr, USER_PW)
    assert b.get("/admin/domains/example.test/accounts/ivan", follow=False).status_code == 403


def test_password_change_page(panel, db):
    addr = make_user(db, "jun")
    db.execute("DELETE FROM auth_failures")
    b = Browser(panel.url, lang="ja")
    b.login("mail", addr, USER_PW)
    r = b.get("/mail/password")
    assert r.status_code == 200 and 'name="new_password_confirm"' in r.text
    r = b.post("/mail/password", {"current_password": "Wr0ng#password", "new_password": "N3w#Passw0rd-zz",
                                  "new_password_confirm": "N3w#Passw0rd-zz"})
    assert r.status_code == 422 and "field-error" in r.text
    assert db.query("SELECT failures FROM auth_failures WHERE login = %s", (addr,)) == [(1,)]
    r = b.post("/mail/password", {"current_password": USER_PW, "new_password": "short",
                                  "new_password_confirm": "other"})
    assert r.status_code == 422
    assert 'data-code="too_short"' in r.text and 'data-code="mismatch"' in r.text
    r = b.post("/mail/password", {"current_password": USER_PW, "new_password": "N3w#Passw0rd-zz",
                                  "new_password_confirm": "N3w#Passw0rd-zz"})
    assert r.status_code == 303
    r = b.get(r.headers["Location"])
    assert r.url.endswith("/mail/account?done=password_changed") and "パスワードを変更しました" in r.text
    assert Client(panel.url).login(addr, "N3w#Passw0rd-zz", side="mail").status_code == 200
    assert db.query("SELECT count(*) FROM auth_failures WHERE login = %s", (addr,)) == [(0,)]
    # Signing out from the page header's form (POST /mail/logout) ends the session.
    r = b.post("/mail/logout", {})
    assert r.status_code == 303 and r.headers["Location"] == "/mail/login"
    assert b.get("/mail/account", follow=False).headers["Location"] == "/mail/login"


def test_forced_change_reaches_only_the_password_page(panel, db, support):
    addr = make_user(db, "kaito")
    temp = support.post("/domains/example.test/accounts/kaito/temporary-password").json()["password"]
    b = Browser(panel.url, lang="en")
    r = b.login("mail", addr, temp)
    assert r.status_code == 303
    for path in ("/mail/", "/mail/account", "/mail/forwards", "/mail/mail-copy", "/mail/settings"):
        r = b.get(path, follow=False)
        assert r.status_code == 303 and r.headers["Location"] == "/mail/password", path
    r = b.get("/mail/password")
    assert "You must change your password" in r.text
    r = b.post("/mail/password", {"current_password": temp, "new_password": temp, "new_password_confirm": temp})
    assert r.status_code == 422 and 'data-code="same_as_current"' in r.text
    r = b.post("/mail/password", {"current_password": temp, "new_password": "K4ito#NewPass-1",
                                  "new_password_confirm": "K4ito#NewPass-1"})
    assert r.status_code == 303
    r = b.get(r.headers["Location"])
    assert r.url.endswith("/mail/account?done=password_changed") and 'data-status="status_normal"' in r.text
    # The same for an admin whose password must be changed.
    db.ctl("admin", "add", "forced1", "--role", "domain_admin", "--domain", "example.test",
           "--password-stdin", stdin=ADMIN_PW + "\n")
    db.execute("UPDATE admins SET must_change_password = true WHERE login = 'forced1'")
    a = Browser(panel.url, lang="en")
    a.login("admin", "forced1", ADMIN_PW)
    for path in ("/admin/", "/admin/domains/example.test/accounts", "/admin/me/totp"):
        r = a.get(path, follow=False)
        assert r.status_code == 303 and r.headers["Location"] == "/admin/me/password", path
    r = a.get("/admin/me/password")
    assert 'action="/admin/me/password"' in r.text
    r = a.post("/admin/me/password", {"current_password": ADMIN_PW, "new_password": "F0rced#NewPass-2",
                                      "new_password_confirm": "F0rced#NewPass-2"})
    assert r.status_code == 303
    r = a.get(r.headers["Location"])
    assert r.url.endswith("/admin/domains/example.test/accounts?done=password_changed")
    assert "Your password has been changed." in r.text


# --- lockout: one counter per address for every sign-in, from the configuration (SPEC §6) --

class Clock:
    def __init__(self):
        fd, self.path = tempfile.mkstemp(prefix="yubin-clock-")
        os.close(fd)
        self.offset = 0
        self(0)

    def __call__(self, seconds):
        self.offset += seconds
        with open(self.path, "w") as f:
            f.write(str(self.offset))


@pytest.fixture(scope="module")
def lock_panel(db):
    clock = Clock()
    p = Panel(db, extra_config="lock_threshold = 3\nlock_minutes = 5\n", env={"YUBIN_TEST_CLOCK_FILE": clock.path})
    p.clock = clock
    yield p
    p.stop()
    os.unlink(clock.path)


def failures(db, login):
    return db.query("SELECT failures, locked_until IS NOT NULL, locked_until FROM auth_failures WHERE login = %s",
                    (login,))


def test_lock_threshold_and_period_from_the_configuration(lock_panel, db):
    addr = make_user(db, "lena")
    clear_throttle(db)
    c = Client(lock_panel.url)
    # Any spelling of the address counts on the one row of the address.
    assert c.login("Lena@Example.TEST", "bad-1", side="mail").status_code == 401
    assert c.login("lena@example.test", "bad-2", side="mail").status_code == 401
    assert failures(db, addr)[0][:2] == (2, False)
    assert c.login("LENA@example.test", "bad-3", side="mail").status_code == 401
    n, locked, until = failures(db, addr)[0]
    assert (n, locked) == (3, True)
    # Locked: the right password is refused too; attempts meanwhile do not extend the lock.
    r = c.login(addr, USER_PW, side="mail")
    assert r.status_code == 423 and r.json()["error"]["code"] == "locked"
    assert c.login(addr, "bad-4", side="mail").status_code == 423
    assert failures(db, addr)[0][2] == until
    # It lifts by itself after lock_minutes (the test clock moves, no waiting).
    lock_panel.clock(4 * 60)
    assert c.login(addr, USER_PW, side="mail").status_code == 423
    lock_panel.clock(61)
    assert c.login(addr, USER_PW, side="mail").status_code == 200
    assert failures(db, addr) == []
    clear_throttle(db)


def test_mail_protocol_failures_share_the_counter(lock_panel, db):
    addr = make_user(db, "mika")
    clear_throttle(db)
    # Two failed SMTP AUTH / POP3 attempts as maild/mailauth.c records them (core/lockout on
    # the lower-cased address) ...
    db.execute("INSERT INTO auth_failures (login, failures, last_failure) VALUES (%s, 2, now())", (addr,))
    # ... and one in the panel make the third in a row: locked everywhere.
    c = Client(lock_panel.url)
    assert c.login(addr, "bad-panel", side="mail").status_code == 401
    assert failures(db, addr)[0][:2] == (3, True)
    assert c.login(addr, USER_PW, side="mail").status_code == 423
    # Support's unlock ends it for every service ...
    s = Client(lock_panel.url)
    assert s.login("support1", ADMIN_PW).status_code == 200
    assert s.post("/domains/example.test/accounts/mika/unlock").status_code == 204
    assert failures(db, addr) == []
    assert c.login(addr, USER_PW, side="mail").status_code == 200
    # ... and a panel success resets a count that mail failures began.
    db.execute("INSERT INTO auth_failures (login, failures, last_failure) VALUES (%s, 2, now())", (addr,))
    assert c.login(addr, USER_PW, side="mail").status_code == 200
    assert failures(db, addr) == []
    clear_throttle(db)


def test_locked_page_does_not_reveal_the_login(lock_panel, db):
    clear_throttle(db)
    b = Browser(lock_panel.url, lang="en")
    pages = []
    for login in ("erin@example.test", "nobody-here@example.test"):
        for i in range(3):
            b.login("mail", login, f"bad-{i}")
        r = b.login("mail", login, "whatever-1")
        assert r.status_code == 423
        pages.append(r.text.replace(login, "LOGIN"))
        clear_throttle(db)
    assert "locked" in pages[0].lower()
    assert pages[0] == pages[1]
    db.execute("DELETE FROM auth_failures")
