# tests/integration/test_autoreply.py: the autoresponder (SPEC §4) over the API and the pages: width
# count, refused characters named, dates and the active flag under a moved clock, empty text,
# who may touch what, NOTIFY and audit.
import os
import tempfile

import pytest

from conftest import ADMIN_PW, Client, Panel
from fwd_util import USER_PW, Listener, Page, account_id, detail_codes, make_account, user_client

BASE = "/domains/example.test/accounts"
REFUSED = ["―", "～", "∥", "－", "¢", "£", "¬", "￠", "￡", "￢"]


@pytest.fixture(scope="module")
def accounts(db):
    for n in ("alice", "bob", "carol", "dave", "erin", "pager"):
        make_account(db, n, password=USER_PW if n in ("alice", "bob", "pager") else None)
    make_account(db, "olga", domain="other.test")
    return True


def stored(db, address):
    return db.query("SELECT body, start_at, end_at FROM autoreplies WHERE account_id = %s",
                    (account_id(db, address),))


def test_get_when_unset(dadmin, accounts):
    r = dadmin.get(f"{BASE}/carol/autoreply")
    assert r.status_code == 200
    assert r.json() == {"text": "", "start_at": None, "end_at": None, "active": False}


def test_put_get_delete(dadmin, db, accounts):
    r = dadmin.put(f"{BASE}/carol/autoreply", {"text": "只今不在にしております。\nOut of office."})
    assert r.status_code == 200, r.text
    assert r.json() == {"text": "只今不在にしております。\nOut of office.", "start_at": None, "end_at": None,
                        "active": True}
    assert dadmin.get(f"{BASE}/carol/autoreply").json() == r.json()
    assert stored(db, "carol@example.test")[0][0] == "只今不在にしております。\nOut of office."
    # PUT replaces the whole reply.
    r = dadmin.put(f"{BASE}/carol/autoreply", {"text": "second", "end_at": "2099-01-31"})
    assert r.status_code == 200 and r.json()["text"] == "second" and r.json()["end_at"] == "2099-01-31T23:59:59Z"
    d = dadmin.delete(f"{BASE}/carol/autoreply")
    assert d.status_code == 204 and d.text == ""
    assert stored(db, "carol@example.test") == []
    assert dadmin.get(f"{BASE}/carol/autoreply").json()["active"] is False
    # Deleting none is fine (no confirmation, nothing to do).
    assert dadmin.delete(f"{BASE}/carol/autoreply").status_code == 204


def test_width_half_and_full(dadmin, accounts):
    ok = {"a" * 600: 200, "a" * 601: 422, "あ" * 300: 200, "あ" * 301: 422,
          "ｱ" * 600: 200, "ｱ" * 601: 422, "a" * 598 + "あ": 200, "a" * 599 + "あ": 422}
    for text, want in ok.items():
        r = dadmin.put(f"{BASE}/dave/autoreply", {"text": text})
        assert r.status_code == want, (len(text), text[:3], r.text)
        if want == 422:
            assert detail_codes(r) == [("text", "too_long")]
            assert r.json()["error"]["code"] == "invalid"
        else:
            assert dadmin.get(f"{BASE}/dave/autoreply").json()["text"] == text


def test_crlf_counts_once(dadmin, accounts):
    # A browser textarea sends CRLF: 300 lines of "a" + line break are 600 wide.
    r = dadmin.put(f"{BASE}/dave/autoreply", {"text": "a\r\n" * 300})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "a\n" * 300


@pytest.mark.parametrize("ch", REFUSED)
def test_each_refused_character_is_named(dadmin, ch, accounts):
    r = dadmin.put(f"{BASE}/dave/autoreply", {"text": f"電話 03{ch}1234"})
    assert r.status_code == 422, r.text
    det = r.json()["error"]["details"]
    assert [(d["field"], d["code"]) for d in det] == [("text", "bad_char")]
    assert det[0]["char"] == ch and ch in det[0]["message"]


def test_several_refused_characters_each_named_in_japanese(panel, accounts):
    c = Client(panel.url, lang="ja")
    assert c.login("dadmin", ADMIN_PW).status_code == 200
    r = c.put(f"{BASE}/dave/autoreply", {"text": "―～∥－¢£¬￠￡￢ and ―again"})
    assert r.status_code == 422
    det = r.json()["error"]["details"]
    assert sorted(d["char"] for d in det) == sorted(REFUSED)
    for d in det:
        assert f"「{d['char']}」" in d["message"] and "自動返信" in d["message"]


def test_ascii_tilde_and_hyphen_are_fine(dadmin, accounts):
    r = dadmin.put(f"{BASE}/dave/autoreply", {"text": "TEL 03-1234-5678 https://example.jp/~user/"})
    assert r.status_code == 200, r.text


