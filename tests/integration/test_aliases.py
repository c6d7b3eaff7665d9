# tests/integration/test_aliases.py: SPEC §10 in the panel: aliases (rules, namespace shared with
# accounts, limit, race), catch-all, domain aliases, role checks, audit, NOTIFY, pages.
import re
import threading

import psycopg2
import pytest
import requests

from aliases_util import USER_PW, Listener, make_account, user_client
from conftest import ADMIN_PW, Client, Panel

D = "example.test"
ACC = f"/domains/{D}/accounts"


@pytest.fixture(scope="module", autouse=True)
def accounts(db):
    make_account(db, D, "alice", USER_PW)
    make_account(db, D, "bob", USER_PW)
    make_account(db, D, "carol")
    make_account(db, "other.test", "dave", USER_PW)
    make_account(db, "other.test", "erin")


def aliases(c, name="alice", domain=D):
    r = c.get(f"/domains/{domain}/accounts/{name}/aliases")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def codes(r):
    return [d["code"] for d in r.json()["error"]["details"]]


def clear(db):
    db.execute("DELETE FROM aliases")
    db.execute("UPDATE domains SET catchall_account_id = NULL")
    db.execute("DELETE FROM domain_aliases")


# ---- aliases ----------------------------------------------------------------------------

def test_create_list_delete(root, db):
    clear(db)
    assert aliases(root) == []
    r = root.post(f"{ACC}/alice/aliases", {"name": "Info.Desk"})
    assert r.status_code == 201, r.text
    # Stored and answered lower-case (SPEC §2 names are case-insensitive).
    assert r.json() == {"name": "info.desk", "address": "info.desk@example.test"}
    assert r.headers["Location"].endswith("/aliases/info.desk")
    assert db.query("SELECT a.name, c.name FROM aliases a JOIN accounts c ON c.id = a.account_id") == \
        [("info.desk", "alice")]
    assert db.query("SELECT kind FROM local_names WHERE name = 'info.desk'") == [("alias",)]
    assert root.post(f"{ACC}/alice/aliases", {"name": "sales"}).status_code == 201
    assert aliases(root) == [{"name": "info.desk", "address": "info.desk@example.test"},
                             {"name": "sales", "address": "sales@example.test"}]
    assert root.delete(f"{ACC}/alice/aliases/sales").status_code == 204
    assert aliases(root) == [{"name": "info.desk", "address": "info.desk@example.test"}]
    assert db.query("SELECT count(*) FROM local_names WHERE name = 'sales'") == [(0,)]
    # The name is free again at once.
    assert root.post(f"{ACC}/bob/aliases", {"name": "sales"}).status_code == 201
    assert aliases(root, "bob") == [{"name": "sales", "address": "sales@example.test"}]


def test_delete_unknown_or_other_accounts_alias_is_404(root, db):
    clear(db)
    assert root.post(f"{ACC}/alice/aliases", {"name": "mine"}).status_code == 201
    r = root.delete(f"{ACC}/bob/aliases/mine")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert root.delete(f"{ACC}/alice/aliases/nothere").status_code == 404
    assert root.delete(f"{ACC}/alice/aliases/MINE").status_code == 204
    assert root.delete(f"{ACC}/alice/aliases/mine").status_code == 404


def test_unknown_account_or_domain_is_404_for_superadmin(root):
    assert root.get(f"{ACC}/nobody/aliases").status_code == 404
    assert root.post(f"{ACC}/nobody/aliases", {"name": "xx"}).status_code == 404
    assert root.get("/domains/no-such.test/accounts/alice/aliases").status_code == 404


@pytest.mark.parametrize("name,code", [
    ("a", "bad_length"),
    ("", "bad_length"),
    ("x" * 33, "bad_length"),
    ("ab cd", "bad_char"),
    ("ab@cd", "bad_char"),
    ("ab+cd", "bad_char"),
    ("あいう", "bad_char"),
    ("-abc", "bad_edge"),
    ("abc.", "bad_edge"),
    ("_abc", "bad_edge"),
    ("ab..cd", "double_dot"),
])
def test_name_rules(root, db, name, code):
    r = root.post(f"{ACC}/alice/aliases", {"name": name})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid"
    assert code in codes(r)
    assert all(d["field"] == "name" and d["message"] for d in r.json()["error"]["details"])
    assert db.query("SELECT count(*) FROM aliases WHERE name = lower(%s)", (name,)) == [(0,)]


