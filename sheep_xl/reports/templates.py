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

A query has a ``kind`` (events, attendees, orders, tickets, ticket types, full events) and a
target: a ``state``, or one ``event`` uid, where ``event = "{event}"`` means the report's event,
chosen when it is built (``--event``; ``demo_event`` with the demo data) and later on the
SheepCRM sheet. Money is never added up across currencies: every amount in a summary is per
currency, and blocks of kind ``by_currency`` list the currencies the data holds (looked up on a
hidden Currencies sheet, so they follow every refresh).
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import io
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import TableFormula

from sheep_xl.api.client import ProgressCallback, SheepClient
from sheep_xl.api.validation import validate_uid
from sheep_xl.exceptions import InputError, SheepError, WorkbookError
from sheep_xl.files import atomic_path
from sheep_xl.frames.catalogue import field_for
from sheep_xl.frames.columns import resolve_columns
from sheep_xl.frames.fetch_parts import PartFrame
from sheep_xl.frames.query_kinds import EVENTS_KIND, resolve_kind
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
WARNING_FONT = Font(bold=True, color="FF9C0006")
TOP_VALUES = 12  # rows of a by-value summary before "(other)"
DEFINITIONS_PACKAGE = "sheep_xl.reports.definitions"  # workbook_templates/, as package data
EVENT_PLACEHOLDER = "{event}"  # a query's event: the one the report is built for
CURRENCIES_SHEET = "Currencies"  # hidden: the codes `by_currency` blocks look for
RECORD_FORMATS = {  # a record block's values, by the field's kind
    "date": "d mmmm yyyy",
    "datetime": "d mmmm yyyy h:mm",
    "time": "h:mm",
}
# ISO 4217 codes, in order: the currencies a `by_currency` block finds in a table (any letter
# case). A code missing here is counted, and the summary says so.
_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS
    VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL"""
CURRENCY_CODES = tuple(_ISO_4217.split())
CURRENCY_FIRST_ROW = 5  # of the codes on the Currencies sheet
CURRENCY_LAST_ROW = CURRENCY_FIRST_ROW + len(CURRENCY_CODES) - 1


# --- definitions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calculated:
    title: str
    formula: str  # may use [@Column] for "this row"
    number_format: str = "General"
    width: float = 10.0
    first: bool = False  # before the sheepCRM columns (a row number), not after them
    # "Table[Column]": one column per value found there when the report is built, with
    # {currency} (as found, lower case) and {CURRENCY} (upper case) in the title and formula
    for_each: str = ""


@dataclass(frozen=True)
class Highlight:
    column: str = ""
    operator: str = ""
    value: Any = None
    fill: str = ""
    font: str = ""
    # or a condition on the row, with [@Column] for "this row": the whole row is highlighted
    formula: str = ""


@dataclass(frozen=True)
class PageDef:
    """How a table sheet looks and prints, when not like the others."""

    orientation: str = "landscape"
    row_height: float | None = None  # points, for every row of the table (room to sign)
    grid: bool = False  # thin borders around every cell of the table
    fit_width: bool = False  # one page wide whatever the widths
    hidden: tuple[str, ...] = ()  # columns kept for formulas, not shown or printed
    # lines above the table (text or formulas), repeated with the header on every printed page
    heading: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class QueryDef:
    name: str
    sheet: str
    table: str
    state: str = ""
    columns: str = "default"
    sort: str = ""
    calculated: tuple[Calculated, ...] = ()
    highlight: tuple[Highlight, ...] = ()
    kind: str = EVENTS_KIND.name
    event: str = ""  # an event uid, or EVENT_PLACEHOLDER for the report's event
    page: PageDef = field(default_factory=PageDef)

    @property
    def for_the_event(self) -> bool:
        return self.event == EVENT_PLACEHOLDER

    def stored(self, bucket: str, source: str = SOURCE_SHEEPCRM, event: str = "") -> StoredQuery:
        return StoredQuery(
            self.name,
            self.sheet,
            self.table,
            bucket,
            self.state,
            self.columns,
            self.sort,
            source=source,
            kind=self.kind,
            event_uid=event if self.for_the_event else self.event,
        ).validate()


@dataclass(frozen=True)
class SummaryDef:
    sheet: str
    title: str
    blocks: tuple[dict[str, Any], ...]
    subtitle: str = ""  # a formula (or text) under the title, e.g. the event's name
    widths: tuple[float, ...] = (32, 16)  # columns A, B...
    orientation: str = "landscape"
    one_page: bool = False  # printed on one page (scaled down as needed)


@dataclass(frozen=True)
class CoverDef:
    """What a report's cover adds: a block of labelled formulas (the event it is about) and
    notes (how to choose another)."""

    heading: str = ""
    items: tuple[dict[str, Any], ...] = ()
    notes_heading: str = ""
    notes: tuple[str, ...] = ()


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
    cover: CoverDef = field(default_factory=CoverDef)
    demo_event: str = ""  # the event of a report for one event, built from the demo data
    sheet_order: tuple[str, ...] = ()  # sheets to put first after the cover, in this order

    @property
    def needs_event(self) -> bool:
        """A report for one event: built with ``--event UID`` (or the demo's event)."""
        return any(q.for_the_event for q in self.queries)


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
        queries = tuple(_query_def(q, path) for q in raw.get("query", []))
        summaries = tuple(
            SummaryDef(
                s["sheet"],
                s.get("title", s["sheet"]),
                tuple(s.get("block", [])),
                s.get("subtitle", ""),
                tuple(float(w) for w in s.get("widths", (32, 16))),
                s.get("orientation", "landscape"),
                bool(s.get("one_page", False)),
            )
            for s in raw.get("summary", [])
        )
        cover_raw = raw.get("cover", {})
        cover = CoverDef(
            cover_raw.get("heading", ""),
            tuple(cover_raw.get("items", [])),
            cover_raw.get("notes_heading", ""),
            tuple(" ".join(str(n).split()) for n in cover_raw.get("notes", [])),
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
        template = ReportTemplate(
            Path(path),
            report["file"],
            report["title"],
            " ".join(report["about"].split()),
            queries,
            summaries,
            formulas,
            bool(report.get("needs_addin", False)),
            cover,
            str(report.get("demo_event", "")),
            tuple(report.get("sheet_order", ())),
        )
    except (KeyError, TypeError) as exc:
        raise WorkbookError(f"The report template {path} is missing or misnames {exc}.") from None
    for summary in template.summaries:
        if summary.orientation not in ("landscape", "portrait"):
            raise WorkbookError(
                f"In the report template {path}, summary '{summary.sheet}': orientation is "
                "'landscape' or 'portrait'."
            )
    if template.demo_event:
        try:
            validate_uid(template.demo_event)
        except SheepError as exc:
            raise WorkbookError(f"In the report template {path}, demo_event: {exc}") from None
    return template


def _query_def(q: dict[str, Any], path: Path) -> QueryDef:
    """One [[query]]: ``kind`` (blank: events) and ``state`` or ``event`` (a uid, or "{event}"
    for the report's event); checked as a stored query is, so a bad one fails before a build."""
    page = q.get("page", {})
    query = QueryDef(
        name=q["name"],
        sheet=q["sheet"],
        table=q["table"],
        state=q.get("state", ""),
        columns=q.get("columns", "default"),
        sort=q.get("sort", ""),
        calculated=tuple(Calculated(**c) for c in q.get("calculated", [])),
        highlight=tuple(Highlight(**h) for h in q.get("highlight", [])),
        kind=q.get("kind", EVENTS_KIND.name),
        event=q.get("event", ""),
        page=PageDef(
            **{
                **page,
                "heading": tuple(page.get("heading", ())),
                "hidden": tuple(page.get("hidden", ())),
            }
        ),
    )
    try:
        kind = resolve_kind(query.kind)
        # "{event}" stands for a uid the build gives: check the rest with a well-formed one
        query.stored("example", event="0" * 24 if query.for_the_event else "")
    except SheepError as exc:
        raise WorkbookError(f"In the report template {path}, query '{q['name']}': {exc}") from None
    if query.page.orientation not in ("landscape", "portrait"):
        raise WorkbookError(
            f"In the report template {path}, query '{q['name']}': page orientation is "
            "'landscape' or 'portrait'."
        )
    return replace(query, kind=kind.name)


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
    event: str | None = None,
) -> BuiltReport:
    """Build one report into ``out_dir`` (atomically); returns where and how many rows.

    ``source`` is recorded with the queries: ``demo`` when ``client`` serves the built-in demo
    data, so later refreshes go to the demo again and never to a real bucket. ``event`` is the
    uid of the event a report for one event is about (default: the template's ``demo_event``)."""
    event_uid = ""
    if template.needs_event:
        event_uid = (event or template.demo_event).strip()
        if not event_uid:
            raise InputError(
                f"{template.title} is for one event: give its uid (--event UID; it is the UID "
                "column of any events table, or the last part of the event's sheepCRM address)."
            )
    stored = [q.stored(bucket, source, event_uid) for q in template.queries]
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
    expanded: dict[str, tuple[str, ...]] = {}  # table -> the values its for_each columns got
    for query_def, query in zip(template.queries, stored, strict=True):
        plan = plan_table(frames[query.name], query.table)
        calculated, expanded[query.table] = _expand(query_def.calculated, frames, template)
        _table_sheet(wb, query_def, plan, calculated)
    summary_tables: list[str] = []
    for summary in template.summaries:
        summary_tables += _summary_sheet(wb, summary, frames, template, expanded)
    dynamic_cells: dict[str, list[str]] = {}
    for sheet in template.formulas:
        dynamic_cells[sheet.sheet] = _formula_sheet(wb, sheet, bucket)
    if summary_tables:
        _currencies_sheet(wb, summary_tables)
    if stored:
        _queries_sheet(wb, stored)
        wb.defined_names[MARKER_NAME] = DefinedName(MARKER_NAME, attr_text="TRUE")
    _order_sheets(wb, template)
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


def _order_sheets(wb: Workbook, template: ReportTemplate) -> None:
    """The cover first, then the sheets ``sheet_order`` names, the others as made, and the
    SheepCRM sheet last."""
    names = [ws.title for ws in wb.worksheets]
    unknown = [n for n in template.sheet_order if n not in names]
    if unknown:
        raise WorkbookError(
            f"The report template {template.path.name} orders sheets it does not have: "
            f"{', '.join(unknown)}."
        )
    wanted = ["Cover", *template.sheet_order]
    order = [n for n in wanted if n in names]
    order += [n for n in names if n not in order and n != QUERIES_SHEET]
    order += [n for n in names if n == QUERIES_SHEET]
    for position, name in enumerate(order):
        wb.move_sheet(name, offset=position - wb.index(wb[name]))


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
    if template.cover.items:
        row = _cover_items(ws, row, template.cover) + 2
    if template.cover.notes:
        put_text(ws.cell(row, 1), template.cover.notes_heading or "Notes").font = HEADING_FONT
        row = _cover_lines(ws, row, template.cover.notes) + 2
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
            target = "Event UID" if query.event_uid else "State"  # what the query is about
            put_formula(ws.cell(row, 5), f"=INDEX({QUERIES_TABLE}[{target}],{match})")
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
    _cover_lines(ws, row, lines)
    print_setup(ws, None)
    ws.page_setup.fitToHeight = 1  # a cover is one page


def _cover_lines(ws: Any, row: int, lines: Sequence[str]) -> int:
    for line in lines:
        row += 1
        put_text(ws.cell(row, 1), line)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        ws.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 30
    return row


def _cover_items(ws: Any, row: int, cover: CoverDef) -> int:
    """The cover's own block: a label and a formula (merged over B:E) per item; an item without
    a label is a warning line over the whole width (shown only when its formula says so)."""
    put_text(ws.cell(row, 1), cover.heading or "About").font = HEADING_FONT
    for item in cover.items:
        row += 1
        label = item.get("label", "")
        if label:
            put_text(ws.cell(row, 1), label).font = BOLD
            cell = ws.cell(row, 2)
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=5)
        else:
            cell = ws.cell(row, 1)
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
            cell.font = WARNING_FONT
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.row_dimensions[row].height = 30
        put_formula(cell, item["formula"]).number_format = item.get("number_format", "General")
        if label:
            cell.alignment = Alignment(horizontal="left")
    return row


