"""The demo server: sheepCRM's events API contract, its sample data, and the official spec."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from sheep_xl.demo import server as server_module
from sheep_xl.demo.data import (
    DEMO_BUCKET,
    NULLABLE_FIELDS,
    UNKNOWN_FIELDS,
    demo_events,
)
from sheep_xl.demo.server import DEMO_API_KEY, STATES, DemoServer, RequestRecord

TODAY = date(2026, 11, 24)
TIMEOUT = 10
LIST_PATH = "/events/v2/{bucket}/bookings/{state}"
SINGLE_PATH = "/events/v2/{bucket}/booking/{uid}"

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^\d{2}:\d{2}$")
UID_RE = re.compile(r"^[0-9a-f]{24}$")
URL_RE = re.compile(r"^https://[^\s/]+\.[^\s/]+/\S*$")
DATETIME_FIELDS = ("start_datetime", "end_datetime", "created", "last_updated")
DATE_FIELDS = ("start_date", "end_date", "enquiry_date")
TIME_FIELDS = ("start_time", "end_time")
URL_FIELDS = ("photo", "website")


# --------------------------------------------------------------------------------------------
# helpers and fixtures
# --------------------------------------------------------------------------------------------


def _auth(key: str | None = DEMO_API_KEY) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def _get(
    server: DemoServer,
    path: str,
    key: str | None = DEMO_API_KEY,
    **params: Any,
) -> requests.Response:
    return requests.get(server.url + path, headers=_auth(key), params=params, timeout=TIMEOUT)


def _list_path(state: str, bucket: str = DEMO_BUCKET) -> str:
    return LIST_PATH.format(bucket=bucket, state=state)


def _fetch_all(server: DemoServer, state: str, page_size: int) -> list[dict[str, Any]]:
    """Every record of a listing, paging until a short or empty page (as a client must)."""
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        response = _get(server, _list_path(state), page=page, page_size=page_size)
        assert response.status_code == 200, response.text
        batch = response.json()["bookings"]
        records.extend(batch)
        if len(batch) < page_size:
            return records
        page += 1
        assert page < 10_000


def _assert_error_body(response: requests.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"error", "description", "type"}
    assert all(isinstance(value, str) and value for value in body.values())
    assert body["type"] == kind
    return body


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return demo_events(TODAY)


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer(today=TODAY) as running:
        yield running


@pytest.fixture
def fresh_server() -> Iterator[DemoServer]:
    with DemoServer(today=TODAY) as running:
        yield running


def _days(record: dict[str, Any]) -> tuple[date, date]:
    return date.fromisoformat(record["start_date"]), date.fromisoformat(record["end_date"])


def _passes(state: str, record: dict[str, Any], today: date = TODAY) -> bool:
    """The documented state semantics, restated independently of the server."""
    draft = record.get("status") == "Draft"
    if state == "all":
        return True
    if state == "draft":
        return draft
    if draft:
        return False
    start, end = _days(record)
    return {
        "current": start <= today + timedelta(days=90) and end >= today - timedelta(days=14),
        "future": start > today,
        "past": end < today,
        "running": start <= today <= end,
    }[state]


def _distance(record: dict[str, Any], today: date = TODAY) -> int:
    start, end = _days(record)
    return max((start - today).days, (today - end).days, 0)


# --------------------------------------------------------------------------------------------
# listings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_every_state_returns_200_with_only_bookings(server: DemoServer, state: str) -> None:
    response = _get(server, _list_path(state))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["x-rate-limit-limit"] == "400"
    assert int(response.headers["x-rate-limit-remaining"]) >= 0
    assert 1 <= int(response.headers["x-rate-limit-reset"]) <= 60
    body = response.json()
    assert list(body) == ["bookings"]
    assert isinstance(body["bookings"], list)
    assert body["bookings"], f"state {state!r} should not be empty in the demo data"


def test_states_match_the_spec_enum(openapi_spec: dict[str, Any]) -> None:
    params = openapi_spec["paths"][LIST_PATH]["get"]["parameters"]
    (state_param,) = [p for p in params if p["name"] == "state"]
    assert tuple(state_param["schema"]["enum"]) == STATES


def test_list_endpoint_and_alias_are_current(server: DemoServer) -> None:
    current = _get(server, _list_path("current")).json()
    assert _get(server, f"/events/v2/{DEMO_BUCKET}").json() == current
    assert _get(server, f"/events/v2/{DEMO_BUCKET}/bookings").json() == current
    assert _get(server, f"/events/v2/{DEMO_BUCKET}/bookings/").json() == current


def test_paging_concatenates_to_the_whole_listing(server: DemoServer) -> None:
    whole = _get(server, _list_path("all"), page_size=1000).json()["bookings"]
    assert len(whole) >= 250
    assert _fetch_all(server, "all", page_size=7) == whole
    assert _fetch_all(server, "all", page_size=1) == whole


def test_a_listing_selects_once_and_its_pages_reuse_it(
    monkeypatch: pytest.MonkeyPatch, events: list[dict[str, Any]]
) -> None:
    """Selecting is linear in the bucket: done for every page, paging was quadratic."""
    calls: list[str] = []
    real = server_module.select_events

    def counted(records: Any, state: str, today: date) -> Any:
        calls.append(state)
        return real(records, state, today)

    monkeypatch.setattr(server_module, "select_events", counted)
    with DemoServer(today=TODAY, buckets={DEMO_BUCKET: [dict(e) for e in events]}) as demo:
        whole = _fetch_all(demo, "all", page_size=7)
        assert calls == ["all"], "one selection for a whole paged listing"
        assert len(whole) == len(real(events, "all", TODAY))
        # page 1 selects afresh: an edit made between listings is seen by the next one
        (listed,) = [e for e in demo.buckets[DEMO_BUCKET] if e["uid"] == whole[0]["uid"]]
        listed["title"] = "Renamed between listings"
        assert any(e["title"] == "Renamed between listings" for e in _fetch_all(demo, "all", 7))
        assert calls == ["all", "all"]
        # a later page of a bucket replaced or resized mid-listing is selected afresh too
        demo.buckets[DEMO_BUCKET] = demo.buckets[DEMO_BUCKET][:10]
        assert len(_get(demo, _list_path("all"), page=2, page_size=7).json()["bookings"]) == 3
        demo.buckets[DEMO_BUCKET].pop()
        assert len(_get(demo, _list_path("all"), page=2, page_size=7).json()["bookings"]) == 2
        assert calls == ["all"] * 4


def test_an_unchanging_server_encodes_each_answer_once(
    monkeypatch: pytest.MonkeyPatch, events: list[dict[str, Any]]
) -> None:
    routed: list[str] = []
    real = DemoServer.route

    def counted(self: DemoServer, path: str, query: Any) -> Any:
        routed.append(path)
        return real(self, path, query)

    monkeypatch.setattr(DemoServer, "route", counted)
    for unchanging in (False, True):
        routed.clear()
        bucket = [dict(e) for e in events]
        with DemoServer(today=TODAY, buckets={DEMO_BUCKET: bucket}, unchanging=unchanging) as demo:
            first = _get(demo, _list_path("all"), page_size=5).content
            for event in bucket:
                event["title"] = "Edited, though promised unchanging"
            again = _get(demo, _list_path("all"), page_size=5)
            assert again.status_code == 200
            assert (again.content == first) is unchanging
            assert len(routed) == (1 if unchanging else 2)
            # errors are never kept: every request is still checked (key, rate windows, path)
            assert _get(demo, _list_path("nonsense")).status_code == 400
            assert _get(demo, _list_path("nonsense")).status_code == 400
            assert len(demo.requests) == 4


def test_default_page_size_is_250(server: DemoServer) -> None:
    whole = _get(server, _list_path("all"), page_size=1000).json()["bookings"]
    first = _get(server, _list_path("all")).json()["bookings"]
    second = _get(server, _list_path("all"), page=2).json()["bookings"]
    assert len(first) == 250
    assert first + second == whole


@pytest.mark.parametrize("page", [3, 44, 10_000])
def test_page_beyond_the_end_is_empty(server: DemoServer, page: int) -> None:
    response = _get(server, _list_path("all"), page=page)
    assert response.status_code == 200
    assert response.json() == {"bookings": []}


@pytest.mark.parametrize("state", STATES)
def test_listing_order_is_start_then_uid(server: DemoServer, state: str) -> None:
    records = _get(server, _list_path(state), page_size=1000).json()["bookings"]
    keys = [(r["start_datetime"], r["uid"]) for r in records]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("state", STATES)
def test_state_semantics_and_series_collapse(
    server: DemoServer, events: list[dict[str, Any]], state: str
) -> None:
    listed = _get(server, _list_path(state), page_size=1000).json()["bookings"]
    passing = [r for r in events if _passes(state, r)]
    # the expected listing: everything passing, with each series reduced to the occurrence
    # nearest today (ties: earlier start, then smaller uid)
    by_series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    expected = []
    for record in passing:
        if record.get("series_id"):
            by_series[record["series_id"]].append(record)
        else:
            expected.append(record)
    for occurrences in by_series.values():
        expected.append(
            min(occurrences, key=lambda r: (_distance(r), r["start_datetime"], r["uid"]))
        )
    expected.sort(key=lambda r: (r["start_datetime"], r["uid"]))
    assert listed == expected
    series_ids = [r["series_id"] for r in listed if r.get("series_id")]
    assert len(series_ids) == len(set(series_ids))


def test_series_are_collapsed_in_all(server: DemoServer, events: list[dict[str, Any]]) -> None:
    listed = _get(server, _list_path("all"), page_size=1000).json()["bookings"]
    sizes = Counter(r["series_id"] for r in events if r.get("series_id"))
    assert len(sizes) >= 3
    assert len(listed) == len(events) - sum(n - 1 for n in sizes.values())


def test_running_listing_shows_the_running_series_occurrence(server: DemoServer) -> None:
    running = _get(server, _list_path("running")).json()["bookings"]
    titles = {r["title"] for r in running}
    assert any(t.startswith("Lunch & Learn:") and "(episode 7)" in t for t in titles)
    assert "Zürich study tour" in titles
    for record in running:
        start, end = _days(record)
        assert start <= TODAY <= end


def test_drafts_only_in_all_and_draft(server: DemoServer) -> None:
    for state in STATES:
        statuses = {
            r.get("status")
            for r in _get(server, _list_path(state), page_size=1000).json()["bookings"]
        }
        if state == "draft":
            assert statuses == {"Draft"}
        elif state == "all":
            assert "Draft" in statuses
        else:
            assert "Draft" not in statuses


# --------------------------------------------------------------------------------------------
# single event
# --------------------------------------------------------------------------------------------


def test_single_event_reaches_every_record(
    server: DemoServer, events: list[dict[str, Any]]
) -> None:
    with requests.Session() as session:
        session.headers.update(_auth())
        for record in events:
            url = server.url + SINGLE_PATH.format(bucket=DEMO_BUCKET, uid=record["uid"])
            response = session.get(url, timeout=TIMEOUT)
            assert response.status_code == 200
            assert response.headers["Content-Type"] == "application/json; charset=utf-8"
            full = response.json()
            # richer than the listing's summary packet, as the real API's is; never different
            assert {k: full[k] for k in record} == record
            assert {"timing_notes", "invoice_status", "latecomers_allowed"} <= set(full)


def test_single_event_unknown_uid_is_404(server: DemoServer) -> None:
    response = _get(server, SINGLE_PATH.format(bucket=DEMO_BUCKET, uid="0" * 24))
    _assert_error_body(response, 404, "not_found")


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "wrong-key", "", DEMO_API_KEY.upper()])
def test_missing_or_wrong_key_is_401(server: DemoServer, key: str | None) -> None:
    for path in (_list_path("all"), f"/events/v2/{DEMO_BUCKET}"):
        body = _assert_error_body(_get(server, path, key=key), 401, "authentication")
        assert body["error"] == "Unauthorized"


def test_non_bearer_scheme_is_401(server: DemoServer) -> None:
    response = requests.get(
        server.url + _list_path("all"),
        headers={"Authorization": f"Basic {DEMO_API_KEY}"},
        timeout=TIMEOUT,
    )
    _assert_error_body(response, 401, "authentication")


def test_bearer_scheme_is_case_insensitive(server: DemoServer) -> None:
    response = requests.get(
        server.url + _list_path("running"),
        headers={"Authorization": f"bearer {DEMO_API_KEY}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200


def test_unknown_bucket_is_404(server: DemoServer) -> None:
    for path in (_list_path("all", bucket="nosuch"), "/events/v2/nosuch"):
        body = _assert_error_body(_get(server, path), 404, "not_found")
        assert "nosuch" in body["description"]


@pytest.mark.parametrize(
    "path",
    ["/", "/events", "/events/v2", "/api/v2/example/person", f"/events/v2/{DEMO_BUCKET}/nope"],
)
def test_unknown_path_is_404(server: DemoServer, path: str) -> None:
    _assert_error_body(_get(server, path), 404, "not_found")


@pytest.mark.parametrize("state", ["x", "ALL", "Current", "confirmed", "cancelled"])
def test_unknown_state_is_400(server: DemoServer, state: str) -> None:
    body = _assert_error_body(_get(server, _list_path(state)), 400, "bad_request")
    assert body["error"] == "Bad request"
    assert body["description"] == (
        f"Unknown state '{state}'; expected one of all, current, draft, future, past, running"
    )


@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", " ", "²"])
def test_bad_paging_parameter_is_400(server: DemoServer, name: str, value: str) -> None:
    body = _assert_error_body(_get(server, _list_path("all"), **{name: value}), 400, "bad_request")
    assert name in body["description"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "QUERY", "BREW"])
def test_other_methods_are_405(server: DemoServer, method: str) -> None:
    response = requests.request(
        method,
        server.url + _list_path("all"),
        headers=_auth(),
        json={"title": "x"},
        timeout=TIMEOUT,
    )
    _assert_error_body(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"


# --------------------------------------------------------------------------------------------
# request log, logging, lifecycle
# --------------------------------------------------------------------------------------------


def test_requests_log_records_every_request_without_the_key(fresh_server: DemoServer) -> None:
    assert fresh_server.requests == []
    assert len(fresh_server.requests) == 0
    _get(fresh_server, _list_path("future"), page=2, page_size=5)
    _get(fresh_server, f"/events/v2/{DEMO_BUCKET}", key=None)
    requests.post(fresh_server.url + "/events/v2/x", timeout=TIMEOUT)
    assert list(fresh_server.requests) == [
        RequestRecord("GET", _list_path("future"), {"page": "2", "page_size": "5"}, True),
        RequestRecord("GET", f"/events/v2/{DEMO_BUCKET}", {}, False),
        RequestRecord("POST", "/events/v2/x", {}, False),
    ]
    method, path, query, has_auth = fresh_server.requests[0]
    assert (method, path, query, has_auth) == fresh_server.requests[0]
    assert DEMO_API_KEY not in repr(fresh_server.requests)
    fresh_server.requests.clear()
    assert fresh_server.requests == []


def test_quiet_by_default(fresh_server: DemoServer, capfd: pytest.CaptureFixture[str]) -> None:
    _get(fresh_server, _list_path("all"))
    _get(fresh_server, _list_path("nope"), key="wrong")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_verbose_logs_method_path_status_only(capfd: pytest.CaptureFixture[str]) -> None:
    with DemoServer(today=TODAY, verbose=True) as server:
        _get(server, _list_path("running"), page=1)
        _get(server, _list_path("running"), key="other-key")
    out, err = capfd.readouterr()
    assert f"GET {_list_path('running')} 200" in err
    assert f"GET {_list_path('running')} 401" in err
    assert DEMO_API_KEY not in out + err
    assert "other-key" not in out + err
    assert "page=" not in err


def test_stop_releases_the_port_and_nothing_more_arrives() -> None:
    server = DemoServer(today=TODAY).start()
    url = server.url
    assert url == f"http://127.0.0.1:{server.port}"
    with requests.Session() as session:  # a keep-alive connection must not outlive stop()
        session.headers.update(_auth())
        assert session.get(url + _list_path("running"), timeout=TIMEOUT).status_code == 200
        server.stop()
        server.stop()  # idempotent
        with pytest.raises(requests.ConnectionError):
            session.get(url + _list_path("running"), timeout=TIMEOUT)
    assert len(server.requests) == 1
    with pytest.raises(RuntimeError):
        _ = server.url


def test_custom_buckets_and_records_without_dates() -> None:
    good = {
        "uid": "a" * 24,
        "title": "Good",
        "start_datetime": "2026-11-24T10:00:00.000000",
        "end_datetime": "2026-11-24T11:00:00.000000",
    }
    undated = {"uid": "b" * 24, "title": "No dates", "start_datetime": None}
    with DemoServer(today=TODAY, api_key="k", buckets={"acme": [good, undated]}) as server:
        assert _get(server, _list_path("all"), key="k").status_code == 404
        all_ = _get(server, _list_path("all", bucket="acme"), key="k").json()["bookings"]
        running = _get(server, _list_path("running", bucket="acme"), key="k").json()["bookings"]
        assert [r["uid"] for r in all_] == ["b" * 24, "a" * 24]
        assert running == [good]
        assert _get(server, _list_path("all", bucket="acme")).status_code == 401


# --------------------------------------------------------------------------------------------
# the sample data
# --------------------------------------------------------------------------------------------


def test_demo_events_are_deterministic_and_json_ready(events: list[dict[str, Any]]) -> None:
    again = demo_events(TODAY)
    assert again == events
    assert json.loads(json.dumps(events, allow_nan=False)) == events
    assert 300 <= len(events) <= 340
    later = demo_events(TODAY + timedelta(days=7))  # a whole week: weekdays stay the same
    assert [r["uid"] for r in sorted(later, key=lambda r: r["uid"])] == [
        r["uid"] for r in sorted(events, key=lambda r: r["uid"])
    ]
    shifted = {r["uid"]: r["start_date"] for r in later}
    moved = Counter(
        (date.fromisoformat(shifted[r["uid"]]) - date.fromisoformat(r["start_date"])).days
        for r in events
    )
    assert moved == {7: len(events)}  # dates are offsets from today


def test_demo_events_span_two_years_back_one_forward(events: list[dict[str, Any]]) -> None:
    starts = [date.fromisoformat(r["start_date"]) for r in events]
    assert min(starts) <= TODAY - timedelta(days=700)
    assert max(starts) >= TODAY + timedelta(days=330)
    assert all(TODAY - timedelta(days=740) <= s <= TODAY + timedelta(days=372) for s in starts)
    assert sum(1 for r in events if _passes("running", r)) >= 4
    soon = [s for s in starts if TODAY < s <= TODAY + timedelta(days=14)]
    assert len(soon) >= 8


def test_demo_events_use_the_wire_formats(events: list[dict[str, Any]]) -> None:
    for record in events:
        assert UID_RE.match(record["uid"])
        assert record["uri"] == f"/{DEMO_BUCKET}/booking/{record['uid']}/"
        for name in DATETIME_FIELDS:
            if record.get(name) is not None:
                assert DATETIME_RE.match(record[name]), (name, record[name])
        for name in DATE_FIELDS:
            if record.get(name) is not None:
                assert DATE_RE.match(record[name]), (name, record[name])
        for name in TIME_FIELDS:
            if record.get(name) is not None:
                assert TIME_RE.match(record[name]), (name, record[name])
        assert record["start_datetime"] <= record["end_datetime"]
        assert record["start_datetime"].startswith(record["start_date"])
        assert record["end_datetime"][11:16] == record["end_time"]
        for name in URL_FIELDS:
            if record.get(name) is not None:
                assert URL_RE.match(record[name]), (name, record[name])
        for url in record.get("secondary_photos", []):
            assert URL_RE.match(url)
        if record.get("conferencing_url") is not None:
            assert URL_RE.match(record["conferencing_url"])
        for uri in record.get("venue_refs", []):
            assert re.match(rf"^/{DEMO_BUCKET}/venue/[0-9a-f]{{24}}/$", uri)
        if "created" in record and "last_updated" in record:
            assert record["created"] <= record["last_updated"]


def test_demo_events_stock_is_consistent(events: list[dict[str, Any]]) -> None:
    sold_out = 0
    for record in events:
        if record.get("capacity") is not None:
            assert isinstance(record["capacity"], int | float)
            assert not isinstance(record["capacity"], bool)
        stock = record.get("total_stock")
        allocated = record.get("total_stock_allocated")
        available = record.get("total_stock_available")
        if stock is not None:
            assert available == stock - allocated
            assert 0 <= allocated <= stock
            assert record["is_sold_out"] is (available == 0)
            sold_out += available == 0
        if "ticket_types" in record:
            assert set(record["ticket_types"]) == set(record["ticket_type_income"])
            assert all(isinstance(v, dict) for v in record["ticket_types"].values())
            assert all(isinstance(v, int | float) for v in record["ticket_type_income"].values())
            assert sum(t["allocated"] for t in record["ticket_types"].values()) == allocated
            prices = [t["price"] for t in record["ticket_types"].values()]
            assert record["minimum_ticket_price"] == min(prices)
            assert record["maximum_ticket_price"] == max(prices)
    assert sold_out >= 5


def test_demo_events_cover_the_cases_a_client_meets(events: list[dict[str, Any]]) -> None:
    titles = {r["title"] for r in events}
    assert sum(r.get("cancelled") is True for r in events) >= 3
    assert sum(r.get("enquiry") is True for r in events) >= 3
    assert sum(r.get("dates_to_be_confirmed") is True for r in events) >= 3
    assert sum(r.get("status") == "Draft" for r in events) >= 3
    assert sum(r.get("record_state") == "active" for r in events) >= 3
    series = Counter(r["series_id"] for r in events if r.get("series_id"))
    assert len(series) >= 3 and all(n >= 3 for n in series.values())
    assert any("Leadership Programme — Module 3" in t for t in titles)
    for title in (
        "Café Scientifique: Ωmega",
        "Llangollen Eisteddfod trip 🎶",
        "Zürich study tour",
        "=Equal Pay Day briefing",
    ):
        assert title in titles
    assert any(t.startswith("-") for t in titles)
    assert any(t.startswith("+") for t in titles)
    assert any(t.startswith("@") for t in titles)
    assert any(r.get("multi_day") for r in events)
    assert any(r.get("location") == "Online" and r.get("conferencing_url") for r in events)
    assert any(r.get("location_country") not in (None, "United Kingdom") for r in events)
    assert any("<p>" in (r.get("description") or "") for r in events)
    assert any("&amp;" in (r.get("description") or "") for r in events)
    # summary packets: nulls, and fields left out
    nulls = {k for r in events for k, v in r.items() if v is None}
    assert {"capacity", "location_postal_code", "photo"} <= nulls
    assert any("tags" not in r for r in events)
    assert any(len(r) < 20 for r in events)
    # an event that runs past midnight without being multi-day
    assert any(r["start_date"] != r["end_date"] and r.get("multi_day") is False for r in events)


def test_demo_events_only_known_extra_fields_and_documented_nulls(
    events: list[dict[str, Any]], openapi_spec: dict[str, Any]
) -> None:
    declared = set(openapi_spec["components"]["schemas"]["EventSingle"]["properties"])
    extra = {k for r in events for k in r} - declared
    assert extra == set(UNKNOWN_FIELDS)
    nulls = {k for r in events for k, v in r.items() if v is None}
    assert nulls <= NULLABLE_FIELDS


# --------------------------------------------------------------------------------------------
# the official spec
# --------------------------------------------------------------------------------------------


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """An OAS 3.0 validator for ``schema`` whose ``#/components/...`` refs resolve in the spec."""
    oas = pytest.importorskip("openapi_schema_validator")
    return oas.OAS30Validator({**schema, "components": spec["components"]})


