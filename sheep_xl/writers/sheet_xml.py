"""Worksheet cells as SpreadsheetML text, rendered fast from a table plan's values.

Both headless writers use this: the new-workbook writer streams the rows into the file, the
in-place refresher parses them into the existing sheet. One renderer per column is chosen once
from the column's kind, so the per-cell work is a single string format.

* text is an inline string (``t="inlineStr"``): never a formula, whatever it starts with; a
  literal ``_xHHHH_`` in it is escaped, so Excel shows it as typed (``excel_text.escape_ooxml``);
* dates, date-times and times are serial numbers with the column's date/time style, counted as
  Excel counts them (`serial`: one more before 1900-03-01, Excel's 1900 leap-year bug);
* ``None`` is a real empty cell (only its style is written, so the column looks uniform).

The new-workbook writer renders a column at a time (`column_renderer`, `render_plan_rows`):
one list comprehension per column over a chunk of the plan's cells, which a frame's typed
columns hand over as NumPy arrays (`TablePlan.cells`): serial numbers are worked out per
column with NumPy, text that needs no escaping (nearly all of it; one regular-expression
search over the chunk tells) is written as it is. The bytes are those of the per-cell
renderers, which every value off those fast paths still goes through.

It is also the one home of the text rule for cells written through openpyxl (report covers,
labels, headers): `put_text` stores text as text whatever it begins with, `put_formula` is the
only way a formula is written, so data can never turn into one (openpyxl's own
``cell.value = "=..."`` makes a formula, and ``"#N/A"`` an error).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol, TypeVar
from xml.sax.saxutils import escape

import numpy as np

from sheep_xl.frames.excel_text import EXCEL_CELL_LIMIT, clean_text, escape_ooxml
from sheep_xl.tables.plan import CHUNK_ROWS, FastCells, TablePlan, is_link
from sheep_xl.writers.ooxml import EPOCH_1900, EPOCH_1904, column_letter

Renderer = Callable[[Any, str], str]  # (value, cell reference) -> "<c .../>"
# (a chunk of one column's cells, the column's letters, the chunk's row numbers as text)
# -> the chunk's cells, which `join_rows` makes rows of with one string format a row
ColumnRenderer = Callable[[FastCells, str, Sequence[str]], "ColumnChunk"]


class _Cell(Protocol):
    """What `put_text` needs of an openpyxl ``Cell`` or ``WriteOnlyCell``."""

    value: Any
    data_type: str


CellT = TypeVar("CellT", bound=_Cell)


def put_text(cell: CellT, text: str) -> CellT:
    """Store ``text`` in an openpyxl cell as a text cell: never a formula (``=...``), an error
    (``#N/A``) or anything else openpyxl would infer; characters XML cannot carry are removed
    first, as in every other text cell we write. Returns the cell, for styling."""
    cleaned, _, _ = clean_text(str(text))
    cell.value = escape_ooxml(cleaned)  # openpyxl writes ``_xHHHH_`` as it is; Excel decodes it
    cell.data_type = "s"
    return cell


def put_formula(cell: CellT, formula: str) -> CellT:
    """Store a formula the code means to write (it must start with ``=``)."""
    if not formula.startswith("="):
        raise ValueError(f"not a formula: {formula!r}")
    cell.value = formula
    cell.data_type = "f"
    return cell


def _empty(style: int) -> Callable[[str], str]:
    if style:
        return lambda ref: f'<c r="{ref}" s="{style}"/>'
    return lambda ref: ""


def text_cell(ref: str, text: str, style: int = 0) -> str:
    text, _, _ = clean_text(text)
    s = f' s="{style}"' if style else ""
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    body = escape(escape_ooxml(text))
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{body}</t></is></c>'


def number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


LEAP_BUG_END = dt.date(1900, 3, 1)  # Excel's serials count a 29 February 1900 before this day


def serial(value: dt.date | dt.datetime | dt.time, date1904: bool = False) -> float:
    """Excel's serial number for a date, date-time (naive wall clock) or time of day.

    In the 1900 system Excel counts 1900-01-01 as 1 and, like Lotus 1-2-3, a 29 February 1900
    that never was (60), so from 1900-03-01 (61) the count from 1899-12-30 is right and before
    it one day too many: 1900-02-28 is 59, not 60. Dates before the system's first day never
    get here (the plan empties them, `TablePlan.blank_dates_before`)."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - (EPOCH_1904 if date1904 else EPOCH_1900)
        early = not date1904 and value.date() < LEAP_BUG_END
        return delta.days - early + (delta.seconds + delta.microseconds / 1e6) / 86400
    if isinstance(value, dt.date):
        early = not date1904 and value < LEAP_BUG_END
        return (value - (EPOCH_1904 if date1904 else EPOCH_1900).date()).days - early
    return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400


def renderer_for(kind: str, style: int, date1904: bool = False) -> Renderer:
    """The function that renders one column's cells (`render_rows` renders a chunk of rows a
    column at a time with its `column_renderer` form)."""
    cell = _cell_renderer(kind, style, date1904)
    _COLUMN_FORMS[cell] = _column_form(kind, style, date1904, cell)
    return cell


# renderer_for's functions -> their column forms, for `render_rows`
_COLUMN_FORMS: weakref.WeakKeyDictionary[Renderer, ColumnRenderer] = weakref.WeakKeyDictionary()


def _cell_renderer(kind: str, style: int, date1904: bool) -> Renderer:
    empty = _empty(style)
    s = f' s="{style}"' if style else ""

    def generic(value: Any, ref: str) -> str:
        if value is None:
            return empty(ref)
        if isinstance(value, bool):
            return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (dt.date, dt.time)):
            return f'<c r="{ref}"{s}><v>{number_text(serial(value, date1904))}</v></c>'
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                return empty(ref)
            return f'<c r="{ref}"{s}><v>{number_text(value)}</v></c>'
        return text_cell(ref, str(value), style)

    if kind in ("date", "datetime", "time"):

        def when(value: Any, ref: str) -> str:
            if value is None:
                return empty(ref)
            if isinstance(value, (dt.date, dt.time)):
                return f'<c r="{ref}"{s}><v>{number_text(serial(value, date1904))}</v></c>'
            return generic(value, ref)

        return when
    if kind in ("text", "url", "uri", "list", "map", "object"):

        def text(value: Any, ref: str) -> str:
            if value is None:
                return empty(ref)
            if isinstance(value, str):
                return text_cell(ref, value, style)
            return generic(value, ref)

        return text
    return generic


