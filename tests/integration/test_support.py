# tests/integration/test_support.py: the support console (SPEC §1, §6): search by address inside the
# support login's domains, status with lock reason and times, the actions through the support
# endpoints (each audited), the forced password change after a temporary password, and what support
# never sees (forwards, autoreply text).
import html
import re

import pytest

from conftest import ADMIN_PW, Client
from user_util import USER_PW, OTHER_PW, Browser, clear_throttle, make_user, user

NEW_PW = "N3w#Passw0rd-zz"


def lock(panel, db, address, n=10):
    c = Client(panel.url)
    for i in range(n):
        assert c.login(address, f"bad-pass-{i}", side="mail").status_code == 401
    clear_throttle(db)


def audit(db, action, target):
    return db.query("SELECT actor, actor_role, domain FROM audit_log WHERE action = %s AND target = %s",
                    (action, target))


def test_support_lands_on_the_console(panel, db):
    b = Browser(panel.url)
    r = b.login("admin", "support1", ADMIN_PW)
    assert r.status_code == 303
    r = b.get("/admin/", follow=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/support"
    r = b.get("/admin/support")
    assert r.status_code == 200 and 'name="q"' in r.text and "example.test" in r.text


def test_search_stays_in_scope(panel, db, support):
    make_user(db, "sue1")
    make_user(db, "sue2")
    make_user(db, "sue1", domain="other.test")
    r = support.get("/support", params={"q": "SUE"})
    assert r.status_code == 200
    got = [i["address"] for i in r.json()["items"]]
    assert got == ["sue1@example.test", "sue2@example.test"]
    it = r.json()["items"][0]
    # Only what support may see: no forwards, autoreply, comment, quota or mail.
    assert set(it) == {"name", "domain", "address", "status", "labels", "compromised", "locked",
                       "send_locked", "over_quota", "must_change_password", "temp_password", "failures",
                       "times"}
    assert it["status"] == [] and it["labels"][0]["key"] == "status_normal"
    # Another domain's account, by address or directly: 403 before 404.
    assert support.get("/support", params={"q": "other.test"}).json()["items"] == []
    assert support.get("/support/other.test/sue1").status_code == 403
    assert support.get("/support/no-such.test/sue1").status_code == 403
    assert support.get("/support/example.test/nobody").status_code == 404
    # A superadmin sees every domain.
    c = Client(panel.url)
    c.login("root", ADMIN_PW)
    got = [i["address"] for i in c.get("/support", params={"q": "sue1"}).json()["items"]]
    assert got == ["sue1@example.test", "sue1@other.test"]
    # Users have no console.
    u = user(panel, "sue2@example.test")
    assert u.get("/support").status_code == 403


def test_locked_user_is_unlocked_by_support(panel, db, support):
    addr = make_user(db, "locky")
    lock(panel, db, addr)
    assert Client(panel.url).login(addr, USER_PW, side="mail").status_code == 423
    clear_throttle(db)
    # Without a search text the console lists the accounts that need attention.
    att = [i["address"] for i in support.get("/support").json()["items"]]
    assert addr in att
    r = support.get("/support/example.test/locky")
    assert r.status_code == 200
    j = r.json()
    assert j["locked"] is True and j["status"] == ["locked"] and j["failures"] == 10
    assert j["times"]["locked_until"] and j["times"]["locked_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", j["times"]["locked_until"])
    assert [l["key"] for l in j["labels"]] == ["status_locked"] and j["labels"][0]["bad"] is True
    r = support.post("/domains/example.test/accounts/locky/unlock")
    assert r.status_code == 204
    assert audit(db, "account_unlock", addr) == [("support1", "support", "example.test")]
    assert support.get("/support/example.test/locky").json()["locked"] is False
    assert Client(panel.url).login(addr, USER_PW, side="mail").status_code == 200


def test_compromised_then_temporary_password_forces_a_change(panel, db, support):
    addr = make_user(db, "pwned")
    u = user(panel, addr)
    assert support.post("/domains/example.test/accounts/pwned/compromised").status_code == 204
    assert audit(db, "account_compromised", addr) == [("support1", "support", "example.test")]
    # The open session ended and the current password signs in nowhere.
    assert u.get("/me").status_code == 401
    assert Client(panel.url).login(addr, USER_PW, side="mail").status_code == 401
    j = support.get("/support/example.test/pwned").json()
    assert j["compromised"] is True and j["times"]["compromised_at"]
    r = support.post("/domains/example.test/accounts/pwned/temporary-password")
    assert r.status_code == 200
    temp = r.json()["password"]
    assert len(temp) == 16
    assert audit(db, "account_temporary_password", addr) == [("support1", "support", "example.test")]
    assert temp not in str(db.query("SELECT details FROM audit_log"))
    j = support.get("/support/example.test/pwned").json()
    assert j["must_change_password"] is True and j["temp_password"] is True
    assert "status_must_change_password" in [l["key"] for l in j["labels"]]
    # The temporary password reaches only the password change.
    c = Client(panel.url)
    r = c.login(addr, temp, side="mail")
    assert r.status_code == 200 and r.json()["principal"]["must_change_password"] is True
    assert c.get("/me").status_code == 200
    r = c.get("/me/account")
    assert r.status_code == 403 and r.json()["error"]["code"] == "must_change_password"
    assert c.post("/me/mail-copy", {}).json()["error"]["code"] == "must_change_password"
    # Same as the current (temporary) one, and a mismatch: each refused with its own code.
    r = c.post("/me/password", {"current_password": temp, "new_password": temp, "new_password_confirm": temp})
    assert r.status_code == 422
    assert "same_as_current" in [d["code"] for d in r.json()["error"]["details"]]
    r = c.post("/me/password", {"current_password": temp, "new_password": NEW_PW,
                                "new_password_confirm": NEW_PW + "x"})
    assert r.status_code == 422
    assert [(d["field"], d["code"]) for d in r.json()["error"]["details"]] == [("new_password_confirm", "mismatch")]
    r = c.post("/me/password", {"current_password": temp, "new_password": NEW_PW, "new_password_confirm": NEW_PW})
    assert r.status_code == 204
    assert c.get("/me").json()["must_change_password"] is False
    assert c.get("/me/account").status_code == 200
    # The account is whole again: new password works, temporary one and the old one not.
    assert db.query("SELECT compromised, must_change_password, temp_password FROM accounts a "
                    "JOIN domains d ON d.id = a.domain_id WHERE d.name = 'example.test' AND a.name = 'pwned'") \
        == [(False, False, False)]
    assert Client(panel.url).login(addr, NEW_PW, side="mail").status_code == 200
    assert Client(panel.url).login(addr, temp, side="mail").status_code == 401
    clear_throttle(db)


def test_support_may_not_read_forwards_or_autoreply(panel, db, support, dadmin):
    addr = make_user(db, "secretive")
    u = user(panel, addr)
    assert u.post("/me/forwards", {"condition": "all", "addresses": ["hidden@elsewhere.example"]}).status_code == 201
    assert u.put("/me/autoreply", {"text": "private away text"}).status_code == 200
    base = "/domains/example.test/accounts/secretive"
    for path in (base + "/forwards", base + "/autoreply"):
        r = support.get(path)
        assert r.status_code == 403, path
        assert "hidden@elsewhere.example" not in r.text and "private away text" not in r.text
    # Nor in the console or the account object.
    for path in ("/support/example.test/secretive", "/support?q=secretive", base):
        r = support.get(path)
        assert "hidden@elsewhere.example" not in r.text and "private away text" not in r.text, path
    # The domain admin does see them (so the data is really there).
    assert "hidden@elsewhere.example" in dadmin.get(base + "/forwards").text
    # And support changes nothing but status.
    assert support.patch(base, {"quota_mb": 5}).status_code == 403
    assert support.post(base + "/forwards", {"condition": "all", "addresses": ["x@y.example"]}).status_code == 403


def test_console_pages_without_javascript(panel, db):
    addr = make_user(db, "pagey")
    lock(panel, db, addr)
    b = Browser(panel.url, lang="ja")
    assert b.login("admin", "support1", ADMIN_PW).status_code == 303
    r = b.get("/admin/support?q=pagey")
    assert r.status_code == 200
    assert 'href="/admin/support/example.test/pagey"' in r.text
    assert 'class="status-bad" data-status="status_locked">アカウントロック<' in r.text
    r = b.get("/admin/support/example.test/pagey")
    assert r.status_code == 200 and 'id="locked-until"' in r.text and "認証の連続失敗" in r.text
    r = b.post("/admin/domains/example.test/accounts/pagey/unlock",
               {"return_to": "/admin/support/example.test/pagey"})
    assert r.status_code == 303
    assert r.headers["Location"] == "/admin/support/example.test/pagey?done=accounts_unlocked"
    r = b.get(r.headers["Location"])
    assert "ロックを解除しました" in r.text and 'class="status-ok" data-status="status_normal">正常<' in r.text
    # Mark compromised: a confirmation page first.
    r = b.get("/admin/support/example.test/pagey/compromised")
    assert r.status_code == 200 and 'action="/admin/domains/example.test/accounts/pagey/compromised"' in r.text
    assert not db.query("SELECT 1 FROM accounts WHERE name = 'pagey' AND compromised")
    r = b.post("/admin/domains/example.test/accounts/pagey/compromised",
               {"return_to": "/admin/support/example.test/pagey"})
    assert r.status_code == 303
    r = b.get(r.headers["Location"])
    assert "不正利用検知" in r.text
    # Temporary password: confirmation, then the password shown once.
    r = b.get("/admin/support/example.test/pagey/temporary-password")
    assert r.status_code == 200 and 'id="confirm-submit"' in r.text
    r = b.post("/admin/domains/example.test/accounts/pagey/temporary-password",
               {"return_to": "/admin/support/example.test/pagey"})
    assert r.status_code == 200
    temp = html.unescape(re.search(r'id="temp-password">([^<]+)<', r.text).group(1))
    assert Client(panel.url).login(addr, temp, side="mail").status_code == 200
    r = b.get("/admin/support/example.test/pagey")
    assert temp not in r.text and "強制変更済" in r.text
    actions = [a for (a,) in db.query("SELECT action FROM audit_log WHERE target = %s AND actor = 'support1' "
                                      "ORDER BY id", (addr,))]
    assert actions == ["account_unlock", "account_compromised", "account_temporary_password"]
    clear_throttle(db)
