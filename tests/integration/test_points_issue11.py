# tests/integration/test_points_issue11.py: issue 11, the points the other suites left thin: every
# SPEC §2 action through its confirmation page and its completion message in ja and en (point 1), the
# status labels in the list and on the account page in both languages (point 2), and the message size
# limit of SPEC §8 with the default 100 MB: SIZE advertised, 552 5.3.4 for a larger declared size and for
# a body that grows past it, with maild's memory not growing with the body (point 4).
import glob
import json
import os
import re
import smtplib

import pytest

from accounts_util import PW, create, uniq
from conftest import ADMIN_PW, SRC, Client
from maild_util import Maild, add_account
from user_util import USER_PW, Browser, clear_throttle, make_user

D = "example.test"


def messages(lang):
    """Every i18n string of a language: templates/i18n/<lang>.json and <lang>/*.json."""
    out = {}
    for p in [os.path.join(SRC, "templates", "i18n", f"{lang}.json")] + \
            sorted(glob.glob(os.path.join(SRC, "templates", "i18n", lang, "*.json"))):
        with open(p, encoding="utf-8") as f:
            out.update(json.load(f))
    return out


MSG = {"ja": messages("ja"), "en": messages("en")}


def done_text(lang, key):
    t = MSG[lang][f"done_{key}"]
    other = MSG["en" if lang == "ja" else "ja"][f"done_{key}"]
    assert t and t != other, key
    if lang == "ja":
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t), t
    return t


def completed(b, r, lang, key):
    """A 303 to a page with ?done=key, and that page shows the message in the language."""
    assert r.status_code == 303, (r.status_code, r.text[:500])
    loc = r.headers["Location"]
    assert f"done={key}" in loc, loc
    page = b.get(loc)
    assert page.status_code == 200
    text = page.text.replace("&#39;", "'").replace("&quot;", '"')
    assert done_text(lang, key) in text, (lang, key)


def confirmation(b, path):
    """A server-rendered page with a POST form and a CSRF field: nothing has changed yet."""
    r = b.get(path)
    assert r.status_code == 200, (path, r.status_code)
    assert re.search(r'<form[^>]*method="post"', r.text, re.I) and 'name="csrf_token"' in r.text, path
    return r