TEXT_KINDS = ("text", "url", "uri", "list", "map", "object")

_PLAIN_LENGTH = EXCEL_CELL_LIMIT // 2  # no text this long or shorter is cut (`cut_utf16`)

_DAY_US = 86_400_000_000
_SECOND_US = 1_000_000
_UNIX_EPOCH = dt.datetime(1970, 1, 1)
WHOLE_NUMBERS = 2.0**53  # below this a plan's integral numbers are ints (`plan._number`)
WHOLE_SERIALS = 1e15  # below this `number_text` writes an integral float without ".0"


@dataclass(slots=True)
class ColumnChunk:
    """One column's cells over a chunk of rows, as a `column_renderer` makes them: cell ``i``
    is ``<c r="{letter}{row}`` + ``mid`` + ``values[i]`` (text, or a number an f-string formats)
    + ``end``; where ``values[i]`` is None it is ``<c r="{letter}{row}`` + ``empty``, or no
    element at all when ``empty`` is None. ``complete``: no value is None."""

    mid: str
    end: str
    empty: str | None
    values: list[Any]
    complete: bool

    def cells(self, letter: str, rows: Sequence[str]) -> list[str]:
        """Each cell's text ("" where there is no element)."""
        pre, mid, end, empty = f'<c r="{letter}', self.mid, self.end, self.empty
        return [
            f"{pre}{row}{mid}{value}{end}"
            if value is not None
            else ("" if empty is None else f"{pre}{row}{empty}")
            for value, row in zip(self.values, rows, strict=True)
        ]


