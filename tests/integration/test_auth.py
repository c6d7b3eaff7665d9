# tests/integration/test_auth.py: sign-in, sessions, CSRF, lockout, throttle, /me, own password.
import requests

from conftest import ADMIN_PW, Client


def test_login_answers_principal_and_sets_cookie(client):
    r = client.login("root", ADMIN_PW)
    assert r.status_code == 200
    body = r.json()
    assert body["principal"] == {"login": "root", "role": "superadmin", "domains": [],
                                 "must_change_password": False}
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite" in cookie and "Path=/" in cookie
    assert client.get("/me").json()["login"] == "root"


def test_domain_admin_principal_lists_domains(client):
    r = client.login("dadmin", ADMIN_PW)
    assert r.json()["principal"]["domains"] == ["example.test"]
    assert r.json()["principal"]["role"] == "domain_admin"


def test_wrong_password_is_401_with_error_shape(client):
    r = client.login("root", "wrong-password")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_me_needs_session(client):
    r = client.get("/me")
    assert r.status_code == 401


def test_state_change_needs_csrf(root):
    token = root.csrf
    root.csrf = None
    r = root.post("/logout")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    r = root.post("/logout", headers={"X-CSRF-Token": "nope"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    root.csrf = token
    assert root.post("/logout").status_code == 204
    assert root.get("/me").status_code == 401


def test_cross_site_login_refused(client):
    r = client.post("/admin/login", {"username": "root", "password": ADMIN_PW},
                    headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


def test_unknown_path_404_and_wrong_method_405(client):
    assert client.get("/no/such/thing").status_code == 404
    r = client.call("PUT", "/me")
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_lockout_after_ten_failures_even_for_unknown_login(panel, db):
    db.execute("DELETE FROM ip_failures")
    c = Client(panel.url)
    for login in ("dadmin", "nobody-at-all"):
        for i in range(10):
            # From different client addresses is not possible here; the per-address
            # throttle allows 20 a minute, so two logins x 10 stay under it.
            assert c.login(login, "bad-password-%d" % i).status_code == 401
        assert c.login(login, ADMIN_PW).status_code == 423
    # Another login is not affected (once the per-address throttle has been reset).
    db.execute("DELETE FROM ip_failures")
    assert c.login("root", ADMIN_PW).status_code == 200
    # Unlocking (through the counters' reset) lets the right password in again.
    db.execute("DELETE FROM auth_failures WHERE login = 'dadmin'")
    assert Client(panel.url).login("dadmin", ADMIN_PW).status_code == 200
    db.execute("DELETE FROM ip_failures")


def test_throttle_per_address(panel, db):
    db.execute("DELETE FROM ip_failures")
    c = Client(panel.url)
    codes = [c.login("user%d" % i, "bad").status_code for i in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429
    db.execute("DELETE FROM ip_failures")
    db.execute("DELETE FROM auth_failures")


def test_own_password_change_rules_and_success(panel, db):
    db.ctl("admin", "add", "pwchanger", "--role", "support", "--domain", "example.test",
           "--password-stdin", stdin=ADMIN_PW + "\n")
    c = Client(panel.url, lang="ja")
    assert c.login("pwchanger", ADMIN_PW).status_code == 200
    r = c.post("/me/password", {"current_password": "wrong", "new_password": "short",
                                "new_password_confirm": "other"})
    assert r.status_code == 422
    codes = {(d["field"], d["code"]) for d in r.json()["error"]["details"]}
    assert ("current_password", "wrong_password") in codes
    assert ("new_password", "too_short") in codes
    assert ("new_password_confirm", "mismatch") in codes
    assert all(d["message"] for d in r.json()["error"]["details"])
    r = c.post("/me/password", {"current_password": ADMIN_PW, "new_password": ADMIN_PW,
                                "new_password_confirm": ADMIN_PW})
    assert r.status_code == 422
    assert "same_as_current" in {d["code"] for d in r.json()["error"]["details"]}
    new = "N3w#Password-ok"
    r = c.post("/me/password", {"current_password": ADMIN_PW, "new_password": new,
                                "new_password_confirm": new})
    assert r.status_code == 204
    assert Client(panel.url).login("pwchanger", new).status_code == 200
    db.execute("DELETE FROM auth_failures")


def test_html_login_form_and_redirects(panel):
    s = requests.Session()
    r = s.get(panel.url + "/admin/login", headers={"Accept-Language": "ja"})
    assert r.status_code == 200 and "管理者" in r.text
    assert "default-src" in r.headers["Content-Security-Policy"]
    r = s.post(panel.url + "/admin/login", data={"username": "root", "password": ADMIN_PW},
               allow_redirects=False)
    assert r.status_code == 303
    r = s.get(panel.url + "/admin/", allow_redirects=False)
    assert r.status_code == 303
    r = requests.get(panel.url + "/admin/", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login"
