# tests/integration/test_account_list_view.py: every account in the list is the same object as
# GET of that account, in each state (api/account_view.h: ACCT_PAGE_COLS beside ACCT_VIEW_COLS).
import pytest

from accounts_util import create, uniq


@pytest.fixture
def dom(root):
    name = uniq("lv") + ".test"
    assert root.post("/domains", {"name": name}).status_code == 201
    return name


def states(root, db, dom):
    """One account per state, made through the API where it has a way, else by SQL."""
    n = {k: uniq(k[:6]) for k in ("plain", "fwd", "alias", "auto", "autopast", "autofuture",
                                   "locked", "lockgone", "sendlock", "comp", "full", "all")}
    for name in n.values():
        create(root, dom, name)
    base = f"/domains/{dom}/accounts"
    for k in ("fwd", "all"):
        r = root.post(f"{base}/{n[k]}/forwards", {"condition": "all", "addresses": ["a@x.test", "b@x.test"]})
        assert r.status_code == 201, r.text
        r = root.post(f"{base}/{n[k]}/forwards", {"condition": "subject", "keyword": "k",
                                                  "addresses": ["c@x.test"]})
        assert r.status_code == 201, r.text
    for k in ("alias", "all"):
        for a in (uniq("al"), uniq("al")):
            assert root.post(f"{base}/{n[k]}/aliases", {"name": a}).status_code == 201
    assert root.put(f"{base}/{n['auto']}/autoreply", {"text": "away"}).status_code == 200
    assert root.put(f"{base}/{n['all']}/autoreply", {"text": "away"}).status_code == 200
    r = root.put(f"{base}/{n['autopast']}/autoreply",
                 {"text": "was away", "start_at": "2020-01-01T00:00:00Z", "end_at": "2020-01-02T00:00:00Z"})
    assert r.status_code == 200, r.text
    r = root.put(f"{base}/{n['autofuture']}/autoreply", {"text": "will be", "start_at": "2099-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    for k, until in (("locked", "now() + interval '20 minutes'"), ("lockgone", "now() - interval '1 minute'"),
                     ("all", "now() + interval '20 minutes'")):
        db.execute(f"INSERT INTO auth_failures (login, failures, last_failure, locked_until, locked_at) "
                   f"VALUES (%s, 10, now(), {until}, now())", (f"{n[k]}@{dom}",))
    for k in ("sendlock", "all"):
        db.execute("UPDATE accounts SET send_locked_at = now() WHERE name = %s", (n[k],))
    for k in ("comp", "all"):
        assert root.post(f"{base}/{n[k]}/compromised").status_code == 204
    for k in ("full", "all"):
        db.execute("UPDATE accounts SET usage_bytes = quota_mb::bigint * 1048576 + 1 WHERE name = %s", (n[k],))
    return n


def test_list_items_equal_the_single_account(root, db, dom):
    n = states(root, db, dom)
    for lang in ("en", "ja"):
        root.s.headers["Accept-Language"] = lang
        r = root.get(f"/domains/{dom}/accounts", params={"per_page": 500})
        assert r.status_code == 200
        items = {a["name"]: a for a in r.json()["items"]}
        assert len(items) == len(n) + 1
        for name in list(n.values()) + ["postmaster"]:
            one = root.get(f"/domains/{dom}/accounts/{name}")
            assert one.status_code == 200
            assert items[name] == one.json(), name
    a = items
    assert a[n["fwd"]]["forward_count"] == 3 and a[n["alias"]]["alias_count"] == 2
    assert a[n["auto"]]["autoreply"] is True
    assert a[n["autopast"]]["autoreply"] is False and a[n["autofuture"]]["autoreply"] is False
    assert a[n["locked"]]["status"] == ["locked"] and a[n["lockgone"]]["status"] == []
    assert a[n["sendlock"]]["status"] == ["send_locked"] and a[n["comp"]]["status"] == ["compromised"]
    assert a[n["full"]]["status"] == ["over_quota"]
    assert sorted(a[n["all"]]["status"]) == ["compromised", "locked", "over_quota", "send_locked"]
    assert a[n["all"]]["forward_count"] == 3 and a[n["all"]]["alias_count"] == 2
    assert a[n["all"]]["autoreply"] is True
    assert a[n["plain"]]["status"] == [] and a[n["plain"]]["forward_count"] == 0


def test_filtered_pages_carry_the_same_objects(root, db, dom):
    n = states(root, db, dom)
    for st, want in (("locked", {"locked", "all"}), ("send_locked", {"sendlock", "all"}),
                     ("compromised", {"comp", "all"}), ("over_quota", {"full", "all"})):
        r = root.get(f"/domains/{dom}/accounts", params={"status": st})
        assert r.status_code == 200
        got = {a["name"] for a in r.json()["items"]}
        assert got == {n[k] for k in want} and r.json()["total"] == len(want), st
        for item in r.json()["items"]:
            assert item == root.get(f"/domains/{dom}/accounts/{item['name']}").json()
    # A name part, one item per page: the pages walk the matches in name order.
    r = root.get(f"/domains/{dom}/accounts", params={"q": "AUTO", "per_page": 1})
    assert r.json()["total"] == 3
    names = [root.get(f"/domains/{dom}/accounts", params={"q": "AUTO", "per_page": 1, "page": p})
             .json()["items"][0]["name"] for p in (1, 2, 3)]
    assert names == sorted(n[k] for k in ("auto", "autopast", "autofuture"))