def column_renderer(
    kind: str, style: int, date1904: bool = False, *, utf8: bool = False
) -> ColumnRenderer:
    """The function that renders a chunk of one column's cells (`TablePlan.cells`) as a
    `ColumnChunk`: the same text, cell for cell, as `renderer_for`'s function, which renders
    whatever the fast paths do not take. With ``utf8`` each character of the text is a byte of
    its UTF-8 form (the text's ``encode("latin-1")`` is the XML's bytes): text a chunk of rows
    joins into stays one byte a character, so it joins and encodes as fast as ASCII (measured:
    a chunk holding one "—" encodes 12 times slower otherwise)."""
    return _column_form(kind, style, date1904, _cell_renderer(kind, style, date1904), utf8)


def as_utf8(text: str) -> str:
    """``text`` with each character one byte of its UTF-8 form (see `column_renderer`)."""
    return text if text.isascii() else text.encode().decode("latin-1")


def _column_form(
    kind: str, style: int, date1904: bool, cell: Renderer, utf8: bool = False
) -> ColumnRenderer:
    s = f' s="{style}"' if style else ""
    empty = f'" s="{style}"/>' if style else None
    number, flag = f'"{s}><v>', f'"{s} t="b"><v>'
    inline = f'"{s} t="inlineStr"><is><t>'
    if utf8:
        per_cell = cell

        def cell(value: Any, ref: str) -> str:
            return as_utf8(per_cell(value, ref))

    def render(chunk: FastCells, letter: str, rows: Sequence[str]) -> ColumnChunk:
        cells: Sequence[Any]
        if isinstance(chunk, np.ndarray):
            if chunk.dtype.kind == "f":
                values, complete = _number_texts(chunk, WHOLE_NUMBERS)
                return ColumnChunk(number, "</v></c>", empty, values, complete)
            if chunk.dtype.kind == "M":
                values, complete = _serial_texts(chunk, kind == "date", date1904)
                return ColumnChunk(number, "</v></c>", empty, values, complete)
            if chunk.dtype.kind == "i" and kind == "bool":  # 1, 0; -1 for empty
                complete = not (chunk < 0).any()
                flags = chunk.tolist()
                if not complete:
                    flags = [None if b < 0 else b for b in flags]
                return ColumnChunk(flag, "</v></c>", empty, flags, complete)
            cells = chunk.tolist()
        else:
            cells = chunk
        if kind in TEXT_KINDS:
            texts = _plain_texts(cells, utf8)
            if texts is not None:
                return ColumnChunk(inline, "</t></is></c>", empty, texts, None not in texts)
            code = as_utf8 if utf8 else str
            plain = [
                None
                if value is None
                else f"{inline}{code(escape(value))}</t></is></c>"
                if isinstance(value, str) and _plain(value)
                else _tail(cell, value, letter, row)
                for value, row in zip(cells, rows, strict=True)
            ]
            return ColumnChunk("", "", empty, plain, None not in plain)
        if kind == "time":
            return _times(cells, letter, rows, number, empty, cell)
        tails = [_tail(cell, value, letter, row) for value, row in zip(cells, rows, strict=True)]
        return ColumnChunk("", "", empty, tails, None not in tails)

    return render


def _tail(cell: Renderer, value: Any, letter: str, row: str) -> str | None:
    """A per-cell renderer's text after ``<c r="{ref}``, or None for no element (`ColumnChunk`
    with an empty ``mid`` and ``end``)."""
    if value is None:
        return None
    return _past_ref(cell(value, f"{letter}{row}"), letter, row)


def _past_ref(text: str, letter: str, row: str) -> str | None:
    return text[len(letter) + len(row) + 6 :] if text else None  # past '<c r="' + ref


def _number_texts(values: np.ndarray, whole_below: float) -> tuple[list[Any], bool]:
    """Each float as `number_text` writes it, as the int or float an f-string formats so (a
    float's text is its ``repr``); None where it is not finite (an empty cell). Integral values
    below ``whole_below`` are written without ".0". Also whether every value is finite."""
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        whole = finite & (np.abs(values) < whole_below) & (np.floor(values) == values)
    if whole.all():
        return values.astype(np.int64).tolist(), True
    ints = np.where(whole, values, 0).astype(np.int64).tolist()
    if (whole | ~finite).all():  # whole numbers and empty cells
        gaps = np.flatnonzero(~finite)
        for gap in gaps:
            ints[gap] = None
        return ints, False
    texts: list[Any] = [
        i if w else f for i, f, w in zip(ints, values.tolist(), whole.tolist(), strict=True)
    ]
    gaps = np.flatnonzero(~finite)
    for gap in gaps:
        texts[gap] = None
    return texts, not len(gaps)


