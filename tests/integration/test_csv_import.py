# tests/integration/test_csv_import.py: CSV bulk create and bulk edit (SPEC §7, CONTRACT "CSV jobs"):
# every rule and error code collected with its line and column, all or nothing, CP932/BOM/CRLF,
# quoted fields, dry run, multipart, roles, job visibility, kill -9 mid-import, export round trip.
import os
import signal
import time

import psycopg2
import pytest

from accounts_util import PW, PW2, Listener, create, uniq, user_client
from conftest import ADMIN_PW, Client, Database, Panel

D = "example.test"
CREATE_HEADER = "mail_account,password,mail_capacity,comment"
EDIT_HEADER = "mail_account,password,mail_capacity"


def upload(c, text, kind="create", domain=D, dry=False, multipart=False, ctype="text/csv", enc="utf-8"):
    data = text if isinstance(text, bytes) else text.encode(enc)
    path = f"/domains/{domain}/csv/{kind}" + ("?dry_run=1" if dry else "")
    if multipart:
        return c.call("POST", path, files={"file": ("whatever.txt", data, "application/octet-stream")})
    return c.call("POST", path, data=data, headers={"Content-Type": ctype})


def wait_job(c, job_id, timeout=180):
    end = time.time() + timeout
    while time.time() < end:
        r = c.get(f"/jobs/{job_id}")
        assert r.status_code == 200, r.text
        j = r.json()
        if j["state"] in ("done", "failed"):
            return j
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {j['state']} after {timeout} s")


def run(c, text, kind="create", **kw):
    r = upload(c, text, kind, **kw)
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["kind"] == f"csv_{kind}" and job["state"] == "queued" and job["errors"] == []
    return wait_job(c, job["id"])


def errs(job):
    return [(e["line"], e["column"], e["code"]) for e in job["errors"]]


def count(db, names, domain=D):
    return db.query("SELECT count(*) FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = %s AND a.name = ANY(%s)", (domain, list(names)))[0][0]


def account(db, name, domain=D):
    rows = db.query("SELECT a.quota_mb, a.comment, a.password_hash, a.spam_tag, a.receive "
                    "FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = %s AND a.name = %s",
                    (domain, name))
    return rows[0] if rows else None


def csv_text(header, rows, nl="\n"):
    return nl.join([header] + rows) + nl


def test_create_hashes_notifies_audits_and_signs_in(panel, db, dadmin):
    a, b, c = uniq("ca"), uniq("cb"), uniq("cc")
    lst = Listener(db)
    lst.drain()
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{a},{PW},300,Sales", f"{b.upper()},{PW2},,", f"{c},{PW},1,x"]))
    assert job["state"] == "done", job
    assert job["errors"] == [] and job["done"] == 3 and job["total"] == 3
    assert job["created"] == 3 and job["dry_run"] is False and job["domain"] == D
    assert lst.wait(D)
    qa, ca, ha, spam, recv = account(db, a)
    assert (qa, ca) == (300, "Sales") and ha.startswith("$argon2id$v=19$") and not spam and recv
    # Empty capacity: the domain's default; names are stored lower-case.
    default = db.query("SELECT default_quota_mb FROM domains WHERE name = %s", (D,))[0][0]
    assert account(db, b)[0] == default and account(db, b)[1] == ""
    # The password is really hashed: the user signs in with it, and not with another.
    u = user_client(panel, f"{b}@{D}", PW2)
    assert u.get("/me").json()["login"] == f"{b}@{D}"
    assert Client(panel.url).login(f"{a}@{D}", PW2, side="mail").status_code == 401
    # One audit entry per account, as the single form writes, naming the job.
    rows = db.query("SELECT actor, actor_role, action, target, details->>'csv_job', details->>'quota_mb' "
                    "FROM audit_log WHERE target = ANY(%s) AND action = 'account_create' ORDER BY target",
                    ([f"{n}@{D}" for n in (a, b, c)],))
    assert [r[:4] for r in rows] == sorted([("dadmin", "domain_admin", "account_create", f"{n}@{D}")
                                            for n in (a, b, c)], key=lambda r: r[3])
    assert all(r[4] == str(job["id"]) for r in rows)
    # The file (it holds passwords) is gone from the jobs table once the job ends.
    assert db.query("SELECT input IS NULL, attempts FROM jobs WHERE id = %s", (job["id"],))[0] == (True, 1)


