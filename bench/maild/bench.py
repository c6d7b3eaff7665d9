#!/usr/bin/python3
# bench/maild/bench.py: inbound SMTP end to end, yubin-maild (spam = none) side by side with Postfix +
# Dovecot LMTP (bench/maild/pfdc.py) on the same seeded database (1,000 mailboxes), 10 KB messages
# from the same C load generator (smtpload) with 1 and 20 parallel senders; CPU per message,
# memory (PSS of every process of each system) and the disk's fsync limit (create + write +
# fsync + rename + directory fsync) measured in the same run.
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/integration"))
from conftest import PGPORT, Database, free_port  # noqa: E402
from maild_util import Maild  # noqa: E402
import pfdc  # noqa: E402

BASE = os.environ.get("BENCH_DIR", "/var/tmp")
LOAD = os.environ["BENCH_LOAD"]             # the smtpload binary
SIZE = 10240
BODY = b"Subject: bench\r\n\r\n" + (b"x" * 78 + b"\r\n") * 128   # the fsync probe's 10 KB


def fsync_limit(threads, seconds=3.0):
    d = tempfile.mkdtemp(prefix="yubin-fsync-", dir=BASE)
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
    subprocess.run(["rm", "-rf", d], check=False)
    return count[0] / seconds


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu(pids):
    """CPU seconds of the live processes and of the children they have reaped."""
    t = 0
    for p in pids:
        try:
            f = stat_fields(p)
        except OSError:
            continue
        t += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return t / os.sysconf("SC_CLK_TCK")


def pss_mib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class YubinSystem:
    name = "yubin-maild"

    def __init__(self, db):
        self.md = Maild(db)
        self.port = self.md.smtp

    def pids(self):
        return pfdc.descendants(self.md.proc.pid)

    def delivered(self):
        n = 0
        for dirpath, _dirs, files in os.walk(self.md.root):
            if dirpath.endswith("/new"):
                n += len(files)
        return n

    def busy(self):
        return False     # 250 comes after the Maildir fsync: nothing is pending

    def stop(self):
        self.md.stop()
        return []


class PostfixSystem:
    name = "Postfix+Dovecot"

    def __init__(self, db):
        self.pd = pfdc.PostfixDovecot(int(PGPORT), db.name, free_port(), free_port(), BASE)
        self.port = self.pd.smtp

    def pids(self):
        return self.pd.pids()

    def delivered(self):
        return self.pd.delivered()

    def busy(self):
        return not self.pd.queue_empty()

    def stop(self):
        return self.pd.stop()


def postgres_pids():
    with open(os.path.join(os.environ["BENCH_PGDATA"], "postmaster.pid")) as f:
        return pfdc.descendants(int(f.readline()))


def run(system, senders, total):
    """Messages per second end to end (from the first connection until the last message is in
    its Maildir), the load generator's accept rate, CPU ms per message of the system and of
    PostgreSQL."""
    start = system.delivered()
    pg0, cpu0 = cpu(postgres_pids()), cpu(system.pids())
    t0 = time.time()
    r = subprocess.run([LOAD, "127.0.0.1", str(system.port), str(senders), str(total), str(SIZE)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{system.name}: smtpload: {r.stdout}{r.stderr}")
    accept = float(r.stdout.split("rate=")[1])
    sent = int(r.stdout.split("sent=")[1].split()[0])
    end = time.time() + 300
    # Counting files walks every mailbox: while the system still has work queued, look only
    # at its queue, so the harness takes no CPU from the deliveries it waits for.
    while system.busy() or system.delivered() < start + sent:
        if time.time() > end:
            raise RuntimeError(f"{system.name}: {system.delivered() - start} of {sent} delivered")
        time.sleep(0.02)
    dt = time.time() - t0
    return {"rate": sent / dt, "accept": accept,
            "cpu": (cpu(system.pids()) - cpu0) / sent * 1000,
            "pgcpu": (cpu(postgres_pids()) - pg0) / sent * 1000}


def main():
    total = int(os.environ.get("BENCH_MESSAGES", "4000"))
    db = Database()
    db.ctl("domain", "add", "example.test")
    did = db.query("SELECT id FROM domains WHERE name = 'example.test'")[0][0]
    db.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
               "SELECT %s, 'b' || lpad(g::text, 4, '0'), 'x', 100000 FROM generate_series(0, 999) g", (did,))
    db.execute("ANALYZE")
    systems = []
    try:
        which = os.environ.get("BENCH_SYSTEMS", "yubin,postfix").split(",")
        systems = [cls(db) for key, cls in (("yubin", YubinSystem), ("postfix", PostfixSystem)) if key in which]
        for s in systems:   # warm-up: every mailbox created, processes spawned, connections open
            run(s, 20, 1000)
        results, limits, mem = {}, {}, {}
        for senders in (1, 20):
            limits[senders] = fsync_limit(senders)
            for s in systems:
                results[(s.name, senders)] = run(s, senders, total)
                if senders == 20:
                    mem[s.name] = (pss_mib(s.pids()), len(s.pids()))
        if len(systems) == 1:
            for senders in (1, 20):
                r = results[(systems[0].name, senders)]
                print(f"{systems[0].name} senders={senders}: {r['rate']:,.0f} msg/s, fsync limit "
                      f"{limits[senders]:,.0f}/s, CPU {r['cpu']:.2f} ms/msg (+PG {r['pgcpu']:.2f})")
            return
        y, p = systems[0].name, systems[1].name
        print(f"{total} messages of {SIZE // 1024} KB per run, 1,000 mailboxes")
        print(f"| senders | fsync limit/s | {y} msg/s | {p} msg/s | ratio | {y} CPU ms/msg (+PG) "
              f"| {p} CPU ms/msg (+PG) | {y} / fsync limit |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for senders in (1, 20):
            a, b = results[(y, senders)], results[(p, senders)]
            print(f"| {senders} | {limits[senders]:,.0f} | {a['rate']:,.0f} | {b['rate']:,.0f} | "
                  f"{a['rate'] / b['rate']:.2f}x | {a['cpu']:.2f} (+{a['pgcpu']:.2f}) | "
                  f"{b['cpu']:.2f} (+{b['pgcpu']:.2f}) | {a['rate'] / limits[senders]:.2f} |")
        print(f"Postfix accepted (smtpd 250) at {results[(p, 1)]['accept']:,.0f} / "
              f"{results[(p, 20)]['accept']:,.0f} msg/s with 1 / 20 senders")
        for s in systems:
            m, n = mem[s.name]
            print(f"memory {s.name}: {m:.1f} MiB PSS in {n} processes (after the 20-sender run)")
    finally:
        for s in systems:
            errs = s.stop()
            for e in errs[:10]:
                print("log:", e)
        db.drop()


if __name__ == "__main__":
    main()