def _serial_texts(values: np.ndarray, dates: bool, date1904: bool) -> tuple[list[Any], bool]:
    """`serial` of each datetime64 value as `number_text` writes it (None for NaT), worked out
    as the same integer and float operations, in the same order, so the floats are the same."""
    epoch = EPOCH_1904 if date1904 else EPOCH_1900
    offset = (_UNIX_EPOCH - epoch) // dt.timedelta(microseconds=1)
    since = values.astype("datetime64[us]").view(np.int64) + offset
    days = since // _DAY_US
    if not date1904:  # Excel's 29 February 1900: one day more before 1900-03-01
        days -= days < (LEAP_BUG_END - epoch.date()).days
    if dates:
        texts: list[Any] = days.tolist()
    else:
        rest = since % _DAY_US
        seconds = rest // _SECOND_US
        fraction = (seconds + (rest - seconds * _SECOND_US) / 1e6) / 86400
        texts, _ = _number_texts(days + fraction, WHOLE_SERIALS)
    gaps = np.flatnonzero(np.isnat(values))
    for gap in gaps:
        texts[gap] = None
    return texts, not len(gaps)


def _plain_texts(cells: Sequence[Any], utf8: bool) -> list[Any] | None:
    """A chunk of text cells as `text_cell` writes them (None where empty), when every one is
    plain (`_plain`), checked at once over the chunk's texts joined as UTF-8 (`_plain_utf8`);
    None when one is not, or is not text (a plan built from rows)."""
    try:
        present = [value for value in cells if value is not None]
        data = "\x00".join(present).encode()  # TypeError: not all text; or a lone surrogate
    except (TypeError, UnicodeEncodeError):
        return None
    if not present:
        return list(cells)
    if not _plain_utf8(data, len(present)):
        return None
    ascii_only = data.isascii()
    if b"&" in data or b"<" in data or b">" in data:
        data = data.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    elif ascii_only or not utf8:
        return list(cells)  # written as they are
    texts: list[Any] = data.decode("latin-1" if utf8 else "utf-8").split("\x00")
    if len(present) < len(cells):
        given = iter(texts)
        texts = [next(given) if value is not None else None for value in cells]
    return texts


# Characters a text may hold that `text_cell` does not write as they are, in UTF-8, but the C0
# controls (bytes below 0x20): the whitespace `str.strip` removes (an end's space keeps the
# text's `xml:space`), U+FFFE and U+FFFF (XML cannot carry them); lone surrogates cannot be
# encoded at all.
_NOT_PLAIN_UTF8 = re.compile(
    rb"\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80"
    rb"|\xef\xbf[\xbe\xbf]"
)


