# tests/integration/browser_util.py: running the Node/playwright-core browser scripts of tests/browser/ from pytest,
# so they reuse the Python fixtures (database, panel, admins). Usage:
#     from browser_util import run_browser
#     run_browser("admin_flow.mjs", panel.url, "dadmin", ADMIN_PW)
# The script's exit status is the verdict; its output is shown when it fails.
import os
import shutil
import subprocess

BROWSER_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "../browser"))


def ensure_node_modules():
    """npm install in tests/browser when playwright-core is missing (test.sh does it too)."""
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=BROWSER_DIR, check=True, capture_output=True, text=True, timeout=600)
    assert shutil.which("node"), "node is not installed (scripts/deps.sh test)"
    assert os.path.exists(os.environ.get("YUBIN_CHROMIUM", "/usr/bin/chromium")), \
        "chromium is not installed (scripts/deps.sh test)"


def run_browser(script, *args, timeout=300, env=None):
    """Run tests/browser/<script> with args; assert it exits 0. Answers the CompletedProcess."""
    ensure_node_modules()
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, script), *[str(a) for a in args]],
                       cwd=BROWSER_DIR, capture_output=True, text=True, timeout=timeout, env=e)
    assert p.returncode == 0, f"{script} exited {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
    return p
