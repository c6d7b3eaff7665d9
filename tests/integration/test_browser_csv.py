# tests/integration/test_browser_csv.py: the CSV pages. Headless Chromium: a domain admin uploads a CSV with several errors (every error listed, nothing written), the corrected Shift_JIS file (confirmation, progress bar, report, the accounts in the list), then a bulk edit on the Japanese page with JavaScript off; and the pages' refusals over plain HTTP.
import ctypes
import os
import re
import tempfile

import requests

from browser_util import run_browser
from conftest import ADMIN_PW, BUILD

ROWS = 40
SODIUM = ctypes.CDLL("libsodium.so.23")


def verifies(password, phc):
    """The stored Argon2id string matches the password (libsodium, as core/password.c)."""
    assert SODIUM.sodium_init() >= 0
    return SODIUM.crypto_pwhash_str_verify(phc.encode(), password.encode(), len(password.encode())) == 0


def pw(i, tag):
    return f"{tag}{i % 10}#mZ{(i * 3) % 10}pWx{chr(97 + i % 26)}Lqv"


def write(d, name, text, encoding):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(text.encode(encoding))
    return path


def test_browser_csv_import(panel, db):
    db.execute("DELETE FROM ip_failures")
    d = tempfile.mkdtemp(prefix="yubin-csv-browser-")
    # Lines 3 to 7 each break a rule; line 2 is fine, so the file is all or nothing.
    bad = write(d, "bad.csv", "\ufeffmail_account,password,mail_capacity,comment\r\n"
                "csv-ok," + pw(1, "Kq") + ",100,fine\r\n"
                "bad..name," + pw(2, "Kq") + ",100,\r\n"
                "csv-short,abc,100,\r\n"
                "csv-ok," + pw(3, "Kq") + ",100,again\r\n"
                "postmaster," + pw(4, "Kq") + ",100,\r\n"
                "csv-cap," + pw(5, "Kq") + ",zero,\r\n", "utf-8")
    good_lines = ["mail_account,password,mail_capacity,comment"]
    for i in range(ROWS):
        comment = f'"営業部, 東京 {i}"' if i % 2 else f"営業部 {i}"
        good_lines.append(f"csv-a{i:02d},{pw(i, 'Kq')},100,{comment}")
    good = write(d, "good.csv", "\r\n".join(good_lines) + "\r\n", "cp932")
    edit_lines = ["mail_account,password,mail_capacity"]
    for i in range(ROWS):
        edit_lines.append(f"csv-a{i:02d},{pw(i, 'Rt')},{200 if i % 2 == 0 else ''}")
    edit_lines.append(f"csv-nobody,{pw(99, 'Rt')},300")
    edit = write(d, "edit.csv", "\n".join(edit_lines) + "\n", "utf-8")

    run_browser("csv_import.mjs", panel.url, "dadmin", ADMIN_PW, "example.test", bad, good, edit, ROWS,
                BUILD, timeout=900)

    rows = db.query("SELECT a.name, a.comment, a.quota_mb, a.password_hash FROM accounts a "
                    "JOIN domains d ON d.id = a.domain_id WHERE d.name = 'example.test' "
                    "AND a.name LIKE 'csv-%%' ORDER BY a.name")
    # Nothing of the rejected file, every row of the corrected one, the edit applied.
    assert [r[0] for r in rows] == [f"csv-a{i:02d}" for i in range(ROWS)]
    for i, (name, comment, quota, phc) in enumerate(rows):
        assert comment == (f"営業部, 東京 {i}" if i % 2 else f"営業部 {i}"), (name, comment)
        assert quota == (200 if i % 2 == 0 else 100), (name, quota)
        if i % 13 == 0:   # a few: each check costs a hash
            assert verifies(pw(i, "Rt"), phc), name
            assert not verifies(pw(i, "Kq"), phc), name
    jobs = db.query("SELECT kind, state, params->>'dry_run' FROM jobs WHERE kind LIKE 'csv%%' ORDER BY id")
    assert [(k, s) for k, s, _ in jobs] == [("csv_create", "failed"), ("csv_create", "done"), ("csv_edit", "done")]
    assert all(dr in (None, "false") for _, _, dr in jobs), jobs
    for shot in ("csv-import-errors.png", "csv-import-done.png", "csv-import-edit-ja.png"):
        assert os.path.getsize(os.path.join(BUILD, shot)) > 10000, shot