def _plain_utf8(data: bytes, count: int) -> bool:
    """Whether each of ``count`` texts joined by NUL bytes (in UTF-8) is plain (`_plain`): no
    control but the joins (no character XML cannot carry, no line break, no tab), no ``_x``, no
    space at either end, no whitespace beyond ASCII and none of U+FFFE, U+FFFF; and short
    enough never to be cut (at most `_PLAIN_LENGTH` bytes, so characters, between joins)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    controls = np.flatnonzero(codes < 0x20)
    if len(controls) != count - 1 or codes[controls].any():  # only the joins, all NUL
        return False
    ends = np.concatenate(([-1], controls, [len(codes)]))
    if int(np.diff(ends).max(initial=0)) - 1 > _PLAIN_LENGTH:
        return False
    if b"_x" in data or data[:1] == b" " or data[-1:] == b" ":
        return False
    if b" \x00" in data or b"\x00 " in data:
        return False
    return data.isascii() or not _NOT_PLAIN_UTF8.search(data)


def _plain(text: str) -> bool:
    """Whether `text_cell` writes ``text`` as it is, but for escaping ``&<>``."""
    return (
        text.isprintable()
        and "_x" not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
        and len(text) <= _PLAIN_LENGTH
    )


def _times(
    cells: Sequence[Any],
    letter: str,
    rows: Sequence[str],
    number: str,
    empty: str | None,
    cell: Renderer,
) -> ColumnChunk:
    """Times of day: a column holds few distinct ones, so each is worked out once."""
    seen: dict[dt.time, str] = {}
    texts: list[Any] = []
    for value in cells:
        if type(value) is dt.time and value.tzinfo is None:
            text = seen.get(value)
            if text is None:
                text = seen[value] = number_text(serial(value))
            texts.append(text)
        elif value is None:
            texts.append(None)
        else:  # not a time: every cell as its per-cell text
            tails = [
                _tail(cell, value, letter, row) for value, row in zip(cells, rows, strict=True)
            ]
            return ColumnChunk("", "", empty, tails, None not in tails)
    return ColumnChunk(number, "</v></c>", empty, texts, None not in texts)


# --- rows: one string format per row, made for the columns' cells ------------------------------

_ROW_GROUP = 40  # columns per generated row function (a wide table joins several)
_LITERAL = re.compile(r"[^{}'\\\r\n]*")  # text that can stand as it is in an f-string's source


def join_rows(
    columns: Sequence[ColumnChunk],
    letters: Sequence[str],
    rows: Sequence[str],
    *,
    element: bool = True,
) -> list[str]:
    """The ``<row>`` elements of a chunk of rows from each column's rendered cells (without
    ``element``: the text of each row's cells, what goes inside its ``<row>``).

    Each row is one f-string made for the chunk's columns (`_row_format`): a column whose cells
    are all of one form (``<c r="B7" s="2"><v>`` value ``</v></c>``) passes only its values, a
    column with empty cells its cells' text past the reference, or, where empty cells have no
    element, its cells' whole text; so a row costs one string format, not one per cell."""
    if not columns:
        return [f'<row r="{row}"></row>' if element else "" for row in rows]
    groups = []
    for first in range(0, len(columns), _ROW_GROUP):
        parts, args = [], []
        for column, letter in zip(
            columns[first : first + _ROW_GROUP], letters[first : first + _ROW_GROUP], strict=True
        ):
            pre, mid, end = f'<c r="{letter}', column.mid, column.end
            if column.complete:
                parts.append((pre, mid, end))
                args.append(column.values)
            elif column.empty is not None:
                empty = column.empty
                parts.append((pre, "", ""))
                args.append([f"{mid}{v}{end}" if v is not None else empty for v in column.values])
            else:
                parts.append(("", "", ""))
                args.append(column.cells(letter, rows))
        whole = element and len(columns) <= _ROW_GROUP
        groups.append(list(map(_row_format(tuple(parts), whole), rows, *args)))
    if len(groups) == 1 and (whole or not element):
        return groups[0]
    if not element:
        return ["".join(texts) for texts in zip(*groups, strict=True)]
    return [
        f'<row r="{row}">{"".join(texts)}</row>' for row, *texts in zip(rows, *groups, strict=True)
    ]


@functools.lru_cache(maxsize=256)
def _row_format(parts: tuple[tuple[str, str, str], ...], whole: bool) -> Callable[..., str]:
    """``f(row, v0, v1, ...)``: the row's text (``whole``: as a ``<row>`` element) from each
    column's (text before the row number, text between it and the value, text after), a part
    of ("", "", "") standing for a value that is the cell's whole text."""
    body = []
    for index, (pre, mid, end) in enumerate(parts):
        assert all(_LITERAL.fullmatch(text) for text in (pre, mid, end)), "our own markup"
        body.append(f"{pre}{{n}}{mid}{{v{index}}}{end}" if pre else f"{{v{index}}}")
    text = "".join(body)
    if whole:
        text = f'<row r="{{n}}">{text}</row>'
    names = ", ".join(f"v{index}" for index in range(len(parts)))
    made: Callable[..., str] = eval(f"lambda n, {names}: f'{text}'")  # our own source (`_LITERAL`)
    return made