def _expand(
    calculated: Sequence[Calculated],
    frames: dict[str, pd.DataFrame],
    template: ReportTemplate,
) -> tuple[tuple[Calculated, ...], tuple[str, ...]]:
    """The calculated columns with the ``for_each`` ones made into columns per value found
    (lower case, sorted: a currency code), ``{currency}``/``{CURRENCY}`` filled in; consecutive
    ones over the same values go value by value (GBP paid, GBP outstanding, EUR paid...).
    Returns the columns and the values found."""
    tables = {q.table.lower(): q.name for q in template.queries}
    out: list[Calculated] = []
    seen: set[str] = set()
    index = 0
    while index < len(calculated):
        calc = calculated[index]
        if not calc.for_each:
            out.append(calc)
            index += 1
            continue
        group = [calc]
        while (
            index + len(group) < len(calculated)
            and calculated[index + len(group)].for_each == calc.for_each
        ):
            group.append(calculated[index + len(group)])
        index += len(group)
        found = re.fullmatch(r"([^\[\]]+)\[([^\[\]]+)\]", calc.for_each.strip())
        if found is None or found.group(1).lower() not in tables:
            raise WorkbookError(
                f"Calculated column '{calc.title}' of {template.path.name}: for_each names a "
                f"table column of this report, such as Orders[Currency] (not {calc.for_each!r})."
            )
        frame = frames[tables[found.group(1).lower()]]
        column = found.group(2)
        values = (
            sorted({str(v).strip().lower() for v in frame[column].dropna() if str(v).strip()})
            if column in frame.columns
            else []
        )
        seen.update(values)
        for value in values:
            fill = {"{currency}": value, "{CURRENCY}": value.upper()}
            for member in group:
                title, formula = member.title, member.formula
                for key, text in fill.items():
                    title, formula = title.replace(key, text), formula.replace(key, text)
                out.append(replace(member, title=title, formula=formula, for_each=""))
    return tuple(out), tuple(sorted(seen))


