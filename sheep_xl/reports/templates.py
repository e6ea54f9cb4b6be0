"""Report workbooks built from text definitions (``workbook_templates/*.toml``).

A definition names the report's queries (each becomes a formatted Excel table, with optional
calculated columns and highlights), its summary sheets (blocks of formulas over those tables,
with charts) and, for the add-in's examples, sheets of live formulas. Building a report:

1. fetch every query (all first, as a refresh does);
2. lay out the workbook with openpyxl: a cover, the table sheets (header and one blank row),
   summary sheets, the SheepCRM sheet that stores the queries, the refresh-on-open marker, print
   set-up, frozen headers, filters, widths and one table style;
3. fill the tables with the same in-place writer ``sheep-xl refresh`` uses, so a built report and
   a refreshed one are the same kind of file.

The reports hold only standard Excel functions (except the live-formulas one): without the add-in
they open anywhere with the data of their last refresh, and summaries follow every refresh
because they are formulas over the tables. Builds are deterministic for the same data and time.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import io
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import TableFormula

from sheep_xl.api.client import ProgressCallback, SheepClient
from sheep_xl.exceptions import InputError, WorkbookError
from sheep_xl.files import atomic_path
from sheep_xl.frames.catalogue import field_for
from sheep_xl.frames.columns import resolve_columns
from sheep_xl.frames.fetch_parts import PartFrame
from sheep_xl.operations.refresh import apply_results, fetch_queries
from sheep_xl.operations.sources import Connections
from sheep_xl.tables.plan import DEFAULT_TABLE_STYLE, TablePlan, plan_table
from sheep_xl.tables.queries import (
    MARKER_NAME,
    QUERIES_HEADER_ROW,
    QUERIES_PREAMBLE,
    QUERIES_SHEET,
    QUERIES_TABLE,
    SOURCE_SHEEPCRM,
    StoredQuery,
    check_distinct_tables,
    queries_plan,
)
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.sheet_xml import put_formula, put_text
from sheep_xl.writers.xlsx_new import excel_table, print_setup
from sheep_xl.writers.xlsx_refresh import WorkbookEditor

# Colours as Excel writes them, opaque ARGB ("FF" + RGB): openpyxl pads six digits with "00".
TITLE_FONT = Font(bold=True, size=18, color="FF1F3864")
HEADING_FONT = Font(bold=True, size=12, color="FF1F3864")
NOTE_FONT = Font(italic=True, color="FF595959")
BOLD = Font(bold=True)
MONTH_FORMAT = "mmm yyyy"
TOP_VALUES = 12  # rows of a by-value summary before "(other)"
DEFINITIONS_PACKAGE = "sheep_xl.reports.definitions"  # workbook_templates/, as package data


# --- definitions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calculated:
    title: str
    formula: str  # may use [@Column] for "this row"
    number_format: str = "General"
    width: float = 10.0


@dataclass(frozen=True)
class Highlight:
    column: str
    operator: str
    value: Any
    fill: str
    font: str = ""


@dataclass(frozen=True)
class QueryDef:
    name: str
    sheet: str
    table: str
    state: str
    columns: str = "default"
    sort: str = ""
    calculated: tuple[Calculated, ...] = ()
    highlight: tuple[Highlight, ...] = ()

    def stored(self, bucket: str, source: str = SOURCE_SHEEPCRM) -> StoredQuery:
        return StoredQuery(
            self.name,
            self.sheet,
            self.table,
            bucket,
            self.state,
            self.columns,
            self.sort,
            source=source,
        ).validate()


@dataclass(frozen=True)
class SummaryDef:
    sheet: str
    title: str
    blocks: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class FormulaSheet:
    sheet: str
    title: str
    cell: str = "A3"
    formula: str = ""
    columns: str = ""
    items: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class ReportTemplate:
    path: Path
    file: str
    title: str
    about: str
    queries: tuple[QueryDef, ...] = ()
    summaries: tuple[SummaryDef, ...] = ()
    formulas: tuple[FormulaSheet, ...] = ()
    needs_addin: bool = False


def load_template(path: Path) -> ReportTemplate:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkbookError(f"The report template {path} cannot be read ({exc}).") from None
    return parse_template(text, Path(path))


def parse_template(text: str, path: Path) -> ReportTemplate:
    """A report definition from its TOML text; ``path`` names it (its stem is the report's
    name for ``--only``)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkbookError(f"The report template {path} cannot be read ({exc}).") from None
    try:
        report = raw["report"]
        queries = tuple(
            QueryDef(
                name=q["name"],
                sheet=q["sheet"],
                table=q["table"],
                state=q["state"],
                columns=q.get("columns", "default"),
                sort=q.get("sort", ""),
                calculated=tuple(Calculated(**c) for c in q.get("calculated", [])),
                highlight=tuple(Highlight(**h) for h in q.get("highlight", [])),
            )
            for q in raw.get("query", [])
        )
        summaries = tuple(
            SummaryDef(s["sheet"], s.get("title", s["sheet"]), tuple(s.get("block", [])))
            for s in raw.get("summary", [])
        )
        formulas = tuple(
            FormulaSheet(
                f["sheet"],
                f.get("title", ""),
                f.get("cell", "A3"),
                f.get("formula", ""),
                f.get("columns", ""),
                tuple(f.get("items", [])),
            )
            for f in raw.get("formulas", [])
        )
        if not queries and not report.get("needs_addin", False):
            raise WorkbookError(
                f"The report template {path} has no [[query]]: give it one, or set "
                "needs_addin = true for a workbook of add-in formulas."
            )
        return ReportTemplate(
            Path(path),
            report["file"],
            report["title"],
            " ".join(report["about"].split()),
            queries,
            summaries,
            formulas,
            bool(report.get("needs_addin", False)),
        )
    except (KeyError, TypeError) as exc:
        raise WorkbookError(f"The report template {path} is missing or misnames {exc}.") from None


