# tests/integration/dovecot_util.py: a real Dovecot 2.3 on free ports from contrib/dovecot's templates
# (IMAP for yubin accounts, or a plain source server holding sample mail for the mail copy tests).
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

from conftest import SRC, PGHOST, PGPORT, free_ports, wait_port


def mail_owner():
    """Dovecot never gives mail to root: the unprivileged user that owns the Maildir tree in
    tests (the one scripts/pg.sh runs PostgreSQL as, else nobody)."""
    for name in ("yubin", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user for the mail tree")


def chown_tree(path, owner=None):
    """Give a Maildir tree the tests wrote as root to the mail owner."""
    uid, gid = owner or mail_owner()
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), uid, gid)


def make_cert(folder, cn="localhost"):
    """A self-signed certificate for localhost and 127.0.0.1; returns (cert, key)."""
    cert, key = os.path.join(folder, "tls.crt"), os.path.join(folder, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={cn}", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o644)   # Dovecot reads it as root (the config process); tests only
    return cert, key


class Dovecot:
    """`dovecot -F -c <generated config>` from contrib/dovecot/*.in, for yubin's database."""

    def __init__(self, db, maildir_root, plaintext=False, lock_threshold=10, lock_minutes=30):
        self.tmp = tempfile.mkdtemp(prefix="yubin-dovecot-")
        os.chmod(self.tmp, 0o755)
        uid, gid = mail_owner()
        chown_tree(maildir_root, (uid, gid))
        self.cert, self.key = make_cert(self.tmp)
        self.imap_port, self.imaps_port = free_ports(2)
        self.log = os.path.join(self.tmp, "dovecot.log")
        base = os.path.join(self.tmp, "run")
        state = os.path.join(self.tmp, "state")
        os.makedirs(base)
        os.makedirs(state)
        values = {
            "LISTEN": "127.0.0.1", "IMAP_PORT": str(self.imap_port), "IMAPS_PORT": str(self.imaps_port),
            "BASE_DIR": base, "STATE_DIR": state, "LOG_PATH": self.log, "CONF_DIR": self.tmp,
            "MAILDIR_ROOT": maildir_root, "MAIL_UID": str(uid), "MAIL_GID": str(gid),
            "FIRST_VALID_UID": str(uid), "FIRST_VALID_GID": str(gid),
            "SSL": "yes", "TLS_CERT": self.cert, "TLS_KEY": self.key,
            "DISABLE_PLAINTEXT_AUTH": "no" if plaintext else "yes",
            "DB_CONNECT": f"host={PGHOST} port={PGPORT} user=postgres dbname={db.name}",
            "LOCK_THRESHOLD": str(lock_threshold), "LOCK_MINUTES": str(lock_minutes),
        }
        for name in ("dovecot.conf", "yubin-sql.conf.ext", "yubin-sql-failure.conf.ext"):
            with open(os.path.join(SRC, "contrib/dovecot", name + ".in")) as f:
                text = f.read()
            for k, v in values.items():
                text = text.replace("@" + k + "@", v)
            assert not re.search(r"@[A-Z_]+@", text), name
            if name == "dovecot.conf":
                # Tests sign in wrongly many times from one address: without the per-address
                # penalty (kept in production) each failure would wait up to 15 s.
                text += "\nservice anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n"
            with open(os.path.join(self.tmp, name), "w") as f:
                f.write(text)
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(self.imaps_port, self.proc)
        wait_port(self.imap_port, self.proc)

    def logtext(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.2)
        shutil.rmtree(self.tmp, ignore_errors=True)


SOURCE_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
instance_name = yubin-source-{port}
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{tmp}/mail/%u
ssl = {ssl}
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={tmp}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Trash {{
    special_use = \\Trash
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {plain_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"""


class SourceDovecot:
    """Another provider's IMAP server: users and passwords in a file, mail put in over IMAP APPEND."""

    def __init__(self, users):
        self.tmp = tempfile.mkdtemp(prefix="yubin-source-")
        os.chmod(self.tmp, 0o755)
        os.makedirs(os.path.join(self.tmp, "run"))
        os.makedirs(os.path.join(self.tmp, "state"))
        os.makedirs(os.path.join(self.tmp, "mail"))
        uid, gid = mail_owner()
        os.chown(os.path.join(self.tmp, "mail"), uid, gid)
        self.cert, self.key = make_cert(self.tmp)
        self.port, self.plain_port = free_ports(2)
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            for u, p in users.items():
                f.write(f"{u}:{p}\n")
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(SOURCE_CONF.format(tmp=self.tmp, port=self.port, plain_port=self.plain_port, uid=uid, gid=gid,
                                       ssl="yes", cert=self.cert, key=self.key))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)
        wait_port(self.plain_port, self.proc)

    def logtext(self):
        try:
            with open(os.path.join(self.tmp, "dovecot.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.2)
        shutil.rmtree(self.tmp, ignore_errors=True)
