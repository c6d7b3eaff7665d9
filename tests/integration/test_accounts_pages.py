# tests/integration/test_accounts_pages.py: the admin account pages without JavaScript: list, create form, confirmations, completion messages (SPEC §2, §6; issue 11 points 1-3).
import re

from accounts_util import PW, create, seed_accounts, uniq
from conftest import ADMIN_PW, Client

D = "example.test"


def page(c, panel, path, lang="ja", **kw):
    return c.s.get(panel.url + path, headers={"Accept-Language": lang}, allow_redirects=False, **kw)


def post(c, panel, path, data, lang="ja"):
    d = {"csrf_token": c.csrf}
    d.update(data)
    return c.s.post(panel.url + path, data=d, headers={"Accept-Language": lang}, allow_redirects=False)


def test_list_page_labels_search_filter_and_pages(dadmin, panel, db):
    tag = uniq("pg")
    names = [f"{tag}-{i:02d}" for i in range(5)]
    seed_accounts(db, D, names)
    db.execute("UPDATE accounts SET compromised = true WHERE name = %s", (names[0],))
    db.execute("UPDATE accounts SET must_change_password = true WHERE name = %s", (names[1],))
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts?q={tag}&per_page=2")
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    html = r.text
    assert re.search(r'class="status-bad" data-status="status_compromised">不正利用検知<', html)
    assert re.search(r'class="status-bad" data-status="status_must_change_password">強制変更済<', html)
    assert 'class="status-ok" data-status="status_normal">正常<' not in html  # page 1: the two abnormal ones
    assert 'id="total-count">5<' in html
    assert f'href="/admin/domains/{D}/accounts?q={tag}&amp;status=&amp;per_page=2&amp;page=2"' in html
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts?q={tag}&per_page=2&page=3")
    assert f"{names[4]}" in r.text and names[0] not in r.text and 'id="next-page"' not in r.text
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts?q={tag}&status=normal")
    assert names[2] in r.text and names[0] not in r.text and names[1] in r.text
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts?q={tag}&status=normal", lang="en")
    assert ">Normal<" in r.text and 'value="normal" selected' in r.text


def test_create_form_errors_next_to_fields_in_japanese(dadmin, panel):
    r = page(dadmin, panel, f"/admin/domains/{D}/new-account")
    assert r.status_code == 200 and 'name="csrf_token"' in r.text
    r = post(dadmin, panel, f"/admin/domains/{D}/accounts", {"name": "ab..c", "password": "abc", "quota_mb": "0",
                                                              "comment": ""})
    assert r.status_code == 422
    html = r.text
    assert "パスワードは12文字以上" in html and "英大文字" in html and "「.」を2つ以上続けて" in html
    assert "容量" in html and 'value="ab..c"' in html
    assert "abc" not in re.findall(r'name="password"[^>]*>', html)[0]
    # Every password error sits by the password field.
    assert len(re.findall(r'class="field-error password-error"', html)) >= 3
    n = uniq("Form")
    r = post(dadmin, panel, f"/admin/domains/{D}/accounts", {"name": n, "password": PW, "quota_mb": "",
                                                              "comment": ""})
    assert r.status_code == 303 and r.headers["Location"] == f"/admin/domains/{D}/accounts/{n.lower()}?done=created"
    r = page(dadmin, panel, r.headers["Location"])
    assert "作成が完了しました" in r.text and f"{n.lower()}@{D}" in r.text


def test_account_page_links_and_forms(dadmin, panel):
    n = uniq()
    create(dadmin, D, n)
    html = page(dadmin, panel, f"/admin/domains/{D}/accounts/{n}").text
    for path in ("forwards", "autoreply", "aliases", "purge-mail", "delete"):
        assert f'href="/admin/domains/{D}/accounts/{n}/{path}"' in html, path
    for act in ("unlock", "release-send-lock", "compromised", "temporary-password"):
        assert f'action="/admin/domains/{D}/accounts/{n}/{act}"' in html
    assert 'name="_method" value="PATCH"' in html and 'name="clear_comment"' in html
    assert "空欄の項目は変更されません" in html


