# tests/integration/test_jobs.py: the mailbox jobs end to end: the panel queues them, yubin-maild runs them
# (purge_mail, delete_account), over quota clears, a new account never sees old mail, and two maild
# instances on one database run every job exactly once.
import os
import re
import shutil
import tempfile

import pytest

from conftest import Client
from pop3_util import (USER_PW, Maild, account_id, create_account, deliver, files, mailbox, message,
                       usage, wait_for)


@pytest.fixture(scope="module")
def maildir_root():
    d = tempfile.mkdtemp(prefix="yubin-mail-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def maild(db, maildir_root):
    m = Maild(db, maildir_root)
    yield m
    m.stop()


def job_row(db, job_id):
    return db.query("SELECT state, done, total, attempts, worker, result FROM jobs WHERE id = %s", (job_id,))[0]


def wait_job(db, job_id, timeout=30):
    return wait_for(lambda: job_row(db, job_id)[0] in ("done", "failed") and job_row(db, job_id),
                    timeout=timeout, what=f"job {job_id}")


def status(root, name):
    r = root.get(f"/domains/example.test/accounts/{name}")
    assert r.status_code == 200, r.text
    return r.json()


def fill(box, n=2):
    for folder in ("", ".Junk", ".Trash", ".Archive", ".Projects", ".日本語"):
        if folder and not os.path.isdir(os.path.join(box, folder)):
            for x in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(box, folder, x))
        for i in range(n):
            deliver(box, message(f"m{i} in {folder or 'inbox'}"), folder=folder, sub="cur" if i % 2 else "new",
                    flags="S" if i % 2 else None)


def test_purge_mail_by_admin_empties_every_folder(db, root, maild, maildir_root):
    create_account(root, "full", quota_mb=1)
    aid = account_id(db, "full")
    box = mailbox(maildir_root, "example.test", "full", aid)
    fill(box)
    half = os.path.join(box, "tmp", "being-delivered")
    with open(half, "w") as f:
        f.write("Subject: half")
    # Over quota: usage above the 1 MB quota.
    db.execute("UPDATE accounts SET usage_bytes = 2000000 WHERE id = %s", (aid,))
    assert "over_quota" in status(root, "full")["status"]
    r = root.post("/domains/example.test/accounts/full/purge-mail")
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["kind"] == "purge_mail"
    state, done, total, attempts, worker, result = wait_job(db, job["id"])
    assert (state, done, total, attempts) == ("done", 12, 12, 1)
    for folder in ("", ".Junk", ".Trash", ".Archive", ".Projects", ".日本語"):
        assert files(box, folder) == [], folder
        assert os.path.isdir(os.path.join(box, folder or "cur"))      # folders stay
    assert os.path.exists(half)                                     # half-written mail untouched
    assert usage(db, "full") == 0
    acct = status(root, "full")
    assert acct["usage_mb"] == 0 and "over_quota" not in acct["status"]
    # The settings stay (SPEC §2): the account is there, with its quota.
    assert acct["quota_mb"] == 1


def test_purge_mail_by_the_user(db, root, maild, maildir_root, panel):
    create_account(root, "selfpurge")
    box = mailbox(maildir_root, "example.test", "selfpurge", account_id(db, "selfpurge"))
    fill(box, 1)
    u = Client(panel.url)
    assert u.login("selfpurge@example.test", USER_PW, side="mail").status_code == 200
    r = u.post("/me/purge-mail")
    assert r.status_code == 202, r.text
    assert wait_job(db, r.json()["job"]["id"])[0] == "done"
    assert all(files(box, f) == [] for f in ("", ".Junk", ".Trash", ".Archive"))


def test_deleted_account_mail_removed_and_new_account_starts_empty(db, root, maild, maildir_root):
    create_account(root, "gone")
    old_id = account_id(db, "gone")
    box = mailbox(maildir_root, "example.test", "gone", old_id)
    fill(box, 1)
    assert root.delete("/domains/example.test/accounts/gone").status_code == 204
    # The name is free at once (SPEC §2); the job removes the old mailbox in the background.
    create_account(root, "gone")
    job = db.query("SELECT id FROM jobs WHERE kind = 'delete_account' AND account_id = %s", (old_id,))[0][0]
    assert wait_job(db, job)[0] == "done"
    assert not os.path.exists(box)


def test_late_delete_job_spares_the_new_account(db, root, maildir_root):
    """The job of the old account runs after the new one of the same name got mail."""
    create_account(root, "twice")
    old_id = account_id(db, "twice")
    old_box = mailbox(maildir_root, "example.test", "twice", old_id)
    fill(old_box, 1)
    # No maild is running: the delete job waits in the queue.
    assert root.delete("/domains/example.test/accounts/twice").status_code == 204
    create_account(root, "twice")
    new_id = account_id(db, "twice")
    # What delivery does when it finds the old mailbox under the new account's name:
    # moves it aside to maildir_root/.trash and starts a fresh one.
    os.makedirs(os.path.join(maildir_root, ".trash"), exist_ok=True)
    aside = os.path.join(maildir_root, ".trash", f"twice@example.test-{old_id}-0123abcd")
    os.rename(old_box, aside)
    new_box = mailbox(maildir_root, "example.test", "twice", new_id)
    deliver(new_box, message("for the new owner"))
    m = Maild(db, maildir_root)
    try:
        job = db.query("SELECT id FROM jobs WHERE kind = 'delete_account' AND account_id = %s", (old_id,))[0][0]
        assert wait_job(db, job)[0] == "done"
    finally:
        m.stop()
    assert len(files(new_box)) == 1
    assert not os.path.exists(aside)


def test_two_maild_run_each_job_once(db, root, maildir_root):
    names = [f"bulk{i:02d}" for i in range(12)]
    for name in names:
        create_account(root, name)
        box = mailbox(maildir_root, "example.test", name, account_id(db, name))
        for k in range(150):
            deliver(box, message(f"{name} {k}"))
    a, b = Maild(db, maildir_root), Maild(db, maildir_root)
    ids = []
    try:
        for name in names:
            r = root.post(f"/domains/example.test/accounts/{name}/purge-mail")
            assert r.status_code == 202
            ids.append(r.json()["job"]["id"])
        for j in ids:
            wait_job(db, j, timeout=60)
    finally:
        logs = a.stop() + b.stop()
    rows = db.query("SELECT id, state, attempts, done, total, worker FROM jobs WHERE id = ANY(%s)", (ids,))
    assert len(rows) == 12
    for jid, state, attempts, done, total, worker in rows:
        assert (state, attempts, done, total) == ("done", 1, 150, 150), (jid, state, attempts, done)
        # Exactly one "taken" line for each job over both daemons' logs.
        assert len(re.findall(rf"jobs: job {jid} \(purge_mail [^)]*\) taken by", logs)) == 1
        assert len(re.findall(rf"jobs: job {jid} \(purge_mail [^)]*\) done", logs)) == 1
    for name in names:
        assert files(os.path.join(maildir_root, "example.test", name)) == []
    # Both took part: one queue shared by two daemons, not copied to each.
    workers = {w.rsplit(":", 1)[0] for *_, w in rows}
    assert len(workers) == 2, workers
