# tests/integration/test_domains.py: domains API and pages (superadmin creates and deletes; admins see their own).
from accounts_util import PW, codes, create, uniq, user_client
from conftest import ADMIN_PW, Client


def test_list_scope(root, dadmin, support):
    names = [d["name"] for d in root.get("/domains").json()["items"]]
    assert "example.test" in names and "other.test" in names and names == sorted(names)
    assert [d["name"] for d in dadmin.get("/domains").json()["items"]] == ["example.test"]
    assert [d["name"] for d in support.get("/domains").json()["items"]] == ["example.test"]
    d = [d for d in root.get("/domains").json()["items"] if d["name"] == "example.test"][0]
    assert d["default_quota_mb"] == 1024 and d["account_count"] >= 1


def test_create_with_postmaster_and_quota(root, db):
    name = uniq("d") + ".Example"
    r = root.post("/domains", {"name": name, "default_quota_mb": 200})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name.lower() and r.json()["default_quota_mb"] == 200
    accts = root.get(f"/domains/{name.lower()}/accounts").json()["items"]
    assert [(a["name"], a["system"], a["quota_mb"]) for a in accts] == [("postmaster", True, 200)]
    # New accounts take the domain's default quota.
    assert create(root, name.lower(), "alice")["quota_mb"] == 200
    assert root.get(f"/domains/{name.lower()}").json()["account_count"] == 2
    assert db.query("SELECT count(*) FROM audit_log WHERE action = 'domain_create' AND domain = %s",
                    (name.lower(),))[0][0] == 1


def test_create_rules_and_conflict(root, db):
    r = root.post("/domains", {"name": "no_dots"})
    assert r.status_code == 422 and ("name", "invalid") in codes(r)
    r = root.post("/domains", {})
    assert r.status_code == 422 and ("name", "required") in codes(r)
    r = root.post("/domains", {"name": "fine.test", "default_quota_mb": 0})
    assert r.status_code == 422 and ("default_quota_mb", "bad_quota") in codes(r)
    r = root.post("/domains", {"name": "EXAMPLE.test"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "exists"
    # A domain alias holds the name too.
    db.execute("INSERT INTO domain_aliases (name, domain_id) SELECT 'alias-dom.test', id FROM domains WHERE name = 'example.test'")
    assert root.post("/domains", {"name": "alias-dom.test"}).status_code == 409


def test_only_superadmin_creates_and_deletes(dadmin, support, root):
    assert dadmin.post("/domains", {"name": uniq("x") + ".test"}).status_code == 403
    assert support.post("/domains", {"name": uniq("x") + ".test"}).status_code == 403
    assert dadmin.delete("/domains/example.test").status_code == 403
    assert dadmin.delete("/domains/no-such.test").status_code == 403
    assert root.delete("/domains/no-such.test").status_code == 404
    assert root.get("/domains/example.test").status_code == 200


def test_delete_takes_accounts_and_queues_mail_removal(root, db, panel):
    name = uniq("del") + ".test"
    assert root.post("/domains", {"name": name}).status_code == 201
    a = create(root, name, "bob")
    u = user_client(panel, a["address"])
    ids = [r[0] for r in db.query("SELECT a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "
                                  "WHERE d.name = %s ORDER BY a.id", (name,))]
    assert root.delete(f"/domains/{name}").status_code == 204
    assert root.get(f"/domains/{name}").status_code == 404
    assert db.query("SELECT count(*) FROM accounts WHERE id = ANY(%s)", (ids,))[0][0] == 0
    jobs = db.query("SELECT account_id FROM jobs WHERE kind = 'delete_account' AND domain = %s ORDER BY account_id", (name,))
    assert [j[0] for j in jobs] == ids
    assert u.get("/me").status_code == 401
    # The audit log outlives the domain.
    assert db.query("SELECT count(*) FROM audit_log WHERE domain = %s AND action = 'domain_delete'", (name,))[0][0] == 1


def test_domain_pages(panel, root):
    s = root.s
    r = s.get(panel.url + "/admin/domains", headers={"Accept-Language": "ja"})
    assert r.status_code == 200 and "ドメイン一覧" in r.text and "example.test" in r.text
    assert "default-src" in r.headers["Content-Security-Policy"]
    r = s.get(panel.url + "/admin/domains/example.test", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/domains/example.test/accounts"
    name = uniq("pg") + ".test"
    r = s.post(panel.url + "/admin/domains", data={"csrf_token": root.csrf, "name": name, "default_quota_mb": ""},
               allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/domains?done=domains_created"
    r = s.post(panel.url + "/admin/domains", data={"csrf_token": root.csrf, "name": "bad_name"},
               headers={"Accept-Language": "en"}, allow_redirects=False)
    assert r.status_code == 422 and "field-error" in r.text and "example.test" in r.text
    r = s.get(panel.url + f"/admin/domains/{name}/delete")
    assert r.status_code == 200 and name in r.text and 'name="_method" value="DELETE"' in r.text
    r = s.post(panel.url + f"/admin/domains/{name}", data={"csrf_token": root.csrf, "_method": "DELETE"},
               allow_redirects=False)
    assert r.status_code == 303 and "done=domains_deleted" in r.headers["Location"]
    assert root.get(f"/domains/{name}").status_code == 404


def test_domain_admin_page_lists_only_own(panel):
    c = Client(panel.url)
    assert c.login("dadmin", ADMIN_PW).status_code == 200
    r = c.s.get(panel.url + "/admin/domains")
    assert r.status_code == 200 and "example.test" in r.text and "other.test" not in r.text
    assert c.s.get(panel.url + "/admin/domains/other.test/delete").status_code == 403
