"""References follow the table: when a refresh reorders, adds, drops, grows or shrinks a table's
columns, everything that pointed at a column points at the same column afterwards (by title),
not at whatever column now sits at its old letter.

Each check resolves the reference and reads the header above it, so a failure says which
column a chart, name, format, validation, print title, link or formula ended up on."""

from __future__ import annotations

import copy
import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from support import DEMO_TODAY, ooxml_check

from sheep_xl.api.client import SheepClient
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.operations.export import export_events
from sheep_xl.operations.refresh import refresh_workbook

NOW = dt.datetime(2026, 11, 24, 9, 30)
FIRST = "title, start date, capacity, tickets sold, status"  # A..E
REORDERED = "capacity, title, start date, tickets sold, status"  # Capacity C -> A
DROPPED = "title, start date, tickets sold, status"  # Capacity is kept in place, emptied
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"


def events(n: int) -> list[dict]:
    records = demo_events(DEMO_TODAY)
    out = []
    for i in range(n):
        record = copy.deepcopy(records[i % len(records)])
        record["uid"] = f"{i:024x}"
        record.pop("series_id", None)
        out.append(record)
    return out


@pytest.fixture
def server():
    with DemoServer(today=DEMO_TODAY, buckets={"example": events(30)}) as srv:
        yield srv


@pytest.fixture
def client(server):
    with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as c:
        yield c