def find_templates(folder: Path) -> list[ReportTemplate]:
    """The definitions in a folder of your own (``--templates DIR``)."""
    paths = sorted(Path(folder).glob("*.toml"))
    if not paths:
        raise WorkbookError(f"No report templates (*.toml) in {folder}: give --templates DIR.")
    return [load_template(p) for p in paths]


def builtin_templates() -> list[ReportTemplate]:
    """The reports that ship with sheep-xl: the repository's ``workbook_templates/`` folder,
    installed as package data, so they are found from any folder and from a wheel."""
    folder = importlib.resources.files(DEFINITIONS_PACKAGE)
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".toml")),
        key=lambda entry: entry.name,
    )
    return [
        parse_template(entry.read_text(encoding="utf-8"), Path(entry.name)) for entry in entries
    ]


def select_templates(
    templates: Sequence[ReportTemplate], names: Sequence[str] | None
) -> list[ReportTemplate]:
    """The templates named (file name without ``.toml``, any letter case), in their order; an
    unknown name is an error listing the names there are."""
    if not names:
        return list(templates)
    known = {t.path.stem.lower(): t for t in templates}
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise InputError(
            f"There is no report template named {', '.join(repr(n) for n in unknown)}: "
            f"choose from {', '.join(sorted(known))}."
        )
    wanted = {name.lower() for name in names}
    return [t for t in templates if t.path.stem.lower() in wanted]


# --- building -----------------------------------------------------------------------------------


@dataclass
class BuiltReport:
    template: ReportTemplate
    path: Path
    rows: dict[str, int] = field(default_factory=dict)


