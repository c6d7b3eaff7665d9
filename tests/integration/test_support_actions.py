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


def audit_cells(text):
    """{action code: shown label} of the audit page's rows."""
    out = {}
    for part in text.split('<td class="action" data-action="')[1:]:
        code, rest = part.split('"', 1)
        out[code] = html.unescape(rest.split(">", 1)[1].split("</td>", 1)[0])
    return out


def test_audit_page_labels_actions_in_both_languages(support, dadmin, root, panel, db):
    n = uniq()
    create(dadmin, D, n)
    assert support.post(f"/domains/{D}/accounts/{n}/unlock").status_code == 204
    assert support.post(f"/domains/{D}/accounts/{n}/compromised").status_code == 204
    addr = f"{n}@{D}"
    db.execute("INSERT INTO audit_log (at, domain, actor, actor_role, action, target) VALUES "
               "(now(), %s, %s, 'user', 'smtp_send_refused', %s), (now(), %s, 'maild', 'system', 'smtp_rcpt_refused', %s), "
               "(now(), %s, 'x', 'superadmin', 'zz_code_from_the_future', %s)", (D, addr, addr, D, addr, D, addr))
    url = f"{panel.url}/admin/domains/{D}/audit?per_page=20"
    want = {
        "ja": {"account_create": "アカウント作成", "account_unlock": "ロック解除",
               "account_compromised": "不正利用検知に設定", "smtp_send_refused": "送信拒否",
               "smtp_rcpt_refused": "受信拒否（容量超過）", "zz_code_from_the_future": "zz_code_from_the_future"},
        "en": {"account_create": "Account created", "account_unlock": "Account unlocked",
               "account_compromised": "Marked as compromised", "smtp_send_refused": "Sending refused",
               "smtp_rcpt_refused": "Delivery refused (mailbox full)",
               "zz_code_from_the_future": "zz_code_from_the_future"},
    }
    for lang, labels in want.items():
        r = support.s.get(url, headers={"Accept-Language": lang})
        assert r.status_code == 200
        cells = audit_cells(r.text)
        for code, label in labels.items():
            assert cells.get(code) == label, (lang, code, cells.get(code))
    # The JSON API keeps the raw code and CONTRACT's shape.
    items = support.get(f"/domains/{D}/audit").json()["items"]
    assert {"zz_code_from_the_future", "smtp_send_refused", "account_unlock"} <= {i["action"] for i in items}
    assert all(set(i) == {"at", "actor", "action", "target", "remote_addr"} for i in items)


def test_every_written_action_code_has_a_label():
    """Each action code the C sources write has its words in both catalogs (else the page shows the code)."""
    import json
    import os
    import re
    src = os.environ.get("YUBIN_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
    codes = set()
    for d in ("api", "core", "maild"):
        for f in os.listdir(os.path.join(src, d)):
            if not f.endswith(".c"):
                continue
            text = open(os.path.join(src, d, f), encoding="utf-8").read()
            codes |= set(re.findall(r'(?:api_audit|\baudit)\(c, [^,]+, "([a-z_]+)"', text))
            codes |= set(re.findall(r'\bact\(c, "([a-z_]+)"', text))
            codes |= {f"{p}_{w}" for p, w in re.findall(r'mailauth_audit\([^;]*?"(smtp|pop3)", "([a-z_]+)"', text)}
            codes |= set(re.findall(r"'system', '([a-z_]+)'", text))
            for pair in re.findall(r'\? "([a-z_]+)" : "([a-z_]+)", x->j->remote_addr', text):  # csv_import
                codes |= set(pair)
    for proto in ("smtp", "pop3"):  # mailauth_check(proto) writes <proto>_login_failed/_refused
        codes |= {f"{proto}_login_failed", f"{proto}_login_refused"}
    assert {"login", "alias_delete", "catchall_off", "smtp_send_refused", "account_unlock"} <= codes
    for lang in ("ja", "en"):
        cat = json.load(open(os.path.join(src, "templates", "i18n", lang, "audit.json"), encoding="utf-8"))
        missing = sorted(c for c in codes if f"audit_action_{c}" not in cat)
        assert not missing, (lang, missing)