def test_name_rules_edge_lengths_accepted(root, db):
    clear(db)
    for n in ("ab", "y" * 32, "a-b_c.d", "9z"):
        assert root.post(f"{ACC}/carol/aliases", {"name": n}).status_code == 201, n


def test_missing_name_and_non_string(root):
    r = root.post(f"{ACC}/alice/aliases", {})
    assert r.status_code == 422 and "bad_length" in codes(r)
    r = root.post(f"{ACC}/alice/aliases", {"name": 12345})
    assert r.status_code == 422


def test_messages_follow_accept_language(panel):
    c = Client(panel.url, lang="ja")
    assert c.login("root", ADMIN_PW).status_code == 200
    r = c.post(f"{ACC}/alice/aliases", {"name": "a..b"})
    assert r.status_code == 422
    msg = r.json()["error"]["details"][0]["message"]
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", msg), msg


def test_alias_may_not_take_an_account_name(root, db):
    clear(db)
    for taken in ("bob", "BOB", "postmaster", "alice"):
        r = root.post(f"{ACC}/alice/aliases", {"name": taken})
        assert r.status_code == 409, (taken, r.text)
        assert r.json()["error"]["code"] == "exists"
    # An account of the same name in another domain does not matter.
    assert root.post(f"{ACC}/alice/aliases", {"name": "dave"}).status_code == 201


def test_alias_name_taken_by_another_alias(root, db):
    clear(db)
    assert root.post(f"{ACC}/alice/aliases", {"name": "team"}).status_code == 201
    for who in ("alice", "bob"):
        r = root.post(f"{ACC}/{who}/aliases", {"name": "Team"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "exists"
    # Same local part in another domain is another address.
    assert root.post("/domains/other.test/accounts/dave/aliases", {"name": "team"}).status_code == 201


def test_account_may_not_take_an_alias_name(root, db):
    clear(db)
    assert root.post(f"{ACC}/alice/aliases", {"name": "helpdesk"}).status_code == 201
    # The database refuses it whichever program writes the account.
    with pytest.raises(psycopg2.errors.UniqueViolation):
        make_account(db, D, "helpdesk")
    r = root.post(ACC, {"name": "HelpDesk", "password": "Xy#pass-word-9Q", "quota_mb": 100})
    if r.status_code not in (404, 405):
        assert r.status_code == 409 and r.json()["error"]["code"] == "exists", r.text


def test_rule_checks_come_before_conflicts(root):
    r = root.post(f"{ACC}/alice/aliases", {"name": "postmaster."})
    assert r.status_code == 422 and "bad_edge" in codes(r)


def test_too_many(db):
    clear(db)
    p = Panel(db, extra_config="aliases_per_account = 3")
    try:
        c = Client(p.url)
        assert c.login("root", ADMIN_PW).status_code == 200
        for n in ("one", "two", "three"):
            assert c.post(f"{ACC}/bob/aliases", {"name": n}).status_code == 201
        r = c.post(f"{ACC}/bob/aliases", {"name": "four"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
        assert codes(r) == ["too_many"]
        # Rules still come first; the limit is per account.
        assert "bad_edge" in codes(c.post(f"{ACC}/bob/aliases", {"name": "four-"}))
        assert c.post(f"{ACC}/alice/aliases", {"name": "four"}).status_code == 201
        assert c.delete(f"{ACC}/bob/aliases/one").status_code == 204
        assert c.post(f"{ACC}/bob/aliases", {"name": "five"}).status_code == 201
        assert db.query("SELECT count(*) FROM aliases a JOIN accounts c ON c.id = a.account_id "
                        "WHERE c.name = 'bob'") == [(3,)]
    finally:
        p.stop()


def test_default_limit_is_50(root, db):
    clear(db)
    db.execute("INSERT INTO aliases (domain_id, name, account_id) SELECT domain_id, 'bulk' || g, id "
               "FROM accounts, generate_series(1, 49) g WHERE name = 'carol'")
    assert root.post(f"{ACC}/carol/aliases", {"name": "fifty"}).status_code == 201
    r = root.post(f"{ACC}/carol/aliases", {"name": "fiftyone"})
    assert r.status_code == 422 and codes(r) == ["too_many"]
    clear(db)


def test_race_one_name_exactly_one_wins(panel, db):
    clear(db)
    clients = []
    for _ in range(4):
        c = Client(panel.url)
        assert c.login("root", ADMIN_PW).status_code == 200
        clients.append(c)
    targets = ["alice", "bob", "carol", "alice"]
    results = [None] * 20
    start = threading.Barrier(20)

    def worker(i):
        c = clients[i % 4]
        s = requests.Session()
        s.cookies.update(c.s.cookies)
        start.wait()
        r = s.post(f"{panel.url}/api/v1{ACC}/{targets[i % 4]}/aliases", json={"name": "racer"},
                   headers={"X-CSRF-Token": c.csrf})
        results[i] = (r.status_code, r.json()["error"]["code"] if r.status_code != 201 else None)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(s for s, _ in results) == [201] + [409] * 19, results
    assert all(code == "exists" for s, code in results if s == 409)
    assert db.query("SELECT count(*) FROM aliases WHERE name = 'racer'") == [(1,)]
    assert db.query("SELECT count(*) FROM local_names WHERE name = 'racer'") == [(1,)]


def test_race_alias_and_account_creation(panel, db):
    """An account insert racing an alias of the same name: one of them wins."""
    clear(db)
    c = Client(panel.url)
    assert c.login("root", ADMIN_PW).status_code == 200
    conn = psycopg2.connect(db.dsn)
    cur = conn.cursor()
    cur.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
                "SELECT id, 'contested', '!', 10 FROM domains WHERE name = %s", (D,))
    # The account's transaction is open: the alias waits for it, then sees the conflict.
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", c.post(f"{ACC}/alice/aliases",
                                                                    {"name": "contested"})))
    t.start()
    t.join(1.0)
    assert t.is_alive(), "the alias insert should wait for the open account insert"
    conn.commit()
    t.join(30)
    conn.close()
    assert out["r"].status_code == 409 and out["r"].json()["error"]["code"] == "exists"
    db.execute("DELETE FROM accounts WHERE name = 'contested'")


