"""The live writer through xlwings' real Book/Sheet/Range/Table classes and conversion code,
running on the in-memory engine (tests/support/xlwings_memory) instead of Excel."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator

import pytest
import xlwings as xw
from support import DEMO_TODAY
from support.faultserver import FaultServer, Reply
from support.xlwings_memory import (
    cell_format,
    cell_formula,
    cell_value,
    engine_of,
    is_empty,
    new_book,
    table_ref,
    uninstall,
)

from sheep_xl.api.client import SheepClient
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.exceptions import WorkbookError
from sheep_xl.frames import events_frame
from sheep_xl.operations.in_excel import insert_query, refresh_book
from sheep_xl.tables.plan import plan_table
from sheep_xl.tables.queries import new_query
from sheep_xl.writers.live import read_queries, refresh_on_open, write_table

NOW = dt.datetime(2026, 11, 24, 9, 30)
COLUMNS = "title, start_date, start_time, start_datetime, cancelled, capacity, website, status"
RECORDS = [
    {
        "title": "=1+1",
        "start_date": "2026-03-04",
        "start_time": "09:30",
        "start_datetime": "2026-03-04T09:30:00.000000",
        "cancelled": False,
        "capacity": 250,
        "website": "https://example.org/a",
        "status": "00123",
    },
    {
        "title": "Dinner",
        "start_date": None,
        "cancelled": True,
        "capacity": None,
        "website": None,
        "status": "TRUE",
    },
]


def events(n: int) -> list[dict]:
    base = demo_events(DEMO_TODAY)
    out = []
    for i in range(n):
        record = copy.deepcopy(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        record.pop("series_id", None)
        out.append(record)
    return out


@pytest.fixture(autouse=True)
def _restore_engines() -> Iterator[None]:
    yield
    uninstall()


@pytest.fixture
def book() -> xw.Book:
    return new_book("Report.xlsx", sheets=("Sheet1",))


def plan(records, columns=COLUMNS):  # type: ignore[no-untyped-def]
    return plan_table(events_frame(records, columns), "Events")


def test_new_table_values_types_and_formats(book) -> None:
    write_table(book, "Events", plan(RECORDS))
    sheet = book.sheets["Events"]
    assert table_ref(sheet, "Events") == "A1:H3"
    assert [cell_value(sheet, f"{c}1") for c in "ABCDEFGH"] == [
        "Title",
        "Start date",
        "Start time",
        "Start",
        "Cancelled",
        "Capacity",
        "Website",
        "Status",
    ]
    assert cell_value(sheet, "A2") == "=1+1" and cell_formula(sheet, "A2") is None
    assert cell_value(sheet, "H2") == "00123" and cell_value(sheet, "H3") == "TRUE"
    assert cell_value(sheet, "B2") == dt.datetime(2026, 3, 4)
    # written as a day fraction; with its h:mm format Excel reads it back as a time of day
    assert cell_value(sheet, "C2") == dt.datetime(1899, 12, 30, 9, 30)
    assert cell_value(sheet, "D2") == dt.datetime(2026, 3, 4, 9, 30)
    assert cell_value(sheet, "E2") is False and cell_value(sheet, "E3") is True
    assert cell_value(sheet, "F2") == 250
    assert is_empty(sheet, "B3") and is_empty(sheet, "F3") and is_empty(sheet, "G3")
    assert cell_format(sheet, "B2") == "m/d/yyyy"  # Excel's code for the locale short date
    assert cell_format(sheet, "C2") == "h:mm"
    assert cell_format(sheet, "D2") == "m/d/yyyy h:mm"
    assert cell_format(sheet, "F2") == "#,##0"
    assert sheet["G2"].hyperlink == "https://example.org/a"
    values = book.sheets["Events"]["A1"].expand().options(ndim=2).value
    assert len(values) == 3


def test_bulk_writes(book) -> None:
    write_table(book, "Events", plan(events(300), "default"))
    writes = engine_of(book).calls_of("value")
    assert len(writes) <= 3, writes  # header, body, (nothing per cell)


def test_grow_shrink_and_empty(book) -> None:
    write_table(book, "Events", plan(events(5), "default"))
    sheet = book.sheets["Events"]
    assert table_ref(sheet, "Events") == "A1:U6"
    write_table(book, "Events", plan(events(40), "default"))
    assert table_ref(sheet, "Events") == "A1:U41"
    assert cell_value(sheet, "A41") == events(40)[39]["title"]
    write_table(book, "Events", plan(events(3), "default"))
    assert table_ref(sheet, "Events") == "A1:U4"
    assert is_empty(sheet, "A5") and is_empty(sheet, "A41"), "rows given up are cleared"
    write_table(book, "Events", plan([], "default"))
    assert table_ref(sheet, "Events") == "A1:U2", "an empty result keeps one blank row"
    assert all(is_empty(sheet, f"{c}2") for c in "ABCDEFGHIJKLMNOPQRSTU")
    assert cell_value(sheet, "A1") == "Title"


def test_update_keeps_calculated_columns_and_user_formats(book) -> None:
    write_table(book, "Events", plan(events(5), "title, capacity, total_stock_allocated"))
    sheet = book.sheets["Events"]
    table = sheet.tables["Events"]
    table.resize(sheet["A1:D6"])
    sheet["D1"].value = "% sold"
    formula = "=IFERROR([@[Tickets sold]]/[@Capacity],0)"  # as Excel writes calculated columns
    sheet["D2:D6"].formula = formula
    sheet["B2:B6"].number_format = "0"  # the report builder's own format
    write_table(book, "Events", plan(events(9), "title, capacity, total_stock_allocated"))
    assert table_ref(sheet, "Events") == "A1:D10"
    assert cell_value(sheet, "D1") == "% sold"
    assert cell_formula(sheet, "D10") == formula
    assert cell_format(sheet, "B10") == "0", "a compatible user format is kept"


def test_growing_over_user_data_is_refused_and_changes_nothing(book) -> None:
    write_table(book, "Events", plan(events(3), "default"))
    sheet = book.sheets["Events"]
    sheet["C10"].value = "my note"
    before = sheet["A1:U4"].value
    with pytest.raises(WorkbookError, match="C10 holds data"):
        write_table(book, "Events", plan(events(20), "default"))
    assert table_ref(sheet, "Events") == "A1:U4"
    assert sheet["A1:U4"].value == before


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer(today=DEMO_TODAY, buckets={"example": events(12)}) as srv:
        yield srv


def test_insert_then_refresh_records_status_and_uses_the_status_bar(book, server) -> None:
    with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
        outcome = insert_query(book, client, new_query("example", "all"), now=NOW)
        assert outcome.ok
        sheet = book.sheets["Events"]
        assert table_ref(sheet, "Events") == "A1:U13"
        (query,) = read_queries(book)
        assert (query.rows, query.status, query.last_refreshed) == (12, "OK", NOW)
        assert refresh_on_open(book)

        server.buckets["example"] = events(20)
        later = NOW + dt.timedelta(hours=1)
        (outcome,) = refresh_book(book, client, now=later)
        assert outcome.ok and table_ref(sheet, "Events") == "A1:U21"
        (query,) = read_queries(book)
        assert (query.rows, query.last_refreshed) == (20, later)
    bar = [c[1] for c in engine_of(book).calls if c[0] == "status_bar"]
    assert any(str(b).startswith("SheepCRM: Events: page 1") for b in bar)
    assert bar[-1] is False, "the status bar is given back to Excel"


def test_failed_fetch_keeps_the_previous_table(book, server) -> None:
    with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
        insert_query(book, client, new_query("example", "all"), now=NOW)
    sheet = book.sheets["Events"]
    before = sheet["A1:U13"].value
    with FaultServer(lambda n, s: Reply(500, {"description": "boom"})) as fault:
        with SheepClient(api_key="k", base_url=fault.url) as client:
            (outcome,) = refresh_book(book, client, now=NOW + dt.timedelta(hours=1))
    assert not outcome.ok and "HTTP 500" in outcome.message
    assert table_ref(sheet, "Events") == "A1:U13"
    assert sheet["A1:U13"].value == before
    (query,) = read_queries(book)
    assert query.status.startswith("The sheepCRM API") and query.rows == 12
    assert query.last_refreshed == NOW + dt.timedelta(hours=1)


def test_refresh_this_sheet_only(book, server) -> None:
    with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
        insert_query(book, client, new_query("example", "all", sheet="A", table="TA"), now=NOW)
        insert_query(book, client, new_query("example", "all", sheet="B", table="TB"), now=NOW)
        server.buckets["example"] = events(2)
        outcomes = refresh_book(book, client, sheet_name="B", now=NOW)
    assert [o.query.name for o in outcomes] == ["TB"]
    assert table_ref(book.sheets["A"], "TA") == "A1:U13"
    assert table_ref(book.sheets["B"], "TB") == "A1:U3"
