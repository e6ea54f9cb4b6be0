"""Ribbon entry points, run as RunPython runs them (xw.Book.caller()), on the in-memory engine."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import xlwings as xw
from conftest import DEMO_TODAY
from xlwings_memory import cell_format, cell_formula, engine_of, new_book, table_ref, uninstall

from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.epoch import function_epoch
from sheep_xl.excel import ribbon
from sheep_xl.exceptions import ApiKeyRejectedError
from sheep_xl.writers.live import read_queries, refresh_on_open

FAKE_KEY = "sk_live_RIBBON_0123456789abcdefXYZ"


def events(n: int) -> list[dict]:
    out = []
    for i, record in enumerate(demo_events(DEMO_TODAY)[:n]):
        record = copy.deepcopy(record)
        record["uid"] = f"{i:024x}"
        record.pop("series_id", None)
        out.append(record)
    return out


@pytest.fixture
def server(monkeypatch) -> Iterator[DemoServer]:
    with DemoServer(today=DEMO_TODAY, buckets={"example": events(8)}) as srv:
        monkeypatch.setenv("SHEEP_API_URL", srv.url)
        monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
        yield srv


@pytest.fixture
def book() -> Iterator[xw.Book]:
    book = new_book("Report.xlsx", sheets=("Sheet1",))
    book.set_mock_caller()
    yield book
    if hasattr(xw.Book, "_mock_caller"):
        del xw.Book._mock_caller
    uninstall()


def messages(book: xw.Book) -> list[str]:
    return [str(c[1]) for c in engine_of(book).calls if c[0] == "status_bar" and c[1]]


def test_insert_table_then_refresh_all(book, server) -> None:
    ribbon.insert_table("example", "Confirmed", "default")
    sheet = book.sheets["Confirmed events"]
    assert table_ref(sheet, "ConfirmedEvents") == "A1:U9"
    (query,) = read_queries(book)
    assert (query.bucket, query.state, query.table, query.status) == (
        "example",
        "Confirmed",
        "ConfirmedEvents",
        "OK",
    )
    assert refresh_on_open(book), "inserting a table marks the workbook for refresh on open"

    server.buckets["example"] = events(3)
    before = function_epoch()
    ribbon.refresh_all()
    assert table_ref(sheet, "ConfirmedEvents") == "A1:U4"
    assert function_epoch() != before, "the worksheet functions are told to fetch again"


def test_second_insert_gets_unique_names(book, server) -> None:
    ribbon.insert_table("example", "all", "title, start date")
    ribbon.insert_table("example", "all", "title")
    ribbon.insert_table("example", "future", "title")
    assert table_ref(book.sheets["All events"], "AllEvents") == "A1:B9"
    assert table_ref(book.sheets["All events2"], "AllEvents2") == "A1:A9"
    assert table_ref(book.sheets["Future events"], "FutureEvents") == "A1:A2", "none in future"
    assert [q.table for q in read_queries(book)] == ["AllEvents", "AllEvents2", "FutureEvents"]


def test_refresh_this_sheet_and_on_open(book, server) -> None:
    ribbon.insert_table("example", "all", "title")
    server.buckets["example"] = events(5)
    ribbon.refresh_sheet("All events")
    assert table_ref(book.sheets["All events"], "AllEvents") == "A1:A6"
    server.buckets["example"] = events(2)
    ribbon.refresh_on_open(book.fullname)
    assert table_ref(book.sheets["All events"], "AllEvents") == "A1:A3"
    ribbon.toggle_refresh_on_open()
    assert not refresh_on_open(book)
    server.buckets["example"] = events(7)
    ribbon.refresh_on_open(book.fullname)
    assert table_ref(book.sheets["All events"], "AllEvents") == "A1:A3", "marker off: no refresh"


def test_errors_become_one_sentence_and_change_nothing(book, server, monkeypatch) -> None:
    ribbon.insert_table("example", "all", "title")
    monkeypatch.setenv("SHEEP_API_KEY", FAKE_KEY)
    server.buckets["example"] = events(2)
    ribbon.refresh_all()
    assert table_ref(book.sheets["All events"], "AllEvents") == "A1:A9", "previous table kept"
    (query,) = read_queries(book)
    assert "rejected the API key" in query.status
    shown = " ".join(messages(book))
    assert "rejected the API key" in shown and FAKE_KEY not in shown
    ribbon.insert_table("example", "confirmd", "title")
    assert "did you mean 'confirmed'" in messages(book)[-1]


def test_insert_formula_writes_it_and_formats_the_spill(book) -> None:
    ribbon.insert_formula(
        "example", "confirmed", "title, start date, start_time, capacity", "Sheet1", "B3"
    )
    sheet = book.sheets["Sheet1"]
    assert cell_formula(sheet, "B3") == (
        '=SHEEP_EVENTS("example","confirmed","title, start date, start_time, capacity")'
    )
    assert cell_format(sheet, "C4") == "m/d/yyyy" and cell_format(sheet, "C5000") == "m/d/yyyy"
    assert cell_format(sheet, "D4") == "h:mm" and cell_format(sheet, "E4") == "#,##0"
    assert ribbon.formula_text("a", 'b"c') == '=SHEEP_EVENTS("a","b""c")'


def test_sign_in_checks_then_stores_and_sign_out_removes(server, isolated_settings) -> None:
    with pytest.raises(ApiKeyRejectedError):
        ribbon.sign_in_with(FAKE_KEY, "example")
    assert isolated_settings.passwords == {}
    message = ribbon.sign_in_with(DEMO_API_KEY, "example")
    assert message.startswith("Signed in") and DEMO_API_KEY not in message
    assert list(isolated_settings.passwords.values()) == [DEMO_API_KEY]


def test_refresh_all_of_a_demo_table_needs_no_key(book, monkeypatch) -> None:
    """A table whose query's source is the built-in demo refreshes with no key and no server
    started by hand; the sheepCRM query beside it still needs the key and says so."""
    from sheep_xl.tables.queries import SOURCE_DEMO, new_query
    from sheep_xl.writers.live import write_queries

    monkeypatch.delenv("SHEEP_API_KEY", raising=False)
    demo_query = new_query("example", "future", "title, start date", source=SOURCE_DEMO)
    real_query = new_query("example", "past", "title", sheet="Past", table="Past")
    write_queries(book, [demo_query, real_query])
    ribbon.refresh_all()
    queries = {q.name: q for q in read_queries(book)}
    assert queries["Events"].status == "OK" and queries["Events"].rows
    assert queries["Events"].source == SOURCE_DEMO
    assert table_ref(book.sheets["Events"], "Events").startswith("A1:B")
    assert "API key" in queries["Past"].status, "a sheepCRM query never goes to the demo"
