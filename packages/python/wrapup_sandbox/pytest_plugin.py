"""The pytest plugin of wrapup-sandbox (registered through the `pytest11` entry point).

Fixtures:

- `wrapup_server`: a running `WrapupServer` (demo data, manual clock, free port, temporary
  database), shared by the session unless `--wrapup-scope` / the `wrapup_scope` ini option
  says `function` (or `module`, `package`, `class`). Its options come from the
  `wrapup_options` fixture: override it in a conftest.py to change them.
- `wrapup_factory`: a function that starts more servers with any options; each is stopped at
  the end of the test.
- `wrapup_genesys_client`: a `PureCloudPlatformClientV2.ApiClient` pointed at `wrapup_server`
  with a token of the demo client (skips the test when the SDK is not installed).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest

from .server import WrapupServer

SCOPES = ("session", "package", "module", "class", "function")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wrapup", "wrapup-sandbox")
    group.addoption("--wrapup-scope", choices=SCOPES, default=None,
                    help="scope of the wrapup_server fixture (default: the wrapup_scope ini option, else session)")
    parser.addini("wrapup_scope", "scope of the wrapup_server fixture (default session)", default="session")


def _scope(fixture_name: str, config: pytest.Config) -> str:
    scope = config.getoption("--wrapup-scope") or config.getini("wrapup_scope") or "session"
    if scope not in SCOPES:
        raise pytest.UsageError(f"wrapup_scope must be one of {', '.join(SCOPES)}; got {scope!r}")
    return scope


@pytest.fixture(scope="session")
def wrapup_options() -> Dict[str, Any]:
    """The options of `wrapup_server` (see `WrapupServer`): override this fixture to change
    them, e.g. `return {"settle_ms": 0, "webhooks_allow_private": True}`."""
    return {}


@pytest.fixture(scope=_scope)
def wrapup_server(wrapup_options: Dict[str, Any]):
    """A running wrapup server; stopped, with its files removed, after its scope."""
    server = WrapupServer(**wrapup_options).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def wrapup_factory() -> Callable[..., WrapupServer]:
    """`wrapup_factory(**options)` starts a server; every one is stopped at the test's end."""
    started: List[WrapupServer] = []

    def start(**options: Any) -> WrapupServer:
        server = WrapupServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope=_scope)
def wrapup_genesys_client(wrapup_server: WrapupServer):
    """The official Genesys Cloud SDK's `ApiClient`, pointed at `wrapup_server`, with a
    token of the server's client (the demo client by default)."""
    G = pytest.importorskip("PureCloudPlatformClientV2")
    api = G.ApiClient(host=wrapup_server.url)
    api.gateway_configuration = None  # ignore a ~/.genesyscloudpython/config gateway
    api.get_client_credentials_token(wrapup_server.client_id, wrapup_server.client_secret)
    return api
