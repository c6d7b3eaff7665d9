# tests/integration/test_maild_panel.py: read-your-writes through the real panel API: each change the
# API answered (new account, toggles, quota, forward, autoreply, deletion) governs the very next message.
import time

import pytest

from maild_util import Maild, Sink, USER_PW, send

D = "/domains/example.test/accounts"


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def md(db, sink):
    m = Maild(db, relay=sink.port)
    yield m
    m.stop()


def rcpt_code(md, addr):
    with md.client() as c:
        c.ehlo("x")
        c.mail("a@remote.test")
        return c.rcpt(addr)[0]


def test_panel_changes_govern_next_message(md, root, sink, db):
    for i in range(5):
        r = root.post(D, {"name": f"pnl{i}", "password": USER_PW, "quota_mb": 5})
        assert r.status_code == 201, r.text
        assert rcpt_code(md, f"pnl{i}@example.test") == 250
    # receive off + an "all" forward, then the next message is forwarded, not kept
    assert root.patch(D + "/pnl0", {"receive": False}).status_code == 200
    r = root.post(D + "/pnl0/forwards", {"condition": "all", "addresses": ["out0@outside.test"]})
    assert r.status_code == 201, r.text
    n = len(sink.messages)
    send(md, ["pnl0@example.test"], b"Subject: p0\r\n\r\nx\r\n")
    assert sink.wait(n + 1)[n][1] == ["out0@outside.test"]
    assert md.read_all("example.test", "pnl0") == []
    # quota lowered below the usage, then raised again
    db.execute("UPDATE accounts SET usage_bytes = 2 * 1048576 WHERE name = 'pnl1'")
    assert rcpt_code(md, "pnl1@example.test") == 250      # 2 MB of 5
    assert root.patch(D + "/pnl1", {"quota_mb": 1}).status_code == 200
    assert rcpt_code(md, "pnl1@example.test") == 452
    assert root.patch(D + "/pnl1", {"quota_mb": 3}).status_code == 200
    assert rcpt_code(md, "pnl1@example.test") == 250
    # autoreply set through the API answers the next message
    r = root.put(D + "/pnl2/autoreply", {"text": "Out of office."})
    assert r.status_code == 200, r.text
    n = len(sink.messages)
    send(md, ["pnl2@example.test"], b"Subject: hi\r\nMessage-ID: <q@r>\r\n\r\nx\r\n", sender="fr@remote.test")
    msgs = sink.wait(n + 1)
    assert msgs[n][1] == ["fr@remote.test"] and b"Out of office." in msgs[n][2]
    # deletion: the next RCPT is 550
    assert root.delete(D + "/pnl3").status_code == 204
    assert rcpt_code(md, "pnl3@example.test") == 550
