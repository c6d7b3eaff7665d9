# tests/integration/test_transports.py: the same requests through a real nginx fastcgi_pass
# and through the embedded HTTP server give the same answers.
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import ADMIN_PW, Panel, free_port, wait_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def nginx_panel(db):
    fcgi = Panel(db, fcgi=True)
    d = tempfile.mkdtemp(prefix="yubin-nginx-")
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    fastcgi_temp_path {d}/fastcgi;
    proxy_temp_path {d}/proxy;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 110m;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            include /etc/nginx/fastcgi_params;
            fastcgi_pass 127.0.0.1:{fcgi.port};
        }}
    }}
}}
""")
    proc = subprocess.Popen([NGINX, "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    wait_port(port, proc)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
    fcgi.stop()
    shutil.rmtree(d, ignore_errors=True)


REQUESTS = [
    ("GET", "/api/v1/me", None, None),
    ("GET", "/api/v1/no/such/path", None, None),
    ("PUT", "/api/v1/me", None, None),
    ("POST", "/api/v1/admin/login", {"username": "root", "password": "wrong"}, None),
    ("POST", "/api/v1/admin/login", {"username": "root"}, None),
    ("GET", "/admin/login", None, None),
    ("GET", "/admin/login?lang=ja", None, None),
    ("GET", "/admin/", None, None),
    ("GET", "/static/yubin.css", None, None),
    ("GET", "/static/../etc/passwd", None, None),
]

SAME_HEADERS = ["Content-Type", "X-Content-Type-Options", "Content-Security-Policy",
                "Location", "Allow", "X-Frame-Options", "Referrer-Policy"]


def fetch(base, method, path, body, headers):
    return requests.request(method, base + path, json=body, headers=headers or {},
                            allow_redirects=False)


@pytest.mark.parametrize("method,path,body,headers", REQUESTS)
def test_same_answers(panel, nginx_panel, db, method, path, body, headers):
    a = fetch(panel.url, method, path, body, headers)
    b = fetch(nginx_panel, method, path, body, headers)
    assert a.status_code == b.status_code, (a.text, b.text)
    for h in SAME_HEADERS:
        assert a.headers.get(h) == b.headers.get(h), h
    assert a.content == b.content
    db.execute("DELETE FROM ip_failures")
    db.execute("DELETE FROM auth_failures")


def test_session_flow_through_both(panel, nginx_panel):
    for base in (panel.url, nginx_panel):
        s = requests.Session()
        r = s.post(base + "/api/v1/admin/login", json={"username": "root", "password": ADMIN_PW})
        assert r.status_code == 200
        csrf = r.json()["csrf_token"]
        assert s.get(base + "/api/v1/me").json()["role"] == "superadmin"
        assert s.post(base + "/api/v1/logout").status_code == 403
        assert s.post(base + "/api/v1/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert s.get(base + "/api/v1/me").status_code == 401


def test_form_post_through_nginx(nginx_panel):
    s = requests.Session()
    r = s.post(nginx_panel + "/admin/login", data={"username": "root", "password": ADMIN_PW},
               allow_redirects=False)
    assert r.status_code == 303
    assert "yubin_session=" in r.headers["Set-Cookie"]


@pytest.mark.parametrize("fcgi", [True, False], ids=["fcgi", "http"])
def test_sigterm_stops_the_panel_at_once(db, fcgi):
    # libfcgi's own SIGTERM handler only marked a shutdown that the worker blocked in
    # accept() never saw: the FastCGI panel ignored SIGTERM. Several tries, since which
    # thread a signal lands on is the kernel's choice.
    for _ in range(3):
        p = Panel(db, fcgi=fcgi)
        t0 = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        rc = p.proc.wait(10)
        took = time.monotonic() - t0
        log = p.stop()
        assert rc == 0 and took < 5, (took, log[-2000:])
        assert "signal 15: stopping" in log


def test_sigterm_with_a_fastcgi_connection_held_open(db):
    # A web server's idle connection keeps one worker reading; the rest stop at once, and
    # that one is waited for at most FCGI_STOP_GRACE_S (10 s).
    p = Panel(db, fcgi=True)
    s = socket.create_connection(("127.0.0.1", p.port))
    time.sleep(0.3)
    t0 = time.monotonic()
    p.proc.send_signal(signal.SIGTERM)
    rc = p.proc.wait(20)
    took = time.monotonic() - t0
    s.close()
    log = p.stop()
    assert rc == 0 and took < 15, (took, log[-2000:])
