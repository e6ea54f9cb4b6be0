"""Issue 9, round 2, against local fault servers over real HTTP: every response is bounded in
size and time, paging cannot lose rows, the key goes only where it should and never shows in
a message, and bad settings or keys are refused before anything is sent."""

from __future__ import annotations

import gzip
import json
import logging
import time
import tracemalloc
from pathlib import Path

import pytest
from support.faultserver import (
    FaultServer,
    Reply,
    Seen,
    bookings,
    capped_pages,
    events,
    gzip_bomb,
    nested_json,
)

from sheep_xl.api.client import SheepClient
from sheep_xl.api.transport import is_loopback, same_origin
from sheep_xl.config import RULES, Settings, load_settings
from sheep_xl.credentials import ENV_API_KEY, resolve_api_key, store_key, validate_api_key
from sheep_xl.exceptions import (
    ApiKeyRejectedError,
    BadRequestError,
    InsecureTransportError,
    InvalidApiKeyError,
    NetworkError,
    PagingError,
    RequestDeadlineError,
    ResponseTooLargeError,
    SettingsError,
    UnexpectedResponseError,
)
from sheep_xl.redaction import RedactingFilter, redact, remember_secret

KEY = "sk-live-0123456789abcdef"  # long enough to be remembered for redaction
FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "read_timeout": 1.0, "connect_timeout": 1.0}


def client_for(server: FaultServer, **kwargs) -> SheepClient:
    return SheepClient(api_key=KEY, base_url=server.url, **{**FAST, **kwargs})


@pytest.fixture(autouse=True)
def time_limit():
    started = time.monotonic()
    yield
    assert time.monotonic() - started < 15, "a fault test must end quickly"


# --- no unexpected exceptions ---------------------------------------------------------------


def test_absurdly_nested_json_is_one_clear_error() -> None:
    with FaultServer(lambda n, s: Reply(200, nested_json(100_000))) as server:
        with client_for(server) as client, pytest.raises(UnexpectedResponseError) as info:
            client.events("example", "all")
    assert "nested too deeply" in str(info.value)
    assert len(server.seen) == 1, "not retried: the same body would come again"


def test_nested_error_body_does_not_hide_the_status() -> None:
    with FaultServer(lambda n, s: Reply(400, nested_json(100_000))) as server:
        with client_for(server) as client, pytest.raises(BadRequestError, match="HTTP 400"):
            client.events("example", "all")


# --- bounded resources ----------------------------------------------------------------------


def test_gzip_bomb_stops_at_the_cap_while_streaming() -> None:
    bomb = gzip_bomb(64)  # 64 MB once decoded, about 64 KB on the wire
    assert len(bomb) < 1_000_000
    reply = Reply(200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    cap = 2 * 1024 * 1024
    with FaultServer(lambda n, s: reply) as server:
        with client_for(server, max_response_bytes=cap) as client:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseTooLargeError) as info:
                    client.events("example", "all")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert "larger than 2 MB" in str(info.value) and "max_response_bytes" in str(info.value)
    assert peak < 4 * cap, f"decoding stopped near the cap (peak {peak:,} bytes)"
    assert len(server.seen) == 1, "a body that is too large is not retried"


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    body = json.dumps({"bookings": events(0, 2000)})
    with FaultServer(lambda n, s: Reply(200, body)) as server:
        with client_for(server, max_response_bytes=4096) as client:
            with pytest.raises(ResponseTooLargeError):
                client.events("example", "all")


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    import zlib

    def script(n: int, seen: Seen) -> Reply:
        page = int(seen.query["page"])
        raw = json.dumps({"bookings": events((page - 1) * 250, 250 if page < 3 else 0)})
        if page == 1:
            return Reply(200, gzip.compress(raw.encode()), {"Content-Encoding": "gzip"})
        return Reply(200, zlib.compress(raw.encode()), {"Content-Encoding": "deflate"})

    with FaultServer(script) as server, client_for(server) as client:
        rows = client.events("example", "all")
    assert len(rows) == 500 and len({r["uid"] for r in rows}) == 500


def test_unknown_content_encoding_is_one_clear_error() -> None:
    reply = Reply(200, b"\x00\x01", {"Content-Encoding": "br"})
    with FaultServer(lambda n, s: reply) as server:
        with client_for(server) as client, pytest.raises(UnexpectedResponseError, match="'br'"):
            client.events("example", "all")


