# tests/integration/test_totp.py: two-factor sign-in for admin logins (TOTP, RFC 6238): enrolment with
# QR code and secret, recovery codes stored hashed and shown once, the pending login step, replay and
# lockout, disabling; codes computed here with hmac/hashlib against a movable test clock.
import base64
import hashlib
import os
import re
import tempfile
import time
import urllib.parse

import pytest

from conftest import ADMIN_PW, Client, Panel
from user_util import Browser, clear_throttle, make_user, totp, user


class Clock:
    """The panel's test clock (YUBIN_TEST_CLOCK_FILE holds an offset in seconds)."""

    def __init__(self):
        fd, self.path = tempfile.mkstemp(prefix="yubin-clock-")
        os.close(fd)
        self.offset = 0
        self(0)

    def __call__(self, seconds):
        self.offset += seconds
        with open(self.path, "w") as f:
            f.write(str(self.offset))

    def now(self):
        return time.time() + self.offset


@pytest.fixture(scope="module")
def clock():
    c = Clock()
    yield c
    os.unlink(c.path)


@pytest.fixture(scope="module")
def panel(db, clock):
    p = Panel(db, env={"YUBIN_TEST_CLOCK_FILE": clock.path})
    yield p
    p.stop()


def pw_login(c, login):
    """The password step alone (Client.login expects a complete sign-in)."""
    return c.post("/admin/login", {"username": login, "password": ADMIN_PW})


_n = [0]


def new_admin(db, role="superadmin", domain=None):
    _n[0] += 1
    login = f"tfa{_n[0]}"
    args = ["admin", "add", login, "--role", role]
    if domain:
        args += ["--domain", domain]
    db.ctl(*args, "--password-stdin", stdin=ADMIN_PW + "\n")
    return login


def step_code(secret, clock, steps_ahead=0):
    return totp(secret, at=clock.now() + 30 * steps_ahead)


def enrol(panel, login, clock):
    c = Client(panel.url)
    assert c.login(login, ADMIN_PW).status_code == 200
    r = c.post("/me/totp/setup")
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    r = c.post("/me/totp/confirm", {"code": step_code(secret, clock)})
    assert r.status_code == 200, r.text
    return c, secret, r.json()["recovery_codes"]


