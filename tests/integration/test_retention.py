# tests/integration/test_retention.py: yubin-maild's retention sweep (SPEC §8) on the test clock: inbox
# mail 180 days after delivery to .Archive, Trash mail 31 days after it was moved there deleted, usage.
import os
import shutil
import tempfile
import time

import pytest

from pop3_util import Maild, account_id, create_account, deliver, files, mailbox, message, usage, wait_for

DAY = 86400


@pytest.fixture(scope="module")
def maildir_root():
    d = tempfile.mkdtemp(prefix="yubin-mail-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def clock():
    fd, path = tempfile.mkstemp(prefix="yubin-clock-")
    os.close(fd)

    def move(days):
        with open(path, "w") as f:
            f.write(f"{int(days * DAY)}\n")
    move(0)
    move.path = path
    yield move
    os.unlink(path)


@pytest.fixture(scope="module")
def maild(db, maildir_root, clock):
    m = Maild(db, maildir_root, extra="retention_interval = 1", env={"YUBIN_TEST_CLOCK_FILE": clock.path})
    yield m
    m.stop()


def sweeps_seen(m):
    return m.logtext().count("retention: ")


def test_inbox_by_delivery_trash_by_move(db, root, maild, maildir_root, clock):
    create_account(root, "keeper")
    aid = account_id(db, "keeper")
    box = mailbox(maildir_root, "example.test", "keeper", aid)
    now = time.time()
    fresh = deliver(box, message("fresh"))
    read = deliver(box, message("read long ago"), sub="cur", flags="S", mtime=now - 100 * DAY)
    # In Trash: an old Date header and an old delivery, but moved there just now.
    old_date = message("old date").replace("Tue, 01 Dec 2026", "Tue, 01 Dec 2020")
    t1 = deliver(box, old_date, folder=".Trash", sub="cur", flags="S")
    t2 = deliver(box, message("delivered 60 days ago"), folder=".Trash", sub="cur", flags="S", mtime=now - 60 * DAY)
    trash_bytes = os.path.getsize(t1) + os.path.getsize(t2)
    total = trash_bytes + os.path.getsize(fresh) + os.path.getsize(read)
    db.execute("UPDATE accounts SET usage_bytes = %s WHERE id = %s", (total, aid))

    time.sleep(2.5)   # a couple of sweeps at clock +0: nothing is old enough
    assert len(files(box, ".Trash")) == 2 and len(files(box)) == 2

    clock(30)
    time.sleep(2.5)
    assert len(files(box, ".Trash")) == 2          # 30 days in Trash: kept

    clock(32)
    wait_for(lambda: files(box, ".Trash") == [], what="Trash emptied after 31 days")
    assert usage(db, "keeper") == total - trash_bytes
    assert len(files(box)) == 2                    # 32 and 132 days old: still in the inbox

    clock(81)                                      # the read one is now 181 days old
    wait_for(lambda: len(files(box)) == 1, what="old inbox mail archived")
    assert files(box, ".Archive", subs=("cur",)) == [os.path.basename(read)]    # flags kept
    assert files(box) == [os.path.basename(fresh)]

    clock(181)                                     # and the fresh one
    wait_for(lambda: files(box) == [], what="all inbox mail archived")
    assert files(box, ".Archive", subs=("new",)) == [os.path.basename(fresh)]
    assert usage(db, "keeper") == total - trash_bytes   # archiving frees nothing
    log = maild.logtext()
    assert "retention: keeper@example.test: 0 archived, 2 deleted from Trash" in log
    assert "retention: keeper@example.test: 1 archived" in log
    clock(0)


def test_configured_periods(db, root, maildir_root, clock):
    create_account(root, "short")
    box = mailbox(maildir_root, "example.test", "short", account_id(db, "short"))
    now = time.time()
    deliver(box, message("eleven days"), mtime=now - 11 * DAY)
    deliver(box, message("nine days"), mtime=now - 9 * DAY)
    clock(0)
    m = Maild(db, maildir_root, extra="retention_interval = 1\nretention_inbox_days = 10\nretention_trash_days = 2",
              env={"YUBIN_TEST_CLOCK_FILE": clock.path})
    try:
        wait_for(lambda: len(files(box)) == 1, what="10-day retention")
        deliver(box, message("trashed"), folder=".Trash")
        clock(3)
        wait_for(lambda: files(box, ".Trash") == [], what="2-day Trash")
    finally:
        clock(0)
        m.stop()
