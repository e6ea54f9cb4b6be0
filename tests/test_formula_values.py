"""Cached formula values: the evaluator on small workbooks, then every distributed report as
a reader that never recalculates (python-calamine) sees it, built and after a refresh, against
pandas on the same API records, and once against LibreOffice's own recalculation."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.table import Table, TableColumn, TableFormula
from python_calamine import CalamineWorkbook
from support import DEMO_TODAY
from support.builds import build_demo_reports
from support.cached_values import assert_libreoffice_agrees, formula_values

from sheep_xl.api.client import SheepClient
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.frames.fetch import fetch_events_frame
from sheep_xl.operations.refresh import refresh_workbook, workbook_queries
from sheep_xl.operations.sources import Connections
from sheep_xl.writers.formula_values import (
    DIV0,
    NA,
    REF,
    VALUE,
    Criterion,
    FormulaEvaluator,
    Uncomputable,
    XlError,
    parse_formula,
    write_cached_values,
)
from sheep_xl.writers.ooxml import M, XlsxPackage
from tools import libreoffice as lo

TODAY = dt.date(2026, 11, 24)


# --- small workbooks ----------------------------------------------------------------------------


def package(build: Callable[[openpyxl.Workbook], None]) -> XlsxPackage:
    """An openpyxl workbook, saved and read back as the package our writers edit."""
    wb = openpyxl.Workbook()
    build(wb)
    data = io.BytesIO()
    wb.save(data)
    data.seek(0)
    return XlsxPackage(data)


def sample(wb: openpyxl.Workbook) -> None:
    """Sheet "Data": a table of events with a calculated column; "My data": a few values."""
    ws = wb.active
    ws.title = "Data"
    rows = [
        ("Title", "Type", "Start", "Tickets", "Sold", "Cancelled", "% sold"),
        ("Gala", "Dinner", dt.date(2026, 11, 20), 100, 95, False, None),
        ("Talk", "Lecture", dt.date(2026, 12, 3), 0, 0, True, None),
        ("Course", "Training course", dt.date(2026, 12, 31), 20, 5, None, None),
        ("Conf", "Conference", dt.date(2027, 1, 1), None, 10, False, None),
        ("Meet", "Lecture", None, 50, 50, False, None),
    ]
    for row in rows:
        ws.append(row)
    this = "Events[[#This Row],[{}]]"
    pct = f'IF(N({this.format("Tickets")})>0,N({this.format("Sold")})/{this.format("Tickets")},"")'
    for r in range(2, 7):
        ws.cell(r, 7, "=" + pct)
    table = Table(displayName="Events", ref="A1:G6")
    table.tableColumns = [TableColumn(id=i, name=t) for i, t in enumerate(rows[0], 1)]
    table.tableColumns[6].calculatedColumnFormula = TableFormula(attr_text=pct)
    ws.add_table(table)
    other = wb.create_sheet("My data")
    for row in (("a", 1), ("B", 2.5), (True, "3"), (None, None), ('=""', -4)):
        other.append(row)


@pytest.fixture
def ev() -> FormulaEvaluator:
    return FormulaEvaluator(package(sample), TODAY)


def serial(date: dt.date) -> float:
    return float((date - dt.date(1899, 12, 30)).days)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("1+2*3", 7.0),
        ("-2^2", 4.0),  # prefix minus binds tighter than ^
        ("2^3^2", 64.0),  # ^ is left-associative
        ("2^-1", 0.5),
        ("50%", 0.5),
        ("--TRUE", 1.0),
        ('"a"&1&TRUE', "a1TRUE"),
        ('"x"&0.1+0.2', "x0.3"),  # & is looser than +, General format, 15 digits
        ('"a"="A"', True),
        ('1<"a"', True),  # numbers < text < booleans
        ('"z"<FALSE', True),
        ("0.1+0.2=0.3", True),
        ("0.5-0.4-0.1", 0.0),  # a final subtraction that cancels out is exactly 0
        ('"3"*2', 6.0),
        ("1/0", DIV0),
        ('"x"+1', VALUE),
        ("#N/A+1/0", NA),  # the left error wins
        ("(1+2)*3", 9.0),
    ],
)
def test_operators(ev: FormulaEvaluator, formula: str, expected: Any) -> None:
    assert ev.evaluate(formula, "Data") == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # blanks: 0 for numbers, "" for text, FALSE for booleans; a formula shows a blank as 0
        ("'My data'!A4", 0.0),
        ("'My data'!A4=0", True),
        ("'My data'!A4=\"\"", True),
        ("'My data'!A4&\"x\"", "x"),
        ("ISBLANK('My data'!A4)", True),
        ("ISBLANK('My data'!A5)", False),  # empty text is not blank
        ("ISBLANK(Events[[#This Row],[Tickets]])", False),
        ("COUNTA('My data'!A1:B5)", 8.0),  # "" counts, blanks do not
        ("COUNT('My data'!A1:B5)", 3.0),  # text "3" and TRUE in a range are not numbers
        ('COUNT(1,"2",TRUE,"x")', 3.0),  # typed arguments are converted
        ("SUM('My data'!B1:B5)", -0.5),
        ("SUM('My data'!A3,\"3\",TRUE)", 4.0),
        ("MIN('My data'!B1:B5)", -4.0),
        ("MAX('My data'!B1:B5)", 2.5),
        ("MAX('My data'!A1:A2)", 0.0),
        ("AVERAGE('My data'!B1:B2)", 1.75),
        ("AVERAGE('My data'!A1:A2)", DIV0),
        ("N('My data'!A1)", 0.0),
        ("N('My data'!A3)", 1.0),
        ("N(#N/A)", NA),
        ("LEN('My data'!B2)", 3.0),
        ('LEN("héllo")', 5.0),
        ("ISNUMBER('My data'!B2)", True),
        ("ISNUMBER('My data'!B3)", False),
        ("ISNUMBER(1/0)", False),
        ("ROUND(2.675,2)", 2.68),
        ("ROUND(-2.5,0)", -3.0),
        ("ROUND(1234,-2)", 1200.0),
        ("AND(TRUE,1)", True),
        ("AND('My data'!A1:A3)", True),  # text in ranges is skipped
        ("OR(FALSE,0)", False),
        ("AND('My data'!A1:A2)", VALUE),  # no logical value at all
        ("NOT(0)", True),
        ('IF(1,"y","n")', "y"),
        ('IF(0,"y")', False),
        ("IF(TRUE,,1)", 0.0),
        ("IF(FALSE,1/0,2)", 2.0),  # only the chosen branch is evaluated
        ('IFERROR(1/0,"none")', "none"),
        ("IFERROR(#N/A+1,0)", 0.0),
        ("IFERROR(5,0)", 5.0),
        ("ROWS(Events[Title])", 5.0),
        ("ROWS(Events)", 5.0),
        ("ROWS('My data'!A1:B3)", 3.0),
        ('SUMPRODUCT(--(Events[Cancelled]<>TRUE),--(Events[Type]="Lecture"))', 1.0),
        ("SUMPRODUCT(Events[Tickets],Events[Sold])", 12100.0),
        ("SUMPRODUCT(Events[Tickets],Events[Title])", 0.0),  # text counts as 0
        ("SUMPRODUCT(Events[Tickets],'My data'!B1:B3)", VALUE),  # sizes differ
    ],
)
def test_functions(ev: FormulaEvaluator, formula: str, expected: Any) -> None:
    assert ev.evaluate(formula, "Data", "G3") == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("TODAY()", serial(TODAY)),
        ("DATE(2026,11,24)", serial(dt.date(2026, 11, 24))),
        ("DATE(2026,0,1)", serial(dt.date(2025, 12, 1))),  # months and days overflow
        ("DATE(2026,14,-1)", serial(dt.date(2027, 1, 30))),
        ("DATE(26,1,1)", serial(dt.date(1926, 1, 1))),
        ("DATE(YEAR(TODAY()),MONTH(TODAY())-1,1)", serial(dt.date(2026, 10, 1))),
        ("YEAR(46350.75)", 2026.0),
        ("MONTH(Events[[#This Row],[Start]])", 12.0),
        ("DAY(Events[[#This Row],[Start]])", 3.0),
        ("EDATE(DATE(2026,1,31),1)", serial(dt.date(2026, 2, 28))),
        ("EDATE(DATE(2026,3,15),-3)", serial(dt.date(2025, 12, 15))),
        ("EOMONTH(DATE(2024,1,10),1)", serial(dt.date(2024, 2, 29))),
        ("EOMONTH(DATE(2026,12,10),0)", serial(dt.date(2026, 12, 31))),
        ('DATE(2026,1,1)&""', "46023"),
    ],
)
def test_dates(ev: FormulaEvaluator, formula: str, expected: Any) -> None:
    assert ev.evaluate(formula, "Data", "G3") == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('COUNTIFS(Events[Type],"Lecture")', 2.0),
        ('COUNTIFS(Events[Type],"lec*")', 2.0),  # wildcards, any case
        ('COUNTIFS(Events[Type],"?inner")', 1.0),
        ('COUNTIFS(Events[Type],"<>Lecture")', 3.0),
        ('COUNTIFS(Events[Tickets],">=50")', 2.0),
        ('COUNTIFS(Events[Tickets],">="&50)', 2.0),
        ("COUNTIFS(Events[Tickets],0)", 1.0),
        ('COUNTIFS(Events[Tickets],"")', 1.0),  # blank
        ('COUNTIFS(Events[Tickets],"<>")', 4.0),
        ("COUNTIFS(Events[Cancelled],TRUE)", 1.0),
        ('COUNTIFS(Events[Cancelled],"<>TRUE")', 4.0),  # blanks are "not TRUE"
        ('COUNTIFS(Events[Cancelled],"FALSE")', 3.0),
        ('COUNTIFS(Events[% sold],">=0.9")', 2.0),  # over a calculated column
        ('COUNTIFS(Events[% sold],"")', 2.0),  # formulas returning "" match ""
        ('COUNTIFS(Events[% sold],"=")', 0.0),  # but are not blank
        (
            'COUNTIFS(Events[Start],">="&DATE(2026,12,1),Events[Start],"<"&EDATE(DATE(2026,12,1),1))',
            2.0,
        ),
        ('COUNTIFS(Events[Type],"Lecture",Events[Cancelled],"<>TRUE")', 1.0),
        ("COUNTIFS(Events[Tickets],'My data'!A4)", 1.0),  # a blank criterion cell is 0
        ('COUNTIFS(Events[Type],"Lecture",\'My data\'!A1:A2,"a")', VALUE),  # sizes differ
        ('SUMIFS(Events[Sold],Events[Type],"Lecture")', 50.0),
        ('SUMIFS(Events[Sold],Events[Cancelled],"<>TRUE",Events[Tickets],">0")', 150.0),
        ('SUMIFS(Events[Title],Events[Type],"*")', 0.0),  # text is not summed
    ],
)
def test_criteria(ev: FormulaEvaluator, formula: str, expected: Any) -> None:
    assert ev.evaluate(formula, "Data", "H1") == expected


def test_criterion_parsing() -> None:
    assert Criterion.parse(">=0.9") == Criterion(">=", 0.9)
    assert Criterion.parse("<>TRUE") == Criterion("<>", True)
    assert Criterion.parse("10%") == Criterion("", 0.1)
    assert Criterion.parse("") == Criterion("", None)
    assert Criterion.parse(None) == Criterion("=", 0.0)
    assert Criterion.parse(True) == Criterion("=", True)
    assert Criterion("", "~*").matches("*") and not Criterion("", "~*").matches("a")
    with pytest.raises(Uncomputable):
        Criterion.parse(">=1/12/2026")  # Excel reads dates in text by locale: not guessed


# --- what the event reports need: uids and URIs as criteria, many criteria fast, ROW, UPPER --


def orders(wb: openpyxl.Workbook) -> None:
    """Sheet "Orders": a table of order lines (one per order and currency), as the per-event
    reports hold them, with uids, URIs and unicode text."""
    ws = wb.active
    ws.title = "Orders"
    header = ("Event UID", "Buyer URI", "Currency", "Paid", "Ticket")
    lines = [
        ("2bb96d6b308e1412b04361b0", "/example/person/fc7a8901d48662a4f92cf88d/", "chf", 10.0),
        ("2bb96d6b308e1412b04361b0", "/example/person/fc7a8901d48662a4f92cf88d/", "eur", 20.0),
        ("2bb96d6b308e1412b04361b0", "/example/person/76a697635001c246b185bacf/", "chf", 5.5),
        ("f1ed22b99d9152bb41a82b05", "/example/person/76a697635001c246b185bacf/", "GBP", 7.0),
        ("f1ed22b99d9152bb41a82b05", "/example/person/0e8e2b7a5e3d0a5ec6b1c2d3/", "gbp", 1.25),
    ]
    tickets = ("Member — day ticket", "Zürich tour", "Member (shared room)", "zürich TOUR", "")
    ws.append(header)
    for line, ticket in zip(lines, tickets, strict=True):
        ws.append((*line, ticket or None))
    table = Table(displayName="Orders", ref=f"A1:E{len(lines) + 1}")
    table.tableColumns = [TableColumn(id=i, name=t) for i, t in enumerate(header, 1)]
    ws.add_table(table)


@pytest.fixture
def order_lines() -> FormulaEvaluator:
    return FormulaEvaluator(package(orders), TODAY)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('COUNTIFS(Orders[Event UID],"2bb96d6b308e1412b04361b0")', 3.0),
        ('COUNTIFS(Orders[Buyer URI],"/example/person/76a697635001c246b185bacf/")', 2.0),
        (
            'COUNTIFS(Orders[Event UID],"2BB96D6B308E1412B04361B0",Orders[Buyer URI],'
            '"/example/person/fc7a8901d48662a4f92cf88d/",Orders[Currency],"<eur")',
            1.0,
        ),
        (
            'SUMIFS(Orders[Paid],Orders[Event UID],"f1ed22b99d9152bb41a82b05",'
            'Orders[Currency],"gbp")',
            8.25,
        ),
        ('SUMIFS(Orders[Paid],Orders[Currency],"CHF",Orders[Paid],">6")', 10.0),
        ('COUNTIFS(Orders[Ticket],"zürich tour")', 2.0),  # unicode text, any letter case
        ('COUNTIFS(Orders[Ticket],"Member*")', 2.0),  # wildcards: the scan
        ("ROW()", 3.0),
        ("ROW(Orders[[#Headers],[Paid]])", 1.0),
        ("ROW()-ROW(Orders[[#Headers],[Paid]])", 2.0),
        ('UPPER("chf")&LOWER("EUR")', "CHFeur"),
        ('"Zürich tour"="ZÜRICH TOUR"', True),
        ('"Zu\u0308rich"="Zürich"', True),  # composed or not, the same letters
        ('"Member — day ticket"="Member (shared room)"', False),
        ('"Member — day ticket"<>"Member"', True),
        ('SUMPRODUCT(--(Orders[Ticket]="Zürich tour"))', 2.0),
    ],
)
def test_what_the_event_reports_need(
    order_lines: FormulaEvaluator, formula: str, expected: Any
) -> None:
    assert order_lines.evaluate(formula, "Orders", "G3") == expected


@pytest.mark.parametrize(
    "formula",
    [
        'COUNTIFS(Orders[Event UID],"12jan2026")',  # may be a date
        'COUNTIFS(Orders[Buyer URI],"/june/05/2026/")',  # words that are months
        'COUNTIFS(Orders[Event UID],"2026 12")',
        "ROW(Orders[Paid])",  # several rows: an array
        'UPPER("straße")',  # Excel's upper case of ß is its own
        '"straße"="STRASSE"',  # equal only under full case folding
        '"a\u200bb"="ab"',
    ],
)
def test_what_the_event_reports_leave_uncached(order_lines: FormulaEvaluator, formula: str) -> None:
    with pytest.raises(Uncomputable):
        order_lines.evaluate(formula, "Orders", "G3")


def test_plainly_text_criteria() -> None:
    assert Criterion.parse("2bb96d6b308e1412b04361b0") == Criterion("", "2bb96d6b308e1412b04361b0")
    uri = "/example/person/6305f074683e800f3abe809e/"
    assert Criterion.parse(uri) == Criterion("", uri) and Criterion("", uri).indexable
    assert not Criterion.parse("*bb").indexable  # a wildcard: matched by scanning
    for text in ("1234567890123456789012ab", "5jan", "/2026/12/01/", "a1b2"):
        with pytest.raises(Uncomputable):
            Criterion.parse(text)


def test_indexed_criteria_match_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """COUNTIFS and SUMIFS answer from an index of each range's text: on random lines and
    criteria, exactly what checking every cell gives."""
    import random

    rng = random.Random(7)
    words = ["chf", "EUR", "gbp", "Zürich", "zurich", "a-b", "", None, 3.0, True, "x y"]

    def random_lines(wb: openpyxl.Workbook) -> None:
        ws = wb.active
        ws.title = "L"
        ws.append(("A", "B", "N"))
        for _ in range(60):
            ws.append((rng.choice(words), rng.choice(words), rng.randint(0, 9)))
        table = Table(displayName="L", ref="A1:C61")
        table.tableColumns = [TableColumn(id=i, name=t) for i, t in enumerate("ABN", 1)]
        ws.add_table(table)

    pkg = package(random_lines)
    formulas = [
        f'{f}(L[N],L[A],"{a}",L[B],"{b}")'.replace("COUNTIFS(L[N],", "COUNTIFS(")
        for f in ("SUMIFS", "COUNTIFS")
        for a in ("chf", "eur", "ZURICH", "zürich", "a-b", "x y", "")
        for b in ("gbp", "<m", "*", "")
    ]

    def outcome(formula: str) -> Any:
        try:
            return FormulaEvaluator(pkg, TODAY).evaluate(formula, "L", "E1")
        except Uncomputable:
            return "uncomputable"

    indexed = [outcome(f) for f in formulas]
    monkeypatch.setattr(Criterion, "indexable", property(lambda self: False))
    scanned = [outcome(f) for f in formulas]
    assert indexed == scanned
    assert len({v for v in indexed if isinstance(v, float)}) > 3


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('INDEX(Events[Title],MATCH("course",Events[Title],0))', "Course"),
        ('INDEX(Events[Tickets],MATCH("Conf",Events[Title],0))', 0.0),  # a blank shows 0
        ('ISBLANK(INDEX(Events[Tickets],MATCH("Conf",Events[Title],0)))', True),
        ("INDEX(Events[[#Headers],[Title]:[Start]],3)", "Start"),  # one row: the column
        ("INDEX(Events,2,2)", "Lecture"),
        ("INDEX(Events[Title],9)", REF),
        ('MATCH("Nope",Events[Title],0)', NA),
        ("MATCH(100,Events[Tickets],0)", 1.0),
        ('MATCH("M*",Events[Title],0)', 5.0),
        ("Events[[#Headers],[% sold]]", "% sold"),
        ("Events[[#This Row],[Title]]", "Talk"),
        ("Events[[#This Row],[% sold]]", ""),
        ("'My data'!$B$2+'My data'!B1", 3.5),
        ("SUM('My data'!B1:B2)", 3.5),
    ],
)
def test_lookups_and_references(ev: FormulaEvaluator, formula: str, expected: Any) -> None:
    assert ev.evaluate(formula, "Data", "C3") == expected


def test_this_row_outside_the_table_is_value_error(ev: FormulaEvaluator) -> None:
    assert ev.evaluate("Events[[#This Row],[Title]]", "Data", "A9") == VALUE
    assert ev.evaluate("Events[[#This Row],[Title]]", "My data", "A3") == VALUE


def test_calculated_column_gets_a_value_per_row(ev: FormulaEvaluator) -> None:
    values = [ev.value("Data", f"G{r}") for r in range(2, 7)]
    assert values == [0.95, "", 0.25, "", 1.0]


@pytest.mark.parametrize(
    "formula",
    [
        'SHEEP_EVENTS("example","all")',  # the add-in's functions (and anything unknown)
        "VLOOKUP(1,A1:B2,2,FALSE)",
        "Events[Tickets]*2",  # implicit intersection
        "SUM(Events[Tickets]*2)",  # the same inside a non-array function
        "MATCH(1,Events[Tickets])",  # approximate match
        "SUM(A:A)",  # whole columns
        "{1,2}",
        "A1:A2 B1:B2",  # intersection
        "UnknownName+1",
        "DATE(1900,1,1)",  # Excel's 1900 leap-year bug
        '"1/2/2026"+0',  # text Excel would read as a date
        '1E+20&""',  # scientific notation
        'COUNTIFS(Events[Title],"<Zoo!")',  # Excel's collation of punctuation
    ],
)
def test_what_is_left_uncached(ev: FormulaEvaluator, formula: str) -> None:
    with pytest.raises(Uncomputable):
        ev.evaluate(formula, "Data", "H2")


def test_today_needs_the_runs_date() -> None:
    with pytest.raises(Uncomputable):
        FormulaEvaluator(package(sample)).evaluate("TODAY()", "Data")


def test_parser_tree() -> None:
    tree = parse_formula('=-A1^2&"x"')
    assert type(tree).__name__ == "Binary" and tree.op == "&"  # type: ignore[union-attr]


def chain(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    ws.title = "S"
    ws["A1"] = "=B1+1"
    ws["B1"] = "=C1*2"
    ws["C1"] = "=Other!A1+D1"
    ws["D1"] = 1
    ws["A2"] = "=B2"  # a cycle
    ws["B2"] = "=A2+1"
    ws["C2"] = "=A2*0"  # depends on the cycle
    ws["A3"] = '=SHEEP_COUNT("example","all")'
    ws["B3"] = "=A3+1"
    ws["A4"] = '="text"'
    ws["B4"] = "=1>0"
    ws["C4"] = "=1/0"
    ws["D4"] = "=SUM(A1:C1)"
    other = wb.create_sheet("Other")
    other["A1"] = "=S!D1*10"


def cells(pkg: XlsxPackage, part: str = "xl/worksheets/sheet1.xml") -> dict[str, Any]:
    root = pkg.xml(part)
    return {c.get("r"): c for c in root.iter(f"{M}c")}


def cached(cell: Any) -> tuple[str | None, str | None]:
    v = cell.find(f"{M}v")
    return cell.get("t"), (None if v is None else v.text or "")


def test_recursion_cycles_and_what_is_written() -> None:
    pkg = package(chain)
    result = write_cached_values(pkg, TODAY)
    c = cells(pkg)
    assert cached(c["C1"]) == (None, "11")  # through another sheet
    assert cached(c["B1"]) == (None, "22")
    assert cached(c["A1"]) == (None, "23")
    assert cached(c["D4"]) == (None, "56")
    assert cached(c["A4"]) == ("str", "text")
    assert cached(c["B4"]) == ("b", "1")
    assert cached(c["C4"]) == ("e", "#DIV/0!")
    for ref in ("A2", "B2", "C2", "A3", "B3"):  # the cycle, what depends on it, unknown names
        assert cached(c[ref]) == (None, None), ref
        assert f"S!{ref}" in result.uncached
    assert "circular" in result.uncached["S!A2"]
    assert "SHEEP_COUNT" in result.uncached["S!A3"]
    assert cached(cells(pkg, "xl/worksheets/sheet2.xml")["A1"]) == (None, "10")
    assert result.cached == 8


def test_stale_values_are_replaced_or_removed_and_arrays_kept() -> None:
    pkg = package(chain)
    sheet = pkg.edit("xl/worksheets/sheet1.xml")
    c = {cell.get("r"): cell for cell in sheet.iter(f"{M}c")}
    for ref, (kind, text) in {"A1": ("str", "stale"), "A3": (None, "7")}.items():
        v = c[ref].find(f"{M}v")
        v.text = text
        if kind:
            c[ref].set("t", kind)
    c["D1"].find(f"{M}v").text = "2"  # the data changed
    c["B4"].set("cm", "1")  # a dynamic array: left exactly as it is
    before = cached(c["B4"])
    result = write_cached_values(pkg, TODAY)
    assert cached(c["A1"]) == (None, "45")
    assert cached(c["A3"]) == (None, None), "a stale value goes when nothing replaces it"
    assert cached(c["B4"]) == before and result.kept == ["S!B4"]


def test_unchanged_sheets_keep_their_bytes() -> None:
    pkg = package(chain)
    write_cached_values(pkg, TODAY)
    data = io.BytesIO()
    pkg.save(data)
    again = XlsxPackage(io.BytesIO(data.getvalue()))
    write_cached_values(again, TODAY)
    assert not again.changed_parts


# --- the reports, as readers that never recalculate see them ------------------------------------

NOW = dt.datetime(2026, 11, 24, 9, 0)
DISTRIBUTED = ("events-overview.xlsx", "upcoming-capacity.xlsx", "past-events.xlsx")


def build(out: Path, now: dt.datetime, today: dt.date) -> dict[str, Path]:
    return {p.name: p for p in build_demo_reports(out, now, today)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("built"), NOW, DEMO_TODAY)


def api_frame(path: Path, server_today: dt.date) -> tuple[pd.DataFrame, Any]:
    """The report's one query, fetched from the demo server independently of the workbook."""
    (query,) = workbook_queries(path)
    with (
        DemoServer(today=server_today) as server,
        SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client,
    ):
        frame = fetch_events_frame(client, query.bucket, query.state, query.columns or None)
    return frame, query


