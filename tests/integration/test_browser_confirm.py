# tests/integration/test_browser_confirm.py: the user panel's confirmation pages in headless Chromium, JavaScript
# off (tests/browser/user_confirmations.mjs), checked in the database too (issue 11 points 1 and 6).
import os

from browser_util import run_browser
from conftest import BUILD
from user_util import USER_PW, clear_throttle, make_user


def test_user_confirmations_in_browser(panel, db):
    clear_throttle(db)
    addr = make_user(db, "confirmer")
    shot = os.path.join(BUILD, "browser-mail-copy-ja.png")
    run_browser("user_confirmations.mjs", panel.url, addr, USER_PW, shot)
    assert db.query("SELECT spam_sort FROM accounts WHERE name = 'confirmer'") == [(True,)]
    assert db.query("SELECT kind FROM jobs WHERE account = 'confirmer' ORDER BY id") == [("purge_mail",), ("mail_copy",)]
    params = db.query("SELECT params FROM jobs WHERE account = 'confirmer' AND kind = 'mail_copy'")[0][0]
    assert params["source_host"] == "imap.old-provider.example" and params["source_login"] == addr
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    clear_throttle(db)
