# tests/integration/fwd_util.py: helpers for the forwards and autoreply suites: accounts made
# with SQL and a real hash from yubinctl, user clients, pages fetched and forms posted as a
# browser without JavaScript does, NOTIFYs caught on yubin_config.
import re
import select

import psycopg2
import requests

from conftest import Client

USER_PW = "Us3r#Fwd-Passw0rd"


def make_account(db, name, domain="example.test", password=None, receive=True):
    """An account row; with a password it can sign in (hash set by the CLI). Answers the address."""
    db.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb, receive) "
               "SELECT id, %s, 'x', 100, %s FROM domains WHERE name = %s", (name, receive, domain))
    addr = f"{name}@{domain}"
    if password is not None:
        db.ctl("account", "set-password", addr, "--password-stdin", stdin=password + "\n")
    return addr


def user_client(panel, db, address, password=USER_PW, lang="en"):
    db.execute("DELETE FROM ip_failures")
    c = Client(panel.url, lang=lang)
    r = c.login(address, password, side="mail")
    assert r.status_code == 200, r.text
    return c


def account_id(db, address):
    name, domain = address.split("@")
    return db.query("SELECT a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = %s AND a.name = %s", (domain, name))[0][0]


def detail_codes(r):
    return [(d["field"], d["code"]) for d in r.json()["error"]["details"]]


class Page:
    """A cookie session that asks for pages and posts forms with the page's CSRF token."""

    def __init__(self, base, lang="en"):
        self.base = base
        self.s = requests.Session()
        self.s.headers["Accept"] = "text/html"
        self.s.headers["Accept-Language"] = lang
        self.last = None

    def get(self, path):
        self.last = self.s.get(self.base + path, allow_redirects=False)
        return self.last

    def csrf(self):
        m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', self.last.text if self.last is not None else "")
        return m.group(1) if m else None

    def post(self, path, data):
        d = list(data.items()) if isinstance(data, dict) else list(data)
        if self.csrf() and not any(k == "csrf_token" for k, _ in d):
            d.append(("csrf_token", self.csrf()))
        self.last = self.s.post(self.base + path, data=d, allow_redirects=False,
                                headers={"Origin": self.base})
        return self.last

    def login(self, side, username, password):
        self.get(f"/{side}/login")
        r = self.post(f"/{side}/login", {"username": username, "password": password})
        assert r.status_code == 303, r.text
        return r


class Listener:
    """LISTEN yubin_config on its own connection; notifies() answers the payloads seen."""

    def __init__(self, db):
        self.c = psycopg2.connect(db.dsn)
        self.c.autocommit = True
        self.c.cursor().execute("LISTEN yubin_config")

    def notifies(self, timeout=2.0):
        out = []
        if select.select([self.c], [], [], timeout)[0]:
            self.c.poll()
        self.c.poll()
        while self.c.notifies:
            out.append(self.c.notifies.pop(0).payload)
        return out

    def close(self):
        self.c.close()
