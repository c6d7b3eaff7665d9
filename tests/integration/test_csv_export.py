# tests/integration/test_csv_export.py: GET /domains/{d}/accounts.csv (SPEC §7, CONTRACT) and the
# two samples: exact columns and values, BOM and CRLF, Shift_JIS, quoting, roles, pages, FastCGI
# through nginx, a client leaving mid-way, and memory that does not grow with the domain.
import csv
import io
import os
import time

import pytest
import requests

from accounts_util import PW, create, user_client
from conftest import ADMIN_PW, Client, Panel
from test_transports import nginx_panel  # noqa: F401  (fixture: the panel behind nginx FastCGI)

D = "example.test"
BOM = b"\xef\xbb\xbf"
HEADER = "mail_account,mail_password,comment,amount_of_mail_box,spam,forward,auto,pop,mail_capacity"
# 255 characters (the comment limit) of three UTF-8 bytes each: a row is about 800 bytes.
BIG_COMMENT = "髙" * 250


@pytest.fixture(scope="module")
def accounts(db, panel):
    """Accounts of example.test with every column set to something known."""
    root = Client(panel.url)
    assert root.login("root", ADMIN_PW).status_code == 200
    base = f"/domains/{D}/accounts"
    create(root, D, "alice", quota_mb=300, comment='Sales, "Tokyo" office')
    create(root, D, "bob", quota_mb=100, comment="営業部 髙橋①ｶﾅ")
    create(root, D, "carol", quota_mb=50, comment="first line\r\nsecond, line")
    create(root, D, "dave", quota_mb=1, comment=" smile 😀")
    assert root.patch(f"{base}/alice", {"spam_tag": True}).status_code == 200
    r = root.post(f"{base}/alice/forwards", {"condition": "all", "addresses": ["away@remote.jp"]})
    assert r.status_code == 201, r.text
    r = root.put(f"{base}/alice/autoreply", {"text": "不在です"})
    assert r.status_code == 200, r.text
    assert root.patch(f"{base}/bob", {"receive": False}).status_code == 200
    # An autoresponder whose dates are over is not `auto`; a spam sort alone is not `spam`.
    r = root.put(f"{base}/carol/autoreply", {"text": "old", "start_at": "2001-01-01", "end_at": "2001-01-31"})
    assert r.status_code == 200, r.text
    assert root.patch(f"{base}/carol", {"spam_sort": True}).status_code == 200
    # Usage in MB of 1,048,576 bytes, rounded up (CONTRACT usage_mb).
    for name, used in (("alice", 1048577), ("bob", 0), ("carol", 1048576), ("dave", 1)):
        db.execute("UPDATE accounts SET usage_bytes = %s WHERE name = %s AND domain_id = "
                   "(SELECT id FROM domains WHERE name = %s)", (used, name, D))
    pm = db.query("SELECT a.comment, (a.usage_bytes + 1048575) / 1048576, a.spam_tag, a.receive, a.quota_mb "
                  "FROM accounts a JOIN domains d ON d.id = a.domain_id "
                  "WHERE d.name = %s AND a.name = 'postmaster'", (D,))[0]
    return pm


def expected_rows(pm):
    return [
        HEADER.split(","),
        ["alice", "", 'Sales, "Tokyo" office', "2", "1", "1", "1", "1", "300"],
        ["bob", "", "営業部 髙橋①ｶﾅ", "0", "0", "0", "0", "0", "100"],
        ["carol", "", "first line\r\nsecond, line", "1", "0", "0", "0", "1", "50"],
        ["dave", "", " smile 😀", "1", "0", "0", "0", "1", "1"],
        ["postmaster", "", pm[0], str(pm[1]), "1" if pm[2] else "0", "0", "0", "1" if pm[3] else "0",
         str(pm[4])],
    ]


def expected_text(pm):
    pmrow = expected_rows(pm)[-1]
    return (HEADER + "\r\n"
            'alice,,"Sales, ""Tokyo"" office",2,1,1,1,1,300\r\n'
            "bob,,営業部 髙橋①ｶﾅ,0,0,0,0,0,100\r\n"
            'carol,,"first line\r\nsecond, line",1,0,0,0,1,50\r\n'
            'dave,," smile 😀",1,0,0,0,1,1\r\n'
            + ",".join(pmrow) + "\r\n")


