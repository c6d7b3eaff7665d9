# tests/integration/test_browser_user.py: headless Chromium (JavaScript off) through the user panel and the
# support console: password change and a forward; a locked user unlocked by support; a forced change.
import os

from browser_util import run_browser
from conftest import ADMIN_PW, Client
from user_util import USER_PW, clear_throttle, make_user

NEW_PW = "Br0wser#NewPass-1"


def test_user_changes_password_and_adds_a_forward(panel, db):
    clear_throttle(db)
    addr = make_user(db, "browsy")
    run_browser("user_password_forward.mjs", panel.url, addr, USER_PW, NEW_PW, "copy@elsewhere.example",
                os.environ.get("YUBIN_SHOT_DIR", "") and os.path.join(os.environ["YUBIN_SHOT_DIR"], "account.png"))
    assert db.query("SELECT fa.address FROM forward_addresses fa JOIN forward_rules fr ON fr.id = fa.rule_id "
                    "JOIN accounts a ON a.id = fr.account_id WHERE a.name = 'browsy'") == [("copy@elsewhere.example",)]
    actions = [a for (a,) in db.query("SELECT action FROM audit_log WHERE actor = %s ORDER BY id", (addr,))]
    assert "password_change" in actions and "forward_add" in actions
    clear_throttle(db)


def test_locked_user_unlocked_by_support(panel, db):
    clear_throttle(db)
    addr = make_user(db, "lockedbrowser")
    c = Client(panel.url)
    for i in range(10):
        assert c.login(addr, f"wrong-{i}", side="mail").status_code == 401
    clear_throttle(db)
    run_browser("support_unlock.mjs", panel.url, "support1", ADMIN_PW, addr, USER_PW,
                os.environ.get("YUBIN_SHOT_DIR", "") and os.path.join(os.environ["YUBIN_SHOT_DIR"], "support.png"))
    assert db.query("SELECT actor, actor_role FROM audit_log WHERE action = 'account_unlock' AND target = %s",
                    (addr,)) == [("support1", "support")]
    clear_throttle(db)


def test_forced_change_is_completed(panel, db, support):
    clear_throttle(db)
    addr = make_user(db, "forcedbrowser")
    temp = support.post("/domains/example.test/accounts/forcedbrowser/temporary-password").json()["password"]
    run_browser("forced_change.mjs", panel.url, addr, temp, NEW_PW)
    assert db.query("SELECT must_change_password, temp_password FROM accounts WHERE name = 'forcedbrowser'") \
        == [(False, False)]
    clear_throttle(db)