def test_a_dripping_server_ends_at_the_deadline() -> None:
    """One byte every 0.2 s never trips the 0.5 s read timeout; the 1 s deadline ends it."""
    reply = Reply(200, json.dumps({"bookings": events(0, 3)}), drip=0.2)
    with FaultServer(lambda n, s: reply) as server:
        with client_for(server, read_timeout=0.5, request_deadline=1.0) as client:
            started = time.monotonic()
            with pytest.raises(RequestDeadlineError) as info:
                client.events("example", "all")
            took = time.monotonic() - started
    assert took < 1.6, f"ended at the deadline, not after the whole body ({took:.2f}s)"
    assert "longer than 1 second " in str(info.value) and "request_deadline" in str(info.value)
    assert len(server.seen) == 1, "a deadline is not retried (it would only take as long again)"


def test_deadline_comes_from_the_settings(tmp_path: Path, monkeypatch) -> None:
    config = Path(monkeypatch_config(monkeypatch, tmp_path, "request_deadline = 0.8\n"))
    assert config.is_file()
    reply = Reply(200, json.dumps({"bookings": events(0, 3)}), drip=0.2)
    with FaultServer(lambda n, s: reply) as server:
        with SheepClient(api_key=KEY, base_url=server.url, read_timeout=0.5) as client:
            assert client.request_deadline == 0.8
            with pytest.raises(RequestDeadlineError):
                client.events("example", "all")


