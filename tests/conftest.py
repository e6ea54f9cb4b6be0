"""Shared fixtures: the official OpenAPI description and helpers to find it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keyring
import keyring.errors
import pytest
from support import DEMO_TODAY, SPEC_PATH
from support.memory_keyring import MemoryKeyring


@pytest.fixture(scope="session")
def openapi_spec() -> dict[str, Any]:
    """The parsed official sheepCRM OpenAPI description; skips when it is not beside the repo."""
    if not SPEC_PATH.is_file():
        pytest.skip(f"official sheepCRM spec not found at {SPEC_PATH} (set SHEEP_OPENAPI_SPEC)")
    yaml = pytest.importorskip("yaml")
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# --- isolation: never touch the real credential store, config file or environment ----------


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own config file, an in-memory keyring and no sheep-xl env vars."""
    config = tmp_path_factory.mktemp("config") / "config.toml"
    monkeypatch.setenv("SHEEP_XL_CONFIG", str(config))
    monkeypatch.setenv("SHEEP_XL_FUNCTION_EPOCH", str(config.parent / "functions.epoch"))
    for name in (
        "SHEEP_API_KEY",
        "SHEEP_API_URL",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    store = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(store)
    yield store
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def demo_server() -> Iterator[Any]:
    """The built-in demo server on a free port, with a fixed 'today' so results are stable."""
    from sheep_xl.demo.server import DemoServer

    with DemoServer(today=DEMO_TODAY) as server:
        yield server


@pytest.fixture
def demo(demo_server: Any) -> Any:
    """The session's demo server with an empty request log and fresh rate-limit windows."""
    demo_server.forget_requests()
    return demo_server


@pytest.fixture
def demo_client(demo: Any) -> Iterator[Any]:
    from sheep_xl.api.client import SheepClient
    from sheep_xl.demo.server import DEMO_API_KEY

    with SheepClient(api_key=DEMO_API_KEY, base_url=demo.url, backoff_base=0.01) as client:
        yield client