def _this_row(formula: str, table: str) -> str:
    """``[@Col]`` and ``[@[Col name]]`` as stored in files: ``Table[[#This Row],[Col]]``."""
    formula = re.sub(r"\[@\[([^\]]+)\]\]", rf"{table}[[#This Row],[\1]]", formula)
    return re.sub(r"\[@([^\[\]]+)\]", rf"{table}[[#This Row],[\1]]", formula)


def _at_row(formula: str, table: str, k: int) -> str:
    """``[@Col]`` as the table's ``k``-th row: ``INDEX(Table[Col],k)``."""
    formula = re.sub(r"\[@\[([^\]]+)\]\]", rf"INDEX({table}[\1],{k})", formula)
    return re.sub(r"\[@([^\[\]]+)\]", rf"INDEX({table}[\1],{k})", formula)


def _in_cells(formula: str, titles: Sequence[str], row: int) -> str:
    """``[@Col]`` as the cell of that column in ``row`` (``$H2``), for a conditional format,
    where Excel does not allow structured references."""

    def cell(match: re.Match[str]) -> str:
        title = match.group(1) or match.group(2)
        if title not in titles:
            raise WorkbookError(f"Highlight formula names a column the table lacks: {title!r}.")
        return f"${get_column_letter(titles.index(title) + 1)}{row}"

    return re.sub(r"\[@\[([^\]]+)\]\]|\[@([^\[\]]+)\]", cell, formula)


