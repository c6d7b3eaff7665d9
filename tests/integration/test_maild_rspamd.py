# tests/integration/test_maild_rspamd.py: spam verdicts from a real rspamd (HTTP /checkv2) started in the
# foreground with a test config (no network modules); GTUBE is spam, a plain note is not; the
# account's tag and sort toggles apply to the next message; rspamd down gives 451 4.7.1.
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import free_port
from maild_util import Maild, add_account, send

GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
OFF = ("rbl surbl fuzzy_check dkim dkim_signing arc spf dmarc asn emails phishing neural "
       "url_reputation history_redis greylist ratelimit replies mx_check multimap").split()


@pytest.fixture(scope="module")
def rspamd():
    if shutil.which("rspamd") is None:
        pytest.fail("rspamd is not installed (scripts/deps.sh test)")
    d = tempfile.mkdtemp(prefix="yubin-rspamd-", dir="/var/tmp")
    local = os.path.join(d, "local.d")
    os.makedirs(local)
    os.makedirs(os.path.join(d, "db"))
    port, cport, pport = free_port(), free_port(), free_port()
    files = {
        "options.inc": 'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.1s; retransmits = 1; }\n'
                       "enable_test_patterns = true;\n"
                           # Compiling hyperscan databases at start takes minutes of CPU
                           # on a loaded 2-core machine; the test needs none of its speed.
                           "disable_hyperscan = true;\n",
        "worker-normal.inc": f'bind_socket = "127.0.0.1:{port}";\ncount = 1;\n',
        "worker-controller.inc": f'bind_socket = "127.0.0.1:{cport}";\n',
        "worker-proxy.inc": f'bind_socket = "127.0.0.1:{pport}";\n',
        "logging.inc": 'type = "console"; level = "error";\n',
        # Without network checks a plain test note still collects points for missing headers;
        # thresholds high enough that only a real pattern (GTUBE) is spam.
        "actions.conf": "reject = 15; add_header = 14; greylist = null; rewrite_subject = null;\n",
    }
    for m in OFF:
        files[m + ".conf"] = "enabled = false;\n"
    for name, text in files.items():
        with open(os.path.join(local, name), "w") as f:
            f.write(text)
    subprocess.run(["chown", "-R", "_rspamd:_rspamd", d], check=False)
    log = open(os.path.join(d, "out.log"), "w")
    p = subprocess.Popen(["rspamd", "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", "/etc/rspamd/rspamd.conf",
                          f"--var=LOCAL_CONFDIR={d}", f"--var=DBDIR={d}/db", f"--var=RUNDIR={d}"],
                         stdout=log, stderr=subprocess.STDOUT)
    end = time.time() + 300
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            break
        except OSError:
            if p.poll() is not None:
                pytest.fail("rspamd exited")
            time.sleep(0.5)
    else:
        p.kill()
        pytest.fail("rspamd did not start")
    yield port, p
    if p.poll() is None:
        p.terminate()
        p.wait(20)


@pytest.fixture(scope="module")
def md(db, rspamd):
    m = Maild(db, extra=f"spam = rspamd http://127.0.0.1:{rspamd[0]}")
    yield m
    m.stop()


def test_rspamd_verdicts_and_toggles(md, db):
    aid = add_account(db, "example.test", "rsuser")
    spam = b"From: x@remote.test\r\nSubject: offer\r\nX-Spam-Flag: NO\r\n\r\n" + GTUBE + b"\r\n"
    ham = (b"From: Taro <x@remote.test>\r\nTo: rsuser@example.test\r\nSubject: minutes\r\n"
           b"Date: Wed, 02 Dec 2026 10:00:00 +0900\r\nMessage-ID: <m1@remote.test>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\nX-Spam-Flag: YES\r\n\r\nthe meeting notes\r\n")
    send(md, ["rsuser@example.test"], spam)
    send(md, ["rsuser@example.test"], ham)
    msgs = md.read_all("example.test", "rsuser")
    sp = [m for m in msgs if b"offer" in m][0]
    hm = [m for m in msgs if b"minutes" in m][0]
    # the incoming X-Spam-Flag is not trusted with rspamd: ours replaces it
    assert sp.count(b"X-Spam-Flag") == 1 and b"X-Spam-Flag: YES" in sp and b"X-Spam-Score: 15.0" in sp
    assert hm.count(b"X-Spam-Flag") == 1 and b"X-Spam-Flag: NO" in hm
    db.execute("UPDATE accounts SET spam_tag = true, spam_sort = true WHERE id = %s", (aid,))
    send(md, ["rsuser@example.test"], spam)
    junk = md.read_all("example.test", "rsuser", ".Junk")
    assert len(junk) == 1 and b"Subject: [SPAM] offer" in junk[0]
    assert "yubin_maild_spam_verdicts_total" in md.metrics_text()


def test_rspamd_down_tempfails(md, rspamd):
    rspamd[1].terminate()
    rspamd[1].wait(20)
    with md.client() as c:
        c.ehlo("x")
        c.mail("a@remote.test")
        c.rcpt("rsuser@example.test")
        code, text = c.data(b"Subject: x\r\n\r\nx\r\n")
        assert code == 451 and b"4.7.1" in text
