#!/usr/bin/python3
# bench/csv/bench.py: CSV bulk create of BENCH_ROWS accounts (default 10,000) through the real API
# (POST /api/v1/domains/{d}/csv/create, then GET /api/v1/jobs/{id} until it ends), against the
# Argon2id bound measured in the same run: rows × one hash's time ÷ cores (hashtime, the
# panel's own pw_hash with the panel's parameters), and the panel's CPU time for the import
# against rows × one hash's CPU time (steadier than wall time on a shared machine).
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/integration"))
from conftest import ADMIN_PW, Client, Database, Panel  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "10000"))
HASHTIME = os.environ["BENCH_HASHTIME"]
M_KIB, T, P = 19456, 2, 1           # core/config.c defaults, which the bench panel uses
CORES = os.cpu_count()


def hashtime(n):
    out = subprocess.run([HASHTIME, str(M_KIB), str(T), str(P), str(n), str(CORES)],
                         capture_output=True, text=True, check=True).stdout
    kv = dict(x.split("=") for x in out.split())
    return float(kv["one_ms"]), float(kv["one_cpu_ms"]), float(kv["parallel_per_s"])


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def csv_text(rows):
    lines = ["mail_account,password,mail_capacity,comment"]
    for i in range(rows):
        lines.append(f"u{i:05d},Bq{i:05d}#kZ{(i * 7919) % 1000:03d}x,100,bench row {i}")
    return ("\r\n".join(lines) + "\r\n").encode()


def import_once(c, body, pid):
    cpu0 = cpu(pid)
    t0 = time.monotonic()
    r = c.post("/domains/bench.test/csv/create", data=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 202, (r.status_code, r.text[:500])
    job = r.json()["job"]["id"]
    seen_running = False
    while True:
        j = c.get(f"/jobs/{job}").json()
        if j["state"] == "running" and j["done"] > 0:
            seen_running = True
        if j["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    dt = time.monotonic() - t0
    used = cpu(pid) - cpu0
    assert j["state"] == "done", j.get("errors", [])[:5]
    return dt, used, seen_running


def main():
    load_before = load()
    one_before, cpu_before, par_before = hashtime(20)
    db = Database()
    db.ctl("domain", "add", "bench.test")
    db.ctl("admin", "add", "root", "--role", "superadmin", "--password-stdin", stdin=ADMIN_PW + "\n")
    panel = Panel(db)
    try:
        c = Client(panel.url)
        assert c.login("root", ADMIN_PW).status_code == 200
        body = csv_text(ROWS)
        dt, used, seen = import_once(c, body, panel.proc.pid)
        load_during = load()
        n = db.query("SELECT count(*) FROM accounts a JOIN domains d ON d.id = a.domain_id "
                     "WHERE d.name = 'bench.test' AND NOT a.is_system")[0][0]
        assert n == ROWS, n
    finally:
        panel.stop()
        db.drop()
    one_after, cpu_after, par_after = hashtime(20)
    one = (one_before + one_after) / 2
    hcpu = (cpu_before + cpu_after) / 2
    par = (par_before + par_after) / 2
    bound = ROWS * one / 1000 / CORES
    bound_par = ROWS / par
    print(f"rows={ROWS} cores={CORES} argon2id m={M_KIB} t={T} p={P}; "
          f"load average before {load_before}, at the end of the import {load_during}")
    print(f"one hash: {one_before:.2f} ms before, {one_after:.2f} ms after (mean {one:.2f} ms); "
          f"CPU {cpu_before:.2f} / {cpu_after:.2f} ms")
    print(f"all cores at once: {par:.1f} hashes/s")
    print(f"import wall time, POST to job done: {dt:.2f} s ({ROWS / dt:.0f} rows/s); progress seen: {seen}")
    print(f"bound rows x hash / cores: {bound:.2f} s -> ratio {dt / bound:.3f} "
          f"({(dt / bound - 1) * 100:+.1f}%)")
    print(f"bound from measured all-core hashes/s: {bound_par:.2f} s -> ratio {dt / bound_par:.3f}")
    print(f"panel CPU for the import: {used:.1f} s = {used / ROWS * 1000:.2f} ms/row; rows x hash CPU "
          f"{ROWS * hcpu / 1000:.1f} s -> CPU ratio {used / (ROWS * hcpu / 1000):.3f}")


if __name__ == "__main__":
    main()
