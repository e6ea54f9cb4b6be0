"""What LibreOffice headless makes of our files: refreshed reports recalculate to the values
computed independently from the data, built reports open without errors, and the add-in's VBA
loads and runs (as far as LibreOffice can run it). Skips when LibreOffice is absent."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from support import DEMO_TODAY, REPO_ROOT
from support.reportkit import make_report
from test_refresh import some_events

from sheep_xl.api.client import SheepClient
from sheep_xl.cli import main
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.frames.fetch import fetch_events_frame
from sheep_xl.operations.export import export_events
from sheep_xl.operations.refresh import refresh_workbook
from tools import libreoffice as lo

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(lo.skip_reason() is not None, reason=lo.skip_reason() or ""),
]
NOW = dt.datetime(2026, 11, 24, 9, 30)


def _number(value) -> float:  # type: ignore[no-untyped-def]
    return 0.0 if value is None or value == "" else float(value)


def expected_summary(records: list[dict]) -> dict[str, float]:
    """The Summary formulas of reportkit, computed from the records with plain Python."""
    capacity = sum(r["capacity"] for r in records if isinstance(r.get("capacity"), (int, float)))
    full = 0.0
    for r in records:
        cap, sold = r.get("capacity"), r.get("total_stock_allocated")
        if isinstance(cap, (int, float)) and cap:
            full += (sold or 0) / cap
    conferences = sum(1 for r in records if r.get("event_type") == "Conference")
    return {
        "B1": conferences,
        "B2": capacity,
        "B3": len(records),
        "B4": sum(1 for r in records if r.get("cancelled") is True),
        "B5": capacity,
        "B6": full,
    }


def test_refreshed_report_recalculates_in_libreoffice(tmp_path) -> None:
    with DemoServer(today=DEMO_TODAY, buckets={"example": some_events(30)}) as server:
        with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
            path = tmp_path / "report.xlsx"
            export_events(client, "example", "all", str(path), now=NOW)
            make_report(path)
            for n in (50, 10):  # more rows, then fewer
                server.buckets["example"] = some_events(n)
                refresh_workbook(path, client, now=NOW)
                result = lo.recalculate(path, {"Summary": ["B1:B6"], "Notes": ["A2"]})
                assert not result.has_errors(), result.errors
                expected = expected_summary(some_events(n))
                for cell, value in expected.items():
                    assert result["Summary"][cell] == pytest.approx(value), (n, cell)
                assert result["Notes"]["A2"] == pytest.approx(2 * expected["B1"])


# --- report templates --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    code = main(
        [
            "templates",
            "build",
            "--demo",
            "--out",
            str(out),
            "--today",
            DEMO_TODAY.isoformat(),
            "--now",
            "2026-11-24T09:00",
            "--templates",
            str(REPO_ROOT / "workbook_templates"),
        ],
        out=io.StringIO(),
        err=io.StringIO(),
    )
    assert code == 0
    return {p.name: p for p in out.glob("*.xlsx")}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """The reports' data fetched independently of the workbooks."""
    queries = {
        "events-overview.xlsx": (
            "current",
            "title, start date, event type, cancelled, enquiry, dates tbc, tickets sold, uid",
        ),
        "upcoming-capacity.xlsx": (
            "future+confirmed",
            "tickets, tickets sold, tickets available, sold out, uid",
        ),
        "past-events.xlsx": (
            "past",
            "event type, cancelled, enquiry, tickets sold, ticket income, uid",
        ),
    }
    with (
        DemoServer(today=DEMO_TODAY) as server,
        SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client,
    ):
        return {
            name: fetch_events_frame(client, "example", state, columns)
            for name, (state, columns) in queries.items()
        }


def summary_values(path: Path) -> dict[str, object]:
    """Label in column A -> computed value in column B, as LibreOffice calculates them."""
    result = lo.recalculate(path, {"Summary": ["A1:B60"]})
    assert not result.has_errors(), result.errors
    cells = result["Summary"]
    return {
        str(cells[f"A{r}"]): cells[f"B{r}"]
        for r in range(1, 61)
        if cells.get(f"A{r}") not in (None, "") and cells.get(f"B{r}") not in (None, "")
    }


@pytest.mark.parametrize(
    "name",
    ["events-overview.xlsx", "upcoming-capacity.xlsx", "past-events.xlsx", "live-formulas.xlsx"],
)
def test_every_report_opens_and_distributed_ones_have_no_errors(reports, name) -> None:
    result = lo.recalculate(reports[name], {})
    assert result.sheets[0] == "Cover"
    if name == "live-formulas.xlsx":
        assert result.cells_with_error("#NAME?"), "without the add-in its formulas are #NAME?"
    else:
        assert not result.has_errors(), result.errors


