"""Refresh a table's rows by splicing them into the sheet's XML, never parsing the old rows.

A refreshed table's old rows are replaced whole, so the refresh needs only what is around them.
`split_sheet` reads the sheet part a chunk at a time and keeps its XML *without* the rows it can
drop unread: rows of the old table whose cells all lie in the table's columns, with none of the
row attributes a refresh keeps (``customHeight``, ``customFormat``, ``hidden``,
``outlineLevel``). Everything else is kept: the XML before and after the rows, rows above and
below the table, the header, first body and totals rows (their styles and totals are read), and
any row of the table that holds something else (a person's cell beside the table, a hidden row).
That small remainder is parsed with lxml (`split_sheet` checks the parsed rows are the rows it
scanned, else the caller takes the tree path) and edited exactly as the tree path edits the
whole sheet.

Where the new rows go is marked in the remainder (`place_body`): a marker row stands for a run
of rendered rows, a marker cell for the rendered cells of a row that keeps cells of its own.
When the package is saved, `SplicedSheet` serialises the remainder and streams the rendered
rows (and hyperlinks) in at the markers, so neither the old nor the new rows are ever held
whole. Old hyperlinks and their relationships are dropped from the bytes (`drop_links`,
`prune_relationships`), the new ones streamed (`StreamedRelationships`).

Each row costs a few byte searches (`_Scan`): its tag (its number, its attributes) and its first
and last cell. That relies on what Excel requires of every sheet: cells come in column order
within a row, so the cells between lie between those two; rows are checked to come in order.
A row, cell or namespace written otherwise than Excel writes them only makes a row kept, or,
for the sheet as a whole (a row without ``r``, a comment among the rows, a prefixed
SpreadsheetML namespace), the tree path taken. The XML of dropped rows is not checked, as they
are replaced (the preflight checks the whole part). Comments inside dropped rows go with them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, pairwise
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from sheep_xl.tables.plan import CHUNK_ROWS, TablePlan
from sheep_xl.writers.ooxml import (
    HYPERLINK_RUN,
    NS_MAIN,
    NS_R,
    REL_HYPERLINK,
    WORKSHEET_ORDER,
    Box,
    M,
    StreamedPart,
    column_letter,
    insert_in_order,
    parse_xml,
    to_xml,
)
from sheep_xl.writers.sheet_xml import (
    ColumnChunk,
    ColumnRenderer,
    as_utf8,
    column_renderer,
    join_rows,
    text_cell,
    xml_attribute,
)
from sheep_xl.writers.sync_points import (
    Run,
    StreamItem,
    plain_chunks,
    record_ext,
)
from sheep_xl.writers.table_runs import links_run, rows_run

ROWS_PER_CHUNK = 2000  # rendered rows joined into one chunk of the streamed part

# --- which columns: a regular expression for the letters of columns left..right -------------


def _between(low: str, high: str, first: str, last: str) -> str:
    """A pattern for the strings from ``low`` to ``high`` (of the same length) over the
    characters ``first`` to ``last`` (letters A-Z, or digits 0-9)."""
    if len(low) == 1:
        return f"[{low}-{high}]" if low != high else low
    if low[0] == high[0]:
        return low[0] + _between(low[1:], high[1:], first, last)
    width = len(low) - 1
    parts = [low[0] + _between(low[1:], last * width, first, last)]
    if ord(high[0]) - ord(low[0]) > 1:
        middle = f"[{chr(ord(low[0]) + 1)}-{chr(ord(high[0]) - 1)}]"
        parts.append(middle + f"[{first}-{last}]" * width)
    parts.append(high[0] + _between(first * width, high[1:], first, last))
    return "(?:" + "|".join(parts) + ")"


def columns_pattern(left: int, right: int) -> str:
    """A regular expression matching exactly the letters of columns ``left`` to ``right``."""
    low, high = column_letter(left), column_letter(right)
    parts = []
    for width in range(len(low), len(high) + 1):
        first = low if width == len(low) else "A" * width
        last = high if width == len(high) else "Z" * width
        parts.append(_between(first, last, "A", "Z"))
    return "(?:" + "|".join(parts) + ")"


def numbers_pattern(low: int, high: int) -> str:
    """A regular expression matching exactly the numbers ``low`` to ``high`` (1 or more, as
    row numbers are written: no leading zero)."""
    parts = []
    for width in range(len(str(low)), len(str(high)) + 1):
        first = str(low) if width == len(str(low)) else "1" + "0" * (width - 1)
        last = str(high) if width == len(str(high)) else "9" * width
        parts.append(_between(first, last, "0", "9"))
    return "(?:" + "|".join(parts) + ")"


# --- reading the old sheet --------------------------------------------------------------------

_SHEET_DATA = re.compile(rb"<sheetData(?:\s[^>]*?)?(/?)>")
_SHEET_DATA_END = b"</sheetData>"
_ROW_START = re.compile(rb"<row[\s/>]")
_ROW_NUMBER = re.compile(rb'<row\s(?:[^>]*?\s)?r="(\d+)"')
# A row attribute that keeps a row the refresh empties (`xlsx_refresh._clear_area`), or a
# namespace declared on a row: such a row is kept (and parsed).
_KEEPS_ROW = (b"customHeight", b"customFormat", b"outlineLevel", b"hidden", b"xmlns")


@dataclass(frozen=True)
class Region:
    """The rows a refresh rewrites: ``top`` (the header) to ``bottom``. Rows ``top`` to
    ``droppable`` whose cells all lie in columns ``left`` to ``right`` may be dropped unread,
    unless in ``keep``."""

    top: int
    droppable: int
    bottom: int
    left: int
    right: int
    keep: frozenset[int]


@dataclass
class SheetSplit:
    """A sheet's XML without the rows dropped unread: ``head`` (up to and with
    ``<sheetData>``, then the rows kept) and ``tail`` (from ``</sheetData>``), with what the scan
    saw, for `SheetSplit.parse` to check against the parsed rows."""

    head: bytes
    tail: bytes
    rows: list[int]  # numbers of the rows kept, as scanned, up to the first row after ``bottom``
    later_rows: int  # rows kept after that one (counted, not scanned)
    dropped_rows: int = 0

    def parse(self, tail: bytes | None = None) -> etree._Element | None:
        """The kept XML as a tree (``tail`` in place of the scanned one), or None when it is
        not the sheet the scan saw (the rows in the tree are not the rows scanned, a row
        without ``r``, a namespace the scan cannot see) or not XML: the caller then edits the
        whole sheet (and reports it if it is damaged)."""
        try:
            root = parse_xml(self.head + (self.tail if tail is None else tail))
        except (etree.XMLSyntaxError, ValueError):
            return None
        if root.tag != f"{M}worksheet" or root.nsmap.get(None) != NS_MAIN:
            return None
        if any(uri == NS_MAIN for prefix, uri in root.nsmap.items() if prefix is not None):
            return None
        sheet_data = root.find(f"{M}sheetData")
        if sheet_data is None or sheet_data.prefix is not None:
            return None
        numbers = []
        for row in sheet_data.iterchildren(f"{M}row"):
            number = row.get("r")
            if number is None or not number.isdigit():
                return None
            numbers.append(int(number))
        scanned = len(self.rows)
        if numbers[:scanned] != self.rows or len(numbers) != scanned + self.later_rows:
            return None
        if any(a >= b for a, b in pairwise(numbers)):
            return None
        return root


class _Unsure(Exception):
    """The sheet is not in the shape the scan needs: the caller edits the whole sheet."""


def split_sheet(chunks: Iterable[bytes], region: Region) -> SheetSplit | None:
    """The sheet's XML without the rows of ``region`` that can be dropped unread (see the
    module's docstring), read from ``chunks``; None when the sheet has no plain ``sheetData``
    or its rows are not as Excel writes them (the caller edits the whole sheet instead)."""
    try:
        return _Scan(region).run(iter(chunks))
    except _Unsure:
        return None


_ROW_TAG = b'<row r="'
_DIGITS = b"0123456789"
_NOT_ROWS = (b"<!", b"-->", b"]]>", b"<?")  # a comment or CDATA: the rows are not as scanned


class _Scan:
    """Reads the rows a chunk at a time, each at the cost of a few byte searches: its tag (its
    number, its attributes) and its first and last cell (cells come in column order, as Excel
    requires, so the cells between lie between them)."""

    def __init__(self, region: Region) -> None:
        self.region = region
        self.letters = {column_letter(c).encode() for c in range(region.left, region.right + 1)}
        self.kept: list[bytes] = []  # the head and the rows kept, up to ``bottom``
        self.later: list[bytes] | None = None  # from the first row after ``bottom``, as it is
        self.rows: list[int] = []
        self.previous = 0
        self.dropped = 0

    def run(self, chunks: Iterator[bytes]) -> SheetSplit:
        buffer = b""
        match = None
        for chunk in chunks:
            buffer += chunk
            match = _SHEET_DATA.search(buffer)
            if match:
                break
        if match is None:
            raise _Unsure("no sheetData")
        head = buffer[: match.end()]
        if match.group(1):  # <sheetData/>: no rows at all
            return SheetSplit(head, buffer[match.end() :] + b"".join(chunks), [], 0)
        self.kept.append(head)
        buffer = buffer[match.end() :]
        while True:
            if self.later is None:
                buffer = self.rows_of(buffer)
            end = buffer.find(_SHEET_DATA_END)
            if end >= 0:
                return self.finish(buffer[:end], buffer[end:] + b"".join(chunks))
            more = next(chunks, None)
            if more is None:
                raise _Unsure("the rows do not end")
            if self.later is not None:  # kept as it is; the end tag may straddle two chunks
                self.later.append(buffer[: -len(_SHEET_DATA_END)])
                buffer = buffer[-len(_SHEET_DATA_END) :]
            buffer += more

    def rows_of(self, data: bytes) -> bytes:
        """Keep or drop every row of ``data`` ended by ``</row>``; returns what follows the
        last of them. A plain row of the table (the bulk of a sheet) costs a few byte searches
        here, without a copy; anything else goes the careful way (`row`)."""
        region = self.region
        top, droppable, keep, letters = region.top, region.droppable, region.keep, self.letters
        check_first = region.left > 1
        previous, dropped = self.previous, 0
        find, rfind, startswith = data.find, data.rfind, data.startswith
        start = 0
        while (end := find(b"</row>", start)) >= 0:
            if startswith(_ROW_TAG, start):
                tag_end = find(b">", start, end)
                quote = find(b'"', start + 8, tag_end)
                digits = data[start + 8 : quote]
                if quote > 0 and data[tag_end - 1] != 47 and digits.isdigit():
                    number = int(digits)
                    plain = (
                        previous < number
                        and top <= number <= droppable
                        and number not in keep
                        and (
                            tag_end == quote + 1
                            or not any(find(a, start, tag_end) >= 0 for a in _KEEPS_ROW)
                        )
                    )
                    if plain:
                        last = rfind(b"<c", tag_end, end)
                        if last >= 0:
                            ref = last + 6
                            plain = startswith(b' r="', last + 2) and (
                                data[ref : find(b'"', ref, end)].rstrip(_DIGITS) in letters
                            )
                        if plain and check_first:
                            first = find(b"<c", tag_end, end)
                            if first >= 0:
                                ref = first + 6
                                plain = startswith(b' r="', first + 2) and (
                                    data[ref : find(b'"', ref, end)].rstrip(_DIGITS) in letters
                                )
                    if plain:
                        previous = number
                        dropped += 1
                        start = end + 6
                        continue
            self.previous, self.dropped = previous, self.dropped + dropped
            dropped = 0
            later = self.row(data[start:end])
            previous = self.previous
            if later is not None:  # from here on every row is kept as it is
                self.later = [data[start + later : end + 6]]
                return data[end + 6 :]
            start = end + 6
        self.previous, self.dropped = previous, self.dropped + dropped
        return data[start:]

    def finish(self, last: bytes, tail: bytes) -> SheetSplit:
        """``last``: what is between the last ``</row>`` and ``</sheetData>``."""
        if self.later is None:
            if last.strip():  # rows written ``<row .../>``, not ended by ``</row>``
                later = self.row(last, ended=False)
                if later is not None:
                    self.later = [last[later:]]
        elif last:
            self.later.append(last)
        count = 0
        if self.later:
            if any(mark in piece for piece in self.later for mark in _NOT_ROWS):
                raise _Unsure("a comment or CDATA among the rows")
            count = sum(piece.count(b"<row") for piece in self.later) - 1
        head = b"".join(self.kept + (self.later or []))
        return SheetSplit(head, tail, self.rows, count, self.dropped)

    def row(self, piece: bytes, ended: bool = True) -> int | None:
        """Keep or drop one row (``piece``, up to its ``</row>`` when ``ended``); where the
        rows after ``bottom`` begin in it, if they do."""
        start = 0
        if not piece.startswith(_ROW_TAG):
            start = len(piece) - len(piece.lstrip())  # whitespace between rows is not kept
            if not piece.startswith(_ROW_TAG, start):
                raise _Unsure("content between rows")
        tag_end = piece.find(b">", start)
        if tag_end < 0:
            raise _Unsure("a row tag without an end")
        if piece[tag_end - 1] == 47 or not ended:  # "/": <row .../>, perhaps more rows after
            return self.rows_in(piece, start, ended)
        quote = piece.find(b'"', start + 8)
        number = _number(piece[start + 8 : quote])
        if not self.keep(number, piece, start, tag_end, quote):
            return None
        if number > self.region.bottom:
            return start
        self.kept.append(piece[start:] + b"</row>")
        return None

    def keep(self, number: int, piece: bytes, start: int, tag_end: int, quote: int) -> bool:
        """Whether row ``number`` (``piece[start:]``, its tag ending at ``tag_end``) is kept:
        every row outside the droppable rows, and any of them holding what a refresh keeps."""
        if number <= self.previous:
            raise _Unsure("rows out of order")
        self.previous = number
        region = self.region
        if number > region.bottom:
            self.rows.append(number)
            return True
        droppable = region.top <= number <= region.droppable and number not in region.keep
        if droppable and self.plain(piece, start, tag_end, quote):
            self.dropped += 1
            return False
        if any(mark in piece for mark in _NOT_ROWS):
            raise _Unsure("a comment or CDATA among the rows")
        self.rows.append(number)
        return True

    def plain(self, piece: bytes, start: int, tag_end: int, quote: int) -> bool:
        """Whether a row holds nothing a refresh keeps: no attribute that keeps an empty row,
        no cell outside the columns."""
        if tag_end > quote + 1:  # more attributes than r
            tag = piece[start:tag_end]
            if any(attribute in tag for attribute in _KEEPS_ROW):
                return False
        last = piece.rfind(b"<c")
        if last > tag_end and not self.inside(piece, last):
            return False
        if self.region.left > 1:
            first = piece.find(b"<c", tag_end)
            if first >= 0 and not self.inside(piece, first):
                return False
        return True

    def inside(self, piece: bytes, cell: int) -> bool:
        """Whether the cell at ``cell`` is ``<c r="..."`` in one of the columns."""
        if not piece.startswith(b' r="', cell + 2):
            return False
        letters = piece[cell + 6 : piece.find(b'"', cell + 6)].rstrip(b"0123456789")
        return letters in self.letters

    def rows_in(self, piece: bytes, start: int, ended: bool) -> int | None:
        """`row` for a piece that may hold several rows (``<row r="5"/>`` has no end tag)."""
        starts = [m.start() for m in _ROW_START.finditer(piece, start)]
        if not starts or starts[0] != start:
            raise _Unsure("content between rows")
        for index, row_start in enumerate(starts):
            row_stop = starts[index + 1] if index + 1 < len(starts) else len(piece)
            row = piece[row_start:row_stop].rstrip()
            if index + 1 == len(starts) and ended:
                row += b"</row>"
            tag_end = row.find(b">")
            match = _ROW_NUMBER.match(row)
            if tag_end < 0 or match is None or not row.startswith(_ROW_TAG):
                raise _Unsure("a row without a number")
            number = int(match.group(1))
            if not self.keep(number, row, 0, tag_end, row.find(b'"', 8)):
                continue
            if number > self.region.bottom:
                return row_start
            self.kept.append(row)
        return None


def _number(text: bytes) -> int:
    if not text.isdigit():
        raise _Unsure("a row without a number")
    return int(text)


# --- hyperlinks and relationships, dropped from the bytes -------------------------------------

_LINK = re.compile(
    rb'(<hyperlink ref="([A-Z]{1,3})(\d+)(?::[A-Z]{1,3}\d+)?"(?: r:id="([^"]*)")?[^>]*/>)'
)
_R_DECLARED = b'xmlns:r="' + NS_R.encode() + b'"'


@dataclass
class DroppedLinks:
    removed: set[str] = field(default_factory=set)  # relationship ids of the links dropped
    kept: set[str] = field(default_factory=set)  # relationship ids of links kept


def drop_links(head: bytes, tail: bytes, area: Box) -> tuple[bytes, DroppedLinks] | None:
    """``tail`` without the ``<hyperlink>`` elements whose top-left cell is in ``area`` (as
    ``_replace_hyperlinks`` removes them), read from the bytes; None when they are not written
    as this reads them (the caller then removes them from the tree)."""
    start = tail.find(b"<hyperlinks")
    if start < 0:
        return tail, DroppedLinks()
    end = tail.find(b"</hyperlinks>", start)
    opened = tail.find(b">", start) + 1
    if end < 0 or opened <= 0 or opened > end:
        return None
    root_tag = head[: head.find(b">", head.find(b"<worksheet")) + 1]
    if _R_DECLARED not in root_tag and _R_DECLARED not in tail[start:opened]:
        return None  # ``r`` is not (only) the relationships prefix here: read them as a tree
    block = tail[opened:end]
    links = block.count(b"<hyperlink")
    if b"xmlns" in block or links != block.count(b'<hyperlink ref="'):
        return None
    with_ids = block.count(b" r:id=")
    if block.count(b"id=") != with_ids:
        return None
    columns = columns_pattern(area.left, area.right)
    rows = numbers_pattern(area.top, area.bottom)
    outside = re.compile(f'<hyperlink ref="(?!{columns}{rows}[":])'.encode())
    if outside.search(block) is None:  # every link is in the area (the table's own, usually)
        ids = _LINK_ID.findall(block)
        if len(ids) != with_ids:
            return None
        return tail[:opened] + tail[end:], DroppedLinks({i.decode() for i in ids}, set())
    found = _LINK.findall(block)
    if len(found) != links or sum(1 for *_, rel_id in found if rel_id) != with_ids:
        return None
    letters = {column_letter(c).encode() for c in range(area.left, area.right + 1)}
    dropped = DroppedLinks()
    kept = []
    for whole, letter, row, rel_id in found:
        if letter in letters and area.top <= int(row) <= area.bottom:
            if rel_id:
                dropped.removed.add(rel_id.decode())
        else:
            kept.append(whole)
            if rel_id:
                dropped.kept.add(rel_id.decode())
    return tail[:opened] + b"".join(kept) + tail[end:], dropped


_LINK_ID = re.compile(rb' r:id="([^"]*)"')


def prune_relationships(chunks: Iterable[bytes], ids: set[str]) -> bytes | None:
    """A relationships part, read from ``chunks``, without the relationships ``ids``, from
    its bytes (a sheet's 65,530 links are neither parsed nor held whole to drop them); None
    when it holds anything else than empty ``<Relationship Id=...>`` elements in its root
    (a comment, say: the caller then edits its tree)."""
    kept: list[bytes] = []
    carry = b""
    for chunk in chain(chunks, [b""]):  # the empty chunk ends it
        data = carry + chunk
        cut = data.rfind(b"<") if chunk else len(data)
        done, carry = data[:cut], data[cut:]
        pieces = done.split(b"<")
        kept.append(pieces[0])  # before the first "<": the start of the part, or nothing
        for piece in pieces[1:]:
            if piece.startswith(b"Relationship "):
                at = piece.find(b' Id="') + 5
                if at < 5 or piece.count(b' Id="') != 1 or not piece.rstrip().endswith(b"/>"):
                    return None
                if piece[at : piece.find(b'"', at)].decode() in ids:
                    continue
            elif not piece.startswith((b"?xml", b"Relationships", b"/Relationships>")):
                return None
            kept.append(b"<" + piece)
    return b"".join(kept)


# --- the new rows -----------------------------------------------------------------------------


@dataclass
class Body:
    """What a table's new header and body rows are rendered from (the same cells as the tree
    path renders, `WorkbookEditor._render_rows`, rendered as a new workbook's rows are):
    ``sources[i]`` is the plan column of final column ``i``, a calculated column's formula, or
    None (an emptied column). Text is in the renderers' form, each character one byte of its
    UTF-8 (``sheet_xml.column_renderer``'s ``utf8``): ``encode("latin-1")`` gives the XML."""

    plan: TablePlan
    sources: Sequence[int | str | None]
    styles: Sequence[int]
    header: str  # the header row's cells
    top: int  # the header's row; the body follows it
    left: int
    date1904: bool

    @property
    def has_formulas(self) -> bool:
        return any(isinstance(source, str) for source in self.sources)

    @property
    def bottom(self) -> int:
        """The last body row (an empty result keeps one blank row)."""
        return self.top + max(self.plan.n_rows, 1)

    def rows(self) -> Iterator[list[str]]:
        """The header row, then the body rows a chunk at a time, as ``<row>`` elements."""
        yield [f'<row r="{self.top}">{as_utf8(self.header)}</row>']
        plan = self.plan
        count = max(plan.n_rows, 1)  # an empty result keeps one blank row
        letters = [column_letter(self.left + i) for i in range(len(self.sources))]
        renderers: list[ColumnRenderer | None] = []
        for source, style in zip(self.sources, self.styles, strict=True):
            if isinstance(source, str):
                renderers.append(None)
            else:
                kind = "text" if source is None else plan.columns[source].kind
                renderers.append(column_renderer(kind, style, self.date1904, utf8=True))
        formulas = [  # (text between the cell's reference and its formula, the formula)
            (f'" s="{style}"><f>' if style else '"><f>', as_utf8(escape(source)))
            if isinstance(source, str)
            else None
            for source, style in zip(self.sources, self.styles, strict=True)
        ]
        first_row = self.top + 1
        for first in range(0, count, CHUNK_ROWS):
            last = min(first + CHUNK_ROWS, count)
            numbers = [str(n) for n in range(first_row + first, first_row + last)]
            columns = []
            for source, letter, render, formula in zip(
                self.sources, letters, renderers, formulas, strict=True
            ):
                if formula is not None:  # a calculated column: its formula on every row
                    mid, text = formula
                    columns.append(ColumnChunk(mid, "</f></c>", None, [text] * len(numbers), True))
                    continue
                assert render is not None
                if isinstance(source, int) and plan.n_rows:
                    columns.append(render(plan.cells(source, first, last), letter, numbers))
                else:
                    columns.append(render([None] * len(numbers), letter, numbers))
            yield join_rows(columns, letters, numbers)


class _Cursor:
    """The rendered rows, taken in order: whole rows for a run, cells for a kept row."""

    def __init__(self, rows: Iterator[list[str]], first: int) -> None:
        self._chunks = rows
        self._chunk: list[str] = []
        self._index = 0
        self.next = first  # the number of the next row

    def _row(self, number: int) -> str:
        assert number == self.next, "the rendered rows follow the sheet's order"
        if self._index >= len(self._chunk):
            self._chunk, self._index = next(self._chunks), 0
        row = self._chunk[self._index]
        self._index += 1
        self.next += 1
        return row

    def run(self, first: int, last: int) -> Iterator[bytes]:
        for start in range(first, last + 1, ROWS_PER_CHUNK):
            stop = min(start + ROWS_PER_CHUNK, last + 1)
            yield "".join([self._row(n) for n in range(start, stop)]).encode("latin-1")

    def cells(self, number: int) -> bytes:
        row = self._row(number)
        return row[len(f'<row r="{number}">') : -len("</row>")].encode("latin-1")


def header_cells(titles: Sequence[str], styles: Sequence[int], top: int, left: int) -> str:
    return "".join(
        text_cell(f"{column_letter(left + i)}{top}", title, style)
        for i, (title, style) in enumerate(zip(titles, styles, strict=True))
    )


# --- markers: where the new rows go -----------------------------------------------------------


def new_mark() -> str:
    """A marker attribute's name no workbook holds (a random one per splice)."""
    return "sheepxl" + secrets.token_hex(6)


def place_body(sheet_data: etree._Element, first: int, last: int, left: int, mark: str) -> None:
    """Mark where rows ``first`` to ``last`` are rendered: a marker cell in each row the sheet
    keeps there (placed as the tree path inserts the new cells, after the row's cells left of
    the table), a marker row for each run of rows it does not have. Rows end in order, as
    ``_merge_rows`` leaves them."""
    existing: dict[int, etree._Element] = {}
    for row in sheet_data.iterchildren(f"{M}row"):
        existing[int(row.get("r", "0"))] = row
    letter = column_letter(left)
    run_start: int | None = None
    for number in range(first, last + 1):
        row = existing.get(number)
        if row is None:
            if run_start is None:
                run_start = number
            continue
        if run_start is not None:
            existing[run_start] = _run_marker(run_start, number - 1, mark)
            run_start = None
        position = 0
        for index, cell in enumerate(row.iterchildren(f"{M}c")):
            ref = cell.get("r", "")
            if _column_of(ref) < left:
                position = index + 1
        marker = etree.Element(f"{M}c", {"r": f"{letter}{number}", mark: str(number)})
        row.insert(position, marker)
    if run_start is not None:
        existing[run_start] = _run_marker(run_start, last, mark)
    sheet_data[:] = [existing[n] for n in sorted(existing)]


def _run_marker(first: int, last: int, mark: str) -> etree._Element:
    return etree.Element(f"{M}row", {"r": str(first), mark: str(last)})


def _column_of(ref: str) -> int:
    letters = ref.rstrip("0123456789").lstrip("$")
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - 64
    return value


# --- the streamed parts -----------------------------------------------------------------------


class SplicedSheet(StreamedPart):
    """A sheet whose new table rows (and hyperlinks) are streamed in at its markers, with
    sync points around the runs the next refresh may skip and their record (`rows_run`,
    `links_run`, `sync_points.record_ext`)."""

    def __init__(
        self,
        tree: etree._Element,
        mark: str,
        body: Body,
        links: Sequence[tuple[str, str]] = (),
        link_ids: Sequence[str] = (),
        ref: str = "",
        rels_run: Run | None = None,
    ) -> None:
        super().__init__(tree)
        self.mark = mark
        self.body = body
        self.links = links
        self.link_ids = link_ids
        self._marker = re.compile(
            rb'<(row|c|hyperlink|ext) (?:r="([^"]*)" )?' + mark.encode() + rb'="([^"]*)"/>'
        )
        # the runs: the body after its first row when it is one run of rendered rows, the
        # streamed links (all in the table), their relationships (written before this part)
        top, bottom = body.top + 1, body.bottom
        self.rows_run = rows_run(top, bottom, ref) if self._one_run(top + 1, bottom) else None
        self._run_from = top + 1  # the first row of `rows_run`
        self.links_run = links_run("hyperlinks", link_ids, ref) if links else None
        self.runs = [r for r in (self.rows_run, self.links_run, rels_run) if r is not None]

    def _one_run(self, first: int, last: int) -> bool:
        """Whether rows ``first`` to ``last`` are rendered in one run (one marker row; the
        sheet keeps none of its own rows there)."""
        sheet_data = self.tree.find(f"{M}sheetData")
        return sheet_data is not None and any(
            int(row.get("r", "0")) <= first and row.get(self.mark) == str(last)
            for row in sheet_data.iterchildren(f"{M}row")
        )

    def has_formula_cells(self) -> bool:
        return self.body.has_formulas or next(self.tree.iter(f"{M}f"), None) is not None

    def chunks(self) -> Iterator[bytes]:
        """The part as read before it is saved: no sync points, and no record (whoever edits
        it as a tree then, to write cached formula values say, writes it without runs)."""
        return plain_chunks(self.items(record=False))

    def items(self, record: bool = True) -> Iterator[StreamItem]:
        data = self._serialised(record)
        rows = _Cursor(self.body.rows(), self.body.top)
        position = 0
        for match in self._marker.finditer(data):
            yield data[position : match.start()]
            kind, value = match.group(1), match.group(3)
            if kind == b"row":
                first, last = int(match.group(2)), int(value)
                run = self.rows_run
                if run is not None and first <= self._run_from and last == self.body.bottom:
                    yield from rows.run(first, self._run_from - 1)
                    yield from _within(run, rows.run(self._run_from, last))
                else:
                    yield from rows.run(first, last)
            elif kind == b"c":
                yield rows.cells(int(value))
            elif kind == b"hyperlink":
                yield from _within(self.links_run, self._links())
            else:
                yield from record_ext(self.runs)
            position = match.end()
        yield data[position:]

    def _serialised(self, record: bool = True) -> bytes:
        """The tree with markers where the links and the record go."""
        added: list[tuple[etree._Element, etree._Element]] = []
        if self.links:
            node = self.tree.find(f"{M}hyperlinks")
            assert node is not None, "place_links made it"
            added.append((node, etree.SubElement(node, f"{M}hyperlink", {self.mark: "links"})))
        if self.runs and record:
            extensions = self.tree.find(f"{M}extLst")
            if extensions is None:  # the last of a worksheet's elements
                extensions = etree.SubElement(self.tree, f"{M}extLst")
                added.append((self.tree, extensions))
            added.append((extensions, etree.SubElement(extensions, f"{M}ext", {self.mark: "r"})))
        try:
            return to_xml(self.tree)
        finally:
            for parent, child in reversed(added):
                parent.remove(child)

    def _links(self) -> Iterator[bytes]:
        for first in range(0, len(self.links), ROWS_PER_CHUNK):
            yield "".join(
                f'<hyperlink ref="{ref}" r:id="{rel_id}"/>'
                for (ref, _), rel_id in zip(
                    self.links[first : first + ROWS_PER_CHUNK],
                    self.link_ids[first : first + ROWS_PER_CHUNK],
                    strict=True,
                )
            ).encode()


def _within(run: Run | None, chunks: Iterable[bytes]) -> Iterator[StreamItem]:
    """``chunks`` between the sync points of ``run`` (when there is one)."""
    if run is not None:
        yield run.start
    yield from chunks
    if run is not None:
        yield run.end


def place_links(sheet_root: etree._Element) -> bool:
    """Make sure the sheet has a ``<hyperlinks>`` element whose links can be written ``r:id``;
    False when it has one where ``r`` is not the relationships prefix (the caller then adds
    links as elements)."""
    node = sheet_root.find(f"{M}hyperlinks")
    if node is None:
        declared = sheet_root.nsmap.get("r")
        if declared not in (None, NS_R):
            return False
        node = etree.Element(f"{M}hyperlinks", nsmap=None if declared else {"r": NS_R})
        insert_in_order(sheet_root, node, WORKSHEET_ORDER)
        return True
    return node.nsmap.get("r") == NS_R


class StreamedRelationships(StreamedPart):
    """A relationships part with hyperlink relationships streamed after those of its tree,
    between the sync points of ``run`` (`links_run`: its sheet's record names it)."""

    def __init__(self, tree: etree._Element, links: Sequence[tuple[str, str]], ids: Sequence[str]):
        super().__init__(tree)
        self.links = links
        self.ids = ids
        self.run = links_run(HYPERLINK_RUN, ids)

    def chunks(self) -> Iterator[bytes]:
        return plain_chunks(self.items())

    def items(self) -> Iterator[StreamItem]:
        rels = self.tree
        marker = rels.makeelement(f"{{{rels.nsmap.get(None)}}}Relationship", Id=_REL_MARK)
        rels.append(marker)
        try:
            data = to_xml(rels)
        finally:
            rels.remove(marker)
        head, found, tail = data.partition(f'<Relationship Id="{_REL_MARK}"/>'.encode())
        assert found, "the marker relationship is serialised as written"
        yield head
        yield from _within(self.run, self._relationships())
        yield tail

    def _relationships(self) -> Iterator[bytes]:
        for first in range(0, len(self.links), ROWS_PER_CHUNK):
            yield "".join(
                f'<Relationship Id="{rel_id}" Type="{REL_HYPERLINK}" '
                f'Target="{xml_attribute(url)}" TargetMode="External"/>'
                for (_, url), rel_id in zip(
                    self.links[first : first + ROWS_PER_CHUNK],
                    self.ids[first : first + ROWS_PER_CHUNK],
                    strict=True,
                )
            ).encode()

    def extra_relationships(self) -> Iterator[tuple[str, str, str]]:
        for (_, url), rel_id in zip(self.links, self.ids, strict=True):
            yield rel_id, REL_HYPERLINK, url


_REL_MARK = "sheep-xl-links"


def link_ids(used: Iterable[Any], count: int) -> list[str]:
    """``count`` relationship ids ``rIdL1``... that are not in ``used`` (as the tree path)."""
    taken = set(used)
    ids = []
    counter = 0
    for _ in range(count):
        counter += 1
        while f"rIdL{counter}" in taken:
            counter += 1
        ids.append(f"rIdL{counter}")
    return ids
