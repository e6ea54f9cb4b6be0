"""Worksheet cells as SpreadsheetML text, rendered fast from a table plan's values.

Both headless writers use this: the new-workbook writer streams the rows into the file, the
in-place refresher parses them into the existing sheet. One renderer per column is chosen once
from the column's kind, so the per-cell work is a single string format.

* text is an inline string (``t="inlineStr"``): never a formula, whatever it starts with; a
  literal ``_xHHHH_`` in it is escaped, so Excel shows it as typed (``excel_text.escape_ooxml``);
* dates, date-times and times are serial numbers with the column's date/time style, counted as
  Excel counts them (`serial`: one more before 1900-03-01, Excel's 1900 leap-year bug);
* ``None`` is a real empty cell (only its style is written, so the column looks uniform).

It is also the one home of the text rule for cells written through openpyxl (report covers,
labels, headers): `put_text` stores text as text whatever it begins with, `put_formula` is the
only way a formula is written, so data can never turn into one (openpyxl's own
``cell.value = "=..."`` makes a formula, and ``"#N/A"`` an error).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar
from xml.sax.saxutils import escape

from sheep_xl.frames.excel_text import clean_text, escape_ooxml
from sheep_xl.tables.plan import TablePlan, is_link
from sheep_xl.writers.ooxml import EPOCH_1900, EPOCH_1904, column_letter

Renderer = Callable[[Any, str], str]  # (value, cell reference) -> "<c .../>"


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
    """The function that renders one column's cells."""
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
    for offset, values in enumerate(rows):
        number = first_row + offset
        cells = "".join(
            render(values[source] if source is not None else None, f"{letter}{number}")
            for letter, source, render in columns
        )
        yield f'<row r="{number}">{cells}</row>'


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
        for first, values in plan.column_chunks(source):
            for offset, value in enumerate(values, first_row + first):
                if is_link(value):
                    total += 1
                    if len(links) < keep:
                        links.append((f"{letter}{offset}", value))
    return links, total