def test_race_two_panels_account_and_alias_creates(panel, db):
    """Two panel processes, account and alias creates of one name at once: exactly one 201."""
    clear(db)
    second = Panel(db)
    try:
        clients = []
        for url in (panel.url, second.url):
            c = Client(url)
            assert c.login("root", ADMIN_PW).status_code == 200
            clients.append(c)
        for name in ("duel-one", "duel-two"):
            calls = [("accounts", ACC, {"name": name, "password": USER_PW, "quota_mb": 10})] * 3 + \
                    [("alias", f"{ACC}/{t}/aliases", {"name": name}) for t in ("alice", "bob", "carol")] * 3
            results = [None] * len(calls)
            start = threading.Barrier(len(calls))

            def worker(i):
                c = clients[i % 2]
                s = requests.Session()
                s.cookies.update(c.s.cookies)
                start.wait()
                r = s.post(f"{c.base}/api/v1{calls[i][1]}", json=calls[i][2], headers={"X-CSRF-Token": c.csrf})
                results[i] = (calls[i][0], r.status_code, r.json()["error"]["code"] if r.status_code != 201 else None)

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            assert sorted(s for _, s, _ in results) == [201] + [409] * (len(calls) - 1), results
            assert all(code == "exists" for _, s, code in results if s == 409), results
            winner = [k for k, s, _ in results if s == 201][0]
            assert db.query("SELECT kind FROM local_names WHERE name = %s", (name,)) == \
                [("account" if winner == "accounts" else "alias",)]
            assert db.query("SELECT (SELECT count(*) FROM accounts WHERE name = %s) + "
                            "(SELECT count(*) FROM aliases WHERE name = %s)", (name, name)) == [(1,)]
    finally:
        second.stop()
        db.execute("DELETE FROM accounts WHERE name LIKE 'duel-%%'")
        clear(db)


def test_audit_and_notify_for_alias_changes(root, db):
    clear(db)
    db.execute("DELETE FROM audit_log")
    lis = Listener(db)
    try:
        assert root.post(f"{ACC}/alice/aliases", {"name": "audited"}).status_code == 201
        assert D in lis.collect(0.5)
        assert root.delete(f"{ACC}/alice/aliases/audited").status_code == 204
        assert D in lis.collect(0.5)
        # A refused change sends nothing.
        assert root.post(f"{ACC}/alice/aliases", {"name": "bob"}).status_code == 409
        assert lis.collect(0.3) == []
    finally:
        lis.close()
    rows = db.query("SELECT domain, actor, action, target, details->>'account' FROM audit_log "
                    "ORDER BY id")
    assert rows == [(D, "root", "alias_create", "audited@example.test", "alice@example.test"),
                    (D, "root", "alias_delete", "audited@example.test", "alice@example.test")]


