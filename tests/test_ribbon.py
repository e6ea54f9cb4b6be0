"""Ribbon entry points, run as RunPython runs them (xw.Book.caller()), on the in-memory engine."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

import pytest
import xlwings as xw
from support import DEMO_TODAY
from support.xlwings_memory import (
    cell_format,
    cell_formula,
    engine_of,
    new_book,
    table_ref,
    uninstall,
)

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


# --- requests from the add-in: no name or path ever on a command line ------------------------

HOSTILE = [
    "$(rm -rf ~)",
    "`touch /tmp/pwned`",
    "a|b|c",
    'O\'Brien "quoted"',
    "two\nlines\r\nand\ttabs",
    "%PATH% ^& & <x>",
    "caf\u00e9 \u65e5\u672c \U0001f600",
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_request_values_survive_any_characters(text) -> None:
    line = ribbon.encode_value(text)
    assert re.fullmatch(r"x([0-9A-F]{4})*", line), "plain ASCII hex: no shell sees the text"
    assert ribbon.decode_value(line) == text
    request = ribbon.Request("refresh_sheet", f"/Users/{text}/Reports/{text}.xlsx", text, (text,))
    assert ribbon.parse_request(ribbon.request_text(request)) == request


def test_request_file_as_vba_writes_it() -> None:
    # SheepRun.HexText: "x" and four hex digits per UTF-16 code unit (an emoji is two units)
    assert ribbon.encode_value("A$\U0001f600") == "x00410024D83DDE00"
    text = "sheepcrm-request 1\rx0041\rx\rx\rx0024\r"  # Mac VBA may end lines with CR alone
    assert ribbon.parse_request(text) == ribbon.Request("A", "", "", ("$",))


def write_request(folder, request_id: str, request: ribbon.Request):
    path = folder / ribbon.request_file_name(request_id)
    path.write_bytes(ribbon.request_text(request).encode("ascii"))
    return path


@pytest.fixture
def request_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(ribbon.ENV_REQUEST_DIR, str(tmp_path))
    return tmp_path


def test_run_request_inserts_a_formula_on_a_hostile_sheet(request_dir) -> None:
    sheet_name = "$(rm -rf ~) `x` | 'q"
    full_name = "/tmp/$(touch pwned)|`id`/Report 'x'.xlsx"
    book = new_book("Report 'x'.xlsx", sheets=("Other", sheet_name), fullname=full_name)
    book.set_mock_caller()
    try:
        request = ribbon.Request(
            "insert_formula", full_name, book.name, ("example", "future", "title", sheet_name, "C3")
        )
        path = write_request(request_dir, "00AB12", request)
        ribbon.run_request("00AB12")
        assert cell_formula(book.sheets[sheet_name], "C3") == (
            '=SHEEP_EVENTS("example","future","title")'
        )
        assert not path.exists(), "the request file is removed once read"
    finally:
        del xw.Book._mock_caller
        uninstall()


def test_run_request_problems_are_one_sentence(book, request_dir) -> None:
    ribbon.run_request("not-hex; rm -rf ~")
    assert "malformed request" in messages(book)[-1]
    ribbon.run_request("ABCDEF")
    assert "request was not found" in messages(book)[-1]
    write_request(request_dir, "AB", ribbon.Request("os.system", book.fullname, book.name))
    ribbon.run_request("AB")
    assert "unknown action 'os.system'" in messages(book)[-1]
    write_request(request_dir, "AC", ribbon.Request("refresh_all", "C:\\gone.xlsx", "gone.xlsx"))
    ribbon.run_request("AC")
    assert "The workbook 'gone.xlsx' is no longer open" in messages(book)[-1]
    (request_dir / ribbon.request_file_name("AD")).write_text("sheepcrm-request 1\nx12G4\n")
    ribbon.run_request("AD")
    assert "could not be read" in messages(book)[-1]
    assert list(request_dir.iterdir()) == []


def test_run_request_without_a_workbook_for_account_actions(book, request_dir) -> None:
    write_request(request_dir, "01", ribbon.Request("sign_out", "", ""))
    ribbon.run_request("01")
    assert "You were not signed in on this computer." in messages(book)[-1]


def test_run_request_refreshes_on_open_and_cleans_stale_files(book, server, request_dir) -> None:
    import os

    ribbon.insert_table("example", "all", "title")
    server.buckets["example"] = events(2)
    stale = request_dir / ribbon.request_file_name("0LD")
    stale.write_text("left behind")
    os.utime(stale, (1, 1))
    write_request(request_dir, "02", ribbon.Request("refresh_on_open", book.fullname, book.name))
    ribbon.run_request("02")
    assert table_ref(book.sheets["All events"], "AllEvents") == "A1:A3"
    assert not stale.exists()


def test_insert_dialog_hands_the_choice_to_the_inserts(book, server, monkeypatch) -> None:
    from sheep_xl.excel import insert_dialog

    asked = []

    def fake_ask(target, default_bucket, **_):
        asked.append((target, default_bucket))
        return insert_dialog.Choice(
            "example", "future", "pick", ("Title", "Start date"), where=target_where[0]
        )

    monkeypatch.setattr(insert_dialog, "ask", fake_ask)
    target_where = ["sheet"]
    ribbon.insert_dialog("table", "Sheet1", "B2")
    assert table_ref(book.sheets["Future events"], "FutureEvents").startswith("A1:B")
    target_where[0] = "cell"
    ribbon.insert_dialog("formula", "Sheet1", "B2")
    assert cell_formula(book.sheets["Sheet1"], "B2") == (
        '=SHEEP_EVENTS("example","future","Title, Start date")'
    )
    assert asked[1][0] == insert_dialog.Target("formula", "Sheet1", "B2")


# --- inside the event: the Attendees, Orders and Tickets buttons ----------------------------


def test_attendees_orders_tickets_of_the_selected_row(book, server) -> None:
    ribbon.insert_table("example", "all", "default")
    events_sheet = book.sheets["All events"]
    header = events_sheet["A1"].expand("right").value
    uid_col, title_col = header.index("UID"), header.index("Title")
    row = events_sheet.range((3, 1)).expand("right").value
    uid, title = row[uid_col], row[title_col]
    for part, table in (("attendees", "Attendees"), ("orders", "Orders"), ("tickets", "Tickets")):
        ribbon.insert_event_part(part, "All events", "B3")
        found = [s for s in book.sheets if any(t.name == table for t in s.tables)]
        assert len(found) == 1, part
        sheet = found[0]
        assert sheet.name.startswith(f"{part.title()} {title}"[:20])
        body = sheet.tables[table].data_body_range.options(ndim=2).value
        assert body and {r[0] for r in body} == {uid}, "every row is the selected event's"
    queries = {q.table: q for q in read_queries(book)}
    assert (queries["Orders"].kind, queries["Orders"].event_uid) == ("orders", uid)
    assert queries["Tickets"].bucket == "example" and queries["Tickets"].status == "OK"
    # a second click on the same event gets its own sheet and table; refresh all runs them all
    ribbon.insert_event_part("attendees", "All events", "A3")
    assert "Attendees2" in {q.table for q in read_queries(book)}
    ribbon.refresh_all()
    assert all(q.status == "OK" for q in read_queries(book))


def test_inside_the_event_needs_a_row_of_an_events_table_with_uids(book, server) -> None:
    ribbon.insert_table("example", "all", "title")  # no UID column
    before = [s.name for s in book.sheets]
    ribbon.insert_event_part("orders", "Sheet1", "D9")
    assert "Select a row of an events table first" in messages(book)[-1]
    ribbon.insert_event_part("orders", "All events", "A1")  # the header is not a row
    assert "Select a row of an events table first" in messages(book)[-1]
    ribbon.insert_event_part("orders", "All events", "A2")
    assert "has no event uid in this row" in messages(book)[-1]
    ribbon.insert_event_part("refunds", "All events", "A2")
    assert "unknown part 'refunds'" in messages(book)[-1]
    assert [s.name for s in book.sheets] == before, "nothing was added"
    assert len(read_queries(book)) == 1


def test_inside_the_event_through_a_request_file(book, server, request_dir) -> None:
    ribbon.insert_table("example", "all", "uid, title")
    request = ribbon.Request(
        "insert_event_part", book.fullname, book.name, ("tickets", "All events", "A2")
    )
    write_request(request_dir, "0E", request)
    ribbon.run_request("0E")
    (tickets,) = [q for q in read_queries(book) if q.kind == "tickets"]
    assert tickets.event_uid == book.sheets["All events"]["A2"].value