def test_five_errors_all_listed_nothing_written(db, dadmin, root):
    taken = uniq("tk")
    create(root, D, taken)
    good, g2, g3, g4 = uniq("g"), uniq("g"), uniq("g"), uniq("g")
    rows = [
        f"{good},{PW},100,ok",                  # 2: fine
        f"bad name,{PW},,",                      # 3: mail_account bad_char
        f"{g2},Sh0rt#pw,,",                      # 4: password too_short
        f"{g3},{PW},abc,",                       # 5: mail_capacity bad_quota
        f"{g4},{PW},,{'x' * 256}",               # 6: comment too_long
        f"{good.upper()},{PW},,",                # 7: duplicate of line 2
        f"postmaster,{PW},,",                    # 8: system_account
        f"{taken},{PW},,",                       # 9: exists
    ]
    job = run(dadmin, csv_text(CREATE_HEADER, rows))
    assert job["state"] == "failed"
    assert errs(job) == [
        (3, "mail_account", "bad_char"),
        (4, "password", "too_short"),
        (5, "mail_capacity", "bad_quota"),
        (6, "comment", "too_long"),
        (7, "mail_account", "duplicate"),
        (8, "mail_account", "system_account"),
        (9, "mail_account", "exists"),
    ]
    msgs = {e["code"]: e["message"] for e in job["errors"]}
    assert msgs["too_short"] == "Password must be at least 12 characters."
    assert "line 2" in msgs["duplicate"]
    assert count(db, [good, g2, g3, g4]) == 0
    assert job["created"] == 0


def test_messages_follow_the_uploaders_language(panel):
    ja = Client(panel.url, lang="ja")
    assert ja.login("dadmin", ADMIN_PW).status_code == 200
    job = run(ja, csv_text(CREATE_HEADER, [f"{uniq()},short,,"]))
    assert job["state"] == "failed"
    assert "パスワードは12文字以上で入力してください。" in [e["message"] for e in job["errors"]]


def test_every_rule_code(db, dadmin):
    n = [uniq("r") for _ in range(20)]
    rows = [
        (f"a,{PW},,", "mail_account", "bad_length"),
        (f"{'a' * 33},{PW},,", "mail_account", "bad_length"),
        (f"-ab,{PW},,", "mail_account", "bad_edge"),
        (f"a..b,{PW},,", "mail_account", "double_dot"),
        (f"ab@example.test,{PW},,", "mail_account", "bad_char"),
        (f",{PW},,", "mail_account", "required"),
        (f"{n[0]},,,", "password", "required"),
        (f"{n[1]},NOLOWER#12345x,,".replace("x", "X"), "password", "needs_lower"),
        (f"{n[2]},noupper#1234x,,", "password", "needs_upper"),
        (f"{n[3]},NoDigits#abcde,,", "password", "needs_digit"),
        (f"{n[4]},NoSymbol1234ab,,", "password", "needs_symbol"),
        (f"{n[5]},Pw#{n[5]}9,,", "password", "contains_name"),
        (f"{n[6]},abcD#123456x,,", "password", "digit_run"),
        (f"{n[7]},Aa#1{'x' * 130},,", "password", "too_long"),
        (f"{n[8]},Aa#1 spaced pw,,", "password", "bad_char"),
        (f"{n[9]},{PW},0,", "mail_capacity", "bad_quota"),
        (f"{n[10]},{PW},-5,", "mail_capacity", "bad_quota"),
        (f"{n[11]},{PW},1.5,", "mail_capacity", "bad_quota"),
        (f"{n[12]},{PW},99999999999,", "mail_capacity", "bad_quota"),
        (f"{n[13]},{PW},,{'髙' * 256}", "comment", "too_long"),
        (f"{n[14]},{PW},,ok,extra", None, "extra_cells"),
    ]
    job = run(dadmin, csv_text(CREATE_HEADER, [r[0] for r in rows]))
    assert job["state"] == "failed"
    got = errs(job)
    for i, (_, col, code) in enumerate(rows):
        assert (i + 2, col, code) in got, (i + 2, col, code, got)
    # Each line has only the errors its row deserves (the password rows one each).
    assert len([e for e in got if e[0] == 9]) == 1
    assert count(db, n) == 0
    # A comment of exactly 255 characters (not bytes) is fine.
    ok = uniq("ok")
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{ok},{PW},,{'髙' * 255}"]))
    assert job["state"] == "done", job
    assert account(db, ok)[1] == "髙" * 255