def test_events_overview_summary_matches_the_data(reports, frames) -> None:
    frame = frames["events-overview.xlsx"]
    values = summary_values(reports["events-overview.xlsx"])
    counts = frame["Event type"].value_counts()
    for label, count in counts.items():
        assert values[label] == count, label
    assert values["Total"] == len(frame) and values["(other)"] == 0
    assert values["Events"] == len(frame)
    assert values["Cancelled"] == int((frame["Cancelled"] == True).sum())  # noqa: E712
    confirmed = ~(
        frame["Cancelled"].fillna(False)
        | frame["Enquiry"].fillna(False)
        | frame["Dates TBC"].fillna(False)
    )
    assert values["Confirmed"] == int(confirmed.sum())
    assert values["Tickets sold"] == pytest.approx(frame["Tickets sold"].sum())
    # events per month: labels are month starts relative to today
    result = lo.recalculate(reports["events-overview.xlsx"], {"Summary": ["A1:B60"]})
    cells = result["Summary"]
    month_rows = [r for r in range(1, 61) if isinstance(cells.get(f"A{r}"), float)]
    assert len(month_rows) == 5
    for r in month_rows:
        start = (dt.datetime(1899, 12, 30) + dt.timedelta(days=cells[f"A{r}"])).date()
        end = (pd.Timestamp(start) + pd.DateOffset(months=1)).date()
        dates = frame["Start date"].dropna().dt.date
        assert cells[f"B{r}"] == int(((dates >= start) & (dates < end)).sum()), start


def test_upcoming_summary_matches_the_data(reports, frames) -> None:
    frame = frames["upcoming-capacity.xlsx"]
    values = summary_values(reports["upcoming-capacity.xlsx"])
    tickets, sold = frame["Tickets"].fillna(0), frame["Tickets sold"].fillna(0)
    assert values["Events"] == len(frame)
    assert values["Tickets on sale"] == pytest.approx(tickets.sum())
    assert values["Tickets sold"] == pytest.approx(sold.sum())
    assert values["Tickets available"] == pytest.approx(frame["Tickets available"].sum())
    assert values["Sold overall"] == pytest.approx(sold.sum() / tickets.sum())
    nearly = ((tickets > 0) & (sold / tickets.where(tickets > 0) >= 0.9)).sum()
    assert values["Nearly sold out (90%+)"] == nearly
    assert values["Sold out"] == int((frame["Sold out"] == True).sum())  # noqa: E712


def test_past_events_summary_matches_the_data(reports, frames) -> None:
    frame = frames["past-events.xlsx"]
    values = summary_values(reports["past-events.xlsx"])
    income = frame["Ticket income"].fillna(0)
    assert values["Events"] == len(frame)
    assert values["Cancelled"] == int((frame["Cancelled"] == True).sum())  # noqa: E712
    assert values["Enquiries"] == int((frame["Enquiry"] == True).sum())  # noqa: E712
    assert values["Ticket income"] == pytest.approx(income.sum())
    not_cancelled = income[frame["Cancelled"] != True].sum()  # noqa: E712
    assert values["Ticket income (not cancelled)"] == pytest.approx(not_cancelled)
    by_type = frame.groupby("Event type")["Ticket income"].sum()
    for label, total in by_type.items():
        if label in values:
            assert values[label] == pytest.approx(total), label


# --- the add-in ----------------------------------------------------------------------------------


def test_libreoffice_loads_the_addin_and_runs_its_vba(tmp_path) -> None:
    from sheep_xl.addin.build import build_addin, collect_sources

    xlam = build_addin(tmp_path)
    modules = lo.basic_modules(xlam)
    ours = {m.name for m in collect_sources().modules}
    assert set(modules["SheepCRM"]) == ours
    assert all("Option VBASupport 1" in text for text in modules["SheepCRM"].values())
    compiled = lo.basic_compile_check(xlam)["SheepCRM"]
    assert compiled["SheepOnOpen"] and compiled["SheepRibbon"] and compiled["SheepFunctions"]
    assert compiled["SheepRun"]
    # LibreOffice Basic rejects 'Declare PtrSafe' (VBA7), which xlwings' module uses
    assert compiled["xlwings"] is False
    url = "vnd.sun.star.script:SheepCRM.SheepRun.HexText?language=Basic&location=document"
    result = lo.run_macro(xlam, url, args=["O'Brien\\$(x)|\u00e9"])
    assert result.ok and result.value == "004F00270042007200690065006E005C0024002800780029007C00E9"


def test_libreoffice_runs_our_vba_in_a_cell_without_xlwings_module(tmp_path) -> None:
    """LibreOffice stops every cell function of a library in which one module fails to compile,
    and xlwings' module does not compile there ('Declare PtrSafe'); with xlwings' Dictionary
    class in the library the cell functions give "" too. Built without the two, the same
    project's functions run in cells."""
    from sheep_xl.addin.build import AddinSources, build_addin_bytes, collect_sources

    sources = collect_sources()
    without = AddinSources(
        tuple(m for m in sources.modules if m.name not in ("xlwings", "Dictionary")),
        sources.custom_ui,
        sources.config,
    )
    path = tmp_path / "sheepcrm-no-xlwings.xlam"
    path.write_bytes(build_addin_bytes(without))
    values = lo.evaluate_with_document_macros(
        path, {"A1": '=HexText("it\'s")', "A2": '=SHEEP_COUNT("example","all")'}
    )
    assert values["A1"] == "0069007400270073"
    # the #If Mac branch runs in LibreOffice (its Basic ignores a false #If without #Else)
    assert str(values["A2"]).startswith("SheepCRM: worksheet functions need Excel for Windows")