def build_report(
    template: ReportTemplate,
    client: SheepClient | Connections | None,
    bucket: str,
    out_dir: Path,
    *,
    now: dt.datetime,
    progress: Callable[[StoredQuery], ProgressCallback | None] | None = None,
    source: str = SOURCE_SHEEPCRM,
) -> BuiltReport:
    """Build one report into ``out_dir`` (atomically); returns where and how many rows.

    ``source`` is recorded with the queries: ``demo`` when ``client`` serves the built-in demo
    data, so later refreshes go to the demo again and never to a real bucket."""
    stored = [q.stored(bucket, source) for q in template.queries]
    check_distinct_tables(stored)  # two queries on one table: refused before any request
    fetched: dict[str, PartFrame] = {}
    if stored:
        if client is None:
            raise WorkbookError(f"{template.title} needs data: give a client.")
        fetched = fetch_queries(client, stored, progress)
    frames = {name: part.frame for name, part in fetched.items()}
    wb = Workbook()
    wb.remove(wb.active)
    _cover(wb, template, stored)
    for query_def, query in zip(template.queries, stored, strict=True):
        plan = plan_table(frames[query.name], query.table)
        _table_sheet(wb, query_def, plan)
    for summary in template.summaries:
        _summary_sheet(wb, summary, frames, template)
    dynamic_cells: dict[str, list[str]] = {}
    for sheet in template.formulas:
        dynamic_cells[sheet.sheet] = _formula_sheet(wb, sheet, bucket)
    if stored:
        _queries_sheet(wb, stored)
        wb.defined_names[MARKER_NAME] = DefinedName(MARKER_NAME, attr_text="TRUE")
    wb.properties.creator = "sheep-xl"
    wb.properties.title = template.title
    wb.properties.created = now
    wb.properties.modified = now

    skeleton = io.BytesIO()
    wb.save(skeleton)
    package = XlsxPackage(skeleton)
    editor = WorkbookEditor(package)
    if stored:
        apply_results(editor, stored, fetched, now)
    if dynamic_cells:
        _mark_dynamic_arrays(package, dynamic_cells)
    editor.finish(modified=now, today=now.date())
    out = Path(out_dir) / template.file
    stamp = (now.year, now.month, now.day, now.hour, now.minute, now.second)
    with atomic_path(out, errors=WorkbookError) as tmp:
        package.save(tmp, date_time=stamp if now.year >= 1980 else None)
    return BuiltReport(template, out, {q.name: len(frames[q.name]) for q in stored})


def _cover(wb: Workbook, template: ReportTemplate, stored: Sequence[StoredQuery]) -> None:
    ws = wb.create_sheet("Cover")
    ws.sheet_view.showGridLines = False
    ws.column_dimensions["A"].width = 30
    for letter, width in zip("BCDE", (12, 20, 14, 18), strict=True):
        ws.column_dimensions[letter].width = width
    put_text(ws["A1"], template.title).font = TITLE_FONT
    put_text(ws["A3"], template.about).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A3:E3")
    ws.row_dimensions[3].height = 60
    row = 5
    if not template.needs_addin:
        put_text(ws.cell(row, 1), "Data").font = HEADING_FONT
        row += 1
        for col, title in enumerate(("Table", "Rows", "Last refreshed", "Bucket", "Events"), 1):
            put_text(ws.cell(row, col), title).font = BOLD
        for query in stored:
            row += 1
            put_text(ws.cell(row, 1), query.name)
            name = query.name.replace('"', '""')
            match = f'MATCH("{name}",{QUERIES_TABLE}[Query],0)'
            rows = put_formula(ws.cell(row, 2), f"=INDEX({QUERIES_TABLE}[Rows],{match})")
            rows.number_format = "#,##0"
            put_formula(
                ws.cell(row, 3), f"=INDEX({QUERIES_TABLE}[Last refreshed],{match})"
            ).number_format = "d mmm yyyy h:mm"
            put_formula(ws.cell(row, 4), f"=INDEX({QUERIES_TABLE}[Bucket],{match})")
            put_formula(ws.cell(row, 5), f"=INDEX({QUERIES_TABLE}[State],{match})")
        row += 2
        put_text(ws.cell(row, 1), "How to refresh").font = HEADING_FONT
        demo = any(query.is_demo for query in stored)
        lines: tuple[str, ...] = (
            "In Excel with the SheepCRM add-in: the workbook refreshes itself when it opens; "
            "or use SheepCRM > Refresh all.",
            f'Without Excel: sheep-xl refresh "{template.file}"'
            + (
                " (demo data: no key needed)."
                if demo
                else " (needs a sheepCRM API key: sheep-xl login)."
            ),
            "Without the add-in the workbook shows the data of its last refresh.",
            "The queries are on the SheepCRM sheet; no password or API key is ever stored here.",
        )
        if demo:
            lines += (
                "This report shows sheep-xl's built-in demo data, not your sheepCRM. For your "
                "own data, set Source to sheepCRM and Bucket to yours on the SheepCRM sheet "
                "(or build with --bucket), then refresh.",
            )
    else:
        put_text(ws.cell(row, 1), "Before you start").font = HEADING_FONT
        lines = (
            "This workbook needs the SheepCRM add-in in Excel for Windows "
            "(installer/install.ps1, then Sign in on the SheepCRM ribbon).",
            "Without the add-in its formulas show #NAME?: use the other reports instead, which "
            "open anywhere.",
            "Format the columns a formula spills into with SheepCRM > Live formula, so dates "
            "show as dates.",
        )
    for line in lines:
        row += 1
        put_text(ws.cell(row, 1), line)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        ws.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 30
    print_setup(ws, None)


