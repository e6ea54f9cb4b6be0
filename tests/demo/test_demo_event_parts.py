"""The demo server inside each event: attendees, orders, tickets, ticket types and the full
event, against the official spec's response schemas and against the events listing; and its
rate limiter and failing events."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from sheep_xl.api.pacing import SimulatedClock
from sheep_xl.demo.data import DEMO_BUCKET, demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer, RateLimits

TODAY = date(2026, 11, 24)
TIMEOUT = 10
BASE = "/events/v2/{bucket}/booking/{uid}"
PATHS = {
    "attendance": BASE + "/attendance",
    "attendance/all": BASE + "/attendance/all",
    "orders": BASE + "/orders",
    "tickets/all": BASE + "/tickets/all",
    "available_tickets": BASE + "/available_tickets",
}
CONFERENCE = "f1ed22b99d9152bb41a82b05"  # Annual Conference: GBP, EUR and USD ticket types
ZURICH = "2bb96d6b308e1412b04361b0"  # Zürich study tour: CHF and EUR


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return demo_events(TODAY)


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(today=TODAY) as running:
        yield running


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {DEMO_API_KEY}"
        yield s


def _get(session: requests.Session, server: DemoServer, part: str, uid: str) -> Any:
    url = server.url + PATHS[part].format(bucket=DEMO_BUCKET, uid=uid)
    response = session.get(url, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def answers(
    server: DemoServer, session: requests.Session, events: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Every part of every event, once: uid -> part -> body."""
    out: dict[str, dict[str, Any]] = {}
    for record in events:
        uid = record["uid"]
        out[uid] = {p: _get(session, server, p, uid) for p in PATHS if p != "attendance"}
    return out


# --- the spec ---------------------------------------------------------------------------------


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    oas = pytest.importorskip("openapi_schema_validator")
    return oas.OAS30Validator({**schema, "components": spec["components"]})


