"""Write new workbooks headless: openpyxl's write-only mode for the package, rows streamed.

openpyxl's streaming (write-only) workbook builds everything around the data: sheets, column
widths, frozen header, the header row, the Excel table part, styles, defined names. The data rows
themselves are then streamed into each table sheet by ``sheet_xml`` (the renderer the in-place
refresher uses too), chunk by chunk, so memory stays flat however many rows there are. Measured
on the benchmark machine, openpyxl's own per-cell path was no faster than ``DataFrame.to_excel``;
rendering rows directly is several times faster (see ``benchmarks/bench_write.py``).
"""

from __future__ import annotations

import gc
import io
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from sheep_xl.frames.excel_text import escape_ooxml
from sheep_xl.tables.plan import (
    MAX_HYPERLINKS,
    TablePlan,
    cap_links,
    check_excel_limits,
    check_unique_names,
    header_row_below,
)
from sheep_xl.writers.ahead import rendered_ahead
from sheep_xl.writers.ooxml import (
    HYPERLINK_RUN,
    REL_HYPERLINK,
    WORKSHEET_ORDER,
    XlsxPackage,
    to_xml,
)
from sheep_xl.writers.sheet_xml import (
    ColumnRenderer,
    column_renderer,
    join_rows,
    plan_hyperlinks,
    put_text,
    render_plan_rows,
    xml_attributes,
)
from sheep_xl.writers.sync_points import Run, StreamItem, record_ext
from sheep_xl.writers.table_runs import links_run, rows_run
from sheep_xl.writers.xlsx_styles import StyleSheet

ROWS_PER_CHUNK = 2000

# Where the hyperlinks element goes in a streamed sheet: before the first element that comes
# after it in the worksheet's schema order (the one order both headless writers use).
_AFTER_HYPERLINKS = re.compile(
    rb"<("
    + b"|".join(n.encode() for n in WORKSHEET_ORDER[WORKSHEET_ORDER.index("hyperlinks") + 1 :])
    + rb")[\s/>]|</worksheet>"
)
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')


@dataclass
class SheetSpec:
    """One sheet of a new workbook holding one table (at A1, or below a few lines of text)."""

    title: str
    plan: TablePlan
    preamble: Sequence[str] = ()  # lines above the table (a title, a help text)

    @property
    def header_row(self) -> int:
        return header_row_below(self.preamble)

    @property
    def last_row(self) -> int:
        """Header plus rows; an empty result keeps one blank row, as Excel's tables always do."""
        return self.header_row + max(self.plan.n_rows, 1)

    @property
    def ref(self) -> str:
        last_col = get_column_letter(max(self.plan.n_cols, 1))
        return f"A{self.header_row}:{last_col}{self.last_row}"