def monkeypatch_config(monkeypatch, tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("SHEEP_XL_CONFIG", str(path))
    return str(path)


# --- paging that cannot lose rows -----------------------------------------------------------


def test_server_capping_page_size_loses_no_rows() -> None:
    with FaultServer(capped_pages(1000, cap=100)) as server, client_for(server) as client:
        rows = client.events("example", "all", page_size=250)
    uids = [r["uid"] for r in rows]
    assert len(uids) == 1000 and len(set(uids)) == 1000
    assert len(server.seen) == 11, "ten pages of 100, then one empty page ends the listing"


def test_short_first_page_then_longer_pages() -> None:
    sizes = [100, 250, 250, 250, 150]  # the server's page sizes vary; 1,000 events in all
    starts = [sum(sizes[:i]) for i in range(len(sizes))]

    def script(n: int, seen: Seen) -> Reply:
        page = int(seen.query["page"])
        if page > len(sizes):
            return bookings([])
        return bookings(events(starts[page - 1], sizes[page - 1]))

    with FaultServer(script) as server, client_for(server) as client:
        rows = client.events("example", "all", page_size=250)
    assert [r["uid"] for r in rows] == [f"e{n:05d}" for n in range(1000)]
    assert len(server.seen) == 6


def test_short_page_answered_again_for_the_next_page_ends_the_listing() -> None:
    """A server that answers every page with the same short page: the repeat ends it."""
    with FaultServer(lambda n, s: bookings(events(0, 3))) as server, client_for(server) as c:
        assert [r["uid"] for r in c.events("example", "all")] == ["e00000", "e00001", "e00002"]
    assert len(server.seen) == 2


def test_full_page_repeated_is_still_a_paging_error() -> None:
    with FaultServer(lambda n, s: bookings(events(0, 7))) as server, client_for(server) as c:
        with pytest.raises(PagingError, match="ignore paging"):
            c.events("example", "all", page_size=7)


# --- secrets and transport ------------------------------------------------------------------


def test_key_echoed_in_an_error_description_is_redacted() -> None:
    def script(n: int, seen: Seen) -> Reply:
        return Reply(400, {"description": f"bad key {seen.auth_header}\x1b[2J\r\nX-Evil: 1"})

    with FaultServer(script) as server:
        with client_for(server) as client, pytest.raises(BadRequestError) as info:
            client.events("example", "all")
    text = str(info.value)
    assert KEY not in text and "***" in text
    assert "\x1b" not in text and "\n" not in text and "\r" not in text


def test_key_echoed_in_a_header_is_redacted() -> None:
    def script(n: int, seen: Seen) -> Reply:
        return Reply(200, "<html>", {"Content-Type": f"text/html; {seen.auth_header}"})

    with FaultServer(script) as server:
        with client_for(server) as client, pytest.raises(UnexpectedResponseError) as info:
            client.events("example", "all")
    assert "text/html" in str(info.value)
    assert KEY not in str(info.value)
    # the parameter after ';' is dropped; a key in the type itself is masked too
    with FaultServer(lambda n, s: Reply(200, "x", {"Content-Type": s.auth_header})) as server:
        with client_for(server) as client, pytest.raises(UnexpectedResponseError) as info:
            client.events("example", "all")
    assert KEY not in str(info.value) and "***" in str(info.value)


def test_key_echoed_in_a_redirect_never_reaches_a_log(caplog) -> None:
    def script(n: int, seen: Seen) -> Reply:
        if n == 1:
            return Reply(302, b"", {"Location": f"/elsewhere?token={KEY}"})
        return bookings([])

    handler = logging.StreamHandler()
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        with FaultServer(script) as server, client_for(server) as client:
            assert client.events("example", "all") == []
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert any("/elsewhere" in line for line in records), records
    assert not any(KEY in line for line in records)


def test_redirect_to_another_host_drops_the_key() -> None:
    with FaultServer(lambda n, s: bookings([])) as other:
        target = other.url.replace("127.0.0.1", "localhost")

        def script(n: int, seen: Seen) -> Reply:
            return Reply(302, b"", {"Location": target + seen.path + "?page=1"})

        with FaultServer(script) as server, client_for(server) as client:
            assert client.events("example", "all") == []
    assert server.seen[0].auth_header == f"Bearer {KEY}"
    assert other.seen and not any(s.authorization for s in other.seen)


def test_redirect_on_the_same_origin_keeps_the_key() -> None:
    def script(n: int, seen: Seen) -> Reply:
        if seen.path.startswith("/events"):
            return Reply(307, b"", {"Location": "/moved" + seen.path})
        return bookings([])

    with FaultServer(script) as server, client_for(server) as client:
        assert client.events("example", "all") == []
    assert [s.authorization for s in server.seen] == [True, True]


def test_endless_redirects_end() -> None:
    with FaultServer(lambda n, s: Reply(302, b"", {"Location": f"/r{n}"})) as server:
        with client_for(server) as client, pytest.raises(UnexpectedResponseError) as info:
            client.events("example", "all")
    assert "redirected more than" in str(info.value)
    assert len(server.seen) == 6


def test_plain_http_to_another_computer_is_refused_before_sending() -> None:
    with SheepClient(api_key=KEY, base_url="http://sheep.example.invalid") as client:
        with pytest.raises(InsecureTransportError) as info:
            client.events("example", "all")
    assert "allow_insecure_http = true" in str(info.value)
    assert info.value.exit_code == 2


def test_allow_insecure_http_lets_a_test_rig_through() -> None:
    settings = Settings(allow_insecure_http=True)
    with SheepClient(
        api_key=KEY, base_url="http://sheep.example.invalid", settings=settings, retries=0, **FAST
    ) as client:
        with pytest.raises(NetworkError):  # it tried: no such host
            client.events("example", "all")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://127.9.9.9", True),
        ("http://[::1]:8765", True),
        ("http://localhost:1", True),
        ("http://LOCALHOST.", True),
        ("http://10.0.0.1", False),
        ("http://127.0.0.1.example.com", False),
        ("http://sheep.example", False),
    ],
)
def test_loopback_addresses(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_same_origin() -> None:
    assert same_origin("https://a.example/x", "https://a.example:443/y")
    assert not same_origin("https://a.example", "http://a.example")
    assert not same_origin("https://a.example", "https://b.example")
    assert not same_origin("http://127.0.0.1:1", "http://127.0.0.1:2")


def test_credentials_in_the_api_address_are_never_shown() -> None:
    with FaultServer(lambda n, s: Reply()) as server:
        port = server.url.rsplit(":", 1)[1]
    url = f"http://sheepuser:hunter2-secret@127.0.0.1:{port}"
    with SheepClient(api_key=KEY, base_url=url, retries=0, **FAST) as client:
        with pytest.raises(NetworkError) as info:
            client.events("example", "all")
    assert "hunter2-secret" not in str(info.value) and "sheepuser" not in str(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)


def test_redact() -> None:
    remember_secret("abcdef-1234567")
    assert redact("key abcdef-1234567 and abcdef-1234567") == "key *** and ***"
    assert redact("https://u:p@host/x and ftp://me@h") == "https://***@host/x and ftp://***@h"
    remember_secret("a/b+c=d-long")
    assert redact("q=a%2Fb%2Bc%3Dd-long") == "q=***"
    remember_secret("k")  # too short to be a key: never masked
    assert redact("keep") == "keep"


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('read_timeout = "fast"', ['read_timeout = "fast"', "a number of seconds above 0"]),
        ("retries = -1", ["retries = -1", "a whole number from 0 to 20"]),
        ("retries = 2.5", ["retries = 2.5", "a whole number"]),
        ("page_size = 0", ["page_size = 0", "from 1 to 5,000"]),
        ("api_url = 5", ["api_url = 5", "a text in quotes"]),
        ('api_url = "ftp://x"', ["api_url", "an http(s) address"]),
        ("connect_timeout = nan", ["connect_timeout = nan"]),
        ("allow_insecure_http = 1", ["allow_insecure_http = 1", "true or false"]),
        ("max_response_bytes = 10", ["max_response_bytes = 10", "from 1,024"]),
        ("request_deadline = 0", ["request_deadline = 0", "above 0"]),
    ],
)
def test_bad_settings_are_named_when_loaded(tmp_path, monkeypatch, line, words) -> None:
    monkeypatch_config(monkeypatch, tmp_path, line + "\n")
    with pytest.raises(SettingsError) as info:
        load_settings()
    for word in words:
        assert word in str(info.value)
    assert str(tmp_path) in str(info.value)
    assert "\n" not in str(info.value)


