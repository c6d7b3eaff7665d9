# tests/integration/test_forwards.py: forwards (SPEC §3) over the API and the pages: conditions,
# one rule per `all` address, the 300 cap, address rules, loops through aliases and catch-all,
# sorting, the receive-off warning, who may touch what, NOTIFY and audit.
import pytest

from conftest import ADMIN_PW, Client
from fwd_util import (USER_PW, Listener, Page, account_id, detail_codes, make_account,
                      user_client)

BASE = "/domains/example.test/accounts"


@pytest.fixture(scope="module")
def accounts(db):
    for n in ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "henry", "ivan",
              "judy", "kate", "loopa", "loopb", "loopc", "selfy", "cap1", "cap2", "cap3",
              "recv", "pager"):
        make_account(db, n, password=USER_PW if n in ("alice", "bob", "pager") else None)
    make_account(db, "olga", domain="other.test")
    return True


def rules_in_db(db, address):
    return db.query("SELECT r.condition, r.keyword, array_agg(fa.address ORDER BY fa.address) "
                    "FROM forward_rules r JOIN forward_addresses fa ON fa.rule_id = r.id "
                    "WHERE r.account_id = %s GROUP BY r.id ORDER BY r.id", (account_id(db, address),))


def test_all_with_three_addresses_is_three_rules(dadmin, db, accounts):
    r = dadmin.post(f"{BASE}/carol/forwards",
                    {"condition": "all", "addresses": ["zed@remote.jp", "amy@remote.jp", "Mike@Remote.JP"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["items"]) == 3
    assert sorted(a for it in body["items"] for a in it["addresses"]) == \
        ["amy@remote.jp", "mike@remote.jp", "zed@remote.jp"]
    assert all(it["condition"] == "all" and it["keyword"] == "" and len(it["addresses"]) == 1
               for it in body["items"])
    rows = rules_in_db(db, "carol@example.test")
    assert len(rows) == 3 and all(len(a) == 1 and c == "all" for c, _, a in rows)
    # Listed alphabetically, in a stable order.
    g = dadmin.get(f"{BASE}/carol/forwards")
    assert g.status_code == 200
    items = g.json()["items"]
    assert [it["addresses"][0] for it in items] == ["amy@remote.jp", "mike@remote.jp", "zed@remote.jp"]
    assert all(set(it) >= {"id", "condition", "keyword", "addresses"} for it in items)
    assert dadmin.get(f"{BASE}/carol/forwards").json()["items"] == items


def test_from_with_three_addresses_is_one_rule_sorted(dadmin, db, accounts):
    r = dadmin.post(f"{BASE}/dave/forwards",
                    {"condition": "from", "keyword": "boss@corp.jp",
                     "addresses": ["c@x.jp", "a@x.jp", "b@x.jp"]})
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["condition"] == "from" and b["keyword"] == "boss@corp.jp"
    assert b["addresses"] == ["a@x.jp", "b@x.jp", "c@x.jp"]
    assert isinstance(b["id"], int) and len(b["items"]) == 1
    assert rules_in_db(db, "dave@example.test") == [("from", "boss@corp.jp", ["a@x.jp", "b@x.jp", "c@x.jp"])]


def test_japanese_keyword_with_spaces_and_symbols(dadmin, db, accounts):
    kw = "【重要】 請求書のお知らせ & ご確認!"
    r = dadmin.post(f"{BASE}/erin/forwards", {"condition": "subject", "keyword": kw, "addresses": ["x@y.jp"]})
    assert r.status_code == 201, r.text
    assert r.json()["keyword"] == kw
    assert dadmin.get(f"{BASE}/erin/forwards").json()["items"][0]["keyword"] == kw
    assert rules_in_db(db, "erin@example.test")[0][1] == kw


def test_keyword_required_for_from_and_subject_ignored_for_all(dadmin, db, accounts):
    for cond in ("from", "subject"):
        for kw in (None, ""):
            body = {"condition": cond, "addresses": ["x@y.jp"]}
            if kw is not None:
                body["keyword"] = kw
            r = dadmin.post(f"{BASE}/frank/forwards", body)
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"] == "invalid"
            assert ("keyword", "required") in detail_codes(r)
    r = dadmin.post(f"{BASE}/frank/forwards", {"condition": "all", "keyword": "ignored", "addresses": ["q@y.jp"]})
    assert r.status_code == 201 and r.json()["keyword"] == ""
    assert rules_in_db(db, "frank@example.test") == [("all", "", ["q@y.jp"])]


def test_condition_must_be_known(dadmin, accounts):
    r = dadmin.post(f"{BASE}/frank/forwards", {"condition": "body", "keyword": "x", "addresses": ["x@y.jp"]})
    assert r.status_code == 422 and ("condition", "bad_condition") in detail_codes(r)
    r = dadmin.post(f"{BASE}/frank/forwards", {"keyword": "x", "addresses": ["x@y.jp"]})
    assert r.status_code == 422 and ("condition", "required") in detail_codes(r)


def test_addresses_required(dadmin, accounts):
    for addrs in ([], "", "\n \n", None):
        r = dadmin.post(f"{BASE}/frank/forwards", {"condition": "all", "addresses": addrs})
        assert r.status_code == 422 and ("addresses", "required") in detail_codes(r), addrs


def test_bad_address_and_leading_hyphen_each_named(dadmin, db, accounts):
    r = dadmin.post(f"{BASE}/gina/forwards",
                    {"condition": "all", "addresses": ["ok@y.jp", "-x@y.jp", "no-at-sign", "a@b@", "sp ace@y.jp"]})
    assert r.status_code == 422, r.text
    det = r.json()["error"]["details"]
    assert all(d["field"] == "addresses" for d in det)
    by_value = {d["value"]: d["code"] for d in det}
    assert by_value == {"-x@y.jp": "leading_hyphen", "no-at-sign": "bad_address", "a@b@": "bad_address",
                        "sp ace@y.jp": "bad_address"}
    assert any("-x@y.jp" in d["message"] for d in det)
    # Nothing at all was stored from the refused list.
    assert rules_in_db(db, "gina@example.test") == []
    r = dadmin.post(f"{BASE}/gina/forwards", {"condition": "from", "keyword": "k", "addresses": ["-x@y"]})
    assert r.status_code == 422 and detail_codes(r) == [("addresses", "leading_hyphen")]
    # A hyphen inside is fine.
    r = dadmin.post(f"{BASE}/gina/forwards", {"condition": "all", "addresses": ["x-y@y-z.jp"]})
    assert r.status_code == 201


def test_leading_hyphen_message_in_japanese(panel, accounts):
    c = Client(panel.url, lang="ja")
    assert c.login("dadmin", ADMIN_PW).status_code == 200
    r = c.post(f"{BASE}/gina/forwards", {"condition": "all", "addresses": ["-x@y.jp"]})
    assert r.status_code == 422
    msg = r.json()["error"]["details"][0]["message"]
    assert "「-」" in msg and "-x@y.jp" in msg


def test_textarea_and_repeated_fields_are_both_accepted(dadmin, db, accounts):
    r = dadmin.post(f"{BASE}/henry/forwards",
                    data={"condition": "from", "keyword": "k", "addresses": "b@y.jp\r\n a@y.jp \r\n\r\nb@y.jp\n"})
    assert r.status_code == 201, r.text
    assert r.json()["addresses"] == ["a@y.jp", "b@y.jp"]
    r = dadmin.post(f"{BASE}/henry/forwards",
                    data=[("condition", "subject"), ("keyword", "s"), ("addresses", "d@y.jp"), ("addresses", "c@y.jp")])
    assert r.status_code == 201, r.text
    assert r.json()["addresses"] == ["c@y.jp", "d@y.jp"]


def test_duplicate_all_address_is_a_conflict(dadmin, db, accounts):
    assert dadmin.post(f"{BASE}/ivan/forwards", {"condition": "all", "addresses": ["dup@y.jp"]}).status_code == 201
    r = dadmin.post(f"{BASE}/ivan/forwards", {"condition": "all", "addresses": ["new@y.jp", "DUP@y.jp"]})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "exists"
    assert r.json()["error"]["details"][0]["value"] == "dup@y.jp"
    assert len(rules_in_db(db, "ivan@example.test")) == 1
    # The same address in one list is taken once; as a from rule it is no conflict.
    r = dadmin.post(f"{BASE}/ivan/forwards", {"condition": "all", "addresses": ["n1@y.jp", "n1@y.jp"]})
    assert r.status_code == 201 and len(r.json()["items"]) == 1
    r = dadmin.post(f"{BASE}/ivan/forwards", {"condition": "from", "keyword": "k", "addresses": ["dup@y.jp"]})
    assert r.status_code == 201


def test_cap_of_300_addresses_over_all_rules(dadmin, db, accounts):
    addrs = [f"u{i:03d}@cap.jp" for i in range(301)]
    r = dadmin.post(f"{BASE}/cap1/forwards", {"condition": "from", "keyword": "k", "addresses": addrs})
    assert r.status_code == 422 and ("addresses", "too_many") in detail_codes(r)
    r = dadmin.post(f"{BASE}/cap1/forwards", {"condition": "from", "keyword": "k", "addresses": addrs[:300]})
    assert r.status_code == 201, r.text
    assert len(r.json()["addresses"]) == 300
    r = dadmin.post(f"{BASE}/cap1/forwards", {"condition": "all", "addresses": ["one-more@cap.jp"]})
    assert r.status_code == 422 and detail_codes(r) == [("addresses", "too_many")]
    # Counted over rules of every condition: 299 + 1 is fine, then the 301st is refused.
    r = dadmin.post(f"{BASE}/cap2/forwards", {"condition": "subject", "keyword": "s", "addresses": addrs[:250]})
    assert r.status_code == 201
    r = dadmin.post(f"{BASE}/cap2/forwards", {"condition": "all", "addresses": addrs[250:299]})
    assert r.status_code == 201 and len(r.json()["items"]) == 49
    r = dadmin.post(f"{BASE}/cap2/forwards", {"condition": "all", "addresses": ["last@cap.jp"]})
    assert r.status_code == 201
    r = dadmin.post(f"{BASE}/cap2/forwards", {"condition": "from", "keyword": "f", "addresses": ["over@cap.jp"]})
    assert r.status_code == 422 and ("addresses", "too_many") in detail_codes(r)
    n = db.query("SELECT count(*) FROM forward_addresses fa JOIN forward_rules r ON r.id = fa.rule_id "
                 "WHERE r.account_id = %s", (account_id(db, "cap2@example.test"),))[0][0]
    assert n == 300
    # 300 `all` addresses in one go are 300 rules.
    r = dadmin.post(f"{BASE}/cap3/forwards", {"condition": "all", "addresses": addrs[:300]})
    assert r.status_code == 201 and len(r.json()["items"]) == 300
    assert len(dadmin.get(f"{BASE}/cap3/forwards").json()["items"]) == 300


def test_loop_between_two_accounts_refused(dadmin, db, accounts):
    assert dadmin.post(f"{BASE}/loopa/forwards",
                       {"condition": "all", "addresses": ["loopb@example.test"]}).status_code == 201
    r = dadmin.post(f"{BASE}/loopb/forwards", {"condition": "all", "addresses": ["LoopA@Example.Test"]})
    assert r.status_code == 422 and detail_codes(r) == [("addresses", "loop")]
    # A conditional rule loops the same way (the matched headers travel with the forward).
    r = dadmin.post(f"{BASE}/loopb/forwards", {"condition": "subject", "keyword": "x",
                                               "addresses": ["loopa@example.test"]})
    assert r.status_code == 422 and ("addresses", "loop") in detail_codes(r)
    # Three hops: a -> b -> c -> a.
    assert dadmin.post(f"{BASE}/loopb/forwards",
                       {"condition": "all", "addresses": ["loopc@example.test"]}).status_code == 201
    r = dadmin.post(f"{BASE}/loopc/forwards", {"condition": "all", "addresses": ["ext@y.jp", "loopa@example.test"]})
    assert r.status_code == 422 and ("addresses", "loop") in detail_codes(r)
    assert rules_in_db(db, "loopc@example.test") == []
    # Forwarding to oneself is the shortest loop.
    r = dadmin.post(f"{BASE}/selfy/forwards", {"condition": "all", "addresses": ["selfy@example.test"]})
    assert r.status_code == 422 and ("addresses", "loop") in detail_codes(r)


def test_loop_through_alias_domain_alias_and_catch_all(dadmin, db, accounts):
    a_id = account_id(db, "loopa@example.test")
    dom = db.query("SELECT id FROM domains WHERE name = 'example.test'")[0][0]
    db.execute("INSERT INTO aliases (domain_id, name, account_id) VALUES (%s, 'aka-loopa', %s)", (dom, a_id))
    r = dadmin.post(f"{BASE}/loopc/forwards", {"condition": "all", "addresses": ["aka-loopa@example.test"]})
    assert r.status_code == 422 and ("addresses", "loop") in detail_codes(r)
    db.execute("INSERT INTO domain_aliases (name, domain_id) VALUES ('alias-example.test', %s)", (dom,))
    r = dadmin.post(f"{BASE}/loopc/forwards", {"condition": "all", "addresses": ["loopa@alias-example.test"]})
    assert r.status_code == 422 and ("addresses", "loop") in detail_codes(r)
    # An unknown local part goes to the catch-all when there is one.
    r = dadmin.post(f"{BASE}/loopc/forwards", {"condition": "all", "addresses": ["nobody-here@example.test"]})
    assert r.status_code == 201
    db.execute("DELETE FROM forward_rules WHERE account_id = %s", (account_id(db, "loopc@example.test"),))
    db.execute("UPDATE domains SET catchall_account_id = %s WHERE id = %s", (a_id, dom))
    try:
        r = dadmin.post(f"{BASE}/loopc/forwards", {"condition": "all", "addresses": ["nobody-here@example.test"]})
        assert r.status_code == 422 and ("addresses", "loop") in detail_codes(r)
    finally:
        db.execute("UPDATE domains SET catchall_account_id = NULL WHERE id = %s", (dom,))
    # Without a way back there is no loop: other.test's account forwarding here is fine.
    r = dadmin.post(f"{BASE}/loopc/forwards", {"condition": "all", "addresses": ["olga@other.test"]})
    assert r.status_code == 201


def test_delete_from_rule_with_all_its_addresses(dadmin, db, accounts):
    r = dadmin.post(f"{BASE}/judy/forwards", {"condition": "from", "keyword": "k",
                                              "addresses": ["a@y.jp", "b@y.jp"]})
    rid = r.json()["id"]
    keep = dadmin.post(f"{BASE}/judy/forwards", {"condition": "all", "addresses": ["c@y.jp"]}).json()["id"]
    d = dadmin.delete(f"{BASE}/judy/forwards/{rid}")
    assert d.status_code == 204 and d.text == ""
    assert db.query("SELECT count(*) FROM forward_addresses WHERE rule_id = %s", (rid,))[0][0] == 0
    assert [it["id"] for it in dadmin.get(f"{BASE}/judy/forwards").json()["items"]] == [keep]
    assert dadmin.delete(f"{BASE}/judy/forwards/{rid}").status_code == 404
    assert dadmin.delete(f"{BASE}/judy/forwards/notanumber").status_code == 404
    # A rule of another account is not reachable through this account's path.
    other = dadmin.post(f"{BASE}/kate/forwards", {"condition": "all", "addresses": ["k@y.jp"]}).json()["id"]
    assert dadmin.delete(f"{BASE}/judy/forwards/{other}").status_code == 404
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (other,))[0][0] == 1


def test_receive_off_warning(dadmin, db, accounts):
    g = dadmin.get(f"{BASE}/recv/forwards").json()
    assert g["receive"] is True and g["warning"] is False
    db.execute("UPDATE accounts SET receive = false WHERE id = %s", (account_id(db, "recv@example.test"),))
    g = dadmin.get(f"{BASE}/recv/forwards").json()
    assert g["receive"] is False and g["warning"] is True and g["warning_message"]
    dadmin.post(f"{BASE}/recv/forwards", {"condition": "from", "keyword": "k", "addresses": ["a@y.jp"]})
    assert dadmin.get(f"{BASE}/recv/forwards").json()["warning"] is True
    rid = dadmin.post(f"{BASE}/recv/forwards", {"condition": "all", "addresses": ["b@y.jp"]}).json()["id"]
    assert dadmin.get(f"{BASE}/recv/forwards").json()["warning"] is False
    dadmin.delete(f"{BASE}/recv/forwards/{rid}")
    assert dadmin.get(f"{BASE}/recv/forwards").json()["warning"] is True


def test_scope_and_roles(panel, dadmin, root, support, db, accounts):
    # Support never sees or changes destinations.
    rid = dadmin.post(f"{BASE}/kate/forwards", {"condition": "all", "addresses": ["s@y.jp"]}).json()["id"]
    for method, path, body in (("GET", f"{BASE}/kate/forwards", None),
                               ("POST", f"{BASE}/kate/forwards", {"condition": "all", "addresses": ["t@y.jp"]}),
                               ("DELETE", f"{BASE}/kate/forwards/{rid}", None),
                               ("GET", f"{BASE}/nobody/forwards", None),
                               ("GET", "/domains/other.test/accounts/olga/forwards", None)):
        r = support.call(method, path, json=body)
        assert r.status_code == 403, (method, path, r.text)
    # A domain admin: other domains are 403 whether or not they or the account exist.
    assert dadmin.get("/domains/other.test/accounts/olga/forwards").status_code == 403
    assert dadmin.get("/domains/no-such.test/accounts/x/forwards").status_code == 403
    assert dadmin.post("/domains/other.test/accounts/olga/forwards",
                       {"condition": "all", "addresses": ["z@y.jp"]}).status_code == 403
    assert dadmin.get(f"{BASE}/nobody/forwards").status_code == 404
    # The superadmin reaches every domain; an unknown domain is 404 for them.
    assert root.get("/domains/other.test/accounts/olga/forwards").status_code == 200
    assert root.get("/domains/no-such.test/accounts/x/forwards").status_code == 404
    # Unsigned callers: 401. Without the CSRF token: 403 csrf.
    assert Client(panel.url).get(f"{BASE}/kate/forwards").status_code == 401
    tok = dadmin.csrf
    dadmin.csrf = None
    try:
        r = dadmin.post(f"{BASE}/kate/forwards", {"condition": "all", "addresses": ["t@y.jp"]})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    finally:
        dadmin.csrf = tok
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (rid,))[0][0] == 1


