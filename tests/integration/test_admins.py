# tests/integration/test_admins.py: admin logins managed by the superadmin (roles, domains, password policy).
from accounts_util import PW, PW2, codes, uniq
from conftest import ADMIN_PW, Client


def test_create_list_patch_delete(root, panel, db):
    login = uniq("adm")
    r = root.post("/admins", {"login": login, "role": "domain_admin", "domains": ["example.test"], "password": PW})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["login"] == login and a["role"] == "domain_admin" and a["domains"] == ["example.test"]
    assert "password" not in a and "password_hash" not in a
    items = root.get("/admins").json()["items"]
    assert login in [x["login"] for x in items]
    assert all("password" not in x and "password_hash" not in x for x in items)
    c = Client(panel.url)
    r = c.login(login, PW)
    assert r.status_code == 200 and r.json()["principal"]["domains"] == ["example.test"]
    # New domains take effect at once; a new password ends the old sessions.
    r = root.patch(f"/admins/{login}", {"domains": ["example.test", "other.test"]})
    assert r.status_code == 200 and r.json()["domains"] == ["example.test", "other.test"]
    assert c.get("/me").json()["domains"] == ["example.test", "other.test"]
    r = root.patch(f"/admins/{login}", {"role": "support", "password": PW2})
    assert r.status_code == 200 and r.json()["role"] == "support"
    assert c.get("/me").status_code == 401
    assert Client(panel.url).login(login, PW2).json()["principal"]["role"] == "support"
    assert root.delete(f"/admins/{login}").status_code == 204
    assert root.get(f"/admins/{login}").status_code == 404
    assert Client(panel.url).login(login, PW2).status_code == 401
    acts = [r[0] for r in db.query("SELECT action FROM audit_log WHERE target = %s ORDER BY id", (login,))]
    assert acts[:1] == ["admin_create"] and "admin_update" in acts and acts[-1] == "admin_delete"


def test_rules_and_conflicts(root):
    r = root.post("/admins", {"login": "bad login", "role": "root", "password": "x", "domains": ["nope.test"]})
    assert r.status_code == 422
    got = codes(r)
    assert ("login", "invalid") in got and ("role", "invalid") in got and ("password", "too_short") in got
    login = uniq("adm")
    r = root.post("/admins", {"login": login, "role": "support", "password": f"X#{login}9zz"})
    assert ("password", "contains_name") in codes(r)
    r = root.post("/admins", {"login": login, "role": "support", "password": PW, "domains": ["missing.test"]})
    assert r.status_code == 422 and ("domains", "not_found") in codes(r)
    r = root.post("/admins", {"login": "DAdmin", "role": "support", "password": PW})
    assert r.status_code == 409 and r.json()["error"]["code"] == "exists"
    assert root.patch("/admins/nobody-here", {"role": "support"}).status_code == 404
    # The superadmin cannot delete or demote the login in use.
    assert root.delete("/admins/root").status_code == 422
    assert root.patch("/admins/root", {"role": "support"}).status_code == 422


def test_superadmin_only(dadmin, support):
    for c in (dadmin, support):
        assert c.get("/admins").status_code == 403
        assert c.post("/admins", {"login": uniq(), "role": "support", "password": PW}).status_code == 403
        assert c.patch("/admins/dadmin", {"role": "superadmin"}).status_code == 403
        assert c.delete("/admins/support1").status_code == 403


def test_admin_pages(root, panel):
    s = root.s
    r = s.get(panel.url + "/admin/admins", headers={"Accept-Language": "ja"})
    assert r.status_code == 200 and "管理者" in r.text and "dadmin" in r.text
    login = uniq("pga")
    r = s.post(panel.url + "/admin/admins", data={"csrf_token": root.csrf, "login": login, "role": "domain_admin",
                                                  "domains": "example.test, other.test", "password": PW},
               allow_redirects=False)
    assert r.status_code == 303, r.text
    assert root.get(f"/admins/{login}").json()["domains"] == ["example.test", "other.test"]
    r = s.post(panel.url + f"/admin/admins/{login}", data={"csrf_token": root.csrf, "_method": "PATCH", "role": "",
                                                           "domains": "", "password": ""}, allow_redirects=False)
    assert r.status_code == 303
    assert root.get(f"/admins/{login}").json()["domains"] == ["example.test", "other.test"]
    r = s.post(panel.url + "/admin/admins", data={"csrf_token": root.csrf, "login": uniq(), "role": "support",
                                                  "password": "weak"}, allow_redirects=False)
    assert r.status_code == 422 and "password-error" in r.text and "dadmin" in r.text
    assert s.get(panel.url + f"/admin/admins/{login}/delete").status_code == 200
    r = s.post(panel.url + f"/admin/admins/{login}", data={"csrf_token": root.csrf, "_method": "DELETE"},
               allow_redirects=False)
    assert r.status_code == 303 and root.get(f"/admins/{login}").status_code == 404