def _response_schema(spec: dict[str, Any], path: str, status: str = "200") -> dict[str, Any]:
    response = spec["paths"][path]["get"]["responses"][status]
    return response["content"]["application/json"]["schema"]


def _without_nulls(value: Any) -> Any:
    """The spec declares nothing nullable; live data has nulls (see NULLABLE_FIELDS).

    Records are validated with their null fields treated as absent; a separate test keeps the
    nulls to the documented fields.
    """
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


def test_validator_is_strict_enough(openapi_spec: dict[str, Any]) -> None:
    """Guard the guard: a wrong type must fail validation against the spec."""
    validator = _validator(openapi_spec, _response_schema(openapi_spec, LIST_PATH))
    assert _errors(validator, {"bookings": [{"uid": "x", "capacity": 10}]}) == []
    assert _errors(validator, {"bookings": [{"capacity": "10"}]})
    assert _errors(validator, {"bookings": [{"start_datetime": 5}]})
    assert _errors(validator, {"bookings": [{"user_interface": {"can_delete": "yes"}}]})
    assert _errors(validator, {"bookings": [{"capacity": None}]})  # why nulls are stripped


@pytest.mark.parametrize("state", STATES)
def test_every_listing_page_validates_against_the_spec(
    server: DemoServer, openapi_spec: dict[str, Any], state: str
) -> None:
    validator = _validator(openapi_spec, _response_schema(openapi_spec, LIST_PATH))
    page = 1
    while True:
        body = _get(server, _list_path(state), page=page, page_size=100).json()
        assert _errors(validator, _without_nulls(body)) == []
        if len(body["bookings"]) < 100:
            break
        page += 1