def _this_row(formula: str, table: str) -> str:
    """``[@Col]`` and ``[@[Col name]]`` as stored in files: ``Table[[#This Row],[Col]]``."""
    formula = re.sub(r"\[@\[([^\]]+)\]\]", rf"{table}[[#This Row],[\1]]", formula)
    return re.sub(r"\[@([^\[\]]+)\]", rf"{table}[[#This Row],[\1]]", formula)


def _table_sheet(wb: Workbook, query: QueryDef, plan: TablePlan) -> None:
    ws = wb.create_sheet(query.sheet)
    titles = plan.titles + [c.title for c in query.calculated]
    for index, title in enumerate(titles, 1):
        # the table style colours it in Excel; bold reads well everywhere
        put_text(ws.cell(1, index), title).font = BOLD
    widths = [c.width for c in plan.columns] + [c.width for c in query.calculated]
    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    first_calc = plan.n_cols + 1
    for offset, calc in enumerate(query.calculated):
        formula = _this_row(calc.formula, query.table)
        cell = put_formula(ws.cell(2, first_calc + offset), formula)
        cell.number_format = calc.number_format
    ref = f"A1:{get_column_letter(len(titles))}2"
    table = excel_table(query.table, titles, ref, DEFAULT_TABLE_STYLE)
    for offset, calc in enumerate(query.calculated):
        formula = _this_row(calc.formula, query.table).lstrip("=")
        table.tableColumns[plan.n_cols + offset].calculatedColumnFormula = TableFormula(
            attr_text=formula
        )
    ws.add_table(table)
    for rule in query.highlight:
        if rule.column not in titles:
            raise WorkbookError(f"Highlight column '{rule.column}' is not in table {query.table}.")
        letter = get_column_letter(titles.index(rule.column) + 1)
        colour = _argb(rule.fill)
        fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
        font = Font(color=_argb(rule.font)) if rule.font else None
        ws.conditional_formatting.add(
            f"{letter}2:{letter}2",
            CellIsRule(operator=rule.operator, formula=[str(rule.value)], fill=fill, font=font),
        )
    ws.freeze_panes = "A2"
    print_setup(ws, 1, widths)  # readable on A4 and Letter: fitted only where text stays large


def _argb(colour: str) -> str:
    """``"F8CBAD"`` as Excel writes it, ``"FFF8CBAD"`` (opaque); eight digits stay as given."""
    return "FF" + colour if len(colour) == 6 else colour


def _queries_sheet(wb: Workbook, stored: Sequence[StoredQuery]) -> None:
    plan = queries_plan(stored)
    ws = wb.create_sheet(QUERIES_SHEET)
    fonts = (HEADING_FONT, NOTE_FONT)
    for number, (line, font) in enumerate(zip(QUERIES_PREAMBLE, fonts, strict=True), 1):
        put_text(ws.cell(number, 1), line).font = font
    top = QUERIES_HEADER_ROW
    for index, column in enumerate(plan.columns, 1):
        put_text(ws.cell(top, index), column.title).font = BOLD
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ref = f"A{top}:{get_column_letter(plan.n_cols)}{top + 1}"
    ws.add_table(excel_table(QUERIES_TABLE, plan.titles, ref, plan.style))
    print_setup(ws, None)


