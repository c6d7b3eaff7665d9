# tests/integration/test_mailcopy.py: the mail data copy (SPEC §8) end to end: POST /me/mail-copy on the
# panel, yubin-maild's job against a real Dovecot source server holding sample mail (a Japanese folder
# among them), the copied tree read back through contrib/dovecot, reruns, refusals and the report mails.
import base64
import email
import email.header
import imaplib
import os
import shutil
import ssl
import tempfile
import time

import pytest

from conftest import ADMIN_PW, Client, free_port
from dovecot_util import Dovecot, SourceDovecot, chown_tree
from pop3_util import USER_PW, Maild, create_account, files, usage, wait_for

SRC_PW = "source-pass-1"
JA_FOLDER = "日本語フォルダ"


def mutf7(s):
    """Modified UTF-7 (RFC 3501 §5.1.3), as an IMAP client sends folder names."""
    out, run = "", ""

    def flush():
        nonlocal out, run
        if run:
            b = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out += "&" + b + "-"
            run = ""
    for ch in s:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out += "&-" if ch == "&" else ch
        else:
            run += ch
    flush()
    return out


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def sample(subject, body="本文です。\n", size=None):
    if size:
        body = ("x" * 76 + "\r\n") * (size // 78)
    subj = email.header.Header(subject, "utf-8").encode()
    return (f"From: someone@old.test\r\nTo: user@old.test\r\nSubject: {subj}\r\n"
            f"Date: Mon, 02 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=UTF-8\r\n\r\n{body}").encode()


def append(src, user, folder, msg, flags=""):
    m = imaplib.IMAP4_SSL("127.0.0.1", src.port, ssl_context=ctx())
    m.login(user, SRC_PW)
    if folder != "INBOX":
        m.create(f'"{mutf7(folder)}"')
    typ, _ = m.append(f'"{mutf7(folder)}"', flags, imaplib.Time2Internaldate(time.time() - 86400 * 3), msg)
    assert typ == "OK"
    m.logout()


@pytest.fixture(scope="module")
def source():
    s = SourceDovecot({u: SRC_PW for u in ("olduser", "empty", "bigone", "largeone")})
    append(s, "olduser", "INBOX", sample("受信箱のメール 1"), r"(\Seen)")
    append(s, "olduser", "INBOX", sample("inbox two"))
    append(s, "olduser", "INBOX", sample("inbox three"), r"(\Flagged)")
    append(s, "olduser", "Work/Projects", sample("project plan"))
    append(s, "olduser", JA_FOLDER, sample("日本語の件名"))
    append(s, "olduser", JA_FOLDER, sample("二通目"), r"(\Seen \Answered)")
    append(s, "olduser", "Trash", sample("thrown away"), r"(\Seen)")
    append(s, "bigone", "INBOX", sample("big", size=1_600_000))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def maildir_root():
    d = tempfile.mkdtemp(prefix="yubin-mail-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def maild(db, maildir_root, source):
    m = Maild(db, maildir_root, listen=["smtp_listen"], extra=f"mailcopy_ca_file = {source.cert}")
    yield m
    m.stop()


def start_copy(panel, user, port, login="olduser", password=SRC_PW, notify="notified@example.test"):
    c = Client(panel.url)
    assert c.login(f"{user}@example.test", USER_PW, side="mail").status_code == 200
    r = c.post("/me/mail-copy", {"password": USER_PW, "source_host": f"127.0.0.1:{port}",
                                 "source_login": login, "source_password": password,
                                 "notify_address": notify})
    assert r.status_code == 202, r.text
    return r.json()["job"]["id"]


def finished(db, job_id, timeout=120):
    def row():
        r = db.query("SELECT state, result, errors, params FROM jobs WHERE id = %s", (job_id,))[0]
        return r if r[0] in ("done", "failed") else None
    return wait_for(row, timeout=timeout, step=0.2, what=f"job {job_id}")


def reports(maildir_root, name="notified"):
    """The report mails in a local mailbox: [(subject, body)]."""
    out = []
    d = os.path.join(maildir_root, "example.test", name)
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        for f in sorted(os.listdir(p)) if os.path.isdir(p) else []:
            with open(os.path.join(p, f), "rb") as fh:
                msg = email.message_from_bytes(fh.read())
            subj = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
            out.append((subj, msg.get_payload(decode=True).decode("utf-8")))
    return out


def wait_report(maildir_root, count, name="notified"):
    return wait_for(lambda: len(reports(maildir_root, name)) >= count and reports(maildir_root, name),
                    timeout=60, what="report mail")


@pytest.fixture(scope="module")
def accounts(panel):
    root = Client(panel.url)
    assert root.login("root", ADMIN_PW).status_code == 200
    for name, quota in (("notified", 100), ("copier", 100), ("nothing", 100), ("tiny", 1), ("wrongpw", 100),
                        ("nowhere", 100), ("plainimap", 100), ("huge", 200)):
        create_account(root, name, quota_mb=quota)


def test_copy_every_folder_then_rerun_resumes(db, panel, maild, source, maildir_root, accounts):
    job = start_copy(panel, "copier", source.port)
    state, result, errors, params = finished(db, job)
    assert state == "done", (result, errors, maild.logtext()[-3000:])
    assert result["copied"] == 7 and result["source_messages"] == 7 and errors == []
    # The source password is not kept once the job has run (SPEC §8).
    assert "source_password" not in params and params["source_host"] == "127.0.0.1"
    box = os.path.join(maildir_root, "example.test", "copier")
    inbox = files(box, subs=("cur",))
    assert len(inbox) == 3
    assert sum(f.endswith(":2,S") for f in inbox) == 1 and sum(f.endswith(":2,F") for f in inbox) == 1
    assert len(files(box, ".Work.Projects")) == 1
    ja = files(box, "." + JA_FOLDER)                       # decoded, Japanese kept
    assert len(ja) == 2 and any(f.endswith(":2,RS") for f in ja)
    assert len(files(box, ".Trash")) == 1                  # special-use \Trash to .Trash
    copied = sum(os.path.getsize(os.path.join(box, d, "cur", f))
                 for d, fl in (("", inbox), (".Work.Projects", files(box, ".Work.Projects")),
                               ("." + JA_FOLDER, ja), (".Trash", files(box, ".Trash"))) for f in fl)
    assert usage(db, "copier") == copied
    assert db.query("SELECT count(*) FROM mail_copy_seen ms JOIN accounts a ON a.id = ms.account_id "
                    "WHERE a.name = 'copier'") == [(7,)]
    subj, body = wait_report(maildir_root, 1)[-1]
    assert subj == "【重要】メールデータコピーが完了いたしました。"
    assert "7 通" in body and "copier@example.test" in body

    # A rerun copies nothing twice.
    job = start_copy(panel, "copier", source.port)
    state, result, errors, params = finished(db, job)
    assert state == "done" and result["copied"] == 0 and result["skipped_already_copied"] == 7
    assert len(files(box, subs=("cur",))) == 3 and len(files(box, "." + JA_FOLDER)) == 2
    # New mail at the source: only it is copied by the next run.
    append(source, "olduser", JA_FOLDER, sample("三通目"))
    job = start_copy(panel, "copier", source.port)
    state, result, errors, params = finished(db, job)
    assert state == "done" and result["copied"] == 1 and result["skipped_already_copied"] == 7
    assert len(files(box, "." + JA_FOLDER)) == 3
    wait_report(maildir_root, 3)

    # Dovecot reads the copied tree as is: the Japanese folder, its mail, the inbox.
    chown_tree(box)
    dv = Dovecot(db, maildir_root)
    try:
        m = imaplib.IMAP4_SSL("127.0.0.1", dv.imaps_port, ssl_context=ctx())
        m.login("copier@example.test", USER_PW)
        typ, names = m.list()
        listed = b"\n".join(names).decode()
        assert mutf7(JA_FOLDER) in listed and "Work/Projects" in listed, listed
        typ, data = m.select(f'"{mutf7(JA_FOLDER)}"')
        assert typ == "OK" and data[0] == b"3"
        typ, data = m.select("INBOX")
        assert data[0] == b"3"
        m.logout()
    finally:
        dv.stop()


def test_empty_source_is_refused(db, panel, maild, source, maildir_root, accounts):
    n = len(reports(maildir_root))
    state, result, errors, params = finished(db, start_copy(panel, "nothing", source.port, login="empty"))
    assert state == "failed" and result["reason"] == "source_empty" and errors[0]["code"] == "source_empty"
    assert "source_password" not in params
    subj, body = wait_report(maildir_root, n + 1)[-1]
    assert subj == "【重要】メールデータコピーの再操作をお願いします。"
    assert "メールが残っていない" in body


def test_quota_too_small_copies_nothing(db, panel, maild, source, maildir_root, accounts):
    n = len(reports(maildir_root))
    state, result, errors, params = finished(db, start_copy(panel, "tiny", source.port, login="bigone"))
    assert state == "failed" and result["reason"] == "quota" and result["copied"] == 0
    assert files(os.path.join(maildir_root, "example.test", "tiny"), subs=("cur",)) == []
    subj, body = wait_report(maildir_root, n + 1)[-1]
    assert subj == "【重要】メールデータコピーの再操作をお願いします。" and "容量が不足" in body


def test_wrong_source_password(db, panel, maild, source, maildir_root, accounts):
    n = len(reports(maildir_root))
    state, result, errors, params = finished(db, start_copy(panel, "wrongpw", source.port, password="nope"))
    assert state == "failed" and result["reason"] == "source_login"
    subj, body = wait_report(maildir_root, n + 1)[-1]
    assert subj == "【重要】メールデータコピーの再操作をお願いします。" and "パスワード" in body


def test_unreachable_source(db, panel, maild, maildir_root, accounts):
    n = len(reports(maildir_root))
    state, result, errors, params = finished(db, start_copy(panel, "nowhere", free_port()))
    assert state == "failed" and result["reason"] == "unreachable"
    subj, body = wait_report(maildir_root, n + 1)[-1]
    assert "IMAP に対応していない" in body


def test_plain_port_with_starttls(db, panel, maild, source, maildir_root, accounts):
    state, result, errors, params = finished(db, start_copy(panel, "plainimap", source.plain_port))
    assert state == "done" and result["copied"] >= 7, result


def test_untrusted_certificate_is_not_used(db, root, panel, source, maildir_root, accounts):
    m = Maild(db, maildir_root)      # no mailcopy_ca_file: the source's certificate is unknown
    try:
        create_account(root, "careful")
        state, result, errors, params = finished(db, start_copy(panel, "careful", source.port,
                                                                notify="someone@external.test"))
        assert state == "failed" and result["reason"] == "unreachable"
        assert "certificate" in m.logtext()
    finally:
        m.stop()


def test_messages_over_100mb_are_skipped(db, panel, maild, source, maildir_root, accounts):
    append(source, "largeone", "INBOX", sample("small one"))
    append(source, "largeone", "INBOX", sample("too big", size=104_857_600 + 200_000))
    n = len(reports(maildir_root))
    state, result, errors, params = finished(db, start_copy(panel, "huge", source.port, login="largeone"))
    assert state == "done" and result["copied"] == 1 and result["too_large"] == 1
    assert errors[0]["code"] == "too_large"
    assert len(files(os.path.join(maildir_root, "example.test", "huge"), subs=("cur",))) == 1
    subj, body = wait_report(maildir_root, n + 1)[-1]
    assert subj == "【重要】メールデータコピーの再操作をお願いします。" and "100MB を超える" in body