def test_columns_values_bom_crlf(root, accounts):
    r = root.get(f"/domains/{D}/accounts.csv")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{D}-accounts.csv"'
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    body = r.content
    assert body.startswith(BOM) and not body[3:].startswith(BOM)
    text = body[3:].decode("utf-8")
    assert text == expected_text(accounts)
    # Every record ends in CRLF; the only other line break is the one inside carol's comment.
    assert text.endswith("\r\n") and text.count("\n") == text.count("\r\n") == 7
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == expected_rows(accounts)
    # mail_password is always empty.
    assert all(row[1] == "" for row in rows[1:])


def test_shift_jis(root, accounts):
    r = root.get(f"/domains/{D}/accounts.csv?charset=shift_jis")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
    body = r.content
    assert not body.startswith(BOM)
    # ① and 髙 are CP932 (NEC row 13, IBM extensions), not plain Shift_JIS; 髙 is FB FC as
    # Windows writes it (Python's codec would pick the NEC-selected ED E0; both read as 髙).
    # An emoji has no CP932 code.
    assert b"\x87\x40" in body and b"\xfb\xfc" in body and "ｶﾅ".encode("cp932") in body
    text = body.decode("cp932")
    assert text == expected_text(accounts).replace("😀", "?")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[2][2] == "営業部 髙橋①ｶﾅ"
    # Other names of the same charset, and UTF-8 by name.
    assert root.get(f"/domains/{D}/accounts.csv?charset=cp932").content == body
    assert root.get(f"/domains/{D}/accounts.csv?charset=SJIS").content == body
    assert root.get(f"/domains/{D}/accounts.csv?charset=utf-8").content.startswith(BOM)
    bad = root.get(f"/domains/{D}/accounts.csv?charset=latin1")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
    assert bad.json()["error"]["details"][0]["field"] == "charset"


def test_roles(panel, root, dadmin, support, client, db, accounts):
    path = f"/domains/{D}/accounts.csv"
    utf8 = root.get(path).content
    assert dadmin.get(path).status_code == 200 and dadmin.get(path).content == utf8
    # Outside the scope: 403, whether or not the domain exists.
    for d in ("other.test", "nosuch.test"):
        r = dadmin.get(f"/domains/{d}/accounts.csv")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    other = Client(panel.url)
    assert other.login("otheradmin", ADMIN_PW).status_code == 200
    assert other.get(path).status_code == 403
    assert other.get("/domains/other.test/accounts.csv").status_code == 200
    assert root.get("/domains/nosuch.test/accounts.csv").status_code == 404
    # SPEC §1: support and users have no CSV export.
    r = support.get(path)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    user = user_client(panel, f"alice@{D}", PW)
    assert user.get(path).status_code == 403
    assert user.get("/samples/mail-accounts-sample.csv").status_code == 403
    assert client.get(path).status_code == 401
    assert client.get("/samples/mail-accounts-sample.csv").status_code == 401
    assert support.get("/samples/mail-password-sample.csv").status_code == 403
    # Only GET.
    r = root.post(path)
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