def test_user_manages_own_forwards_only(panel, dadmin, db, accounts):
    u = user_client(panel, db, "alice@example.test")
    r = u.post("/me/forwards", {"condition": "subject", "keyword": "請求", "addresses": ["me@home.jp"]})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    g = u.get("/me/forwards")
    assert g.status_code == 200 and [it["id"] for it in g.json()["items"]] == [rid]
    # The same rule is what an admin sees on alice's account.
    assert [it["id"] for it in dadmin.get(f"{BASE}/alice/forwards").json()["items"]] == [rid]
    # bob's rule: alice cannot delete it through /me, nor reach bob's paths at all.
    bob_rule = dadmin.post(f"{BASE}/bob/forwards", {"condition": "all", "addresses": ["b@y.jp"]}).json()["id"]
    assert u.delete(f"/me/forwards/{bob_rule}").status_code == 403
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (bob_rule,))[0][0] == 1
    assert u.get(f"{BASE}/bob/forwards").status_code == 403
    assert u.post(f"{BASE}/bob/forwards", {"condition": "all", "addresses": ["x@y.jp"]}).status_code == 403
    assert u.get(f"{BASE}/alice/forwards").status_code == 403
    assert u.delete(f"/me/forwards/{rid}").status_code == 204
    assert u.get("/me/forwards").json()["items"] == []
    # The user's rules obey the same rules.
    r = u.post("/me/forwards", {"condition": "all", "addresses": ["-x@y.jp"]})
    assert r.status_code == 422 and detail_codes(r) == [("addresses", "leading_hyphen")]
    r = u.post("/me/forwards", {"condition": "all", "addresses": ["alice@example.test"]})
    assert r.status_code == 422 and detail_codes(r) == [("addresses", "loop")]


