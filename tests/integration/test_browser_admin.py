# tests/integration/test_browser_admin.py: the domain admin's flow in headless Chromium (tests/browser/admin_flow.mjs), checked in the database too.
import os

from browser_util import run_browser
from conftest import ADMIN_PW, BUILD


def test_domain_admin_flow_in_browser(panel, db):
    shot = os.path.join(BUILD, "browser-accounts-ja.png")
    if os.path.exists(shot):
        os.unlink(shot)
    run_browser("admin_flow.mjs", panel.url, "dadmin", ADMIN_PW, "example.test", shot)
    names = {r[0]: r[1:] for r in db.query(
        "SELECT a.name, a.compromised, a.spam_tag FROM accounts a JOIN domains d ON d.id = a.domain_id "
        "WHERE d.name = 'example.test' AND a.name LIKE 'browser%%'")}
    assert names == {"browser3": (True, False)}
    acts = db.query("SELECT action, target FROM audit_log WHERE actor = 'dadmin' AND target LIKE 'browser%%' ORDER BY id")
    assert ("account_update", "browser1@example.test") in acts
    assert [a for a, t in acts if a == "account_delete"] == ["account_delete", "account_delete"]
    assert db.query("SELECT count(*) FROM jobs WHERE kind = 'delete_account' AND account IN ('browser1', 'browser2')")[0][0] == 2
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
