# tests/integration/maild_util.py: yubin-maild under test: a config with free ports, a temp maildir,
# a self-signed certificate, a sink SMTP server for the relay, and helpers to read mailboxes.
import asyncio
import glob
import os
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time

from conftest import BUILD, free_port, free_ports, wait_port

# A real Argon2id hash of "Passw0rd#Example" (m=19456,t=2,p=1), made once by pw_hash, so
# seeding accounts through SQL costs no hashing.
USER_PW = "Passw0rd#Example"


def selfsigned(dirname):
    crt, key = os.path.join(dirname, "tls.crt"), os.path.join(dirname, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    return crt, key


class Sink:
    """A minimal SMTP server on loopback that stores what it receives (the relay)."""

    def __init__(self, reply_rcpt=None):
        self.port = free_port()
        self.messages = []     # (mail_from, [rcpts], data)
        self.reply_rcpt = reply_rcpt  # e.g. "550 5.1.1 no" to refuse
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    async def _client(self, r, w):
        w.write(b"220 sink ESMTP\r\n")
        mail, rcpts = None, []
        try:
            while True:
                line = await r.readline()
                if not line:
                    break
                cmd = line.decode("latin-1").strip()
                up = cmd.upper()
                if up.startswith("EHLO") or up.startswith("HELO"):
                    w.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif up.startswith("MAIL FROM:"):
                    mail = cmd[10:].strip().strip("<>")
                    rcpts = []
                    w.write(b"250 ok\r\n")
                elif up.startswith("RCPT TO:"):
                    if self.reply_rcpt:
                        w.write(self.reply_rcpt.encode() + b"\r\n")
                    else:
                        rcpts.append(cmd[8:].strip().strip("<>"))
                        w.write(b"250 ok\r\n")
                elif up == "DATA":
                    w.write(b"354 go\r\n")
                    await w.drain()
                    data = b""
                    while True:
                        l2 = await r.readline()
                        if l2 in (b".\r\n", b".\n", b""):
                            break
                        if l2.startswith(b".."):
                            l2 = l2[1:]
                        data += l2
                    self.messages.append((mail, rcpts, data))
                    w.write(b"250 queued\r\n")
                elif up == "QUIT":
                    w.write(b"221 bye\r\n")
                    await w.drain()
                    break
                else:
                    w.write(b"250 ok\r\n")
                await w.drain()
        except ConnectionError:
            pass
        w.close()

    def wait(self, n=1, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if len(self.messages) >= n:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"sink got {len(self.messages)} messages, wanted {n}")

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


class Maild:
    def __init__(self, db, extra="", relay=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="yubin-maild-")
        self.root = os.path.join(self.dir, "mail")
        self.crt, self.key = selfsigned(self.dir)
        self.smtp, self.sub, self.smtps, self.metrics = free_ports(4)
        self.clockfile = os.path.join(self.dir, "clock")
        with open(self.clockfile, "w") as f:
            f.write("0\n")
        self.cfgfile = os.path.join(self.dir, "maild.conf")
        self.db = db
        lines = [
            f"db = {db.dsn}", "hostname = mx.test.local", f"maildir_root = {self.root}",
            f"smtp_listen = 127.0.0.1:{self.smtp}", f"submission_listen = 127.0.0.1:{self.sub}",
            f"smtps_listen = 127.0.0.1:{self.smtps}", f"metrics_listen = 127.0.0.1:{self.metrics}",
            f"tls_cert = {self.crt}", f"tls_key = {self.key}", "spam = none", "virus = none",
            "argon2_m_kib = 19456", "argon2_t = 2", "argon2_p = 1",
        ]
        if relay:
            lines.append(f"relay = 127.0.0.1:{relay}")
        lines.append(extra)
        with open(self.cfgfile, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.env = dict(os.environ)
        self.env["YUBIN_TEST_CLOCK_FILE"] = self.clockfile
        self.env.update(env or {})
        self.log = open(os.path.join(self.dir, "maild.log"), "w+")
        self.start()

    def start(self):
        self.proc = subprocess.Popen([os.path.join(BUILD, "yubin-maild"), "--config", self.cfgfile],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        # Every listener, not only port 25: they open one after another.
        for port in (self.smtp, self.sub, self.smtps):
            wait_port(port, self.proc)

    def set_clock(self, offset):
        with open(self.clockfile, "w") as f:
            f.write(f"{int(offset)}\n")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

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
        assert "AddressSanitizer" not in out and "runtime error" not in out, out[-4000:]
        return out

    def logtext(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def client(self):
        return smtplib.SMTP("127.0.0.1", self.smtp, timeout=30)

    def mailbox(self, domain, name, folder=""):
        base = os.path.join(self.root, domain, name, folder)
        return sorted(glob.glob(os.path.join(base, "new", "*")) + glob.glob(os.path.join(base, "cur", "*")))

    def read_all(self, domain, name, folder=""):
        out = []
        for p in self.mailbox(domain, name, folder):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def metrics_text(self):
        s = socket.create_connection(("127.0.0.1", self.metrics), 5)
        s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return data.decode()


def pw_hash(db):
    """An Argon2id hash of USER_PW made by the real code (yubinctl set-password on a scratch account)."""
    rows = db.query("SELECT password_hash FROM accounts WHERE password_hash LIKE '$argon2id$%%' LIMIT 1")
    return rows[0][0] if rows else None


def add_account(db, domain, name, quota_mb=100, **cols):
    did = db.query("SELECT id FROM domains WHERE name = %s", (domain,))[0][0]
    h = cols.pop("password_hash", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$x")
    db.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) VALUES (%s, %s, %s, %s)",
               (did, name, h, quota_mb))
    for k, v in cols.items():
        db.execute(f"UPDATE accounts SET {k} = %s WHERE domain_id = %s AND name = %s", (v, did, name))
    notify(db, domain)
    return db.query("SELECT id FROM accounts WHERE domain_id = %s AND name = %s", (did, name))[0][0]


def notify(db, domain):
    db.execute("SELECT pg_notify('yubin_config', %s)", (domain,))


def send(maild, rcpts, msg, sender="sender@remote.test"):
    """Send with smtplib; returns the refused recipients dict or raises."""
    with maild.client() as c:
        return c.sendmail(sender, rcpts, msg)
