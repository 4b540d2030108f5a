#!/usr/bin/env python3
"""Runs the Notifications examples of docs/genesys.md exactly as written (run by .ci/genesys-sdks),
so they cannot rot: the Python one (SDK + websockets) and the JavaScript one (SDK + ws).

For each: an answered Sales call (wrapup's own API), the example started with its id, and once it
says `listening on`, the call is closed and, once finalized, wrapped up with the code Sale; the
example must print both subscriptions Permitted, the after-call work (VOICE, agent Ada) and the
wrap-up, then exit 0 by itself.

Usage: docs_examples.py PYTHON JS_DIR   (JS_DIR: where node_modules is; WRAPUP_URL: the server)
The last line is "N passed, M failed"; exit status 1 if any check failed.
"""
import base64
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ("00000000-0000-4000-8000-00000000d001", "demo-secret-not-for-production")
SALES = "00000000-0000-4000-8000-0000000000a1"
CODE_SALE = "00000000-0000-4000-8000-0000000000c1"
QUEUE_SALES = "00000000-0000-4000-8000-0000000001b1"
USER_ADA = "00000000-0000-4000-8000-0000000001a1"
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"  {'✓' if ok else '✗'} {what}" + (f"  ({detail})" if detail else ""))


def example(name):
    """The fenced block right after `<!-- genesys-sdks: NAME … -->` in docs/genesys.md."""
    text = (ROOT / "docs/genesys.md").read_text()
    m = re.search(r"<!-- genesys-sdks: " + re.escape(name) + r"\b[^\n]*-->\n```\w*\n(.*?)\n```", text, re.S)
    if not m:
        raise SystemExit(f"docs/genesys.md has no block marked genesys-sdks: {name}")
    return m.group(1) + "\n"


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")
        basic = base64.b64encode(f"{DEMO[0]}:{DEMO[1]}".encode()).decode()
        req = urllib.request.Request(self.base + "/oauth/token", data=b"grant_type=client_credentials", headers={
            "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.token = json.loads(resp.read())["access_token"]

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(), headers={
                                         "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")


def run(title, argv, cwd, api):
    print(f"\n== docs/genesys.md#notifications: {title}")
    cid = api.call("POST", "/api/v2/interactions", {"divisionId": SALES, "channel": "voice", "queueId": QUEUE_SALES})["id"]
    api.call("POST", f"/api/v2/interactions/{cid}/state", {"state": "active", "agentId": USER_ADA})
    proc = subprocess.Popen(argv + [cid], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    listening = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            print("    | " + lines[-1])
            if line.startswith("listening on"):
                listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        check(listening.wait(30), "it subscribes and connects (prints `listening on`)")
        api.call("POST", f"/api/v2/interactions/{cid}/state", {"state": "closed"})
        deadline = time.monotonic() + 30
        while not api.call("GET", f"/api/v2/interactions/{cid}")["finalized"] and time.monotonic() < deadline:
            time.sleep(0.1)
        api.call("PUT", f"/api/v2/interactions/{cid}/wrap-up", {"codeId": CODE_SALE, "durationMs": 42000})
        try:
            status = proc.wait(30)
        except subprocess.TimeoutExpired:
            status = None
        reader.join(5)
        check(status == 0, "it exits 0 by itself after the wrap-up", f"exit status {status}")
        permitted = [l for l in lines if l.endswith(" Permitted") or " Permitted " in l]
        check(len(permitted) == 2, "both topics Permitted", str(permitted))
        check(any(re.match(rf"#\d+ after-call work started: VOICE, agent {USER_ADA}$", l) for l in lines),
              "it prints the after-call work (the .acw event)")
        check(any(re.match(rf"#\d+ wrap-up {CODE_SALE} \(42000 ms\)$", l) for l in lines),
              "it prints the wrap-up (the .wrapup event)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    python, js_dir = sys.argv[1], sys.argv[2]
    api = Api(os.environ.get("WRAPUP_URL", "http://127.0.0.1:8080"))
    with tempfile.TemporaryDirectory() as tmp:
        py = pathlib.Path(tmp) / "notify.py"
        py.write_text(example("notify.py"))
        run("Python (SDK + websockets)", [python, str(py)], tmp, api)
    js = pathlib.Path(js_dir) / "notify.js"
    js.write_text(example("notify.js"))
    run("JavaScript (SDK + ws)", ["node", str(js)], js_dir, api)
    print(f"\n{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
