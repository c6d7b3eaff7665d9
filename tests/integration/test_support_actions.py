# tests/integration/test_support_actions.py: unlock, release send lock, compromised, temporary password (SPEC §6), and the audit log they leave.
import html

from accounts_util import PW, PW2, Listener, create, uniq, user_client
from conftest import Client

D = "example.test"


def acct(db, name):
    return db.query("SELECT id, compromised, must_change_password, temp_password, send_locked_at IS NOT NULL "
                    "FROM accounts WHERE name = %s", (name,))[0]


def test_unlock(support, dadmin, panel, db):
    n = uniq()
    create(dadmin, D, n)
    addr = f"{n}@{D}"
    db.execute("INSERT INTO auth_failures (login, failures, locked_until, locked_at) "
               "VALUES (%s, 10, now() + interval '30 minutes', now())", (addr,))
    assert Client(panel.url).login(addr, PW, side="mail").status_code == 423
    assert "locked" in support.get(f"/domains/{D}/accounts/{n}").json()["status"]
    lis = Listener(db)
    try:
        lis.drain()
        assert support.post(f"/domains/{D}/accounts/{n}/unlock").status_code == 204
        assert lis.wait(D)
    finally:
        lis.close()
    assert support.get(f"/domains/{D}/accounts/{n}").json()["status"] == []
    user_client(panel, addr)


def test_release_send_lock(support, dadmin, db):
    n = uniq()
    create(dadmin, D, n)
    aid = acct(db, n)[0]
    db.execute("UPDATE accounts SET send_locked_at = now() WHERE id = %s", (aid,))
    db.execute("INSERT INTO send_counts (account_id, hour, count) VALUES (%s, date_trunc('hour', now()), 1001)", (aid,))
    assert support.get(f"/domains/{D}/accounts/{n}").json()["status"] == ["send_locked"]
    assert support.post(f"/domains/{D}/accounts/{n}/release-send-lock").status_code == 204
    assert acct(db, n)[4] is False
    assert db.query("SELECT count(*) FROM send_counts WHERE account_id = %s", (aid,))[0][0] == 0


def test_compromised_ends_sessions_and_old_password(support, dadmin, panel, db):
    n = uniq()
    create(dadmin, D, n)
    addr = f"{n}@{D}"
    u = user_client(panel, addr)
    assert support.post(f"/domains/{D}/accounts/{n}/compromised").status_code == 204
    assert acct(db, n)[1] is True
    assert u.get("/me").status_code == 401
    assert Client(panel.url).login(addr, PW, side="mail").status_code == 401
    assert support.get(f"/domains/{D}/accounts/{n}").json()["status"] == ["compromised"]


def test_temporary_password_forces_change(support, dadmin, panel, db):
    n = uniq()
    create(dadmin, D, n)
    addr = f"{n}@{D}"
    support.post(f"/domains/{D}/accounts/{n}/compromised")
    db.execute("INSERT INTO auth_failures (login, failures, locked_until) VALUES (%s, 10, now() + interval '30 minutes')", (addr,))
    r = support.post(f"/domains/{D}/accounts/{n}/temporary-password")
    assert r.status_code == 200 and set(r.json()) == {"password"}
    tmp = r.json()["password"]
    assert len(tmp) >= 12
    _, comp, must, temp, _ = acct(db, n)
    assert (comp, must, temp) == (True, True, True)
    a = support.get(f"/domains/{D}/accounts/{n}").json()
    assert a["must_change_password"] is True and "locked" not in a["status"]
    # The temporary password signs in (the lock was reset), only to change it.
    u = user_client(panel, addr, tmp)
    assert u.get("/me").json()["must_change_password"] is True
    assert u.get("/me/account").status_code == 403
    r = u.post("/me/password", {"current_password": tmp, "new_password": PW2, "new_password_confirm": PW2})
    assert r.status_code == 204, r.text
    assert acct(db, n)[1:4] == (False, False, False)
    # The password is never stored or logged in the clear.
    assert db.query("SELECT count(*) FROM audit_log WHERE details::text LIKE %s", (f"%{tmp}%",))[0][0] == 0


def test_actions_are_audited_newest_first(support, dadmin, db):
    n = uniq()
    create(dadmin, D, n)
    for act in ("unlock", "release-send-lock", "compromised"):
        assert support.post(f"/domains/{D}/accounts/{n}/{act}").status_code == 204
    items = support.get(f"/domains/{D}/audit").json()["items"]
    mine = [i for i in items if i["target"] == f"{n}@{D}"]
    assert [i["action"] for i in mine] == ["account_compromised", "account_release_send_lock",
                                          "account_unlock", "account_create"]
    assert set(mine[0]) == {"at", "actor", "action", "target", "remote_addr"}
    assert mine[0]["actor"] == "support1" and mine[0]["remote_addr"] == "127.0.0.1"
    assert mine[0]["at"].endswith("Z") and "T" in mine[0]["at"]
    assert mine[-1]["actor"] == "dadmin"


def test_audit_pages_and_scope(root, dadmin, support, panel, db):
    db.execute("INSERT INTO audit_log (at, domain, actor, actor_role, action, target) "
               "SELECT now() - make_interval(secs => g), 'other.test', 'x', 'superadmin', 'a' || g, '' "
               "FROM generate_series(1, 30) g")
    r = root.get("/domains/other.test/audit", params={"per_page": 10, "page": 2})
    assert [i["action"] for i in r.json()["items"]] == [f"a{g}" for g in range(11, 21)]
    assert dadmin.get("/domains/other.test/audit").status_code == 403
    assert support.get("/domains/other.test/audit").status_code == 403
    assert dadmin.get("/domains/nonexistent.test/audit").status_code == 403
    assert root.get("/domains/nonexistent.test/audit").status_code == 404
    r = root.s.get(panel.url + "/admin/domains/other.test/audit?per_page=10", headers={"Accept-Language": "ja"})
    assert r.status_code == 200 and "操作ログ" in r.text and "a1<" in r.text.replace("</code>", "<")


def test_support_actions_from_pages(dadmin, panel, db):
    n = uniq()
    create(dadmin, D, n)
    s = dadmin.s
    base = f"{panel.url}/admin/domains/{D}/accounts/{n}"
    r = s.post(base + "/compromised", data={"csrf_token": dadmin.csrf}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/accounts/{n}?done=accounts_marked_compromised")
    r = s.post(base + "/unlock", data={"csrf_token": dadmin.csrf, "return_to": "/admin/support?q=x"},
               allow_redirects=False)
    assert r.headers["Location"] == "/admin/support?q=x&done=accounts_unlocked"
    r = s.post(base + "/unlock", data={"csrf_token": dadmin.csrf, "return_to": "https://evil.example/"},
               allow_redirects=False)
    assert r.headers["Location"].startswith("/admin/domains/")
    r = s.post(base + "/temporary-password", data={"csrf_token": dadmin.csrf}, headers={"Accept-Language": "ja"},
               allow_redirects=False)
    assert r.status_code == 200 and "仮パスワード" in r.text
    tmp = html.unescape(r.text.split('id="temp-password">')[1].split("<")[0])
    user_client(panel, f"{n}@{D}", tmp)
    r = s.get(base, headers={"Accept-Language": "ja"})
    assert "不正利用検知" in r.text and "強制変更済" in r.text and "status-bad" in r.text
