# tests/integration/conftest.py: fixtures for suites against a real PostgreSQL and the real
# programs: a database per module (from the migrated template), a panel on a free port.
import os
import signal
import socket
import subprocess
import time
import uuid

import psycopg2
import pytest
import requests

BUILD = os.environ.get("YUBIN_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
SRC = os.environ.get("YUBIN_SRC", os.path.join(os.path.dirname(__file__), "../.."))
PGHOST = os.environ.get("YUBIN_TEST_PGHOST", "127.0.0.1")
PGPORT = os.environ.get("YUBIN_TEST_PGPORT", "5432")
ADMIN_PW = "Adm1n#Secret-pw"


def conninfo(dbname):
    return f"host={PGHOST} port={PGPORT} user=postgres dbname={dbname}"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_ports(n):
    """n different free ports: all held at once while they are picked, since free_port()
    called twice in a row may answer the same port (a maild then found its smtps port taken
    by its own smtp listener and exited)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_port(port, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


class Database:
    """A fresh database made from the migrated template."""

    def __init__(self):
        self.name = "t_" + uuid.uuid4().hex[:12]
        c = psycopg2.connect(conninfo("postgres"))
        c.autocommit = True
        c.cursor().execute(f'CREATE DATABASE "{self.name}" TEMPLATE yubin_template')
        c.close()
        self.dsn = conninfo(self.name)

    def query(self, sql, args=()):
        with psycopg2.connect(self.dsn) as c, c.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None

    def execute(self, sql, args=()):
        c = psycopg2.connect(self.dsn)
        c.autocommit = True
        c.cursor().execute(sql, args)
        c.close()

    def ctl(self, *args, stdin=None, check=True):
        return subprocess.run([os.path.join(BUILD, "yubinctl"), "--db", self.dsn, *args],
                              input=stdin, text=True, capture_output=True, check=check)

    def drop(self):
        c = psycopg2.connect(conninfo("postgres"))
        c.autocommit = True
        c.cursor().execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        c.close()


class Panel:
    """yubin-panel over its embedded HTTP server (or FastCGI when fcgi=True)."""

    def __init__(self, db, extra_config="", fcgi=False, env=None):
        self.port = free_port()
        self.cfgfile = f"/tmp/yubin-panel-{self.port}.conf"
        with open(self.cfgfile, "w") as f:
            f.write(f"db = {db.dsn}\n{extra_config}\n")
        args = [os.path.join(BUILD, "yubin-panel"), "--config", self.cfgfile]
        args += ["--fcgi", f"127.0.0.1:{self.port}"] if fcgi else ["--http", f"127.0.0.1:{self.port}"]
        self.log = open(f"/tmp/yubin-panel-{self.port}.log", "w+")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=e)
        wait_port(self.port, self.proc)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.seek(0)
        out = self.log.read()
        self.log.close()
        assert "AddressSanitizer" not in out and "LeakSanitizer" not in out \
            and "runtime error" not in out, out[-4000:]
        return out


class Client:
    """A signed-in (or not) API client keeping cookies and the CSRF token."""

    def __init__(self, base, lang="en"):
        self.base = base
        self.s = requests.Session()
        self.s.headers["Accept-Language"] = lang
        self.csrf = None

    def call(self, method, path, json=None, data=None, headers=None, **kw):
        h = dict(headers or {})
        if self.csrf and method not in ("GET", "HEAD"):
            h.setdefault("X-CSRF-Token", self.csrf)
        return self.s.request(method, self.base + "/api/v1" + path, json=json, data=data,
                              headers=h, allow_redirects=False, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.call("PATCH", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.call("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def login(self, username, password, side="admin"):
        r = self.post(f"/{side}/login", {"username": username, "password": password})
        if r.status_code == 200:
            self.csrf = r.json()["csrf_token"]
        return r


@pytest.fixture(scope="module")
def db():
    d = Database()
    d.ctl("domain", "add", "example.test")
    d.ctl("domain", "add", "other.test")
    d.ctl("admin", "add", "root", "--role", "superadmin", "--password-stdin", stdin=ADMIN_PW + "\n")
    d.ctl("admin", "add", "dadmin", "--role", "domain_admin", "--domain", "example.test",
          "--password-stdin", stdin=ADMIN_PW + "\n")
    d.ctl("admin", "add", "support1", "--role", "support", "--domain", "example.test",
          "--password-stdin", stdin=ADMIN_PW + "\n")
    d.ctl("admin", "add", "otheradmin", "--role", "domain_admin", "--domain", "other.test",
          "--password-stdin", stdin=ADMIN_PW + "\n")
    yield d
    d.drop()


@pytest.fixture(scope="module")
def panel(db):
    p = Panel(db)
    yield p
    p.stop()


@pytest.fixture
def client(panel):
    return Client(panel.url)


@pytest.fixture
def root(panel):
    c = Client(panel.url)
    assert c.login("root", ADMIN_PW).status_code == 200
    return c


@pytest.fixture
def dadmin(panel):
    c = Client(panel.url)
    assert c.login("dadmin", ADMIN_PW).status_code == 200
    return c


@pytest.fixture
def support(panel):
    c = Client(panel.url)
    assert c.login("support1", ADMIN_PW).status_code == 200
    return c
