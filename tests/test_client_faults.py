"""The client against a local server that misbehaves: every case ends quickly, in correct data
or in one clear error, never a hang or duplicated rows."""

from __future__ import annotations

import time

import pytest
from support.faultserver import FaultServer, Reply, Seen, bookings, events

from sheep_xl.api.client import SheepClient
from sheep_xl.exceptions import (
    ApiTimeoutError,
    BadRequestError,
    NetworkError,
    PagingError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)

FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "read_timeout": 1.0, "connect_timeout": 1.0}


def client_for(server: FaultServer, **kwargs) -> SheepClient:
    return SheepClient(api_key="k", base_url=server.url, **{**FAST, **kwargs})


def pages_of(total: int, size: int):
    """A well-behaved paging script over ``total`` events."""

    def script(_n: int, seen: Seen) -> Reply:
        page = int(seen.query.get("page", 1))
        start = (page - 1) * size
        return bookings(events(start, max(0, min(size, total - start))))

    return script


@pytest.fixture(autouse=True)
def time_limit():
    started = time.monotonic()
    yield
    assert time.monotonic() - started < 15, "a fault test must end quickly"


def test_429_with_retry_after_then_success() -> None:
    delays: list[float] = []

    def script(n: int, seen: Seen) -> Reply:
        if n == 1:
            return Reply(429, {"error": "Too many"}, {"Retry-After": "1"})
        return pages_of(3, 250)(n, seen)

    with FaultServer(script) as server, client_for(server, sleep=delays.append) as client:
        rows = client.events("example", "all")
    assert [r["uid"] for r in rows] == ["e00000", "e00001", "e00002"]
    assert len(delays) == 1 and 1.0 <= delays[0] <= 1.1, "Retry-After is honoured"


def test_rate_limit_reset_header_is_honoured() -> None:
    delays: list[float] = []

    def script(n: int, seen: Seen) -> Reply:
        if n == 1:
            return Reply(429, {}, {"x-rate-limit-reset": "2", "x-rate-limit-remaining": "0"})
        return pages_of(1, 250)(n, seen)

    with FaultServer(script) as server, client_for(server, sleep=delays.append) as client:
        assert len(client.events("example", "all")) == 1
    assert 2.0 <= delays[0] <= 2.1


def test_429_for_too_long_gives_a_clear_error() -> None:
    with FaultServer(lambda n, s: Reply(429, {}, {"Retry-After": "3600"})) as server:
        with client_for(server) as client, pytest.raises(RateLimitedError) as info:
            client.events("example", "all")
    assert "HTTP 429" in str(info.value) and "3600 seconds" in str(info.value)
    assert len(server.seen) == 1, "no point retrying before the server's own wait"


def test_503_twice_then_success() -> None:
    def script(n: int, seen: Seen) -> Reply:
        if n <= 2:
            return Reply(503, "<html>Service Unavailable</html>", {"Content-Type": "text/html"})
        return pages_of(600, 250)(n, seen)

    with FaultServer(script) as server, client_for(server) as client:
        rows = client.events("example", "all")
    assert len(rows) == 600 and len({r["uid"] for r in rows}) == 600
    assert len(server.seen) == 2 + 3 + 1, "two 503s, three pages, one empty page to confirm"


def test_server_errors_exhaust_retries() -> None:
    with FaultServer(lambda n, s: Reply(502, "bad gateway")) as server:
        with client_for(server, retries=2) as client, pytest.raises(ServerError) as info:
            client.events("example", "all")
    assert len(server.seen) == 3
    assert "HTTP 502" in str(info.value) and "after 3 attempts" in str(info.value)


def test_500_is_not_retried() -> None:
    body = {"error": "Internal", "description": "database exploded", "type": "server"}
    with FaultServer(lambda n, s: Reply(500, body)) as server:
        with client_for(server) as client, pytest.raises(ServerError, match="database exploded"):
            client.events("example", "all")
    assert len(server.seen) == 1


def test_400_shows_the_servers_description() -> None:
    body = {"error": "Bad request", "description": "page_size too large", "type": "bad_request"}
    with FaultServer(lambda n, s: Reply(400, body)) as server:
        with client_for(server) as client, pytest.raises(BadRequestError) as info:
            client.events("example", "all")
    assert "page_size too large" in str(info.value)
    assert len(server.seen) == 1


