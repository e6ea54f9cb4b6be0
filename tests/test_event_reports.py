"""The reports about what is inside events: the Event pack (one event) and Attendance and income
across events, built from the demo data through the command line as a person would.

Each must build headless, pass the OOXML checks, carry a cached value for every formula cell
(read back with python-calamine, which never recalculates) equal to what pandas computes from
the same records fetched independently, refresh headless keeping everything, and open, compute
and render in LibreOffice. The event pack must also follow another event: chosen with
``--event`` when built, or by its Event UID cells on the SheepCRM sheet, then refreshed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from support import DEMO_TODAY, REPO_ROOT, ooxml_check
from support.cached_values import assert_libreoffice_agrees, formula_values
from support.event_reports import (
    ATTENDANCE,
    CONFERENCE,
    EVENT_PACK,
    ZURICH,
    choose_event,
    labelled,
    sheet_grid,
    table_frames,
)

from sheep_xl.cli import main
from sheep_xl.operations.refresh import workbook_queries
from sheep_xl.operations.sources import Connections
from sheep_xl.reports.templates import find_templates, parse_template
from tools import libreoffice as lo

NOW = "2026-11-24T09:00:00"
LATER = dt.datetime(2026, 11, 25, 8, 0)


def cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(args), out=io.StringIO(), err=err)
    return code, err.getvalue()


def build(out: Path, *extra: str) -> dict[str, Path]:
    code, err = cli(
        "templates",
        "build",
        "--demo",
        "--out",
        str(out),
        "--now",
        NOW,
        "--today",
        DEMO_TODAY.isoformat(),
        "--templates",
        str(REPO_ROOT / "workbook_templates"),
        "--only",
        "event-pack",
        "--only",
        "attendance-income",
        *extra,
    )
    assert code == 0, err
    return {p.name: p for p in out.glob("*.xlsx")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("event-reports"))


@pytest.fixture(scope="module")
def refreshed(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both reports after ``sheep-xl refresh FILE`` (their source is the demo: no key)."""
    folder = tmp_path_factory.mktemp("refreshed")
    out = {}
    for name, path in built.items():
        copy = folder / name
        shutil.copyfile(path, copy)
        code, err = cli("refresh", str(copy), "--quiet")
        assert code == 0, err
        out[name] = copy
    return out


def fetched(path: Path, today: dt.date = DEMO_TODAY) -> dict[str, pd.DataFrame]:
    """Each stored query of a workbook fetched again from the demo, by table name: the same
    records, got without the workbook."""
    queries = workbook_queries(path)
    with Connections(demo_today=today) as sources:
        return {q.table: sources.fetch(q).frame for q in queries}


# --- what pandas says the summaries are -----------------------------------------------------------