def test_notify_and_audit_in_the_same_transaction(dadmin, db, accounts):
    lis = Listener(db)
    try:
        lis.notifies(0.1)
        r = dadmin.post(f"{BASE}/kate/forwards", {"condition": "from", "keyword": "kw", "addresses": ["secret@y.jp"]})
        assert r.status_code == 201
        assert "example.test" in lis.notifies()
        assert dadmin.delete(f"{BASE}/kate/forwards/{r.json()['id']}").status_code == 204
        assert "example.test" in lis.notifies()
        # A refused change notifies nothing.
        dadmin.post(f"{BASE}/kate/forwards", {"condition": "all", "addresses": ["-x@y.jp"]})
        assert lis.notifies(0.3) == []
    finally:
        lis.close()
    rows = db.query("SELECT action, actor, target, details::text FROM audit_log "
                    "WHERE target = 'kate@example.test' AND action LIKE 'forward%%' ORDER BY id")
    assert ("forward_add", "dadmin") == rows[-2][:2] and rows[-1][:2] == ("forward_delete", "dadmin")
    # The audit log is readable by support: it must not carry destinations (SPEC §1).
    assert all("secret@y.jp" not in (d or "") for _, _, _, d in rows)


def test_pages_list_add_confirm_delete(panel, db, accounts):
    p = Page(panel.url)
    p.login("admin", "dadmin", ADMIN_PW)
    page = f"/admin/domains/example.test/accounts/pager/forwards"
    r = p.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    assert 'name="condition"' in r.text and 'name="addresses"' in r.text and 'name="keyword"' in r.text
    r = p.post(page, {"condition": "all", "addresses": "zz@y.jp\r\naa@y.jp"})
    assert r.status_code == 303 and r.headers["Location"].endswith(page + "?done=forwards_added")
    r = p.get(page + "?done=forwards_added")
    assert "The forward has been added." in r.text
    assert r.text.index("aa@y.jp") < r.text.index("zz@y.jp")
    # A refused form comes back with the error and the list.
    r = p.post(page, {"condition": "from", "keyword": "", "addresses": "-bad@y.jp"})
    assert r.status_code == 422 and "text/html" in r.headers["Content-Type"]
    assert "-bad@y.jp" in r.text and "aa@y.jp" in r.text and 'data-code="leading_hyphen"' in r.text
    # Deleting goes through a confirmation page.
    rid = db.query("SELECT r.id FROM forward_rules r JOIN forward_addresses fa ON fa.rule_id = r.id "
                   "WHERE fa.address = 'aa@y.jp' AND r.account_id = %s", (account_id(db, "pager@example.test"),))[0][0]
    assert f'href="{page}/{rid}/delete"' in p.get(page).text
    r = p.get(f"{page}/{rid}/delete")
    assert r.status_code == 200 and "aa@y.jp" in r.text and 'value="DELETE"' in r.text
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (rid,))[0][0] == 1
    r = p.post(f"{page}/{rid}", {"_method": "DELETE"})
    assert r.status_code == 303 and "done=forwards_deleted" in r.headers["Location"]
    assert db.query("SELECT count(*) FROM forward_rules WHERE id = %s", (rid,))[0][0] == 0
    # The receive-off warning shows on the page.
    db.execute("UPDATE accounts SET receive = false WHERE name = 'pager'")
    db.execute("DELETE FROM forward_rules WHERE account_id = %s", (account_id(db, "pager@example.test"),))
    assert 'id="receive-warning"' in p.get(page).text
    db.execute("UPDATE accounts SET receive = true WHERE name = 'pager'")


