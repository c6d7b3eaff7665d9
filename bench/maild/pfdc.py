# bench/maild/pfdc.py: a private Postfix (postfix -c DIR, smtpd on a loopback port, virtual
# mailboxes from PostgreSQL via pgsql:) handing every message over LMTP to a private Dovecot
# (userdb from PostgreSQL, Maildir) — the comparison system of bench/maild/bench.py.
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {t}/spool
data_directory = {t}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {t}/maillog
myhostname = pf.bench.local
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtpd_peername_lookup = no
message_size_limit = 104857600
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = pgsql:{t}/etc/domains.cf
virtual_mailbox_maps = pgsql:{t}/etc/mailboxes.cf
virtual_transport = lmtp:inet:127.0.0.1:{lmtp}
"""

PG_CF = """\
hosts = inet:127.0.0.1:{pgport}
user = postgres
password =
dbname = {dbname}
query = {query}
"""

DOMAINS_Q = "SELECT name FROM domains WHERE name = '%s'"
MAILBOXES_Q = ("SELECT d.name || '/' || a.name || '/' FROM accounts a JOIN domains d ON d.id = a.domain_id "
               "WHERE d.name = '%d' AND a.name = '%u'")

DOVECOT_CONF = """\
protocols = lmtp
listen = 127.0.0.1
base_dir = {t}/run
state_dir = {t}/state
log_path = {t}/dovecot.log
instance_name = bench-lmtp-{lmtp}
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~
ssl = no
auth_mechanisms = plain
passdb {{
  driver = sql
  args = {t}/sql.conf.ext
}}
userdb {{
  driver = sql
  args = {t}/sql.conf.ext
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
"""

SQL_CONF = """\
driver = pgsql
connect = host=127.0.0.1 port={pgport} user=postgres dbname={dbname}
password_query = SELECT NULL AS password, 'Y' AS nopassword FROM accounts a JOIN domains d ON d.id = a.domain_id \\
  WHERE d.name = '%d' AND a.name = '%n'
user_query = SELECT '{root}/' || d.name || '/' || a.name AS home \\
  FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = '%d' AND a.name = '%n'
"""


def mail_owner():
    for name in ("yubin", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user for the mail tree")


def wait_port(port, what, timeout=30):
    import socket
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


class PostfixDovecot:
    def __init__(self, pgport, dbname, smtp_port, lmtp_port, base):
        self.t = tempfile.mkdtemp(prefix="yubin-bench-pfdc-", dir=base)
        os.chmod(self.t, 0o755)
        self.smtp, self.lmtp = smtp_port, lmtp_port
        self.pf = os.path.join(self.t, "postfix")
        self.dc = os.path.join(self.t, "dovecot")
        self.root = os.path.join(self.t, "mail")
        uid, gid = mail_owner()
        for d in (self.pf + "/etc", self.pf + "/spool", self.pf + "/data", self.dc + "/run", self.dc + "/state",
                  self.root):
            os.makedirs(d)
        os.chown(self.root, uid, gid)
        os.chmod(self.dc, 0o755)
        os.chown(self.pf + "/data", pwd.getpwnam("postfix").pw_uid, pwd.getpwnam("postfix").pw_gid)
        # Dovecot
        with open(self.dc + "/dovecot.conf", "w") as f:
            f.write(DOVECOT_CONF.format(t=self.dc, lmtp=lmtp_port, uid=uid, gid=gid))
        with open(self.dc + "/sql.conf.ext", "w") as f:
            f.write(SQL_CONF.format(pgport=pgport, dbname=dbname, root=self.root))
        self.dovecot = subprocess.Popen(["dovecot", "-F", "-c", self.dc + "/dovecot.conf"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(lmtp_port, "dovecot lmtp")
        # Postfix: the Debian master.cf without chroot, smtpd on our loopback port.
        etc = self.pf + "/etc"
        with open(etc + "/main.cf", "w") as f:
            f.write(MAIN_CF.format(t=self.pf, lmtp=lmtp_port))
        for name, q in (("domains.cf", DOMAINS_Q), ("mailboxes.cf", MAILBOXES_Q)):
            with open(os.path.join(etc, name), "w") as f:
                f.write(PG_CF.format(pgport=pgport, dbname=dbname, query=q))
        with open("/etc/postfix/master.cf") as f:
            master = f.read()
        out = []
        for line in master.splitlines():
            fields = line.split()
            if len(fields) >= 8 and not line.startswith((" ", "\t", "#")):
                if fields[0] == "smtp" and fields[1] == "inet":
                    fields[0] = f"127.0.0.1:{smtp_port}"
                if fields[4] == "y":
                    fields[4] = "n"
                line = "  ".join(fields[:8]) + ("  " + " ".join(fields[8:]) if len(fields) > 8 else "")
            out.append(line)
        with open(etc + "/master.cf", "w") as f:
            f.write("\n".join(out) + "\n")
        self.postfix(["start"])
        wait_port(smtp_port, "postfix smtpd")

    def postfix(self, args):
        r = subprocess.run(["postfix", "-c", self.pf + "/etc"] + args, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"postfix {args}: {r.stdout}{r.stderr}\n{self.maillog()[-3000:]}")

    def maillog(self):
        try:
            with open(self.pf + "/maillog", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def master_pid(self):
        with open(self.pf + "/spool/pid/master.pid") as f:
            return int(f.read().split()[0])

    def pids(self):
        """Every process of the system: Postfix master and its children, Dovecot and its children."""
        return descendants(self.master_pid()) + descendants(self.dovecot.pid)

    def roots(self):
        return [self.master_pid(), self.dovecot.pid]

    def delivered(self):
        n = 0
        for dirpath, _dirs, files in os.walk(self.root):
            if dirpath.endswith("/new"):
                n += len(files)
        return n

    def queue_empty(self):
        for sub in ("incoming", "active", "deferred"):
            for _dp, _d, files in os.walk(os.path.join(self.pf, "spool", sub)):
                if files:
                    return False
        return True

    def stop(self):
        try:
            self.postfix(["stop"])
        except (RuntimeError, OSError):
            pass
        if self.dovecot.poll() is None:
            self.dovecot.send_signal(signal.SIGTERM)
            try:
                self.dovecot.wait(20)
            except subprocess.TimeoutExpired:
                self.dovecot.kill()
                self.dovecot.wait()
        time.sleep(0.5)
        errors = [ln for ln in self.maillog().splitlines() if re.search(r"(fatal|panic|error):", ln)]
        shutil.rmtree(self.t, ignore_errors=True)
        return errors


def descendants(pid):
    """pid and every live process below it."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out
