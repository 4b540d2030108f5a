"""The rest of what the package promises: the version is the workspace's, the binary is on
the environment's PATH, servers with options from the factory (no demo data, the real clock
refusing an advance, chaos), two servers on two ports, and tokens expiring with the clock."""

import os
import shutil
import subprocess
from importlib.metadata import version

import pytest

import wrapup_sandbox
from wrapup_sandbox import DEMO, WrapupApiError, find_binary


def test_version_is_the_workspace_version():
    expected = os.environ["WRAPUP_EXPECTED_VERSION"]
    assert version("wrapup-sandbox") == expected
    assert wrapup_sandbox.__version__ == expected
    out = subprocess.run([find_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["wrapup", expected]


def test_the_binary_is_on_the_environment_path():
    assert shutil.which("wrapup") == find_binary()
    assert shutil.which("cargo") is None, "these tests run without a Rust toolchain"


def test_helpers_without_demo_data(wrapup_factory):
    server = wrapup_factory(demo=False, settle_ms=60_000)
    division = server.create_division("Sales")
    code = server.create_code(division["id"], "Sale")
    interaction = server.ready_interaction(division["id"], "email")
    assert interaction["finalized"] is True
    server.apply_wrapup(interaction["id"], code["id"], duration_ms=90_000, notes="done")
    assert server.get_wrapup(interaction["id"])["codeId"] == code["id"]
    other = server.create_client(name="viewer", scopes=["interaction:view"], divisions=[division["id"]])
    token = server.token(other["clientId"], other["clientSecret"])
    with pytest.raises(WrapupApiError) as refused:
        server.request("PUT", f"/api/v2/interactions/{interaction['id']}/wrap-up",
                       {"codeId": code["id"], "durationMs": 1000}, token=token)
    assert refused.value.status == 403


def test_a_server_on_the_real_clock_refuses_an_advance(wrapup_factory):
    server = wrapup_factory(clock="system")
    assert server.now()["manual"] is False
    with pytest.raises(WrapupApiError) as refused:
        server.advance(1000)
    assert (refused.value.status, refused.value.code) == (409, "clock.not.manual")


def test_server_options_reach_the_server(wrapup_factory):
    server = wrapup_factory(chaos="503=100%")
    with pytest.raises(WrapupApiError) as refused:
        server.request("GET", "/api/v2/interactions")
    assert refused.value.code == "service.unavailable"


def test_two_servers_two_ports_two_databases(wrapup_server, wrapup_factory):
    other = wrapup_factory()
    assert other.url != wrapup_server.url
    assert other.database_path != wrapup_server.database_path
    other.create_division("Only here")
    names = [d["name"] for d in wrapup_server.request("GET", "/api/v2/authorization/divisions")["entities"]]
    assert "Only here" not in names


def test_tokens_expire_with_the_clock(wrapup_factory):
    server = wrapup_factory()
    token = server.token(DEMO.CLIENT_ID, DEMO.CLIENT_SECRET)
    server.request("GET", "/api/v2/interactions", token=token)
    server.advance(24 * 3600 * 1000)
    with pytest.raises(WrapupApiError) as expired:
        server.request("GET", "/api/v2/interactions", token=token)
    assert expired.value.code == "authentication.expired"
    # The fixture's own token is renewed by itself.
    server.request("GET", "/api/v2/interactions")


def test_stop_removes_everything(wrapup_factory):
    server = wrapup_factory()
    process_dir, pid = os.path.dirname(server.database_path), server.pid
    server.stop()
    assert not os.path.exists(process_dir)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_readme_example(wrapup_server):
    # packages/python/README.md, as written there.
    call = wrapup_server.ready_interaction(DEMO.SALES)    # created, active, closed, settled
    wrapup_server.apply_wrapup(call["id"], DEMO.CODE_SALE)
    assert wrapup_server.get_wrapup(call["id"])["codeName"] == "Sale"