def money(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per currency (upper case): orders, unpaid, total, paid, outstanding, fees."""
    out = {}
    for currency, rows in frame.groupby(frame["Currency"].str.upper()):
        out[str(currency)] = {
            "Orders": len(rows),
            "Unpaid": int((rows["Outstanding"].fillna(0) > 0).sum()),
            "Total": rows["Total"].fillna(0).sum(),
            "Paid": rows["Paid"].fillna(0).sum(),
            "Outstanding": rows["Outstanding"].fillna(0).sum(),
            "Fees": rows["Processing fees"].fillna(0).sum(),
        }
    return out


def block(grid: list[list[Any]], title: str) -> dict[str, dict[str, Any]]:
    """The lines of a summary block (label -> column title -> value), from its title to the
    first empty line."""
    start = next(i for i, row in enumerate(grid) if row and row[0] == title)
    header = grid[start + 1]
    lines: dict[str, dict[str, Any]] = {}
    for row in grid[start + 2 :]:
        if not row or row[0] in ("", None):
            break
        lines[str(row[0])] = {str(h): v for h, v in zip(header[1:], row[1:], strict=False) if h}
    return lines


def day(value: Any) -> dt.date:
    """A date cell as python-calamine reads it (a date, or a datetime at midnight)."""
    return value.date() if isinstance(value, dt.datetime) else value


WARNINGS = ("More currencies than", "in a currency these lines do not list", "has no columns")


def warnings(grid: list[list[Any]]) -> list[str]:
    """The by-currency notes a summary shows (each is empty unless it has something to say)."""
    return [str(v) for row in grid for v in row if any(w in str(v) for w in WARNINGS)]


def check_event_pack(path: Path, data: dict[str, pd.DataFrame]) -> None:
    event = data["EventDetails"].iloc[0]
    attendees, orders, types = data["SignIn"], data["Orders"], data["TicketTypes"]
    values = formula_values(path)  # every formula cell carries a cached value
    assert len(values) > 100

    summary = sheet_grid(path, "Summary")
    assert summary[1][0] == event["Title"]
    people = labelled(summary)
    assert people["Attendees"][0] == len(attendees)
    assert people["Guests"][0] == int(attendees["Guest"].fillna(False).sum())
    assert people["Orders"][0] == orders["Buyer URI"].nunique()
    assert people["Capacity"][0] == event["Capacity"]

    lines = block(summary, "Orders and payments, per currency")
    expected = money(orders)
    assert [c for c in lines if c in expected] == sorted(expected), "every currency, in order"
    for currency, wanted in expected.items():
        for column, value in wanted.items():
            assert lines[currency][column] == pytest.approx(value), (currency, column)

    tickets = block(summary, "Tickets by type")
    total = tickets.pop("All ticket types")
    assert total["Allocated"] == types["Allocated"].sum()
    assert total["Stock"] == types["Total"].sum()
    assert total["Attendees"] == len(attendees)
    shown = {k: v for k, v in tickets.items() if k}
    assert list(shown) == list(types["Ticket type"])
    for _, row in types.iterrows():
        line = shown[row["Ticket type"]]
        assert line["Currency"] == row["Currency"].upper()
        assert line["Price"] == pytest.approx(row["Price"])
        assert line["Allocated"] == row["Allocated"] and line["Stock"] == row["Total"]
        assert line["% sold"] == pytest.approx(row["Allocated"] / row["Total"])
        assert line["Attendees"] == int((attendees["Ticket"] == row["Ticket type"]).sum())

    status = block(summary, "Attendees by status")
    counts = attendees["Status"].value_counts()
    for label in ("accepted", "invited", "attended", "no-show", "declined"):
        assert status[label]["Attendees"] == counts.get(label, 0), label
    assert status["(other)"]["Attendees"] == 0 and status["Total"]["Attendees"] == len(attendees)
    assert not warnings(summary)

    cover = labelled(sheet_grid(path, "Cover"))
    assert cover["Event"][0] == event["Title"]
    assert cover["Event UID"][0] == event["UID"]
    assert cover["Venue"][0] == event["Location"]
    assert day(cover["Date"][0]) == event["Start date"].date()
    details = labelled(sheet_grid(path, "Details"))
    assert day(details["Start date"][0]) == event["Start date"].date()
    assert details["Members only"][0] == ("Yes" if event["Members only"] else "No")
    diet = event["Dietary requirements"]
    assert details["Dietary requirements"][0] == ("" if pd.isna(diet) else diet)
    assert details["UID"][0] == event["UID"]

    tables = table_frames(path)
    sign_in = tables["SignIn"]
    assert list(sign_in.columns) == ["No.", "Attendee", "Ticket", "Guest", "Status", "Signature"]
    assert list(sign_in["No."]) == list(range(1, len(attendees) + 1))
    assert sorted(sign_in["Attendee"]) == sorted(attendees["Attendee"])
    assert set(sign_in["Signature"]) == {""}
    assert tables["Orders"]["Order count"].sum() == orders["Buyer URI"].nunique()


def check_attendance(path: Path, data: dict[str, pd.DataFrame]) -> None:
    events, attendees, orders = data["ByEvent"], data["Attendees"], data["Orders"]
    values = formula_values(path)
    assert len(values) > 1000
    by_event = table_frames(path)["ByEvent"].set_index("UID")
    assert set(by_event.index) == set(events["UID"])
    currencies = sorted(orders["Currency"].str.lower().unique())
    money_columns = [f"{c.upper()} {what}" for c in currencies for what in ("paid", "outstanding")]
    assert [c for c in by_event.columns if c.endswith(("paid", "outstanding"))] == money_columns
    guests = attendees[attendees["Guest"].fillna(False).astype(bool)]
    for uid, row in by_event.iterrows():
        assert row["Attendees"] == int((attendees["Event UID"] == uid).sum()), uid
        assert row["Guests"] == int((guests["Event UID"] == uid).sum()), uid
        mine = orders[orders["Event UID"] == uid]
        assert row["Orders"] == mine["Buyer URI"].nunique(), uid
        for currency in currencies:
            lines = mine[mine["Currency"].str.lower() == currency]
            paid, owed = lines["Paid"].fillna(0).sum(), lines["Outstanding"].fillna(0).sum()
            assert row[f"{currency.upper()} paid"] == pytest.approx(paid), (uid, currency)
            assert row[f"{currency.upper()} outstanding"] == pytest.approx(owed), (uid, currency)

    summary = sheet_grid(path, "Summary")
    totals = labelled(summary)
    assert totals["Events"][0] == len(events)
    assert totals["Attendees"][0] == len(attendees)
    assert totals["Guests"][0] == len(guests)
    assert totals["Orders"][0] == len(orders[["Event UID", "Buyer URI"]].drop_duplicates())
    sold = pd.to_numeric(by_event["Tickets sold"], errors="coerce").fillna(0)
    differ = int((by_event["Attendees"] != sold).sum())
    assert totals["Events whose attendees and tickets sold differ"][0] == differ
    lines = block(summary, "Orders and payments, per currency")
    for currency, wanted in money(orders).items():
        for column, value in wanted.items():
            assert lines[currency][column] == pytest.approx(value), (currency, column)
    assert not warnings(summary), "no currency is missing from the lines or from By event"


# --- building -------------------------------------------------------------------------------------


def test_both_reports_build_headless_from_the_demo(built: dict[str, Path]) -> None:
    assert set(built) == {EVENT_PACK, ATTENDANCE}
    pack = openpyxl.load_workbook(built[EVENT_PACK])
    assert pack.sheetnames == [
        "Cover",
        "Summary",
        "Details",
        "Sign-in",
        "Orders",
        "Ticket types",
        "Event data",
        "Currencies",
        "SheepCRM",
    ]
    assert pack["Currencies"].sheet_state == "hidden"
    across = openpyxl.load_workbook(built[ATTENDANCE])
    assert across.sheetnames == [
        "Cover",
        "Summary",
        "By event",
        "Attendees",
        "Orders",
        "Currencies",
        "SheepCRM",
    ]
    queries = {q.table: q for q in workbook_queries(built[EVENT_PACK])}
    assert {t: q.kind for t, q in queries.items()} == {
        "EventDetails": "full events",
        "SignIn": "attendees",
        "Orders": "orders",
        "TicketTypes": "ticket types",
    }
    assert {q.event_uid for q in queries.values()} == {ZURICH}
    assert all(q.is_demo and not q.state for q in queries.values())
    queries = {q.table: q for q in workbook_queries(built[ATTENDANCE])}
    assert {t: (q.kind, q.state) for t, q in queries.items()} == {
        "ByEvent": ("events", "future+confirmed"),
        "Attendees": ("attendees", "future+confirmed"),
        "Orders": ("orders", "future+confirmed"),
    }


def test_the_demo_event_has_two_currencies_unpaid_orders_and_guests(built) -> None:
    data = fetched(built[EVENT_PACK])
    orders = data["Orders"]
    assert orders["Currency"].nunique() == 2
    assert (orders["Outstanding"] > 0).any() and not orders["Fully paid"].all()
    assert orders.groupby("Buyer URI")["Currency"].nunique().max() == 2, "an order in both"
    assert data["SignIn"]["Guest"].any()


@pytest.mark.parametrize("name", [EVENT_PACK, ATTENDANCE])
def test_reports_pass_the_ooxml_checks(built, refreshed, name) -> None:
    ooxml_check.require()
    ooxml_check.assert_valid(built[name])
    ooxml_check.assert_valid(refreshed[name])


def test_event_pack_values_are_cached_and_equal_pandas(built) -> None:
    check_event_pack(built[EVENT_PACK], fetched(built[EVENT_PACK]))


def test_attendance_values_are_cached_and_equal_pandas(built) -> None:
    check_attendance(built[ATTENDANCE], fetched(built[ATTENDANCE]))


def test_money_is_never_added_across_currencies(built) -> None:
    """Every sum of an amount in a summary is for one currency: a SUMIFS with a currency
    criterion, never a SUM or SUMPRODUCT over a table's whole money column."""
    money_column = r"Orders\[(?:Paid|Outstanding|Total|Processing fees)\]"
    for name in (EVENT_PACK, ATTENDANCE):
        wb = openpyxl.load_workbook(built[name])
        sums = 0
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    text = str(cell.value) if cell.data_type == "f" else ""
                    assert not re.search(rf"(?:SUM|SUMPRODUCT)\([^)]*{money_column}", text)
                    for found in re.finditer(rf"SUMIFS\({money_column}[^)]*\)", text):
                        assert "Orders[Currency]," in found.group(0), (ws.title, cell.coordinate)
                        sums += 1
        assert sums >= 4, name


# --- choosing the event ---------------------------------------------------------------------------


def test_event_option_builds_the_pack_for_another_event(tmp_path) -> None:
    code, err = cli(
        "templates",
        "build",
        "--demo",
        "--out",
        str(tmp_path),
        "--only",
        "event-pack",
        "--event",
        CONFERENCE,
        "--now",
        NOW,
        "--today",
        DEMO_TODAY.isoformat(),
    )
    assert code == 0, err
    path = tmp_path / EVENT_PACK
    assert {q.event_uid for q in workbook_queries(path)} == {CONFERENCE}
    data = fetched(path)
    assert data["EventDetails"]["UID"].iloc[0] == CONFERENCE
    assert data["Orders"]["Currency"].nunique() == 3, "pounds, euros and dollars"
    check_event_pack(path, data)


def test_event_option_is_checked_before_anything_is_built(tmp_path) -> None:
    out = tmp_path / "out"
    code, err = cli("templates", "build", "--demo", "--out", str(out), "--event", "not a uid!")
    assert code == 2 and "uid" in err.lower()
    code, err = cli(
        "templates",
        "build",
        "--demo",
        "--out",
        str(out),
        "--only",
        "past-events",
        "--event",
        ZURICH,
    )
    assert code == 2 and "--only event-pack" in err
    code, err = cli(
        "templates", "build", "--bucket", "example", "--out", str(out), "--only", "event-pack"
    )
    assert code == 2 and "--event UID" in err
    assert not out.exists() or not list(out.iterdir()), "nothing was built"


def test_a_pack_without_an_event_is_skipped_when_building_them_all(tmp_path) -> None:
    """Building every report for a bucket does not guess an event: the pack is skipped and
    the message says how to build it (here with the demo data and a template without
    demo_event, so nothing needs a key)."""
    folder = tmp_path / "templates"
    folder.mkdir()
    text = (REPO_ROOT / "workbook_templates" / "event-pack.toml").read_text(encoding="utf-8")
    (folder / "event-pack.toml").write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("demo_event")),
        encoding="utf-8",
    )
    shutil.copyfile(
        REPO_ROOT / "workbook_templates" / "past-events.toml", folder / "past-events.toml"
    )
    out = tmp_path / "out"
    code, err = cli("templates", "build", "--demo", "--out", str(out), "--templates", str(folder))
    assert code == 0, err
    assert "Skipped event-pack" in err and "--only event-pack --event UID" in err
    assert [p.name for p in out.glob("*.xlsx")] == ["past-events.xlsx"]