def test_header_errors(dadmin):
    cases = [
        ("mail_account,password,mail_capacity,comment,colour", [(1, "colour", "unknown_column")]),
        ("mail_account,comment", [(1, "password", "missing_column")]),
        ("comment,password", [(1, "mail_account", "missing_column")]),
        ("mail_account,password,password", [(1, "password", "duplicate_column")]),
        # The edit-only export columns are not part of a create file.
        ("mail_account,password,spam", [(1, "spam", "unknown_column")]),
    ]
    for header, want in cases:
        job = run(dadmin, csv_text(header, [f"{uniq()},{PW}"]))
        assert job["state"] == "failed" and errs(job) == want, (header, job)
    # Header names ignore case and surrounding spaces.
    job = run(dadmin, csv_text(" Mail_Account , PASSWORD ", [f"{uniq()},{PW}"]))
    assert job["state"] == "done", job


def test_file_level_errors(dadmin):
    # An empty body is no file at all.
    r = upload(dadmin, b"")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "required"
    for text, want in [
        ("\n\n", [(None, None, "empty")]),
        (CREATE_HEADER + "\n", [(None, None, "no_rows")]),
        (csv_text(CREATE_HEADER, [f"{uniq()},{PW},,ok", f'{uniq()},{PW},,a"b']), [(3, None, "bad_quote")]),
        (csv_text(CREATE_HEADER, [f"{uniq()},{PW},,ok", f'{uniq()},{PW},,"open']), [(3, None, "unterminated_quote")]),
    ]:
        job = run(dadmin, text)
        assert job["state"] == "failed" and errs(job) == want, (text, job)
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{uniq()},{PW},,"]).encode("utf-16"))
    assert job["state"] == "failed" and errs(job) == [(None, None, "utf16")]
    assert "UTF-16" in job["errors"][0]["message"]
    job = run(dadmin, b"mail_account,password\n\xff\xfe\xfd,x\n")
    assert job["state"] == "failed" and errs(job) == [(None, None, "bad_encoding")]


def test_cp932_bom_crlf_lf_and_quoted_fields(db, dadmin):
    # Shift_JIS as Excel in Japan writes it, CRLF, with a NEC special character in a comment.
    a, b = uniq("sj"), uniq("sj")
    text = csv_text(CREATE_HEADER, [f"{a},{PW},10,営業部 髙橋①", f'{b},{PW},,"ｶﾅ, ""引用"""'], nl="\r\n")
    job = run(dadmin, text.encode("cp932"))
    assert job["state"] == "done" and job["charset"] == "shift_jis", job
    assert account(db, a)[1] == "営業部 髙橋①" and account(db, b)[1] == 'ｶﾅ, "引用"'
    # UTF-8 with a BOM, LF.
    c = uniq("bom")
    job = run(dadmin, b"\xef\xbb\xbf" + csv_text(CREATE_HEADER, [f"{c},{PW},,😀 ok"]).encode())
    assert job["state"] == "done" and job["charset"] == "utf-8-bom", job
    assert account(db, c)[1] == "😀 ok"
    # Commas, quotes and line breaks inside quoted comments; the next record's line number
    # counts the file lines the quoted field spans (CONTRACT: where the record starts).
    d, e = uniq("q"), uniq("q")
    for nl in ("\n", "\r\n"):
        text = csv_text(CREATE_HEADER, [f'{d},{PW},,"first, line{nl}second ""quoted""{nl}third"',
                                        f"{e},Sh0rt#pw,,"], nl=nl)
        job = run(dadmin, text)
        assert job["state"] == "failed" and errs(job) == [(5, "password", "too_short")], (nl, job)
    text = csv_text(CREATE_HEADER, [f'{d},{PW},,"first, line\r\nsecond ""quoted"""', f"{e},{PW},,"], nl="\r\n")
    job = run(dadmin, text)
    assert job["state"] == "done", job
    assert account(db, d)[1] == 'first, line\r\nsecond "quoted"'
    # Empty lines between rows are skipped; a final line without a line break is read.
    f, g = uniq("e"), uniq("e")
    job = run(dadmin, f"{CREATE_HEADER}\n\n{f},{PW},,\n\n{g},{PW},,")
    assert job["state"] == "done" and job["created"] == 2, job