def test_empty_text_refused(dadmin, db, accounts):
    dadmin.delete(f"{BASE}/erin/autoreply")
    for body in ({"text": ""}, {"text": "  \r\n "}, {}, {"text": None}):
        r = dadmin.put(f"{BASE}/erin/autoreply", body)
        assert r.status_code == 422, body
        assert detail_codes(r) == [("text", "empty")]
    assert stored(db, "erin@example.test") == []


def test_dates(dadmin, db, accounts):
    r = dadmin.put(f"{BASE}/erin/autoreply", {"text": "x", "start_at": "2030-04-01", "end_at": "2030-04-30"})
    assert r.status_code == 200, r.text
    assert r.json()["start_at"] == "2030-04-01T00:00:00Z" and r.json()["end_at"] == "2030-04-30T23:59:59Z"
    assert r.json()["active"] is False
    row = stored(db, "erin@example.test")[0]
    assert row[1].isoformat() == "2030-04-01T00:00:00+00:00"
    r = dadmin.put(f"{BASE}/erin/autoreply", {"text": "x", "start_at": "2030-04-01T09:00:00+09:00",
                                             "end_at": "2030-04-01T10:30:00Z"})
    assert r.status_code == 200 and r.json()["start_at"] == "2030-04-01T00:00:00Z"
    assert r.json()["end_at"] == "2030-04-01T10:30:00Z"
    # Empty strings (an untouched date field) are no date.
    r = dadmin.put(f"{BASE}/erin/autoreply", {"text": "x", "start_at": "", "end_at": None})
    assert r.status_code == 200 and r.json()["start_at"] is None and r.json()["end_at"] is None
    for bad in ("2030-02-30", "tomorrow", "2030/04/01", "2030-13-01", 12345):
        r = dadmin.put(f"{BASE}/erin/autoreply", {"text": "x", "start_at": bad})
        assert r.status_code == 422 and detail_codes(r) == [("start_at", "bad_date")], bad
    r = dadmin.put(f"{BASE}/erin/autoreply", {"text": "x", "start_at": "2030-05-01", "end_at": "2030-04-30"})
    assert r.status_code == 422 and detail_codes(r) == [("end_at", "bad_date")]
    # A one-day window is fine; every rule is reported at once.
    assert dadmin.put(f"{BASE}/erin/autoreply", {"text": "x", "start_at": "2030-05-01",
                                                "end_at": "2030-05-01"}).status_code == 200
    r = dadmin.put(f"{BASE}/erin/autoreply", {"text": "", "end_at": "nope"})
    assert sorted(detail_codes(r)) == [("end_at", "bad_date"), ("text", "empty")]


def test_active_follows_a_moved_clock(db, accounts):
    fd, clock = tempfile.mkstemp(prefix="yubin-clock-")
    os.close(fd)

    def move(seconds):
        with open(clock, "w") as f:
            f.write(f"{seconds}\n")

    move(0)
    p = Panel(db, env={"YUBIN_TEST_CLOCK_FILE": clock})
    try:
        import datetime
        now = datetime.datetime.now(datetime.timezone.utc)
        start = (now + datetime.timedelta(days=2)).strftime("%Y-%m-%d")
        end = (now + datetime.timedelta(days=4)).strftime("%Y-%m-%d")

        def get():
            c = Client(p.url)
            assert c.login("dadmin", ADMIN_PW).status_code == 200
            return c, c.get(f"{BASE}/erin/autoreply").json()

        c, _ = get()
        r = c.put(f"{BASE}/erin/autoreply", {"text": "away", "start_at": start, "end_at": end})
        assert r.status_code == 200 and r.json()["active"] is False
        move(3 * 86400)
        c, g = get()
        assert g["active"] is True
        # The account object agrees once the accounts API is there.
        a = c.get(f"{BASE}/erin")
        if a.status_code == 200 and "autoreply" in a.json():
            assert a.json()["autoreply"] is True
        move(6 * 86400)
        _, g = get()
        assert g["active"] is False and g["text"] == "away"
        # Without dates it is active whenever the text is set.
        c, _ = get()
        assert c.put(f"{BASE}/erin/autoreply", {"text": "always"}).json()["active"] is True
    finally:
        p.stop()
        os.unlink(clock)


def test_scope_and_roles(panel, dadmin, root, support, db, accounts):
    dadmin.put(f"{BASE}/carol/autoreply", {"text": "secret text"})
    for method, body in (("GET", None), ("PUT", {"text": "support was here"}), ("DELETE", None)):
        r = support.call(method, f"{BASE}/carol/autoreply", json=body)
        assert r.status_code == 403, (method, r.text)
    assert stored(db, "carol@example.test")[0][0] == "secret text"
    assert dadmin.get("/domains/other.test/accounts/olga/autoreply").status_code == 403
    assert dadmin.put("/domains/other.test/accounts/olga/autoreply", {"text": "x"}).status_code == 403
    assert dadmin.get("/domains/no-such.test/accounts/x/autoreply").status_code == 403
    assert dadmin.get(f"{BASE}/nobody/autoreply").status_code == 404
    assert root.get("/domains/other.test/accounts/olga/autoreply").status_code == 200
    assert Client(panel.url).get(f"{BASE}/carol/autoreply").status_code == 401


