# tests/integration/aliases_util.py: helpers of the alias suites: accounts made through SQL
# (with a real password set by yubinctl), signed-in users, LISTEN on the change feed.
import select
import time

import psycopg2

from conftest import Client

USER_PW = "Us3r#Passw0rd-x"


def make_account(db, domain, name, password=None, quota_mb=100):
    """Insert account name@domain; with a password, set it through yubinctl (Argon2id)."""
    db.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
               "SELECT id, %s, '!', %s FROM domains WHERE name = %s", (name, quota_mb, domain))
    if password is not None:
        db.ctl("account", "set-password", f"{name}@{domain}", "--password-stdin", stdin=password + "\n")


def user_client(panel, address, password=USER_PW, lang="en"):
    c = Client(panel.url, lang=lang)
    r = c.login(address, password, side="mail")
    assert r.status_code == 200, r.text
    return c


class Listener:
    """LISTEN yubin_config on its own connection; collect() answers the payloads seen."""

    def __init__(self, db):
        self.conn = psycopg2.connect(db.dsn)
        self.conn.autocommit = True
        self.conn.cursor().execute("LISTEN yubin_config")

    def collect(self, wait=1.0):
        end = time.time() + wait
        seen = []
        while time.time() < end:
            if select.select([self.conn], [], [], max(0.0, end - time.time())) != ([], [], []):
                self.conn.poll()
                while self.conn.notifies:
                    seen.append(self.conn.notifies.pop(0).payload)
        return seen

    def close(self):
        self.conn.close()