def test_deleting_account_removes_aliases_and_catchall(root, db):
    clear(db)
    make_account(db, D, "leaving")
    assert root.post(f"{ACC}/leaving/aliases", {"name": "gone1"}).status_code == 201
    assert root.put(f"/domains/{D}/catch-all", {"account": "leaving"}).json() == {"account": "leaving"}
    r = root.delete(f"{ACC}/leaving")
    if r.status_code in (404, 405):
        db.execute("DELETE FROM accounts WHERE name = 'leaving'")   # acct's DELETE not there yet
    else:
        assert r.status_code == 204, r.text
    assert db.query("SELECT count(*) FROM aliases WHERE name = 'gone1'") == [(0,)]
    assert db.query("SELECT count(*) FROM local_names WHERE name IN ('gone1', 'leaving')") == [(0,)]
    assert root.get(f"/domains/{D}/catch-all").json() == {"account": None}
    if r.status_code == 204:
        # What went with the account is audited in the same transaction.
        rows = db.query("SELECT action, target, details->>'account', details->>'from', details->>'reason' "
                        "FROM audit_log WHERE action IN ('alias_delete', 'catchall_off') "
                        "AND details->>'reason' = 'account_delete' ORDER BY id")
        assert rows == [("alias_delete", "gone1@example.test", "leaving@example.test", None, "account_delete"),
                        ("catchall_off", "", None, "leaving", "account_delete")]
    # Both names are free again.
    assert root.post(f"{ACC}/alice/aliases", {"name": "leaving"}).status_code == 201
    assert root.post(f"{ACC}/alice/aliases", {"name": "gone1"}).status_code == 201


def test_bulk_delete_removes_every_accounts_aliases_and_catchall(root, db):
    clear(db)
    db.execute("DELETE FROM audit_log")
    make_account(db, D, "bulk-x")
    make_account(db, D, "bulk-y")
    for acct, al in (("bulk-x", "bx1"), ("bulk-y", "by1"), ("bulk-y", "by2"), ("alice", "stays")):
        assert root.post(f"{ACC}/{acct}/aliases", {"name": al}).status_code == 201
    assert root.put(f"/domains/{D}/catch-all", {"account": "bulk-y"}).status_code == 200
    # A bulk delete that includes postmaster deletes nothing, aliases and catch-all included.
    r = root.post(f"{ACC}/delete", {"names": ["bulk-x", "postmaster"]})
    assert r.status_code == 422
    assert db.query("SELECT count(*) FROM aliases") == [(4,)]
    assert root.get(f"/domains/{D}/catch-all").json() == {"account": "bulk-y"}
    lis = Listener(db)
    try:
        assert root.post(f"{ACC}/delete", {"names": ["bulk-x", "bulk-y"]}).status_code == 204
        assert D in lis.collect(0.5)
    finally:
        lis.close()
    assert db.query("SELECT name FROM aliases") == [("stays",)]
    assert root.get(f"/domains/{D}/catch-all").json() == {"account": None}
    rows = db.query("SELECT action, target, coalesce(details->>'account', details->>'from') FROM audit_log "
                    "WHERE details->>'reason' = 'account_delete' ORDER BY id")
    assert rows == [("alias_delete", "bx1@example.test", "bulk-x@example.test"),
                    ("alias_delete", "by1@example.test", "bulk-y@example.test"),
                    ("alias_delete", "by2@example.test", "bulk-y@example.test"),
                    ("catchall_off", "", "bulk-y")]
    clear(db)


# ---- the user's own ---------------------------------------------------------------------

def test_user_sees_own_aliases_only(panel, root, db):
    clear(db)
    assert root.post(f"{ACC}/alice/aliases", {"name": "al1"}).status_code == 201
    assert root.post(f"{ACC}/bob/aliases", {"name": "bo1"}).status_code == 201
    u = user_client(panel, "alice@example.test")
    r = u.get("/me/aliases")
    assert r.status_code == 200
    assert r.json() == {"items": [{"name": "al1", "address": "al1@example.test"}]}
    # Read only, and nobody else's.
    assert u.post("/me/aliases", {"name": "mine2"}).status_code == 405
    assert u.get(f"{ACC}/alice/aliases").status_code == 403
    assert u.get(f"{ACC}/bob/aliases").status_code == 403
    assert u.post(f"{ACC}/alice/aliases", {"name": "mine2"}).status_code == 403
    assert u.delete(f"{ACC}/alice/aliases/al1").status_code == 403
    assert u.get(f"/domains/{D}/catch-all").status_code == 403
    assert u.get(f"/domains/{D}/domain-aliases").status_code == 403
    assert db.query("SELECT count(*) FROM aliases") == [(2,)]
    # Signing in with an alias is not possible (SPEC §10): the account signs in only with its own address.
    c = Client(panel.url)
    assert c.login("al1@example.test", USER_PW, side="mail").status_code == 401
    db.execute("DELETE FROM auth_failures")
    db.execute("DELETE FROM ip_failures")


