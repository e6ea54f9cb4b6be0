"""Inside each event over real HTTP: the client's per-event methods, the pacer, and one part of
many events under a rate limit, on a simulated clock so minutes of limits take milliseconds."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sheep_xl.api.client import SheepClient
from sheep_xl.api.pacing import RatePacer, SimulatedClock
from sheep_xl.api.per_event import fetch_event_part, fetch_per_event
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DOCUMENTED_LIMITS, DemoServer, RateLimits
from sheep_xl.exceptions import (
    ApiKeyRejectedError,
    InputError,
    NotFoundError,
    ServerError,
    UnexpectedResponseError,
)

TODAY = dt.date(2026, 11, 24)
ZURICH = "2bb96d6b308e1412b04361b0"


def fifty_events() -> list[dict[str, Any]]:
    """Fifty events that each list on their own (no series), so ``all`` gives all fifty."""
    return [r for r in demo_events(TODAY) if not r.get("series_id")][:50]


@pytest.fixture
def limited() -> Iterator[tuple[DemoServer, SimulatedClock]]:
    """A demo server allowing 60 requests a minute, on a simulated clock shared with the client."""
    clock = SimulatedClock(1_000_030.0)  # half way through a minute
    with DemoServer(
        today=TODAY,
        buckets={"example": fifty_events()},
        rate_limits=RateLimits(per_minute=60, per_hour=None),
        clock=clock,
    ) as server:
        yield server, clock


def client_for(server: DemoServer, clock: SimulatedClock | None = None) -> SheepClient:
    if clock is None:
        return SheepClient(api_key=DEMO_API_KEY, base_url=server.url, backoff_base=0.01)
    return SheepClient(
        api_key=DEMO_API_KEY, base_url=server.url, sleep=clock.sleep, clock=clock, backoff_base=0.01
    )


# --- the client's methods ----------------------------------------------------------------------


def test_each_part_of_one_event(demo_client: SheepClient, demo: DemoServer) -> None:
    full = demo_client.event("example", ZURICH)
    assert full["title"] == "Zürich study tour" and "timing_notes" in full
    attendance = demo_client.event_attendance("example", ZURICH)
    assert len(attendance["sessions"]) == full["total_stock_allocated"]
    orders = demo_client.event_orders("example", ZURICH)
    assert orders["number_of_orders"] == len(orders["buyers"])
    tickets = demo_client.event_tickets("example", ZURICH)
    assert len(tickets["tickets"]) >= len(attendance["sessions"])
    types = demo_client.event_available_tickets("example", ZURICH)
    assert [t["name"] for t in types["available_tickets"]] == list(full["ticket_types"])
    paths = [r.path for r in demo.requests]
    assert paths == [
        f"/events/v2/example/booking/{ZURICH}",
        f"/events/v2/example/booking/{ZURICH}/attendance/all",
        f"/events/v2/example/booking/{ZURICH}/orders",
        f"/events/v2/example/booking/{ZURICH}/tickets/all",
        f"/events/v2/example/booking/{ZURICH}/available_tickets",
    ]


def test_bad_input_sends_nothing(demo_client: SheepClient, demo: DemoServer) -> None:
    with pytest.raises(InputError, match="uid"):
        demo_client.event_orders("example", "../all")
    with pytest.raises(InputError, match="bucket"):
        demo_client.event_tickets("ex ample", ZURICH)
    with pytest.raises(InputError, match="attendees, orders"):
        demo_client.event_part("example", ZURICH, "guests")
    assert len(demo.requests) == 0


def test_unknown_uid_is_not_found(demo_client: SheepClient) -> None:
    with pytest.raises(NotFoundError, match=r"'000000000000000000000000'.*HTTP 404"):
        demo_client.event_attendance("example", "0" * 24)


def test_a_rejected_key_is_the_usual_error(demo: DemoServer) -> None:
    with SheepClient(api_key="wrong-key-123", base_url=demo.url) as client:
        with pytest.raises(ApiKeyRejectedError, match="sheep-xl login"):
            client.event_orders("example", ZURICH)


def test_an_answer_of_the_wrong_shape_names_the_event() -> None:
    records = [{"uid": ZURICH, "title": "x", "start_date": "2026-11-30"}]
    with DemoServer(today=TODAY, buckets={"example": records}) as server:
        server.ledger("example", ZURICH)  # built from a record without ticket types: empty
        with client_for(server) as client:
            assert client.event_attendance("example", ZURICH)["sessions"] == []
    from sheep_xl.api.event_parts import PARTS, check_part_body

    with pytest.raises(UnexpectedResponseError, match=f"attendees of event '{ZURICH}'"):
        check_part_body({"sessions": {"a": 1}}, PARTS["attendees"], "h", ZURICH)
    with pytest.raises(UnexpectedResponseError, match="Item 2"):
        check_part_body({"tickets": [{}, 3]}, PARTS["tickets"], "h", ZURICH)
    assert check_part_body({"buyers": None}, PARTS["orders"], "h", ZURICH) == {"buyers": None}


def test_one_event_part_carries_its_event(demo_client: SheepClient, demo: DemoServer) -> None:
    result = fetch_event_part(demo_client, "example", ZURICH, "orders")
    assert result.event["uid"] == ZURICH and "buyers" in result.body
    assert len(demo.requests) == 1, "the orders answer holds the event"
    types = fetch_event_part(demo_client, "example", ZURICH, "ticket-types")
    assert types.event["title"] == "Zürich study tour"
    assert len(demo.requests) == 3, "the ticket types answer has no event: fetched on its own"


# --- the pacer ---------------------------------------------------------------------------------


def test_the_pacer_never_spends_below_zero_and_waits_for_the_reset() -> None:
    clock = SimulatedClock()
    pacer = RatePacer(clock=clock, sleep=clock.sleep, margin=0.0)
    pacer.acquire()  # the first request learns the budget
    pacer.observe(
        {"x-rate-limit-remaining": "2", "x-rate-limit-reset": "30", "x-rate-limit-limit": "3"}
    )
    pacer.release()
    for _ in range(2):
        pacer.acquire()
    assert pacer.in_flight == 2 and clock() == 0
    pacer.release()
    pacer.release()
    pacer.acquire()  # nothing left: sleeps until the reset, then the limit is the budget
    assert clock() == 30 and pacer.waits == 1 and pacer.remaining == 3 - 1  # one just spent


def test_a_429_empties_the_budget_until_retry_after() -> None:
    clock = SimulatedClock()
    pacer = RatePacer(clock=clock, sleep=clock.sleep, margin=0.5)
    pacer.observe({"x-rate-limit-remaining": "50", "x-rate-limit-reset": "40"})
    pacer.observe({"Retry-After": "7", "x-rate-limit-remaining": "0"}, 429)
    assert pacer.remaining == 0 and pacer.rate_limited == 1
    pacer.acquire()
    assert clock() == pytest.approx(40.5)


def test_an_epoch_reset_is_read_as_a_time() -> None:
    clock = SimulatedClock()
    pacer = RatePacer(clock=clock, sleep=clock.sleep, wall=lambda: 1_700_000_000.0, margin=0)
    pacer.observe({"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1700000012"})
    pacer.acquire()
    assert clock() == 12


def test_waiting_threads_do_not_sleep_twice() -> None:
    """Only one thread sleeps for a reset, so a simulated clock moves as a real one would."""
    clock = SimulatedClock()
    pacer = RatePacer(clock=clock, sleep=clock.sleep, margin=0.0)
    pacer.observe({"x-rate-limit-remaining": "0", "x-rate-limit-reset": "60"})
    threads = [threading.Thread(target=pacer.slot().__enter__) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert clock() == 60 and pacer.waits == 1


# --- many events under a rate limit -------------------------------------------------------------


def test_fifty_events_at_sixty_a_minute(limited: tuple[DemoServer, SimulatedClock]) -> None:
    server, clock = limited
    seen: list[tuple[int, int, str]] = []
    waits: list[float] = []
    pacer = RatePacer(clock=clock, sleep=clock.sleep)
    for part in ("attendees", "orders", "tickets", "ticket-types", "event"):
        with client_for(server, clock) as client:
            result = fetch_per_event(
                client,
                "example",
                part,
                state="all",
                progress=lambda *a: seen.append(a),
                pacer=pacer,
                on_wait=waits.append,
            )
        assert result.failures == [] and result.total == 50
        assert [r.event["uid"] for r in result.results] == [
            r["uid"] for r in sorted(fifty_events(), key=lambda r: (r["start_datetime"], r["uid"]))
        ], "in the listing's order"
        for item in result.results:
            if part == "attendees":
                assert len(item.body["sessions"]) == (item.event.get("total_stock_allocated") or 0)
    assert server.throttled == 0, "the pacing kept every request within the limit"
    assert pacer.rate_limited == 0 and pacer.lowest_remaining == 0
    assert [s[:2] for s in seen[:3]] == [(1, 50), (2, 50), (3, 50)]
    assert len(seen) == 250 and all(isinstance(s[2], str) for s in seen)
    # 255 requests at 60 a minute, starting half way through a minute: four resets at least
    assert len(waits) >= 4 and clock() >= 1_000_030 + 30 + 3 * 60


def test_without_pacing_the_limit_is_met_and_retried() -> None:
    """Guard the guard: the same run with a pacer that never waits meets 429s (the client retries
    them, honouring Retry-After on the same clock)."""

    class Reckless(RatePacer):
        def acquire(self) -> None:
            self.requests += 1

    clock = SimulatedClock()
    with DemoServer(
        today=TODAY,
        buckets={"example": fifty_events()},
        rate_limits=RateLimits(per_minute=20, per_hour=None),
        clock=clock,
    ) as server:
        with client_for(server, clock) as client:
            result = fetch_per_event(
                client, "example", "orders", state="all", pacer=Reckless(), concurrency=1
            )
    assert server.throttled > 0 and result.failures == []


def test_one_failing_event_is_reported_and_the_rest_kept() -> None:
    events = fifty_events()
    broken = events[7]
    clock = SimulatedClock()
    with DemoServer(
        today=TODAY,
        buckets={"example": events},
        rate_limits=DOCUMENTED_LIMITS,
        clock=clock,
        fail_uids={broken["uid"]},
    ) as server:
        with client_for(server, clock) as client:
            result = fetch_per_event(
                client,
                "example",
                "attendees",
                state="all",
                pacer=RatePacer(clock=clock, sleep=clock.sleep),
            )
    assert len(result.results) == 49
    (failure,) = result.failures
    assert (failure.uid, failure.title) == (broken["uid"], broken["title"])
    assert "HTTP 500" in failure.message and failure.exit_code == 4
    assert isinstance(failure.error, ServerError)
    assert broken["title"] in str(failure) and broken["uid"] in str(failure)


def test_a_rejected_key_stops_the_run_at_once(demo: DemoServer) -> None:
    events = fifty_events()
    with SheepClient(api_key="wrong-key-123", base_url=demo.url) as client:
        with pytest.raises(ApiKeyRejectedError):
            fetch_per_event(client, "example", "orders", events=events)
    assert len(demo.requests) <= 5, "the first, and at most the others already on their way"


def test_input_is_checked_before_any_request(demo_client: SheepClient, demo: DemoServer) -> None:
    for kwargs in (
        {"part": "guests", "state": "all"},
        {"part": "orders", "state": "confirmed-ish"},
        {"part": "orders"},
        {"part": "orders", "state": "all", "concurrency": 0},
    ):
        with pytest.raises(InputError):
            fetch_per_event(demo_client, "example", **kwargs)
    assert len(demo.requests) == 0