def html_session(panel, login):
    s = requests.Session()
    s.headers["Accept-Language"] = "en"
    r = s.post(panel.url + "/admin/login", data={"username": login, "password": ADMIN_PW}, allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return s


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_csv_pages_refusals(panel, db, dadmin):
    """The pages without a browser: who may see them, and what the confirmation refuses."""
    db.execute("DELETE FROM ip_failures")
    url = panel.url + "/admin/domains/example.test/csv"
    s = html_session(panel, "dadmin")
    page = s.get(url)
    assert page.status_code == 200 and 'id="csv-upload"' in page.text
    assert "Content-Security-Policy" in page.headers and "<script>" not in page.text
    csrf = csrf_of(page.text)
    confirm = url + "/confirm"
    # No CSRF token: refused before anything is read.
    r = s.post(confirm, data={"mode": "create"}, files={"file": ("a.csv", b"mail_account\r\n")})
    assert r.status_code == 403
    # No file, a UTF-16 file, a broken quote: the form again with the reason; no job.
    r = s.post(confirm, data={"csrf_token": csrf, "mode": "create"}, files={"other": ("x", b"y")})
    assert r.status_code == 422 and 'id="file-error"' in r.text and "Choose a CSV file." in r.text
    r = s.post(confirm, data={"csrf_token": csrf, "mode": "edit"},
               files={"file": ("a.csv", "mail_account,password\r\n".encode("utf-16"))})
    assert r.status_code == 422 and "UTF-16" in r.text
    assert re.search(r'id="mode-edit" checked', r.text), "the chosen operation is kept"
    r = s.post(confirm, data={"csrf_token": csrf, "mode": "create"},
               files={"file": ("a.csv", b'mail_account,password,mail_capacity,comment\r\nx"y,a,1,\r\n')})
    assert r.status_code == 422 and "(Line 2)" in r.text, r.text[-2000:]
    r = s.post(confirm, data={"csrf_token": csrf, "mode": "nothing"}, files={"file": ("a.csv", b"a\r\n")})
    assert r.status_code == 422 and 'id="mode-error"' in r.text
    # The confirmation itself writes nothing and starts nothing.
    before = db.query("SELECT count(*) FROM jobs")[0][0]
    r = s.post(confirm, data={"csrf_token": csrf, "mode": "create", "dry_run": "1"},
               files={"file": ("a.csv", "mail_account,password,mail_capacity,comment\r\nx1,Kq1#mZ3pWxa,1,\r\n"
                               .encode("cp932"))})
    assert r.status_code == 200 and 'id="confirm-rows">1<' in r.text and 'name="dry_run" value="1"' in r.text
    assert db.query("SELECT count(*) FROM jobs")[0][0] == before

    # Support may not import (SPEC §2); another domain's admin sees neither page nor job.
    job = dadmin.post("/domains/example.test/csv/create?dry_run=1", data=b"mail_account,password,mail_capacity,comment\r\n",
                      headers={"Content-Type": "text/csv"})
    assert job.status_code == 202, job.text
    jid = job.json()["job"]["id"]
    assert s.get(f"{panel.url}/admin/jobs/{jid}").status_code == 200
    assert s.get(f"{panel.url}/admin/jobs/{jid + 1000}").status_code == 404
    sup = html_session(panel, "support1")
    assert sup.get(url).status_code == 403
    assert sup.get(f"{panel.url}/admin/jobs/{jid}").status_code == 403
    other = html_session(panel, "otheradmin")
    assert other.get(url).status_code == 403
    assert other.get(f"{panel.url}/admin/jobs/{jid}").status_code == 403
    # Japanese.
    ja = s.get(url + "?lang=ja")
    assert "CSV一括登録・一括変更" in ja.text and "アカウント一覧をエクスポート" in ja.text