def row(db, name):
    return db.query("SELECT spam_tag, spam_sort, receive FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = %s AND a.name = %s", (D, name))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_admin_actions_confirm_then_complete(panel, db, dadmin, lang):
    clear_throttle(db)
    b = Browser(panel.url, lang=lang)
    assert b.login("admin", "dadmin", ADMIN_PW).status_code == 303
    n = uniq("c" + lang)
    acct = f"/admin/domains/{D}/accounts/{n}"
    # Create (a form, then its completion message).
    b.get(f"/admin/domains/{D}/new-account")
    completed(b, b.post(f"/admin/domains/{D}/accounts", {"name": n, "password": PW, "quota_mb": "",
                                                         "comment": ""}), lang, "created")
    # Spam tag, spam sort, receive: a confirmation first, then the change.
    for field, on, after in (("spam_tag", "1", (True, False, True)), ("spam_sort", "1", (True, True, True)),
                             ("receive", "0", (True, True, False))):
        before = row(db, n)
        confirmation(b, f"{acct}/toggle?field={field}&value={on}")
        assert row(db, n) == before, field
        completed(b, b.post(acct, {"_method": "PATCH", field: on}), lang, "saved")
        assert row(db, n) == [after], field
    # A forward deleted through its confirmation.
    assert dadmin.post(f"/domains/{D}/accounts/{n}/forwards",
                       {"condition": "all", "addresses": ["fw@elsewhere.example"]}).status_code == 201
    rid = db.query("SELECT r.id FROM forward_rules r JOIN accounts a ON a.id = r.account_id "
                   "WHERE a.name = %s", (n,))[0][0]
    confirmation(b, f"{acct}/forwards/{rid}/delete")
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (rid,)) == [(1,)]
    completed(b, b.post(f"{acct}/forwards/{rid}", {"_method": "DELETE"}), lang, "forwards_deleted")
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (rid,)) == [(0,)]
    # Delete mail data.
    confirmation(b, f"{acct}/purge-mail")
    assert db.query("SELECT count(*) FROM jobs WHERE kind = 'purge_mail' AND account = %s", (n,)) == [(0,)]
    completed(b, b.post(f"{acct}/purge-mail", {}), lang, "purge_started")
    assert db.query("SELECT count(*) FROM jobs WHERE kind = 'purge_mail' AND account = %s", (n,)) == [(1,)]
    # Delete one account.
    confirmation(b, f"{acct}/delete")
    assert dadmin.get(f"/domains/{D}/accounts/{n}").status_code == 200
    completed(b, b.post(acct, {"_method": "DELETE"}), lang, "deleted")
    assert dadmin.get(f"/domains/{D}/accounts/{n}").status_code == 404
    # Delete several: one confirmation, one completion.
    x, y = uniq("bx" + lang), uniq("by" + lang)
    create(dadmin, D, x)
    create(dadmin, D, y)
    confirmation(b, f"/admin/domains/{D}/delete-accounts?names[]={x}&names[]={y}")
    assert dadmin.get(f"/domains/{D}/accounts/{x}").status_code == 200
    completed(b, b.post(f"/admin/domains/{D}/accounts/delete", {"names[]": [x, y]}), lang, "accounts_bulk_deleted")
    assert dadmin.get(f"/domains/{D}/accounts/{x}").status_code == 404
    assert dadmin.get(f"/domains/{D}/accounts/{y}").status_code == 404


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_user_actions_confirm_then_complete(panel, db, lang):
    clear_throttle(db)
    name = f"self{lang}"
    addr = make_user(db, name)
    b = Browser(panel.url, lang=lang)
    assert b.login("mail", addr, USER_PW).status_code == 303
    for field, on, after in (("spam_tag", "1", (True, False, True)), ("spam_sort", "1", (True, True, True)),
                             ("receive", "0", (True, True, False))):
        before = row(db, name)
        r = confirmation(b, f"/mail/account/confirm/{field}?value={on}")
        if field == "spam_sort":
            # SPEC §5: the note that spam sort hides spam from a POP3 mail program.
            assert 'id="pop3-note"' in r.text and MSG[lang]["spam_sort_pop3_note"] in r.text
        assert row(db, name) == before, field
        completed(b, b.post("/mail/account", {"_method": "PATCH", field: on}), lang, "saved")
        assert row(db, name) == [after], field
    # A forward deleted through its confirmation.
    b.get("/mail/forwards")
    assert b.post("/mail/forwards", {"condition": "all", "addresses": "keep@elsewhere.example"}).status_code == 303
    rid = db.query("SELECT r.id FROM forward_rules r JOIN accounts a ON a.id = r.account_id "
                   "WHERE a.name = %s", (name,))[0][0]
    confirmation(b, f"/mail/forwards/{rid}/delete")
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (rid,)) == [(1,)]
    completed(b, b.post(f"/mail/forwards/{rid}", {"_method": "DELETE"}), lang, "forwards_deleted")
    # Delete mail data.
    confirmation(b, "/mail/purge-mail")
    assert not db.query("SELECT 1 FROM jobs WHERE kind = 'purge_mail' AND account = %s", (name,))
    completed(b, b.post("/mail/purge-mail", {}), lang, "purge_started")
    # Start a mail data copy: the form, the confirmation (own password and source password there).
    b.get("/mail/mail-copy")
    r = b.post("/mail/mail-copy/confirm", {"source_host": "imap.example.jp", "source_login": "",
                                           "notify_address": "me@example.jp"})
    assert r.status_code == 200 and 'name="source_password" type="password"' in r.text
    assert not db.query("SELECT 1 FROM jobs WHERE kind = 'mail_copy' AND account = %s", (name,))
    completed(b, b.post("/mail/mail-copy", {"confirm_step": "1", "source_host": "imap.example.jp",
                                            "source_login": addr, "notify_address": "me@example.jp",
                                            "source_password": "src-pw", "password": USER_PW}),
              lang, "mail_copy_started")
    assert len(db.query("SELECT 1 FROM jobs WHERE kind = 'mail_copy' AND account = %s", (name,))) == 1
    # The autoresponder is deleted without a confirmation (SPEC §2), with a completion message.
    b.get("/mail/autoreply")
    assert b.post("/mail/autoreply", {"_method": "PUT", "text": "不在です", "start_at": "", "end_at": ""}).status_code == 303
    b.get("/mail/autoreply")
    completed(b, b.post("/mail/autoreply", {"_method": "DELETE"}), lang, "autoreply_deleted")


