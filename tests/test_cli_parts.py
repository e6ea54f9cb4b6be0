"""The commands for what is inside each event, over real HTTP against the demo server."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import openpyxl
import pytest

from sheep_xl.cli import main
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.operations.refresh import workbook_queries

ZURICH = "2bb96d6b308e1412b04361b0"
TODAY = dt.date(2026, 11, 24)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def demo_env(demo: DemoServer, monkeypatch: pytest.MonkeyPatch) -> DemoServer:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    return demo


@pytest.mark.parametrize(
    ("command", "first_columns"),
    [
        ("attendees", ["Event UID", "Event", "Event start date", "Attendee", "Email"]),
        ("orders", ["Event UID", "Event", "Event start date", "Buyer", "Order date"]),
        ("tickets", ["Event UID", "Event", "Event start date", "Ticket type", "Buyer"]),
        ("ticket-types", ["Event UID", "Event", "Event start date", "Ticket type", "Price"]),
    ],
)
def test_one_event_to_csv_on_stdout(demo_env: DemoServer, command: str, first_columns) -> None:
    code, out, err = run(command, "example", ZURICH, "--out", "-", "--quiet")
    assert code == 0, err
    table = rows(out)
    assert list(table[0])[:5] == first_columns
    assert {r["Event"] for r in table} == {"Zürich study tour"}


def test_a_state_to_xlsx_with_progress(demo_env: DemoServer, tmp_path) -> None:
    out = tmp_path / "attendees.xlsx"
    code, _, err = run("attendees", "example", "--state", "running", "--out", str(out))
    assert code == 0, err
    assert "of 7 events" in err and f"to {out}" in err
    book = openpyxl.load_workbook(out)
    sheet = book["Attendees"]
    (table,) = sheet.tables.values()
    assert table.name == "Attendees"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Event UID", "Event", "Event start date"]
    assert isinstance(sheet.cell(2, 3).value, dt.datetime)  # a real date
    assert sheet.cell(2, 3).is_date
    running = {
        r["uid"]
        for r in demo_events(TODAY)
        if r["start_date"] <= TODAY.isoformat() <= r["end_date"]
    }
    assert {c.value for c in sheet["A"][1:]} <= running
    # the stored query: attendees of the state, so refresh updates the table later
    (query,) = workbook_queries(out)
    assert (query.kind, query.state, query.event_uid, query.table) == (
        "attendees",
        "running",
        "",
        "Attendees",
    )
    assert query.status == "OK" and query.rows == sheet.max_row - 1


def test_orders_columns_and_currencies(demo_env: DemoServer) -> None:
    code, out, err = run(
        "orders", "example", ZURICH, "--out", "-", "--columns", "buyer, currency, total, paid"
    )
    assert code == 0, err
    table = rows(out)
    assert list(table[0]) == ["Buyer", "Currency", "Total", "Paid"]
    assert {r["Currency"] for r in table} == {"chf", "eur"}


def test_the_full_event(demo_env: DemoServer) -> None:
    code, out, err = run("event", "example", ZURICH, "--out", "-")
    assert code == 0, err
    (row,) = rows(out)
    assert row["Title"] == "Zürich study tour" and "Dietary requirements" in row
    assert row["Timing notes"].startswith("Doors and registration")


def test_events_with_full_details(demo_env: DemoServer, tmp_path) -> None:
    out = tmp_path / "events.csv"
    code, _, err = run(
        "events", "example", "running", "--details", "full", "--out", str(out), "--columns", "all"
    )
    assert code == 0, err
    table = rows(out.read_text(encoding="utf-8-sig"))
    assert len(table) == 7 and all(r["Timing notes"] for r in table)
    paths = [r.path for r in demo_env.requests]
    assert sum("/booking/" in p for p in paths) == 7


def test_ticket_types_from_the_listing_make_no_request_per_event(demo_env: DemoServer) -> None:
    code, out, err = run(
        "ticket-types", "example", "--state", "future", "--from-listing", "-q", "--out", "-"
    )
    assert code == 0, err
    assert {"Income", "On sale"} <= set(rows(out)[0])
    assert not any("/booking/" in r.path for r in demo_env.requests)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["attendees", "example"], "Give one event's uid or --state"),
        (["orders", "example", ZURICH, "--state", "future"], "not both"),
        (["tickets", "example", "--state", "futur"], "Unknown event state"),
        (["tickets", "example", ZURICH, "--columns", "amont"], "did you mean 'amount'"),
        (["attendees", "example", "../x"], "Invalid event uid"),
        (["orders", "example", ZURICH, "--out", "x.pdf"], "must end in .xlsx or .csv"),
        (["orders", "example", "--state", "all", "--concurrency", "99"], "Invalid concurrency"),
        (["ticket-types", "example", ZURICH, "--from-listing"], "only with a state"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    demo_env: DemoServer, tmp_path, monkeypatch, argv, words
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(*argv)
    assert code == 2
    assert words in err
    assert len(demo_env.requests) == 0
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoServer]:
    with DemoServer(today=TODAY, fail_uids={ZURICH}) as server:
        monkeypatch.setenv("SHEEP_API_URL", server.url)
        monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
        yield server


def test_a_failing_event_is_named_and_the_rest_written(failing: DemoServer, tmp_path) -> None:
    out = tmp_path / "tickets.csv"
    code, _, err = run("tickets", "example", "--state", "running", "--out", str(out), "-q")
    assert code == 4
    assert f"no tickets for Zürich study tour ({ZURICH})" in err
    assert "1 of 7 event(s) could not be fetched" in err
    table = rows(out.read_text(encoding="utf-8-sig"))
    assert table and "Zürich study tour" not in {r["Event"] for r in table}


def test_details_of_a_failing_event_keep_its_summary(failing: DemoServer) -> None:
    code, out, err = run("events", "example", "running", "--details", "full", "--out", "-", "-q")
    assert code == 4 and "no events for Zürich study tour" in err
    table = rows(out)
    assert "Zürich study tour" in {r["Title"] for r in table} and len(table) == 7


def test_one_failing_event_alone_is_an_error(failing: DemoServer) -> None:
    code, out, err = run("orders", "example", ZURICH, "--out", "-")
    assert code == 4 and "HTTP 500" in err and out == ""


def test_columns_of_another_kind() -> None:
    code, out, _ = run("columns", "--kind", "attendees")
    assert code == 0
    assert "* attendee_name" in out and "  guest_ref" in out
    assert out.splitlines()[0].split()[1] == "event_uid"


def test_every_command_has_help() -> None:
    for command in ("event", "attendees", "orders", "tickets", "ticket-types"):
        assert main([command, "--help"], out=io.StringIO(), err=io.StringIO()) == 0