def test_user_pages_in_japanese(panel, db, accounts):
    p = Page(panel.url, lang="ja")
    p.login("mail", "pager@example.test", USER_PW)
    r = p.get("/mail/forwards")
    assert r.status_code == 200 and "転送設定" in r.text
    r = p.post("/mail/forwards", {"condition": "subject", "keyword": "お知らせ", "addresses": "u@y.jp"})
    assert r.status_code == 303 and r.headers["Location"] == "/mail/forwards?done=forwards_added"
    r = p.get("/mail/forwards?done=forwards_added")
    assert "転送設定を追加しました。" in r.text and "お知らせ" in r.text and "件名にキーワードを含む" in r.text
    rid = db.query("SELECT id FROM forward_rules WHERE keyword = 'お知らせ'")[0][0]
    r = p.get(f"/mail/forwards/{rid}/delete")
    assert r.status_code == 200 and "u@y.jp" in r.text
    r = p.post(f"/mail/forwards/{rid}", {"_method": "DELETE"})
    assert r.status_code == 303 and r.headers["Location"] == "/mail/forwards?done=forwards_deleted"
    # Support gets no forwards page.
    s = Page(panel.url)
    s.login("admin", "support1", ADMIN_PW)
    assert s.get("/admin/domains/example.test/accounts/pager/forwards").status_code == 403