def render_plan_rows(
    plan: TablePlan, renderers: Sequence[ColumnRenderer], first_row: int, first_col: int = 1
) -> Iterator[list[str]]:
    """The ``<row>`` elements of a plan's rows, a chunk (`plan.CHUNK_ROWS`) at a time, each
    column rendered from `TablePlan.cells` by its renderer (one per plan column): text in the
    renderers' form (`column_renderer`'s ``utf8``)."""
    letters = [column_letter(first_col + i) for i in range(plan.n_cols)]
    for first in range(0, plan.n_rows, CHUNK_ROWS):
        last = min(first + CHUNK_ROWS, plan.n_rows)
        rows = [str(n) for n in range(first_row + first, first_row + last)]
        columns = [
            render(plan.cells(index, first, last), letter, rows)
            for index, (letter, render) in enumerate(zip(letters, renderers, strict=True))
        ]
        yield join_rows(columns, letters, rows)


_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def xml_attribute(text: str) -> str:
    """``text`` as a double-quoted attribute value, escaped exactly as lxml (libxml2) writes it,
    so parts streamed as text have the bytes lxml would have written."""
    return text.translate(_ATTRIBUTE_ESCAPES)


def xml_attributes(texts: Sequence[str]) -> list[str]:
    """`xml_attribute` of each text, the texts joined and searched at once (most need none)."""
    joined = "".join(texts)
    if any(char in joined for char in _ATTRIBUTE_SPECIAL):
        return [xml_attribute(text) for text in texts]
    return list(texts)


_ATTRIBUTE_SPECIAL = '&<>"\n\r\t'


def formula_renderer(formula: str, style: int) -> Renderer:
    s = f' s="{style}"' if style else ""
    body = escape(formula)
    return lambda _value, ref: f'<c r="{ref}"{s}><f>{body}</f></c>'


def render_rows(
    rows: Iterable[Sequence[Any]],
    sources: Sequence[int | None],
    renderers: Sequence[Renderer],
    first_row: int,
    first_col: int,
) -> Iterator[str]:
    """``<row>`` elements for ``rows``; ``sources[i]`` picks the value of final column ``i``
    (an index into the row, or None for columns whose renderer ignores the value). ``rows`` is
    only iterated once, so a plan's chunked `TablePlan.iter_rows` streams through."""
    letters = [column_letter(first_col + i) for i in range(len(renderers))]
    columns = list(zip(letters, sources, renderers, strict=True))
    values = iter(rows)
    number = first_row
    while chunk := list(islice(values, CHUNK_ROWS)):
        numbers = [str(n) for n in range(number, number + len(chunk))]
        rendered = []
        for letter, source, render in columns:
            cells = [row[source] for row in chunk] if source is not None else [None] * len(chunk)
            column = _COLUMN_FORMS.get(render)
            if column is not None:
                rendered.append(column(cells, letter, numbers))
            else:  # a renderer of its own (a formula): each cell as it renders it
                tails = [
                    _past_ref(render(v, f"{letter}{n}"), letter, n)
                    for v, n in zip(cells, numbers, strict=True)
                ]
                rendered.append(ColumnChunk("", "", None, tails, None not in tails))
        yield from join_rows(rendered, letters, numbers)
        number += len(chunk)


def hyperlinks(
    rows: Sequence[Sequence[Any]], link_columns: Sequence[tuple[int, int]], first_row: int
) -> list[tuple[str, str]]:
    """(cell reference, url) for every real link; ``link_columns`` is (source index, column)."""
    links = []
    for source, col in link_columns:
        letter = column_letter(col)
        for offset, values in enumerate(rows):
            value = values[source]
            if is_link(value):
                links.append((f"{letter}{first_row + offset}", value))
    return links


def plan_hyperlinks(
    plan: TablePlan, link_columns: Sequence[tuple[int, int]], first_row: int, keep: int
) -> tuple[list[tuple[str, str]], int]:
    """The first ``keep`` of `hyperlinks` for a plan, and how many there are in all: read a
    chunk at a time and never more than ``keep`` held, so a sheet of 200k links costs no more
    memory than Excel's 65,530 (the rest stay text; `cap_links` counts them from the total)."""
    links: list[tuple[str, str]] = []
    total = 0
    for source, col in link_columns:
        letter = column_letter(col)
        for first in range(0, plan.n_rows, CHUNK_ROWS):
            values = plan.cells(source, first, first + CHUNK_ROWS)
            found = [(row, v) for row, v in enumerate(values, first_row + first) if is_link(v)]
            total += len(found)
            links.extend((f"{letter}{row}", url) for row, url in found[: keep - len(links)])
    return links, total
