# tests/integration/test_pop3.py: yubin-maild's POP3 with Python's poplib on both ports (STLS on the plain
# port, implicit TLS), real PostgreSQL: RFC 1939 commands, locks, statuses, concurrency, usage, markers.
import os
import poplib
import shutil
import socket
import ssl
import tempfile
import time

import pytest

from dovecot_util import make_cert
from pop3_util import (USER_PW, Maild, account_id, create_account, deliver, files, mailbox, message,
                       usage)


@pytest.fixture(scope="module")
def maildir_root():
    d = tempfile.mkdtemp(prefix="yubin-mail-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def cert():
    d = tempfile.mkdtemp(prefix="yubin-cert-")
    yield make_cert(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def maild(db, maildir_root, cert):
    m = Maild(db, maildir_root, listen=["pop3_listen", "pop3s_listen"], cert=cert)
    yield m
    m.stop()


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def pop3s(maild):
    return poplib.POP3_SSL("127.0.0.1", maild.port("pop3s_listen"), context=ctx(), timeout=20)


def signed_in(maild, user, pw=USER_PW):
    p = pop3s(maild)
    p.user(user)
    p.pass_(pw)
    return p


def err(fn, *args):
    with pytest.raises(poplib.error_proto) as e:
        fn(*args)
    return e.value.args[0].decode()


def test_plain_port_offers_stls_and_refuses_user_before_it(db, root, maild):
    create_account(root, "plain")
    p = poplib.POP3("127.0.0.1", maild.port("pop3_listen"), timeout=20)
    caps = p.capa()
    assert "STLS" in caps and "UIDL" in caps and "TOP" in caps and "RESP-CODES" in caps
    assert "USER" not in caps          # no sign-in before TLS (CONTRACT)
    assert err(p.user, "plain@example.test").startswith("-ERR [AUTH]")
    p.stls(context=ctx())
    caps = p.capa()
    assert "USER" in caps and "STLS" not in caps
    p.user("plain@example.test")
    assert p.pass_(USER_PW).startswith(b"+OK")
    p.quit()


def test_retrieve_list_uidl_top_delete(db, root, maild, maildir_root):
    create_account(root, "reader")
    aid = account_id(db, "reader")
    box = mailbox(maildir_root, "example.test", "reader", aid)
    bodies = [message("one", "First line\n.dot line\nlast\n", to="reader@example.test"),
              message("two", "x" * 5000 + "\n", to="reader@example.test"),
              message("three", "Line 1\nLine 2\nLine 3\nLine 4\n", to="reader@example.test")]
    paths = [deliver(box, b, mtime=1790000000 + i) for i, b in enumerate(bodies)]
    db.execute("UPDATE accounts SET usage_bytes = %s WHERE id = %s", (sum(len(b) for b in bodies), aid))

    p = signed_in(maild, "Reader@Example.Test")
    crlf = [len(b.replace("\n", "\r\n")) for b in bodies]
    assert p.stat() == (3, sum(crlf))
    resp, listing, _ = p.list()
    assert [tuple(map(int, x.split())) for x in listing] == [(1, crlf[0]), (2, crlf[1]), (3, crlf[2])]
    resp, uidls, _ = p.uidl()
    uids = [x.decode().split()[1] for x in uidls]
    assert uids == [os.path.basename(x).split(",")[0] for x in paths]
    resp, lines, octets = p.retr(1)
    assert lines == [ln.encode() for ln in bodies[0].rstrip("\n").split("\n")]   # dot-unstuffed
    resp, lines, _ = p.top(3, 2)
    text = b"\n".join(lines).decode()
    assert "Subject: three" in text and "Line 2" in text and "Line 3" not in text
    assert p.dele(2).startswith(b"+OK")
    assert err(p.retr, 2).startswith("-ERR")
    assert p.stat() == (2, crlf[0] + crlf[2])
    p.rset()
    assert p.stat() == (3, sum(crlf))
    p.dele(2)
    assert err(p.dele, 9).startswith("-ERR")
    p.quit()
    # UPDATE state: only message 2 is gone; the retrieved one is seen; usage went down by it.
    assert not os.path.exists(paths[1])
    left = files(box)
    assert len(left) == 2
    seen = [f for f in os.listdir(os.path.join(box, "cur")) if f.startswith(uids[0])]
    assert seen and seen[0].endswith(":2,S")
    assert usage(db, "reader") == len(bodies[0]) + len(bodies[2])
    # UIDLs stay across sessions (the file's unique base name), numbering is kept.
    p = signed_in(maild, "reader@example.test")
    resp, uidls, _ = p.uidl()
    assert [x.decode().split()[1] for x in uidls] == [uids[0], uids[2]]
    p.quit()


def test_connection_lost_deletes_nothing(db, root, maild, maildir_root):
    create_account(root, "dropper")
    box = mailbox(maildir_root, "example.test", "dropper", account_id(db, "dropper"))
    deliver(box, message("keep me", to="dropper@example.test"))
    p = signed_in(maild, "dropper@example.test")
    p.dele(1)
    p.sock.shutdown(socket.SHUT_RDWR)   # no QUIT: no UPDATE state (RFC 1939 §6)
    p.file.close()
    p.sock.close()
    # The server notices the closed connection at once; until then the maildrop is in use.
    for _ in range(50):
        try:
            p = signed_in(maild, "dropper@example.test")
            break
        except poplib.error_proto as e:
            assert b"[IN-USE]" in e.args[0]
            time.sleep(0.1)
    else:
        pytest.fail("the maildrop stayed in use")
    assert p.stat()[0] == 1
    p.quit()


def test_second_session_in_use_and_delivery_meanwhile(db, root, maild, maildir_root):
    create_account(root, "busy")
    box = mailbox(maildir_root, "example.test", "busy", account_id(db, "busy"))
    deliver(box, message("old", to="busy@example.test"))
    p1 = signed_in(maild, "busy@example.test")
    p2 = pop3s(maild)
    p2.user("busy@example.test")
    assert err(p2.pass_, USER_PW).startswith("-ERR [IN-USE]")
    p2.quit()
    # Mail delivered during the session is not in its snapshot and survives its QUIT.
    late = deliver(box, message("late", to="busy@example.test"))
    assert p1.stat()[0] == 1
    p1.dele(1)
    p1.quit()
    assert os.path.exists(late)
    p = signed_in(maild, "busy@example.test")
    assert p.stat()[0] == 1
    resp, lines, _ = p.retr(1)
    assert b"Subject: late" in lines
    p.quit()


def test_wrong_passwords_lock_then_unlock(db, root, maild):
    create_account(root, "guesser")
    login = "guesser@example.test"
    for i in range(10):
        p = pop3s(maild)
        p.user(login)
        assert err(p.pass_, "Wrong#Passw0rd-9").startswith("-ERR [AUTH]")
        p.quit()
    rows = db.query("SELECT failures, locked_until IS NOT NULL FROM auth_failures WHERE login = %s", (login,))
    assert rows == [(10, True)]
    p = pop3s(maild)
    p.user(login)
    msg = err(p.pass_, USER_PW)
    assert msg.startswith("-ERR [AUTH]") and "locked" in msg.lower()
    p.quit()
    assert db.query("SELECT count(*) FROM audit_log WHERE actor = %s AND action = 'pop3_login_refused' "
                    "AND details->>'reason' = 'locked'", (login,)) == [(1,)]
    # Operators unlock with yubinctl; the next sign-in works.
    out = db.ctl("account", "unlock", login)
    assert "unlocked" in out.stdout
    p = signed_in(maild, login)
    p.quit()


def test_support_unlocks_through_the_api(db, root, support, maild):
    create_account(root, "unlockme")
    login = "unlockme@example.test"
    for i in range(10):
        p = pop3s(maild)
        p.user(login)
        assert err(p.pass_, "Wrong#Passw0rd-9").startswith("-ERR [AUTH]")
        p.quit()
    assert "locked" in root.get("/domains/example.test/accounts/unlockme").json()["status"]
    p = pop3s(maild)
    p.user(login)
    assert err(p.pass_, USER_PW).startswith("-ERR [AUTH]")
    p.quit()
    assert support.post("/domains/example.test/accounts/unlockme/unlock").status_code == 204
    p = signed_in(maild, login)
    assert p.stat() == (0, 0)
    p.quit()
    assert "locked" not in root.get("/domains/example.test/accounts/unlockme").json()["status"]


def test_five_failures_close_the_connection(db, root, maild):
    create_account(root, "persistent")
    p = pop3s(maild)
    for i in range(4):
        p.user("persistent@example.test")
        assert err(p.pass_, "Wrong#Passw0rd-9").startswith("-ERR [AUTH]")
    p.user("persistent@example.test")
    assert err(p.pass_, "Wrong#Passw0rd-9").startswith("-ERR [AUTH]")
    with pytest.raises((poplib.error_proto, OSError, EOFError)):
        p.noop()
        p.noop()


def test_compromised_temporary_and_alias_refused(db, root, support, maild):
    create_account(root, "hacked")
    assert support.post("/domains/example.test/accounts/hacked/compromised").status_code == 204
    p = pop3s(maild)
    p.user("hacked@example.test")
    assert err(p.pass_, USER_PW).startswith("-ERR [AUTH]")
    p.quit()
    r = support.post("/domains/example.test/accounts/hacked/temporary-password")
    temp = r.json()["password"]
    p = pop3s(maild)
    p.user("hacked@example.test")
    assert err(p.pass_, temp).startswith("-ERR [AUTH]")   # panel only (SPEC §6)
    p.quit()
    assert db.query("SELECT details->>'reason' FROM audit_log WHERE actor = 'hacked@example.test' "
                    "AND action = 'pop3_login_refused' ORDER BY id") == [("compromised",), ("temp_password",)]
    create_account(root, "realname")
    assert root.post("/domains/example.test/accounts/realname/aliases", {"name": "othername"}).status_code == 201
    p = pop3s(maild)
    p.user("othername@example.test")
    assert err(p.pass_, USER_PW).startswith("-ERR [AUTH]")
    p.quit()


def test_old_mailbox_of_a_deleted_account_is_never_served(db, root, maild, maildir_root):
    create_account(root, "reborn")
    aid = account_id(db, "reborn")
    # A mailbox at that path whose marker names an earlier account of the same name.
    box = mailbox(maildir_root, "example.test", "reborn", aid + 100000)
    deliver(box, message("secret of the previous owner", to="reborn@example.test"))
    p = signed_in(maild, "reborn@example.test")
    assert p.stat() == (0, 0)
    p.quit()
    assert len(files(box)) == 1        # and POP3 did not touch it


def test_receive_off_still_serves_mail(db, root, maild, maildir_root):
    create_account(root, "quiet")
    box = mailbox(maildir_root, "example.test", "quiet", account_id(db, "quiet"))
    deliver(box, message("kept", to="quiet@example.test"))
    assert root.patch("/domains/example.test/accounts/quiet", {"receive": False}).status_code == 200
    p = signed_in(maild, "quiet@example.test")
    assert p.stat()[0] == 1
    p.quit()


def test_spam_folder_is_not_pop3(db, root, maild, maildir_root):
    create_account(root, "sorted")
    box = mailbox(maildir_root, "example.test", "sorted", account_id(db, "sorted"))
    deliver(box, message("ham", to="sorted@example.test"))
    deliver(box, message("spam", to="sorted@example.test"), folder=".Junk")
    p = signed_in(maild, "sorted@example.test")
    assert p.stat()[0] == 1            # POP3 serves the inbox only (SPEC §5)
    p.quit()


def test_no_mailbox_yet_is_an_empty_maildrop(db, root, maild):
    create_account(root, "newbie")
    p = signed_in(maild, "newbie@example.test")
    assert p.stat() == (0, 0)
    assert p.list()[1] == []
    p.quit()


def test_plaintext_auth_yes_allows_user_without_tls(db, root, maildir_root):
    create_account(root, "legacy")
    m = Maild(db, maildir_root, listen=["pop3_listen"], extra="plaintext_auth = yes")
    try:
        p = poplib.POP3("127.0.0.1", m.port("pop3_listen"), timeout=20)
        assert "USER" in p.capa()
        p.user("legacy@example.test")
        assert p.pass_(USER_PW).startswith(b"+OK")
        p.quit()
    finally:
        m.stop()
