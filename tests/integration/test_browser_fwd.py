# tests/integration/test_browser_fwd.py: headless Chromium (JavaScript off) through the user's forwards and
# autoresponder pages; the database shows what the browser did.
from browser_util import run_browser
from fwd_util import USER_PW, account_id, make_account


def test_user_forwards_and_autoreply_in_the_browser(panel, db):
    db.execute("DELETE FROM ip_failures")
    addr = make_account(db, "brfwd", password=USER_PW)
    run_browser("fwd_autoreply.mjs", panel.url, addr, USER_PW)
    aid = account_id(db, addr)
    assert db.query("SELECT r.condition, fa.address FROM forward_rules r JOIN forward_addresses fa "
                    "ON fa.rule_id = r.id WHERE r.account_id = %s", (aid,)) == [("all", "copy@elsewhere.example")]
    body, end = db.query("SELECT body, to_char(end_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
                         "FROM autoreplies WHERE account_id = %s", (aid,))[0]
    assert body == "只今不在にしております。03-1234-5678" and end == "2099-12-31 23:59:59"
    actions = [a for (a,) in db.query("SELECT action FROM audit_log WHERE actor = %s ORDER BY id", (addr,))]
    assert actions.count("forward_add") == 2 and "forward_delete" in actions and "autoreply_set" in actions