def decorate(path: Path) -> None:
    """What a person hangs on the Capacity column (C) of a 30-row table (A1:E31), with A1
    references only (structured references need nothing), then a new column list."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    assert [c.value for c in ws[1]][:5] == [
        "Title",
        "Start date",
        "Capacity",
        "Tickets sold",
        "Status",
    ]
    summary = wb.create_sheet("Summary")
    summary["A1"], summary["B1"] = "total capacity", "=SUM(Events!C2:C31)"
    summary["A2"], summary["B2"] = "header", "=Events!$C$1"
    summary["A3"], summary["B3"] = "first", "='Events'!C2"
    summary["A4"], summary["B4"] = "column", "=SUM(Events!$C:$C)"
    ws["H1"] = "=SUM(C2:C31)"  # same sheet, unqualified, outside the table
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=31), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=31))
    summary.add_chart(chart, "D6")
    red = PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid")
    ws.conditional_formatting.add("C2:C31", FormulaRule(formula=["C2>100"], fill=red))
    validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    validation.add("C2:C31")
    ws.add_data_validation(validation)
    wb.defined_names["Capacities"] = DefinedName("Capacities", attr_text="Events!$C$2:$C$31")
    wb.defined_names["CapacityTitle"] = DefinedName("CapacityTitle", attr_text="Events!$C$1")
    ws.print_title_rows = "1:1"
    ws.print_title_cols = "C:C"
    ws.print_area = "A1:E31"
    link = summary["A5"]
    link.value = "to the first capacity"
    link.hyperlink = Hyperlink(ref="A5", location="Events!C2", display="to the first capacity")
    wb.save(path)


def set_columns(path: Path, columns: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["SheepCRM"]
    header = [c.value for c in ws[4]]
    ws.cell(5, header.index("Columns") + 1, columns)
    wb.save(path)


def header_at(ws, reference: str) -> list[str]:
    """The table headers over the columns of ``reference`` (``Events!$C$2:$C$31``, ``$C:$C``)."""
    area = reference.split("!")[-1].replace("$", "")
    first, _, last = area.partition(":")
    letters = [("".join(ch for ch in part if ch.isalpha())) for part in (first, last or first)]
    left, right = (column_index_from_string(x) for x in letters)
    return [ws.cell(1, col).value for col in range(left, right + 1)]


def rows_of(reference: str) -> tuple[int, int]:
    area = reference.split("!")[-1].replace("$", "")
    first, _, last = area.partition(":")
    numbers = ["".join(ch for ch in p if ch.isdigit()) for p in (first, last or first)]
    return int(numbers[0]), int(numbers[1])


def chart_references(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("xl/charts/chart1.xml"))
    ser = root.find(f".//{{{C}}}ser")
    return {kind: ser.find(f"{{{C}}}{kind}//{{{C}}}f").text for kind in ("tx", "cat", "val")}


def check_everything_on(path: Path, column: str, rows: int) -> None:
    """Every reference decorate() made points at ``column`` (or Title for the categories),
    over ``rows`` body rows where it covered the whole column."""
    last = rows + 1
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    letter = get_column_letter([c.value for c in ws[1]].index(column) + 1)
    refs = chart_references(path)
    assert header_at(ws, refs["tx"]) == [column] and rows_of(refs["tx"]) == (1, 1), refs
    assert header_at(ws, refs["val"]) == [column] and rows_of(refs["val"]) == (2, last), refs
    assert header_at(ws, refs["cat"]) == ["Title"] and rows_of(refs["cat"]) == (2, last), refs
    assert wb.defined_names["Capacities"].attr_text == f"Events!${letter}$2:${letter}${last}"
    assert wb.defined_names["CapacityTitle"].attr_text == f"Events!${letter}$1"
    (cf,) = list(ws.conditional_formatting)
    assert str(cf.sqref) == f"{letter}2:{letter}{last}"
    assert cf.rules[0].formula == [f"{letter}2>100"], "the rule's relative cell follows too"
    (dv,) = ws.data_validations.dataValidation
    assert str(dv.sqref) == f"{letter}2:{letter}{last}"
    assert ws.print_title_cols == f"${letter}:${letter}" and ws.print_title_rows == "$1:$1"
    assert ws.print_area == f"'Events'!$A$1:$E${last}"
    summary = wb["Summary"]
    assert summary["B1"].value == f"=SUM(Events!{letter}2:{letter}{last})"
    assert summary["B2"].value == f"=Events!${letter}$1"
    assert summary["B3"].value == f"='Events'!{letter}2", "one cell stays one cell"
    assert summary["B4"].value == f"=SUM(Events!${letter}:${letter})"
    assert ws["H1"].value == f"=SUM({letter}2:{letter}{last})"
    assert summary["A5"].hyperlink.location == f"Events!{letter}2"
    if ooxml_check.schemas_available():
        ooxml_check.assert_valid(path)


def test_references_follow_a_reordered_growing_table(tmp_path, server, client) -> None:
    path = tmp_path / "report.xlsx"
    export_events(client, "example", "all", str(path), FIRST, now=NOW)
    decorate(path)
    set_columns(path, REORDERED)
    server.buckets["example"] = events(50)
    refresh_workbook(path, client, now=NOW)
    header = [c.value for c in openpyxl.load_workbook(path)["Events"][1]][:5]
    assert header == ["Capacity", "Title", "Start date", "Tickets sold", "Status"]
    check_everything_on(path, "Capacity", 50)


def test_references_follow_a_dropped_column_and_a_shrinking_table(tmp_path, server, client) -> None:
    path = tmp_path / "report.xlsx"
    export_events(client, "example", "all", str(path), FIRST, now=NOW)
    decorate(path)
    set_columns(path, DROPPED)
    server.buckets["example"] = events(10)
    result = refresh_workbook(path, client, now=NOW)
    assert any("Capacity" in w for w in result.warnings), "the dropped column is kept, emptied"
    ws = openpyxl.load_workbook(path)["Events"]
    header = [c.value for c in ws[1]][:5]
    assert header == ["Title", "Start date", "Capacity", "Tickets sold", "Status"], "kept"
    assert ws["C2"].value is None and ws["D2"].value == events(10)[0]["total_stock_allocated"]
    check_everything_on(path, "Capacity", 10)

    set_columns(path, "tickets sold, title, start date, status")  # dropped and reordered
    server.buckets["example"] = events(20)
    refresh_workbook(path, client, now=NOW)
    header = [c.value for c in openpyxl.load_workbook(path)["Events"][1]][:5]
    assert header == ["Tickets sold", "Title", "Start date", "Status", "Capacity"]
    check_everything_on(path, "Capacity", 20)


def test_references_stay_when_nothing_moves(tmp_path, server, client) -> None:
    path = tmp_path / "report.xlsx"
    export_events(client, "example", "all", str(path), FIRST, now=NOW)
    decorate(path)
    refresh_workbook(path, client, now=NOW)
    check_everything_on(path, "Capacity", 30)
    server.buckets["example"] = events(40)
    set_columns(path, REORDERED)
    refresh_workbook(path, client, now=NOW)
    set_columns(path, FIRST)
    server.buckets["example"] = events(5)
    refresh_workbook(path, client, now=NOW)
    check_everything_on(path, "Capacity", 5)
    assert openpyxl.load_workbook(path)["Events"]["C1"].value == "Capacity", "back to C"