LABELS = {
    "compromised": ("UPDATE accounts SET compromised = true WHERE name = %s", "status_compromised"),
    "locked": ("INSERT INTO auth_failures (login, failures, locked_until, locked_at) "
               "VALUES (%s || '@example.test', 10, now() + interval '1 hour', now())", "status_locked"),
    "sendlock": ("UPDATE accounts SET send_locked_at = now() WHERE name = %s", "status_send_locked"),
    "overquota": ("UPDATE accounts SET quota_mb = 1, usage_bytes = 2 * 1048576 WHERE name = %s", "status_over_quota"),
    "mustchange": ("UPDATE accounts SET must_change_password = true WHERE name = %s", "status_must_change_password"),
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_status_labels_red_in_list_and_on_account_page(panel, db, dadmin, lang):
    tag = f"lab{lang}"
    names = {k: f"{tag}-{k}" for k in LABELS}
    names["normal"] = f"{tag}-normal"
    for k, n in names.items():
        add_account(db, D, n)
        if k in LABELS:
            db.execute(LABELS[k][0], (n,))
    b = Browser(panel.url, lang=lang)
    assert b.login("admin", "dadmin", ADMIN_PW).status_code == 303
    html = b.get(f"/admin/domains/{D}/accounts?q={tag}&per_page=50").text
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<tr[^>]*data-name="([^"]+)"(.*?)</tr>', html, re.S)}
    assert set(rows) == set(names.values()), sorted(rows)
    for k, (sql, key) in LABELS.items():
        label = MSG[lang][key]
        assert f'class="status-bad" data-status="{key}">{label}<' in rows[names[k]], (k, rows[names[k]])
        assert "status-ok" not in rows[names[k]], k
        page = b.get(f"/admin/domains/{D}/accounts/{names[k]}").text
        assert f'class="status-bad" data-status="{key}">{label}<' in page, (k, lang)
    ok = MSG[lang]["status_normal"]
    assert f'class="status-ok" data-status="status_normal">{ok}<' in rows[names["normal"]]
    assert "status-bad" not in rows[names["normal"]]
    if lang == "ja":
        assert [MSG["ja"][LABELS[k][1]] for k in LABELS] == \
            ["不正利用検知", "アカウントロック", "メール送信ロック", "容量オーバー", "強制変更済"]
    db.execute("DELETE FROM auth_failures")


# --- point 4: message size (SPEC §8) with the default limit -------------------------------

LIMIT = 104857600


@pytest.fixture(scope="module")
def md_default(db):
    add_account(db, D, "sizer")
    m = Maild(db)           # no message_size_limit: the default
    yield m
    m.stop()


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))