def test_changing_the_event_uid_cells_then_refreshing_follows_the_new_event(
    built, tmp_path
) -> None:
    path = tmp_path / EVENT_PACK
    shutil.copyfile(built[EVENT_PACK], path)
    before_values = formula_values(path)
    before = table_frames(path)
    choose_event(path, CONFERENCE)
    code, err = cli("refresh", str(path), "--quiet")
    assert code == 0, err
    after = table_frames(path)
    for table in ("EventDetails", "SignIn", "Orders", "TicketTypes"):
        assert not before[table].equals(after[table]), f"table {table} changed"
    assert after["EventDetails"]["UID"].iloc[0] == CONFERENCE
    after_values = formula_values(path)
    changed = {k for k in before_values if before_values[k] != after_values.get(k)}
    assert {sheet for sheet, _ in changed} >= {"Cover", "Summary", "Details", "Sign-in"}
    check_event_pack(path, fetched(path, dt.date.today()))  # a refresh's demo is of today
    cover = sheet_grid(path, "Cover")
    assert not any("asks for another event" in str(v) for row in cover for v in row)


def test_the_cover_says_when_the_queries_name_different_events(built, tmp_path) -> None:
    path = tmp_path / EVENT_PACK
    shutil.copyfile(built[EVENT_PACK], path)
    choose_event(path, CONFERENCE, queries=["Attendees"])
    cover = sheet_grid(path, "Cover")
    assert any("asks for another event" in str(v) for row in cover for v in row)