def test_read_timeout() -> None:
    with FaultServer(lambda n, s: Reply(200, {"bookings": []}, delay=1.0)) as server:
        with client_for(server, read_timeout=0.2, retries=1) as client:
            with pytest.raises(ApiTimeoutError) as info:
                client.events("example", "all")
    assert "127.0.0.1" in str(info.value), "the error names the host"
    assert len(server.seen) == 2


def test_read_timeout_then_success() -> None:
    def script(n: int, seen: Seen) -> Reply:
        reply = pages_of(5, 250)(n, seen)
        reply.delay = 0.6 if n == 1 else 0.0
        return reply

    with FaultServer(script) as server, client_for(server, read_timeout=0.3) as client:
        assert len(client.events("example", "all")) == 5


def test_connection_dropped_mid_body_then_success() -> None:
    def script(n: int, seen: Seen) -> Reply:
        reply = pages_of(300, 250)(n, seen)
        if n == 1:
            reply.cut_after = 40
        return reply

    with FaultServer(script) as server, client_for(server) as client:
        rows = client.events("example", "all")
    assert len(rows) == 300 and len({r["uid"] for r in rows}) == 300


def test_connection_always_dropped() -> None:
    def script(n: int, seen: Seen) -> Reply:
        reply = bookings(events(0, 10))
        reply.cut_after = 20
        return reply

    with FaultServer(script) as server:
        with client_for(server, retries=1) as client, pytest.raises(NetworkError) as info:
            client.events("example", "all")
    assert "broke while receiving" in str(info.value) or "Could not reach" in str(info.value)


def test_nothing_listening() -> None:
    with FaultServer(lambda n, s: Reply()) as server:
        url = server.url
    with SheepClient(api_key="k", base_url=url, retries=1, **FAST) as client:
        with pytest.raises(NetworkError) as info:
            client.events("example", "all")
    assert "127.0.0.1" in str(info.value)


def test_200_that_is_not_json() -> None:
    html = "<html><body>Please log in to the corporate proxy</body></html>"
    with FaultServer(lambda n, s: Reply(200, html, {"Content-Type": "text/html"})) as server:
        with client_for(server) as client, pytest.raises(UnexpectedResponseError) as info:
            client.events("example", "all")
    assert "text/html instead of JSON" in str(info.value)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"bookings": "x"}, "'bookings' as str"),
        ({"events": []}, "no 'bookings' list"),
        ([1, 2], "no 'bookings' list"),
        ({"bookings": [{"uid": "a"}, 7]}, "Event 2 on page 1"),
    ],
)
def test_wrong_shapes(body, words) -> None:
    with FaultServer(lambda n, s: Reply(200, body)) as server:
        with client_for(server) as client, pytest.raises(UnexpectedResponseError) as info:
            client.events("example", "all")
    assert words in str(info.value)
    assert len(server.seen) == 1, "a bad shape is not retried"


def test_server_that_ignores_page_is_detected() -> None:
    with FaultServer(lambda n, s: bookings(events(0, 7))) as server:
        with client_for(server) as client, pytest.raises(PagingError) as info:
            client.events("example", "all", page_size=7)
    assert "ignore paging" in str(info.value)
    assert len(server.seen) == 2, "detected on the second page"


def test_endless_server_hits_the_page_limit() -> None:
    def script(n: int, seen: Seen) -> Reply:
        page = int(seen.query["page"])
        return bookings(events(page * 10, 10))  # always a full page of new events

    with FaultServer(script) as server:
        with client_for(server, max_pages=5) as client, pytest.raises(PagingError) as info:
            client.events("example", "all", page_size=10)
    assert "more than 5 pages" in str(info.value)
    assert len(server.seen) == 5


def test_shifted_listing_keeps_one_copy() -> None:
    """An event inserted while paging shifts the next page by one: the repeat is dropped."""

    def script(n: int, seen: Seen) -> Reply:
        page = int(seen.query["page"])
        if page == 1:
            return bookings(events(0, 5))
        return bookings(events(4, 3))  # e00004 again, then two new ones; a short page

    with FaultServer(script) as server, client_for(server) as client:
        rows = client.events("example", "all", page_size=5)
    assert [r["uid"] for r in rows] == [f"e{n:05d}" for n in range(7)]
