# tests/integration/accounts_util.py: helpers for the account, domain, admin and authorization suites.
import select
import time
import uuid

import psycopg2

from conftest import Client

# Passes SPEC §2's policy for any account name used in these suites.
PW = "Str0ng#Passw0rd-x"
PW2 = "An0ther!Secret-y"
ACCOUNT_KEYS = {"name", "address", "quota_mb", "usage_mb", "comment", "spam_tag", "spam_sort",
                "receive", "autoreply", "forward_count", "alias_count", "status",
                "must_change_password", "system"}


def uniq(prefix="u"):
    """A fresh valid account name."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def create(c, domain, name, password=PW, **kw):
    body = {"name": name, "password": password}
    body.update(kw)
    r = c.post(f"/domains/{domain}/accounts", body)
    assert r.status_code == 201, r.text
    return r.json()


def user_client(panel, address, password=PW):
    u = Client(panel.url)
    r = u.login(address, password, side="mail")
    assert r.status_code == 200, r.text
    return u


def codes(r):
    """(field, code) pairs of an error answer."""
    return [(d["field"], d["code"]) for d in r.json()["error"]["details"]]


def seed_accounts(db, domain, names, hash_from="postmaster"):
    """Insert accounts straight into the database (no Argon2 work per account: TESTING.md)."""
    db.execute(
        "INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
        "SELECT d.id, n, (SELECT a.password_hash FROM accounts a WHERE a.domain_id = d.id AND a.name = %s), 100 "
        "FROM domains d, unnest(%s::text[]) AS n WHERE d.name = %s",
        (hash_from, list(names), domain))


class Listener:
    """LISTEN yubin_config on its own connection; wait() for a NOTIFY naming a domain."""

    def __init__(self, db):
        self.conn = psycopg2.connect(db.dsn)
        self.conn.autocommit = True
        self.conn.cursor().execute("LISTEN yubin_config")

    def drain(self):
        self.conn.poll()
        self.conn.notifies.clear()

    def wait(self, domain, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            self.conn.poll()
            while self.conn.notifies:
                n = self.conn.notifies.pop(0)
                if n.payload == domain:
                    return True
            select.select([self.conn], [], [], 0.2)
        return False

    def close(self):
        self.conn.close()
