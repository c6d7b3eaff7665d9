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
    # One copy at a time per account.
    assert c.post("/me/mail-copy", {"password": USER_PW, **COPY}).status_code == 409
    audit = db.query("SELECT actor, details FROM audit_log WHERE action = 'mail_copy_request' AND target = %s",
                     (carol,))
    assert audit and audit[0][0] == carol
    assert "src-secret" not in json.dumps(audit[0][1]) and USER_PW not in json.dumps(audit[0][1])
    db.execute("UPDATE jobs SET state = 'done' WHERE id = %s", (job["id"],))
    # Once it is over, a rerun may be asked for (it resumes, SPEC §8); with another login and a port.
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
