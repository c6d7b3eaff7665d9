# tests/integration/test_tokens.py: API tokens: shown once, stored as SHA-256, never above the creator's rights.
import hashlib

from accounts_util import PW, codes, uniq
from conftest import Client


def bearer(panel, token):
    c = Client(panel.url)
    c.s.headers["Authorization"] = "Bearer " + token
    return c


def test_create_use_list_revoke(dadmin, panel, db):
    r = dadmin.post("/tokens", {"label": "ci", "role": "domain_admin", "domains": ["example.test"]})
    assert r.status_code == 201, r.text
    t = r.json()
    assert set(t) >= {"id", "token"} and t["role"] == "domain_admin" and t["domains"] == ["example.test"]
    row = db.query("SELECT token_hash FROM api_tokens WHERE id = %s", (t["id"],))[0][0]
    assert row == hashlib.sha256(t["token"].encode()).hexdigest()
    b = bearer(panel, t["token"])
    # No CSRF header is needed with a token.
    name = uniq()
    assert b.post("/domains/example.test/accounts", {"name": name, "password": PW}).status_code == 201
    assert b.get("/domains/other.test/accounts").status_code == 403
    items = dadmin.get("/tokens").json()["items"]
    assert [x["id"] for x in items if x["label"] == "ci"] == [t["id"]]
    assert all("token" not in x and "token_hash" not in x for x in items)
    assert dadmin.delete(f"/tokens/{t['id']}").status_code == 204
    assert b.get("/domains/example.test/accounts").status_code == 401
    assert dadmin.delete(f"/tokens/{t['id']}").status_code == 404


def test_never_above_creator(dadmin, support, root):
    r = dadmin.post("/tokens", {"role": "superadmin"})
    assert r.status_code == 403
    r = dadmin.post("/tokens", {"role": "domain_admin", "domains": ["other.test"]})
    assert r.status_code == 403
    r = support.post("/tokens", {"role": "domain_admin"})
    assert r.status_code == 403
    r = support.post("/tokens", {"role": "support"})
    assert r.status_code == 201 and r.json()["domains"] == ["example.test"]
    r = root.post("/tokens", {"role": "domain_admin", "domains": ["other.test"]})
    assert r.status_code == 201 and r.json()["domains"] == ["other.test"]
    r = root.post("/tokens", {"role": "domain_admin"})
    assert r.status_code == 422 and ("domains", "required") in codes(r)
    r = root.post("/tokens", {"role": "domain_admin", "domains": ["missing.test"]})
    assert r.status_code == 422


def test_support_token_cannot_write(support, panel):
    t = support.post("/tokens", {"role": "support"}).json()["token"]
    b = bearer(panel, t)
    assert b.get("/domains/example.test/accounts").status_code == 200
    assert b.post("/domains/example.test/accounts", {"name": uniq(), "password": PW}).status_code == 403


def test_expiry(dadmin, panel, db):
    r = dadmin.post("/tokens", {"role": "support", "expires_at": "2001-01-01T00:00:00Z"})
    assert r.status_code == 422 and ("expires_at", "bad_date") in codes(r)
    r = dadmin.post("/tokens", {"role": "support", "expires_at": "2999-01-01"})
    assert r.status_code == 201 and r.json()["expires_at"] == "2999-01-01T00:00:00Z"
    db.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = %s", (r.json()["id"],))
    assert bearer(panel, r.json()["token"]).get("/domains").status_code == 401


def test_others_tokens_are_not_mine(dadmin, root, panel):
    t = root.post("/tokens", {"role": "support", "domains": ["example.test"]}).json()
    assert t["id"] not in [x["id"] for x in dadmin.get("/tokens").json()["items"]]
    assert dadmin.delete(f"/tokens/{t['id']}").status_code == 404
    assert t["id"] in [x["id"] for x in root.get("/tokens").json()["items"]]
    assert root.delete(f"/tokens/{t['id']}").status_code == 204


def test_token_page_shows_token_once(dadmin, panel, db):
    s = dadmin.s
    r = s.post(panel.url + "/admin/tokens", data={"csrf_token": dadmin.csrf, "label": "page", "role": "support",
                                                  "domains": "", "expires_at": ""}, allow_redirects=False)
    assert r.status_code == 201, r.text
    tok = r.text.split('id="token-value">')[1].split("<")[0]
    assert len(tok) == 64
    assert db.query("SELECT count(*) FROM api_tokens WHERE token_hash = %s",
                    (hashlib.sha256(tok.encode()).hexdigest(),))[0][0] == 1
    listing = s.get(panel.url + "/admin/tokens").text
    assert "page" in listing and tok not in listing
