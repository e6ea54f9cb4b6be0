"""Apply table plans to a workbook open in Excel, through xlwings' object model.

Only xlwings' public, BSD-licensed API is used (``Book``, ``Sheet``, ``Range``, ``Table``,
``Names``, ``app.status_bar``), so the same code runs on Windows and macOS Excel and, in tests,
on an in-memory engine. The number of calls into Excel is kept small: one bulk write for the
header and one per block of data columns, one number format per column.

Excel parses text written through its object model as if it were typed, so ``=x`` would become a
formula and ``00123`` a number; every text value is written with a leading apostrophe, which
Excel keeps as the cell's prefix character, not as content.

Excel's limits are the plan's (``tables.plan``): a table that would pass the last row or column
is refused before any cell is written (`check_excel_limits`), links past a sheet's 65,530
hyperlinks stay text (`cap_links`). Dates: xlwings hands Excel Python datetimes as COM dates
(OLE Automation dates, counted from 1899-12-30 without Excel's phantom 29 February 1900), and
Excel converts them to its own serials itself, so 1900-01-01 to 1900-02-28 arrive as the right
days; a date before 1900-01-01 is one Excel cannot hold as a date at all (it stores it as text
or refuses it), so the plan has already made it an empty cell, counted in its warnings, as in
every other writer. A workbook using the 1904 date system is Excel's to convert as well.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import xlwings as xw

from sheep_xl.exceptions import WorkbookError
from sheep_xl.tables.layout import refresh_layout
from sheep_xl.tables.plan import (
    MAX_HYPERLINKS,
    TablePlan,
    cap_links,
    check_excel_limits,
    is_link,
    keeps_user_format,
)
from sheep_xl.tables.queries import (
    MARKER_NAME,
    QUERIES_HEADER_ROW,
    QUERIES_PREAMBLE,
    QUERIES_SHEET,
    QUERIES_TABLE,
    StoredQuery,
    parse_queries,
    queries_plan,
)

MAX_AUTOFIT_WIDTH = 60.0
_ADDRESS_LIMIT = 240  # Excel refuses multi-area addresses longer than 255 characters


class StatusBar:
    """Progress on Excel's status bar, always given back to Excel at the end."""

    def __init__(self, book: xw.Book) -> None:
        self.app = book.app

    def show(self, text: str) -> None:
        with contextlib.suppress(Exception):  # a status bar must never stop a refresh
            self.app.status_bar = text

    def clear(self) -> None:
        self.show(False)  # type: ignore[arg-type]  # False gives the bar back to Excel

    def fetch_progress(self, name: str) -> Callable[[int, int], None]:
        return lambda pages, rows: self.show(f"SheepCRM: {name}: page {pages}, {rows:,} events…")

    def event_progress(self, name: str) -> Callable[[int, int, str], None]:
        """Per-event queries: events done so far, and the current one's title."""
        return lambda done, total, title: self.show(
            f"SheepCRM: {name}: {done:,} of {total:,} events ({title[:50]})…"
        )

    def waiting(self, seconds: float) -> None:
        self.show(f"SheepCRM: waiting {seconds:,.0f} s for sheepCRM's rate limit…")


@dataclass
class LiveWrite:
    table: str
    sheet: str
    address: str
    rows: int
    warnings: list[str] = field(default_factory=list)


# --- finding things --------------------------------------------------------------------------


def find_sheet(book: xw.Book, name: str) -> xw.Sheet | None:
    for sheet in book.sheets:
        if sheet.name.lower() == name.lower():
            return sheet
    return None


def find_table(book: xw.Book, name: str) -> Any:
    """A table by name anywhere in the workbook (Excel table names are workbook-wide)."""
    for sheet in book.sheets:
        for table in sheet.tables:
            if table.name.lower() == name.lower():
                return table
    return None


@dataclass(frozen=True)
class TableRow:
    """One body row of an Excel table, by column title (as the header row spells them)."""

    table: str
    values: dict[str, Any]

    def get(self, *titles: str) -> Any:
        """The value of the first of ``titles`` the table has (titles compared in any case)."""
        lowered = {title.lower(): value for title, value in self.values.items()}
        for title in titles:
            if title.lower() in lowered:
                return lowered[title.lower()]
        return None


def table_row_at(sheet: xw.Sheet, address: str) -> TableRow | None:
    """The table row the cell ``address`` is in (None outside every table's body)."""
    cell = sheet.range(address)
    row, column = cell.row, cell.column
    for table in sheet.tables:
        body, header = table.data_body_range, table.header_row_range
        if body is None or header is None:
            continue
        rows, cols = body.shape
        if body.row <= row < body.row + rows and body.column <= column < body.column + cols:
            titles = header.options(ndim=1).value
            values = (
                sheet.range((row, body.column), (row, body.column + cols - 1)).options(ndim=1).value
            )
            return TableRow(table.name, {str(t): v for t, v in zip(titles, values, strict=False)})
    return None


def ensure_sheet(book: xw.Book, name: str) -> xw.Sheet:
    sheet = find_sheet(book, name)
    if sheet is None:
        sheet = book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])
    return sheet


