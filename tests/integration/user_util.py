# tests/integration/user_util.py: helpers for the user-panel, support, TOTP and mail-settings suites:
# accounts made without the accounts API (SQL row + yubinctl set-password), signed-in clients,
# HTML form posts with the page's CSRF token, RFC 6238 codes computed here.
import base64
import hashlib
import hmac
import re
import struct
import time

from conftest import Client

USER_PW = "Us3r#Passw0rd-x"
OTHER_PW = "0ther#Passw0rd-y"


def make_user(db, name, domain="example.test", password=USER_PW, quota_mb=100):
    """An account row with a real Argon2id hash set by the CLI; answers the address."""
    db.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
               "SELECT id, %s, 'x', %s FROM domains WHERE name = %s", (name, quota_mb, domain))
    addr = f"{name}@{domain}"
    db.ctl("account", "set-password", addr, "--password-stdin", stdin=password + "\n")
    return addr


def user(panel, address, password=USER_PW, lang="en"):
    c = Client(panel.url, lang=lang)
    r = c.login(address, password, side="mail")
    assert r.status_code == 200, r.text
    return c


def clear_throttle(db):
    db.execute("DELETE FROM ip_failures")


class Browser:
    """A form-posting client that behaves like a browser without JavaScript: Accept text/html,
    cookies, the csrf_token field taken from the last page."""

    def __init__(self, base, lang="en"):
        import requests
        self.base = base
        self.s = requests.Session()
        self.s.headers["Accept"] = "text/html"
        self.s.headers["Accept-Language"] = lang
        self.last = None

    def get(self, path, **kw):
        self.last = self.s.get(self.base + path, allow_redirects=kw.pop("follow", True), **kw)
        return self.last

    def csrf(self):
        m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', self.last.text if self.last is not None else "")
        return m.group(1) if m else None

    def post(self, path, data, follow=False, csrf=True):
        d = dict(data)
        if csrf and "csrf_token" not in d and self.csrf():
            d["csrf_token"] = self.csrf()
        r = self.s.post(self.base + path, data=d, allow_redirects=follow,
                        headers={"Origin": self.base})
        self.last = r
        return r

    def login(self, side, username, password):
        self.get(f"/{side}/login")
        r = self.post(f"/{side}/login", {"username": username, "password": password})
        return r


def totp(secret_b32, at=None, step=30, digits=6):
    """RFC 6238 TOTP with HMAC-SHA1 (RFC 4226 dynamic truncation)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8), casefold=True)
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return str(code).zfill(digits)