def _response_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    return spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def _without_nulls(value: Any) -> Any:
    """The spec declares nothing nullable (see test_demo_server): nulls are read as absent."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _errors(validator: Any, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


@pytest.mark.parametrize("part", sorted(PATHS))
def test_every_part_of_every_event_validates_against_the_spec(
    openapi_spec: dict[str, Any],
    server: DemoServer,
    session: requests.Session,
    answers: dict[str, dict[str, Any]],
    part: str,
) -> None:
    validator = _validator(openapi_spec, _response_schema(openapi_spec, PATHS[part]))
    uids = list(answers)
    if part in ("attendance", "attendance/all", "tickets/all"):
        # thousands of items from one generator: every third event and the multi-currency ones
        uids = sorted(set(uids[::3]) | {CONFERENCE, ZURICH})
    for uid in uids:
        body = answers[uid].get(part) or _get(session, server, part, uid)
        assert _errors(validator, _without_nulls(body)) == [], (part, uid)


def test_the_validator_catches_wrong_types(openapi_spec: dict[str, Any]) -> None:
    """Guard the guard: a wrong type in each new schema fails."""
    cases = {
        "attendance/all": {"sessions": [{"guest": "yes"}]},
        "orders": {"number_of_orders": "3"},
        "tickets/all": {"tickets": [{"amount": "12.50"}]},
        "available_tickets": {"available_tickets": [{"amount": 12.5}]},  # a number as string
    }
    for part, body in cases.items():
        validator = _validator(openapi_spec, _response_schema(openapi_spec, PATHS[part]))
        assert _errors(validator, body), part
    # the quirk the demo follows: currency codes are lower case in the spec's enum
    tickets = _validator(openapi_spec, _response_schema(openapi_spec, PATHS["tickets/all"]))
    assert _errors(tickets, {"tickets": [{"currency": "GBP"}]})
    assert _errors(tickets, {"tickets": [{"currency": "gbp"}]}) == []


def test_the_spec_documents_these_operations(openapi_spec: dict[str, Any]) -> None:
    ops = {
        path: openapi_spec["paths"][path]["get"]["operationId"] for path in (*PATHS.values(), BASE)
    }
    assert ops == {
        BASE: "getEvent",
        PATHS["attendance"]: "getEventAttendance",
        PATHS["attendance/all"]: "getEventAttendanceAll",
        PATHS["orders"]: "getEventOrders",
        PATHS["tickets/all"]: "getEventTicketsAll",
        PATHS["available_tickets"]: "getEventAvailableTickets",
    }


# --- consistency with the listing --------------------------------------------------------------


def test_attendees_match_allocations(
    events: list[dict[str, Any]], answers: dict[str, dict[str, Any]]
) -> None:
    for record in events:
        sessions = answers[record["uid"]]["attendance/all"]["sessions"]
        assert len(sessions) == (record.get("total_stock_allocated") or 0), record["title"]
        by_type = Counter(s["ticket"] for s in sessions)
        for name, info in (record.get("ticket_types") or {}).items():
            assert by_type[name] == info["allocated"]


def test_order_totals_match_ticket_income_per_currency(
    events: list[dict[str, Any]], answers: dict[str, dict[str, Any]]
) -> None:
    for record in events:
        body = answers[record["uid"]]["orders"]
        totals: dict[str, float] = defaultdict(float)
        for order in body["buyers"].values():
            for currency, amounts in order["order_total"].items():
                totals[currency] += amounts["total"]
                assert amounts["paid"] + amounts["outstanding"] == pytest.approx(amounts["total"])
                assert amounts["fully_paid"] is (amounts["outstanding"] == 0)
        income: dict[str, float] = defaultdict(float)
        for name, info in (record.get("ticket_types") or {}).items():
            income[info["currency"].lower()] += record["ticket_type_income"][name]
        for currency in set(totals) | set(income):
            assert totals[currency] == pytest.approx(income[currency], abs=0.005), record["title"]
        assert body["number_of_orders"] == len(body["buyers"])
        unpaid = sum(
            any(t["outstanding"] > 0 for t in o["order_total"].values())
            for o in body["buyers"].values()
        )
        assert body["number_of_unpaid_orders"] == unpaid


def test_the_data_has_what_a_client_meets(answers: dict[str, dict[str, Any]]) -> None:
    sessions = [s for a in answers.values() for s in a["attendance/all"]["sessions"]]
    orders = [o for a in answers.values() for o in a["orders"]["buyers"].values()]
    tickets = [t for a in answers.values() for t in a["tickets/all"]["tickets"]]
    assert any(s["guest"] for s in sessions) and not all(s["guest"] for s in sessions)
    assert all("guest_ref" in s for s in sessions if s["guest"])
    assert {s["status"] for s in sessions} >= {"accepted", "attended", "no-show"}
    names = {s["attendee_name"] for s in sessions}
    assert any(not n.isascii() for n in names)
    assert any("'" in n for n in names)
    assert sum(any(t["outstanding"] > 0 for t in o["order_total"].values()) for o in orders) > 50
    assert any(len(o["order_total"]) >= 2 for o in orders), "orders paid in two currencies"
    assert any(t["processing_fees"] > 0 for o in orders for t in o["order_total"].values())
    cancelled = [t for t in tickets if t["record_state"] == "cancelled"]
    assert len(cancelled) > 10
    assert {t["record_state"] for t in tickets} == {"active", "cancelled"}
    ticket_uris = {t["uri"] for t in tickets}
    assert all(s["ticket_ref"] in ticket_uris for s in sessions)
    # attendees' emails are addresses sheep-xl can write without changing them
    assert all(s["attendee_email"].isascii() and "@" in s["attendee_email"] for s in sessions)


def test_several_currencies_on_a_few_events(answers: dict[str, dict[str, Any]]) -> None:
    for uid, expected in ((CONFERENCE, {"gbp", "eur", "usd"}), (ZURICH, {"chf", "eur"})):
        orders = answers[uid]["orders"]["buyers"].values()
        assert set().union(*(o["order_total"] for o in orders)) == expected
        assert {t["currency"] for t in answers[uid]["available_tickets"]["available_tickets"]} == (
            expected
        )
    multi = [
        u
        for u, a in answers.items()
        if len({t["currency"] for t in a["tickets/all"]["tickets"]}) > 1
    ]
    assert 2 <= len(multi) <= 5


def test_ticket_types_match_the_listing(
    events: list[dict[str, Any]], answers: dict[str, dict[str, Any]]
) -> None:
    for record in events:
        items = answers[record["uid"]]["available_tickets"]["available_tickets"]
        types = record.get("ticket_types") or {}
        assert [i["name"] for i in items] == [t["name"] for t in types.values()]
        for item, listed in zip(items, types.values(), strict=True):
            assert float(item["amount"]) == listed["price"]
            assert item["allocated"] == listed["allocated"]
        if "total_stock_available" in record and items:
            left = sum(i["available"] + i["reserved"] for i in items)
            assert left == record["total_stock_available"]
            assert sum(i["total"] for i in items) == record["total_stock"]


def test_every_part_names_its_event(
    events: list[dict[str, Any]], answers: dict[str, dict[str, Any]]
) -> None:
    for record in events[:40]:
        for part in ("attendance/all", "orders", "tickets/all"):
            body = answers[record["uid"]][part]
            assert body["booking_uri"] == record["uri"]
            assert body["booking"]["uid"] == record["uid"]


def test_the_full_event_is_richer_than_the_listing(
    server: DemoServer, session: requests.Session, events: list[dict[str, Any]]
) -> None:
    planning = {"timing_notes", "setup_notes", "catering", "dietary_requirements"}
    money = {"invoice_status", "invoice_total", "balance", "start_sales_date"}
    seen: set[str] = set()
    for record in events:
        url = server.url + BASE.format(bucket=DEMO_BUCKET, uid=record["uid"])
        full = session.get(url, timeout=TIMEOUT).json()
        assert {k: full[k] for k in record} == record
        seen |= set(full) - set(record)
    assert planning | money <= seen


def test_the_attendance_alias_and_the_plural_alias(
    server: DemoServer, session: requests.Session
) -> None:
    one = _get(session, server, "attendance", ZURICH)
    assert one == _get(session, server, "attendance/all", ZURICH)
    plural = f"{server.url}/events/v2/{DEMO_BUCKET}/bookings/{ZURICH}/attendance"
    assert session.get(plural, timeout=TIMEOUT).json() == one


def test_unknown_uid_is_404_on_every_part(server: DemoServer, session: requests.Session) -> None:
    for path in PATHS.values():
        response = session.get(
            server.url + path.format(bucket=DEMO_BUCKET, uid="0" * 24), timeout=TIMEOUT
        )
        assert response.status_code == 404
        assert response.json()["type"] == "not_found"


# --- the rate limit and failing events ----------------------------------------------------------


def test_the_rate_limit_answers_429_with_its_headers() -> None:
    clock = SimulatedClock(600.0)  # the start of a minute
    with DemoServer(today=TODAY, rate_limits=RateLimits(3, 5), clock=clock) as server:
        url = server.url + PATHS["orders"].format(bucket=DEMO_BUCKET, uid=ZURICH)
        auth = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        first = [requests.get(url, headers=auth, timeout=TIMEOUT) for _ in range(3)]
        assert [r.headers["x-rate-limit-remaining"] for r in first] == ["2", "1", "0"]
        assert all(r.headers["x-rate-limit-limit"] == "3" for r in first)
        assert first[0].headers["x-rate-limit-reset"] == "60"
        over = requests.get(url, headers=auth, timeout=TIMEOUT)
        assert over.status_code == 429
        assert over.json()["type"] == "rate_limited"
        assert over.headers["Retry-After"] == "60"
        assert over.headers["x-rate-limit-remaining"] == "0"
        clock.sleep(60)  # the next minute: two more, then the hour's 5 are used
        again = [requests.get(url, headers=auth, timeout=TIMEOUT) for _ in range(3)]
        assert [r.status_code for r in again] == [200, 200, 429]
        assert again[1].headers["x-rate-limit-limit"] == "5"  # the tighter window now
        assert int(again[2].headers["Retry-After"]) == 3600 - 660
        assert server.throttled == 2


def test_without_limits_nothing_is_refused(server: DemoServer, session: requests.Session) -> None:
    url = server.url + PATHS["available_tickets"].format(bucket=DEMO_BUCKET, uid=ZURICH)
    statuses = {session.get(url, timeout=TIMEOUT).status_code for _ in range(50)}
    assert statuses == {200}
    assert server.throttled == 0


def test_a_failing_uid_fails_every_part_and_only_it() -> None:
    with DemoServer(today=TODAY, fail_uids={ZURICH}) as server:
        auth = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        for path in (BASE, *PATHS.values()):
            bad = requests.get(
                server.url + path.format(bucket=DEMO_BUCKET, uid=ZURICH), headers=auth
            )
            good = requests.get(
                server.url + path.format(bucket=DEMO_BUCKET, uid=CONFERENCE), headers=auth
            )
            assert (bad.status_code, good.status_code) == (500, 200)
            assert bad.json()["type"] == "server_error"