def excel_table(name: str, titles: Sequence[str], ref: str, style: str) -> Table:
    """An openpyxl table with its columns named (write-only mode cannot read them) and filters."""
    table = Table(displayName=name, name=name, ref=ref)
    # A literal ``_xHHHH_`` is escaped as in the header cell, so the two still match in Excel.
    table.tableColumns = [TableColumn(id=i, name=escape_ooxml(t)) for i, t in enumerate(titles, 1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(
        name=style,
        showRowStripes=True,
        showColumnStripes=False,
        showFirstColumn=False,
        showLastColumn=False,
    )
    return table


# Printing. The paper is whatever the printer's locale uses (A4 or Letter), so a layout must suit
# the narrower of the two in landscape: Letter, 11 in wide, less Excel's "Narrow" side margins.
LANDSCAPE_WIDTH_INCHES = 11.0  # Letter; A4 landscape is 11.69 in
NARROW_MARGINS = {"left": 0.25, "right": 0.25, "top": 0.75, "bottom": 0.75, "header": 0.3}
PRINTABLE_INCHES = LANDSCAPE_WIDTH_INCHES - NARROW_MARGINS["left"] - NARROW_MARGINS["right"]
# 11 pt Calibri at 70% is 7.7 pt, about the smallest text people read comfortably on paper.
MIN_PRINT_SCALE = 70


def column_inches(width: float) -> float:
    """The printed width at 100% of a column ``width`` characters wide (Calibri 11: 7 pixels
    per character plus 5 of padding, at 96 pixels per inch)."""
    return (7 * width + 5) / 96


@dataclass(frozen=True)
class PrintLayout:
    fit_to_width: bool  # one page wide (the scale is then Excel's choice, >= MIN_PRINT_SCALE)
    scale: int  # percent, when not fitting
    repeat_first_column: bool


def print_layout(widths: Sequence[float]) -> PrintLayout:
    """One page wide when the columns fit at ``MIN_PRINT_SCALE`` or more; otherwise the largest
    scale (at least the minimum) that needs no more pages across than the minimum does, with
    the first column (the title) repeated on every page across when it is not too wide."""
    inches = [column_inches(w) for w in widths] or [0.0]
    total = sum(inches)
    if total * MIN_PRINT_SCALE / 100 <= PRINTABLE_INCHES:
        return PrintLayout(True, 100, False)
    first = inches[0]
    repeat = first * MIN_PRINT_SCALE / 100 <= PRINTABLE_INCHES / 3

    def pages(scale: int) -> int:
        room = PRINTABLE_INCHES * 100 / scale * 0.95  # pages break between columns: slack
        later = room - (first if repeat else 0.0)
        return 1 + math.ceil(max(total - room, 0.0) / later)

    fewest = pages(MIN_PRINT_SCALE)
    scale = max(s for s in range(MIN_PRINT_SCALE, 101) if pages(s) == fewest)
    return PrintLayout(False, scale, repeat)


def print_setup(ws: Any, header_row: int | None, widths: Sequence[float] | None = None) -> None:
    """Printed landscape with narrow margins, the table's header row repeated on every page.

    Without ``widths`` (sheets of a few columns) the sheet is fitted one page wide. With the
    table's column widths it is fitted only when that keeps the text at ``MIN_PRINT_SCALE``% or
    more; a wider table prints at a fixed readable scale over several pages across, each
    repeating the first column (see `print_layout`)."""
    ws.page_setup.orientation = "landscape"
    for side, inches in NARROW_MARGINS.items():
        setattr(ws.page_margins, side, inches)
    ws.page_margins.footer = NARROW_MARGINS["header"]
    layout = print_layout(widths) if widths is not None else PrintLayout(True, 100, False)
    if layout.fit_to_width:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = layout.scale
        ws.page_setup.pageOrder = "overThenDown"  # all of a row band, then the next rows
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
    if layout.repeat_first_column:
        ws.print_title_cols = "A:A"


def _skeleton_sheet(wb: Workbook, spec: SheetSpec) -> None:
    """Everything of a table sheet but its data rows."""
    plan = spec.plan
    ws = wb.create_sheet(spec.title)
    for index, column in enumerate(plan.columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = f"A{spec.header_row + 1}"
    print_setup(ws, spec.header_row, [c.width for c in plan.columns])
    for number, line in enumerate(spec.preamble):
        cell = put_text(WriteOnlyCell(ws), line)
        cell.font = Font(bold=True, size=14) if number == 0 else Font(italic=True)
        ws.append([cell])
    if spec.preamble:
        ws.append([])
    header = []
    for title in plan.titles:
        cell = put_text(WriteOnlyCell(ws), title)  # a header like "=x" stays text
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    if plan.n_cols:
        with warnings.catch_warnings():
            # openpyxl warns that write-only tables need their columns set by hand: they are.
            warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
            ws.add_table(excel_table(plan.name, plan.titles, spec.ref, plan.style))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused (unless it already was): writing makes no reference
    cycles (everything it makes is freed as it goes), but the collector would still walk
    every object the process holds, a frame's per-column ones among them, again and again,
    so a table of 4,000 columns took 4.2 times as long as one of 1,000 (3.8 times paused)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def write_workbook(
    path: Path, sheets: Sequence[SheetSpec], defined_names: Mapping[str, str] | None = None
) -> None:
    """A new workbook with one formatted table per sheet spec, and workbook-level names.

    Excel's limits are checked before anything is written (a table past the last row or column,
    names used twice); links past a sheet's hyperlink limit stay text, in the plan's warnings."""
    with collector_paused():
        _write_workbook(path, sheets, defined_names)


def _write_workbook(
    path: Path, sheets: Sequence[SheetSpec], defined_names: Mapping[str, str] | None
) -> None:
    check_unique_names([spec.plan.name for spec in sheets] + list(defined_names or {}))
    for spec in sheets:
        check_excel_limits(spec.plan, spec.header_row, 1)
    wb = Workbook(write_only=True)
    for spec in sheets:
        _skeleton_sheet(wb, spec)
    for name, value in (defined_names or {}).items():
        wb.defined_names[name] = DefinedName(name, attr_text=value)
    skeleton = io.BytesIO()
    wb.save(skeleton)

    package = XlsxPackage(skeleton)
    styles = StyleSheet(package)
    parts = dict(package.sheets())
    streams: dict[str, Iterator[StreamItem]] = {}
    sheet_streams: dict[str, Iterator[StreamItem]] = {}
    threads: list[Iterator[StreamItem]] = []  # closed whatever happens: no thread outlives the save
    try:
        for spec in sheets:
            part = parts[spec.title]
            renderers = [
                column_renderer(
                    c.kind, styles.xf_for(c.number_format, c.hyperlink), package.date1904, utf8=True
                )
                for c in spec.plan.columns
            ]
            # the next refresh may skip the body rows unread (`table_runs.rows_run`)
            run = rows_run(spec.header_row + 1, spec.last_row, spec.ref)
            # the rows render on a second thread from now on, while the rest is made and saved
            rows = rendered_ahead(_row_chunks(spec, renderers, run), start=True)
            threads.append(rows)
            links, total = plan_hyperlinks(
                spec.plan,
                [(i, i + 1) for i, c in enumerate(spec.plan.columns) if c.hyperlink],
                spec.header_row + 1,
                MAX_HYPERLINKS,  # one table a sheet: its links are the sheet's
            )
            links = cap_links(links, MAX_HYPERLINKS, spec.plan.warnings, total)
            link_ids, rels_stream, rels_run = _add_link_relationships(package, part, links)
            if rels_stream is not None:
                streams[package.rels_part(part)] = rendered_ahead(rels_stream)
                threads.append(streams[package.rels_part(part)])
            runs = [r for r in (run, rels_run) if r is not None]
            sheet_streams[part] = _sheet_stream(
                package.read(part), spec, rows, links, link_ids, runs
            )
        package.save(path, streams={**streams, **sheet_streams})  # at ooxml's `DEFLATE_LEVEL`
    finally:
        for thread in threads:
            close = getattr(thread, "close", None)
            if close is not None:
                close()


_LINKS_MARKER = "sheep-xl-links"  # where the streamed relationships go in the serialised part
_RELS_PER_CHUNK = 2000


def _add_link_relationships(
    package: XlsxPackage, part: str, links: list[tuple[str, str]]
) -> tuple[list[str], Iterator[StreamItem] | None, Run | None]:
    """Relationship ids for ``links`` and the sheet's relationships part streamed with them.

    The part is written as text, the bytes lxml would serialise for one element per link: an
    lxml element costs about 1.3 KB, 85 MB for a sheet's 65,530 links (measured at 200k
    rows, ``benchmarks/bench_perf_goals.py``). Only the part's own few relationships are
    parsed; a marker element shows where the links go, so its head and tail are lxml's."""
    if not links:
        return [], None, None
    rels = package.rels_root(part)
    marker = rels.makeelement(f"{{{rels.nsmap.get(None)}}}Relationship", Id=_LINKS_MARKER)
    rels.append(marker)
    head, found, tail = to_xml(rels).partition(f'<Relationship Id="{_LINKS_MARKER}"/>'.encode())
    rels.remove(marker)
    assert found, "the marker relationship is serialised as written"
    ids = [f"rIdL{number}" for number in range(1, len(links) + 1)]
    run = links_run(HYPERLINK_RUN, ids)  # the next refresh may drop them unread

    def stream() -> Iterator[StreamItem]:
        yield head
        if run is not None:
            yield run.start
        for first in range(0, len(links), _RELS_PER_CHUNK):
            targets = xml_attributes([url for _, url in links[first : first + _RELS_PER_CHUNK]])
            yield "".join(
                [
                    f'<Relationship Id="{rel_id}" Type="{REL_HYPERLINK}" '
                    f'Target="{target}" TargetMode="External"/>'
                    for target, rel_id in zip(
                        targets, ids[first : first + _RELS_PER_CHUNK], strict=True
                    )
                ]
            ).encode()
        if run is not None:
            yield run.end
        yield tail

    return ids, stream(), run


def _row_chunks(
    spec: SheetSpec, renderers: list[ColumnRenderer], run: Run | None = None
) -> Iterator[StreamItem]:
    """The sheet's data rows as UTF-8, `ROWS_PER_CHUNK` rows a chunk; with ``run``, its sync
    points around the rows after the first (`table_runs.rows_run`)."""
    plan = spec.plan
    if plan.n_rows:
        # a column at a time from the frame's columns, a chunk of rows at a time
        opened = False
        for rows in render_plan_rows(plan, renderers, spec.header_row + 1):
            start = 0
            if run is not None and not opened:
                yield rows[0].encode("latin-1")  # the first body row stays: its styles are read
                yield run.start
                opened, start = True, 1
            for first in range(start, len(rows), ROWS_PER_CHUNK):
                # the renderers' text is its UTF-8 bytes, a character each (`column_renderer`)
                yield "".join(rows[first : first + ROWS_PER_CHUNK]).encode("latin-1")
        if run is not None:
            yield run.end
    else:  # an empty table keeps one blank row, its cells styled as the columns
        rows = [str(spec.header_row + 1)]
        letters = [get_column_letter(i) for i in range(1, len(renderers) + 1)]
        columns = [render([None], r, rows) for r, render in zip(letters, renderers, strict=True)]
        yield "".join(join_rows(columns, letters, rows)).encode("latin-1")


def _sheet_stream(
    skeleton: bytes,
    spec: SheetSpec,
    rows: Iterator[StreamItem],
    links: list[tuple[str, str]],
    link_ids: list[str],
    runs: Sequence[Run] = (),
) -> Iterator[StreamItem]:
    """The skeleton sheet with the data rows (and hyperlinks) streamed in; the runs the next
    refresh may skip (``runs``: the rows', the relationships', and the hyperlinks') recorded
    in its ``extLst`` (`sync_points.record_ext`)."""
    end = skeleton.index(b"</sheetData>")
    head, tail = skeleton[:end], skeleton[end:]
    dimension = f'<dimension ref="{spec.ref if spec.plan.n_cols else "A1"}"/>'.encode()
    head = _DIMENSION.sub(dimension, head, count=1)
    yield head
    yield from rows
    runs = list(runs)
    if links:
        r_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        items = "".join(
            f'<hyperlink ref="{ref}" r:id="{rel_id}"/>'
            for (ref, _), rel_id in zip(links, link_ids, strict=True)
        ).encode()
        match = _AFTER_HYPERLINKS.search(tail)
        position = match.start() if match else len(tail)
        yield tail[:position] + f'<hyperlinks xmlns:r="{r_ns}">'.encode()
        links_in_table = links_run("hyperlinks", link_ids, spec.ref)
        if links_in_table is not None:
            runs.append(links_in_table)
            yield links_in_table.start
        yield items
        if links_in_table is not None:
            yield links_in_table.end
        tail = b"</hyperlinks>" + tail[position:]
    if runs:  # the record is the last extension of the sheet's extLst, its last element
        if b"</extLst>" in tail:
            end = tail.rindex(b"</extLst>")
            yield tail[:end]
        else:
            end = tail.rindex(b"</worksheet>")
            yield tail[:end] + b"<extLst>"
            tail = tail[:end] + b"</extLst>" + tail[end:]
        yield from record_ext(runs)
        tail = tail[end:]
    yield tail
