# tests/integration/test_authz.py: every endpoint of the admin side as every role, on its own domain, another domain and a domain
# that does not exist, checked against SPEC §1's table and CONTRACT (401 without a session, 403 out of scope before 404).
import uuid

import pytest

from accounts_util import PW, create, seed_accounts
from conftest import ADMIN_PW, Client

OWN, OTHER, MISSING = "example.test", "other.test", "nowhere.test"
ROLES = ["superadmin", "dadmin", "otheradmin", "support", "user", "anonymous"]
TARGETS = [OWN, OTHER, MISSING]
# Which domains each admin role holds (conftest's db fixture).
SCOPE = {"dadmin": {OWN}, "otheradmin": {OTHER}, "support": {OWN}}

# (method, path, kind, success status, body). Kinds:
#   read    admins of any role in scope (support too)      write   admins in scope, not support
#   support admins of any role in scope                    super   superadmin only
#   me      role user only (its own account)               tokens  any admin
DOMAIN_ENDPOINTS = [
    ("GET", "/domains/{d}", "read", 200, None),
    ("DELETE", "/domains/{d}", "super", 204, None),
    ("GET", "/domains/{d}/accounts", "read", 200, None),
    ("POST", "/domains/{d}/accounts", "write", 201, lambda: {"name": "n" + uuid.uuid4().hex[:8], "password": PW}),
    ("GET", "/domains/{d}/accounts/{name}", "read", 200, None),
    ("PATCH", "/domains/{d}/accounts/{name}", "write", 200, lambda: {"spam_tag": True}),
    ("DELETE", "/domains/{d}/accounts/{name}", "write", 204, None),
    ("POST", "/domains/{d}/accounts/delete", "write", 204, "names"),
    ("POST", "/domains/{d}/accounts/{name}/purge-mail", "write", 202, None),
    ("POST", "/domains/{d}/accounts/{name}/unlock", "support", 204, None),
    ("POST", "/domains/{d}/accounts/{name}/release-send-lock", "support", 204, None),
    ("POST", "/domains/{d}/accounts/{name}/compromised", "support", 204, None),
    ("POST", "/domains/{d}/accounts/{name}/temporary-password", "support", 200, None),
    ("GET", "/domains/{d}/audit", "read", 200, None),
    # SPEC §10: aliases and the catch-all (admins and domain admins; support reads), domain aliases
    # (superadmin to change).
    ("GET", "/domains/{d}/accounts/{name}/aliases", "read", 200, None),
    ("POST", "/domains/{d}/accounts/{name}/aliases", "write", 201, lambda: {"name": "al" + uuid.uuid4().hex[:8]}),
    ("DELETE", "/domains/{d}/accounts/{name}/aliases/{alias}", "write", 204, None),
    ("GET", "/domains/{d}/catch-all", "read", 200, None),
    ("PUT", "/domains/{d}/catch-all", "write", 200, lambda: {"account": "postmaster"}),
    ("DELETE", "/domains/{d}/catch-all", "write", 204, None),
    ("GET", "/domains/{d}/domain-aliases", "read", 200, None),
    ("POST", "/domains/{d}/domain-aliases", "super", 201, lambda: {"name": "da" + uuid.uuid4().hex[:8] + ".test"}),
    ("DELETE", "/domains/{d}/domain-aliases/{dalias}", "super", 204, None),
]

# Pages of the same rows (and page-only rows): anonymous is sent to the sign-in page.
PAGE_ENDPOINTS = [
    ("GET", "/admin/domains/{d}/accounts", "read", 200),
    ("GET", "/admin/domains/{d}/accounts/{name}", "read", 200),
    ("GET", "/admin/domains/{d}/new-account", "write", 200),
    ("GET", "/admin/domains/{d}/delete-accounts?names[]={name}", "write", 200),
    ("GET", "/admin/domains/{d}/accounts/{name}/delete", "write", 200),
    ("GET", "/admin/domains/{d}/accounts/{name}/purge-mail", "write", 200),
    ("GET", "/admin/domains/{d}/accounts/{name}/toggle?field=spam_tag&value=1", "write", 200),
    ("GET", "/admin/domains/{d}/audit", "read", 200),
    ("GET", "/admin/domains/{d}/delete", "super", 200),
    ("GET", "/admin/domains/{d}/accounts/{name}/aliases", "read", 200),
    ("GET", "/admin/domains/{d}/accounts/{name}/aliases/{alias}/delete", "write", 200),
    ("GET", "/admin/domains/{d}/catch-all", "read", 200),
    ("GET", "/admin/domains/{d}/domain-aliases", "read", 200),
]


@pytest.fixture(scope="module")
def clients(panel, db):
    c = {}
    for role, login in (("superadmin", "root"), ("dadmin", "dadmin"), ("otheradmin", "otheradmin"),
                        ("support", "support1")):
        c[role] = Client(panel.url)
        assert c[role].login(login, ADMIN_PW).status_code == 200
    create(c["superadmin"], OWN, "authzuser")
    c["user"] = Client(panel.url)
    assert c["user"].login(f"authzuser@{OWN}", PW, side="mail").status_code == 200
    c["anonymous"] = Client(panel.url)
    return c


def expected(kind, role, domain, success):
    if role == "anonymous":
        return 401
    if role == "user":
        return 403
    if role == "superadmin":
        return success if domain != MISSING else 404
    if kind == "super":
        return 403
    if kind == "write" and role == "support":
        return 403
    # Out of scope is 403 whether or not the domain exists (CONTRACT).
    return success if domain in SCOPE[role] else 403


def fresh_account(db, domain):
    name = "t" + uuid.uuid4().hex[:10]
    if domain != MISSING:
        seed_accounts(db, domain, [name])
    return name


