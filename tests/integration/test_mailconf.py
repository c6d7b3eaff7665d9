# tests/integration/test_mailconf.py: mail client settings (SPEC §9): the settings page, Thunderbird
# autoconfig XML at both paths, the Apple configuration profile.
import plistlib
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import Panel
from user_util import Browser, USER_PW, make_user, user

CONF = """hostname = mx.example.test
imap_host = imap.example.test
smtp_host = smtp.example.test
imaps_port = 10993
submission_port = 10587
"""


@pytest.fixture(scope="module")
def panel(db):
    # Server names and ports come from the configuration; pop3_host is left out so it
    # falls back to hostname.
    p = Panel(db, extra_config=CONF)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def alice(db):
    return make_user(db, "alice")


def servers(root):
    out = {}
    for s in root.iter():
        if s.tag in ("incomingServer", "outgoingServer"):
            out.setdefault(s.get("type"), []).append(
                (s.findtext("hostname"), int(s.findtext("port")), s.findtext("socketType"),
                 s.findtext("authentication"), s.findtext("username")))
    return out


EXPECTED = {
    "imap": [("imap.example.test", 10993, "SSL"), ("imap.example.test", 143, "STARTTLS")],
    "pop3": [("mx.example.test", 995, "SSL"), ("mx.example.test", 110, "STARTTLS")],
    "smtp": [("smtp.example.test", 465, "SSL"), ("smtp.example.test", 10587, "STARTTLS")],
}


@pytest.mark.parametrize("path", ["/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"])
def test_autoconfig_xml_names_hosts_and_ports(panel, alice, path):
    r = requests.get(panel.url + path, params={"emailaddress": alice})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/xml")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    root = ET.fromstring(r.content)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    prov = root.find("emailProvider")
    assert prov.get("id") == "example.test"
    assert [d.text for d in prov.findall("domain")] == ["example.test"]
    got = servers(root)
    for proto, rows in EXPECTED.items():
        assert [g[:3] for g in got[proto]] == rows, proto
        for g in got[proto]:
            # AUTH PLAIN/LOGIN over the protected connection; user name = full address.
            assert g[3] == "password-cleartext" and g[4] == "%EMAILADDRESS%"
    assert root.find("emailProvider/outgoingServer").get("type") == "smtp"


def test_autoconfig_without_address_uses_placeholders(panel):
    r = requests.get(panel.url + "/mail/config-v1.1.xml")
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.find("emailProvider/domain").text == "%EMAILDOMAIN%"
    assert len(servers(root)["imap"]) == 2


def test_autoconfig_unknown_domain_or_garbage_is_404(panel):
    for addr in ("bob@not-hosted.test", "no-at-sign", "x@<script>.test"):
        r = requests.get(panel.url + "/mail/config-v1.1.xml", params={"emailaddress": addr})
        assert r.status_code == 404, addr
        assert b"<script>" not in r.content


def test_autoconfig_is_not_under_the_api(panel):
    assert requests.get(panel.url + "/api/v1/mail/config-v1.1.xml").status_code == 404


def test_settings_page_for_the_signed_in_user(panel, alice):
    b = Browser(panel.url)
    assert b.login("mail", alice, USER_PW).status_code == 303
    r = b.get("/mail/settings")
    assert r.status_code == 200
    assert "Content-Security-Policy" in r.headers
    t = r.text
    assert f'id="settings-username">{alice}<' in t
    for proto, rows in EXPECTED.items():
        for host, port, sec in rows:
            assert f'data-proto="{proto}" data-port="{port}"' in t
            assert host in t
    assert "STARTTLS" in t and "SSL/TLS" in t and "PLAIN" in t and "LOGIN" in t
    assert "/mail/settings/mobileconfig" in t


def test_settings_json_and_roles(panel, alice, root, support):
    c = user(panel, alice)
    r = c.get("/me/settings")
    assert r.status_code == 200
    j = r.json()
    assert j["username"] == alice and j["auth"] == ["PLAIN", "LOGIN"]
    assert j["servers"]["imap"]["host"] == "imap.example.test"
    assert {"port": 10993, "security": "ssl"} in j["servers"]["imap"]["ports"]
    assert j["servers"]["pop3"]["host"] == "mx.example.test"
    assert {"port": 10587, "security": "starttls"} in j["servers"]["smtp"]["ports"]
    # Admins have no mailbox: the user pages are not theirs.
    assert root.get("/me/settings").status_code == 403
    assert support.get("/me/settings/mobileconfig").status_code == 403
    assert requests.get(panel.url + "/api/v1/me/settings").status_code == 401


def test_mobileconfig_is_a_plist_download(panel, alice):
    c = user(panel, alice)
    r = c.get("/me/settings/mobileconfig")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/x-apple-aspen-config"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{alice}.mobileconfig"'
    pl = plistlib.loads(r.content)
    assert pl["PayloadType"] == "Configuration" and pl["PayloadVersion"] == 1
    mail = pl["PayloadContent"][0]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert mail["EmailAddress"] == alice and mail["EmailAccountType"] == "EmailTypeIMAP"
    assert mail["IncomingMailServerHostName"] == "imap.example.test"
    assert mail["IncomingMailServerPortNumber"] == 10993 and mail["IncomingMailServerUseSSL"] is True
    assert mail["IncomingMailServerUsername"] == alice
    assert mail["OutgoingMailServerHostName"] == "smtp.example.test"
    assert mail["OutgoingMailServerPortNumber"] == 465 and mail["OutgoingMailServerUseSSL"] is True
    assert "IncomingPassword" not in mail
    # The same profile again has the same identity, so installing it replaces the old one.
    again = plistlib.loads(c.get("/me/settings/mobileconfig").content)
    assert again["PayloadUUID"] == pl["PayloadUUID"] and len(pl["PayloadUUID"]) == 36
    # Through the page path as a browser downloads it.
    b = Browser(panel.url)
    b.login("mail", alice, USER_PW)
    r = b.get("/mail/settings/mobileconfig")
    assert r.status_code == 200 and plistlib.loads(r.content)["PayloadContent"][0]["EmailAddress"] == alice
