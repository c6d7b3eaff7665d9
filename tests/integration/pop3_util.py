# tests/integration/pop3_util.py: helpers for the POP3, jobs, retention, Dovecot and mail copy suites:
# accounts through the panel API, Maildir++ mailboxes written as maild writes them, yubin-maild started
# with only the listeners a test needs.
import os
import signal
import socket
import subprocess
import tempfile
import time

from conftest import BUILD, free_ports

USER_PW = "Str0ng#Secret-pw"


def create_account(root, name, domain="example.test", password=USER_PW, quota_mb=100):
    """An account through the API (as the superadmin client); returns its id from the database."""
    r = root.post(f"/domains/{domain}/accounts", {"name": name, "password": password, "quota_mb": quota_mb})
    assert r.status_code == 201, r.text
    return r.json()


def account_id(db, name, domain="example.test"):
    rows = db.query("SELECT a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = %s AND a.name = %s", (domain, name))
    return rows[0][0] if rows else None


def usage(db, name, domain="example.test"):
    return db.query("SELECT usage_bytes FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = %s AND a.name = %s", (domain, name))[0][0]


_seq = [0]


def mailbox(root_dir, domain, name, acct_id):
    """The mailbox folder as maild creates it: cur/new/tmp, the standard folders, the marker."""
    d = os.path.join(root_dir, domain, name)
    for sub in ("", ".Junk", ".Trash", ".Archive"):
        for x in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub, x), exist_ok=True)
        if sub:
            open(os.path.join(d, sub, "maildirfolder"), "a").close()
    with open(os.path.join(d, ".yubin-id"), "w") as f:
        f.write(f"{acct_id}\n")
    return d


def deliver(box, body, folder="", sub="new", flags=None, mtime=None):
    """Write a message the Maildir way (tmp/, then rename); returns its path."""
    _seq[0] += 1
    base = f"{int(time.time())}.M{_seq[0]}P{os.getpid()}.test"
    data = body.encode() if isinstance(body, str) else body
    name = f"{base},S={len(data)}" + (f":2,{flags}" if flags is not None else "")
    fdir = os.path.join(box, folder) if folder else box
    tmp = os.path.join(fdir, "tmp", base)
    with open(tmp, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    dst = os.path.join(fdir, sub, name)
    os.rename(tmp, dst)
    return dst


def message(subject, body="Hello.\n", frm="sender@remote.test", to="alice@example.test"):
    return (f"From: {frm}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{subject.replace(' ', '.')}@t>\n"
            f"Date: Tue, 01 Dec 2026 10:00:00 +0000\n\n{body}")


def files(box, folder="", subs=("new", "cur")):
    out = []
    for s in subs:
        p = os.path.join(box, folder, s) if folder else os.path.join(box, s)
        if os.path.isdir(p):
            out += sorted(os.listdir(p))
    return out


class Maild:
    """yubin-maild with a generated configuration: only the listeners given in `listen`
    (e.g. {"pop3_listen": port}); extra lines in `extra`."""

    def __init__(self, db, maildir_root, listen=None, extra="", cert=None, env=None):
        self.ports = {}
        lines = [f"db = {db.dsn}", f"maildir_root = {maildir_root}", "hostname = mx.example.test",
                 "spam = none", "virus = none", "argon2_m_kib = 64", "argon2_t = 1"]
        for key, port in zip(listen or [], free_ports(len(listen or []))):
            self.ports[key] = port
            lines.append(f"{key} = 127.0.0.1:{self.ports[key]}")
        if cert:
            lines += [f"tls_cert = {cert[0]}", f"tls_key = {cert[1]}"]
        lines.append(extra)
        fd, self.cfgfile = tempfile.mkstemp(prefix="yubin-maild-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        fd, self.logfile = tempfile.mkstemp(prefix="yubin-maild-", suffix=".log")
        os.close(fd)
        self.log = open(self.logfile, "w+")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([os.path.join(BUILD, "yubin-maild"), "--config", self.cfgfile],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        for port in self.ports.values():
            self._wait(port)
        if not self.ports:
            time.sleep(0.5)
            assert self.proc.poll() is None, self.logtext()

    def _wait(self, port, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("maild exited:\n" + self.logtext())
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"maild never listened on {port}:\n" + self.logtext())

    def port(self, key):
        return self.ports[key]

    def logtext(self):
        self.log.flush()
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = self.logtext()
        self.log.close()
        os.unlink(self.cfgfile)
        assert "AddressSanitizer" not in out and "LeakSanitizer" not in out \
            and "runtime error" not in out, out[-4000:]
        return out


def wait_for(pred, timeout=20, step=0.1, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")
