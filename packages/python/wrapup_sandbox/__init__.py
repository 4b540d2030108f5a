"""wrapup for tests: the `wrapup` server binary, and a server per test or per session.

    from wrapup_sandbox import start_wrapup

    server = start_wrapup(settle_ms=1500)          # free port, temporary database, demo data
    server.url, server.client_id, server.client_secret
    server.advance(1500)                            # the test clock: no sleeping
    server.stop()

With pytest the `wrapup_server` fixture does this for you (docs/testing.md).
"""

from .server import ALL_SCOPES, DEMO, WrapupApiError, WrapupServer, find_binary, start_wrapup

__all__ = ["ALL_SCOPES", "DEMO", "WrapupApiError", "WrapupServer", "find_binary", "start_wrapup"]

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("wrapup-sandbox")
except PackageNotFoundError:  # run from a checkout, not installed
    __version__ = "0+unknown"