def test_admins_have_no_me_aliases(root):
    assert root.get("/me/aliases").status_code == 403


# ---- catch-all --------------------------------------------------------------------------

def test_catchall_off_by_default_set_and_off(root, db):
    clear(db)
    db.execute("DELETE FROM audit_log")
    r = root.get(f"/domains/{D}/catch-all")
    assert r.status_code == 200 and r.json() == {"account": None}
    lis = Listener(db)
    try:
        r = root.put(f"/domains/{D}/catch-all", {"account": "carol"})
        assert r.status_code == 200 and r.json() == {"account": "carol"}
        assert D in lis.collect(0.5)
        assert root.get(f"/domains/{D}/catch-all").json() == {"account": "carol"}
        # Case-insensitive, and the full address of this domain is the same account.
        assert root.put(f"/domains/{D}/catch-all", {"account": "Bob@Example.test"}).json() == {"account": "bob"}
        assert db.query("SELECT a.name FROM domains d JOIN accounts a ON a.id = d.catchall_account_id "
                        "WHERE d.name = %s", (D,)) == [("bob",)]
        assert root.delete(f"/domains/{D}/catch-all").status_code == 204
        assert D in lis.collect(0.5)
        assert root.get(f"/domains/{D}/catch-all").json() == {"account": None}
        assert root.delete(f"/domains/{D}/catch-all").status_code == 204
    finally:
        lis.close()
    rows = db.query("SELECT action, target, details->>'from', details->>'to' FROM audit_log ORDER BY id")
    assert rows == [("catchall_set", "carol@example.test", None, "carol"),
                    ("catchall_set", "bob@example.test", "carol", "bob"),
                    ("catchall_off", "", "bob", None)]


