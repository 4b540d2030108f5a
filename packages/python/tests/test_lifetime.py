"""A server started by a fixture never outlives the test runner: a pytest run whose test holds
`wrapup_server` is killed with SIGKILL (no teardown, no atexit); the server, whose stdin was
a pipe only that process held, sees it close and exits. Checked by waiting on its pid,
bounded, never by a guessed sleep."""

import os
import shutil
import signal
import subprocess
import sys
import time

HELD = '''
import os, time

def test_holds_a_server(wrapup_server):
    with open(os.environ["WRAPUP_PID_FILE"] + ".tmp", "w") as f:
        f.write(f"{wrapup_server.pid} {wrapup_server.url} {os.path.dirname(wrapup_server.database_path)}")
    os.rename(os.environ["WRAPUP_PID_FILE"] + ".tmp", os.environ["WRAPUP_PID_FILE"])
    time.sleep(600)
'''


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (exited, not yet reaped by its new parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_sigkill_of_the_test_runner_leaves_no_server(tmp_path):
    (tmp_path / "test_held.py").write_text(HELD)
    pid_file = tmp_path / "server.pid"
    runner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_held.py")],
        cwd=tmp_path, env={**os.environ, "WRAPUP_PID_FILE": str(pid_file)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists():
            assert runner.poll() is None, "the inner pytest run ended before its server started"
            assert time.monotonic() < deadline, "the inner pytest run did not start its server within 60 s"
            time.sleep(0.02)
        pid_text, url, server_dir = pid_file.read_text().split()
        pid = int(pid_text)
        assert url.startswith("http://127.0.0.1:")
        assert not gone(pid)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    deadline = time.monotonic() + 30
    while not gone(pid):
        assert time.monotonic() < deadline, f"wrapup serve (pid {pid}) outlived its killed test runner by 30 s"
        time.sleep(0.05)
    # Nothing removed its temporary folder (docs/testing.md says so): this test does.
    shutil.rmtree(server_dir, ignore_errors=True)