def names_of(db, domain, name):
    """Path parts of a fresh account: its name, an alias of it, a domain alias of its domain."""
    alias, dalias = name + "-a", "da-" + name + ".test"
    if domain != MISSING:
        db.execute("INSERT INTO aliases (domain_id, name, account_id) SELECT domain_id, %s, id FROM accounts "
                   "WHERE name = %s", (alias, name))
        db.execute("INSERT INTO domain_aliases (name, domain_id) SELECT %s, id FROM domains WHERE name = %s",
                   (dalias, domain))
    return {"name": name, "alias": alias, "dalias": dalias}


def fresh_domain(c):
    name = "z" + uuid.uuid4().hex[:8] + ".test"
    assert c.post("/domains", {"name": name}).status_code == 201
    return name


@pytest.mark.parametrize("method,path,kind,success,body", DOMAIN_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, *_ in DOMAIN_ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("domain", TARGETS)
def test_api_matrix(clients, db, method, path, kind, success, body, role, domain):
    d = domain
    if method == "DELETE" and path == "/domains/{d}" and role == "superadmin" and domain != MISSING:
        d = fresh_domain(clients["superadmin"])   # never delete the fixtures' domains
    name = fresh_account(db, d)
    b = {"names": [name]} if body == "names" else (body() if body else None)
    r = clients[role].call(method, path.format(d=d, **names_of(db, d, name)), json=b)
    want = expected(kind, role, domain, success)
    assert r.status_code == want, f"{role} {method} {path} on {domain}: {r.status_code} {r.text[:300]}"
    if want >= 400:
        assert r.json()["error"]["code"] in ({401: "unauthenticated", 403: "forbidden", 404: "not_found"}[want],)
        # A refused write left the account as it was.
        if d != MISSING and "{name}" in path:
            row = db.query("SELECT a.spam_tag, a.compromised, a.temp_password FROM accounts a JOIN domains dd "
                           "ON dd.id = a.domain_id WHERE dd.name = %s AND a.name = %s", (d, name))
            assert row == [(False, False, False)]


@pytest.mark.parametrize("method,path,kind,success", PAGE_ENDPOINTS, ids=[p for _, p, *_ in PAGE_ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("domain", TARGETS)
def test_page_matrix(clients, db, panel, method, path, kind, success, role, domain):
    name = fresh_account(db, domain)
    r = clients[role].s.request(method, panel.url + path.format(d=domain, **names_of(db, domain, name)),
                                allow_redirects=False)
    want = expected(kind, role, domain, success)
    if want == 401:
        assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
    else:
        assert r.status_code == want, f"{role} {path} on {domain}: {r.status_code}"
        assert "text/html" in r.headers["Content-Type"]


GLOBAL = [
    # (method, path, body, {role: status}) — superadmin-only resources and tokens.
    ("GET", "/domains", None, {"superadmin": 200, "dadmin": 200, "otheradmin": 200, "support": 200}),
    ("POST", "/domains", lambda: {"name": "g" + uuid.uuid4().hex[:8] + ".test"}, {"superadmin": 201}),
    ("GET", "/admins", None, {"superadmin": 200}),
    ("POST", "/admins", lambda: {"login": "a" + uuid.uuid4().hex[:8], "role": "support", "password": PW},
     {"superadmin": 201}),
    ("PATCH", "/admins/{login}", lambda: {"domains": [OWN]}, {"superadmin": 200}),
    ("DELETE", "/admins/{login}", None, {"superadmin": 204}),
    ("GET", "/tokens", None, {"superadmin": 200, "dadmin": 200, "otheradmin": 200, "support": 200}),
    ("POST", "/tokens", lambda: {"role": "support"}, {"dadmin": 201, "otheradmin": 201, "support": 201}),
    ("GET", "/me/account", None, {"user": 200}),
    ("PATCH", "/me/account", lambda: {"spam_sort": False}, {"user": 200}),
    ("POST", "/me/purge-mail", None, {"user": 202}),
    ("GET", "/me/aliases", None, {"user": 200}),
]


@pytest.mark.parametrize("method,path,body,allowed", GLOBAL, ids=[f"{m} {p}" for m, p, *_ in GLOBAL])
@pytest.mark.parametrize("role", ROLES)
def test_global_matrix(clients, db, method, path, body, allowed, role):
    login = "v" + uuid.uuid4().hex[:8]
    db.execute("INSERT INTO admins (login, password_hash, role) SELECT %s, password_hash, 'support' "
               "FROM admins WHERE login = 'root'", (login,))
    r = clients[role].call(method, path.format(login=login), json=body() if body else None)
    want = 401 if role == "anonymous" else allowed.get(role, 403)
    if method == "POST" and path == "/tokens" and role == "superadmin":
        want = 422   # a support token of the superadmin must name its domains
    assert r.status_code == want, f"{role} {method} {path}: {r.status_code} {r.text[:200]}"


@pytest.mark.parametrize("role", ROLES)
def test_token_delete_matrix(clients, db, role):
    tok = clients["dadmin"].post("/tokens", {"role": "support"}).json()["id"]
    r = clients[role].delete(f"/tokens/{tok}")
    want = {"superadmin": 204, "dadmin": 204, "anonymous": 401, "user": 403}.get(role, 404)
    assert r.status_code == want, role
    assert db.query("SELECT count(*) FROM api_tokens WHERE id = %s", (tok,))[0][0] == (0 if want == 204 else 1)


def test_user_cannot_reach_another_account_through_me(clients):
    u = clients["user"]
    assert u.get(f"/domains/{OWN}/accounts/postmaster").status_code == 403
    assert u.patch("/me/account", {"quota_mb": 1}).status_code == 403
    assert u.get("/me/account").json()["name"] == "authzuser"
