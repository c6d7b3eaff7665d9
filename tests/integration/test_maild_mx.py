# tests/integration/test_maild_mx.py: outgoing mail without a relay goes by MX (maild/mx.c, libresolv):
# a small DNS server on loopback (dns_server) answers MX and A for test domains, sink SMTP servers
# listen on several loopback addresses at one port (mx_port). MX preference order, on to the
# next MX after a temporary refusal, the A record when there is no MX, a temporary DNS failure
# deferred and retried (not bounced), a domain that does not exist bounced.
import smtplib
import socket
import ssl
import struct
import threading
import time

import pytest

from conftest import free_port
from maild_util import Maild, Sink, USER_PW, add_account


class Dns:
    """A UDP DNS server for a few names: zone[name] = {"MX": [(pref, host)], "A": [ip]}; names in
    servfail answer SERVFAIL, any other name NXDOMAIN. Every question is recorded."""

    def __init__(self):
        self.zone = {}
        self.servfail = set()
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _name(labels):
        out = b""
        for label in labels.rstrip(".").split("."):
            out += bytes([len(label)]) + label.encode()
        return out + b"\0"

    def _run(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._answer(data)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue
            self.sock.sendto(reply, peer)

    def _answer(self, data):
        qid, _flags, qd = struct.unpack(">HHH", data[:6])
        pos, labels = 12, []
        while data[pos]:
            labels.append(data[pos + 1:pos + 1 + data[pos]].decode("ascii"))
            pos += 1 + data[pos]
        pos += 1
        qtype, _qclass = struct.unpack(">HH", data[pos:pos + 4])
        question = data[12:pos + 4]
        name = ".".join(labels).lower()
        kind = {1: "A", 15: "MX"}.get(qtype, str(qtype))
        self.queries.append((name, kind))
        answers, rcode = [], 0
        if name in self.servfail:
            rcode = 2
        elif name not in self.zone:
            rcode = 3
        else:
            for rec in self.zone[name].get(kind, []):
                if kind == "MX":
                    rdata = struct.pack(">H", rec[0]) + self._name(rec[1])
                else:
                    rdata = socket.inet_aton(rec)
                # the owner is the question's name (pointer to offset 12), class IN, TTL 60
                answers.append(struct.pack(">HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata)
        head = struct.pack(">HHHHHH", qid, 0x8180 | rcode, qd, len(answers), 0, 0)
        return head + question + b"".join(answers)

    def stop(self):
        self.sock.close()


class HostSink(Sink):
    """The sink of maild_util on a given loopback address and port."""

    def __init__(self, host, port, reply_rcpt=None):
        self.host, self.fixed_port = host, port
        super().__init__(reply_rcpt)
        self.port = port

    def _run(self):
        import asyncio
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._client, self.host, self.fixed_port))
        self.ready.set()
        self.loop.run_forever()


@pytest.fixture(scope="module")
def dns():
    d = Dns()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def mxport():
    return free_port()


@pytest.fixture(scope="module")
def md(db, dns, mxport):
    add_account(db, "example.test", "sender")
    db.ctl("account", "set-password", "sender@example.test", "--password-stdin", stdin=USER_PW + "\n")
    m = Maild(db, extra=f"dns_server = 127.0.0.1:{dns.port}\nmx_port = {mxport}")
    yield m
    m.stop()


def submit(md, rcpt, subject):
    c = smtplib_ssl(md)
    c.login("sender@example.test", USER_PW)
    c.sendmail("sender@example.test", [rcpt], f"Subject: {subject}\r\n\r\nbody of {subject}\r\n".encode())
    c.quit()


def smtplib_ssl(md):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return smtplib.SMTP_SSL("127.0.0.1", md.smtps, timeout=30, context=ctx)


def wait_log(md, text, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if text in md.logtext():
            return
        time.sleep(0.1)
    raise AssertionError(f"not in the maild log: {text}\n{md.logtext()[-3000:]}")


def test_mx_preference_order(md, dns, mxport):
    # listed worst first: maild sorts by preference
    dns.zone["pref.test"] = {"MX": [(20, "mx2.pref.test"), (10, "mx1.pref.test")]}
    dns.zone["mx1.pref.test"] = {"A": ["127.0.0.2"]}
    dns.zone["mx2.pref.test"] = {"A": ["127.0.0.3"]}
    best, other = HostSink("127.0.0.2", mxport), HostSink("127.0.0.3", mxport)
    try:
        submit(md, "someone@pref.test", "preferred")
        msgs = best.wait(1)
        assert msgs[0][1] == ["someone@pref.test"] and b"body of preferred" in msgs[0][2]
        time.sleep(0.5)
        assert other.messages == []
        assert ("pref.test", "MX") in dns.queries and ("mx1.pref.test", "A") in dns.queries
    finally:
        best.stop()
        other.stop()


def test_next_mx_after_temporary_refusal(md, dns, mxport):
    dns.zone["fb.test"] = {"MX": [(5, "busy.fb.test"), (50, "backup.fb.test")]}
    dns.zone["busy.fb.test"] = {"A": ["127.0.0.4"]}
    dns.zone["backup.fb.test"] = {"A": ["127.0.0.5"]}
    busy = HostSink("127.0.0.4", mxport, reply_rcpt="451 4.3.0 try later")
    backup = HostSink("127.0.0.5", mxport)
    try:
        submit(md, "x@fb.test", "fallback")
        msgs = backup.wait(1)
        assert msgs[0][1] == ["x@fb.test"] and b"body of fallback" in msgs[0][2]
        assert busy.messages == []
    finally:
        busy.stop()
        backup.stop()


def test_no_mx_falls_back_to_a(md, dns, mxport):
    dns.zone["plain.test"] = {"A": ["127.0.0.6"]}      # no MX records: NOERROR, no answers
    s = HostSink("127.0.0.6", mxport)
    try:
        submit(md, "y@plain.test", "implicit")
        msgs = s.wait(1)
        assert msgs[0][1] == ["y@plain.test"] and b"body of implicit" in msgs[0][2]
        assert ("plain.test", "MX") in dns.queries and ("plain.test", "A") in dns.queries
    finally:
        s.stop()


def test_dns_temporary_failure_is_retried_not_bounced(md, dns, mxport):
    dns.servfail.add("flaky.test")
    s = HostSink("127.0.0.7", mxport)
    try:
        submit(md, "z@flaky.test", "later")
        wait_log(md, "deferred <z@flaky.test>")
        assert "4.4.3 DNS lookup for flaky.test failed" in md.logtext()
        assert "bounced <z@flaky.test>" not in md.logtext()
        assert md.mailbox("example.test", "sender") == []    # no DSN to the sender
        # the DNS recovers; the entry is due after its backoff by the test clock
        dns.servfail.discard("flaky.test")
        dns.zone["flaky.test"] = {"MX": [(10, "mx.flaky.test")]}
        dns.zone["mx.flaky.test"] = {"A": ["127.0.0.7"]}
        time.sleep(1)
        assert s.messages == []
        md.set_clock(600)
        msgs = s.wait(1, timeout=30)
        assert msgs[0][1] == ["z@flaky.test"] and b"body of later" in msgs[0][2]
        assert md.mailbox("example.test", "sender") == []
    finally:
        md.set_clock(0)
        s.stop()


def test_domain_that_does_not_exist_bounces(md, dns):
    before = len(md.mailbox("example.test", "sender"))
    submit(md, "nobody@nowhere.test", "lost")
    wait_log(md, "bounced <nobody@nowhere.test>")
    end = time.time() + 20
    while time.time() < end and len(md.mailbox("example.test", "sender")) == before:
        time.sleep(0.1)
    dsn = md.read_all("example.test", "sender")
    assert len(dsn) == before + 1
    assert b"5.1.2" in dsn[-1] and b"nowhere.test" in dsn[-1]


class Tarpit:
    """Accepts SMTP connections on host:port and never says a word: a destination that hangs."""

    def __init__(self, host, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.conns = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_hanging_destination_holds_up_nothing_else(md, dns, mxport):
    # Three messages to a destination that accepts and then never answers, one to a working
    # one after them: the working one arrives at once, while the hung ones still wait.
    dns.zone["hang.test"] = {"MX": [(10, "mx.hang.test")]}
    dns.zone["mx.hang.test"] = {"A": ["127.0.0.8"]}
    dns.zone["quick.test"] = {"MX": [(10, "mx.quick.test")]}
    dns.zone["mx.quick.test"] = {"A": ["127.0.0.9"]}
    pit, s = Tarpit("127.0.0.8", mxport), HostSink("127.0.0.9", mxport)
    try:
        for i in range(3):
            submit(md, f"stuck{i}@hang.test", f"stuck {i}")
        end = time.time() + 10
        while time.time() < end and len(pit.conns) < 3:
            time.sleep(0.05)
        assert len(pit.conns) == 3          # three workers are waiting on it
        t0 = time.time()
        submit(md, "fine@quick.test", "not held up")
        msgs = s.wait(1, timeout=10)
        assert msgs[0][1] == ["fine@quick.test"] and b"body of not held up" in msgs[0][2]
        assert time.time() - t0 < 5
        assert "delivered to <stuck" not in md.logtext()
    finally:
        pit.stop()
        s.stop()