def test_default_100mb_declared_and_growing_body(md_default):
    m = md_default
    with m.client() as c:
        code, text = c.ehlo("client.test")
        assert f"SIZE {LIMIT}" in text.decode()
        code, text = c.mail("a@remote.test", [f"SIZE={LIMIT + 1}"])
        assert code == 552 and b"5.3.4" in text
        assert c.mail("a@remote.test", [f"SIZE={LIMIT}"])[0] == 250     # exactly the limit is fine
        c.rset()
    before = vm_hwm_kb(m.proc.pid)
    # A body that grows past 100 MB without any SIZE= declared, written in 1 MB pieces.
    line = b"y" * 1022 + b"\r\n"
    chunk = b"Subject: huge\r\n\r\n" + line * 1023
    c = smtplib.SMTP("127.0.0.1", m.smtp, timeout=120)
    c.ehlo("client.test")
    assert c.mail("a@remote.test")[0] == 250
    assert c.rcpt("sizer@example.test")[0] == 250
    assert c.docmd("DATA")[0] == 354
    sent = 0
    while sent <= LIMIT + 2 * 1048576:
        c.sock.sendall(chunk if sent == 0 else line * 1024)
        sent += 1048576
    c.sock.sendall(b".\r\n")
    code, text = c.getreply()
    assert code == 552 and b"5.3.4" in text, (code, text)
    assert c.noop()[0] == 250           # the session goes on
    c.quit()
    grown = vm_hwm_kb(m.proc.pid) - before
    # Streamed to disk: maild's peak memory grew by far less than the 100 MB it was sent.
    assert grown < 40 * 1024, f"maild peak memory grew by {grown} kB"
    assert m.read_all(D, "sizer") == []
    tmp = os.path.join(m.root, D, "sizer", "tmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []


# --- point 3: a page at its API path, one route table for both ---------------------------

def test_pages_sit_at_their_api_paths(panel, db, dadmin, support):
    n = uniq("path")
    create(dadmin, D, n, password=PW)
    assert dadmin.post(f"/domains/{D}/accounts/{n}/forwards",
                       {"condition": "all", "addresses": ["path-dest@elsewhere.example"]}).status_code == 201
    addr = f"{n}@{D}"
    admin_pages = {f"/domains/{D}/accounts": n, f"/domains/{D}/accounts/{n}": addr,
                   f"/domains/{D}/accounts/{n}/forwards": "path-dest@elsewhere.example",
                   f"/domains/{D}/accounts/{n}/autoreply": None, f"/domains/{D}/accounts/{n}/aliases": None,
                   f"/domains/{D}/audit": addr}
    b = Browser(panel.url, lang="en")
    assert b.login("admin", "dadmin", ADMIN_PW).status_code == 303

    def both(api, page, client, browser, needle):
        j = client.get(api)
        assert j.status_code == 200 and j.headers["Content-Type"].startswith("application/json"), api
        h = browser.get(page, follow=False)
        assert h.status_code == 200 and h.headers["Content-Type"].startswith("text/html"), page
        assert h.headers["X-Content-Type-Options"] == "nosniff" and j.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src" in h.headers["Content-Security-Policy"], page
        if needle:
            assert needle in j.text and needle in h.text, (page, needle)

    for path, needle in admin_pages.items():
        both(path, "/admin" + path, dadmin, b, needle)
    # What the API refuses, the page refuses too: support has no forwards of an account (SPEC §1).
    s = Browser(panel.url, lang="en")
    s.login("admin", "support1", ADMIN_PW)
    assert support.get(f"/domains/{D}/accounts/{n}/forwards").status_code == 403
    assert s.get(f"/admin/domains/{D}/accounts/{n}/forwards", follow=False).status_code == 403
    # The user's pages: /mail in place of /api/v1/me.
    clear_throttle(db)
    u = Browser(panel.url, lang="en")
    assert u.login("mail", addr, PW).status_code == 303
    j = Client(panel.url)
    assert j.login(addr, PW, side="mail").status_code == 200
    for sub, needle in (("account", addr), ("forwards", "path-dest@elsewhere.example"), ("autoreply", None),
                        ("aliases", None), ("mail-copy", None)):
        both(f"/me/{sub}", f"/mail/{sub}", j, u, needle)
    clear_throttle(db)