def test_user_own_autoreply_only(panel, dadmin, db, accounts):
    u = user_client(panel, db, "alice@example.test")
    r = u.put("/me/autoreply", {"text": "休暇中です", "end_at": "2099-12-31"})
    assert r.status_code == 200 and r.json()["active"] is True
    assert dadmin.get(f"{BASE}/alice/autoreply").json()["text"] == "休暇中です"
    assert u.get("/me/autoreply").json()["text"] == "休暇中です"
    assert u.get(f"{BASE}/bob/autoreply").status_code == 403
    assert u.put(f"{BASE}/bob/autoreply", {"text": "x"}).status_code == 403
    assert u.delete(f"{BASE}/bob/autoreply").status_code == 403
    assert stored(db, "bob@example.test") == []
    r = u.put("/me/autoreply", {"text": "～"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["char"] == "～"
    assert u.delete("/me/autoreply").status_code == 204
    assert stored(db, "alice@example.test") == []


def test_notify_and_audit(dadmin, db, accounts):
    lis = Listener(db)
    try:
        lis.notifies(0.1)
        assert dadmin.put(f"{BASE}/dave/autoreply", {"text": "confidential words"}).status_code == 200
        assert "example.test" in lis.notifies()
        assert dadmin.delete(f"{BASE}/dave/autoreply").status_code == 204
        assert "example.test" in lis.notifies()
        dadmin.put(f"{BASE}/dave/autoreply", {"text": ""})
        assert lis.notifies(0.3) == []
    finally:
        lis.close()
    rows = db.query("SELECT action, actor, details::text FROM audit_log WHERE target = 'dave@example.test' "
                    "AND action LIKE 'autoreply%%' ORDER BY id")
    assert [r[:2] for r in rows[-2:]] == [("autoreply_set", "dadmin"), ("autoreply_delete", "dadmin")]
    # Support reads the audit log; the text never goes there (SPEC §1).
    assert all("confidential" not in (d or "") for _, _, d in rows)


def test_pages(panel, db, accounts):
    p = Page(panel.url, lang="ja")
    p.login("mail", "pager@example.test", USER_PW)
    r = p.get("/mail/autoreply")
    assert r.status_code == 200 and "自動返信" in r.text and "全角300文字" in r.text
    assert 'name="text"' in r.text and 'name="start_at"' in r.text and 'name="end_at"' in r.text
    r = p.post("/mail/autoreply", {"_method": "PUT", "text": "不在です～", "start_at": "", "end_at": ""})
    assert r.status_code == 422 and "「～」" in r.text and "不在です～" in r.text
    assert stored(db, "pager@example.test") == []
    r = p.post("/mail/autoreply", {"_method": "PUT", "text": "不在です", "start_at": "2030-01-01", "end_at": ""})
    assert r.status_code == 303 and r.headers["Location"] == "/mail/autoreply?done=autoreply_saved"
    r = p.get("/mail/autoreply?done=autoreply_saved")
    assert "自動返信を設定しました。" in r.text and 'value="2030-01-01"' in r.text and "不在です" in r.text
    r = p.post("/mail/autoreply", {"_method": "DELETE"})
    assert r.status_code == 303 and r.headers["Location"] == "/mail/autoreply?done=autoreply_deleted"
    assert stored(db, "pager@example.test") == []
    assert "自動返信を削除しました。" in p.get("/mail/autoreply?done=autoreply_deleted").text
    # The admin side, in English.
    a = Page(panel.url)
    a.login("admin", "dadmin", ADMIN_PW)
    page = "/admin/domains/example.test/accounts/pager/autoreply"
    r = a.get(page)
    assert r.status_code == 200 and "600 half-width" in r.text
    r = a.post(page, {"_method": "PUT", "text": "Away", "start_at": "2030-01-02", "end_at": "2030-01-01"})
    assert r.status_code == 422 and 'data-code="bad_date"' in r.text
    r = a.post(page, {"_method": "PUT", "text": "Away"})
    assert r.status_code == 303 and r.headers["Location"] == page + "?done=autoreply_saved"
    assert stored(db, "pager@example.test")[0][0] == "Away"
    s = Page(panel.url)
    s.login("admin", "support1", ADMIN_PW)
    assert s.get(page).status_code == 403
