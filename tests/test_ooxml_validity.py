"""Every kind of file sheep-xl writes is valid against the OOXML schemas and Excel's own rules
(``support.ooxml_check``), and the checker itself catches each rule being broken.

Files: new events workbooks (default and all columns), each report built from the demo, those
reports and a decorated events workbook refreshed after growth, shrinkage and column changes,
a workbook saved "by Excel" (shared strings, calcChain, ignorable markup) then refreshed, and the
add-in. Excel's own files (``../shared/excel-reference``) must pass too: the checker is not
stricter than Excel."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from support import DEMO_TODAY, REPO_ROOT, ooxml_check
from support.event_reports import choose_event
from support.excel_style import excel_style
from support.ooxml_check import check_package, read_package, write_package

from sheep_xl.addin.build import build_addin
from sheep_xl.api.client import SheepClient
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.operations.export import export_events
from sheep_xl.operations.refresh import refresh_workbook, workbook_queries
from sheep_xl.reports.templates import build_report, find_templates

NOW = dt.datetime(2026, 11, 24, 9, 0)
REFERENCE = REPO_ROOT.parent / "shared" / "excel-reference"
TEMPLATES = find_templates(REPO_ROOT / "workbook_templates")


@pytest.fixture(autouse=True)
def _schemas() -> None:
    ooxml_check.require()


def events(n: int) -> list[dict]:
    records = demo_events(DEMO_TODAY)
    out = []
    for i in range(n):
        record = copy.deepcopy(records[i % len(records)])
        record["uid"] = f"{i:024x}"
        record.pop("series_id", None)
        out.append(record)
    return out


# --- what we write ------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [None, "all"], ids=["default-columns", "all-columns"])
def test_new_events_workbook_is_valid(tmp_path, demo_client, columns) -> None:
    path = tmp_path / "events.xlsx"
    export_events(demo_client, "example", "all", str(path), columns, now=NOW)
    ooxml_check.assert_valid(path)


@pytest.fixture(scope="module")
def reports(tmp_path_factory, demo_server) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    with SheepClient(api_key=DEMO_API_KEY, base_url=demo_server.url) as client:
        built = [build_report(t, client, "example", out, now=NOW) for t in TEMPLATES]
    return {b.path.name: b.path for b in built}


@pytest.mark.parametrize("name", [t.file for t in TEMPLATES])
def test_each_report_is_valid(reports, name) -> None:
    ooxml_check.assert_valid(reports[name])


def test_live_formulas_titles_are_text_not_formulas(reports) -> None:
    """Regression: sheet titles beginning with "=" were written as formulas."""
    path = reports["live-formulas.xlsx"]
    book = CalamineWorkbook.from_path(str(path))
    states = book.get_sheet_by_name("States").to_python()
    assert states[0][0] == "=SHEEP_STATES() lists what you can ask for"
    confirmed = book.get_sheet_by_name("Confirmed").to_python()
    assert str(confirmed[0][0]).startswith("=SHEEP_EVENTS(bucket")
    parts = read_package(path)
    sheets = [n for n in parts if n.startswith("xl/worksheets/sheet")]
    first_cells = [re.search(rb'<c r="A1"[^>]*>(.*?)</c>', parts[n]) for n in sheets]
    assert all(m is not None and b"<f>" not in m.group(1) for m in first_cells)
    assert sum(b"<f" in parts[n] for n in sheets) >= 3, "the formulas themselves are formulas"


@pytest.mark.parametrize("size", [3, 120], ids=["shrink", "grow"])
@pytest.mark.parametrize("name", [t.file for t in TEMPLATES if t.queries])
def test_refreshed_reports_are_valid(reports, tmp_path, name, size) -> None:
    path = tmp_path / name
    path.write_bytes(reports[name].read_bytes())
    if any(q.event_uid for q in workbook_queries(path)):  # a report for one event: one of these
        choose_event(path, max(events(size), key=lambda e: e.get("capacity") or 0)["uid"])
    with DemoServer(today=DEMO_TODAY, buckets={"example": events(size)}) as server:
        with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
            refresh_workbook(path, client, now=NOW + dt.timedelta(days=1))
    ooxml_check.assert_valid(path)


def _set_query_columns(path: Path, columns: str) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["SheepCRM"]
    header = [c.value for c in ws[4]]
    ws.cell(5, header.index("Columns") + 1, columns)
    wb.save(path)


def test_excel_saved_workbook_refreshed_is_valid(tmp_path) -> None:
    """Shared strings, a calcChain and mc:Ignorable markup (as Excel saves) survive a refresh
    that also grows, shrinks and reorders the table."""
    path = tmp_path / "events.xlsx"
    with DemoServer(today=DEMO_TODAY, buckets={"example": events(20)}) as server:
        with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
            export_events(
                client, "example", "all", str(path), "title, start date, capacity", now=NOW
            )
            _set_query_columns(path, "capacity, title, start date, status")
            saved = excel_style(read_package(path))
            assert "xl/calcChain.xml" not in saved or b"<c " in saved["xl/calcChain.xml"]
            assert re.search(rb'<c r="A1"[^>]* t="s">', saved["xl/worksheets/sheet1.xml"])
            assert check_package(saved) == [], "the Excel-style save is itself valid"
            path.write_bytes(write_package(saved))
            for n in (45, 2):
                server.buckets["example"] = events(n)
                refresh_workbook(path, client, now=NOW)
                ooxml_check.assert_valid(path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    assert rows[0][:4] == ["Capacity", "Title", "Start date", "Status"] and len(rows) == 3


def test_excel_saved_workbook_with_formulas_drops_its_calc_chain(tmp_path) -> None:
    from openpyxl import load_workbook

    path = tmp_path / "events.xlsx"
    with DemoServer(today=DEMO_TODAY, buckets={"example": events(10)}) as server:
        with SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
            export_events(client, "example", "all", str(path), now=NOW)
            wb = load_workbook(path)
            wb.create_sheet("Sums")["A1"] = "=COUNTA(Events[UID])+SUM(Events!A2:A3)"
            wb.save(path)
            saved = excel_style(read_package(path))
            assert "xl/calcChain.xml" in saved
            path.write_bytes(write_package(saved))
            refresh_workbook(path, client, now=NOW)
    ooxml_check.assert_valid(path)
    assert "xl/calcChain.xml" not in read_package(path)


def test_addin_package_is_valid(tmp_path) -> None:
    path = build_addin(tmp_path)
    ooxml_check.assert_valid(path)
    package = ooxml_check._Package(read_package(path))
    types = ooxml_check._check_content_types(package)
    ooxml_check._check_schemas(package, types)
    assert ("customUI/customUI14.xml", "schema") in package.checked, "the ribbon is validated"


# --- Excel's own files pass -------------------------------------------------------------------

REFERENCE_FILES = sorted(REFERENCE.glob("*.xls[xm]")) if REFERENCE.is_dir() else []


@pytest.mark.skipif(not REFERENCE_FILES, reason=f"Excel's reference files not found at {REFERENCE}")
def test_files_excel_saved_pass_the_checker() -> None:
    failing = {p.name: [str(x) for x in check_package(p)] for p in REFERENCE_FILES}
    assert {name: problems for name, problems in failing.items() if problems} == {}


# --- each rule catches its breakage -----------------------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory, demo_server) -> dict[str, bytes]:
    """A small valid events workbook, Excel-style (so shared strings are there to break)."""
    # Module-scoped fixtures run before the autouse skip above, so this one checks for itself.
    ooxml_check.require()
    path = tmp_path_factory.mktemp("good") / "events.xlsx"
    with SheepClient(api_key=DEMO_API_KEY, base_url=demo_server.url) as client:
        export_events(client, "example", "running", str(path), now=NOW)
    parts = excel_style(read_package(path))
    assert check_package(parts) == []
    return parts


SHEET, WORKBOOK, TYPES = "xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"


def _sub(part: str, pattern: str, new: str, count: int = 1) -> Callable[[dict[str, bytes]], None]:
    def mutate(parts: dict[str, bytes]) -> None:
        text = parts[part].decode("utf-8")
        changed, n = re.subn(pattern, new, text, count=count)
        assert n, f"{pattern!r} not found in {part}"
        parts[part] = changed.encode("utf-8")

    return mutate


def _add(part: str, data: bytes) -> Callable[[dict[str, bytes]], None]:
    def mutate(parts: dict[str, bytes]) -> None:
        parts[part] = data

    return mutate


def _swap_rows(parts: dict[str, bytes]) -> None:
    text = parts[SHEET].decode()
    rows = re.findall(r'<row r="[23]".*?</row>', text)
    text = text.replace(rows[0] + rows[1], rows[1] + rows[0])
    parts[SHEET] = text.encode()


def _swap_cells(parts: dict[str, bytes]) -> None:
    text = parts[SHEET].decode()
    a = re.search(r'<c r="A2".*?</c>', text).group(0)
    b = re.search(r'<c r="B2".*?</c>', text).group(0)
    parts[SHEET] = text.replace(a + b, b + a).encode()


def _second_table_same_id(parts: dict[str, bytes]) -> None:
    first = re.search(rb'<table [^>]*\bid="(\d+)"', parts["xl/tables/table1.xml"]).group(1)
    parts["xl/tables/table2.xml"] = re.sub(
        rb'(<table [^>]*\bid=")\d+"', rb"\g<1>" + first + b'"', parts["xl/tables/table2.xml"]
    )


MUTATIONS: dict[str, Callable[[dict[str, bytes]], None]] = {
    "schema": _sub(SHEET, r"<sheetData>", "<sheetData><bogus/>"),
    "content-type": _add("xl/media/extra.weird", b"data"),
    "stale-override": _sub(
        TYPES,
        r"</Types>",
        '<Override PartName="/xl/worksheets/sheet9.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    ),
    "relationship": _sub(
        "xl/worksheets/_rels/sheet1.xml.rels",
        r'Target="[^"]*table1\.xml"',
        'Target="../tables/table99.xml"',
    ),
    "table-header": _sub("xl/tables/table1.xml", r'name="Title"', 'name="Titel"'),
    "table-unique": _second_table_same_id,
    "style-index": _sub(SHEET, r'<c r="B2" s="\d+"', '<c r="B2" s="999"'),
    "row-order": _swap_rows,
    "cell-order": _swap_cells,
    "defined-name": _sub(WORKBOOK, r"(<definedName [^>]*>)[^<]*", r"\1SUM((Events!A1"),
    "shared-string": _sub(SHEET, r'(<c r="A2"[^>]*t="s"><v>)\d+', r"\g<1>99999"),
    "date": _sub(
        SHEET, r'(<c r="B2" s="\d+")><v>[^<]*</v>', r'\1 t="inlineStr"><is><t>2026-11-24</t></is>'
    ),
    "cell-text": _sub("xl/sharedStrings.xml", r"<t>", "<t>" + "x" * 33_000),
    "sheet-name": _sub(WORKBOOK, r' name="Events"', ' name="Ev/ents"'),
    "markup-compatibility": _sub(
        SHEET,
        r'mc:Ignorable="x14ac"',
        'mc:Ignorable="x14ac" mc:MustUnderstand="x14ac"',
    ),
}


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_each_rule_fails_a_file_that_breaks_it(good, rule) -> None:
    broken = dict(good)
    MUTATIONS[rule](broken)
    problems = check_package(write_package(broken))
    assert rule in {p.rule for p in problems}, [str(p) for p in problems]
    with pytest.raises(ooxml_check.PackageInvalid, match=re.escape(f"[{rule}]")):
        ooxml_check.assert_valid(broken)


def test_markup_compatibility_takes_the_fallback() -> None:
    from lxml import etree

    root = etree.fromstring(
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
        'mc:Ignorable="x14" x14:odd="1"><mc:AlternateContent><mc:Choice Requires="x14">'
        "<x14:new/></mc:Choice><mc:Fallback><sheetData/></mc:Fallback></mc:AlternateContent>"
        "<x14:dropped/></worksheet>"
    )
    assert ooxml_check.process_markup_compatibility(root) == []
    assert [etree.QName(c).localname for c in root] == ["sheetData"] and not root.attrib
    assert ooxml_check.schema().validate(root), ooxml_check.schema().error_log


def test_defined_names_must_parse() -> None:
    assert ooxml_check.formula_problem("Events!$A$2:$A$9", ["events"]) is None
    assert "does not parse" in (ooxml_check.formula_problem("SUM((A1", []) or "")
    assert "does not exist" in (ooxml_check.formula_problem("Nope!A1", ["events"]) or "")