def by_label(path: Path, sheet: str = "Summary") -> dict[str, list[Any]]:
    """Label in column A -> the values calamine reads in column B (a label may repeat)."""
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    labels: dict[str, list[Any]] = {}
    for row in grid:
        if len(row) > 1 and row[0] not in ("", None) and row[1] not in ("", None):
            labels.setdefault(str(row[0]), []).append(row[1])
    return labels


def month_rows(path: Path) -> list[tuple[dt.date, float]]:
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Summary").to_python()
    return [(r[0], r[1]) for r in grid if isinstance(r[0], dt.date)]


def check_report(path: Path, frame: pd.DataFrame, query: Any, now: dt.datetime) -> None:
    values = formula_values(path)
    assert values, "the report has formulas"
    pct_sold: list[Any] = []
    if "Tickets" in frame:
        tickets, sold = frame["Tickets"], frame["Tickets sold"].fillna(0)
        pct_sold = [
            s / t if pd.notna(t) and t > 0 else "" for t, s in zip(tickets, sold, strict=True)
        ]
    for (sheet, ref), value in values.items():
        allowed_empty = sheet == "Upcoming" and "" in pct_sold
        assert value not in (None, "") or allowed_empty, f"{sheet}!{ref} reads empty"
    # the cover's look-ups into the SheepCRM sheet
    cover = {
        row[0]: row
        for row in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Cover").to_python()
        if row and row[0] == query.name
    }[query.name]
    assert cover[1:5] == [len(frame), now, query.bucket, query.state]

    summary = by_label(path)
    assert summary["Events"] == [len(frame)]
    assert summary["Tickets sold"] == [pytest.approx(frame["Tickets sold"].fillna(0).sum())]
    flags = {c: frame[c].fillna(False).astype(bool) for c in ("Cancelled", "Enquiry") if c in frame}
    if "Cancelled" in flags and path.name != "upcoming-capacity.xlsx":
        assert summary["Cancelled"] == [int(flags["Cancelled"].sum())]
    if path.name == "events-overview.xlsx":
        counts = frame["Event type"].value_counts()
        for label, count in counts.items():
            assert summary[str(label)] == [count], label
        assert summary["(other)"] == [0] and summary["Total"] == [len(frame)]
        tbc = frame["Dates TBC"].fillna(False).astype(bool)
        assert summary["Confirmed"] == [int((~(flags["Cancelled"] | flags["Enquiry"] | tbc)).sum())]
        months = month_rows(path)
        first = (pd.Timestamp(now.date()).replace(day=1) - pd.DateOffset(months=1)).date()
        assert [m for m, _ in months] == [
            (pd.Timestamp(first) + pd.DateOffset(months=k)).date() for k in range(5)
        ]
        starts = frame["Start date"].dropna().dt.date
        for month, count in months:
            end = (pd.Timestamp(month) + pd.DateOffset(months=1)).date()
            assert count == int(((starts >= month) & (starts < end)).sum()), month
    elif path.name == "upcoming-capacity.xlsx":
        tickets, sold = frame["Tickets"].fillna(0), frame["Tickets sold"].fillna(0)
        assert summary["Tickets on sale"] == [pytest.approx(tickets.sum())]
        assert summary["Tickets available"] == [
            pytest.approx(frame["Tickets available"].fillna(0).sum())
        ]
        assert summary["Sold overall"] == [pytest.approx(sold.sum() / tickets.sum())]
        nearly = sum(1 for p in pct_sold if p != "" and p >= 0.9)
        assert summary["Nearly sold out (90%+)"] == [nearly]
        assert summary["Sold out"] == [int(frame["Sold out"].fillna(False).astype(bool).sum())]
        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Upcoming").to_python()
        column = grid[0].index("% sold")
        by_uid = dict(zip(frame["UID"], pct_sold, strict=True))
        uid = grid[0].index("UID")
        for row in grid[1:]:
            assert row[column] == pytest.approx(by_uid[row[uid]]), row[uid]
    else:
        income = frame["Ticket income"].fillna(0)
        assert summary["Enquiries"] == [int(flags["Enquiry"].sum())]
        assert summary["Ticket income"] == [pytest.approx(income.sum())]
        assert summary["Ticket income (not cancelled)"] == [
            pytest.approx(income[~flags["Cancelled"]].sum())
        ]
        by_type = frame.groupby("Event type")["Ticket income"].sum()
        for label, total in by_type.items():
            assert summary[str(label)] == [pytest.approx(total)], label
        assert summary["(other)"] == [pytest.approx(0, abs=1e-6)]
        assert summary["Total"] == [pytest.approx(income.sum())]


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_built_reports_read_well_without_recalculation(built: dict[str, Path], name: str) -> None:
    frame, query = api_frame(built[name], DEMO_TODAY)
    assert len(frame) > 0
    check_report(built[name], frame, query, NOW)


