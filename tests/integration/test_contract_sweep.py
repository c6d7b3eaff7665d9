# tests/integration/test_contract_sweep.py: CONTRACT.md "JSON API", "Errors" and "Browser panels"
# walked line by line as a new API user would: one case per rule, each checking the answer's
# status, shape and the effect behind it (not only a status code).
import time
import uuid

import requests

from accounts_util import ACCOUNT_KEYS, PW, PW2, codes, create, seed_accounts, uniq, user_client
from conftest import ADMIN_PW, Client
from user_util import Browser

D = "example.test"
ACC = f"/domains/{D}/accounts"
ERROR_KEYS = {"code", "message", "details"}


def err(r, status, code):
    """The answer is CONTRACT's error shape with this status and top-level code."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    e = r.json()["error"]
    assert set(e) == ERROR_KEYS and e["code"] == code and e["message"], e
    for d in e["details"]:
        assert {"field", "code", "message"} <= set(d) and d["message"], d
    return e


def clear_failures(db):
    db.execute("DELETE FROM ip_failures")


# --- Cookie sessions, login, CSRF ---------------------------------------------------------

def test_login_answers_csrf_and_principal_and_sets_the_cookie(client, db):
    r = client.login("dadmin", ADMIN_PW)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"csrf_token", "principal"} and body["csrf_token"]
    assert body["principal"] == {"login": "dadmin", "role": "domain_admin", "domains": [D],
                                 "must_change_password": False}
    cookie = r.headers["Set-Cookie"]
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "path=/" in attrs and any(a.startswith("samesite") for a in attrs)
    # GET /me answers the same principal.
    assert client.get("/me").json() == body["principal"]
    # The user's side: role user, the address as login, its domain.
    name = uniq("lg")
    create(client, D, name)
    u = Client(client.base)
    r = u.login(f"{name}@{D}", PW, side="mail")
    assert r.json()["principal"] == {"login": f"{name}@{D}", "role": "user", "domains": [D],
                                     "must_change_password": False}


def test_login_needs_no_csrf_and_refuses_a_cross_site_origin(panel, db):
    clear_failures(db)
    for side, login in (("admin", "root"), ("mail", f"postmaster@{D}")):
        s = requests.Session()
        r = s.post(f"{panel.url}/api/v1/{side}/login", json={"username": login, "password": "x" * 12},
                   headers={"Origin": "https://evil.example"})
        err(r, 403, "forbidden")
        assert "Set-Cookie" not in r.headers
    s = requests.Session()
    r = s.post(f"{panel.url}/api/v1/admin/login", json={"username": "root", "password": ADMIN_PW},
               headers={"Origin": panel.url})
    assert r.status_code == 200 and "yubin_session" in s.cookies.get_dict()


def test_state_change_without_the_csrf_token_is_403_csrf_and_changes_nothing(root, db):
    name = uniq("cs")
    for hdr in ({}, {"X-CSRF-Token": "0" * 64}):
        r = root.s.post(root.base + "/api/v1" + ACC, json={"name": name, "password": PW}, headers=hdr)
        err(r, 403, "csrf")
    assert root.get(f"{ACC}/{name}").status_code == 404
    # An API token needs no CSRF header.
    tok = root.post("/tokens", {"label": "sweep", "role": "domain_admin", "domains": [D]}).json()
    r = requests.post(root.base + "/api/v1" + ACC, json={"name": name, "password": PW},
                      headers={"Authorization": "Bearer " + tok["token"]})
    assert r.status_code == 201 and r.json()["name"] == name
    root.delete(f"/tokens/{tok['id']}")


def test_logout_ends_the_session(dadmin):
    assert dadmin.get("/me").status_code == 200
    r = dadmin.post("/logout")
    assert r.status_code in (200, 204)
    err(dadmin.get("/me"), 401, "unauthenticated")
    err(dadmin.get(ACC), 401, "unauthenticated")


def test_must_change_password_session_may_only_me_password_logout(root, panel):
    name = uniq("mc")
    create(root, D, name)
    tmp = root.post(f"{ACC}/{name}/temporary-password")
    assert tmp.status_code == 200 and set(tmp.json()) == {"password"}
    assert root.get(f"{ACC}/{name}").json()["must_change_password"] is True
    u = Client(panel.url)
    r = u.login(f"{name}@{D}", tmp.json()["password"], side="mail")
    assert r.status_code == 200 and r.json()["principal"]["must_change_password"] is True
    assert u.get("/me").json()["must_change_password"] is True
    for method, path, body in (("GET", "/me/account", None), ("PATCH", "/me/account", {"spam_tag": True}),
                               ("GET", "/me/forwards", None), ("PUT", "/me/autoreply", {"text": "x"}),
                               ("GET", "/me/aliases", None), ("POST", "/me/purge-mail", None)):
        err(u.call(method, path, json=body), 403, "must_change_password")
    assert root.get(f"{ACC}/{name}").json()["spam_tag"] is False
    r = u.post("/me/password", {"current_password": tmp.json()["password"], "new_password": PW2,
                                "new_password_confirm": PW2})
    assert r.status_code == 204
    assert u.get("/me").json()["must_change_password"] is False
    assert u.get("/me/account").status_code == 200
    # POST /logout is allowed while the gate is up.
    v = Client(panel.url)
    tmp2 = root.post(f"{ACC}/{name}/temporary-password").json()["password"]
    assert v.login(f"{name}@{D}", tmp2, side="mail").status_code == 200
    assert v.post("/logout").status_code in (200, 204)
    err(v.get("/me"), 401, "unauthenticated")


# --- Top-level error codes ----------------------------------------------------------------

def test_unknown_path_404_known_path_405_with_allow(root):
    for path in ("/nope", f"/domains/{D}/nope", f"{ACC}/postmaster/nope"):
        err(root.get(path), 404, "not_found")
    for method, path, allow in (("PUT", "/domains", {"GET", "POST"}),
                                ("PUT", f"{ACC}/postmaster", {"GET", "PATCH", "DELETE"}),
                                ("GET", f"{ACC}/postmaster/unlock", {"POST"}),
                                ("PATCH", f"{ACC}/postmaster/autoreply", {"GET", "PUT", "DELETE"}),
                                ("DELETE", "/me", {"GET"}),
                                ("GET", "/logout", {"POST"})):
        r = root.call(method, path)
        err(r, 405, "method_not_allowed")
        assert {m.strip() for m in r.headers["Allow"].split(",")} == allow, r.headers["Allow"]


def test_broken_json_body_is_400_malformed(root):
    name = uniq("mf")
    for raw in ('{"name": "x"', "[1, 2]", '"a string"'):
        r = root.post(ACC, data=raw.replace("x", name), headers={"Content-Type": "application/json"})
        err(r, 400, "malformed")
    assert root.get(f"{ACC}/{name}").status_code == 404


def test_422_lists_every_broken_rule_and_messages_follow_accept_language(panel):
    msgs = {}
    for lang in ("ja", "en"):
        c = Client(panel.url, lang=lang)
        c.login("root", ADMIN_PW)
        r = c.post(ACC, {"name": "-a", "password": "abc", "quota_mb": 0})
        e = err(r, 422, "invalid")
        got = {(d["field"], d["code"]) for d in e["details"]}
        assert {("name", "bad_edge"), ("password", "too_short"), ("password", "needs_upper"),
                ("password", "needs_digit"), ("password", "needs_symbol")} <= got, got
        assert any(f == "quota_mb" for f, _ in got)
        msgs[lang] = (e["message"], [d["message"] for d in e["details"]])
        # Other top-level codes follow it too.
        msgs[lang + "404"] = err(c.get("/nope"), 404, "not_found")["message"]
    assert msgs["ja"][0] != msgs["en"][0] and msgs["ja404"] != msgs["en404"]
    assert all(any(ord(ch) > 0x3000 for ch in m) for m in msgs["ja"][1])
    assert all(m.isascii() for m in msgs["en"][1])


def test_locked_423_and_throttled_429(panel, db, root):
    clear_failures(db)
    name = uniq("lk")
    create(root, D, name)
    addr = f"{name}@{D}"
    c = Client(panel.url)
    for _ in range(10):
        err(c.login(addr, "Wr0ng#Passw0rd-z", side="mail"), 401, "unauthenticated")
    clear_failures(db)
    err(c.login(addr, PW, side="mail"), 423, "locked")
    assert "locked" in root.get(f"{ACC}/{name}").json()["status"]
    assert root.post(f"{ACC}/{name}/unlock").status_code == 204
    assert "locked" not in root.get(f"{ACC}/{name}").json()["status"]
    assert c.login(addr, PW, side="mail").status_code == 200
    # More than 20 failed sign-ins a minute from one address: 429 to that address.
    clear_failures(db)
    last = None
    for i in range(22):
        last = Client(panel.url).login(f"ghost{i}-{uuid.uuid4().hex[:6]}", "x" * 12)
    err(last, 429, "throttled")
    clear_failures(db)


def test_exists_409_only_after_the_rules_422(root):
    name = uniq("ex")
    create(root, D, name)
    e = err(root.post(ACC, {"name": name, "password": "short"}), 422, "invalid")
    assert ("password", "too_short") in codes_of(e)
    e = err(root.post(ACC, {"name": name.upper(), "password": PW}), 409, "exists")
    assert ("name", "exists") in codes_of(e)
    # An alias name is taken too, and an alias may not take an account's name.
    al = uniq("ea")
    assert root.post(f"{ACC}/{name}/aliases", {"name": al}).status_code == 201
    err(root.post(ACC, {"name": al, "password": PW}), 409, "exists")
    err(root.post(f"{ACC}/{name}/aliases", {"name": "postmaster"}), 409, "exists")
    err(root.post(f"{ACC}/{name}/aliases", {"name": "-bad"}), 422, "invalid")
    # Domains and admins: the same order.
    err(root.post("/domains", {"name": D, "default_quota_mb": 0}), 422, "invalid")
    err(root.post("/domains", {"name": D}), 409, "exists")
    err(root.post("/admins", {"login": "dadmin", "role": "support", "domains": [D], "password": "weak"}),
        422, "invalid")
    err(root.post("/admins", {"login": "dadmin", "role": "support", "domains": [D], "password": PW}),
        409, "exists")


def codes_of(e):
    return [(d["field"], d["code"]) for d in e["details"]]


# --- Order: scope, then role fields ------------------------------------------------------

def test_domain_outside_scope_is_403_whether_or_not_it_exists(dadmin, root, support):
    paths = [("GET", "/domains/{d}/accounts"), ("POST", "/domains/{d}/accounts"),
             ("GET", "/domains/{d}/accounts/postmaster"), ("PATCH", "/domains/{d}/accounts/postmaster"),
             ("DELETE", "/domains/{d}/accounts/postmaster"), ("POST", "/domains/{d}/accounts/delete"),
             ("GET", "/domains/{d}/accounts/postmaster/forwards"),
             ("PUT", "/domains/{d}/accounts/postmaster/autoreply"),
             ("POST", "/domains/{d}/accounts/postmaster/unlock"), ("GET", "/domains/{d}/accounts.csv"),
             ("POST", "/domains/{d}/csv/create"), ("GET", "/domains/{d}/audit"),
             ("GET", "/domains/{d}/catch-all"), ("GET", "/domains/{d}/domain-aliases"),
             ("GET", "/domains/{d}/accounts/postmaster/aliases")]
    for method, p in paths:
        for dom in ("other.test", "absent-" + uuid.uuid4().hex[:6] + ".test"):
            err(dadmin.call(method, p.format(d=dom), json={"name": "zz"}), 403, "forbidden")
        err(root.call(method, p.format(d="absent.test"), json={"name": "zz"}), 404, "not_found")
    err(support.get("/domains/other.test/accounts"), 403, "forbidden")
    err(support.get("/domains/absent.test/accounts"), 403, "forbidden")


def test_a_field_the_role_may_not_set_is_403_before_any_rule(root, panel, dadmin):
    name = uniq("rf")
    create(root, D, name, quota_mb=10, comment="kept")
    u = user_client(panel, f"{name}@{D}")
    for body in ({"quota_mb": 5}, {"comment": "x"}, {"quota_mb": 0, "spam_tag": "bogus"}):
        err(u.patch("/me/account", body), 403, "forbidden")
    a = root.get(f"{ACC}/{name}").json()
    assert a["quota_mb"] == 10 and a["comment"] == "kept"
    r = u.patch("/me/account", {"spam_tag": True, "spam_sort": True, "receive": False})
    assert r.status_code == 200 and (r.json()["spam_tag"], r.json()["spam_sort"], r.json()["receive"]) == \
        (True, True, False)
    # A token never exceeds its creator's rights.
    err(dadmin.post("/tokens", {"label": "x", "role": "superadmin", "domains": []}), 403, "forbidden")
    err(dadmin.post("/tokens", {"label": "x", "role": "domain_admin", "domains": ["other.test"]}),
        403, "forbidden")
    assert all(t["role"] != "superadmin" and t["domains"] == [D] for t in dadmin.get("/tokens").json()["items"])


# --- The JSON API table -------------------------------------------------------------------

def test_accounts_crud_statuses_and_exact_shape(dadmin, db):
    name = uniq("cr")
    r = dadmin.post(ACC, {"name": name.upper(), "password": PW, "quota_mb": 7, "comment": "c"})
    assert r.status_code == 201
    a = r.json()
    assert set(a) == ACCOUNT_KEYS
    assert a == {"name": name, "address": f"{name}@{D}", "quota_mb": 7, "usage_mb": 0, "comment": "c",
                 "spam_tag": False, "spam_sort": False, "receive": True, "autoreply": False,
                 "forward_count": 0, "alias_count": 0, "status": [], "must_change_password": False,
                 "system": False}
    assert dadmin.get(f"{ACC}/{name}").json() == a
    r = dadmin.patch(f"{ACC}/{name}", {"quota_mb": 8, "comment": "d", "spam_tag": True, "spam_sort": True,
                                       "receive": False, "password": PW2})
    assert r.status_code == 200 and set(r.json()) == ACCOUNT_KEYS
    assert (r.json()["quota_mb"], r.json()["comment"], r.json()["spam_tag"], r.json()["receive"]) == \
        (8, "d", True, False)
    assert dadmin.get(f"{ACC}/{name}").json() == r.json()
    listed = dadmin.get(f"{ACC}?q={name}").json()
    assert set(listed) >= {"items", "total"} and listed["total"] == 1 and listed["items"] == [r.json()]
    pm = dadmin.get(f"{ACC}/postmaster").json()
    assert pm["system"] is True and set(pm) == ACCOUNT_KEYS
    r = dadmin.delete(f"{ACC}/{name}")
    assert r.status_code == 204 and r.content == b""
    err(dadmin.get(f"{ACC}/{name}"), 404, "not_found")


def test_bulk_delete_all_or_none_and_postmaster_system_account(dadmin):
    a, b = uniq("bd"), uniq("bd")
    create(dadmin, D, a)
    create(dadmin, D, b)
    e = err(dadmin.delete(f"{ACC}/postmaster"), 422, "invalid")
    assert [d["code"] for d in e["details"]] == ["system_account"]
    e = err(dadmin.post(f"{ACC}/delete", {"names": [a, "postmaster"]}), 422, "invalid")
    assert "system_account" in [d["code"] for d in e["details"]]
    assert dadmin.get(f"{ACC}/{a}").status_code == 200
    r = dadmin.post(f"{ACC}/delete", {"names": [a, b]})
    assert r.status_code == 204 and r.content == b""
    assert dadmin.get(f"{ACC}/{a}").status_code == 404 and dadmin.get(f"{ACC}/{b}").status_code == 404
    assert dadmin.get(f"{ACC}/postmaster").status_code == 200


def test_name_rule_codes(dadmin):
    for bad, code in (("a", "bad_length"), ("a" * 33, "bad_length"), ("ab!c", "bad_char"),
                      ("-abc", "bad_edge"), ("abc.", "bad_edge"), ("ab..cd", "double_dot")):
        e = err(dadmin.post(ACC, {"name": bad, "password": PW}), 422, "invalid")
        assert ("name", code) in codes_of(e), (bad, e)
    for good in ("ab", "a" * 32, "a-b_c.d", "A9"):
        r = dadmin.post(ACC, {"name": good, "password": PW})
        assert r.status_code in (201, 409), r.text
        assert dadmin.get(f"{ACC}/{good.lower()}").status_code == 200


def test_password_rule_codes(dadmin, panel):
    name = "pwrule" + uuid.uuid4().hex[:4]
    cases = {"Ab1#": "too_short", "Ab1#" + "x" * 125: "too_long", "Abcdef1#xyz ": "bad_char",
             "ABCDEF1#XYZW": "needs_lower", "abcdef1#xyzw": "needs_upper", "Abcdefg#xyzw": "needs_digit",
             "Abcdefg1xyzw": "needs_symbol", name.upper() + "#A1b": "contains_name",
             "EXAMPLE.test#1a": "contains_name", "abcD#123456x": "digit_run"}
    for pw, code in cases.items():
        e = err(dadmin.post(ACC, {"name": name, "password": pw}), 422, "invalid")
        assert ("password", code) in codes_of(e), (pw, e)
    assert dadmin.post(ACC, {"name": name, "password": "abcD#12345xy"}).status_code == 201
    u = user_client(panel, f"{name}@{D}", "abcD#12345xy")
    e = err(u.post("/me/password", {"current_password": "Wr0ng#Passw0rd", "new_password": PW,
                                    "new_password_confirm": PW2}), 422, "invalid")
    assert ("current_password", "wrong_password") in codes_of(e)
    assert ("new_password_confirm", "mismatch") in codes_of(e)
    e = err(u.post("/me/password", {"current_password": "abcD#12345xy", "new_password": "abcD#12345xy",
                                    "new_password_confirm": "abcD#12345xy"}), 422, "invalid")
    assert ("new_password", "same_as_current") in codes_of(e)
    # POST /me/password answers 204 / 422: a field left out is a broken rule, not a malformed request.
    e = err(u.post("/me/password", {"current_password": "abcD#12345xy", "new_password": PW}), 422, "invalid")
    assert codes_of(e) == [("new_password_confirm", "required")]
    e = err(u.post("/me/password", {}), 422, "invalid")
    assert {f for f, _ in codes_of(e)} == {"current_password", "new_password", "new_password_confirm"}
    assert Client(panel.url).login(f"{name}@{D}", "abcD#12345xy", side="mail").status_code == 200


def test_wrong_password_counts_as_a_failed_authentication(root, panel, db):
    clear_failures(db)
    name = uniq("wp")
    create(root, D, name)
    u = user_client(panel, f"{name}@{D}")
    for _ in range(10):
        r = u.post("/me/password", {"current_password": "Wr0ng#Passw0rd", "new_password": PW2,
                                    "new_password_confirm": PW2})
        assert ("current_password", "wrong_password") in codes(r)
    assert "locked" in root.get(f"{ACC}/{name}").json()["status"]
    err(Client(panel.url).login(f"{name}@{D}", PW, side="mail"), 423, "locked")
    root.post(f"{ACC}/{name}/unlock")
    u = user_client(panel, f"{name}@{D}")
    for _ in range(10):
        r = u.post("/me/mail-copy", {"password": "Wr0ng#Passw0rd", "source_host": "127.0.0.1",
                                     "source_password": "x", "notify_address": f"{name}@{D}"})
        assert codes_of(err(r, 422, "invalid")) == [("password", "wrong_password")]
    assert "locked" in root.get(f"{ACC}/{name}").json()["status"]
    clear_failures(db)


def test_list_query_rules(root, db):
    dom = "lq" + uuid.uuid4().hex[:6] + ".test"
    assert root.post("/domains", {"name": dom}).status_code == 201
    names = ["zeta", "alpha-one", "Beta.two".lower(), "gamma_3", "delta"] + [f"n{i:03d}" for i in range(120)]
    seed_accounts(db, dom, names)
    base = f"/domains/{dom}/accounts"
    r = root.get(base).json()
    assert r["total"] == 126 and len(r["items"]) == 50
    every = root.get(base + "?per_page=500").json()["items"]
    assert [a["name"] for a in every] == sorted(names + ["postmaster"])
    assert root.get(base + "?page=1&per_page=10").json()["items"] == every[:10]
    assert root.get(base + "?page=2&per_page=10").json()["items"] == every[10:20]
    assert root.get(base + "?page=13&per_page=10").json()["items"] == every[120:]
    assert len(root.get(base + "?per_page=1000").json()["items"]) <= 500
    err(root.get(base + "?page=0"), 422, "invalid")
    # q: part of the name, case-insensitive; `_` and `%` are characters, not patterns.
    assert [a["name"] for a in root.get(base + "?q=ETA").json()["items"]] == ["beta.two", "zeta"]
    assert [a["name"] for a in root.get(base + "?q=_").json()["items"]] == ["gamma_3"]
    assert root.get(base + "?q=%25").json()["total"] == 0
    # status: one of the statuses, or normal.
    db.execute("UPDATE accounts SET compromised = true WHERE name = 'delta' "
               "AND domain_id = (SELECT id FROM domains WHERE name = %s)", (dom,))
    db.execute("UPDATE accounts SET usage_bytes = 101 * 1048576 WHERE name = 'zeta' "
               "AND domain_id = (SELECT id FROM domains WHERE name = %s)", (dom,))
    assert [a["name"] for a in root.get(base + "?status=compromised").json()["items"]] == ["delta"]
    assert [a["name"] for a in root.get(base + "?status=over_quota").json()["items"]] == ["zeta"]
    assert root.get(base + "?status=normal").json()["total"] == 124
    assert root.get(base + "?status=locked").json()["total"] == 0
    err(root.get(base + "?status=bogus"), 422, "invalid")
    assert root.delete(f"/domains/{dom}").status_code == 204


def test_quota_and_usage_in_mb_of_1048576_rounded_up(root, db):
    name = uniq("qu")
    create(root, D, name, quota_mb=1)
    for used, mb, over in ((0, 0, False), (1, 1, False), (1048576, 1, False), (1048577, 2, True)):
        db.execute("UPDATE accounts SET usage_bytes = %s WHERE name = %s", (used, name))
        a = root.get(f"{ACC}/{name}").json()
        assert a["usage_mb"] == mb and ("over_quota" in a["status"]) == over, (used, a)
    for bad in (0, -1, "x"):
        e = err(root.patch(f"{ACC}/{name}", {"quota_mb": bad}), 422, "invalid")
        assert [d["field"] for d in e["details"]] == ["quota_mb"]
    assert root.patch(f"{ACC}/{name}", {"quota_mb": 2}).json()["status"] == []


def test_status_actions_answer_204_with_their_effect(root, db, panel):
    name = uniq("st")
    create(root, D, name)
    r = root.post(f"{ACC}/{name}/compromised")
    assert r.status_code == 204 and r.content == b""
    assert "compromised" in root.get(f"{ACC}/{name}").json()["status"]
    err(Client(panel.url).login(f"{name}@{D}", PW, side="mail"), 401, "unauthenticated")
    db.execute("UPDATE accounts SET send_locked_at = now() WHERE name = %s", (name,))
    assert "send_locked" in root.get(f"{ACC}/{name}").json()["status"]
    r = root.post(f"{ACC}/{name}/release-send-lock")
    assert r.status_code == 204 and "send_locked" not in root.get(f"{ACC}/{name}").json()["status"]
    r = root.post(f"{ACC}/{name}/unlock")
    assert r.status_code == 204


def test_jobs_202_and_job_shape(root, db):
    name = uniq("jb")
    create(root, D, name)
    r = root.post(f"{ACC}/{name}/purge-mail")
    assert r.status_code == 202 and set(r.json()) == {"job"}
    job = r.json()["job"]
    assert {"id", "kind", "state"} <= set(job) and job["kind"] == "purge_mail" and job["state"] == "queued"
    j = root.get(f"/jobs/{job['id']}").json()
    assert {"id", "kind", "state", "done", "total", "errors"} <= set(j) and j["id"] == job["id"]
    # CSV: 202 also when the file has errors; the job fails with every error, nothing written.
    bad = uniq("cv")
    csv = f"mail_account,password,mail_capacity,comment\r\n{bad},short,10,x\r\n{name},{PW},0,y\r\n"
    r = root.post(f"/domains/{D}/csv/create", data=csv.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 202 and {"id", "kind", "state"} <= set(r.json()["job"])
    assert r.json()["job"]["kind"] == "csv_create"
    jid = r.json()["job"]["id"]
    for _ in range(100):
        j = root.get(f"/jobs/{jid}").json()
        if j["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert j["state"] == "failed"
    errs = {(e["line"], e["column"], e["code"]) for e in j["errors"]}
    assert (2, "password", "too_short") in errs and (3, "mail_account", "exists") in errs
    assert (3, "mail_capacity", "bad_quota") in errs or any(e[:2] == (3, "mail_capacity") for e in errs)
    assert all(set(e) >= {"line", "column", "code", "message"} for e in j["errors"])
    assert root.get(f"{ACC}/{bad}").status_code == 404
    err(root.get("/jobs/999999"), 404, "not_found")


def test_forwards_shape_and_rule_codes(root):
    name, other = uniq("fw"), uniq("fw")
    create(root, D, name)
    create(root, D, other)
    base = f"{ACC}/{name}/forwards"
    r = root.post(base, {"condition": "subject", "keyword": "請求書", "addresses": ["b@remote.test", "a@remote.test"]})
    assert r.status_code == 201
    items = root.get(base).json()["items"]
    assert [set(i) for i in items] == [{"id", "condition", "keyword", "addresses"}]
    assert items[0]["addresses"] == ["a@remote.test", "b@remote.test"] and items[0]["keyword"] == "請求書"
    for addrs, code in ((["bad"], "bad_address"), (["-x@remote.test"], "leading_hyphen"),
                        ([f"a{i}@remote.test" for i in range(301)], "too_many")):
        e = err(root.post(base, {"condition": "all", "addresses": addrs}), 422, "invalid")
        assert code in [d["code"] for d in e["details"]]
    assert root.post(f"{ACC}/{other}/forwards", {"condition": "all", "addresses": [f"{name}@{D}"]}).status_code == 201
    e = err(root.post(base, {"condition": "all", "addresses": [f"{other}@{D}"]}), 422, "invalid")
    assert "loop" in [d["code"] for d in e["details"]]
    r = root.delete(f"{base}/{items[0]['id']}")
    assert r.status_code == 204 and root.get(base).json()["items"] == []
    assert root.get(f"{ACC}/{other}").json()["forward_count"] == 1


def test_autoreply_shape_empty_and_dates(root):
    name = uniq("ar")
    create(root, D, name)
    base = f"{ACC}/{name}/autoreply"
    r = root.put(base, {"text": "不在です"})
    assert r.status_code == 200 and r.json() == {"text": "不在です", "start_at": None, "end_at": None, "active": True}
    assert root.get(base).json() == r.json() and root.get(f"{ACC}/{name}").json()["autoreply"] is True
    r = root.put(base, {"text": "later", "start_at": "2099-01-01T00:00:00Z", "end_at": "2099-02-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["start_at"] == "2099-01-01T00:00:00Z"
    assert root.get(f"{ACC}/{name}").json()["autoreply"] is False
    e = err(root.put(base, {"text": ""}), 422, "invalid")
    assert codes_of(e) == [("text", "empty")]
    e = err(root.put(base, {"text": "あ" * 301}), 422, "invalid")
    assert codes_of(e) == [("text", "too_long")]
    assert root.put(base, {"text": "あ" * 300}).status_code == 200
    e = err(root.put(base, {"text": "OK～"}), 422, "invalid")
    assert ("text", "bad_char") in codes_of(e) and "～" in e["details"][0]["message"]
    r = root.delete(base)
    assert r.status_code == 204
    assert root.get(base).json()["text"] == "" and root.get(f"{ACC}/{name}").json()["autoreply"] is False


def test_aliases_catch_all_and_domain_aliases(root, dadmin, support):
    name = uniq("al")
    create(root, D, name)
    al = uniq("aa")
    base = f"{ACC}/{name}/aliases"
    r = dadmin.post(base, {"name": al.upper()})
    assert r.status_code == 201 and r.json() == {"name": al, "address": f"{al}@{D}"}
    assert dadmin.get(base).json() == {"items": [{"name": al, "address": f"{al}@{D}"}]}
    assert support.get(base).json()["items"] == [{"name": al, "address": f"{al}@{D}"}]
    assert root.get(f"{ACC}/{name}").json()["alias_count"] == 1
    assert dadmin.delete(f"{base}/{al}").status_code == 204 and dadmin.get(base).json()["items"] == []
    # Catch-all.
    ca = f"/domains/{D}/catch-all"
    assert dadmin.get(ca).json() == {"account": None}
    r = dadmin.put(ca, {"account": name})
    assert r.status_code == 200 and r.json() == {"account": name}
    assert support.get(ca).json() == {"account": name}
    assert dadmin.delete(ca).status_code == 204 and dadmin.get(ca).json() == {"account": None}
    # Domain aliases: superadmin to change; a domain's name is taken.
    da = f"/domains/{D}/domain-aliases"
    alias_dom = "da" + uuid.uuid4().hex[:6] + ".test"
    err(dadmin.post(da, {"name": alias_dom}), 403, "forbidden")
    assert root.post(da, {"name": alias_dom}).status_code == 201
    assert alias_dom in [i["name"] for i in dadmin.get(da).json()["items"]]
    err(root.post(da, {"name": "other.test"}), 409, "exists")
    err(dadmin.delete(f"{da}/{alias_dom}"), 403, "forbidden")
    assert root.delete(f"{da}/{alias_dom}").status_code == 204
    assert alias_dom not in [i["name"] for i in root.get(da).json()["items"]]


def test_domains_admins_tokens(root, dadmin, support, panel):
    dom = "dm" + uuid.uuid4().hex[:6] + ".test"
    err(dadmin.post("/domains", {"name": dom}), 403, "forbidden")
    r = root.post("/domains", {"name": dom, "default_quota_mb": 33})
    assert r.status_code == 201 and r.json()["name"] == dom and r.json()["default_quota_mb"] == 33
    assert dom in [d["name"] for d in root.get("/domains").json()["items"]]
    assert [d["name"] for d in dadmin.get("/domains").json()["items"]] == [D]
    pm = root.get(f"/domains/{dom}/accounts/postmaster").json()
    assert pm["system"] is True and pm["quota_mb"] == 33
    create(root, dom, "goes")
    err(dadmin.delete(f"/domains/{dom}"), 403, "forbidden")
    assert root.delete(f"/domains/{dom}").status_code == 204
    err(root.get(f"/domains/{dom}/accounts"), 404, "not_found")
    # Admins: superadmin only.
    login = uniq("ad")
    for c in (dadmin, support):
        err(c.get("/admins"), 403, "forbidden")
        err(c.post("/admins", {"login": login, "role": "support", "domains": [D], "password": PW}), 403, "forbidden")
    r = root.post("/admins", {"login": login, "role": "support", "domains": [D], "password": PW})
    assert r.status_code == 201 and r.json()["login"] == login and r.json()["role"] == "support"
    assert login in [a["login"] for a in root.get("/admins").json()["items"]]
    r = root.patch(f"/admins/{login}", {"role": "domain_admin", "domains": [D, "other.test"]})
    assert r.status_code == 200 and r.json()["role"] == "domain_admin" and r.json()["domains"] == [D, "other.test"]
    assert Client(panel.url).login(login, PW).json()["principal"]["domains"] == [D, "other.test"]
    assert root.delete(f"/admins/{login}").status_code == 204
    err(root.get(f"/admins/{login}"), 404, "not_found")
    # Tokens: 201 {id, token}, shown once.
    r = dadmin.post("/tokens", {"label": "ci", "role": "support", "domains": [D]})
    assert r.status_code == 201 and {"id", "token"} <= set(r.json())
    tok = r.json()
    listed = [t for t in dadmin.get("/tokens").json()["items"] if t["id"] == tok["id"]]
    assert len(listed) == 1 and tok["token"] not in str(listed)
    bearer = {"Authorization": "Bearer " + tok["token"]}
    assert requests.get(f"{panel.url}/api/v1{ACC}", headers=bearer).status_code == 200
    assert requests.post(f"{panel.url}/api/v1{ACC}", json={"name": uniq(), "password": PW},
                         headers=bearer).status_code == 403
    assert dadmin.delete(f"/tokens/{tok['id']}").status_code == 204
    err(requests.get(f"{panel.url}/api/v1{ACC}", headers=bearer), 401, "unauthenticated")


def test_audit_shape_and_actor(root, panel):
    name = uniq("au")
    create(root, D, name)
    u = user_client(panel, f"{name}@{D}")
    assert u.patch("/me/account", {"spam_tag": True}).status_code == 200
    items = root.get(f"/domains/{D}/audit").json()["items"]
    assert items and all(set(i) >= {"at", "actor", "action", "target", "remote_addr"} for i in items)
    actors = {i["actor"] for i in items}
    assert "root" in actors and f"{name}@{D}" in actors
    assert all(i["at"].endswith("Z") and "T" in i["at"] for i in items)


def test_me_side_same_shapes(root, panel):
    name = uniq("me")
    create(root, D, name)
    u = user_client(panel, f"{name}@{D}")
    a = u.get("/me/account").json()
    assert set(a) == ACCOUNT_KEYS and a["address"] == f"{name}@{D}"
    r = u.post("/me/forwards", {"condition": "all", "addresses": ["x@remote.test"]})
    assert r.status_code == 201
    items = u.get("/me/forwards").json()["items"]
    assert [set(i) for i in items] == [{"id", "condition", "keyword", "addresses"}]
    assert u.delete(f"/me/forwards/{items[0]['id']}").status_code == 204
    r = u.put("/me/autoreply", {"text": "out"})
    assert r.status_code == 200 and set(r.json()) == {"text", "start_at", "end_at", "active"}
    assert u.delete("/me/autoreply").status_code == 204
    root.post(f"{ACC}/{name}/aliases", {"name": name + "x"})
    assert u.get("/me/aliases").json() == {"items": [{"name": name + "x", "address": f"{name}x@{D}"}]}
    err(u.post("/me/aliases", {"name": "zz" + name}), 405, "method_not_allowed")
    r = u.post("/me/purge-mail")
    assert r.status_code == 202 and r.json()["job"]["kind"] == "purge_mail"
    r = u.post("/me/mail-copy", {"password": PW, "source_host": "127.0.0.1", "source_password": "x",
                                 "notify_address": f"{name}@{D}"})
    assert r.status_code == 202 and r.json()["job"]["kind"] == "mail_copy"
    # Another account's resources stay out of reach.
    err(u.get(f"{ACC}/postmaster"), 403, "forbidden")


# --- Browser panels -----------------------------------------------------------------------

def test_pages_sit_at_the_api_path_with_nosniff_and_csp(root, panel):
    name = uniq("pg")
    create(root, D, name)
    b = Browser(panel.url)
    assert b.login("admin", "root", ADMIN_PW).status_code == 303
    for path in (f"/admin/domains/{D}/accounts", f"/admin/domains/{D}/accounts/{name}",
                 f"/admin/domains/{D}/accounts/{name}/forwards", "/admin/domains", "/admin/admins"):
        r = b.get(path, follow=False)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src" in r.headers["Content-Security-Policy"]
    assert name in b.get(f"/admin/domains/{D}/accounts").text
    # Support signs in at /admin/login too and lands on the support console.
    sb = Browser(panel.url)
    r = sb.login("admin", "support1", ADMIN_PW)
    assert r.status_code == 303
    r = sb.get(r.headers["Location"])
    assert r.status_code == 200 and r.url.endswith("/admin/support")
    m = Browser(panel.url)
    assert m.login("mail", f"{name}@{D}", PW).status_code == 303
    for path in ("/mail/account", "/mail/forwards", "/mail/autoreply", "/mail/aliases"):
        r = m.get(path, follow=False)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), path
        assert "default-src" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert f"{name}@{D}" in m.get("/mail/account").text
    # Every answer carries nosniff: JSON, errors, 204, CSV, static files, a 404 page.
    for r in (root.get(ACC), root.get("/nope"), root.call("PUT", "/domains"), root.post(f"{ACC}/{name}/unlock"),
              root.get(f"/domains/{D}/accounts.csv"), requests.get(panel.url + "/static/yubin.css"),
              requests.get(panel.url + "/no/such/page"), requests.get(panel.url + "/api/v1/me")):
        assert r.headers.get("X-Content-Type-Options") == "nosniff", (r.url, r.status_code)


def test_successful_form_posts_answer_303_to_a_page(root, panel):
    b = Browser(panel.url)
    b.login("admin", "root", ADMIN_PW)
    b.get(f"/admin/domains/{D}/new-account")
    name = uniq("fp")
    r = b.post(f"/admin/domains/{D}/accounts", {"name": name, "password": PW, "quota_mb": "5"})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/admin/domains/{D}/accounts/{name}")
    assert root.get(f"{ACC}/{name}").json()["quota_mb"] == 5
    b.get(f"/admin/domains/{D}/accounts/{name}")
    r = b.post(f"/admin/domains/{D}/accounts/{name}", {"_method": "PATCH", "comment": "from a form"})
    assert r.status_code == 303 and root.get(f"{ACC}/{name}").json()["comment"] == "from a form"
    # The admins pages redirect inside /admin (not to /admins: a path outside the panel).
    b.get("/admin/admins")
    login = uniq("fa")
    r = b.post("/admin/admins", {"login": login, "role": "support", "domains": D, "password": PW})
    assert r.status_code == 303 and r.headers["Location"].startswith("/admin/admins"), r.headers.get("Location")
    assert b.get(r.headers["Location"]).status_code == 200
    b.get(f"/admin/admins/{login}")
    r = b.post(f"/admin/admins/{login}", {"_method": "PATCH", "role": "", "domains": "", "password": ""})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/admin/admins/{login}")
    b.get(f"/admin/admins/{login}/delete")
    r = b.post(f"/admin/admins/{login}", {"_method": "DELETE"})
    assert r.status_code == 303 and r.headers["Location"].startswith("/admin/admins")
    assert root.get(f"/admins/{login}").status_code == 404
    # The user's side.
    m = Browser(panel.url)
    m.login("mail", f"{name}@{D}", PW)
    m.get("/mail/account")
    r = m.post("/mail/account", {"_method": "PATCH", "spam_sort": "1"})
    assert r.status_code == 303 and r.headers["Location"].startswith("/mail/account")
    assert root.get(f"{ACC}/{name}").json()["spam_sort"] is True


def test_json_at_a_page_path_gets_json(root, panel):
    """One route table serves both: Accept: text/html or a form POST gets the page, JSON gets JSON."""
    s = root.s
    r = s.get(f"{panel.url}/admin/domains/{D}/accounts", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert r.json() == root.get(ACC).json()
    r = s.get(f"{panel.url}/admin/domains/{D}/accounts", headers={"Accept": "text/html"})
    assert r.headers["Content-Type"].startswith("text/html")
    name = uniq("jp")
    r = s.post(f"{panel.url}/admin/domains/{D}/accounts", json={"name": name, "password": PW},
               headers={"X-CSRF-Token": root.csrf}, allow_redirects=False)
    assert r.status_code == 201 and set(r.json()) == ACCOUNT_KEYS and r.json()["name"] == name
    r = s.get(f"{panel.url}/admin/nope", headers={"Accept": "application/json"})
    err(r, 404, "not_found")
    u = user_client(panel, f"{name}@{D}")
    r = u.s.get(f"{panel.url}/mail/account", headers={"Accept": "application/json"})
    assert r.status_code == 200 and set(r.json()) == ACCOUNT_KEYS
    r = requests.post(f"{panel.url}/admin/login", json={"username": "root", "password": ADMIN_PW})
    assert r.status_code == 200 and set(r.json()) == {"csrf_token", "principal"}
    err(requests.get(f"{panel.url}/mail/account", headers={"Accept": "application/json"}), 401, "unauthenticated")
