"""A wrapup server for a test: started on a free port over a temporary database, stopped and
removed at the end, never outliving the process that started it.

Standard library only. See docs/testing.md in the wrapup repository.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

__all__ = [
    "DEMO",
    "ALL_SCOPES",
    "WrapupApiError",
    "WrapupServer",
    "find_binary",
    "start_wrapup",
]

#: Every scope an OAuth client can have.
ALL_SCOPES = (
    "interaction:view",
    "interaction:write",
    "interaction:manage",
    "wrapup-code:view",
    "wrapup-code:manage",
    "admin",
)


class _Demo:
    """The fixed ids and credentials of the demo organisation (`wrapup serve --demo`)."""

    CLIENT_ID = "00000000-0000-4000-8000-00000000d001"
    CLIENT_SECRET = "demo-secret-not-for-production"
    VIEWER_CLIENT_ID = "00000000-0000-4000-8000-00000000d002"
    VIEWER_CLIENT_SECRET = "viewer-secret-not-for-production"
    SALES = "00000000-0000-4000-8000-0000000000a1"
    SUPPORT = "00000000-0000-4000-8000-0000000000a2"
    CODE_SALE = "00000000-0000-4000-8000-0000000000c1"
    CODE_CALLBACK = "00000000-0000-4000-8000-0000000000c2"
    CODE_NO_SALE = "00000000-0000-4000-8000-0000000000c3"
    CODE_LEGACY = "00000000-0000-4000-8000-0000000000c4"
    CODE_RESOLVED = "00000000-0000-4000-8000-0000000000c5"
    CODE_ESCALATED = "00000000-0000-4000-8000-0000000000c6"


DEMO = _Demo()


class WrapupApiError(Exception):
    """A non-2xx answer of the server: `status`, the error `code` and the whole `body`."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.method, self.path, self.status, self.body = method, path, status, body
        self.code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} -> {status} {self.code or ''}: {message}")


def find_binary() -> str:
    """The `wrapup` binary: $WRAPUP_BIN, else the one this package installed next to the
    interpreter's scripts, else the first on PATH."""
    explicit = os.environ.get("WRAPUP_BIN")
    if explicit:
        return explicit
    name = "wrapup.exe" if os.name == "nt" else "wrapup"
    for scheme_dir in {sysconfig.get_path("scripts"), os.path.dirname(sys.executable)}:
        if scheme_dir:
            candidate = os.path.join(scheme_dir, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        "no `wrapup` binary: install the wrapup-sandbox package in this environment, "
        "put `wrapup` on PATH, or set WRAPUP_BIN"
    )


Options = Union[str, int, bool, None, Sequence[str]]