def test_live_formulas_are_left_uncached(built: dict[str, Path]) -> None:
    """The add-in's functions cannot be computed here: no cached value, arrays untouched."""
    pkg = XlsxPackage(built["live-formulas.xlsx"])
    addin_cells = 0
    for _sheet, part in pkg.sheets():
        for cell in pkg.xml(part).iter(f"{M}c"):
            formula = cell.find(f"{M}f")
            if formula is None or "SHEEP_" not in (formula.text or ""):
                continue
            addin_cells += 1
            if cell.get("cm") is None:
                assert cell.find(f"{M}v") is None, cell.get("r")
    assert addin_cells
    result = write_cached_values(pkg, TODAY)
    assert result.cached == 0 and result.kept == ["Confirmed!A3", "Upcoming!A3", "States!A3"]


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_refreshed_reports_replace_stale_values(
    built: dict[str, Path], tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    shutil.copy(built[name], path)
    later_today = DEMO_TODAY + dt.timedelta(days=40)  # other events, other months
    later = dt.datetime.combine(later_today, dt.time(8, 30))
    before = formula_values(path)
    with Connections(demo_today=later_today) as sources:  # the report's source is the demo
        refresh_workbook(path, sources, now=later)
    frame, query = api_frame(path, later_today)
    check_report(path, frame, query, later)
    after = formula_values(path)
    assert after != before, "the cached values follow the new data"


# --- against LibreOffice --------------------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(lo.skip_reason() is not None, reason=lo.skip_reason() or "")
@pytest.mark.parametrize("name", ["upcoming-capacity.xlsx", "past-events.xlsx"])  # no TODAY()
def test_cached_values_match_libreoffice(built: dict[str, Path], tmp_path: Path, name: str) -> None:
    """LibreOffice recalculates every formula itself; ours must agree cell by cell."""
    path = tmp_path / name
    shutil.copy(built[name], path)
    assert_libreoffice_agrees(path)


def test_error_value_repr() -> None:
    assert XlError("#N/A") == NA and NA.code == "#N/A"


def test_user_formulas_on_untouched_sheets_follow_a_refresh(tmp_path: Path) -> None:
    """A person's own sheet (reportkit's Notes: ``=Summary!B1*2``) gets a fresh cached value
    too, so its part is rewritten when the data changed (and only then)."""
    from support.reportkit import make_report
    from test_refresh import some_events

    from sheep_xl.operations.export import export_events

    with DemoServer(today=DEMO_TODAY, buckets={"example": some_events(30)}) as server:
        with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
            path = tmp_path / "report.xlsx"
            export_events(client, "example", "all", str(path), now=NOW)
            make_report(path)
            for n in (50, 10):
                server.buckets["example"] = some_events(n)
                refresh_workbook(path, client, now=NOW)
                conferences = sum(1 for r in some_events(n) if r.get("event_type") == "Conference")
                values = formula_values(path)
                assert values[("Summary", "B1")] == conferences
                assert values[("Summary", "B3")] == n
                assert values[("Notes", "A2")] == 2 * conferences
