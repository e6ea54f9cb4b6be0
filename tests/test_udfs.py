"""Worksheet functions called as Excel calls them: through the metadata xlwings' decorators
record and xlwings' conversion of arguments and results (see excel_runtime.py)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from support.excel_runtime import call_like_excel, windows_udf_runtime
from support.faultserver import FaultServer, Reply

from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.frames.catalogue import BY_NAME, DEFAULT_COLUMNS

FAKE_KEY = "sk_live_UDFKEY_0123456789abcdefXYZ"


def one_cell(result):  # type: ignore[no-untyped-def]
    """Excel receives every result as a 2-D array; a single value is a 1 x 1 one."""
    assert isinstance(result, list) and len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


@pytest.fixture(scope="module")
def udfs() -> Iterator:
    with windows_udf_runtime() as module:
        yield module


@pytest.fixture
def live(udfs, demo, monkeypatch):
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    udfs.clear_cache()
    demo.requests.clear()
    return udfs


def test_metadata_recorded_by_xlwings_decorators(udfs) -> None:
    info = udfs.SHEEP_EVENTS.__xlfunc__
    assert info["name"] == "SHEEP_EVENTS" and info["category"] == "SheepCRM"
    assert [a["name"] for a in info["args"]] == ["bucket", "state", "columns", "options"]
    assert ["optional" in a for a in info["args"]] == [False, False, True, True]
    assert info["volatile"] is False and info["call_in_wizard"] is False
    assert "spills" in info["ret"]["doc"]
    for name in udfs.function_names():
        assert hasattr(getattr(udfs, name), "__xlfunc__"), name


def test_events_table_shape_header_and_types(live, demo) -> None:
    result = call_like_excel(live.SHEEP_EVENTS, "example", "Confirmed")
    header, *rows = result
    assert header == [BY_NAME[n].title for n in DEFAULT_COLUMNS]
    everything = [r for r in demo.buckets["example"]]
    assert len(rows) > 100
    col = {title: i for i, title in enumerate(header)}
    dates = [r[col["Start date"]] for r in rows if r[col["Start date"]] != ""]
    assert dates and all(isinstance(d, dt.datetime) and d.hour == 0 for d in dates)
    times = [r[col["Start time"]] for r in rows if r[col["Start time"]] != ""]
    assert times and all(isinstance(t, float) and 0 <= t < 1 for t in times)
    assert all(r[col["Cancelled"]] in (False, "") for r in rows), "confirmed means not cancelled"
    capacities = [r[col["Capacity"]] for r in rows if r[col["Capacity"]] != ""]
    assert capacities and all(isinstance(c, (int, float)) for c in capacities)
    assert all(len(r) == len(header) for r in rows)
    assert len(everything) >= len(rows)


def test_columns_as_text_or_range_and_options(live) -> None:
    by_text = call_like_excel(live.SHEEP_EVENTS, "example", "future", "title, Start date")
    by_range = call_like_excel(live.SHEEP_EVENTS, "example", "future", [["title"], ["Start date"]])
    assert by_text == by_range and by_text[0] == ["Title", "Start date"]
    no_header = call_like_excel(
        live.SHEEP_EVENTS, "example", "future", "title", "header=false; limit=5"
    )
    assert len(no_header) == 5 and no_header[0] == by_text[1][:1]
    as_range = call_like_excel(
        live.SHEEP_EVENTS, "example", "future", "title", [["header", False], ["limit", 2]]
    )
    assert len(as_range) == 2


def test_empty_result_is_the_header_only(live, demo, monkeypatch) -> None:
    demo.buckets["empty"] = []
    try:
        result = call_like_excel(live.SHEEP_EVENTS, "empty", "all", "title, capacity")
    finally:
        del demo.buckets["empty"]
    assert result == [["Title", "Capacity"]]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("../x", "all"), "Invalid bucket '../x'"),
        (("example", "confirmd"), "did you mean 'confirmed'"),
        (("example", "all", "titel"), "Unknown column 'titel'"),
        (("example", "all", None, "colour=blue"), "Unknown option 'colour'"),
        ((None, "all"), "The bucket is empty"),
        (("nosuch", "all"), "Bucket 'nosuch' was not found"),
    ],
)
def test_errors_are_one_sentence(live, demo, args, words) -> None:
    result = one_cell(call_like_excel(live.SHEEP_EVENTS, *args))
    assert isinstance(result, str) and result.startswith("SheepCRM: ") and words in result
    assert "\n" not in result and "Traceback" not in result


def test_bad_input_sends_no_request(live, demo) -> None:
    call_like_excel(live.SHEEP_EVENTS, "a/b", "all")
    call_like_excel(live.SHEEP_EVENTS, "example", "bogus")
    call_like_excel(live.SHEEP_EVENTS, "example", "all", "nope")
    assert len(demo.requests) == 0


def test_key_problems_never_show_the_key(udfs, demo, monkeypatch) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    udfs.clear_cache()
    result = one_cell(call_like_excel(udfs.SHEEP_EVENTS, "example", "all"))
    assert result.startswith("SheepCRM: No sheepCRM API key found")
    monkeypatch.setenv("SHEEP_API_KEY", FAKE_KEY)
    result = one_cell(call_like_excel(udfs.SHEEP_EVENTS, "example", "all"))
    assert "rejected the API key" in result and FAKE_KEY not in result


def test_server_errors_are_sentences(udfs, monkeypatch) -> None:
    with FaultServer(lambda n, s: Reply(500, {"description": "boom"})) as server:
        monkeypatch.setenv("SHEEP_API_URL", server.url)
        monkeypatch.setenv("SHEEP_API_KEY", "k")
        udfs.clear_cache()
        result = one_cell(call_like_excel(udfs.SHEEP_EVENTS, "example", "all"))
    assert result.startswith("SheepCRM: The sheepCRM API") and "HTTP 500" in result


def test_two_hundred_concurrent_calls_make_one_request(live, demo) -> None:
    results: list = []
    barrier = threading.Barrier(200)

    def cell() -> None:
        barrier.wait()
        results.append(call_like_excel(live.SHEEP_EVENTS, "example", "confirmed", "title", "ttl=1"))

    threads = [threading.Thread(target=cell) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 200 and all(r == results[0] for r in results)
    # one listing of 'all': 2 pages of 250, then the empty page that confirms the end
    assert len(demo.requests) == 3, "one listing, one request per page"
    assert {r.query.get("page") for r in demo.requests} == {"1", "2", "3"}

    demo.requests.clear()
    call_like_excel(live.SHEEP_EVENTS, "example", "cancelled", "title", "ttl=1")
    assert len(demo.requests) == 0, "classifications share the cached 'all' listing"
    time.sleep(1.1)
    call_like_excel(live.SHEEP_EVENTS, "example", "confirmed", "title", "ttl=1")
    assert len(demo.requests) == 3, "after the time-to-live, a new fetch (3 pages)"


def test_companions(live, demo) -> None:
    events = call_like_excel(live.SHEEP_EVENTS, "example", "all", "uid, title, capacity")
    uid, title, capacity = events[1]
    assert one_cell(call_like_excel(live.SHEEP_EVENT, "example", uid, "Title")) == title
    assert one_cell(call_like_excel(live.SHEEP_EVENT, "example", uid, "capacity")) == capacity
    assert one_cell(call_like_excel(live.SHEEP_EVENT, "example", uid)) == title, "default: title"
    count = one_cell(call_like_excel(live.SHEEP_COUNT, "example", "cancelled"))
    listed = call_like_excel(live.SHEEP_EVENTS, "example", "all", "uid, cancelled")[1:]
    assert count == sum(1 for _, cancelled in listed if cancelled is True) > 0
    states = call_like_excel(live.SHEEP_STATES)
    assert states[0] == ["State", "Meaning"] and [r[0] for r in states if r[0] == "confirmed"] == [
        "confirmed"
    ]
    columns = call_like_excel(live.SHEEP_COLUMNS)
    assert len(columns) == 159 and columns[0] == ["Field", "Title", "Kind", "Default"]
    missing = one_cell(
        call_like_excel(live.SHEEP_EVENT, "example", "ffffffffffffffffffffffff", "title")
    )
    assert missing.startswith("SheepCRM: Event 'ffffffffffffffffffffffff' was not found")