def test_bulk_edit(panel, db, dadmin, root):
    a, b, c = uniq("ed"), uniq("ed"), uniq("ed")
    create(root, D, a, quota_mb=100, comment="keep me")
    create(root, D, b, quota_mb=200, comment="b")
    create(root, D, c, quota_mb=300)
    old_hash_b = account(db, b)[2]
    ghost = uniq("ghost")
    # a: new password only; b: quota only (empty password = unchanged); c: nothing;
    # ghost does not exist: skipped, counted.
    text = csv_text(EDIT_HEADER, [f"{a},{PW2},", f"{b},,555", f"{c},,", f"{ghost},{PW2},10"])
    job = run(dadmin, text, "edit")
    assert job["state"] == "done", job
    assert (job["updated"], job["unchanged"], job["skipped"]) == (2, 1, 1)
    assert account(db, a)[:2] == (100, "keep me")
    assert account(db, b)[:3] == (555, "b", old_hash_b)
    assert account(db, c)[0] == 300
    assert count(db, [ghost]) == 0
    # The new password signs in; the old one no longer does.
    user_client(panel, f"{a}@{D}", PW2)
    assert Client(panel.url).login(f"{a}@{D}", PW, side="mail").status_code == 401
    assert db.query("SELECT fields FROM (SELECT details->'fields' AS fields FROM audit_log "
                    "WHERE target = %s AND action = 'account_update' ORDER BY id DESC LIMIT 1) x",
                    (f"{b}@{D}",))[0][0] == ["quota_mb"]
    # Any policy error rejects the whole file: b's quota stays, a's password stays.
    text = csv_text(EDIT_HEADER, [f"{b},,777", f"{a},weak,", f"{c},,0"])
    job = run(dadmin, text, "edit")
    assert job["state"] == "failed"
    assert errs(job) == [(3, "password", "too_short"), (3, "password", "needs_upper"),
                         (3, "password", "needs_digit"), (3, "password", "needs_symbol"),
                         (4, "mail_capacity", "bad_quota")], job
    assert account(db, b)[0] == 555
    # The new password must differ from the current one (SPEC §2), as in the single form.
    job = run(dadmin, csv_text(EDIT_HEADER, [f"{b},,9", f"{a},{PW2},"]), "edit")
    assert job["state"] == "failed" and errs(job) == [(3, "password", "same_as_current")], job
    assert account(db, b)[0] == 555
    # A duplicate row is an error in an edit too; a header-only edit column set works.
    job = run(dadmin, csv_text("mail_account,mail_capacity", [f"{b},1", f"{b},2"]), "edit")
    assert job["state"] == "failed" and errs(job) == [(3, "mail_account", "duplicate")]
    # The comment can be set by an edit; empty leaves it.
    job = run(dadmin, csv_text("mail_account,comment", [f"{a},new comment", f"{b},"]), "edit")
    assert job["state"] == "done", job
    assert account(db, a)[1] == "new comment" and account(db, b)[1] == "b"


def test_edit_password_ends_compromised_and_sessions(panel, db, dadmin, root):
    a = uniq("cmp")
    create(root, D, a)
    u = user_client(panel, f"{a}@{D}")
    assert root.post(f"/domains/{D}/accounts/{a}/compromised").status_code == 204
    job = run(dadmin, csv_text(EDIT_HEADER, [f"{a},{PW2},"]), "edit")
    assert job["state"] == "done", job
    assert db.query("SELECT compromised, must_change_password FROM accounts a JOIN domains d "
                    "ON d.id = a.domain_id WHERE d.name = %s AND a.name = %s", (D, a))[0] == (False, False)
    assert u.get("/me").status_code == 401
    user_client(panel, f"{a}@{D}", PW2)


