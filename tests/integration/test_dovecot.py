# tests/integration/test_dovecot.py: IMAP through Dovecot with contrib/dovecot's configuration on the yubin
# database and Maildir tree: sign-in with the stored Argon2id hash, INBOX and Junk, statuses, shared locks.
import imaplib
import os
import shutil
import ssl
import tempfile

import pytest

from conftest import ADMIN_PW
from dovecot_util import Dovecot, chown_tree
from pop3_util import USER_PW, account_id, create_account, deliver, mailbox, message


@pytest.fixture(scope="module")
def maildir_root():
    d = tempfile.mkdtemp(prefix="yubin-mail-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def dovecot(db, maildir_root):
    dv = Dovecot(db, maildir_root)
    yield dv
    print(dv.logtext()[-6000:])   # shown when a test failed
    dv.stop()


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def imaps(dv):
    return imaplib.IMAP4_SSL("127.0.0.1", dv.imaps_port, ssl_context=ctx())


def failures(db, login):
    rows = db.query("SELECT failures, locked_until IS NOT NULL FROM auth_failures WHERE login = %s", (login,))
    return rows[0] if rows else (0, False)


def test_inbox_and_junk_over_tls(db, root, dovecot, maildir_root):
    create_account(root, "ima")
    box = mailbox(maildir_root, "example.test", "ima", account_id(db, "ima"))
    deliver(box, message("first over imap", to="ima@example.test"))
    deliver(box, message("spam one", to="ima@example.test"), folder=".Junk")
    chown_tree(box)
    m = imaps(dovecot)
    # The address in any case, the password the panel stored as $argon2id$….
    assert m.login("IMA@Example.Test", USER_PW)[0] == "OK"
    typ, names = m.list()
    text = b"\n".join(names).decode()
    assert '"INBOX"' in text or " INBOX" in text, text
    assert "Junk" in text and "\\Junk" in text, text
    assert "Trash" in text and "Archive" in text, text
    # The marker and lock files of maild are not folders.
    assert "yubin" not in text, text
    typ, data = m.select("INBOX")
    assert typ == "OK" and data[0] == b"1"
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"first over imap" in data[0][1]
    typ, data = m.select("Junk")
    assert typ == "OK" and data[0] == b"1"
    m.logout()


def test_plain_port_offers_starttls(db, root, dovecot):
    # Dovecot counts loopback connections as secured, so disable_plaintext_auth cannot be
    # seen from here; the port offers STARTTLS and signs in over it.
    create_account(root, "plainer")
    with open(dovecot.conf) as f:
        assert "disable_plaintext_auth = yes" in f.read()
    m = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    assert "STARTTLS" in m.capabilities
    m.starttls(ssl_context=ctx())
    assert m.login("plainer@example.test", USER_PW)[0] == "OK"
    m.logout()


def test_wrong_passwords_lock_and_unlock(db, root, dovecot, panel):
    create_account(root, "locky")
    login = "locky@example.test"
    for i in range(10):
        m = imaps(dovecot)
        with pytest.raises(imaplib.IMAP4.error):
            m.login(login, "Wrong#Passw0rd-1")
        m.shutdown()
    # IMAP failures count in the same place as the panel's, SMTP's and POP3's.
    assert failures(db, login) == (10, True)
    m = imaps(dovecot)
    with pytest.raises(imaplib.IMAP4.error):
        m.login(login, USER_PW)
    m.shutdown()
    assert failures(db, login) == (10, True)      # attempts during the lock do not count
    # The panel refuses the locked login too (423).
    from conftest import Client
    c = Client(panel.url)
    assert c.login(login, USER_PW, side="mail").status_code == 423
    # Support unlocks through the API; the next IMAP sign-in works and resets nothing left.
    sup = Client(panel.url)
    assert sup.login("support1", ADMIN_PW).status_code == 200
    assert sup.post("/domains/example.test/accounts/locky/unlock").status_code == 204
    m = imaps(dovecot)
    assert m.login(login, USER_PW)[0] == "OK"
    m.logout()
    assert failures(db, login) == (0, False)


def test_success_resets_the_count(db, root, dovecot):
    create_account(root, "resetter")
    login = "resetter@example.test"
    m = imaps(dovecot)
    with pytest.raises(imaplib.IMAP4.error):
        m.login(login, "Wrong#Passw0rd-1")
    m.shutdown()
    assert failures(db, login)[0] == 1
    m = imaps(dovecot)
    assert m.login(login, USER_PW)[0] == "OK"
    m.logout()
    assert failures(db, login) == (0, False)


def test_unknown_login_counted(db, dovecot):
    m = imaps(dovecot)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("ghost@example.test", USER_PW)
    m.shutdown()
    assert failures(db, "ghost@example.test")[0] == 1


def test_alias_does_not_sign_in(db, root, dovecot):
    create_account(root, "owner")
    r = root.post("/domains/example.test/accounts/owner/aliases", {"name": "nick"})
    assert r.status_code == 201, r.text
    m = imaps(dovecot)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("nick@example.test", USER_PW)
    m.shutdown()


def test_compromised_and_temporary_refused(db, root, dovecot, support):
    create_account(root, "victim")
    assert support.post("/domains/example.test/accounts/victim/compromised").status_code == 204
    m = imaps(dovecot)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("victim@example.test", USER_PW)
    m.shutdown()
    # A temporary password reopens only the panel (SPEC §6), not IMAP.
    r = support.post("/domains/example.test/accounts/victim/temporary-password")
    assert r.status_code == 200, r.text
    temp = r.json()["password"]
    m = imaps(dovecot)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("victim@example.test", temp)
    m.shutdown()
    # Once an admin sets a new password, IMAP works with it.
    new_pw = "N3w#Password-ok"
    assert root.patch("/domains/example.test/accounts/victim", {"password": new_pw}).status_code == 200
    m = imaps(dovecot)
    assert m.login("victim@example.test", new_pw)[0] == "OK"
    m.logout()


def test_deleted_account_cannot_sign_in(db, root, dovecot):
    create_account(root, "leaver")
    assert root.delete("/domains/example.test/accounts/leaver").status_code == 204
    m = imaps(dovecot)
    with pytest.raises(imaplib.IMAP4.error):
        m.login("leaver@example.test", USER_PW)
    m.shutdown()