THIN = Side(style="thin", color="FF7F7F7F")


def _table_sheet(
    wb: Workbook, query: QueryDef, plan: TablePlan, calculated: Sequence[Calculated]
) -> None:
    ws = wb.create_sheet(query.sheet)
    page = query.page
    top = len(page.heading) + 2 if page.heading else 1  # the header, under any heading
    across = min(4, len(plan.columns) + len(calculated))  # the heading's merged width
    for number, line in enumerate(page.heading, 1):
        cell = ws.cell(number, 1)
        if across > 1:
            ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=across)
        if "formula" in line:
            put_formula(cell, line["formula"])
        else:
            put_text(cell, line.get("text", ""))
        cell.number_format = line.get("number_format", "General")
        cell.font = TITLE_FONT if number == 1 else HEADING_FONT
        cell.alignment = Alignment(horizontal="left")
        ws.row_dimensions[number].height = 24 if number == 1 else 18
    before = [c for c in calculated if c.first]
    after = [c for c in calculated if not c.first]
    columns: list[tuple[str, float, Calculated | None]] = [(c.title, c.width, c) for c in before]
    columns += [(c.title, c.width, None) for c in plan.columns]
    columns += [(c.title, c.width, c) for c in after]
    titles = [title for title, _, _ in columns]
    unknown = [t for t in page.hidden if t not in titles]
    if unknown:
        raise WorkbookError(f"Table {query.table} has no column {unknown[0]!r} to hide.")
    widths = [width for title, width, _ in columns if title not in page.hidden]
    for index, (title, width, calc) in enumerate(columns, 1):
        # the table style colours it in Excel; bold reads well everywhere
        put_text(ws.cell(top, index), title).font = BOLD
        ws.column_dimensions[get_column_letter(index)].width = width
        ws.column_dimensions[get_column_letter(index)].hidden = title in page.hidden
        if calc is not None:
            formula = _this_row(calc.formula, query.table)
            put_formula(ws.cell(top + 1, index), formula).number_format = calc.number_format
    last = get_column_letter(len(titles))
    ref = f"A{top}:{last}{top + 1}"
    table = excel_table(query.table, titles, ref, DEFAULT_TABLE_STYLE)
    for index, (_, _, calc) in enumerate(columns):
        if calc is not None:
            formula = _this_row(calc.formula, query.table).lstrip("=")
            table.tableColumns[index].calculatedColumnFormula = TableFormula(attr_text=formula)
    ws.add_table(table)
    body = f"A{top + 1}:{last}{top + 1}"  # conditional formats follow the table's rows
    for rule in query.highlight:
        colour = _argb(rule.fill)
        fill = (
            PatternFill(start_color=colour, end_color=colour, fill_type="solid")
            if rule.fill
            else None
        )
        font = Font(color=_argb(rule.font)) if rule.font else None
        if rule.formula:
            condition = _in_cells(rule.formula.lstrip("="), titles, top + 1)
            ws.conditional_formatting.add(
                body, FormulaRule(formula=[condition], fill=fill, font=font)
            )
            continue
        if rule.column not in titles:
            raise WorkbookError(f"Highlight column '{rule.column}' is not in table {query.table}.")
        letter = get_column_letter(titles.index(rule.column) + 1)
        ws.conditional_formatting.add(
            f"{letter}{top + 1}:{letter}{top + 1}",
            CellIsRule(operator=rule.operator, formula=[str(rule.value)], fill=fill, font=font),
        )
    if page.grid:
        # borders as a conditional format: cell styles are the refresh's, but a conditional
        # format's range grows and shrinks with the table
        box = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
        ws.conditional_formatting.add(body, FormulaRule(formula=["TRUE"], border=box))
    if page.row_height:
        ws.sheet_format.defaultRowHeight = page.row_height
        ws.sheet_format.customHeight = True
        ws.row_dimensions[top].height = 20
        for number in range(len(page.heading) + 1, top):
            ws.row_dimensions[number].height = 12  # the blank row under the heading
    ws.freeze_panes = f"A{top + 1}"
    print_setup(ws, top, None if page.fit_width else widths)
    if page.heading:
        ws.print_title_rows = f"1:{top}"  # the heading and the header on every page
    ws.page_setup.orientation = page.orientation


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
    wb: Workbook,
    summary: SummaryDef,
    frames: dict[str, pd.DataFrame],
    template: ReportTemplate,
    expanded: dict[str, tuple[str, ...]],
) -> list[str]:
    """A sheet of formula blocks over the tables; returns the tables its ``by_currency`` blocks
    look up on the Currencies sheet."""
    ws = wb.create_sheet(summary.sheet)
    ws.sheet_view.showGridLines = False
    widths = list(summary.widths) + [14.0] * 8
    for index, width in enumerate(widths[:10], 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    put_text(ws["A1"], summary.title).font = TITLE_FONT
    row = 3
    if summary.subtitle:
        cell = ws["A2"]
        if summary.subtitle.startswith("="):
            put_formula(cell, summary.subtitle)
        else:
            put_text(cell, summary.subtitle)
        cell.font = HEADING_FONT
        row = 4
    tables = {q.table: q.name for q in template.queries}
    currency_tables: list[str] = []
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
        elif kind == "record":
            row = _record(ws, row, block, table, plan_table(frame, table))
        elif kind == "rows":
            row = _rows(ws, row, block, table)
        elif kind == "by_currency":
            if table not in currency_tables:
                currency_tables.append(table)
            row = _by_currency(ws, row, block, table, currency_tables.index(table), expanded)
        else:
            raise WorkbookError(f"Unknown summary block kind {kind!r} in {template.path.name}.")
        row += 2
    print_setup(ws, None)
    ws.page_setup.orientation = summary.orientation
    if summary.one_page:
        ws.page_setup.fitToHeight = 1
    return currency_tables


def _heading(
    ws: Any, row: int, title: str, headers: Sequence[str], left: Sequence[bool] = ()
) -> int:
    """A block's title and column headers; with ``left`` (per header), the others are
    right-aligned over their numbers."""
    put_text(ws.cell(row, 1), title).font = HEADING_FONT
    for col, text in enumerate(headers, 1):
        cell = put_text(ws.cell(row + 1, col), text)
        cell.font = BOLD
        if left and not left[col - 1]:
            cell.alignment = Alignment(horizontal="right")
    return row + 2


def _col(title: str) -> str:
    """A column title inside a structured reference (``'``, ``[``, ``]``, ``#`` escaped)."""
    return re.sub(r"(['\[\]#])", r"'\1", title)


def _totals(ws: Any, row: int, block: dict[str, Any], table: str) -> int:
    row = _heading(ws, row, block.get("title", "Totals"), ())
    for item in block.get("items", []):
        put_text(ws.cell(row, 1), item["label"])
        cell = put_formula(ws.cell(row, 2), item["formula"].replace("{table}", table))
        cell.number_format = item.get("number_format", "#,##0")
        row += 1
    return row - 1


def _by_value(ws: Any, row: int, block: dict[str, Any], table: str, frame: pd.DataFrame) -> int:
    """Counts (or sums) by the values of a column: the data's most frequent values, or the
    ``values`` listed (a fixed set such as attendance statuses), then ``(other)`` and Total."""
    column = block["column"]
    counting = block["kind"] == "count_by_value"
    value = block.get("value", "")
    fmt = "#,##0" if counting else block.get("number_format", "#,##0.00")
    header = row
    row = _heading(
        ws,
        row,
        block["title"],
        (block.get("label", column), block.get("count_label", "Events") if counting else value),
        (True, False) if "values" in block else (),
    )
    first = row
    labels = [str(v) for v in block.get("values", [])] or _top_labels(
        frame, column, value if not counting else None
    )
    for label in labels:
        put_text(ws.cell(row, 1), label)
        formula = (
            f"=COUNTIFS({table}[{column}],A{row})"
            if counting
            else f"=SUMIFS({table}[{value}],{table}[{column}],A{row})"
        )
        put_formula(ws.cell(row, 2), formula).number_format = fmt
        row += 1
    counted = _col(block.get("count_column", "UID"))
    total = f"COUNTA({table}[{counted}])" if counting else f"SUM({table}[{value}])"
    spent = f"SUM(B{first}:B{row - 1})" if labels else "0"
    put_text(ws.cell(row, 1), "(other)")
    put_formula(ws.cell(row, 2), f"={total}-{spent}").number_format = fmt
    put_text(ws.cell(row + 1, 1), "Total").font = BOLD
    put_formula(ws.cell(row + 1, 2), f"={total}").number_format = fmt
    if block.get("chart"):
        _chart(ws, block["chart"], header + 1, first, row, anchor=f"D{header}")
    return row + 1


def _record(ws: Any, row: int, block: dict[str, Any], table: str, plan: TablePlan) -> int:
    """One row of a table (a single event's details) as label and value lines: a blank shows
    blank, TRUE/FALSE as Yes/No, dates and times in words, notes wrapped."""
    row = _heading(ws, row, block["title"], ())
    by_title = {c.title: c for c in plan.columns}
    labels = block.get("labels", {})
    for title in block["columns"]:
        column = by_title.get(title)
        if column is None:
            raise WorkbookError(
                f"Summary block '{block['title']}' shows column {title!r}, which table "
                f"{table} does not have: add it to the query's columns."
            )
        put_text(ws.cell(row, 1), labels.get(title, title)).alignment = Alignment(vertical="top")
        value = f"INDEX({table}[{_col(title)}],1)"
        if column.kind == "bool":
            formula = f'=IF({value}="","",IF({value},"Yes","No"))'
        else:
            formula = f'=IF({value}="","",{value})'
        cell = put_formula(ws.cell(row, 2), formula)
        cell.number_format = RECORD_FORMATS.get(column.kind, column.number_format.code)
        cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        row += 1
    return row - 1


def _rows(ws: Any, row: int, block: dict[str, Any], table: str) -> int:
    """The first ``slots`` rows of a table, one line each (``[@Column]`` is that row's cell),
    under a totals line; lines past the table's rows stay blank, and a note says when the table
    has more rows than lines."""
    columns = block["columns"]
    key = _col(block["key"])
    slots = int(block.get("slots", 8))
    aligned = [index == 0 or c.get("align") == "left" for index, c in enumerate(columns)]
    row = _heading(ws, row, block["title"], [c["title"] for c in columns], aligned)
    total = block.get("total", {})
    if total:
        put_text(ws.cell(row, 1), total.get("label", "Total")).font = BOLD
        for col, column in enumerate(columns[1:], 2):
            formula = total.get(column["title"])
            if formula:
                cell = put_formula(ws.cell(row, col), formula.replace("{table}", table))
                cell.number_format = column.get("number_format", "General")
                cell.font = BOLD
        row += 1
    for k in range(1, slots + 1):
        guard = f'INDEX({table}[{key}],{k})=""'
        for col, column in enumerate(columns, 1):
            expression = _at_row(column["formula"], table, k).lstrip("=")
            cell = put_formula(ws.cell(row, col), f'=IFERROR(IF({guard},"",{expression}),"")')
            cell.number_format = column.get("number_format", "General")
            if column.get("align") == "left":
                cell.alignment = Alignment(horizontal="left")
        row += 1
    more = block.get("more", f"More rows than shown here: see table {table}.")
    cell = put_formula(ws.cell(row, 1), f'=IF(ROWS({table}[{key}])>{slots},"{more}","")')
    cell.font = NOTE_FONT
    return row


def _by_currency(
    ws: Any,
    row: int,
    block: dict[str, Any],
    table: str,
    slot: int,
    expanded: dict[str, tuple[str, ...]],
) -> int:
    """One line per currency the table holds (as many as ``slots``), each column a formula
    with ``{currency}`` for that line's code: amounts are never added across currencies. The
    codes come from the hidden Currencies sheet, so the lines follow every refresh; notes say
    when there are more currencies than lines, a code sheep-xl does not know, or (with
    ``columns_on``) a currency a table's per-currency columns were not built for."""
    column = _col(block.get("column", "Currency"))
    columns = block["columns"]
    slots = int(block.get("slots", 4))
    headers = ["Currency", *(c["title"] for c in columns)]
    row = _heading(ws, row, block["title"], headers, [True] + [False] * len(columns))
    codes = _currency_range(0)
    counts, found = _currency_range(1 + 2 * slot), _currency_range(2 + 2 * slot)
    for k in range(1, slots + 1):
        put_formula(
            ws.cell(row, 1), f'=IFERROR(INDEX({codes},MATCH({k},{found},0)),"")'
        ).font = BOLD
        for col, item in enumerate(columns, 2):
            formula = item["formula"].replace("{table}", table).replace("{currency}", f"$A{row}")
            cell = put_formula(ws.cell(row, col), f'=IF($A{row}="","",{formula.lstrip("=")})')
            cell.number_format = item.get("number_format", "#,##0.00")
        row += 1
    notes = [
        f'=IF(MAX({found})>{slots},"More currencies than the {slots} lines here: see table '
        f'{table}.","")',
        f"=IF(COUNTA({table}[{column}])-SUM({counts})>0,COUNTA({table}[{column}])-SUM({counts})"
        f'&" lines of table {table} are in a currency these lines do not list: add its code '
        f'to the hidden {CURRENCIES_SHEET} sheet.","")',
    ]
    checked = block.get("columns_on", "")
    if checked:
        seen = expanded.get(checked, ())
        present = "".join(f'-(COUNTIFS({table}[{column}],"{c}")>0)' for c in seen)
        notes.append(
            f'=IF(MAX({found}){present}>0,"Table {checked} has no columns for a currency of '
            f'table {table}: build the report again (sheep-xl templates build) to add them.","")'
        )
    for note in notes:
        put_formula(ws.cell(row, 1), note).font = WARNING_FONT
        row += 1
    return row - 1


def _currency_range(offset: int) -> str:
    """A column of the Currencies sheet: the codes (0), then per table its lines and the
    running count of the codes it holds."""
    letter = get_column_letter(1 + offset)
    return f"{CURRENCIES_SHEET}!${letter}${CURRENCY_FIRST_ROW}:${letter}${CURRENCY_LAST_ROW}"


def _currencies_sheet(wb: Workbook, tables: Sequence[str]) -> None:
    """The hidden sheet of currency codes `by_currency` blocks look up: per table, how many of
    its lines are in each code, and the running count of codes found (the n-th code found is
    the first line where that count is n)."""
    ws = wb.create_sheet(CURRENCIES_SHEET)
    ws.sheet_state = "hidden"
    put_text(ws["A1"], "Currencies").font = HEADING_FONT
    put_text(
        ws["A2"],
        "The currency codes the summaries look for in the tables (any letter case). Add a "
        "code at the end of the list if yours is missing.",
    ).font = NOTE_FONT
    top = CURRENCY_FIRST_ROW - 1
    put_text(ws.cell(top, 1), "Code").font = BOLD
    for index, table in enumerate(tables):
        count_col, found_col = 2 + 2 * index, 3 + 2 * index
        put_text(ws.cell(top, count_col), f"{table} lines").font = BOLD
        put_text(ws.cell(top, found_col), f"{table} codes found").font = BOLD
    for offset, code in enumerate(CURRENCY_CODES):
        row = CURRENCY_FIRST_ROW + offset
        put_text(ws.cell(row, 1), code)
        for index, table in enumerate(tables):
            count_col, found_col = 2 + 2 * index, 3 + 2 * index
            letter = get_column_letter(count_col)
            put_formula(ws.cell(row, count_col), f"=COUNTIFS({table}[Currency],$A{row})")
            put_formula(
                ws.cell(row, found_col),
                f'=COUNTIFS({letter}${CURRENCY_FIRST_ROW}:{letter}{row},">0")',
            )
    for index in range(1, 2 + 2 * len(tables)):
        ws.column_dimensions[get_column_letter(index)].width = 8 if index == 1 else 18
    print_setup(ws, top)


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