def test_page_paths(panel, dadmin, root, accounts):
    """The /admin page paths of the CSV page's links answer the same files."""
    s = dadmin.s
    r = s.get(f"{panel.url}/admin/domains/{D}/accounts.csv", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert r.content == root.get(f"/domains/{D}/accounts.csv").content
    assert r.headers["Content-Disposition"].startswith("attachment;")
    r = s.get(f"{panel.url}/admin/domains/{D}/accounts.csv?charset=shift_jis")
    assert r.status_code == 200 and r.content.decode("cp932").startswith(HEADER)
    r = s.get(f"{panel.url}/admin/domains/other.test/accounts.csv", headers={"Accept": "text/html"})
    assert r.status_code == 403 and "text/html" in r.headers["Content-Type"]
    for name in ("mail-accounts-sample.csv", "mail-password-sample.csv"):
        r = s.get(f"{panel.url}/admin/samples/{name}")
        assert r.status_code == 200
        assert r.content == root.get(f"/samples/{name}").content


SAMPLE_CREATE = ("mail_account,password,mail_capacity,comment\r\n"
                 "yamada,Haru#Kaze-2026a,1024,営業部 山田\r\n"
                 'info,Natsu.Umi-2026b,2048,"Sales, Tokyo"\r\n')
SAMPLE_EDIT = ("mail_account,password,mail_capacity\r\n"
               "yamada,Aki#Sora-2026c,\r\n"
               "info,,4096\r\n")


def test_samples(root, dadmin):
    for name, want in (("mail-accounts-sample.csv", SAMPLE_CREATE),
                       ("mail-password-sample.csv", SAMPLE_EDIT)):
        r = dadmin.get(f"/samples/{name}")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        assert r.content == BOM + want.encode("utf-8")
        sj = dadmin.get(f"/samples/{name}?charset=shift_jis")
        assert sj.status_code == 200 and sj.content == want.encode("cp932")
    # The sample rows pass every rule: they create and edit real accounts.
    rows = list(csv.reader(io.StringIO(SAMPLE_CREATE, newline="")))
    for name, pw, quota, comment in rows[1:]:
        r = root.post("/domains/other.test/accounts",
                      {"name": name, "password": pw, "quota_mb": int(quota), "comment": comment})
        assert r.status_code == 201, r.text
    r = root.patch("/domains/other.test/accounts/yamada", {"password": "Aki#Sora-2026c"})
    assert r.status_code == 200, r.text


def seed_domain(db, domain, n):
    """n accounts of 250-character comments, straight into the database with postmaster's hash."""
    db.ctl("domain", "add", domain)
    db.execute(
        "INSERT INTO accounts (domain_id, name, password_hash, quota_mb, comment, usage_bytes, spam_tag) "
        "SELECT d.id, 'user' || lpad(i::text, 6, '0'), pm.password_hash, 100 + i %% 7, %s, i * 1000, i %% 2 = 0 "
        "FROM domains d JOIN accounts pm ON pm.domain_id = d.id AND pm.name = 'postmaster', "
        "generate_series(1, %s) AS i WHERE d.name = %s",
        (BIG_COMMENT, n, domain))


@pytest.fixture(scope="module")
def big(db):
    seed_domain(db, "mid.test", 1000)
    seed_domain(db, "big.test", 10000)
    return db


def check_big(body, n):
    assert body.startswith(BOM)
    rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))
    assert rows[0] == HEADER.split(",")
    assert len(rows) == n + 2     # the header, n rows and postmaster
    names = [row[0] for row in rows[1:]]
    assert names == sorted(names) and len(set(names)) == n + 1
    users = [row for row in rows[1:] if row[0] != "postmaster"]
    for row in (users[0], users[n // 2], users[-1]):
        i = int(row[0][4:])
        assert row == [f"user{i:06d}", "", BIG_COMMENT, str((i * 1000 + 1048575) // 1048576),
                       "1" if i % 2 == 0 else "0", "0", "0", "1", str(100 + i % 7)]


def vm(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])      # kB
    return out


def reset_peak(pid):
    """Make VmHWM start again from the current VmRSS (proc(5), clear_refs "5")."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def test_streamed_memory_does_not_grow(db, big):
    # Its own panel, so nothing else runs in it; ASan's quarantine of freed blocks (256 MB
    # by default) would otherwise keep every freed page resident.
    env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"}
    p = Panel(db, env=env)
    try:
        c = Client(p.url)
        assert c.login("root", ADMIN_PW).status_code == 200
        for _ in range(3):      # warm up: connections, statements, threads
            r = c.get("/domains/mid.test/accounts.csv")
            assert r.status_code == 200
        peaks, sizes, secs = {}, {}, {}
        for name, n, path in (("1,000", 1000, "/domains/mid.test/accounts.csv"),
                              ("10,000", 10000, "/domains/big.test/accounts.csv"),
                              ("10,000 sjis", 10000, "/domains/big.test/accounts.csv?charset=shift_jis")):
            reset_peak(p.proc.pid)
            before = vm(p.proc.pid)
            t = time.time()
            for _ in range(2):
                r = c.get(path)
                assert r.status_code == 200
            secs[name] = round((time.time() - t) / 2, 3)     # printed only, never checked
            peaks[name] = vm(p.proc.pid)["VmHWM"] - before["VmRSS"]
            sizes[name] = len(r.content)
            if "sjis" in name:
                assert len(r.content.decode("cp932").split("\r\n")) == n + 3
            else:
                check_big(r.content, n)
        print(f"\nexport bytes {sizes}; seconds each {secs}; VmHWM above VmRSS at the start, kB: {peaks}")
        assert sizes["10,000"] > 7_500_000
        # The 10,000-row file is 7 MB more than the 1,000-row one; built in memory it would
        # raise the peak by at least that. Streamed, about one page (~400 kB) is held.
        assert peaks["10,000"] - peaks["1,000"] < 2 * 1024, peaks
        assert peaks["10,000 sjis"] - peaks["1,000"] < 2 * 1024, peaks
    finally:
        p.stop()


def test_chunked_and_client_leaving(panel, root, big):
    """The answer is streamed (chunked, no length); clients leaving mid-way give the
    connection back: more of them than the pool holds, then a normal export still works."""
    url = f"{panel.url}/api/v1/domains/big.test/accounts.csv"
    r = root.s.get(url, stream=True)
    assert r.status_code == 200
    assert r.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in r.headers
    first = r.raw.read(4096)
    assert first.startswith(BOM + HEADER.encode())
    r.close()
    for _ in range(12):
        r = root.s.get(url, stream=True, timeout=20)
        assert r.status_code == 200
        r.raw.read(20000)
        r.close()
    r = root.get("/domains/mid.test/accounts.csv", timeout=20)
    assert r.status_code == 200
    check_big(r.content, 1000)


def test_slow_downloads_hold_no_connection(panel, root, big):
    """More stalled downloads than the pool has connections (workers + 2 = 10): the panel
    still answers everything else, and each download then completes."""
    url = f"{panel.url}/api/v1/domains/big.test/accounts.csv"
    stalled = []
    try:
        for _ in range(14):
            r = root.s.get(url, stream=True, timeout=60)
            assert r.status_code == 200
            it = r.iter_content(4096)
            stalled.append((r, it, next(it)))
        t = time.time()
        r = root.get(f"/domains/{D}/accounts", timeout=10)
        assert r.status_code == 200 and time.time() - t < 10
        for r, it, first in stalled[:2]:
            check_big(first + b"".join(it), 10000)
    finally:
        for r, _, _ in stalled:
            r.close()


def test_through_nginx_fastcgi(nginx_panel, root, big, accounts):  # noqa: F811
    """Over FastCGI the same bytes arrive, for a small and a multi-page domain."""
    s = requests.Session()
    r = s.post(nginx_panel + "/api/v1/admin/login", json={"username": "root", "password": ADMIN_PW})
    assert r.status_code == 200
    for path in (f"/domains/{D}/accounts.csv", "/domains/mid.test/accounts.csv",
                 "/domains/mid.test/accounts.csv?charset=shift_jis", "/samples/mail-accounts-sample.csv"):
        a = s.get(nginx_panel + "/api/v1" + path)
        b = root.get(path)
        assert a.status_code == b.status_code == 200, path
        assert a.content == b.content, path
        assert a.headers["Content-Type"] == b.headers["Content-Type"]
        assert a.headers["Content-Disposition"] == b.headers["Content-Disposition"]
    check_big(s.get(nginx_panel + "/api/v1/domains/big.test/accounts.csv").content, 10000)


def wait_job(c, job_id, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        j = c.get(f"/jobs/{job_id}").json()
        if j["state"] in ("done", "failed"):
            return j
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {j['state']}")


def edit_with(c, body, dry):
    r = c.call("POST", f"/domains/{D}/csv/edit" + ("?dry_run=1" if dry else ""), data=body,
               headers={"Content-Type": "text/csv"})
    assert r.status_code == 202, r.text
    return wait_job(c, r.json()["job"]["id"])


def test_round_trip_through_bulk_edit(root, db, accounts):
    """What export writes, bulk edit reads back (issue 8): the UTF-8 file as is changes
    nothing, and the Shift_JIS file reads without errors."""
    state = "SELECT a.name, a.comment, a.quota_mb, a.spam_tag, a.receive, a.password_hash " \
            "FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = %s ORDER BY a.name"
    before = db.query(state, (D,))
    utf8 = root.get(f"/domains/{D}/accounts.csv").content
    sjis = root.get(f"/domains/{D}/accounts.csv?charset=shift_jis").content
    job = edit_with(root, sjis, dry=True)
    assert job["state"] == "done" and job["errors"] == [], job
    job = edit_with(root, utf8, dry=False)
    assert job["state"] == "done" and job["errors"] == [], job
    assert db.query(state, (D,)) == before
    assert root.get(f"/domains/{D}/accounts.csv").content == utf8


def test_database_connection_lost_mid_stream(panel, root, db, big):
    """The connection the export holds is killed half-way: the next page reconnects (outside
    a transaction db_run retries once) and the file still arrives whole and in order."""
    r = root.s.get(f"{panel.url}/api/v1/domains/big.test/accounts.csv", stream=True, timeout=60)
    assert r.status_code == 200
    it = r.iter_content(16384)
    first = next(it)
    killed = db.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                      "AND application_name NOT LIKE 'psql%%'")[0][0]
    assert killed >= 1
    body = first + b"".join(it)
    check_big(body, 10000)