class WrapupServer:
    """One `wrapup serve` process for a test.

    Everything is optional::

        with WrapupServer(demo=True, clock="manual", settle_ms=1500) as server:
            server.url, server.client_id, server.client_secret
            server.advance(1500)

    Options: `demo` (seed the demo organisation, default True; otherwise an admin client is
    made for you), `clock` ("manual", the default, or "system"), `settle_ms`, `chaos`
    (e.g. "503=5%"), `rate_limit` (e.g. "300/min"), `webhooks_allow_private`,
    `webhooks_retry_schedule` (e.g. "1s,2s"), `extra_args` (any other `wrapup serve`
    option), `env`, `binary`, `startup_timeout` (seconds), `log` ("warn" by default; the
    server's log is kept in `log_path`).
    """

    def __init__(
        self,
        *,
        demo: bool = True,
        clock: str = "manual",
        settle_ms: Optional[int] = None,
        chaos: Optional[str] = None,
        rate_limit: Optional[str] = None,
        webhooks_allow_private: bool = False,
        webhooks_retry_schedule: Optional[str] = None,
        extra_args: Iterable[str] = (),
        env: Optional[Mapping[str, str]] = None,
        binary: Optional[str] = None,
        startup_timeout: float = 60.0,
        log: str = "warn",
    ):
        if clock not in ("manual", "system"):
            raise ValueError(f"clock must be 'manual' or 'system', not {clock!r}")
        self.demo = demo
        self.clock = clock
        self.settle_ms = 1500 if settle_ms is None else int(settle_ms)
        self.binary = binary or find_binary()
        self.startup_timeout = startup_timeout
        args: List[str] = ["--settle-ms", str(self.settle_ms), "--clock", clock]
        if demo:
            args.append("--demo")
        if chaos:
            args += ["--chaos", chaos]
        if rate_limit:
            args += ["--rate-limit", rate_limit]
        if webhooks_allow_private:
            args.append("--webhooks-allow-private")
        if webhooks_retry_schedule:
            args += ["--webhooks-retry-schedule", webhooks_retry_schedule]
        self._args = args + list(extra_args)
        self._env = dict(os.environ)
        self._env.update(env or {})
        self._env.setdefault("WRAPUP_LOG", log)
        self._process: Optional[subprocess.Popen] = None
        self._dir: Optional[str] = None
        self._token: Optional[str] = None
        self.url = ""
        self.client_id = DEMO.CLIENT_ID if demo else ""
        self.client_secret = DEMO.CLIENT_SECRET if demo else ""

    # -- lifetime -------------------------------------------------------------------------

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process else None

    @property
    def database_path(self) -> str:
        return os.path.join(self._dir or "", "wrapup.db")

    @property
    def log_path(self) -> str:
        return os.path.join(self._dir or "", "server.log")

    def log(self) -> str:
        """What the server wrote on stderr so far."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self) -> "WrapupServer":
        """Starts the server and returns once it answers `/healthz`."""
        if self._process is not None:
            return self
        self._dir = tempfile.mkdtemp(prefix="wrapup-sandbox-")
        db = "sqlite://" + self.database_path
        if not self.demo:
            made = subprocess.run(
                [self.binary, "--json", "clients", "create", "--db", db, "--name", "wrapup-sandbox",
                 "--scopes", " ".join(ALL_SCOPES), "--divisions", "all"],
                env=self._env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
            )
            if made.returncode != 0:
                self._remove_files()
                raise RuntimeError(f"`wrapup clients create` failed: {made.stderr or made.stdout}")
            created = json.loads(made.stdout)
            self.client_id, self.client_secret = created["clientId"], created["clientSecret"]
        ready = os.path.join(self._dir, "ready")
        log = open(self.log_path, "wb")
        try:
            # stdin is a pipe only this process holds: when it exits, however it dies, the
            # kernel closes it and the server (--exit-on-stdin-eof) shuts down.
            self._process = subprocess.Popen(
                [self.binary, "serve", "--listen", "127.0.0.1:0", "--db", db,
                 "--ready-file", ready, "--exit-on-stdin-eof", *self._args],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log, env=self._env,
            )
        except BaseException:
            log.close()
            self._remove_files()
            raise
        log.close()
        _live.add(self)
        deadline = time.monotonic() + self.startup_timeout
        pause = 0.005
        while not os.path.exists(ready):
            if self._process.poll() is not None:
                log_text = self.log()
                self.stop()
                raise RuntimeError(f"wrapup serve exited ({self._process.returncode}) before listening:\n{log_text}")
            if time.monotonic() > deadline:
                log_text = self.log()
                self.stop()
                raise TimeoutError(f"wrapup serve did not listen within {self.startup_timeout} s:\n{log_text}")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        with open(ready, encoding="utf-8") as f:
            self.url = f.read().strip()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stops the server (closing its stdin: a graceful shutdown; SIGKILL after `timeout`
        seconds) and removes its files. Safe to call twice."""
        process, self._process = self._process, None
        _live.discard(self)
        if process is not None:
            try:
                if process.stdin:
                    process.stdin.close()
            except OSError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._remove_files()

    def _remove_files(self) -> None:
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "WrapupServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"WrapupServer(url={self.url!r}, pid={self.pid}, clock={self.clock!r})"

    # -- HTTP -------------------------------------------------------------------------------

    def token(self, client_id: Optional[str] = None, client_secret: Optional[str] = None) -> str:
        """An access token (client credentials); the fixture's own client's is cached."""
        own = client_id is None
        if own and self._token:
            return self._token
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_id": client_id or self.client_id,
            "client_secret": client_secret or self.client_secret,
        }).encode()
        req = urllib.request.Request(self.url + "/oauth/token", data=form, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        status, body = _send(req)
        if status >= 300:
            raise WrapupApiError("POST", "/oauth/token", status, body)
        if own:
            self._token = body["access_token"]
        return body["access_token"]

    def request(self, method: str, path: str, body: Any = None, token: Optional[str] = None) -> Any:
        """Sends one request to the API with the fixture client's token (renewed once if the
        clock has expired it) and returns the parsed answer; raises `WrapupApiError` on a
        non-2xx answer."""
        for attempt in (1, 2):
            data = None if body is None else json.dumps(body).encode()
            headers = {"Authorization": f"Bearer {token or self.token()}", "Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            status, answer = _send(req)
            if status == 401 and token is None and attempt == 1:
                self._token = None
                continue
            if status >= 300:
                raise WrapupApiError(method, path, status, answer)
            return answer
        raise AssertionError("unreachable")

    # -- the test clock ---------------------------------------------------------------------

    def now(self) -> Dict[str, Any]:
        """The server's time: `{"now", "nowMs", "manual"}`."""
        return self.request("GET", "/api/v2/admin/clock")

    def advance(self, ms: int) -> int:
        """Moves the test clock forward by `ms` and returns the new time in milliseconds;
        every interaction whose settle time has passed is finalized when this returns."""
        return self.request("POST", "/api/v2/admin/clock/advance", {"ms": int(ms)})["nowMs"]

    # -- helpers: the public API ---------------------------------------------------------

    def create_division(self, name: str) -> Dict[str, Any]:
        return self.request("POST", "/api/v2/authorization/divisions", {"name": name})

    def create_code(self, division_id: str, name: str, description: Optional[str] = None) -> Dict[str, Any]:
        body = {"name": name, "divisionId": division_id}
        if description is not None:
            body["description"] = description
        return self.request("POST", "/api/v2/routing/wrapupcodes", body)

    def create_client(self, name: str = "test", scopes: Iterable[str] = ALL_SCOPES,
                      divisions: Union[str, Sequence[str]] = "all") -> Dict[str, Any]:
        """A new OAuth client: `{"clientId", "clientSecret", …}`."""
        grant = divisions if isinstance(divisions, str) else list(divisions)
        return self.request("POST", "/api/v2/oauth/clients",
                            {"name": name, "scopes": list(scopes), "divisions": grant})

    def create_interaction(self, division_id: str, channel: str = "voice") -> Dict[str, Any]:
        return self.request("POST", "/api/v2/interactions", {"divisionId": division_id, "channel": channel})

    def get_interaction(self, interaction_id: str) -> Dict[str, Any]:
        return self.request("GET", f"/api/v2/interactions/{interaction_id}")

    def set_state(self, interaction_id: str, state: str) -> Dict[str, Any]:
        """Moves an interaction: "active" or "closed"."""
        return self.request("POST", f"/api/v2/interactions/{interaction_id}/state", {"state": state})

    def activate(self, interaction_id: str) -> Dict[str, Any]:
        return self.set_state(interaction_id, "active")

    def close(self, interaction_id: str) -> Dict[str, Any]:
        return self.set_state(interaction_id, "closed")

    def settle(self, interaction_id: str) -> Dict[str, Any]:
        """Passes the settle time of a closed interaction by advancing the clock (manual
        clock only); returns the interaction, finalized."""
        self.advance(self.settle_ms)
        return self.get_interaction(interaction_id)

    def ready_interaction(self, division_id: str, channel: str = "voice") -> Dict[str, Any]:
        """A new interaction, activated, closed and settled: ready for its wrap-up."""
        created = self.create_interaction(division_id, channel)
        self.activate(created["id"])
        self.close(created["id"])
        return self.settle(created["id"])

    def apply_wrapup(self, interaction_id: str, code_id: str, duration_ms: int = 60_000,
                     notes: Optional[str] = None) -> Any:
        body: Dict[str, Any] = {"codeId": code_id, "durationMs": duration_ms}
        if notes is not None:
            body["notes"] = notes
        return self.request("PUT", f"/api/v2/interactions/{interaction_id}/wrap-up", body)

    def get_wrapup(self, interaction_id: str) -> Dict[str, Any]:
        return self.request("GET", f"/api/v2/interactions/{interaction_id}/wrap-up")


def _send(req: urllib.request.Request):
    # No proxy: the server is on this machine's loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def start_wrapup(**options: Any) -> WrapupServer:
    """Starts a server (see `WrapupServer` for the options) and returns it; call `stop()`."""
    return WrapupServer(**options).start()


# Servers still running at interpreter exit are stopped (their stdin pipe would close
# anyway when this process ends; this also removes their files).
_live: "set[WrapupServer]" = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop(timeout=5)