# --- values --------------------------------------------------------------------------------


def excel_value(value: Any, kind: str) -> Any:
    """A plan value as a cell write through Excel's object model takes it."""
    if isinstance(value, str):
        return "'" + value  # stays text: never a formula, number or date
    return com_value(value)


def com_value(value: Any) -> Any:
    """A plan value as Excel's object model holds it, for cell writes and for what worksheet
    functions return: times become fractions of a day (COM has no time type), dates become
    midnight datetimes; everything else is unchanged."""
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _column_blocks(positions: Sequence[int]) -> list[tuple[int, int]]:
    """Runs of consecutive positions as (first, count)."""
    blocks: list[tuple[int, int]] = []
    for pos in positions:
        if blocks and blocks[-1][0] + blocks[-1][1] == pos:
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + 1)
        else:
            blocks.append((pos, 1))
    return blocks


def _empty_runs(values: Sequence[Any]) -> list[tuple[int, int]]:
    """Runs of None as (first index, count)."""
    return _column_blocks([i for i, v in enumerate(values) if v is None])


# --- writing a table -------------------------------------------------------------------------


def write_table(
    book: xw.Book,
    sheet_name: str,
    plan: TablePlan,
    *,
    anchor: str = "A1",
    status: StatusBar | None = None,
) -> LiveWrite:
    """Create the plan's table, or update it in place (same name, same position)."""
    status = status or StatusBar(book)
    table = find_table(book, plan.name)
    n_body = max(plan.n_rows, 1)
    if plan.n_rows >= 100:
        status.show(f"SheepCRM: writing {plan.n_rows:,} rows…")
    if table is None:
        sheet = ensure_sheet(book, sheet_name)
        top_left = sheet.range(anchor)
        titles = plan.titles
        positions = list(range(plan.n_cols))
        check_excel_limits(plan, top_left.row, top_left.column)
        _check_empty(sheet, top_left.resize(1 + n_body, plan.n_cols), None, plan.name)
        top_left.resize(1, plan.n_cols).value = [["'" + t for t in titles]]
        _write_body(top_left.offset(1, 0), plan, positions, n_body)
        table = sheet.tables.add(
            source=top_left.resize(1 + n_body, plan.n_cols),
            name=plan.name,
            table_style_name=plan.style,
        )
        warnings: list[str] = []
    else:
        sheet = table.parent
        top_left = table.range[0, 0]
        warnings = _update_table(table, plan, n_body)
    _apply_formats(table, plan, status, warnings)
    return LiveWrite(plan.name, sheet.name, table.range.address, plan.n_rows, warnings)


def _update_table(table: Any, plan: TablePlan, n_body: int) -> list[str]:
    sheet = table.parent
    old_range = table.range
    old_titles = [str(t) if t is not None else "" for t in _row_values(table.header_row_range)]
    old_rows = old_range.shape[0]
    body = table.data_body_range
    first_formulas = _row_formulas(body[0, :]) if body is not None else [None] * len(old_titles)
    formulas = {
        t: f
        for t, f in zip(old_titles, first_formulas, strict=False)
        if isinstance(f, str) and f.startswith("=")
    }
    layout = refresh_layout(old_titles, formulas, plan.titles)  # as the headless refresh does
    titles = list(layout.titles)
    top_left = old_range[0, 0]
    check_excel_limits(plan, top_left.row, top_left.column, len(titles))
    new_range = top_left.resize(1 + n_body, len(titles))
    _check_empty(sheet, new_range, old_range, plan.name)

    table.resize(new_range)
    if old_rows > 1 + n_body:  # shrinking: clear what the table gave up
        sheet.range(
            top_left.offset(1 + n_body, 0), top_left.offset(old_rows - 1, old_range.shape[1] - 1)
        ).clear()
    if old_range.shape[1] > len(titles):
        sheet.range(
            top_left.offset(0, len(titles)), top_left.offset(old_rows - 1, old_range.shape[1] - 1)
        ).clear()

    positions = [titles.index(t) for t in plan.titles]
    # Every title, the person's columns too: they move when the columns asked for change.
    table.header_row_range.value = [["'" + t for t in titles]]
    _write_body(top_left.offset(1, 0), plan, positions, n_body)
    for title in layout.calculated:
        column = table.data_body_range[:, layout.position(title)]
        column.formula = formulas[title]  # fill the calculated column down to the new last row
    for title in layout.cleared:
        table.data_body_range[:, layout.position(title)].clear_contents()
    return list(layout.warnings)


def _write_body(first_cell: Any, plan: TablePlan, positions: Sequence[int], n_body: int) -> None:
    """One bulk write per block of adjacent data columns, then real empty cells.
    ``positions[i]`` is where plan column ``i`` sits in the table."""
    kinds = [c.kind for c in plan.columns]
    # read once (a plan converts its frame on demand); xlwings needs the whole block anyway
    rows = list(plan.iter_rows()) or [tuple([None] * plan.n_cols)]
    by_position = {position: source for source, position in enumerate(positions)}
    for first, count in _column_blocks(sorted(positions)):
        sources = [by_position[p] for p in range(first, first + count)]
        data = [[excel_value(row[s], kinds[s]) for s in sources] for row in rows]
        first_cell.offset(0, first).resize(n_body, count).value = data
    _clear_missing(first_cell, plan, positions)