def test_enrolment_qr_secret_and_codes(panel, db, clock):
    login = new_admin(db)
    c = Client(panel.url)
    assert c.login(login, ADMIN_PW).status_code == 200
    assert c.get("/me/totp").json() == {"enabled": False, "pending": False, "recovery_codes_left": 0,
                                        "show_status": True}
    r = c.post("/me/totp/setup")
    assert r.status_code == 200
    j = r.json()
    secret = j["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)          # 160 bits in base32
    u = urllib.parse.urlparse(j["otpauth_uri"])
    assert u.scheme == "otpauth" and u.netloc == "totp"
    q = urllib.parse.parse_qs(u.query)
    assert q["secret"] == [secret] and q["digits"] == ["6"] and q["period"] == ["30"]
    assert urllib.parse.unquote(u.path) == f"/yubin:{login}"
    assert j["qr"].startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(j["qr"].split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and svg.count("h1v1h-1z") > 100   # a real QR matrix
    # Not on yet; a wrong code does not turn it on.
    assert db.query("SELECT totp_enabled, totp_secret FROM admins WHERE login = %s", (login,)) == [(False, secret)]
    r = c.post("/me/totp/confirm", {"code": "000000" if step_code(secret, clock) != "000000" else "111111"})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "code"
    assert r.json()["error"]["details"][0]["code"] == "wrong_code"
    r = c.post("/me/totp/confirm", {"code": step_code(secret, clock)})
    assert r.status_code == 200
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", x) for x in codes)
    # Stored only as SHA-256 of the normalised code.
    rows = db.query("SELECT code_hash FROM admin_recovery_codes r JOIN admins a ON a.id = r.admin_id "
                    "WHERE a.login = %s", (login,))
    assert sorted(h for (h,) in rows) == sorted(hashlib.sha256(x.replace("-", "").encode()).hexdigest()
                                                for x in codes)
    assert c.get("/me/totp").json()["enabled"] is True
    assert c.get("/me/totp").json()["recovery_codes_left"] == 10
    # Enabled: a second setup is refused rather than replacing the secret.
    assert c.post("/me/totp/setup").status_code == 409
    actions = [a for (a,) in db.query("SELECT action FROM audit_log WHERE actor = %s", (login,))]
    assert "totp_enable" in actions
    clock(30)


def test_login_needs_the_code(panel, db, clock):
    login = new_admin(db)
    _, secret, _ = enrol(panel, login, clock)
    c = Client(panel.url)
    r = pw_login(c, login)
    assert r.status_code == 200
    assert r.json() == {"totp_required": True}
    assert "yubin_session=" in r.headers["Set-Cookie"]
    # The pending session is not a signed-in one.
    assert c.get("/me").status_code == 401
    assert c.get("/me/totp").status_code == 401
    assert db.query("SELECT count(*) FROM sessions s JOIN admins a ON a.id = s.admin_id "
                    "WHERE a.login = %s AND s.totp_pending", (login,)) == [(1,)]
    bad = "123456" if step_code(secret, clock) != "123456" else "654321"
    r = c.post("/admin/login/totp", {"code": bad})
    assert r.status_code == 401 and r.json()["error"]["details"][0]["code"] == "wrong_code"
    # The code that confirmed the enrolment may sign in once (it proved the app, not a login).
    good = step_code(secret, clock)
    r = c.post("/admin/login/totp", {"code": good})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["principal"]["login"] == login and body["csrf_token"]
    c.csrf = body["csrf_token"]
    assert c.get("/me").json()["login"] == login
    # The pending session was replaced, not promoted.
    assert db.query("SELECT count(*) FROM sessions s JOIN admins a ON a.id = s.admin_id "
                    "WHERE a.login = %s AND s.totp_pending", (login,)) == [(0,)]
    # The same code again is a replay, even within its window.
    c2 = Client(panel.url)
    assert pw_login(c2, login).json() == {"totp_required": True}
    assert c2.post("/admin/login/totp", {"code": good}).status_code == 401
    # Without a pending session the step answers 401.
    assert Client(panel.url).post("/admin/login/totp", {"code": good}).status_code == 401
    details = db.query("SELECT details->>'second_factor' FROM audit_log WHERE actor = %s AND action = 'login'",
                       (login,))
    assert ("totp",) in details
    clear_throttle(db)
    clock(30)


def test_recovery_code_works_once(panel, db, clock):
    login = new_admin(db)
    _, secret, codes = enrol(panel, login, clock)
    c = Client(panel.url)
    assert pw_login(c, login).json() == {"totp_required": True}
    r = c.post("/admin/login/totp", {"code": codes[3].upper()})   # typed in capitals: still the code
    assert r.status_code == 200
    c2 = Client(panel.url)
    pw_login(c2, login)
    assert c2.post("/admin/login/totp", {"code": codes[3]}).status_code == 401
    c.csrf = r.json()["csrf_token"]
    assert c.get("/me/totp").json()["recovery_codes_left"] == 9
    # New codes replace the old ones (password re-entered).
    assert c.post("/me/totp/recovery-codes", {"password": "nope"}).status_code == 422
    r = c.post("/me/totp/recovery-codes", {"password": ADMIN_PW})
    assert r.status_code == 200 and len(r.json()["recovery_codes"]) == 10
    c3 = Client(panel.url)
    pw_login(c3, login)
    assert c3.post("/admin/login/totp", {"code": codes[4]}).status_code == 401
    clear_throttle(db)


def test_wrong_codes_lock_the_login(panel, db, clock):
    login = new_admin(db)
    _, secret, _ = enrol(panel, login, clock)
    c = Client(panel.url)
    assert pw_login(c, login).json() == {"totp_required": True}
    good = step_code(secret, clock)
    for i in range(10):
        bad = "%06d" % ((int(good) + 1 + i) % 1000000)
        assert c.post("/admin/login/totp", {"code": bad}).status_code == 401
    # Locked: the right code is refused too, and so is the password.
    assert c.post("/admin/login/totp", {"code": good}).status_code == 423
    assert pw_login(Client(panel.url), login).status_code == 423
    db.execute("DELETE FROM auth_failures WHERE login = %s", (login,))
    clear_throttle(db)
    clock(30)


def test_disable(panel, db, clock):
    login = new_admin(db, role="support", domain="example.test")
    c, secret, _ = enrol(panel, login, clock)
    r = c.post("/me/totp/disable", {"password": "Wrong#Passw0rd1"})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0] == {**r.json()["error"]["details"][0], "field": "password",
                                               "code": "wrong_password"}
    # wrong_password counts as a failed authentication (CONTRACT).
    assert db.query("SELECT failures FROM auth_failures WHERE login = %s", (login,)) == [(1,)]
    assert c.post("/me/totp/disable", {"password": ADMIN_PW}).status_code == 200
    assert db.query("SELECT totp_enabled, totp_secret FROM admins WHERE login = %s", (login,)) == [(False, None)]
    assert db.query("SELECT count(*) FROM admin_recovery_codes r JOIN admins a ON a.id = r.admin_id "
                    "WHERE a.login = %s", (login,)) == [(0,)]
    r = Client(panel.url).login(login, ADMIN_PW)
    assert r.status_code == 200 and r.json()["principal"]["role"] == "support"
    actions = [a for (a,) in db.query("SELECT action FROM audit_log WHERE actor = %s", (login,))]
    assert "totp_disable" in actions
    clear_throttle(db)


def test_users_and_tokens_have_no_totp(panel, db):
    addr = make_user(db, "totpuser")
    u = user(panel, addr)
    assert u.get("/me/totp").status_code == 403
    assert u.post("/me/totp/setup").status_code == 403


def test_pages_without_javascript(panel, db, clock):
    login = new_admin(db)
    b = Browser(panel.url)
    assert b.login("admin", login, ADMIN_PW).status_code == 303
    r = b.get("/admin/me/totp")
    assert r.status_code == 200 and 'action="/admin/me/totp/setup"' in r.text
    r = b.post("/admin/me/totp/setup", {})
    assert r.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', r.text).group(1)
    assert '<img id="totp-qr" src="data:image/svg+xml;base64,' in r.text
    # A wrong code shows the same QR code again with the error next to the field.
    r = b.post("/admin/me/totp/confirm", {"code": "000000" if step_code(secret, clock) != "000000" else "111111"})
    assert r.status_code == 422 and secret in r.text and "field-error" in r.text
    r = b.post("/admin/me/totp/confirm", {"code": step_code(secret, clock)})
    assert r.status_code == 200 and r.text.count("<li><code>") == 10
    clock(30)
    # Signing in on the page goes on to the code form.
    b2 = Browser(panel.url)
    r = b2.login("admin", login, ADMIN_PW)
    assert r.status_code == 303 and r.headers["Location"] == "/admin/login/totp"
    assert b2.get("/admin/").url.endswith("/admin/login")          # not signed in yet
    r = b2.get("/admin/login/totp")
    assert r.status_code == 200 and 'name="code"' in r.text
    r = b2.post("/admin/login/totp", {"code": "000000" if step_code(secret, clock) != "000000" else "111111"})
    assert r.status_code == 401 and 'name="code"' in r.text
    r = b2.post("/admin/login/totp", {"code": step_code(secret, clock)})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/"
    r = b2.get("/admin/me/totp")
    assert r.status_code == 200 and 'id="totp-state"' in r.text and 'action="/admin/me/totp/disable"' in r.text
    r = b2.post("/admin/me/totp/disable", {"password": ADMIN_PW})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/me/totp?done=totp_disabled"
    clear_throttle(db)


def test_superadmin_resets_a_lost_second_factor(panel, db, clock, root, dadmin):
    login = new_admin(db, role="domain_admin", domain="example.test")
    enrol(panel, login, clock)
    assert dadmin.delete(f"/admins/{login}/totp").status_code == 403
    assert root.delete("/admins/nobody-such/totp").status_code == 404
    assert root.delete(f"/admins/{login}/totp").status_code == 204
    assert db.query("SELECT totp_enabled, totp_secret FROM admins WHERE login = %s", (login,)) == [(False, None)]
    r = Client(panel.url).login(login, ADMIN_PW)
    assert r.status_code == 200 and r.json()["principal"]["login"] == login
    assert db.query("SELECT actor FROM audit_log WHERE action = 'totp_reset' AND target = %s", (login,)) == [("root",)]
    clear_throttle(db)