def test_list_alias_validates_against_the_spec(
    server: DemoServer, openapi_spec: dict[str, Any]
) -> None:
    validator = _validator(openapi_spec, _response_schema(openapi_spec, "/events/v2/{bucket}"))
    body = _get(server, f"/events/v2/{DEMO_BUCKET}", page_size=1000).json()
    assert _errors(validator, _without_nulls(body)) == []


def test_every_single_event_validates_against_the_spec(
    server: DemoServer, events: list[dict[str, Any]], openapi_spec: dict[str, Any]
) -> None:
    validator = _validator(openapi_spec, _response_schema(openapi_spec, SINGLE_PATH))
    with requests.Session() as session:
        session.headers.update(_auth())
        for record in events:
            url = server.url + SINGLE_PATH.format(bucket=DEMO_BUCKET, uid=record["uid"])
            body = session.get(url, timeout=TIMEOUT).json()
            assert _errors(validator, _without_nulls(body)) == [], record["title"]


def test_error_bodies_validate_against_the_spec(
    server: DemoServer, openapi_spec: dict[str, Any]
) -> None:
    schema = copy.deepcopy(openapi_spec["components"]["schemas"]["error"])
    schema["required"] = ["error", "description", "type"]
    schema["additionalProperties"] = False
    validator = _validator(openapi_spec, schema)
    responses = [
        _get(server, _list_path("all"), key=None),
        _get(server, _list_path("all"), key="nope"),
        _get(server, _list_path("x")),
        _get(server, _list_path("all"), page="0"),
        _get(server, _list_path("all", bucket="nosuch")),
        _get(server, SINGLE_PATH.format(bucket=DEMO_BUCKET, uid="f" * 24)),
        _get(server, "/nowhere"),
        requests.delete(server.url + _list_path("all"), headers=_auth(), timeout=TIMEOUT),
    ]
    assert [r.status_code for r in responses] == [401, 401, 400, 400, 404, 404, 404, 405]
    for response in responses:
        assert _errors(validator, response.json()) == []


def test_forget_requests_starts_the_allowance_afresh() -> None:
    with DemoServer(today=date(2026, 11, 24)) as server:

        def remaining() -> int:
            return int(_get(server, _list_path("all")).headers["x-rate-limit-remaining"])

        first = remaining()
        for _ in range(3):
            remaining()
        assert remaining() == first - 4
        server.forget_requests()
        assert not server.requests
        assert remaining() == first, "the requests before are forgotten"
