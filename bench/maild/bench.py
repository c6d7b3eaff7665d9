#!/usr/bin/python3
# bench/maild/bench.py: inbound SMTP throughput of yubin-maild (spam = none) with 1 and 20 parallel
# senders of 10 KB messages to 1,000 mailboxes, CPU per message, memory, and the disk's fsync
# limit (create + write + fsync + rename + directory fsync) measured in the same run.
import os
import smtplib
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/integration"))
from conftest import Database  # noqa: E402
from maild_util import Maild  # noqa: E402

BODY = b"Subject: bench\r\n\r\n" + (b"x" * 78 + b"\r\n") * 128   # about 10 KB


def fsync_limit(threads, seconds=3.0):
    d = tempfile.mkdtemp(prefix="yubin-fsync-", dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    count = [0]
    lock = threading.Lock()
    end = time.time() + seconds

    def work(k):
        os.makedirs(f"{d}/{k}/tmp")
        os.makedirs(f"{d}/{k}/new")
        i = 0
        while time.time() < end:
            p = f"{d}/{k}/tmp/{i}"
            fd = os.open(p, os.O_WRONLY | os.O_CREAT)
            os.write(fd, BODY)
            os.fsync(fd)
            os.close(fd)
            os.rename(p, f"{d}/{k}/new/{i}")
            dfd = os.open(f"{d}/{k}/new", os.O_RDONLY)
            os.fsync(dfd)
            os.close(dfd)
            i += 1
        with lock:
            count[0] += i
    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return count[0] / seconds


def run(md, senders, total):
    per = total // senders
    done = [0]
    lock = threading.Lock()

    def work(k):
        c = smtplib.SMTP("127.0.0.1", md.smtp, timeout=60)
        for i in range(per):
            c.sendmail("bench@remote.test", [f"b{(k * per + i) % 1000:04d}@example.test"], BODY)
        c.quit()
        with lock:
            done[0] += per
    t0 = time.time()
    cpu0 = cpu(md.proc.pid)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(senders)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.time() - t0
    return done[0] / dt, (cpu(md.proc.pid) - cpu0) / done[0] * 1000


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    total = int(os.environ.get("BENCH_MESSAGES", "4000"))
    db = Database()
    db.ctl("domain", "add", "example.test")
    did = db.query("SELECT id FROM domains WHERE name = 'example.test'")[0][0]
    db.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
               "SELECT %s, 'b' || lpad(g::text, 4, '0'), 'x', 100000 FROM generate_series(0, 999) g", (did,))
    md = Maild(db)
    try:
        for senders in (1, 20):
            rate, cpu_ms = run(md, senders, total)
            lim = fsync_limit(senders)
            print(f"senders={senders:2d} maild={rate:7.0f} msg/s  fsync-limit={lim:7.0f}/s  "
                  f"ratio={rate / lim:4.2f}  cpu={cpu_ms:.2f} ms/msg")
        print(f"maild PSS {rss_mib(md.proc.pid):.1f} MiB")
    finally:
        md.stop()
        db.drop()


if __name__ == "__main__":
    main()
