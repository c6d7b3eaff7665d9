# tests/integration/test_browser_aliases.py: headless Chromium, JavaScript off: add an alias, see it, delete it after the confirmation.
from aliases_util import make_account
from browser_util import run_browser
from conftest import ADMIN_PW


def test_browser_alias_add_and_delete(panel, db):
    db.execute("DELETE FROM ip_failures")
    make_account(db, "example.test", "alice")
    run_browser("aliases.mjs", panel.url, "dadmin", ADMIN_PW, "example.test", "alice")
    # What the browser did reached the database: created, then deleted, both audited.
    assert db.query("SELECT count(*) FROM aliases") == [(0,)]
    assert db.query("SELECT action, target FROM audit_log WHERE actor = 'dadmin' AND action LIKE 'alias%%' "
                    "ORDER BY id") == [("alias_create", "browser-alias@example.test"),
                                       ("alias_delete", "browser-alias@example.test")]