def test_dry_run_changes_nothing(db, dadmin, root):
    a, b = uniq("dry"), uniq("dry")
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{a},{PW},,", f"{b},{PW},,"]), dry=True)
    assert job["state"] == "done" and job["errors"] == [] and job["dry_run"] is True, job
    assert job["created"] == 2 and job["done"] == job["total"] == 2
    assert count(db, [a, b]) == 0
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{a},{PW},,", f"{b},bad,,"]), dry=True)
    assert job["state"] == "failed" and [e[0] for e in errs(job)] == [3, 3, 3, 3]
    assert count(db, [a, b]) == 0
    create(root, D, a, quota_mb=50)
    before = account(db, a)
    job = run(dadmin, csv_text(EDIT_HEADER, [f"{a},{PW2},99", f"{b},{PW2},1"]), "edit", dry=True)
    assert job["state"] == "done" and (job["updated"], job["skipped"]) == (1, 1), job
    assert account(db, a) == before
    # The dry run of an edit checks the current password too.
    job = run(dadmin, csv_text(EDIT_HEADER, [f"{a},{PW},"]), "edit", dry=True)
    assert job["state"] == "failed" and errs(job) == [(2, "password", "same_as_current")]


def test_multipart_upload(db, dadmin):
    a = uniq("mp")
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{a},{PW},7,multi"]).encode("cp932"), multipart=True)
    assert job["state"] == "done", job
    assert account(db, a)[:2] == (7, "multi")
    # A dry run as a form field of the multipart body.
    b = uniq("mp")
    r = dadmin.call("POST", f"/domains/{D}/csv/create", data={"dry_run": "1"},
                    files={"file": ("x.csv", csv_text(CREATE_HEADER, [f"{b},{PW},,"]).encode(), "text/csv")})
    assert r.status_code == 202 and r.json()["job"]["dry_run"] is True
    assert wait_job(dadmin, r.json()["job"]["id"])["state"] == "done"
    assert count(db, [b]) == 0
    # A multipart body without the field `file`, or a JSON body, is no upload.
    r = dadmin.call("POST", f"/domains/{D}/csv/create", files={"other": ("x.csv", b"a,b\n", "text/csv")})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "file"
    r = dadmin.post(f"/domains/{D}/csv/create", {"file": "mail_account,password\n"})
    assert r.status_code == 422


