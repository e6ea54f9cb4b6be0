"""Stored queries of every kind (events, full events, attendees, orders, tickets, ticket types)
and target (a state, or one event's uid): new files, refresh in place (grow and shrink), partial
failures, the live engine, all over real HTTP against the demo server."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from support import DEMO_TODAY
from support.xlwings_memory import new_book, table_ref, uninstall

from sheep_xl.api.client import SheepClient
from sheep_xl.cli import main
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.exceptions import InputError, WorkbookError
from sheep_xl.frames.query_kinds import KIND_NAMES, check_target, fetch_query_frame, resolve_kind
from sheep_xl.operations.export_parts import export_part
from sheep_xl.operations.in_excel import insert_query, refresh_book
from sheep_xl.operations.refresh import refresh_workbook, workbook_queries
from sheep_xl.tables.plan import plan_table
from sheep_xl.tables.queries import (
    QUERIES_SHEET,
    QUERIES_TABLE,
    QUERY_TITLES,
    new_query,
    parse_queries,
)
from sheep_xl.writers.live import read_queries

NOW = dt.datetime(2026, 11, 24, 9, 30)
ZURICH = "2bb96d6b308e1412b04361b0"  # a confirmed future event with two currencies


def running_uids() -> list[str]:
    today = DEMO_TODAY.isoformat()
    return [r["uid"] for r in demo_events(DEMO_TODAY) if r["start_date"] <= today <= r["end_date"]]


def client_of(server: DemoServer) -> SheepClient:
    return SheepClient(api_key=DEMO_API_KEY, base_url=server.url, backoff_base=0.01)


def table_values(path: Path, sheet: str) -> list[list[object]]:
    """Every cell of a sheet, read by an independent reader (python-calamine)."""
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def edit_query(path: Path, **cells: object) -> None:
    """Change cells of the first stored query, as a person editing the SheepCRM sheet would."""
    book = openpyxl.load_workbook(path)
    sheet = book[QUERIES_SHEET]
    (table,) = [t for t in sheet.tables.values() if t.name == QUERIES_TABLE]
    first = sheet[table.ref.split(":")[0]]
    header = {sheet.cell(first.row, c).value: c for c in range(1, sheet.max_column + 1)}
    for title, value in cells.items():
        # (openpyxl's cell(row, column, None) would leave the old value: assign it)
        sheet.cell(first.row + 1, header[title.replace("_", " ")]).value = value
    book.save(path)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --- kinds and targets --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("", "events"),
        ("Events", "events"),
        ("full event", "full events"),
        ("Full_Events", "full events"),
        ("attendee", "attendees"),
        ("ORDERS", "orders"),
        ("ticket", "tickets"),
        ("Ticket-Types", "ticket types"),
        ("listed ticket types", "listed ticket types"),
    ],
)
def test_kinds_in_any_spelling(typed: str, kind: str) -> None:
    assert resolve_kind(typed).name == kind


def test_an_unknown_kind_names_the_kinds() -> None:
    with pytest.raises(InputError, match="Unknown kind 'atendees': use one of events, full"):
        resolve_kind("atendees")


@pytest.mark.parametrize(
    ("kind", "state", "uid", "words"),
    [
        ("events", None, ZURICH, "not one event"),
        ("events", None, None, "needs a state"),
        ("attendees", "running", ZURICH, "not both or neither"),
        ("orders", None, None, "not both or neither"),
        ("listed ticket types", None, ZURICH, "only with a state"),
        ("tickets", "runing", None, "runing"),
        ("tickets", None, "../x", "uid"),
    ],
)
def test_targets_are_checked_before_any_request(kind, state, uid, words) -> None:
    with pytest.raises(InputError, match=words):
        check_target(resolve_kind(kind), state, uid)


def test_a_stored_query_of_a_bad_kind_or_target_is_a_workbook_error() -> None:
    with pytest.raises(WorkbookError, match="In query 'A' on the SheepCRM sheet: Unknown kind"):
        parse_queries(
            ("Query", "Sheet", "Table", "Kind", "Bucket", "State"),
            [("A", "S", "T", "atendees", "example", "running")],
        )[0].validate()
    with pytest.raises(WorkbookError, match="not both or neither"):
        new_query("example", "running", kind="orders", event_uid=ZURICH)


def test_older_workbooks_without_kind_columns_are_events() -> None:
    header = [t for t in QUERY_TITLES if t not in ("Kind", "Event UID")]
    row = ["Q", "Events", "Events", "sheepCRM", "example", "future", "default"]
    (query,) = parse_queries(header, [row + [None] * (len(header) - len(row))])
    assert (query.kind, query.event_uid, query.target) == ("events", "", "future")
    query.validate()


# --- new files and headless refresh --------------------------------------------------------

CASES = [
    ("attendees", None, ZURICH),
    ("attendees", "running", None),
    ("orders", None, ZURICH),
    ("orders", "running", None),
    ("tickets", "running", None),
    ("ticket-types", None, ZURICH),
    ("ticket-types", "running", None),
    ("event", None, ZURICH),
]


@pytest.mark.parametrize(("part", "state", "uid"), CASES)
def test_every_kind_writes_a_refreshable_file(demo, tmp_path, part, state, uid) -> None:
    out = tmp_path / f"{part}.xlsx"
    with client_of(demo) as client:
        export = export_part(client, "example", part, str(out), state=state, uid=uid, now=NOW)
        (query,) = workbook_queries(out)
        assert query.event_uid == (uid or "") and query.state == (state or "")
        assert query.status == "OK" and query.rows == export.result.rows > 0
        kind = query.query_kind
        expected = fetch_query_frame(client, kind, "example", state=state, uid=uid).frame
        sheet = kind.sheet
        before = table_values(out, sheet)
        demo.requests.clear()
        result = refresh_workbook(out, client, now=NOW + dt.timedelta(hours=1))
    assert demo.requests, "the refresh fetched again"
    (item,) = result.results
    assert item.rows == len(expected) and not item.partial
    after = table_values(out, sheet)
    assert after == before, "same data, same cells"
    assert after[0] == list(expected.columns)
    assert len(after) == len(expected) + 1
    plan = plan_table(expected, query.table)
    assert [str(v) for v in after[1]][:3] == [str(v) for v in next(plan.iter_rows())][:3]


def test_full_events_of_a_state_and_listed_ticket_types(demo, tmp_path) -> None:
    with client_of(demo) as client:
        for kind, out in (("full events", "full.xlsx"), ("listed ticket types", "listed.xlsx")):
            path = tmp_path / out
            query = new_query(
                "example", "running", "default", sheet="Data", table="Data", kind=kind
            )
            fetched = fetch_query_frame(client, query.query_kind, "example", state="running")
            from sheep_xl.operations.export import write_new_report

            write_new_report(path, [(query, plan_table(fetched.frame, "Data"))], ran_at=NOW)
            edit_query(path, Rows=0)
            refresh_workbook(path, client, now=NOW)
            (stored,) = workbook_queries(path)
            assert (stored.kind, stored.rows, stored.status) == (kind, len(fetched.frame), "OK")
            assert len(table_values(path, "Data")) == len(fetched.frame) + 1


def test_refresh_grows_and_shrinks_when_the_target_changes(demo, tmp_path) -> None:
    out = tmp_path / "attendees.xlsx"
    with client_of(demo) as client:
        export_part(client, "example", "attendees", str(out), uid=ZURICH, now=NOW)
        one = len(table_values(out, "Attendees")) - 1
        edit_query(out, State="running", Event_UID=None)
        refresh_workbook(out, client, now=NOW)
        many = fetch_query_frame(
            client, resolve_kind("attendees"), "example", state="running"
        ).frame
        grown = table_values(out, "Attendees")
        assert len(grown) - 1 == len(many) > one
        assert {row[0] for row in grown[1:]} == set(many["Event UID"])
        edit_query(out, State=None, Event_UID=ZURICH)
        refresh_workbook(out, client, now=NOW)
    shrunk = table_values(out, "Attendees")
    assert len(shrunk) - 1 == one
    assert {row[0] for row in shrunk[1:]} == {ZURICH}
    # nothing of the bigger table is left below the smaller one
    book = openpyxl.load_workbook(out)
    sheet = book["Attendees"]
    assert sheet.tables["Attendees"].ref.endswith(str(one + 1))
    assert all(c.value is None for c in sheet[one + 2])


def test_a_bad_kind_in_a_workbook_stops_before_any_request(demo, tmp_path, monkeypatch) -> None:
    out = tmp_path / "orders.xlsx"
    with client_of(demo) as client:
        export_part(client, "example", "orders", str(out), uid=ZURICH, now=NOW)
    edit_query(out, Kind="ordres")
    before = out.read_bytes()
    demo.requests.clear()
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    code, _, err = run("refresh", str(out))
    assert code == 2 and "Unknown kind 'ordres'" in err
    assert not demo.requests and out.read_bytes() == before


@pytest.fixture
def failing() -> Iterator[DemoServer]:
    with DemoServer(today=DEMO_TODAY, fail_uids=running_uids()[:1]) as server:
        yield server


def test_one_failing_event_keeps_the_others_rows_and_says_so(
    failing: DemoServer, tmp_path, monkeypatch
) -> None:
    out = tmp_path / "tickets.xlsx"
    query = new_query("example", "running", sheet="Tickets", table="Tickets", kind="tickets")
    from sheep_xl.operations.export import write_new_report

    with client_of(failing) as client:
        fetched = fetch_query_frame(client, query.query_kind, "example", state="running")
    write_new_report(out, [(query, plan_table(fetched.frame, "Tickets"))], ran_at=NOW)
    monkeypatch.setenv("SHEEP_API_URL", failing.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    code, _, err = run("refresh", str(out))
    bad = running_uids()[0]
    assert code == 4, err
    assert f"({bad})" in err and "refresh again later" in err
    (stored,) = workbook_queries(out)
    assert stored.status.startswith("Partial: 1 of 7 events could not be fetched")
    assert bad in stored.status
    rows = table_values(out, "Tickets")[1:]
    assert rows and bad not in {r[0] for r in rows}
    assert {r[0] for r in rows} == set(running_uids()[1:]) & {r[0] for r in rows}


# --- the live engine (xlwings' real classes on the in-memory engine) -----------------------


@pytest.fixture
def book() -> Iterator[object]:
    yield new_book("Report.xlsx", sheets=("Sheet1",))
    uninstall()


def test_live_insert_and_refresh_of_per_event_kinds(book, demo) -> None:
    with client_of(demo) as client:
        query = new_query(
            "example", "", sheet="Orders", table="Orders", kind="orders", event_uid=ZURICH
        )
        outcome = insert_query(book, client, query, now=NOW)
        assert outcome.ok, outcome.message
        expected = fetch_query_frame(client, query.query_kind, "example", uid=ZURICH).frame
        sheet = book.sheets["Orders"]  # type: ignore[attr-defined]
        n_cols = len(expected.columns)
        last = chr(ord("A") + n_cols - 1)
        assert table_ref(sheet, "Orders") == f"A1:{last}{len(expected) + 1}"
        (stored,) = read_queries(book)
        assert (stored.kind, stored.event_uid, stored.rows) == ("orders", ZURICH, len(expected))
        (outcome,) = refresh_book(book, client, now=NOW)
        assert outcome.ok


def test_live_partial_failure_is_recorded(book, failing) -> None:
    with client_of(failing) as client:
        query = new_query("example", "running", sheet="A", table="Attendees", kind="attendees")
        outcome = insert_query(book, client, query, now=NOW)
    assert not outcome.ok and outcome.message.startswith("Partial: 1 of 7 events")
    (stored,) = read_queries(book)
    assert stored.status == outcome.message and stored.rows


def test_kind_names_are_documented_in_the_readme() -> None:
    from support import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in KIND_NAMES:
        assert f"`{name}`" in readme, name
