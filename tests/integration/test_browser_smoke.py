# tests/integration/test_browser_smoke.py: the headless-Chromium harness (tests/browser/lib.mjs) runs against a real panel.
from browser_util import run_browser
from conftest import ADMIN_PW


def test_browser_login_page_and_wrong_password(panel, db):
    db.execute("DELETE FROM ip_failures")
    run_browser("smoke.mjs", panel.url, "dadmin", ADMIN_PW)
    # The browser's sign-in reached the server: it is audited, and its success reset the
    # failure the wrong password had counted.
    assert db.query("SELECT count(*) FROM audit_log WHERE action = 'login' AND actor = 'dadmin'")[0][0] >= 1
    assert db.query("SELECT failures FROM auth_failures WHERE login = 'dadmin'") == []