def test_roles_and_csrf(panel, db, dadmin, support, root):
    text = csv_text(CREATE_HEADER, [f"{uniq()},{PW},,"])
    other = Client(panel.url)
    assert other.login("otheradmin", ADMIN_PW).status_code == 200
    # Domain scope first: another domain is 403 whether or not it exists.
    for d in (D, "nosuch.test"):
        r = upload(other, text, domain=d)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert upload(root, text, domain="nosuch.test").status_code == 404
    # Support and users may not import (SPEC §1).
    for kind in ("create", "edit"):
        assert upload(support, text, kind).status_code == 403
    name = uniq("usr")
    create(root, D, name)
    user = user_client(panel, f"{name}@{D}")
    assert upload(user, text).status_code == 403
    # A cookie session must carry its CSRF token.
    r = dadmin.call("POST", f"/domains/{D}/csv/create", data=text.encode(),
                    headers={"Content-Type": "text/csv", "X-CSRF-Token": "nope"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    assert Client(panel.url).call("POST", f"/domains/{D}/csv/create", data=text.encode(),
                                  headers={"Content-Type": "text/csv"}).status_code == 401
    # An API token needs no CSRF header.
    r = root.post("/tokens", {"label": "csv", "role": "domain_admin", "domains": [D]})
    assert r.status_code == 201, r.text
    tok = Client(panel.url)
    tok.s.headers["Authorization"] = "Bearer " + r.json()["token"]
    r = upload(tok, text)
    assert r.status_code == 202
    assert wait_job(tok, r.json()["job"]["id"])["state"] == "done"


def test_job_visibility(panel, db, dadmin, support, root):
    r = upload(dadmin, csv_text(CREATE_HEADER, [f"{uniq()},{PW},,"]))
    jid = r.json()["job"]["id"]
    wait_job(dadmin, jid)
    assert root.get(f"/jobs/{jid}").status_code == 200
    assert support.get(f"/jobs/{jid}").status_code == 200
    other = Client(panel.url)
    assert other.login("otheradmin", ADMIN_PW).status_code == 200
    assert other.get(f"/jobs/{jid}").status_code == 404
    assert dadmin.get("/jobs/999999999").status_code == 404
    assert dadmin.get("/jobs/abc").status_code == 404
    # maild's jobs (purge_mail here; no maild runs, so it stays queued) through the same path.
    name = uniq("pj")
    create(root, D, name)
    r = dadmin.post(f"/domains/{D}/accounts/{name}/purge-mail")
    assert r.status_code == 202
    pj = r.json()["job"]["id"]
    j = dadmin.get(f"/jobs/{pj}").json()
    assert (j["kind"], j["state"], j["account"], j["errors"]) == ("purge_mail", "queued", name, [])
    assert other.get(f"/jobs/{pj}").status_code == 404
    # A user sees the jobs of their own account only.
    user = user_client(panel, f"{name}@{D}")
    assert user.get(f"/jobs/{pj}").status_code == 200
    assert user.get(f"/me/jobs/{pj}").status_code == 200
    assert user.get(f"/jobs/{jid}").status_code == 404
    r = user.post("/me/purge-mail")
    assert r.status_code == 202
    own = r.json()["job"]["id"]
    assert user.get(f"/jobs/{own}").json()["kind"] == "purge_mail"
    name2 = uniq("pj")
    create(root, D, name2)
    assert user_client(panel, f"{name2}@{D}").get(f"/jobs/{own}").status_code == 404
    assert Client(panel.url).get(f"/jobs/{jid}").status_code == 401


def test_orphaned_job_retaken_and_given_up_after_three_attempts(db, dadmin):
    # A job left `running` by a panel that is gone (no runner holds its lock) is taken again
    # at once; one that has already stopped three panels is marked failed instead.
    text = csv_text(CREATE_HEADER, [f"{uniq('orph')},{PW},,"]).encode()
    for attempts, want in ((1, "done"), (3, "failed")):
        jid = db.query("INSERT INTO jobs (kind, domain, actor, state, attempts, worker, params, input) "
                       "VALUES ('csv_create', %s, 'dadmin', 'running', %s, 'panel:gone', "
                       "'{\"lang\": \"en\"}', %s) RETURNING id", (D, attempts, text))[0][0]
        job = wait_job(dadmin, jid, timeout=30)
        assert job["state"] == want, job
        if want == "failed":
            assert errs(job) == [(None, None, "worker_died")]
    assert db.query("SELECT attempts FROM jobs WHERE id = %s", (jid,))[0][0] == 4


def test_kill_9_mid_import_leaves_nothing_and_the_job_runs_again():
    """3,000 rows; the panel is killed while the import transaction holds a batch of them."""
    db = Database()     # its own: the module's panel must not take the job
    db.ctl("domain", "add", D)
    db.ctl("admin", "add", "dadmin", "--role", "domain_admin", "--domain", D, "--password-stdin",
           stdin=ADMIN_PW + "\n")
    names = [f"kill{i:05d}" for i in range(3000)]
    text = csv_text(CREATE_HEADER, [f"{n},{PW},5,kill test" for n in names])
    # Cheaper Argon2 than the default keeps the suite short; the import still takes seconds.
    p1 = Panel(db, extra_config="argon2_m_kib = 8192\nargon2_t = 1\n")
    try:
        c = Client(p1.url)
        assert c.login("dadmin", ADMIN_PW).status_code == 200
        r = upload(c, text)
        assert r.status_code == 202
        jid = r.json()["job"]["id"]
        end = time.time() + 600
        while True:
            j = c.get(f"/jobs/{jid}").json()
            # Progress is visible while the import transaction is open, its rows are not.
            if j["state"] == "running" and j["done"] >= 1200:
                break
            assert j["state"] in ("queued", "running") and time.time() < end, j
            time.sleep(0.05)
        assert j["total"] == 3000
        assert count(db, names) == 0
        # The first batch sits in the open transaction of the panel.
        open_tx = db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND state LIKE 'idle in transaction%%'")[0][0]
        os.kill(p1.proc.pid, signal.SIGKILL)
        p1.proc.wait()
        assert open_tx >= 1
    finally:
        if p1.proc.poll() is None:
            p1.proc.kill()
            p1.proc.wait()
        p1.log.close()
    try:
        time.sleep(0.5)
        assert count(db, names) == 0
        assert db.query("SELECT state, attempts FROM jobs WHERE id = %s", (jid,))[0] == ("running", 1)
        assert db.query("SELECT count(*) FROM audit_log WHERE target LIKE 'kill%%'")[0][0] == 0
        # The next panel takes the orphaned job at once and imports every row in one go.
        p2 = Panel(db, extra_config="argon2_m_kib = 1024\nargon2_t = 1\n")
        try:
            c = Client(p2.url)
            assert c.login("dadmin", ADMIN_PW).status_code == 200
            j = wait_job(c, jid, timeout=600)
            assert j["state"] == "done" and j["created"] == 3000 and j["errors"] == [], j
            assert count(db, names) == 3000
            assert db.query("SELECT attempts FROM jobs WHERE id = %s", (jid,))[0][0] == 2
            assert db.query("SELECT count(*) FROM audit_log WHERE target LIKE 'kill%%'")[0][0] == 3000
            user_client(p2, f"{names[1234]}@{D}", PW)
        finally:
            p2.stop()
    finally:
        db.drop()


def snapshot(db, domain):
    return db.query("SELECT a.name, a.quota_mb, a.comment, a.password_hash, a.spam_tag, a.receive "
                    "FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = %s ORDER BY a.name",
                    (domain,))


def test_round_trip_export_then_edit_import(db, root):
    for dom in ("rt.test", "rtsj.test"):
        assert root.post("/domains", {"name": dom, "default_quota_mb": 100}).status_code == 201
        create(root, dom, "alice", quota_mb=300, comment='Sales, "Tokyo" office')
        create(root, dom, "bob", quota_mb=100, comment="営業部 髙橋①ｶﾅ")
        create(root, dom, "carol", quota_mb=50, comment="first line\r\nsecond, line")
        create(root, dom, "dave", quota_mb=1, comment=" leading and trailing ")
        assert root.patch(f"/domains/{dom}/accounts/alice", {"spam_tag": True}).status_code == 200
        assert root.patch(f"/domains/{dom}/accounts/bob", {"receive": False}).status_code == 200
    create(root, "rt.test", "erin", comment="😀 not in CP932")
    for dom, query in (("rt.test", ""), ("rtsj.test", "?charset=shift_jis")):
        before = snapshot(db, dom)
        r = root.get(f"/domains/{dom}/accounts.csv{query}")
        assert r.status_code == 200, r.text
        job = run(root, r.content, "edit", domain=dom)
        assert job["state"] == "done" and job["errors"] == [], job
        assert job["skipped"] == 0 and job["updated"] == len(before)
        assert job["charset"] == ("shift_jis" if query else "utf-8-bom")
        assert snapshot(db, dom) == before
        # Changing a cell of the exported file changes that account only.
        text = r.content.decode("cp932" if query else "utf-8-sig")
        lines = text.split("\r\n")
        i = next(k for k, line in enumerate(lines) if line.startswith("dave,"))
        assert lines[i].endswith(",1")
        lines[i] = lines[i][:-2] + ",77"
        job = run(root, "\r\n".join(lines).encode("cp932" if query else "utf-8"), "edit", domain=dom)
        assert job["state"] == "done", job
        after = snapshot(db, dom)
        assert [a for a in after if a[0] != "dave"] == [b for b in before if b[0] != "dave"]
        assert [a[1] for a in after if a[0] == "dave"] == [77]


def test_samples_import(db, root):
    assert root.post("/domains", {"name": "sample.test", "default_quota_mb": 100}).status_code == 201
    r = root.get("/samples/mail-accounts-sample.csv")
    assert r.status_code == 200
    job = run(root, r.content, domain="sample.test")
    assert job["state"] == "done" and job["created"] >= 1, job
    r = root.get("/samples/mail-password-sample.csv?charset=shift_jis")
    job = run(root, r.content, "edit", domain="sample.test")
    assert job["state"] == "done" and job["errors"] == [], job


def test_two_panels_share_the_queue_each_job_once():
    db = Database()
    db.ctl("domain", "add", D)
    db.ctl("admin", "add", "dadmin", "--role", "domain_admin", "--domain", D, "--password-stdin",
           stdin=ADMIN_PW + "\n")
    panels = []
    try:
        for _ in range(2):
            panels.append(Panel(db, extra_config="argon2_m_kib = 4096\nargon2_t = 1\n"))
        c = Client(panels[0].url)
        assert c.login("dadmin", ADMIN_PW).status_code == 200
        ids = []
        for k in range(4):
            text = csv_text(CREATE_HEADER, [f"two{k}x{i:04d},{PW},," for i in range(300)])
            r = upload(c, text)
            assert r.status_code == 202
            ids.append(r.json()["job"]["id"])
        for jid in ids:
            assert wait_job(c, jid, timeout=600)["state"] == "done"
        rows = db.query("SELECT attempts, split_part(worker, ':', 3) FROM jobs WHERE id = ANY(%s)", (ids,))
        assert all(a == 1 for a, _ in rows)
        assert len({w for _, w in rows}) == 2, rows
        assert db.query("SELECT count(*) FROM accounts WHERE name LIKE 'two%%'")[0][0] == 1200
    finally:
        for p in panels:
            p.stop()
        db.drop()


def test_reader_limits_and_export_flags(db, dadmin, root):
    # A cell over 4,096 bytes, a row of more than 32 cells: the reader's bounds, with the line.
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{uniq()},{PW},,ok", f"{uniq()},{PW},,{'x' * 4097}"]))
    assert job["state"] == "failed" and errs(job) == [(3, None, "cell_too_long")], job
    job = run(dadmin, csv_text(CREATE_HEADER, [f"{uniq()},{PW},,ok" + ",," * 20]))
    assert job["state"] == "failed" and errs(job) == [(2, None, "too_many_cells")], job
    # More than 100,000 rows.
    job = run(dadmin, CREATE_HEADER + "\n" + "".join(f"lim{i:06d},{PW},,\n" for i in range(100001)))
    assert job["state"] == "failed" and errs(job) == [(100002, None, "too_many_records")], errs(job)[:3]
    # Past 10,000 errors the list stops with a note, and a format error at the end still shows.
    job = run(dadmin, CREATE_HEADER + "\n" + "a,b\n" * 10001 + '"open\n')
    assert job["state"] == "failed" and len(job["errors"]) == 10002, len(job["errors"])
    assert (10003, None, "unterminated_quote") in errs(job)
    assert errs(job)[-1] == (None, None, "too_many_errors")
    # More than 32 MB is refused at the door.
    r = upload(dadmin, b"x" * (32 * 1024 * 1024 + 1))
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "too_large"
    # The export's spam and pop columns set the spam tag and receive in an edit; its
    # read-only columns are accepted and ignored; anything but 0, 1 or empty is refused.
    a = uniq("fl")
    create(root, D, a)
    hdr = "mail_account,mail_password,comment,amount_of_mail_box,spam,forward,auto,pop,mail_capacity"
    job = run(dadmin, csv_text(hdr, [f"{a},,,99,1,1,1,0,"]), "edit")
    assert job["state"] == "done", job
    assert account(db, a)[3:] == (True, False)
    job = run(dadmin, csv_text(hdr, [f"{a},,,,yes,,,2,"]), "edit")
    assert job["state"] == "failed" and errs(job) == [(2, "spam", "bad_flag"), (2, "pop", "bad_flag")]
    assert account(db, a)[3:] == (True, False)


def test_sigterm_mid_import_puts_the_job_back():
    db = Database()
    db.ctl("domain", "add", D)
    db.ctl("admin", "add", "dadmin", "--role", "domain_admin", "--domain", D, "--password-stdin",
           stdin=ADMIN_PW + "\n")
    try:
        names = [f"term{i:04d}" for i in range(1500)]
        p1 = Panel(db, extra_config="argon2_m_kib = 8192\nargon2_t = 1\n")
        c = Client(p1.url)
        assert c.login("dadmin", ADMIN_PW).status_code == 200
        jid = upload(c, csv_text(CREATE_HEADER, [f"{n},{PW},," for n in names])).json()["job"]["id"]
        end = time.time() + 600
        while c.get(f"/jobs/{jid}").json()["done"] < 1100:
            assert time.time() < end
            time.sleep(0.05)
        t = time.time()
        p1.stop()           # SIGTERM: the runner stops between two hashes; no leak, no hang
        assert time.time() - t < 15
        assert count(db, names) == 0
        assert db.query("SELECT state, attempts, worker FROM jobs WHERE id = %s", (jid,))[0] == ("queued", 0, None)
        p2 = Panel(db, extra_config="argon2_m_kib = 1024\nargon2_t = 1\n")
        try:
            c = Client(p2.url)
            assert c.login("dadmin", ADMIN_PW).status_code == 200
            j = wait_job(c, jid, timeout=600)
            assert j["state"] == "done" and j["created"] == 1500, j
            assert db.query("SELECT attempts FROM jobs WHERE id = %s", (jid,))[0][0] == 1
        finally:
            p2.stop()
    finally:
        db.drop()
