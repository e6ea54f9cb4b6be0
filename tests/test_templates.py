"""Report workbooks built from workbook_templates/ with the demo server."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pytest
from support import DEMO_TODAY, REPO_ROOT
from support.builds import build_demo_reports

from sheep_xl.api.client import SheepClient
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.operations.refresh import refresh_workbook, workbook_queries
from sheep_xl.reports.templates import find_templates
from sheep_xl.writers.xlsx_new import MIN_PRINT_SCALE

NOW = "2026-11-24T09:00:00"
DISTRIBUTED = (
    "events-overview.xlsx",
    "upcoming-capacity.xlsx",
    "past-events.xlsx",
    "event-pack.xlsx",
    "attendance-income.xlsx",
)
# sheets printed portrait: a sign-in sheet to sign, and one event's details line by line
PORTRAIT = {("event-pack.xlsx", "Sign-in"), ("event-pack.xlsx", "Details")}


def build(out: Path) -> list[Path]:
    return build_demo_reports(out, NOW, DEMO_TODAY)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    return {p.name: p for p in build(tmp_path_factory.mktemp("reports"))}


def test_every_template_builds(built) -> None:
    names = {t.file for t in find_templates(REPO_ROOT / "workbook_templates")}
    assert set(built) == names
    assert set(DISTRIBUTED) | {"live-formulas.xlsx"} <= names
    needing_addin = {
        t.file for t in find_templates(REPO_ROOT / "workbook_templates") if t.needs_addin
    }
    assert needing_addin == names - set(DISTRIBUTED), "only live-formulas needs the add-in"


def test_a_template_without_queries_must_say_it_needs_the_add_in(tmp_path) -> None:
    from sheep_xl.exceptions import WorkbookError
    from sheep_xl.reports.templates import parse_template

    text = '[report]\nfile = "x.xlsx"\ntitle = "X"\nabout = "nothing"\n'
    with pytest.raises(WorkbookError, match="has no \\[\\[query\\]\\]"):
        parse_template(text, tmp_path / "x.toml")
    assert parse_template(text + "needs_addin = true\n", tmp_path / "x.toml").needs_addin


def test_builds_are_deterministic(built, tmp_path) -> None:
    again = {p.name: p for p in build(tmp_path)}
    for name, path in built.items():
        assert (
            hashlib.sha256(path.read_bytes()).digest()
            == hashlib.sha256(again[name].read_bytes()).digest()
        ), name


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_distributed_reports_hold_no_addin_formulas_or_links(built, name) -> None:
    wb = openpyxl.load_workbook(built[name])
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert "SHEEP_" not in str(cell.value).upper(), (ws.title, cell.coordinate)
    with zipfile.ZipFile(built[name]) as zf:
        assert not [n for n in zf.namelist() if "externalLink" in n], "no link prompts"
        assert "xl/vbaProject.bin" not in zf.namelist()
        assert b"sheep-demo-key" not in b"".join(zf.read(n) for n in zf.namelist())


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_professional_look(built, name) -> None:
    wb = openpyxl.load_workbook(built[name])
    assert wb.sheetnames[0] == "Cover" and wb.sheetnames[-1] == "SheepCRM"
    assert wb.defined_names["SheepCRM_RefreshOnOpen"].attr_text == "TRUE"
    styles = set()
    for ws in wb.worksheets:
        portrait = (name, ws.title) in PORTRAIT
        assert ws.page_setup.orientation == ("portrait" if portrait else "landscape"), ws.title
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            assert ws.page_setup.fitToWidth == 1, ws.title
        else:  # a wide table prints at a fixed, readable scale over pages across
            assert ws.page_setup.scale >= MIN_PRINT_SCALE, ws.title
        for table in ws.tables.values():
            styles.add(table.tableStyleInfo.name)
            assert table.autoFilter is not None, "filters on"
            if table.name != "SheepCRM_Queries":
                top = openpyxl.utils.cell.range_boundaries(table.ref)[1]  # the header row
                assert ws.freeze_panes == f"A{top + 1}", "header row frozen"
                # the header (and any heading above it) repeated on every page
                assert ws.print_title_rows == f"$1:${top}", ws.title
    assert styles == {"TableStyleMedium2"}, "one table style"
    cover = wb["Cover"]
    texts = " ".join(str(c.value) for row in cover.iter_rows() for c in row if c.value)
    assert "How to refresh" in texts and "sheep-xl refresh" in texts
    assert "=INDEX(SheepCRM_Queries[Rows]" in texts and "SheepCRM_Queries[Last refreshed]" in texts


def test_upcoming_is_future_confirmed_sorted_with_a_percent_sold_formula(built) -> None:
    wb = openpyxl.load_workbook(built["upcoming-capacity.xlsx"])
    ws = wb["Upcoming"]
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    starts = [r[header.index("Start date")] for r in rows]
    assert starts == sorted(starts) and all(s.date() > DEMO_TODAY for s in starts)
    pct = header.index("% sold") + 1
    assert str(ws.cell(2, pct).value).startswith("=IF(N(UpcomingEvents[[#This Row],[Tickets]])")
    assert ws.cell(2, pct).number_format == "0%"
    rules = [(str(r.sqref), [x.operator for x in r.rules]) for r in ws.conditional_formatting]
    letter = openpyxl.utils.get_column_letter(pct)
    assert (f"{letter}2:{letter}{len(rows) + 1}", ["greaterThanOrEqual"]) in rules


def test_past_events_income_and_flags(built) -> None:
    ws = openpyxl.load_workbook(built["past-events.xlsx"])["Past events"]
    header = [c.value for c in ws[1]]
    assert {"Cancelled", "Enquiry", "Ticket income"} <= set(header)
    starts = [r[header.index("Start date")] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert starts == sorted(starts, reverse=True), "most recent first"
    assert ws.cell(2, header.index("Ticket income") + 1).number_format == "#,##0.00"


def test_live_formulas_workbook_uses_the_addin_and_says_so(built) -> None:
    wb = openpyxl.load_workbook(built["live-formulas.xlsx"])
    cover = " ".join(str(c.value) for row in wb["Cover"].iter_rows() for c in row if c.value)
    assert "needs the SheepCRM add-in" in cover
    formula = wb["Confirmed"]["A3"].value  # an array formula: Excel 365 spills it
    assert formula.text.startswith('=SHEEP_EVENTS("example"') and formula.ref == "A3"
    with zipfile.ZipFile(built["live-formulas.xlsx"]) as zf:
        sheet = zf.read("xl/worksheets/sheet2.xml").decode()
        assert 'cm="1"' in sheet and 't="array"' in sheet, "marked as a spilling formula"
        assert "xl/metadata.xml" in zf.namelist()


def formulas(path: Path) -> dict[tuple[str, str], object]:
    """Every formula of a workbook by (sheet, cell)."""
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    }


@pytest.mark.parametrize("name", DISTRIBUTED)
def test_sheep_xl_refresh_works_on_every_report(built, tmp_path, demo_server, name) -> None:
    path = tmp_path / name
    path.write_bytes(built[name].read_bytes())
    formulas_before = formulas(path)
    with SheepClient(api_key=DEMO_API_KEY, base_url=demo_server.url) as client:
        later = dt.datetime(2026, 11, 25, 8, 0)
        result = refresh_workbook(path, client, now=later)
    assert result.results and all(r.rows >= 0 for r in result.results)
    formulas_after = formulas(path)
    table_rows = {k: v for k, v in formulas_after.items() if "[#This Row]" in str(v)}
    assert {k: v for k, v in formulas_before.items() if "[#This Row]" not in str(v)} == {
        k: v for k, v in formulas_after.items() if "[#This Row]" not in str(v)
    }
    assert len(table_rows) >= len([v for v in formulas_before.values() if "[#This Row]" in str(v)])
    assert all(q.last_refreshed == later for q in workbook_queries(path))
    with zipfile.ZipFile(path) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        for chart in charts:
            assert b"Summary" in zf.read(chart), "charts still point at the summary formulas"
