# tests/integration/test_account_counts.py: the account list's total and the domain list's account_count
# stay exact through creates, deletes, imports left open or rolled back, folds and a domain's deletion
# (sql/0008_account_counts.sql, api/accounts.c st_list_all / st_counts_fold).
import threading

import psycopg2
import pytest

from accounts_util import create, seed_accounts, uniq

FOLD_AT = 64   # api/accounts.c COUNTS_FOLD_AT


def real_count(db, domain):
    return db.query("SELECT count(*) FROM accounts a JOIN domains d ON d.id = a.domain_id "
                    "WHERE d.name = %s", (domain,))[0][0]


def count_rows(db, domain):
    return db.query("SELECT count(*) FROM account_counts c JOIN domains d ON d.id = c.domain_id "
                    "WHERE d.name = %s", (domain,))[0][0]


def total(c, domain, **q):
    r = c.get(f"/domains/{domain}/accounts", params=q)
    assert r.status_code == 200, r.text
    return r.json()["total"]


def account_count(c, domain):
    r = c.get("/domains")
    assert r.status_code == 200, r.text
    return [d for d in r.json()["items"] if d["name"] == domain][0]["account_count"]


@pytest.fixture
def dom(root):
    name = uniq("cnt") + ".test"
    r = root.post("/domains", {"name": name})
    assert r.status_code == 201, r.text
    return name


def test_total_follows_creates_and_deletes(root, db, dom):
    assert total(root, dom) == 1 == account_count(root, dom)   # postmaster
    names = [uniq("a") for _ in range(3)]
    for n in names:
        create(root, dom, n)
    assert total(root, dom) == 4 == account_count(root, dom) == real_count(db, dom)
    assert root.delete(f"/domains/{dom}/accounts/{names[0]}").status_code == 204
    r = root.post(f"/domains/{dom}/accounts/delete", {"names": names[1:]})
    assert r.status_code == 204, r.text
    assert total(root, dom) == 1 == account_count(root, dom) == real_count(db, dom)
    # A refused bulk delete (postmaster in it) changes nothing.
    x = create(root, dom, uniq("b"))["name"]
    r = root.post(f"/domains/{dom}/accounts/delete", {"names": [x, "postmaster"]})
    assert r.status_code == 422
    assert total(root, dom) == 2 == real_count(db, dom)


def test_many_changes_are_folded_and_stay_exact(root, db, dom):
    # One statement per account: one count row each.
    for i in range(FOLD_AT + 20):
        seed_accounts(db, dom, [f"f{i:03d}"])
    assert count_rows(db, dom) > FOLD_AT
    expect = real_count(db, dom)
    assert total(root, dom) == expect
    # That list folded the rows; the totals after it are the same.
    assert count_rows(db, dom) == 1
    assert total(root, dom) == expect == account_count(root, dom)
    # Pages past the end still answer the total; per_page cuts the page, not the total.
    r = root.get(f"/domains/{dom}/accounts", params={"page": 1000})
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == expect
    r = root.get(f"/domains/{dom}/accounts", params={"per_page": 10, "page": 2})
    assert [a["name"] for a in r.json()["items"]] == [f"f{i:03d}" for i in range(10, 20)]
    # Filtered lists count what matches.
    assert total(root, dom, q="F00") == 10
    assert total(root, dom, status="normal") == expect


def test_open_and_rolled_back_transactions(root, db, dom):
    for i in range(FOLD_AT + 1):
        seed_accounts(db, dom, [f"g{i:03d}"])
    before = real_count(db, dom)
    # An import's transaction, still open while lists fold around it.
    conn = psycopg2.connect(db.dsn)
    cur = conn.cursor()
    cur.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
                "SELECT d.id, 'open' || g, 'x', 1 FROM domains d, generate_series(1, 30) g "
                "WHERE d.name = %s", (dom,))
    assert total(root, dom) == before          # folds; the open rows are not seen
    assert count_rows(db, dom) == 1
    conn.commit()
    assert total(root, dom) == before + 30 == real_count(db, dom)
    # One rolled back leaves no trace.
    cur.execute("INSERT INTO accounts (domain_id, name, password_hash, quota_mb) "
                "SELECT d.id, 'gone' || g, 'x', 1 FROM domains d, generate_series(1, 5) g "
                "WHERE d.name = %s", (dom,))
    cur.execute("DELETE FROM accounts a USING domains d WHERE d.id = a.domain_id AND d.name = %s "
                "AND a.name LIKE 'open%%'", (dom,))
    conn.rollback()
    conn.close()
    assert total(root, dom) == before + 30 == real_count(db, dom)


def test_two_folds_at_once_stay_exact(root, db, dom):
    for i in range(FOLD_AT + 10):
        seed_accounts(db, dom, [f"h{i:03d}"])
    expect = real_count(db, dom)
    # Two folds racing: the second waits for the first's rows, then skips them.
    a, b = psycopg2.connect(db.dsn), psycopg2.connect(db.dsn)
    fold = ("WITH gone AS (DELETE FROM account_counts WHERE domain_id = "
            "(SELECT id FROM domains WHERE name = %s) RETURNING n) "
            "INSERT INTO account_counts (domain_id, n) SELECT (SELECT id FROM domains WHERE name = %s), "
            "sum(n) FROM gone HAVING count(*) > 1")
    a.cursor().execute(fold, (dom, dom))
    b.autocommit = True
    t = threading.Thread(target=lambda: b.cursor().execute(fold, (dom, dom)))
    t.start()
    t.join(0.5)
    a.commit()
    t.join(10)
    a.close()
    b.close()
    assert db.query("SELECT sum(n) FROM account_counts c JOIN domains d ON d.id = c.domain_id "
                    "WHERE d.name = %s", (dom,))[0][0] == expect
    assert total(root, dom) == expect


def test_domain_deleted_takes_its_counts(root, db, dom):
    create(root, dom, uniq("z"))
    did = db.query("SELECT id FROM domains WHERE name = %s", (dom,))[0][0]
    assert root.delete(f"/domains/{dom}").status_code == 204
    assert db.query("SELECT count(*) FROM account_counts WHERE domain_id = %s", (did,))[0][0] == 0


def test_accounts_cannot_move_between_domains(db, dom):
    move = ("UPDATE accounts SET domain_id = (SELECT id FROM domains WHERE name = 'other.test') "
                  "WHERE domain_id = (SELECT id FROM domains WHERE name = %s) AND name = 'postmaster'")
    with pytest.raises(Exception) as e:
        db.execute(move, (dom,))
    assert "cannot move" in str(e.value)