# --- summary blocks ------------------------------------------------------------------------------


def _summary_sheet(
    wb: Workbook, summary: SummaryDef, frames: dict[str, pd.DataFrame], template: ReportTemplate
) -> None:
    ws = wb.create_sheet(summary.sheet)
    ws.sheet_view.showGridLines = False
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 16
    put_text(ws["A1"], summary.title).font = TITLE_FONT
    row = 3
    tables = {q.table: q.name for q in template.queries}
    for block in summary.blocks:
        table = block.get("table", "")
        if table not in tables:
            raise WorkbookError(
                f"Summary block '{block.get('title')}' names unknown table {table}."
            )
        frame = frames[tables[table]]
        kind = block.get("kind")
        if kind == "totals":
            row = _totals(ws, row, block, table)
        elif kind in ("count_by_value", "sum_by_value"):
            row = _by_value(ws, row, block, table, frame)
        elif kind == "count_by_month":
            row = _by_month(ws, row, block, table)
        else:
            raise WorkbookError(f"Unknown summary block kind {kind!r} in {template.path.name}.")
        row += 2
    print_setup(ws, None)


def _heading(ws: Any, row: int, title: str, headers: Sequence[str]) -> int:
    put_text(ws.cell(row, 1), title).font = HEADING_FONT
    for col, text in enumerate(headers, 1):
        put_text(ws.cell(row + 1, col), text).font = BOLD
    return row + 2


def _totals(ws: Any, row: int, block: dict[str, Any], table: str) -> int:
    row = _heading(ws, row, block.get("title", "Totals"), ())
    for item in block.get("items", []):
        put_text(ws.cell(row, 1), item["label"])
        cell = put_formula(ws.cell(row, 2), item["formula"].replace("{table}", table))
        cell.number_format = item.get("number_format", "#,##0")
        row += 1
    return row - 1


def _by_value(ws: Any, row: int, block: dict[str, Any], table: str, frame: pd.DataFrame) -> int:
    column = block["column"]
    counting = block["kind"] == "count_by_value"
    value = block.get("value", "")
    fmt = "#,##0" if counting else block.get("number_format", "#,##0.00")
    header = row
    row = _heading(
        ws, row, block["title"], (block.get("label", column), "Events" if counting else value)
    )
    first = row
    labels = _top_labels(frame, column, value if not counting else None)
    for label in labels:
        put_text(ws.cell(row, 1), label)
        formula = (
            f"=COUNTIFS({table}[{column}],A{row})"
            if counting
            else f"=SUMIFS({table}[{value}],{table}[{column}],A{row})"
        )
        put_formula(ws.cell(row, 2), formula).number_format = fmt
        row += 1
    total = f"COUNTA({table}[UID])" if counting else f"SUM({table}[{value}])"
    spent = f"SUM(B{first}:B{row - 1})" if labels else "0"
    put_text(ws.cell(row, 1), "(other)")
    put_formula(ws.cell(row, 2), f"={total}-{spent}").number_format = fmt
    put_text(ws.cell(row + 1, 1), "Total").font = BOLD
    put_formula(ws.cell(row + 1, 2), f"={total}").number_format = fmt
    if block.get("chart"):
        _chart(ws, block["chart"], header + 1, first, row, anchor=f"D{header}")
    return row + 1


def _top_labels(frame: pd.DataFrame, column: str, weight: str | None) -> list[str]:
    if column not in frame.columns:
        return []
    data = frame[[column] + ([weight] if weight else [])].dropna(subset=[column])
    if weight:
        totals = data.groupby(column)[weight].sum().sort_values(ascending=False, kind="mergesort")
    else:
        totals = data[column].value_counts(sort=True)
    ordered = sorted(totals.items(), key=lambda kv: (-float(kv[1] or 0), str(kv[0])))
    return [str(label) for label, _ in ordered[:TOP_VALUES]]