# A test module beside the add-in's own (xlwings' module left out: LibreOffice cannot compile it,
# and one module that does not compile stops every macro of the library).
PROBE = """Attribute VB_Name = "Probe"
Option Explicit

Public Function HostileName() As String
    HostileName = "Sheet $(rm -rf ~) `id` | ""q"" 'x' %PATH% ^&" & vbLf & "2 " _
        & ChrW(233) & ChrW(&HD83D) & ChrW(&HDE00)
End Function

Public Function WriteProbe(ByVal folder As String) As String
    WriteRequest folder & "/" & RequestFileName("ABC123"), "refresh_sheet", ThisWorkbook, _
        Array(HostileName(), "")
    WriteProbe = ThisWorkbook.Name
End Function

Public Function GuardProbe() As String
    ' every ribbon callback, called as the ribbon calls it: none may raise
    SheepLastMessage = ""
    SheepRefreshSheet Nothing
    GuardProbe = Err.Number & "|" & SheepLastMessage
    SheepInsertFormula Nothing
    GuardProbe = GuardProbe & "|" & Err.Number & "|" & SheepLastMessage
    SheepRefreshAll Nothing
    SheepToggleRefreshOnOpen Nothing
    SheepInsertTable Nothing
    SheepSignIn Nothing
    SheepSignOut Nothing
    SheepDiagnostics Nothing
    GuardProbe = GuardProbe & "|" & Err.Number & "|" & SheepLastMessage & "|" & TypeName(SheepApp)
End Function

Public Function LoadProbe() As String
    SheepRefreshOpenWorkbooks
    SheepOnWorkbookOpen ThisWorkbook
    SheepRunPendingRefresh
    LoadProbe = Err.Number & "|" & Application.Workbooks.Count & "|" & SheepProblem(NEED_WORKBOOK) _
        & "|" & CStr(HasRefreshMarker(ThisWorkbook)) & "|" & NewRequestId()
End Function
"""


def test_libreoffice_runs_the_guards_and_writes_requests_python_reads(tmp_path) -> None:
    """What LibreOffice can run of the entry points: the callbacks' error handlers and checks
    (its headless documents have no view, so ActiveSheet fails and the guard answers with one
    sentence), the load loop over the open workbooks, and a request file written by the VBA
    itself with a hostile sheet name, read back by Python."""
    from sheep_xl.addin.build import AddinSources, build_addin_bytes, collect_sources
    from sheep_xl.addin.ovba import VbaModule
    from sheep_xl.excel import ribbon

    sources = collect_sources()
    modules = tuple(m for m in sources.modules if m.name not in ("xlwings", "Dictionary"))
    path = tmp_path / "probe.xlam"
    path.write_bytes(
        build_addin_bytes(
            AddinSources((*modules, VbaModule("Probe", "standard", PROBE)), sources.custom_ui, ())
        )
    )
    url = "vnd.sun.star.script:SheepCRM.Probe.{}?language=Basic&location=document"
    folder = tmp_path / "requests"
    folder.mkdir()
    written = lo.run_macro(path, url.format("WriteProbe"), [str(folder)])
    name = lo.run_macro(path, url.format("HostileName")).value
    assert written.ok and "$(rm -rf ~)" in name and "\n" in name
    (request_file,) = folder.iterdir()
    assert request_file.read_bytes().isascii()
    request = ribbon.parse_request(request_file.read_text(encoding="ascii"))
    assert request == ribbon.Request("refresh_sheet", request.workbook, "probe.xlam", (name, ""))
    assert name.endswith("\u00e9\U0001f600")

    guards = lo.run_macro(path, url.format("GuardProbe"))
    assert guards.ok, guards.error
    first, first_message, second, second_message, last, last_message, events = guards.value.split(
        "|"
    )
    assert (first, second, last) == ("0", "0", "0"), "no error escapes a callback"
    assert first_message.startswith("SheepCRM cannot use the active workbook right now")
    assert second_message == first_message
    # the callbacks that need no sheet get as far as starting Python, which fails here (no
    # xlwings module); the last one's handler says so in one sentence
    assert last_message.startswith("Test connection did not work:")
    assert events != "Nothing", "the callbacks re-created the application-events sink"

    load = lo.run_macro(path, url.format("LoadProbe"))
    assert load.ok, load.error
    error, count, problem, marked, request_id = load.value.split("|")
    assert (error, count, problem, marked) == ("0", "1", "", "False")
    assert re.fullmatch(r"[0-9A-F]{20}", request_id)