def test_every_setting_has_a_rule_and_its_default_passes_it() -> None:
    from dataclasses import fields

    assert set(RULES) == {f.name for f in fields(Settings)}
    for name, rule in RULES.items():
        assert rule.accepts(getattr(Settings, name)), name


def test_good_settings_load(tmp_path, monkeypatch) -> None:
    monkeypatch_config(
        monkeypatch,
        tmp_path,
        'read_timeout = 5\nretries = 0\napi_url = "https://x.example/"\n'
        "allow_insecure_http = true\nrequest_deadline = 30.5\n",
    )
    settings = load_settings()
    assert settings.read_timeout == 5.0 and isinstance(settings.read_timeout, float)
    assert settings.retries == 0 and settings.allow_insecure_http
    assert settings.api_url == "https://x.example" and settings.request_deadline == 30.5


# --- the API key ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "what"),
    [
        ("abc\r\nX-Injected: 1", "a line break at position 4"),
        ("abc def", "a space at position 4"),
        ("abc\tdef", "a space at position 4"),
        ("abc€def", "a non-ASCII character (U+20AC) at position 4"),
        ("abcédef", "a non-ASCII character (U+00E9)"),
        ("abc\x00def", "a control character (U+0000)"),
        ("x" * 5000, "5,000 characters long"),
    ],
)
def test_keys_a_header_cannot_carry_are_refused(key: str, what: str) -> None:
    with pytest.raises(InvalidApiKeyError) as info:
        validate_api_key(key)
    assert what in str(info.value)
    assert key.strip() not in str(info.value)
    assert info.value.exit_code == 3


def test_surrounding_whitespace_is_not_part_of_the_key() -> None:
    assert validate_api_key("  abc-DEF_123.~+/=\n") == "abc-DEF_123.~+/="


def test_bad_key_in_the_environment_is_refused_before_any_request(monkeypatch) -> None:
    monkeypatch.setenv(ENV_API_KEY, "abc def")
    with FaultServer(lambda n, s: bookings([])) as server:
        with SheepClient(base_url=server.url, **FAST) as client:
            with pytest.raises(InvalidApiKeyError, match="SHEEP_API_KEY"):
                client.events("example", "all")
    assert server.seen == []


def test_bad_key_in_the_credential_store_is_refused(isolated_settings) -> None:
    url = "https://sls-api.sheepcrm.com"
    isolated_settings.passwords[("sheep-xl", "sls-api.sheepcrm.com")] = "abc\ndef"
    with pytest.raises(InvalidApiKeyError, match="credential store"):
        resolve_api_key(url)
    with pytest.raises(InvalidApiKeyError):
        store_key(url, "abc\ndef")


def test_a_rejected_key_message_never_holds_the_key() -> None:
    with FaultServer(lambda n, s: Reply(401, {"description": s.auth_header})) as server:
        with client_for(server) as client, pytest.raises(ApiKeyRejectedError) as info:
            client.events("example", "all")
    assert KEY not in str(info.value)


def test_page_size_rule_matches_the_request_check() -> None:
    from sheep_xl.api.validation import MAX_PAGE_SIZE

    assert RULES["page_size"].high == MAX_PAGE_SIZE
