"""Refresh in place: the table grows and shrinks under the same name, everything hung on it
keeps pointing at it, other parts keep their bytes, and a failed refresh changes nothing."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook
from support import DEMO_TODAY
from support.faultserver import FaultServer, Reply, Seen, bookings
from support.reportkit import make_report

from sheep_xl.api.client import SheepClient
from sheep_xl.cli import main
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.exceptions import ServerError, WorkbookError
from sheep_xl.frames import events_frame
from sheep_xl.operations.export import export_events, write_new_report
from sheep_xl.operations.refresh import refresh_workbook, workbook_queries
from sheep_xl.tables.plan import plan_table
from sheep_xl.tables.queries import new_query

NOW = dt.datetime(2026, 11, 24, 9, 30)
RECORDS = demo_events(DEMO_TODAY)


def some_events(n: int) -> list[dict]:
    """n distinct events (uids stay unique, titles vary)."""
    out = []
    for i in range(n):
        record = copy.deepcopy(RECORDS[i % len(RECORDS)])
        record["uid"] = f"{i:024x}"
        record.pop("series_id", None)  # the demo server collapses series; keep every record
        out.append(record)
    return out


@pytest.fixture
def server():
    with DemoServer(today=DEMO_TODAY, buckets={"example": some_events(30)}) as srv:
        yield srv


@pytest.fixture
def client(server):
    with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as c:
        yield c


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def without_values(sheet_xml: bytes) -> bytes:
    """A sheet part in canonical form without its formulas' cached values (``<v>`` beside an
    ``<f>``), to compare a sheet whose only change may be those values."""
    root = etree.fromstring(sheet_xml)
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    for cell in root.iter(f"{main}c"):
        value = cell.find(f"{main}v")
        if cell.find(f"{main}f") is not None and value is not None:
            cell.remove(value)
            cell.attrib.pop("t", None)
    return etree.tostring(root, method="c14n")


def sheet_part(path: Path, name: str) -> str:
    wb = openpyxl.load_workbook(path)
    index = wb.sheetnames.index(name) + 1
    return f"xl/worksheets/sheet{index}.xml"


def build_report(tmp_path: Path, client) -> Path:
    path = tmp_path / "report.xlsx"
    export_events(client, "example", "all", str(path), now=NOW)
    make_report(path)
    return path


def check_follows_table(path: Path, rows: int) -> None:
    last = rows + 1
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    table = ws.tables["Events"]
    assert table.ref == f"A1:V{last}"
    assert [c.name for c in table.tableColumns][-1] == "% full"
    assert table.tableColumns[-1].calculatedColumnFormula is not None
    for row in range(2, last + 1):
        assert str(ws[f"V{row}"].value).startswith("=IFERROR(Events[[#This Row]"), row
    assert ws[f"V{last + 1}"].value is None and ws[f"A{last + 1}"].value is None
    assert wb.defined_names["Capacities"].attr_text == f"Events!$O$2:$O${last}"
    assert wb.defined_names["SoldColumn"].attr_text == f"Events!$Q$2:$Q${last}"
    assert wb.defined_names["FirstTitle"].attr_text == "Events!$A$2", "single cells stay"
    assert [str(r.sqref) for r in ws.conditional_formatting] == [f"O2:O{last}"]
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == [f"J2:J{last}"]
    with zipfile.ZipFile(path) as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
        workbook = zf.read("xl/workbook.xml").decode()
    assert f"<f>'Events'!$O$2:$O${last}</f>" in chart
    assert f"<f>'Events'!$A$2:$A${last}</f>" in chart
    assert "<f>'Events'!O1</f>" in chart, "the series title (a header cell) does not move"
    assert "numCache" not in chart and "strCache" not in chart
    assert 'fullCalcOnLoad="1"' in workbook
    summary = wb["Summary"]
    assert summary["B1"].value == '=COUNTIFS(Events[Event type],"Conference")'
    assert wb["Notes"]["A1"].value.startswith("My own notes")


def test_refresh_grows_and_shrinks_keeping_dependents(tmp_path, server, client) -> None:
    path = build_report(tmp_path, client)
    before = parts(path)
    notes = sheet_part(path, "Notes")

    server.buckets["example"] = some_events(50)
    result = refresh_workbook(path, client, now=NOW)
    assert [r.rows for r in result.results] == [50]
    check_follows_table(path, 50)
    after = parts(path)
    # The Notes sheet's formula depends on the table: only its cached value may change.
    assert without_values(after[notes]) == without_values(before[notes]), "otherwise untouched"
    assert after["xl/theme/theme1.xml"] == before["xl/theme/theme1.xml"]

    server.buckets["example"] = some_events(10)
    refresh_workbook(path, client, now=NOW)
    check_follows_table(path, 10)
    assert without_values(parts(path)[notes]) == without_values(before[notes])

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    assert len(rows) == 11, "exactly header + rows: the old rows are gone"
    titles = [r[0] for r in rows[1:]]
    assert titles == [r["title"] for r in some_events(10)]


def test_refresh_records_status_per_query(tmp_path, server, client) -> None:
    path = build_report(tmp_path, client)
    server.buckets["example"] = some_events(7)
    later = NOW + dt.timedelta(hours=2)
    refresh_workbook(path, client, now=later)
    (query,) = workbook_queries(path)
    assert (query.last_refreshed, query.rows, query.status) == (later, 7, "OK")
    assert query.bucket == "example" and query.state == "all" and query.table == "Events"


def test_empty_result_keeps_header_and_one_blank_row(tmp_path, server, client) -> None:
    path = build_report(tmp_path, client)
    server.buckets["example"] = []
    refresh_workbook(path, client, now=NOW)
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    assert ws.tables["Events"].ref == "A1:V2"
    assert all(ws.cell(2, c).value is None for c in range(1, 22))
    assert ws["V2"].value.startswith("=IFERROR"), "the calculated column keeps its formula"


def test_failure_on_the_second_query_leaves_the_file_byte_identical(tmp_path) -> None:
    def script(n: int, seen: Seen) -> Reply:
        if seen.path.endswith("/past"):
            return Reply(500, {"error": "Internal", "description": "boom", "type": "server"})
        return bookings(some_events(5))

    path = tmp_path / "two.xlsx"
    frame = events_frame(some_events(3))
    write_new_report(
        path,
        [
            (
                new_query("example", "future", sheet="Future", table="Future"),
                plan_table(frame, "Future"),
            ),
            (new_query("example", "past", sheet="Past", table="Past"), plan_table(frame, "Past")),
        ],
        ran_at=NOW,
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    mtime = path.stat().st_mtime_ns
    with FaultServer(script) as fault:
        with SheepClient(api_key="k", base_url=fault.url) as c, pytest.raises(ServerError) as info:
            refresh_workbook(path, c, now=NOW)
        assert "Query 'Past'" in str(info.value) and "HTTP 500" in str(info.value)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert path.stat().st_mtime_ns == mtime

        out, err = io.StringIO(), io.StringIO()
        import os

        os.environ["SHEEP_API_KEY"] = "k"
        try:
            code = main(["--api-url", fault.url, "refresh", str(path)], out=out, err=err)
        finally:
            del os.environ["SHEEP_API_KEY"]
    assert code == 4
    lines = err.getvalue().strip().splitlines()
    assert lines[-1].startswith("sheep-xl: Query 'Past': The sheepCRM API")
    assert "Traceback" not in err.getvalue()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.xlsx"], "no temporary file left"


def test_refresh_one_named_query(tmp_path, server, client) -> None:
    path = tmp_path / "two.xlsx"
    frame = events_frame(some_events(3))
    write_new_report(
        path,
        [
            (new_query("example", "all", sheet="A", table="TableA"), plan_table(frame, "TableA")),
            (new_query("example", "all", sheet="B", table="TableB"), plan_table(frame, "TableB")),
        ],
        ran_at=NOW,
    )
    refresh_workbook(path, client, ["tablea"], now=NOW)
    wb = openpyxl.load_workbook(path)
    assert wb["A"].tables["TableA"].ref == "A1:U31"
    assert wb["B"].tables["TableB"].ref == "A1:U4"
    with pytest.raises(WorkbookError, match="No stored query named 'nope'"):
        refresh_workbook(path, client, ["nope"], now=NOW)


def test_cells_in_the_way_stop_the_refresh(tmp_path, server, client) -> None:
    path = build_report(tmp_path, client)
    wb = openpyxl.load_workbook(path)
    wb["Events"]["B40"] = "my note below the table"
    wb.save(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    server.buckets["example"] = some_events(50)
    with pytest.raises(WorkbookError, match="B40 holds data"):
        refresh_workbook(path, client, now=NOW)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_bad_stored_query_is_reported_before_any_request(tmp_path, server, client) -> None:
    path = build_report(tmp_path, client)
    wb = openpyxl.load_workbook(path)
    ws = wb["SheepCRM"]
    header = [c.value for c in ws[4]]
    ws.cell(5, header.index("State") + 1, "confirmd")
    wb.save(path)
    server.requests.clear()
    with pytest.raises(WorkbookError, match="did you mean 'confirmed'"):
        refresh_workbook(path, client, now=NOW)
    assert len(server.requests) == 0


def test_a_totals_row_moves_with_the_table(tmp_path, server, client) -> None:
    path = build_report(tmp_path, client)
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    table = ws.tables["Events"]
    table.ref = "A1:V32"  # one more row: the totals row
    table.totalsRowCount = 1
    table.autoFilter.ref = "A1:V31"
    ws["A32"] = "Total"
    ws["O32"] = "=SUBTOTAL(109,Events[Capacity])"
    table.tableColumns[0].totalsRowLabel = "Total"
    table.tableColumns[14].totalsRowFunction = "sum"
    wb.save(path)

    server.buckets["example"] = some_events(40)
    refresh_workbook(path, client, now=NOW)
    ws = openpyxl.load_workbook(path)["Events"]
    assert ws.tables["Events"].ref == "A1:V42"
    assert ws["A42"].value == "Total" and ws["O42"].value == "=SUBTOTAL(109,Events[Capacity])"
    assert ws["A41"].value == some_events(40)[39]["title"]
    assert ws["A32"].value != "Total", "the old totals row is gone"
    assert ws.tables["Events"].autoFilter.ref == "A1:V41"