def test_toggle_through_confirmation(dadmin, panel):
    n = uniq()
    create(dadmin, D, n)
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts/{n}/toggle?field=spam_sort&value=1")
    assert r.status_code == 200 and 'id="pop3-note"' in r.text and 'name="spam_sort" value="1"' in r.text
    # Showing the confirmation changes nothing.
    assert dadmin.get(f"/domains/{D}/accounts/{n}").json()["spam_sort"] is False
    r = post(dadmin, panel, f"/admin/domains/{D}/accounts/{n}", {"_method": "PATCH", "spam_sort": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("?done=saved")
    assert dadmin.get(f"/domains/{D}/accounts/{n}").json()["spam_sort"] is True
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts/{n}/toggle?field=receive&value=0")
    assert 'id="receive-warning"' in r.text
    assert page(dadmin, panel, f"/admin/domains/{D}/accounts/{n}/toggle?field=quota_mb&value=1").status_code == 404
    post(dadmin, panel, f"/admin/domains/{D}/accounts/{n}", {"_method": "PATCH", "receive": "0"})
    html = page(dadmin, panel, f"/admin/domains/{D}/accounts/{n}").text
    assert 'id="receive-warning"' in html and "設定が完了しました" not in html


def test_purge_and_delete_through_confirmation(dadmin, panel, db):
    n = uniq()
    create(dadmin, D, n)
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts/{n}/purge-mail")
    assert r.status_code == 200 and "すべてのフォルダのメールデータを削除します" in r.text
    assert db.query("SELECT count(*) FROM jobs WHERE account = %s", (n,))[0][0] == 0
    r = post(dadmin, panel, f"/admin/domains/{D}/accounts/{n}/purge-mail", {})
    assert r.status_code == 303 and "done=purge_started" in r.headers["Location"]
    r = page(dadmin, panel, r.headers["Location"])
    assert "メールデータの削除を開始しました" in r.text and 'href="/admin/jobs/' in r.text
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts/{n}/delete")
    assert r.status_code == 200 and 'value="DELETE"' in r.text
    r = post(dadmin, panel, f"/admin/domains/{D}/accounts/{n}", {"_method": "DELETE"})
    assert r.status_code == 303 and r.headers["Location"] == f"/admin/domains/{D}/accounts?done=deleted"
    assert "削除が完了しました" in page(dadmin, panel, r.headers["Location"]).text
    assert dadmin.get(f"/domains/{D}/accounts/{n}").status_code == 404
    r = page(dadmin, panel, f"/admin/domains/{D}/accounts/postmaster/delete")
    assert 'id="system-note"' in r.text and 'value="DELETE"' not in r.text


def test_bulk_delete_through_confirmation(dadmin, panel):
    a, b = uniq("bk"), uniq("bk")
    create(dadmin, D, a)
    create(dadmin, D, b)
    r = page(dadmin, panel, f"/admin/domains/{D}/delete-accounts?names[]={a}&names[]={b}")
    assert r.status_code == 200 and 'id="confirm-count">2<' in r.text
    r = page(dadmin, panel, f"/admin/domains/{D}/delete-accounts?names[]={a}&names[]=postmaster")
    assert 'id="system-note"' in r.text and 'id="confirm-submit"' not in r.text
    # The form POST with postmaster included deletes nothing and says why.
    r = post(dadmin, panel, f"/admin/domains/{D}/accounts/delete", {"names[]": [a, "postmaster"]})
    assert r.status_code == 422 and "postmaster" in r.text
    assert dadmin.get(f"/domains/{D}/accounts/{a}").status_code == 200
    r = post(dadmin, panel, f"/admin/domains/{D}/accounts/delete", {"names[]": [a, b]})
    assert r.status_code == 303 and r.headers["Location"].endswith("done=accounts_bulk_deleted")
    assert "選択したアカウントを削除しました" in page(dadmin, panel, r.headers["Location"]).text
    assert dadmin.get(f"/domains/{D}/accounts/{a}").status_code == 404
    assert dadmin.get(f"/domains/{D}/accounts/{b}").status_code == 404


def test_support_sees_no_write_forms(support, panel, dadmin):
    n = uniq()
    create(dadmin, D, n)
    html = page(support, panel, f"/admin/domains/{D}/accounts").text
    assert 'id="delete-selected"' not in html and 'name="names[]"' not in html
    html = page(support, panel, f"/admin/domains/{D}/accounts/{n}").text
    assert 'value="PATCH"' not in html and 'id="act-unlock"' in html
    assert page(support, panel, f"/admin/domains/{D}/accounts/{n}/delete").status_code == 403
    assert page(support, panel, f"/admin/domains/{D}/new-account").status_code == 403


def test_pages_work_in_english(panel):
    c = Client(panel.url, lang="en")
    assert c.login("dadmin", ADMIN_PW).status_code == 200
    html = page(c, panel, f"/admin/domains/{D}/accounts", lang="en").text
    assert "Mail accounts" in html and "Delete selected accounts" in html