def _clear_missing(first_cell: Any, plan: TablePlan, positions: Sequence[int]) -> None:
    """Make missing values real empty cells. xlwings on Windows sends None as "" and Excel's
    handling of that is not something to rely on, so runs of missing values are cleared."""
    if not plan.n_rows:
        return
    sheet = first_cell.sheet
    areas: list[str] = []
    for source in range(plan.n_cols):
        values = plan.column(source)
        for start, count in _empty_runs(values):
            cells = first_cell.offset(start, positions[source]).resize(count, 1)
            areas.append(cells.get_address(False, False))
    _clear_areas(sheet, areas)


def _clear_areas(sheet: Any, areas: list[str]) -> None:
    batch: list[str] = []
    for area in areas:
        if batch and len(",".join([*batch, area])) > _ADDRESS_LIMIT:
            sheet.range(",".join(batch)).clear_contents()
            batch = []
        batch.append(area)
    if batch:
        sheet.range(",".join(batch)).clear_contents()


def _apply_formats(table: Any, plan: TablePlan, status: StatusBar, warnings: list[str]) -> None:
    titles = [str(t) for t in _row_values(table.header_row_range)]
    body = table.data_body_range
    if body is None:
        return
    for column in plan.columns:
        if column.title not in titles:
            continue
        cells = body[:, titles.index(column.title)]
        first = cells[0, 0].number_format
        target = first if keeps_user_format(first, column.kind) else column.number_format.code
        if cells.number_format != target:  # None when the column's cells differ
            cells.number_format = target
    links = [
        (offset, titles.index(column.title), value)
        for source, column in enumerate(plan.columns)
        if column.hyperlink and column.title in titles
        for offset, value in enumerate(plan.column(source))
        if is_link(value)
    ]
    # The budget is the table's: links elsewhere on the sheet are not counted here (xlwings
    # has no portable way to count them), which the README's limits table says.
    for offset, position, url in cap_links(links, MAX_HYPERLINKS, warnings):
        body[offset, position].add_hyperlink(url, url)
    table.range.columns.autofit()
    for index in range(len(titles)):
        column_range = table.range[:, index]
        if (column_range.column_width or 0) > MAX_AUTOFIT_WIDTH:
            column_range.column_width = MAX_AUTOFIT_WIDTH


def _check_empty(sheet: Any, new_range: Any, old_range: Any, name: str) -> None:
    """Refuse to grow over anything a person put beside or below the table."""
    values = new_range.options(ndim=2).value
    top, left = new_range.row, new_range.column
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            row_number, col_number = top + r, left + c
            if old_range is not None and _inside(old_range, row_number, col_number):
                continue
            cell = sheet.range(row_number, col_number).get_address(False, False)
            raise WorkbookError(
                f"Table '{name}' needs {new_range.get_address(False, False)} on sheet "
                f"'{sheet.name}', but {cell} holds data: move what is below or beside the "
                "table and refresh again."
            )


def _inside(rng: Any, row: int, col: int) -> bool:
    return rng.row <= row < rng.row + rng.shape[0] and rng.column <= col < rng.column + rng.shape[1]


def _row_values(rng: Any) -> list[Any]:
    values = rng.options(ndim=2).value
    return list(values[0]) if values else []


def _row_formulas(rng: Any) -> list[Any]:
    formulas = rng.formula
    if isinstance(formulas, (tuple, list)):
        first = formulas[0]
        return list(first) if isinstance(first, (tuple, list)) else list(formulas)
    return [formulas]


# --- stored queries and the marker --------------------------------------------------------------


def read_queries(book: xw.Book) -> list[StoredQuery]:
    table = find_table(book, QUERIES_TABLE)
    if table is None:
        return []
    header = _row_values(table.header_row_range)
    body = table.data_body_range
    rows = body.options(ndim=2).value if body is not None else []
    return parse_queries(header, rows)


def write_queries(
    book: xw.Book, queries: Sequence[StoredQuery], status: StatusBar | None = None
) -> LiveWrite:
    """Store the queries (the SheepCRM sheet and table are created when missing)."""
    anchor = "A1"
    if find_table(book, QUERIES_TABLE) is None:
        sheet = ensure_sheet(book, QUERIES_SHEET)
        sheet.range("A1").value = [["'" + line] for line in QUERIES_PREAMBLE]
        anchor = f"A{QUERIES_HEADER_ROW}"
    return write_table(book, QUERIES_SHEET, queries_plan(queries), anchor=anchor, status=status)


def set_refresh_on_open(book: xw.Book, on: bool) -> None:
    book.names.add(MARKER_NAME, "=TRUE" if on else "=FALSE")


def refresh_on_open(book: xw.Book) -> bool:
    for name in book.names:
        if name.name == MARKER_NAME:
            return str(name.refers_to).strip().upper() == "=TRUE"
    return False