@pytest.mark.parametrize("body,code", [
    ({}, "required"),
    ({"account": ""}, "required"),
    ({"account": "nobody"}, "not_found"),
    ({"account": "dave"}, "not_found"),                 # exists, but in other.test
    ({"account": "dave@other.test"}, "not_found"),
    ({"account": "alice@other.test"}, "not_found"),
])
def test_catchall_account_must_exist_in_domain(root, db, body, code):
    clear(db)
    r = root.put(f"/domains/{D}/catch-all", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid"
    assert [(d["field"], d["code"]) for d in r.json()["error"]["details"]] == [("account", code)]
    assert root.get(f"/domains/{D}/catch-all").json() == {"account": None}


def test_catchall_alias_name_is_not_an_account(root, db):
    clear(db)
    assert root.post(f"{ACC}/alice/aliases", {"name": "notacct"}).status_code == 201
    assert root.put(f"/domains/{D}/catch-all", {"account": "notacct"}).status_code == 422


def test_catchall_per_domain(root, db):
    clear(db)
    assert root.put(f"/domains/{D}/catch-all", {"account": "alice"}).status_code == 200
    assert root.get("/domains/other.test/catch-all").json() == {"account": None}
    assert root.put("/domains/other.test/catch-all", {"account": "erin"}).json() == {"account": "erin"}
    assert root.get(f"/domains/{D}/catch-all").json() == {"account": "alice"}


# ---- domain aliases ---------------------------------------------------------------------

def test_domain_alias_create_list_delete(root, db):
    clear(db)
    db.execute("DELETE FROM audit_log")
    lis = Listener(db)
    try:
        r = root.post(f"/domains/{D}/domain-aliases", {"name": "Alias-Example.TEST"})
        assert r.status_code == 201, r.text
        assert r.json()["name"] == "alias-example.test"
        assert {D, "alias-example.test"} <= set(lis.collect(0.5))
        assert root.post(f"/domains/{D}/domain-aliases", {"name": "second.test"}).status_code == 201
        r = root.get(f"/domains/{D}/domain-aliases")
        assert r.status_code == 200
        assert [i["name"] for i in r.json()["items"]] == ["alias-example.test", "second.test"]
        assert root.get("/domains/other.test/domain-aliases").json()["items"] == []
        assert db.query("SELECT d.name FROM domain_aliases a JOIN domains d ON d.id = a.domain_id "
                        "WHERE a.name = 'second.test'") == [(D,)]
        assert root.delete(f"/domains/{D}/domain-aliases/second.test").status_code == 204
        assert D in lis.collect(0.5)
        assert root.delete(f"/domains/{D}/domain-aliases/second.test").status_code == 404
        # Only the domain's own aliases can be deleted through it.
        assert root.delete("/domains/other.test/domain-aliases/alias-example.test").status_code == 404
    finally:
        lis.close()
    assert [i["name"] for i in root.get(f"/domains/{D}/domain-aliases").json()["items"]] == \
        ["alias-example.test"]
    rows = db.query("SELECT domain, action, target FROM audit_log ORDER BY id")
    assert rows == [(D, "domain_alias_create", "alias-example.test"),
                    (D, "domain_alias_create", "second.test"),
                    (D, "domain_alias_delete", "second.test")]


def test_domain_alias_conflicts(root, db):
    clear(db)
    for taken in ("other.test", "EXAMPLE.test"):
        r = root.post(f"/domains/{D}/domain-aliases", {"name": taken})
        assert r.status_code == 409 and r.json()["error"]["code"] == "exists", taken
    assert root.post("/domains/other.test/domain-aliases", {"name": "shared.test"}).status_code == 201
    for d in (D, "other.test"):
        r = root.post(f"/domains/{d}/domain-aliases", {"name": "shared.test"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "exists"
    # ...and a domain may not take a domain alias's name.
    assert db.ctl("domain", "add", "shared.test", check=False).returncode != 0
    assert db.query("SELECT count(*) FROM domains WHERE name = 'shared.test'") == [(0,)]


@pytest.mark.parametrize("name,code", [
    ("", "required"), ("nodot", "invalid"), ("bad_char.test", "invalid"), ("-lead.test", "invalid"),
    ("a..b.test", "invalid"), ("x" * 250 + ".test", "invalid"),
])
def test_domain_alias_name_rules(root, name, code):
    r = root.post(f"/domains/{D}/domain-aliases", {"name": name})
    assert r.status_code == 422, r.text
    assert [(d["field"], d["code"]) for d in r.json()["error"]["details"]] == [("name", code)]


def test_domain_alias_roles(root, dadmin, support, panel, db):
    clear(db)
    assert root.post(f"/domains/{D}/domain-aliases", {"name": "seen.test"}).status_code == 201
    for c in (dadmin, support):
        r = c.get(f"/domains/{D}/domain-aliases")
        assert r.status_code == 200 and [i["name"] for i in r.json()["items"]] == ["seen.test"]
        assert c.post(f"/domains/{D}/domain-aliases", {"name": "mine.test"}).status_code == 403
        assert c.delete(f"/domains/{D}/domain-aliases/seen.test").status_code == 403
        assert c.get("/domains/other.test/domain-aliases").status_code == 403
    assert db.query("SELECT name FROM domain_aliases") == [("seen.test",)]


# ---- role checks as a matrix ------------------------------------------------------------

def _matrix_calls():
    # (method, path, body, expected status per role)
    # roles: root, dadmin (example.test), support (example.test), other (domain admin of
    # other.test), user (alice@example.test)
    return [
        ("GET", f"{ACC}/alice/aliases", None,
         dict(root=200, dadmin=200, support=200, other=403, user=403)),
        ("POST", f"{ACC}/alice/aliases", {"name": "mx-{role}"},
         dict(root=201, dadmin=201, support=403, other=403, user=403)),
        ("DELETE", f"{ACC}/alice/aliases/victim", None,
         dict(root=204, dadmin=204, support=403, other=403, user=403)),
        ("GET", f"/domains/{D}/catch-all", None,
         dict(root=200, dadmin=200, support=200, other=403, user=403)),
        ("PUT", f"/domains/{D}/catch-all", {"account": "alice"},
         dict(root=200, dadmin=200, support=403, other=403, user=403)),
        ("DELETE", f"/domains/{D}/catch-all", None,
         dict(root=204, dadmin=204, support=403, other=403, user=403)),
        ("GET", f"/domains/{D}/domain-aliases", None,
         dict(root=200, dadmin=200, support=200, other=403, user=403)),
        ("POST", f"/domains/{D}/domain-aliases", {"name": "mx-{role}.test"},
         dict(root=201, dadmin=403, support=403, other=403, user=403)),
        ("DELETE", f"/domains/{D}/domain-aliases/victim.test", None,
         dict(root=204, dadmin=403, support=403, other=403, user=403)),
        ("GET", "/me/aliases", None,
         dict(root=403, dadmin=403, support=403, other=403, user=200)),
        # Out of scope is 403 whether or not the domain exists (CONTRACT order).
        ("GET", "/domains/nowhere.test/accounts/alice/aliases", None,
         dict(root=404, dadmin=403, support=403, other=403, user=403)),
        ("PUT", "/domains/nowhere.test/catch-all", {"account": "alice"},
         dict(root=404, dadmin=403, support=403, other=403, user=403)),
        ("GET", "/domains/other.test/catch-all", None,
         dict(root=200, dadmin=403, support=403, other=200, user=403)),
    ]


def test_authorization_matrix(panel, db):
    clients = {}
    for role, login in (("root", "root"), ("dadmin", "dadmin"), ("support", "support1"),
                        ("other", "otheradmin")):
        c = Client(panel.url)
        assert c.login(login, ADMIN_PW).status_code == 200
        clients[role] = c
    clients["user"] = user_client(panel, "alice@example.test")
    failures = []
    for role, c in clients.items():
        for method, path, body, expect in _matrix_calls():
            clear(db)
            db.execute("INSERT INTO aliases (domain_id, name, account_id) SELECT domain_id, 'victim', id "
                       "FROM accounts WHERE name = 'alice'")
            db.execute("INSERT INTO domain_aliases (name, domain_id) SELECT 'victim.test', id FROM domains "
                       "WHERE name = %s", (D,))
            b = {k: v.format(role=role) for k, v in body.items()} if body else None
            r = c.call(method, path, json=b)
            if r.status_code != expect[role]:
                failures.append((role, method, path, r.status_code, expect[role]))
            elif r.status_code == 403:
                assert r.json()["error"]["code"] == "forbidden"
            # A refused change leaves everything as it was.
            if r.status_code >= 400:
                assert db.query("SELECT count(*) FROM aliases") == [(1,)]
                assert db.query("SELECT count(*) FROM domain_aliases") == [(1,)]
                assert db.query("SELECT count(*) FROM domains WHERE catchall_account_id IS NOT NULL") == [(0,)]
    assert failures == []
    clear(db)


def test_unauthenticated_and_csrf(panel, root, db):
    clear(db)
    anon = Client(panel.url)
    assert anon.get(f"{ACC}/alice/aliases").status_code == 401
    assert anon.post(f"{ACC}/alice/aliases", {"name": "anon1"}).status_code == 401
    assert anon.get("/me/aliases").status_code == 401
    token = root.csrf
    root.csrf = None
    try:
        for method, path, body in (("POST", f"{ACC}/alice/aliases", {"name": "nocsrf"}),
                                   ("PUT", f"/domains/{D}/catch-all", {"account": "alice"}),
                                   ("POST", f"/domains/{D}/domain-aliases", {"name": "nocsrf.test"})):
            r = root.call(method, path, json=body)
            assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    finally:
        root.csrf = token
    assert db.query("SELECT count(*) FROM aliases") == [(0,)]
    assert db.query("SELECT count(*) FROM domain_aliases") == [(0,)]


def test_wrong_methods(root):
    assert root.call("PATCH", f"{ACC}/alice/aliases").status_code == 405
    assert root.call("GET", f"{ACC}/alice/aliases/x").status_code == 405
    assert root.call("POST", f"/domains/{D}/catch-all").status_code == 405


# ---- pages ------------------------------------------------------------------------------

def page_client(panel, login, password=ADMIN_PW, side="admin", lang="en"):
    s = requests.Session()
    s.headers["Accept-Language"] = lang
    r = s.post(f"{panel.url}/{side}/login", data={"username": login, "password": password},
               allow_redirects=False)
    assert r.status_code == 303, r.text
    return s


def csrf_of(html):
    m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert m, html
    return m.group(1)


def test_alias_pages_add_error_confirm_delete(panel, db):
    clear(db)
    s = page_client(panel, "dadmin")
    url = f"{panel.url}/admin/domains/{D}/accounts/alice/aliases"
    r = s.get(url)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    assert "alice@example.test" in r.text and 'name="name"' in r.text
    tok = csrf_of(r.text)
    # A broken rule: the form again, with the error next to the field and the value kept.
    r = s.post(url, data={"csrf_token": tok, "name": "bad..name"}, allow_redirects=False)
    assert r.status_code == 422
    assert 'class="field-error" id="name-error"' in r.text and 'value="bad..name"' in r.text
    r = s.post(url, data={"csrf_token": tok, "name": "bob"}, allow_redirects=False)
    assert r.status_code == 409 and 'id="name-error"' in r.text
    # Success: 303 to the list with a completion message.
    r = s.post(url, data={"csrf_token": tok, "name": "Pages"}, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == f"/admin/domains/{D}/accounts/alice/aliases?done=aliases_added"
    r = s.get(panel.url + r.headers["Location"])
    assert "The alias has been added." in r.text and "pages@example.test" in r.text
    # Delete goes through a confirmation page that changes nothing by itself.
    r = s.get(f"{url}/pages/delete")
    assert r.status_code == 200 and "pages@example.test" in r.text and 'value="DELETE"' in r.text
    assert db.query("SELECT count(*) FROM aliases WHERE name = 'pages'") == [(1,)]
    r = s.post(f"{url}/pages", data={"csrf_token": tok, "_method": "DELETE"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("?done=aliases_deleted")
    assert db.query("SELECT count(*) FROM aliases WHERE name = 'pages'") == [(0,)]
    assert s.get(f"{url}/pages/delete").status_code == 404
    # Without the CSRF token nothing happens.
    r = s.post(url, data={"name": "nocsrf"}, allow_redirects=False)
    assert r.status_code == 403
    assert db.query("SELECT count(*) FROM aliases") == [(0,)]


def test_alias_page_japanese_and_support_read_only(panel, db, root):
    clear(db)
    assert root.post(f"{ACC}/alice/aliases", {"name": "shown"}).status_code == 201
    s = page_client(panel, "support1", lang="ja")
    r = s.get(f"{panel.url}/admin/domains/{D}/accounts/alice/aliases")
    assert r.status_code == 200
    assert "別名" in r.text and "shown@example.test" in r.text
    assert 'name="name"' not in r.text and "/shown/delete" not in r.text
    assert s.get(f"{panel.url}/admin/domains/{D}/accounts/alice/aliases/shown/delete").status_code == 403


def test_catchall_page(panel, db):
    clear(db)
    s = page_client(panel, "dadmin")
    url = f"{panel.url}/admin/domains/{D}/catch-all"
    r = s.get(url)
    assert r.status_code == 200 and 'class="catchall-off"' in r.text
    assert '<option value="carol">' in r.text
    tok = csrf_of(r.text)
    r = s.post(url, data={"csrf_token": tok, "_method": "PUT", "account": "nobody"}, allow_redirects=False)
    assert r.status_code == 422 and 'id="account-error"' in r.text
    r = s.post(url, data={"csrf_token": tok, "_method": "PUT", "account": "carol"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("?done=aliases_catchall_saved")
    r = s.get(panel.url + r.headers["Location"])
    assert "carol@example.test" in r.text and '<option value="carol" selected>' in r.text
    assert "The catch-all has been set." in r.text
    r = s.post(url, data={"csrf_token": tok, "_method": "DELETE"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("?done=aliases_catchall_off")
    assert db.query("SELECT catchall_account_id FROM domains WHERE name = %s", (D,)) == [(None,)]


def test_domain_alias_page(panel, db):
    clear(db)
    s = page_client(panel, "root", lang="ja")
    url = f"{panel.url}/admin/domains/{D}/domain-aliases"
    r = s.get(url)
    assert r.status_code == 200 and "ドメイン別名" in r.text
    tok = csrf_of(r.text)
    r = s.post(url, data={"csrf_token": tok, "name": "other.test"}, allow_redirects=False)
    assert r.status_code == 409 and 'id="name-error"' in r.text
    r = s.post(url, data={"csrf_token": tok, "name": "page-alias.test"}, allow_redirects=False)
    assert r.status_code == 303
    r = s.get(panel.url + r.headers["Location"])
    assert "page-alias.test" in r.text and "ドメイン別名を追加しました。" in r.text
    r = s.post(f"{url}/page-alias.test", data={"csrf_token": tok, "_method": "DELETE"}, allow_redirects=False)
    assert r.status_code == 303
    assert db.query("SELECT count(*) FROM domain_aliases") == [(0,)]
    # A domain admin reads, without the forms.
    d = page_client(panel, "dadmin")
    r = d.get(url)
    assert r.status_code == 200 and 'name="name"' not in r.text


def test_mail_aliases_page(panel, db, root):
    clear(db)
    assert root.post(f"{ACC}/alice/aliases", {"name": "mypage"}).status_code == 201
    s = page_client(panel, "alice@example.test", USER_PW, side="mail")
    r = s.get(f"{panel.url}/mail/aliases")
    assert r.status_code == 200 and "mypage@example.test" in r.text
    assert "<form" not in r.text.split("</header>", 1)[1]