def _by_month(ws: Any, row: int, block: dict[str, Any], table: str) -> int:
    column = block["column"]
    header = row
    row = _heading(ws, row, block["title"], ("Month", "Events"))
    first = row
    for offset in range(-int(block.get("months_before", 1)), int(block.get("months_after", 3)) + 1):
        month = f"=DATE(YEAR(TODAY()),MONTH(TODAY()){offset:+d},1)"
        put_formula(ws.cell(row, 1), month).number_format = MONTH_FORMAT
        put_formula(
            ws.cell(row, 2),
            f'=COUNTIFS({table}[{column}],">="&A{row},{table}[{column}],"<"&EDATE(A{row},1))',
        ).number_format = "#,##0"
        row += 1
    if block.get("chart"):
        _chart(ws, block["chart"], header + 1, first, row - 1, anchor=f"D{header}")
    return row - 1


def _chart(ws: Any, title: str, header_row: int, first: int, last: int, anchor: str) -> None:
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.legend = None
    chart.height, chart.width = 7.5, 15
    data = Reference(ws, min_col=2, min_row=header_row, max_row=last)
    categories = Reference(ws, min_col=1, min_row=first, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    # As Excel writes a column chart: the series name is an absolute reference (openpyxl writes
    # a relative one) and the category axis sits at the bottom (openpyxl says left).
    for series in chart.series:
        if series.tx is not None and series.tx.strRef is not None:
            series.tx.strRef.f = f"{quote_sheetname(ws.title)}!$B${header_row}"
    chart.x_axis.axPos = "b"
    ws.add_chart(chart, anchor)


# --- live formulas -------------------------------------------------------------------------------


def _formula_sheet(wb: Workbook, sheet: FormulaSheet, bucket: str) -> list[str]:
    """A sheet of add-in formulas; returns the cells whose formula spills (dynamic arrays)."""
    ws = wb.create_sheet(sheet.sheet)
    put_text(ws["A1"], sheet.title).font = HEADING_FONT
    spilling = []
    if sheet.formula:
        anchor = ws[sheet.cell]
        put_formula(anchor, sheet.formula.replace("{bucket}", bucket))
        spilling.append(sheet.cell)
        if sheet.columns:
            for offset, name in enumerate(resolve_columns(sheet.columns).fields):
                fld = field_for(name)
                letter = get_column_letter(anchor.column + offset)
                ws.column_dimensions[letter].width = 14 if fld.kind != "text" else 30
                if fld.number_format.code != "General":
                    for r in range(anchor.row + 1, anchor.row + 1001):
                        ws.cell(r, anchor.column + offset).number_format = fld.number_format.code
    for number, item in enumerate(sheet.items):
        put_text(ws.cell(3 + number, 1), item["label"])
        put_formula(ws.cell(3 + number, 2), item["formula"].replace("{bucket}", bucket))
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 36)
    print_setup(ws, None)
    return spilling


_METADATA = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
    '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" '
    'pasteAll="1" pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" '
    'clearComments="1" assign="1" coerce="1" cellMeta="1"/></metadataTypes>'
    '<futureMetadata name="XLDAPR" count="1"><bk><extLst>'
    '<ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
    '<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk>'
    "</futureMetadata>"
    '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>'
)


def _mark_dynamic_arrays(package: XlsxPackage, cells: dict[str, list[str]]) -> None:
    """Mark formulas as dynamic arrays (Excel 365 spills them instead of showing one value):
    a ``metadata`` part and ``cm="1"`` with an array formula on each cell."""
    from lxml import etree

    from sheep_xl.writers.ooxml import M

    part = "xl/metadata.xml"
    package.write(part, _METADATA.encode())
    types = package.content_types()
    etree.SubElement(
        types,
        f"{{{types.nsmap[None]}}}Override",
        PartName="/" + part,
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml",
    )
    package.add_relationship(
        package.workbook_part,
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata",
        "metadata.xml",
        external=False,
    )
    sheets = dict(package.sheets())
    for sheet_name, refs in cells.items():
        root = package.edit(sheets[sheet_name])
        for cell in root.iter(f"{M}c"):
            if cell.get("r") in refs:
                formula = cell.find(f"{M}f")
                if formula is not None:
                    cell.set("cm", "1")
                    formula.set("t", "array")
                    formula.set("ref", cell.get("r", "A1"))
