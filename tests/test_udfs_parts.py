"""SHEEP_ATTENDEES, SHEEP_ORDERS, SHEEP_TICKETS and SHEEP_TICKET_TYPES called as Excel calls them
(xlwings' real Windows UDF decorators and conversion, see support/excel_runtime.py), over real
HTTP against the demo server: their values are what ``fetch_part_frame`` and a table plan give,
and they share SHEEP_EVENTS' cache, options and error sentences."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from support.excel_runtime import call_like_excel, windows_udf_runtime

from sheep_xl.api.client import SheepClient
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.epoch import bump_function_epoch
from sheep_xl.frames.event_parts import CATALOGUES
from sheep_xl.frames.fetch_parts import fetch_part_frame
from sheep_xl.tables.plan import plan_table

STATE = "running"  # 7 demo events, one of them without attendees, orders or tickets

FUNCTIONS = {
    "SHEEP_ATTENDEES": "attendees",
    "SHEEP_ORDERS": "orders",
    "SHEEP_TICKETS": "tickets",
    "SHEEP_TICKET_TYPES": "ticket-types",
}
TWO_COLUMNS = {  # a field name and a column title of each part
    "attendees": ("attendee_name", "Status"),
    "orders": ("buyer", "Outstanding"),
    "tickets": ("ticket_type", "Amount"),
    "ticket-types": ("name", "Price"),
}
by_function = pytest.mark.parametrize(("name", "part"), list(FUNCTIONS.items()))


@pytest.fixture(scope="module")
def udfs() -> Iterator[Any]:
    with windows_udf_runtime() as module:
        yield module


@pytest.fixture
def live(udfs: Any, demo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    udfs.clear_cache()
    demo.requests.clear()
    yield udfs
    demo.fail_uids.clear()
    udfs.clear_cache()


@pytest.fixture(scope="module")
def running(demo_server: Any) -> list[dict[str, Any]]:
    with SheepClient(api_key=DEMO_API_KEY, base_url=demo_server.url) as client:
        events = client.events("example", STATE)
    assert len(events) >= 4
    return events


@pytest.fixture(scope="module")
def uid(running: list[dict[str, Any]]) -> str:
    """A small running event that has attendees, orders, tickets and ticket types."""
    return str(running[2]["uid"])


def expected(
    demo: Any, part: str, *, header: bool = True, limit: int | None = None, **how: Any
) -> list[list[Any]]:
    """What fetch_part_frame and a table plan give, in the form the COM call returns."""
    from sheep_xl.excel.udfs import excel_result

    with SheepClient(api_key=DEMO_API_KEY, base_url=demo.url) as client:
        frame = fetch_part_frame(client, "example", part, **how).frame
    plan = plan_table(frame if limit is None else frame.iloc[:limit])
    body = [[excel_result(v) for v in row] for row in plan.iter_rows()]
    return ([list(plan.titles)] if header else []) + body


def one_cell(result: Any) -> Any:
    assert isinstance(result, list) and len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


def requests_to(demo: Any) -> tuple[int, int]:
    """(listing requests, per-event requests) the demo server saw."""
    paths = [r.path for r in demo.requests]
    listings = sum("/bookings/" in p for p in paths)
    return listings, len(paths) - listings


# --- metadata -------------------------------------------------------------------------------


def test_metadata_registry_and_addin_wrappers(udfs: Any) -> None:
    from sheep_xl.addin import build
    from sheep_xl.excel.registry import REGISTRY

    wrappers = build.function_wrappers(list(REGISTRY.values()))
    for name in FUNCTIONS:
        assert name in udfs.function_names() and REGISTRY[name].raw_result
        info = getattr(udfs, name).__xlfunc__
        assert info["name"] == name and info["category"] == "SheepCRM"
        assert [a["name"] for a in info["args"]] == ["bucket", "uid_or_state", "columns", "options"]
        assert ["optional" in a for a in info["args"]] == [False, False, True, True]
        assert info["ret"]["options"] == {"convert": "raw"}
        assert info["volatile"] is False and info["call_in_wizard"] is False
        assert (
            f"Public Function {name}(bucket, uid_or_state, Optional columns, Optional options)"
            in wrappers
        )
        assert f'Application.MacroOptions Macro:="{name}"' in wrappers
        assert len(REGISTRY[name].doc) <= 250 and REGISTRY[name].doc.endswith(".")


# --- values ---------------------------------------------------------------------------------


@by_function
def test_by_uid_is_fetch_part_frame(live: Any, demo: Any, uid: str, name: str, part: str) -> None:
    result = call_like_excel(getattr(live, name), "example", uid)
    want = expected(demo, part, uid=uid)
    assert result == want and len(result) > 1
    assert result[0][:3] == ["Event UID", "Event", "Event start date"]
    assert {row[0] for row in result[1:]} == {uid}


@by_function
def test_by_state_is_fetch_part_frame(
    live: Any, demo: Any, running: list[dict[str, Any]], name: str, part: str
) -> None:
    result = call_like_excel(getattr(live, name), "example", "Running")  # any letter case
    listings, per_event = requests_to(demo)
    assert 1 <= listings <= 2, "one listing: a short page, then the empty one"
    assert per_event == len(running), "one request per event"
    assert result == expected(demo, part, state=STATE)
    assert len({row[0] for row in result[1:]}) >= len(running) - 1  # one event has none


@by_function
def test_columns_as_text_or_range(live: Any, demo: Any, uid: str, name: str, part: str) -> None:
    func = getattr(live, name)
    field, title = TWO_COLUMNS[part]
    by_text = call_like_excel(func, "example", uid, f"{field}, {title}")
    by_range = call_like_excel(func, "example", uid, [[field], [title]])
    assert by_text == by_range == expected(demo, part, uid=uid, columns=[field, title])
    assert by_text[0][-1] == title and len(by_text[0]) >= 2
    everything = call_like_excel(func, "example", uid, "all")
    assert everything == expected(demo, part, uid=uid, columns="all")
    assert len(everything[0]) > len(by_text[0])


@by_function
def test_header_false_and_limit(live: Any, demo: Any, name: str, part: str) -> None:
    func = getattr(live, name)
    result = call_like_excel(func, "example", STATE, None, "header=false; limit=3")
    assert result == expected(demo, part, state=STATE, header=False, limit=3)
    assert len(result) == 3
    as_range = call_like_excel(func, "example", STATE, None, [["header", False], ["limit", 2]])
    assert as_range == result[:2]
    header_only = call_like_excel(func, "example", STATE, "event_uid", "limit=0")
    assert header_only == [["Event UID"]]


def test_an_event_without_rows_is_the_header_only(
    live: Any, demo: Any, running: list[dict[str, Any]]
) -> None:
    empty = next(e["uid"] for e in running if "committee" in str(e.get("title")))
    result = call_like_excel(live.SHEEP_ATTENDEES, "example", empty, "attendee, status")
    assert result == expected(demo, "attendees", uid=empty, columns="attendee, status")
    assert len(result) == 1
    no_header = call_like_excel(
        live.SHEEP_ATTENDEES, "example", empty, "attendee, status", "header=false"
    )
    assert no_header == [[""] * len(result[0])]


# --- the cache ------------------------------------------------------------------------------


@by_function
def test_warm_calls_make_no_request(live: Any, demo: Any, uid: str, name: str, part: str) -> None:
    func = getattr(live, name)
    field, title = TWO_COLUMNS[part]
    cold = call_like_excel(func, "example", STATE)
    by_uid = call_like_excel(func, "example", uid)
    assert sum(requests_to(demo)) > 0
    demo.requests.clear()
    warm = call_like_excel(func, "example", STATE)
    assert warm is cold, "the cached result itself: nothing converted again"
    assert call_like_excel(func, "example", uid) is by_uid
    # other columns and options are rendered from the same fetch
    call_like_excel(func, "example", STATE, f"{field}, {title}", "header=false; limit=5")
    call_like_excel(func, "EXAMPLE", "running", [[title]])
    assert len(demo.requests) == 0


def test_the_events_listing_is_shared_with_sheep_events(
    live: Any, demo: Any, running: list[dict[str, Any]]
) -> None:
    call_like_excel(live.SHEEP_EVENTS, "example", STATE)
    demo.requests.clear()
    call_like_excel(live.SHEEP_ORDERS, "example", STATE)
    assert requests_to(demo) == (0, len(running)), "no second listing"
    demo.requests.clear()
    listed = call_like_excel(live.SHEEP_TICKET_TYPES, "example", STATE, None, "from_listing=true")
    assert len(demo.requests) == 0, "from the listing: no request at all"
    assert listed == expected(demo, "ticket-types", state=STATE, listed=True)
    assert "Income" in listed[0] and len(listed) > len(running)


def test_concurrent_cells_make_one_fetch(
    live: Any, demo: Any, running: list[dict[str, Any]]
) -> None:
    results: list[Any] = []
    barrier = threading.Barrier(30)

    def cell() -> None:
        barrier.wait()
        results.append(call_like_excel(live.SHEEP_TICKETS, "example", STATE, "uid"))

    threads = [threading.Thread(target=cell) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 30 and all(r == results[0] for r in results)
    listings, per_event = requests_to(demo)
    assert per_event == len(running) and listings <= 2  # a short page, then the empty one


def test_ttl_option_and_refresh_all(live: Any, demo: Any, uid: str) -> None:
    call_like_excel(live.SHEEP_ATTENDEES, "example", uid, None, "ttl=0")
    call_like_excel(live.SHEEP_ATTENDEES, "example", uid, None, "ttl=0")
    assert requests_to(demo)[1] == 2, "ttl=0: fetched on every call"
    call_like_excel(live.SHEEP_ORDERS, "example", uid)
    demo.requests.clear()
    bump_function_epoch()  # the ribbon's Refresh all
    call_like_excel(live.SHEEP_ORDERS, "example", uid)
    assert requests_to(demo)[1] == 1, "the epoch bump cleared the cached orders"
    demo.requests.clear()
    live.clear_cache()
    call_like_excel(live.SHEEP_ORDERS, "example", uid)
    assert requests_to(demo)[1] == 1


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("../x", STATE), "Invalid bucket '../x'"),
        ((None, STATE), "The bucket is empty"),
        (("example", None), "The event uid or state is empty"),
        (("example", "confirmd"), "did you mean 'confirmed'"),
        (("example", "future+confirmd"), "Unknown event state 'future+confirmd'"),
        (("example", "a/b"), "'a/b' is neither an event uid nor a state"),
        (("example", "6305f074683e800f3abe809e?x"), "is neither an event uid nor a state"),
        (("example", STATE, "titel"), "Unknown column 'titel'"),
        (("example", STATE, None, "colour=blue"), "Unknown option 'colour'"),
        (("example", STATE, None, "ttl=x"), "Option ttl must be a number of seconds"),
        (("example", STATE, None, "limit=-1"), "Option limit must be a number of rows"),
    ],
)
@by_function
def test_bad_input_is_one_sentence_and_sends_nothing(
    live: Any, demo: Any, name: str, part: str, args: tuple, words: str
) -> None:
    result = one_cell(call_like_excel(getattr(live, name), *args))
    assert isinstance(result, str) and result.startswith("SheepCRM: ") and words in result
    assert "\n" not in result and "Traceback" not in result
    assert len(demo.requests) == 0


def test_column_errors_name_the_parts_fields(live: Any, demo: Any, uid: str) -> None:
    result = one_cell(call_like_excel(live.SHEEP_ORDERS, "example", uid, "buyer, capacity"))
    assert result.startswith("SheepCRM: Unknown column 'capacity'") and "order" in result
    listed = one_cell(
        call_like_excel(live.SHEEP_TICKET_TYPES, "example", uid, None, "from_listing=true")
    )
    assert "give a state" in listed
    only_ticket_types = one_cell(
        call_like_excel(live.SHEEP_ATTENDEES, "example", STATE, None, "from_listing=true")
    )
    assert only_ticket_types.startswith("SheepCRM: Unknown option 'from_listing'")
    assert "partial" in only_ticket_types
    assert len(demo.requests) == 0


def test_unknown_uid_is_not_found(live: Any, demo: Any) -> None:
    result = one_cell(call_like_excel(live.SHEEP_TICKETS, "example", "ffffffffffffffffffffffff"))
    assert result.startswith("SheepCRM: Event 'ffffffffffffffffffffffff' was not found")
    demo.requests.clear()
    call_like_excel(live.SHEEP_TICKETS, "example", "ffffffffffffffffffffffff")
    assert len(demo.requests) == 0, "a failure is remembered briefly, like SHEEP_EVENTS'"


# --- events that fail -----------------------------------------------------------------------


@by_function
def test_one_failing_event_is_named_unless_partial(
    live: Any,
    demo: Any,
    running: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    part: str,
) -> None:
    func = getattr(live, name)
    failing = running[1]
    demo.fail_uids.add(failing["uid"])
    sentence = one_cell(call_like_excel(func, "example", STATE))
    assert sentence.startswith(f"SheepCRM: 1 of {len(running)} event(s) gave no ")
    assert f"'{failing['title']}' ({failing['uid']})" in sentence
    assert "partial=true" in sentence and "HTTP 500" in sentence and "\n" not in sentence
    assert requests_to(demo)[1] == len(running)

    demo.requests.clear()
    partial = call_like_excel(func, "example", STATE, None, "partial=true")
    assert len(demo.requests) == 0, "the same fetch: the others' rows were kept"
    assert one_cell(call_like_excel(func, "example", STATE)) == sentence
    assert len(demo.requests) == 0
    assert partial == expected(demo, part, state=STATE), "fetch_part_frame leaves it out too"
    assert failing["uid"] not in {row[0] for row in partial[1:]}
    demo.requests.clear()

    # once it answers again, the next calculation asks for that event only
    demo.fail_uids.clear()
    monkeypatch.setattr(live, "PARTIAL_RETRY_SECONDS", 0.0)
    complete = call_like_excel(func, "example", STATE)
    assert requests_to(demo) == (0, 1)
    assert complete == expected(demo, part, state=STATE)
    assert failing["uid"] in {row[0] for row in complete[1:]}


def test_failed_events_are_asked_again_only_after_a_while(
    live: Any, demo: Any, running: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.fail_uids.update(e["uid"] for e in running[:2])
    first = one_cell(call_like_excel(live.SHEEP_ATTENDEES, "example", STATE))
    assert f"2 of {len(running)} event(s)" in first and "; the first, " not in first
    assert all(e["uid"] in first for e in running[:2])
    demo.requests.clear()
    call_like_excel(live.SHEEP_ATTENDEES, "example", STATE)
    assert len(demo.requests) == 0, "within PARTIAL_RETRY_SECONDS nothing is asked again"
    monkeypatch.setattr(live, "PARTIAL_RETRY_SECONDS", 0.0)
    again = one_cell(call_like_excel(live.SHEEP_ATTENDEES, "example", STATE))
    assert requests_to(demo) == (0, 2), "only the two failed events are asked again"
    assert again == first
    demo.fail_uids.discard(running[0]["uid"])
    demo.requests.clear()
    still = one_cell(call_like_excel(live.SHEEP_ATTENDEES, "example", STATE))
    assert requests_to(demo) == (0, 2)
    assert still.startswith(f"SheepCRM: 1 of {len(running)} event(s)")
    assert running[1]["uid"] in still and running[0]["uid"] not in still


def test_every_event_failing_raises_the_first(
    live: Any, demo: Any, running: list[dict[str, Any]]
) -> None:
    demo.fail_uids.update(e["uid"] for e in running)
    for options in (None, "partial=true"):
        result = one_cell(call_like_excel(live.SHEEP_TICKETS, "example", STATE, None, options))
        assert result.startswith(f"SheepCRM: None of the {len(running)} event(s) gave its tickets")
        assert running[0]["uid"] in result and "HTTP 500" in result


def test_a_failing_uid_is_its_error(live: Any, demo: Any, uid: str) -> None:
    demo.fail_uids.add(uid)
    result = one_cell(call_like_excel(live.SHEEP_ORDERS, "example", uid))
    assert result.startswith("SheepCRM: The sheepCRM API") and "HTTP 500" in result


# --- SHEEP_COLUMNS of each part -------------------------------------------------------------


def test_columns_of_each_part(live: Any) -> None:
    assert len(call_like_excel(live.SHEEP_COLUMNS)) == 159, "events, as before"
    for kind in ("attendees", "Orders", "tickets", "ticket types"):
        table = call_like_excel(live.SHEEP_COLUMNS, kind)
        catalogue = CATALOGUES[kind.lower().replace(" ", "-")]
        assert table[0] == ["Field", "Title", "Kind", "Default"]
        assert [r[0] for r in table[1:]] == [
            f.name for f in (*catalogue.fields, *catalogue.derived)
        ]
        assert [r[0] for r in table[1:] if r[3] is True] == [
            n for n in (f.name for f in catalogue.fields) if n in catalogue.defaults
        ]
    wrong = one_cell(call_like_excel(live.SHEEP_COLUMNS, "bookings"))
    assert wrong.startswith("SheepCRM: Unknown kind 'bookings'")