# --- refreshing -----------------------------------------------------------------------------------


def layout(path: Path) -> dict[str, Any]:
    """What a refresh must keep: sheets, tables and their columns, formulas, conditional
    formats, print set-up, frozen panes, hidden columns and row heights."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {"sheets": [(ws.title, ws.sheet_state) for ws in wb.worksheets]}
    for ws in wb.worksheets:
        out[ws.title] = {
            "tables": {t.name: [c.name for c in t.tableColumns] for t in ws.tables.values()},
            "formulas": {
                c.coordinate: c.value
                for row in ws.iter_rows()
                for c in row
                if c.data_type == "f" and "[#This Row]" not in str(c.value)
            },
            "rules": sorted(
                (r.formula[0] if r.formula else str(r.operator), r.type)
                for cf in ws.conditional_formatting
                for r in cf.rules
            ),
            "print": (
                ws.page_setup.orientation,
                ws.page_setup.fitToWidth,
                ws.print_title_rows,
                ws.freeze_panes,
                ws.sheet_format.defaultRowHeight,
            ),
            "hidden": sorted(k for k, d in ws.column_dimensions.items() if d.hidden),
        }
    return out


@pytest.mark.parametrize("name", [EVENT_PACK, ATTENDANCE])
def test_refresh_keeps_everything(built, refreshed, name) -> None:
    assert layout(refreshed[name]) == layout(built[name])
    built_at = dt.datetime.fromisoformat(NOW)
    assert all(q.last_refreshed != built_at for q in workbook_queries(refreshed[name]))
    data = fetched(refreshed[name], dt.date.today())  # refresh uses the real today
    if name == EVENT_PACK:
        check_event_pack(refreshed[name], data)
    else:
        check_attendance(refreshed[name], data)


def test_sign_in_sheet_is_print_ready(built) -> None:
    ws = openpyxl.load_workbook(built[EVENT_PACK])["Sign-in"]
    assert ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0, "as many pages down as the list needs"
    assert ws.print_title_rows == "$1:$4", "the event's name and the header on every page"
    assert ws.freeze_panes == "A5"
    assert ws.sheet_format.defaultRowHeight == 30 and ws.sheet_format.customHeight
    table = ws.tables["SignIn"]
    (grid,) = [cf for cf in ws.conditional_formatting if cf.rules[0].formula == ["TRUE"]]
    assert str(grid.sqref) == table.ref.replace("A4", "A5"), "borders over every row"
    assert grid.rules[0].dxf.border.left.style == "thin"
    assert ws.column_dimensions["F"].width >= 30, "room to sign"


def test_unpaid_orders_are_highlighted(built) -> None:
    for name in (EVENT_PACK, ATTENDANCE):
        ws = openpyxl.load_workbook(built[name])["Orders"]
        table = ws.tables["Orders"]
        titles = [c.name for c in table.tableColumns]
        rules = [
            (cf, r) for cf in ws.conditional_formatting for r in cf.rules if r.type == "expression"
        ]
        ((cf, rule),) = rules
        letter = {t: openpyxl.utils.get_column_letter(i + 1) for i, t in enumerate(titles)}
        assert str(cf.sqref) == table.ref.replace("A1", "A2"), "every row of the table"
        assert rule.formula == [
            f'AND(${letter["Buyer URI"]}2<>"",OR(N(${letter["Outstanding"]}2)>0,'
            f"${letter['Fully paid']}2=FALSE))"
        ]
        assert ws.column_dimensions[letter["Buyer URI"]].hidden


def test_templates_carry_the_new_query_fields() -> None:
    templates = {t.path.stem: t for t in find_templates(REPO_ROOT / "workbook_templates")}
    pack = templates["event-pack"]
    assert pack.needs_event and pack.demo_event == ZURICH
    assert {q.event for q in pack.queries} == {"{event}"}
    assert not templates["attendance-income"].needs_event
    old = templates["upcoming-capacity"]  # written before kinds: every query is of events
    assert {q.kind for q in old.queries} == {"events"} and not old.needs_event


def test_a_bad_kind_or_target_in_a_template_is_one_sentence(tmp_path) -> None:
    from sheep_xl.exceptions import WorkbookError

    head = '[report]\nfile = "x.xlsx"\ntitle = "X"\nabout = "x"\n[[query]]\nname = "Q"\n'
    head += 'sheet = "S"\ntable = "T"\n'
    with pytest.raises(WorkbookError, match="Unknown kind 'visitors'"):
        parse_template(head + 'kind = "visitors"\nstate = "future"\n', tmp_path / "x.toml")
    with pytest.raises(WorkbookError, match="either one event's uid or a state"):
        parse_template(head + 'kind = "orders"\n', tmp_path / "x.toml")
    with pytest.raises(WorkbookError, match="not one event"):
        parse_template(head + 'event = "{event}"\n', tmp_path / "x.toml")
    fine = parse_template(head + 'kind = "attendee"\nevent = "{event}"\n', tmp_path / "x.toml")
    assert fine.queries[0].kind == "attendees" and fine.needs_event


# --- LibreOffice ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [EVENT_PACK, ATTENDANCE])
@pytest.mark.libreoffice
@pytest.mark.skipif(lo.skip_reason() is not None, reason=lo.skip_reason() or "")
def test_libreoffice_computes_what_we_cached(built, tmp_path, name) -> None:
    """LibreOffice recalculates every formula itself: no errors anywhere, and ours agree cell
    by cell."""
    path = tmp_path / name
    shutil.copyfile(built[name], path)
    assert_libreoffice_agrees(path)


@pytest.mark.parametrize("name", [EVENT_PACK, ATTENDANCE])
@pytest.mark.libreoffice
@pytest.mark.skipif(
    lo.skip_reason(need_pdftoppm=True) is not None, reason=lo.skip_reason(need_pdftoppm=True) or ""
)
def test_every_sheet_renders_in_libreoffice(built, tmp_path, name) -> None:
    pictures = lo.render_pngs(built[name], tmp_path, dpi=20, include_hidden=False)
    wb = openpyxl.load_workbook(built[name])
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    stem = built[name].stem
    for number, title in enumerate(wb.sheetnames, 1):
        base = f"{stem}-{number:02d}-{lo.slugify(title)}"
        mine = [p for p in pictures if p.stem == base or p.stem.startswith(base + "-p")]
        assert bool(mine) == (title in visible), title
    for picture in pictures:
        assert picture.stat().st_size > 100
    if name == EVENT_PACK:  # the sheets made to print on one page
        for sheet in ("cover", "summary", "details", "sign-in", "orders", "ticket-types"):
            assert len([p for p in pictures if p.stem.endswith(f"-{sheet}")]) == 1, sheet
    with zipfile.ZipFile(built[name]) as zf:
        assert "xl/vbaProject.bin" not in zf.namelist()
