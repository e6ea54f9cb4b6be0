"""An in-memory Excel for xlwings: run xlwings' own classes without Excel.

xlwings talks to Excel through an *engine*: objects that implement the interface of
``xlwings/base_classes.py`` (``_xlwindows.py`` wraps COM, ``_xlmac.py`` AppleScript). This module is
such an engine, backed by Python dictionaries instead of Excel. Registered with
``xw.engines``, it lets the real ``xw.Book``, ``Sheet``, ``Range``, ``Table`` and ``Names`` classes
of ``xlwings/main.py`` and the real conversion pipeline of ``xlwings/conversion`` run on Linux, so
code written against xlwings' public object model can be tested here.

Quick start::

    from support.xlwings_memory import new_book, engine_of, cell_value

    book = new_book("Events.xlsx", sheets=("Events",))   # a real xw.Book
    sheet = book.sheets["Events"]
    sheet["A1"].value = [["Name", "Date"], ["AGM", dt.date(2026, 5, 1)]]
    assert cell_value(sheet, "B2") == dt.datetime(2026, 5, 1)
    assert engine_of(book).calls == [("value", "Events!A1:B2")]

The impl objects *are* the model: ``book.impl`` is a :class:`MemoryBook` holding the sheets,
``sheet.impl`` a :class:`MemorySheet` holding ``values`` (``{(row, col): value}``), ``formulas``,
``styles`` (number format, font, fill, ...), ``hyperlinks``, column widths and ``list_objects``
(the tables). Only :class:`MemoryRange` and the collection classes are throw-away views.

Excel behaviour that is modelled on purpose, because a writer can trip over it:

* **Text entry is parsed like Excel parses ``Range.Value = "..."``** (switch off with
  ``MemoryEngine(parse_text=False)``): ``"=..."`` becomes a formula, and so does other text
  Excel takes for one (``"+x"``, ``"-x"``, ``"@x"``; Excel stores it as a formula or raises, either
  way it is not text); ``"00123"`` becomes the number 123, ``"true"`` a boolean, ``"12%"`` 0.12,
  ``"2026-05-01"`` a date. A leading apostrophe (``"'00123"``) or the Text number format ``"@"``
  on the cell keeps text as text. Not parsed (real Excel would): other date spellings such as
  ``"1/5/2026"``, thousands separators, currency symbols, fractions.
* **Dates are numbers with a date format**: writing a ``datetime`` into a ``General`` cell gives
  the cell the format ``m/d/yyyy`` (``m/d/yyyy h:mm`` with a time part). Reading returns a
  ``datetime`` only while the cell has a date format; a number in a date-formatted cell reads as
  a ``datetime`` and a date in a ``0.00`` cell reads as its serial number, as with COM's
  ``Range.Value``. ``clear_contents`` keeps the format, ``clear`` resets it.
* **Numbers are floats**: ``5`` is stored and read back as ``5.0`` (``numbers=int`` converts).
* **Table headers** are unique, non-empty text: Excel turns an empty header into ``ColumnN``
  (also after ``clear_contents`` of a header cell), a number into text and a duplicate into
  ``Name2``. A table has at least one body row, cannot overlap another table, and its name is
  unique in the workbook (shared with defined names).
* ``clear_contents`` keeps hyperlinks and formats; ``clear`` removes both.
* ``app.status_bar = False`` hands the status bar back to Excel; reading it then gives False.

Deliberate differences from Excel:

* ``None``, NaN, NaT and ``pd.NA`` are stored as ``None``, a truly empty cell. The Windows engine
  sends ``""`` instead, which Excel also stores as an empty cell. An explicit ``""`` is kept as
  ``""`` here (Excel would empty the cell), so :func:`is_empty` can tell a writer that writes
  ``""`` from one that writes ``None``; a writer must not rely on either representation.
  Reading goes through the Windows rules: ``""`` and ``None`` both read back as ``None``.
* ``raw_value`` writes need the data to match the range's shape (Excel pads with ``#N/A``).
* Formulas are kept, never calculated: a formula cell reads as ``None`` unless a test sets a
  result with :func:`set_formula_result`. ``formula2`` is the same as ``formula``.
* Anything of xlwings' engine interface not implemented here raises ``NotImplementedError``
  naming the member (``MemoryRange.merge is not supported ...``), so gaps are obvious.

Every write-type operation is recorded in ``engine.calls`` as a tuple
``(operation, "Sheet!A1:C4", *details)`` so that tests can check that a writer works in bulk.
xlwings itself splits writes above 100,000 cells into several calls (as on Windows).

Known gaps: no formula evaluation, error values, merged cells, notes/comments, charts, pictures,
shapes, insert/delete of cells, copy/paste, sorting, autofilter criteria, data validation,
conditional formats, borders, freeze panes, file I/O (``books.open``; ``save`` only records);
tables always show their header row and no totals row, ``has_headers=False`` is unsupported,
``clear()`` over a whole table raises, number formats are not extended to rows a table grows
by; whole-row formatting is unsupported; ``.api`` returns the impl, not a COM object.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
import xlwings as xw
from xlwings import base_classes
from xlwings.utils import col_name, column_to_number, hex_to_rgb, int_to_rgb

__all__ = [
    "Area",
    "MemoryApp",
    "MemoryBook",
    "MemoryEngine",
    "MemoryRange",
    "MemorySheet",
    "MemoryTable",
    "cell_format",
    "cell_formula",
    "cell_text",
    "cell_value",
    "display_text",
    "engine_of",
    "install",
    "installed",
    "is_empty",
    "new_book",
    "set_formula_result",
    "table_ref",
    "uninstall",
]

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_TEXT = 32_767  # characters in one cell
DEFAULT_COLUMN_WIDTH = 8.43  # characters, Calibri 11
DEFAULT_ROW_HEIGHT = 15.0  # points
MAX_COLUMN_WIDTH = 255.0
MAX_ROW_HEIGHT = 409.0
# Reading more cells than this at once is refused: it is always a test bug (e.g. whole columns).
MAX_READ_CELLS = 2_000_000
# Ranges up to this size are handled cell by cell; bigger ones (whole columns) by scanning the
# cells that hold something.
_CELL_BY_CELL_LIMIT = 200_000

# Cell formatting: the keys of MemorySheet.styles and their Excel defaults.
DEFAULT_STYLE: dict[str, Any] = {
    "number_format": "General",
    "bold": False,
    "italic": False,
    "font_size": 11.0,
    "font_color": (0, 0, 0),
    "font_name": "Calibri",
    "fill_color": None,
    "wrap_text": False,
    "horizontal_alignment": "general",
    "vertical_alignment": "bottom",
}

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_PIDS = itertools.count(90_001)  # fake process ids; xw.App compares apps by pid


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------


class Area(NamedTuple):
    """A rectangle of cells, 1-based. ``nrows``/``ncols`` may be 0 (xlwings slices past the end)."""

    row: int
    col: int
    nrows: int
    ncols: int

    @property
    def last_row(self) -> int:
        return self.row + self.nrows - 1

    @property
    def last_col(self) -> int:
        return self.col + self.ncols - 1

    @property
    def size(self) -> int:
        return self.nrows * self.ncols

    def cells(self) -> Iterator[tuple[int, int]]:
        """All (row, col) pairs, row by row."""
        for r in range(self.row, self.row + self.nrows):
            for c in range(self.col, self.col + self.ncols):
                yield r, c

    def contains(self, row: int, col: int) -> bool:
        return self.row <= row <= self.last_row and self.col <= col <= self.last_col

    def intersects(self, other: Area) -> bool:
        return (
            self.size > 0
            and other.size > 0
            and self.row <= other.last_row
            and other.row <= self.last_row
            and self.col <= other.last_col
            and other.col <= self.last_col
        )

    def covers(self, other: Area) -> bool:
        return (
            self.row <= other.row
            and other.last_row <= self.last_row
            and self.col <= other.col
            and other.last_col <= self.last_col
        )

    @classmethod
    def spanning(cls, first: Area, second: Area) -> Area:
        """The smallest area holding both (Excel's ``Range(cell1, cell2)``)."""
        row, col = min(first.row, second.row), min(first.col, second.col)
        last_row = max(first.last_row, second.last_row)
        last_col = max(first.last_col, second.last_col)
        return cls(row, col, last_row - row + 1, last_col - col + 1)


_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_COLUMNS_RE = re.compile(r"^\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})$")
_ROWS_RE = re.compile(r"^\$?(\d+):\$?(\d+)$")


def _column_number(letters: str) -> int:
    number = column_to_number(letters.upper())
    if not 1 <= number <= MAX_COLUMNS:
        raise ValueError(f"column {letters!r} is outside the worksheet")
    return number


def _row_number(digits: str) -> int:
    number = int(digits)
    if not 1 <= number <= MAX_ROWS:
        raise ValueError(f"row {digits} is outside the worksheet")
    return number


def parse_area(text: str) -> Area:
    """``"B2"``, ``"$A$1:C3"``, ``"A:C"`` (whole columns) or ``"2:4"`` (whole rows)."""
    text = text.strip()
    if match := _COLUMNS_RE.match(text):
        first, last = sorted((_column_number(match[1]), _column_number(match[2])))
        return Area(1, first, MAX_ROWS, last - first + 1)
    if match := _ROWS_RE.match(text):
        first, last = sorted((_row_number(match[1]), _row_number(match[2])))
        return Area(first, 1, last - first + 1, MAX_COLUMNS)
    corners = []
    for part in text.split(":"):
        match = _CELL_RE.match(part.strip())
        if not match:
            raise ValueError(f"not a cell address: {text!r}")
        corners.append(Area(_row_number(match[2]), _column_number(match[1]), 1, 1))
    if len(corners) == 1:
        return corners[0]
    if len(corners) == 2:
        return Area.spanning(corners[0], corners[1])
    raise ValueError(f"not a cell address: {text!r}")


def parse_address(text: str) -> list[Area]:
    """A possibly multi-area address such as ``"B2,B5:B7"``."""
    return [parse_area(part) for part in text.split(",")]


def area_address(area: Area, *, row_absolute: bool = True, col_absolute: bool = True) -> str:
    """Excel's ``Range.Address`` of one area: ``$A$1``, ``$A$1:$C$4``, ``$A:$C``, ``$2:$4``."""
    rd = "$" if row_absolute else ""
    cd = "$" if col_absolute else ""
    if area.size == 0:  # what the Windows engine shows for an empty slice
        return f"${col_name(area.col)}${area.row}{{{area.nrows}x{area.ncols}}}"
    if area.row == 1 and area.nrows == MAX_ROWS:
        return f"{cd}{col_name(area.col)}:{cd}{col_name(area.last_col)}"
    if area.col == 1 and area.ncols == MAX_COLUMNS:
        return f"{rd}{area.row}:{rd}{area.last_row}"
    first = f"{cd}{col_name(area.col)}{rd}{area.row}"
    if area.size == 1:
        return first
    return f"{first}:{cd}{col_name(area.last_col)}{rd}{area.last_row}"


def quote_sheet_name(name: str) -> str:
    """A sheet name as it appears in a reference: ``Events`` or ``'My events'``."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) and not _CELL_RE.match(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _check_in_sheet(area: Area) -> None:
    if (
        area.row < 1
        or area.col < 1
        or area.row + area.nrows - 1 > MAX_ROWS
        or area.col + area.ncols - 1 > MAX_COLUMNS
    ):
        raise IndexError(f"range {tuple(area)} (row, col, rows, cols) is outside the worksheet")


# ---------------------------------------------------------------------------------------------
# Values: what a cell can hold, how Excel parses typed text, how a value is displayed
# ---------------------------------------------------------------------------------------------


def to_serial(value: dt.datetime) -> float:
    """Excel's serial number of a datetime (1900 date system)."""
    return (value - _EXCEL_EPOCH) / dt.timedelta(days=1)


def from_serial(serial: float) -> dt.datetime:
    moment = _EXCEL_EPOCH + dt.timedelta(days=serial)
    return moment.replace(microsecond=round(moment.microsecond, -3) % 1_000_000)


def is_date_format(number_format: str | None) -> bool:
    """True for number formats that show a date or time (Excel then returns a Date via COM)."""
    if not number_format or number_format.lower() == "general":
        return False
    section = number_format.split(";")[0]
    section = re.sub(r'"[^"]*"', "", section)
    section = re.sub(r"\\.", "", section)
    section = re.sub(r"\[(?![hms]+\])[^\]]*\]", "", section, flags=re.IGNORECASE)
    section = re.sub(r"AM/PM|A/P", "", section, flags=re.IGNORECASE)
    return bool(re.search(r"[dmyhs]", section, re.IGNORECASE))


_NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_PERCENT_TEXT = re.compile(r"^([+-]?(\d+\.?\d*|\.\d+))%$")
_ISO_DATE_TEXT = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@dataclass
class Entry:
    """What Excel makes of a value written to a cell."""

    value: Any = None  # the constant (None for formulas and empty cells)
    formula: str | None = None
    number_format: str | None = None  # the format Excel applies when the cell is General


def parse_text_entry(text: str, number_format: str) -> Entry:
    """Text as Excel's ``Range.Value = text`` stores it (the subset documented in the module)."""
    if text.startswith("'"):
        return Entry(text[1:])  # the apostrophe is a prefix character, not part of the value
    if number_format == "@":
        return Entry(text)
    if len(text) > 1 and text[0] == "=":
        return Entry(formula=text)
    stripped = text.strip()
    if _NUMBER_TEXT.match(stripped):
        return Entry(float(stripped))
    if match := _PERCENT_TEXT.match(stripped):
        decimals = len(match[2].split(".")[1]) if "." in match[2] else 0
        return Entry(float(match[1]) / 100, number_format="0%" if not decimals else "0.00%")
    if stripped.upper() in ("TRUE", "FALSE"):
        return Entry(stripped.upper() == "TRUE")
    if match := _ISO_DATE_TEXT.match(stripped):
        parts = [int(p) if p else 0 for p in match.groups()]
        try:
            moment = dt.datetime(*parts)
        except ValueError:
            return Entry(text)
        return Entry(moment, number_format="yyyy-mm-dd" + (" h:mm" if match[4] else ""))
    if len(text) > 1 and text[0] in "+-@":
        return Entry(formula="=" + text)  # Excel reads this as a formula (or refuses it)
    return Entry(text)


def normalize_cell_value(value: Any) -> Any:
    """The Python value a cell holds: None, bool, float, str or a naive datetime."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float, decimal.Decimal, np.number)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"Excel cannot store {number!r} in a cell")
        return number
    raise TypeError(f"Excel cannot store a value of type {type(value).__name__}: {value!r}")


def _general_number_text(value: float) -> str:
    """A number as the General format shows it (about 11 characters)."""
    if value == int(value) and abs(value) < 1e11:
        return str(int(value))
    text = f"{value:.10g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{float(mantissa):.5g}E{'-' if int(exponent) < 0 else '+'}{abs(int(exponent)):02d}"
    return text


def _format_number(value: float, number_format: str) -> str:
    section = number_format.split(";")[0]
    if section.lower() == "general" or "@" in section or not re.search(r"[0#?]", section):
        return _general_number_text(value)
    text = re.sub(r'"([^"]*)"', r"\1", section)
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"\[[^\]]*\]|_.|\*.", "", text)
    if re.search(r"E[+-]", text, re.IGNORECASE):
        return _general_number_text(value)
    if "%" in text:
        value *= 100
    match = re.search(r"[#0?,.]*[0#?][#0?,.]*", text)
    assert match is not None  # the section holds a digit placeholder (checked above)
    placeholder = match.group()
    integer_part, _, fraction = placeholder.partition(".")
    decimals = len(re.sub(r"[^0#?]", "", fraction))
    body = f"{abs(value):,.{decimals}f}" if "," in integer_part else f"{abs(value):.{decimals}f}"
    sign = "-" if value < 0 and float(body.replace(",", "")) != 0 else ""
    return f"{sign}{text[: match.start()]}{body}{text[match.end() :]}"


_DATE_TOKEN = re.compile(
    r'"[^"]*"|\\.|\[[^\]]*\]|AM/PM|A/P|y+|m+|d+|h+|s+|\.0+|.',
    re.IGNORECASE,
)
_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _format_datetime(value: dt.datetime, number_format: str) -> str:
    tokens = _DATE_TOKEN.findall(number_format.split(";")[0])
    kinds = [t.lower()[0] if t.lower()[0] in "ymdhs" and t[0] != "\\" else "" for t in tokens]
    twelve_hour = any(t.upper() in ("AM/PM", "A/P") for t in tokens)

    def minutes_at(i: int) -> bool:
        before = [k for k in kinds[:i] if k]
        after = [k for k in kinds[i + 1 :] if k]
        return bool(before and before[-1] == "h") or bool(after and after[0] == "s")

    out = []
    for i, token in enumerate(tokens):
        low = token.lower()
        if token.startswith('"'):
            out.append(token[1:-1])
        elif token.startswith("\\"):
            out.append(token[1:])
        elif token.startswith("["):
            if low[1:-1] in ("h", "hh"):  # elapsed hours
                out.append(str(int(to_serial(value) * 24)))
        elif low.startswith("y"):
            out.append(f"{value.year:04d}" if len(low) > 2 else f"{value.year % 100:02d}")
        elif low.startswith("m") and len(low) <= 2 and minutes_at(i):
            out.append(f"{value.minute:0{len(low)}d}")
        elif low.startswith("m"):
            month = _MONTHS[value.month - 1]
            out.append(
                {1: str(value.month), 2: f"{value.month:02d}", 3: month[:3], 4: month}.get(
                    len(low), month[0]
                )
            )
        elif low.startswith("d"):
            day = _DAYS[value.weekday()]
            out.append({1: str(value.day), 2: f"{value.day:02d}", 3: day[:3]}.get(len(low), day))
        elif low.startswith("h"):
            hour = (value.hour % 12 or 12) if twelve_hour else value.hour
            out.append(f"{hour:0{min(len(low), 2)}d}")
        elif low.startswith("s"):
            out.append(f"{value.second:0{min(len(low), 2)}d}")
        elif low.startswith(".0"):
            out.append(f"{value.microsecond / 1e6:.{len(low) - 1}f}"[1:])
        elif low in ("am/pm", "a/p"):
            marker = "AM" if value.hour < 12 else "PM"
            out.append(marker if low == "am/pm" else marker[0])
        else:
            out.append(token)
    return "".join(out)


def display_text(value: Any, number_format: str = "General") -> str:
    """The text Excel shows for a value (``Range.Text``), for the common number formats.

    Handles General, ``0``/``0.00``/``#,##0.00``-style, percentages, literal prefixes such as
    ``"£"#,##0.00`` and date/time formats (``yyyy-mm-dd``, ``d mmm yyyy h:mm AM/PM``, ...);
    anything else is shown as General. Dates use English month and day names.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if is_date_format(number_format):
            return _format_datetime(value, number_format)
        return _format_number(to_serial(value), number_format)
    if isinstance(value, float) and is_date_format(number_format) and 0 <= value < 2_958_466:
        return _format_datetime(from_serial(value), number_format)
    return _format_number(float(value), number_format)


def _formula_bar_text(value: Any) -> str:
    """A constant as ``Range.Formula`` returns it (the formula bar, en-US)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        text = f"{value.month}/{value.day}/{value.year}"
        if value.time() != dt.time(0):
            text += " " + _format_datetime(value, "h:mm:ss AM/PM")
        return text
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}".replace("e", "E")
    return str(value)


# ---------------------------------------------------------------------------------------------
# Naming rules
# ---------------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[A-Za-z_\\][A-Za-z0-9_.\\]*$")
_R1C1_RE = re.compile(r"^[Rr]\d*[Cc]?\d*$|^[Cc]\d*$")
_BUILTIN_TABLE_STYLE = re.compile(
    r"^TableStyle(Light([1-9]|1\d|2[01])|Medium([1-9]|1\d|2[0-8])|Dark([1-9]|1[01]))$"
)
_SHEET_NAME_FORBIDDEN = set("\\/?*[]:")


def _is_cell_reference(name: str) -> bool:
    match = _CELL_RE.match(name)
    if match and not name.startswith("$"):
        try:
            _column_number(match[1])
            _row_number(match[2])
        except ValueError:
            return False
        return True
    return bool(_R1C1_RE.match(name))


def check_defined_name(name: str) -> None:
    """Excel's rules for defined names and table names."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 255:
        raise ValueError(
            f"{name!r} is not a valid Excel name: start with a letter, '_' or '\\', then use "
            "letters, digits, '.', '_' only (no spaces), at most 255 characters"
        )
    if _is_cell_reference(name):
        raise ValueError(f"{name!r} is not a valid Excel name: it looks like a cell reference")


def check_sheet_name(name: str) -> None:
    if not isinstance(name, str) or not name or len(name) > 31:
        raise ValueError(f"invalid sheet name {name!r}: 1 to 31 characters")
    if _SHEET_NAME_FORBIDDEN & set(name) or name[0] == "'" or name[-1] == "'":
        raise ValueError(f"invalid sheet name {name!r}: no \\ / ? * [ ] : or edge apostrophes")
    if name.casefold() == "history":
        raise ValueError("'History' is reserved by Excel")


# ---------------------------------------------------------------------------------------------
# Gaps: members of xlwings' engine interface that aren't implemented raise with their name
# ---------------------------------------------------------------------------------------------


def _is_stub(member: Any) -> bool:
    """True for base-class members that only ``raise NotImplementedError`` (not e.g. expand())."""
    function = member.fget if isinstance(member, property) else member
    if isinstance(function, (staticmethod, classmethod)):
        function = function.__func__
    code = getattr(function, "__code__", None)
    return code is not None and "NotImplementedError" in code.co_names


def _unsupported(owner: str, name: str, member: Any) -> Any:
    message = f"{owner}.{name} is not supported by the in-memory xlwings engine"

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(message)

    if isinstance(member, property):
        return property(fail, fail)
    if isinstance(member, staticmethod):
        return staticmethod(fail)
    return fail


class _NamedGaps:
    """Mixin: replaces each not-implemented member of the xlwings base class by a stub whose
    ``NotImplementedError`` names the class and member (the base classes raise it bare)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__
        for index, klass in enumerate(mro):
            if klass.__module__ != base_classes.__name__:
                continue
            ours = [k for k in mro[:index] if k.__module__ != base_classes.__name__]
            for name, member in vars(klass).items():
                if _is_stub(member) and not any(name in vars(k) for k in ours):
                    setattr(cls, name, _unsupported(cls.__name__, name, member))


# ---------------------------------------------------------------------------------------------
# The engine, apps and books
# ---------------------------------------------------------------------------------------------


class MemoryEngine:
    """The engine impl (what ``xw.Engine(impl=...)`` wraps), holding the apps and the call log.

    ``calls`` records every write-type operation as ``(operation, "Sheet!A1:C4", *details)``;
    operations: value, formula, formula2, number_format, clear_contents, clear_formats, clear,
    add_hyperlink, column_width, row_height, autofit, font.<attr>, color, wrap_text,
    horizontal_alignment, vertical_alignment, row_hidden, column_hidden, table_add,
    table_resize, table_name, table_style, table_show_autofilter, name_add, name_delete,
    name_refers_to, sheet_add, sheet_delete, sheet_name, sheet_move, status_bar, save.
    """

    name = "memory"
    type = "desktop"  # behave like the Windows engine in the conversion pipeline

    def __init__(self, *, parse_text: bool = True) -> None:
        self.parse_text = parse_text
        self.calls: list[tuple[Any, ...]] = []
        self._apps: list[MemoryApp] = []  # the active app first, like xw.apps

    def __repr__(self) -> str:
        return f"<MemoryEngine {len(self._apps)} app(s), {len(self.calls)} call(s)>"

    @property
    def apps(self) -> MemoryApps:
        return MemoryApps(self)

    def log(self, *entry: Any) -> None:
        self.calls.append(entry)

    def calls_of(self, operation: str) -> list[tuple[Any, ...]]:
        """The logged calls of one operation, e.g. ``calls_of("value")``."""
        return [call for call in self.calls if call[0] == operation]

    def clear_calls(self) -> None:
        self.calls.clear()

    @staticmethod
    def prepare_xl_data_element(x: Any, options: Any = None) -> Any:
        """A Python value on its way to a cell (xlwings' CleanDataForWriteStage calls this).

        Mirrors ``_xlwindows.Engine.prepare_xl_data_element``: date and datetime (also pandas
        Timestamp and numpy datetime64) become a naive ``datetime`` (a timezone is dropped, not
        converted), numpy numbers become ``float`` and numpy booleans ``bool``. Unlike Windows,
        which sends ``""`` for None, NaN, NaT and ``pd.NA`` (Excel stores an empty cell), these
        all become ``None`` here: a truly empty cell. A writer must not rely on either form.
        """
        if x is None or x is pd.NaT or x is pd.NA:
            return None
        if isinstance(x, np.datetime64):
            return None if np.isnat(x) else pd.Timestamp(x).to_pydatetime(warn=False)
        if isinstance(x, pd.Timestamp):
            return x.to_pydatetime(warn=False).replace(tzinfo=None)
        if isinstance(x, dt.datetime):
            return x.replace(tzinfo=None)
        if isinstance(x, dt.date):
            return dt.datetime(x.year, x.month, x.day)
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, np.number):
            x = float(x)
        if isinstance(x, float) and math.isnan(x):
            return None
        return x

    @staticmethod
    def clean_value_data(
        data: Any,
        datetime_builder: Any,
        empty_as: Any,
        number_builder: Any,
        err_to_str: bool,
    ) -> list[list[Any]]:
        """Raw cell values on their way to Python (xlwings' CleanDataFromReadStage calls this).

        Same rules as the Windows engine: ``""`` and ``None`` become ``empty_as``, datetimes go
        through ``datetime_builder`` (the ``dates=`` option), floats through ``number_builder``
        (the ``numbers=`` option). The model holds no error values, so ``err_to_str`` is unused.
        """

        def clean(value: Any) -> Any:
            if value is None or (isinstance(value, str) and value == ""):
                return empty_as
            if isinstance(value, dt.datetime):
                return datetime_builder(
                    month=value.month,
                    day=value.day,
                    year=value.year,
                    hour=value.hour,
                    minute=value.minute,
                    second=value.second,
                    microsecond=value.microsecond,
                    tzinfo=None,
                )
            if number_builder is not None and isinstance(value, float):
                return number_builder(value)
            return value

        return [[clean(value) for value in row] for row in data]


class MemoryApps(_NamedGaps, base_classes.Apps):
    def __init__(self, engine: MemoryEngine) -> None:
        self._engine = engine

    def keys(self) -> list[int]:
        return [app.pid for app in self._engine._apps]

    def add(
        self, spec: Any = None, add_book: bool | None = None, xl: Any = None, visible: Any = None
    ) -> MemoryApp:
        app = MemoryApp(self._engine, visible=visible)
        self._engine._apps.insert(0, app)
        if add_book:
            app.books.add()
        return app

    @staticmethod
    def cleanup() -> None:
        pass  # no processes to clean up

    def __iter__(self) -> Iterator[MemoryApp]:
        return iter(list(self._engine._apps))

    def __len__(self) -> int:
        return len(self._engine._apps)

    def __getitem__(self, pid: int) -> MemoryApp:
        for app in self._engine._apps:
            if app.pid == pid:
                return app
        raise KeyError("Could not find an Excel instance with this PID.")


class MemoryApp(_NamedGaps, base_classes.App):
    """An Excel instance: app-level settings, its books."""

    _CALCULATION_MODES: ClassVar[tuple[str, ...]] = ("manual", "automatic", "semiautomatic")

    def __init__(self, engine: MemoryEngine, *, visible: bool | None = None) -> None:
        self._engine = engine
        self._pid = next(_PIDS)
        self._books: list[MemoryBook] = []
        self._active_book: MemoryBook | None = None
        self._book_counter = 0
        self._visible = bool(visible)
        self._screen_updating = True
        self._display_alerts = True
        self._enable_events = True
        self._interactive = True
        self._calculation = "automatic"
        self._status_bar: str | bool = False
        self.calculations = 0  # how often calculate() was called

    def __repr__(self) -> str:
        return f"<MemoryApp {self._pid}>"

    @property
    def engine(self) -> MemoryEngine:
        return self._engine

    @property
    def api(self) -> MemoryApp:
        return self

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def hwnd(self) -> None:
        return None

    @property
    def version(self) -> str:
        return "16.0"

    @property
    def path(self) -> str:
        return "memory://excel"

    @property
    def startup_path(self) -> str:
        return "memory://excel/XLSTART"

    @property
    def books(self) -> MemoryBooks:
        return MemoryBooks(self)

    @property
    def selection(self) -> MemoryRange | None:
        return self._active_book._selection if self._active_book else None

    def activate(self, steal_focus: bool = False) -> None:
        apps = self._engine._apps
        if self in apps:
            apps.remove(self)
            apps.insert(0, self)

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = bool(value)

    def quit(self) -> None:
        for book in list(self._books):
            book.close()
        if self in self._engine._apps:
            self._engine._apps.remove(self)

    def kill(self) -> None:
        self.quit()

    @property
    def screen_updating(self) -> bool:
        return self._screen_updating

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self._screen_updating = bool(value)

    @property
    def display_alerts(self) -> bool:
        return self._display_alerts

    @display_alerts.setter
    def display_alerts(self, value: bool) -> None:
        self._display_alerts = bool(value)

    @property
    def enable_events(self) -> bool:
        return self._enable_events

    @enable_events.setter
    def enable_events(self, value: bool) -> None:
        self._enable_events = bool(value)

    @property
    def interactive(self) -> bool:
        return self._interactive

    @interactive.setter
    def interactive(self, value: bool) -> None:
        self._interactive = bool(value)

    @property
    def calculation(self) -> str:
        return self._calculation

    @calculation.setter
    def calculation(self, value: str) -> None:
        if value not in self._CALCULATION_MODES:
            raise KeyError(value)  # like the Windows engine's lookup table
        self._calculation = value

    def calculate(self) -> None:
        self.calculations += 1  # formulas are not evaluated

    @property
    def status_bar(self) -> str | bool:
        """Excel semantics: False while Excel controls the status bar (also after setting False)."""
        return self._status_bar

    @status_bar.setter
    def status_bar(self, value: str | bool) -> None:
        self._status_bar = False if value is False else value
        self._engine.log("status_bar", self._status_bar)

    @property
    def cut_copy_mode(self) -> None:
        return None

    @cut_copy_mode.setter
    def cut_copy_mode(self, value: bool) -> None:
        pass

    def new_book(
        self,
        name: str | None = None,
        sheet_names: Iterable[str] = ("Sheet1",),
        fullname: str | None = None,
    ) -> MemoryBook:
        """Create a book directly in the model (``books.add()`` is Excel's ``Book1`` variant)."""
        if name is None:
            self._book_counter += 1
            name = f"Book{self._book_counter}"
        if any(book.name.casefold() == name.casefold() for book in self._books):
            raise ValueError(f"a workbook named {name!r} is already open")
        book = MemoryBook(self, name, fullname or name)
        for sheet_name in sheet_names:
            check_sheet_name(sheet_name)
            if any(s.name.casefold() == sheet_name.casefold() for s in book._sheets):
                raise ValueError(f"duplicate sheet name {sheet_name!r}")
            book._sheets.append(MemorySheet(book, sheet_name))
        if not book._sheets:
            raise ValueError("a workbook needs at least one sheet")
        book._active_sheet = book._sheets[0]
        book._selection = MemoryRange(book._sheets[0], Area(1, 1, 1, 1))
        self._books.append(book)
        self._active_book = book
        return book


class MemoryBooks(_NamedGaps, base_classes.Books):
    def __init__(self, app: MemoryApp) -> None:
        self._app = app

    @property
    def app(self) -> MemoryApp:  # main.Books.open() reads impl.app.engine.type
        return self._app

    @property
    def api(self) -> MemoryBooks:
        return self

    @property
    def active(self) -> MemoryBook | None:
        return self._app._active_book

    def __call__(self, name_or_index: int | str) -> MemoryBook:
        books = self._app._books
        if isinstance(name_or_index, int):
            if not 1 <= name_or_index <= len(books):
                raise KeyError(name_or_index)
            return books[name_or_index - 1]
        for book in books:
            if book.name.casefold() == str(name_or_index).casefold():
                return book
        raise KeyError(name_or_index)

    def __len__(self) -> int:
        return len(self._app._books)

    def __iter__(self) -> Iterator[MemoryBook]:
        return iter(list(self._app._books))

    def add(self) -> MemoryBook:
        return self._app.new_book()


class MemoryBook(_NamedGaps, base_classes.Book):
    """A workbook: sheets in order, defined names, the selection."""

    def __init__(self, app: MemoryApp, name: str, fullname: str) -> None:
        self._app = app
        self._name = name
        self._fullname = fullname
        self._sheets: list[MemorySheet] = []
        self._names: list[MemoryName] = []
        self._active_sheet: MemorySheet | None = None
        self._selection: MemoryRange | None = None
        self._closed = False
        self.saved_as: list[str] = []  # every save() target; nothing is written to disk
        self.custom_table_styles: set[str] = set()  # accepted besides the built-in styles

    def __repr__(self) -> str:
        return f"<MemoryBook {self._name!r}>"

    @property
    def engine(self) -> MemoryEngine:
        return self._app._engine

    @property
    def api(self) -> MemoryBook:
        return self

    @property
    def name(self) -> str:
        return self._name

    @property
    def fullname(self) -> str:
        return self._fullname

    @property
    def sheets(self) -> MemorySheets:
        return MemorySheets(self)

    @property
    def app(self) -> MemoryApp:
        return self._app

    @property
    def names(self) -> MemoryNames:
        return MemoryNames(self, scope=None)

    def activate(self) -> None:
        self._app._active_book = self

    def close(self) -> None:
        self._closed = True
        if self in self._app._books:
            self._app._books.remove(self)
        if self._app._active_book is self:
            self._app._active_book = self._app._books[-1] if self._app._books else None

    def save(self, path: str | None = None, password: str | None = None) -> None:
        """Records the save (``calls`` and ``saved_as``); no file is written. A path renames the
        book like Excel's SaveAs."""
        if path:
            self._fullname = str(path)
            self._name = re.split(r"[\\/]", str(path))[-1]
        self.saved_as.append(self._fullname)
        self.engine.log("save", self._fullname)

    # -- model helpers -------------------------------------------------------------------------

    def all_tables(self) -> list[MemoryTable]:
        return [table for sheet in self._sheets for table in sheet.list_objects]

    def name_in_use(self, name: str, *, ignore: object = None) -> bool:
        """Table names and workbook-level defined names share one namespace."""
        folded = name.casefold()
        return any(
            t is not ignore and t.name.casefold() == folded for t in self.all_tables()
        ) or any(
            n is not ignore and n.scope is None and n.local_name.casefold() == folded
            for n in self._names
        )

    def table_style_exists(self, style: str) -> bool:
        return (
            style == ""
            or bool(_BUILTIN_TABLE_STYLE.match(style))
            or (style in self.custom_table_styles)
        )

    def resolve_reference(self, refers_to: str) -> MemoryRange:
        """``=Sheet1!$A$1:$B$3`` or ``='My sheet'!$A$1`` as a range (``Name.RefersToRange``)."""
        text = refers_to.lstrip("=").strip()
        match = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^'!]+))!(.+)", text)
        if not match:
            raise ValueError(f"{refers_to!r} does not refer to a range")
        sheet_name = (match[1] or "").replace("''", "'") or match[2]
        try:
            sheet = self.sheets(sheet_name)
        except KeyError:
            raise ValueError(f"{refers_to!r} refers to a missing sheet") from None
        areas = []
        for part in match[3].split(","):
            prefix = f"{quote_sheet_name(sheet.name)}!"
            part = part[len(prefix) :] if part.startswith(prefix) else part
            areas.append(parse_area(part))
        return MemoryRange(sheet, areas)


class MemorySheets(_NamedGaps, base_classes.Sheets):
    def __init__(self, book: MemoryBook) -> None:
        self._book = book

    @property
    def api(self) -> MemorySheets:
        return self

    @property
    def active(self) -> MemorySheet | None:
        return self._book._active_sheet

    def __call__(self, name_or_index: int | str) -> MemorySheet:
        sheets = self._book._sheets
        if isinstance(name_or_index, int):
            if not 1 <= name_or_index <= len(sheets):
                raise KeyError(name_or_index)
            return sheets[name_or_index - 1]
        for sheet in sheets:
            if sheet.name.casefold() == str(name_or_index).casefold():
                return sheet
        raise KeyError(name_or_index)

    def __len__(self) -> int:
        return len(self._book._sheets)

    def __iter__(self) -> Iterator[MemorySheet]:
        return iter(list(self._book._sheets))

    def add(
        self,
        before: MemorySheet | None = None,
        after: MemorySheet | None = None,
        name: str | None = None,
    ) -> MemorySheet:
        """Like Excel: without before/after the new sheet goes before the active sheet; it
        becomes the active sheet."""
        book = self._book
        sheets = book._sheets
        if name is None:
            numbers = [int(m[1]) for s in sheets if (m := re.fullmatch(r"Sheet(\d+)", s.name))]
            name = f"Sheet{max(numbers, default=len(sheets)) + 1}"
        check_sheet_name(name)
        if any(s.name.casefold() == name.casefold() for s in sheets):
            raise ValueError(f"Sheet named {name!r} already present in workbook")
        sheet = MemorySheet(book, name)
        if before is not None:
            position = sheets.index(before)
        elif after is not None:
            position = sheets.index(after) + 1
        elif book._active_sheet in sheets:
            position = sheets.index(book._active_sheet)
        else:
            position = len(sheets)
        sheets.insert(position, sheet)
        book._active_sheet = sheet
        book.engine.log("sheet_add", name)
        return sheet


# ---------------------------------------------------------------------------------------------
# Sheets: the cells
# ---------------------------------------------------------------------------------------------


@dataclass
class Hyperlink:
    address: str
    text_to_display: str
    screen_tip: str | None = None


class MemorySheet(_NamedGaps, base_classes.Sheet):
    """A worksheet and its cells.

    ``values``: {(row, col): constant}, never holding None (absent = empty).
    ``formulas``: {(row, col): "=..."}; a formula cell's result is ``values`` (usually absent).
    ``styles``: {(row, col): {style key: value}} overriding ``column_styles``, then
    ``DEFAULT_STYLE`` (number_format, bold, italic, font_size, font_color, font_name,
    fill_color, wrap_text, horizontal_alignment, vertical_alignment).
    ``hyperlinks``: {(row, col): Hyperlink}. ``list_objects``: the tables, in creation order.
    """

    def __init__(self, book: MemoryBook, name: str) -> None:
        self._book = book
        self._name = name
        self.values: dict[tuple[int, int], Any] = {}
        self.formulas: dict[tuple[int, int], str] = {}
        self.styles: dict[tuple[int, int], dict[str, Any]] = {}
        self.column_styles: dict[int, dict[str, Any]] = {}
        self.hyperlinks: dict[tuple[int, int], Hyperlink] = {}
        self.column_widths: dict[int, float] = {}
        self.row_heights: dict[int, float] = {}
        self.hidden_rows: set[int] = set()
        self.hidden_columns: set[int] = set()
        self.list_objects: list[MemoryTable] = []
        self._visible = True
        self._show_gridlines = True

    def __repr__(self) -> str:
        return f"<MemorySheet {self._book.name}!{self._name}>"

    # -- xlwings interface ---------------------------------------------------------------------

    @property
    def api(self) -> MemorySheet:
        return self

    @property
    def engine(self) -> MemoryEngine:
        return self._book.engine

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self.check_alive()
        check_sheet_name(value)
        if any(s is not self and s.name.casefold() == value.casefold() for s in self._book._sheets):
            raise ValueError(f"Sheet named {value!r} already present in workbook")
        old = self._name
        self._name = value
        self._book_references_renamed(old, quote_sheet_name(value) + "!")
        self.engine.log("sheet_name", old, value)

    @property
    def names(self) -> MemoryNames:
        return MemoryNames(self._book, scope=self)

    @property
    def book(self) -> MemoryBook:
        return self._book

    @property
    def index(self) -> int:
        return self._book._sheets.index(self) + 1

    def range(self, arg1: Any, arg2: Any = None) -> MemoryRange:
        """Like ``_xlwindows.Sheet.range``: an address, a (row, col) tuple, a
        (row, col, nrows, ncols) tuple, two numbers, or two of these spanning a rectangle."""
        self.check_alive()
        if isinstance(arg1, tuple) and len(arg1) == 4:
            row, col, nrows, ncols = arg1
            return MemoryRange(self, Area(row, col, nrows, ncols))
        if isinstance(arg1, (int, np.integer)) and isinstance(arg2, (int, np.integer)):
            return MemoryRange(self, self._to_areas((int(arg1), int(arg2))))
        first = self._to_areas(arg1)
        if arg2 is None:
            return MemoryRange(self, first)
        second = self._to_areas(arg2)
        return MemoryRange(self, Area.spanning(first[0], second[0]))

    def _to_areas(self, arg: Any) -> list[Area]:
        if isinstance(arg, MemoryRange):
            if arg.sheet is not self:
                raise ValueError("the range is on another sheet")
            return list(arg.areas)
        if isinstance(arg, tuple):
            if len(arg) != 2:
                raise ValueError(f"expected (row, col), got {arg!r}")
            if 0 in arg:
                raise IndexError(
                    "Attempted to access 0-based Range. xlwings/Excel Ranges are 1-based."
                )
            return [Area(int(arg[0]), int(arg[1]), 1, 1)]
        if isinstance(arg, str):
            text = arg.strip()
            prefix = quote_sheet_name(self._name) + "!"
            if text.startswith(prefix):
                text = text[len(prefix) :]
            try:
                return parse_address(text)
            except ValueError:
                named = self._named_range(text)
                if named is None:
                    raise
                return list(named.areas)
        raise TypeError(f"cannot make a range from {arg!r}")

    def _named_range(self, text: str) -> MemoryRange | None:
        for scope in (self, None):
            names = MemoryNames(self._book, scope=scope)
            if names.contains(text):
                rng = names(text).refers_to_range
                if rng.sheet is not self:
                    raise ValueError(f"the name {text!r} refers to another sheet")
                return rng
        return None

    @property
    def cells(self) -> MemoryRange:
        return MemoryRange(self, Area(1, 1, MAX_ROWS, MAX_COLUMNS))

    def activate(self) -> None:
        self.check_alive()
        self._book._active_sheet = self

    def select(self) -> None:
        self.activate()

    def clear_contents(self) -> None:
        self.cells.clear_contents()

    def clear_formats(self) -> None:
        self.cells.clear_formats()

    def clear(self) -> None:
        self.cells.clear()

    def autofit(self, axis: str | None = None) -> None:
        self.used_range.autofit(axis)

    def delete(self) -> None:
        self.check_alive()
        sheets = self._book._sheets
        if not any(s._visible for s in sheets if s is not self):
            raise ValueError("A workbook must contain at least one visible worksheet")
        position = sheets.index(self)
        sheets.remove(self)
        if self._book._active_sheet is self:
            self._book._active_sheet = sheets[min(position, len(sheets) - 1)]
        if self._book._selection is not None and self._book._selection.sheet is self:
            self._book._selection = MemoryRange(self._book._active_sheet, Area(1, 1, 1, 1))
        self._book._names = [n for n in self._book._names if n.scope is not self]
        self._book_references_renamed(self._name, "#REF!")
        self.engine.log("sheet_delete", self._name)

    def move(self, before: MemorySheet | None, after: MemorySheet | None) -> None:
        sheets = self._book._sheets
        sheets.remove(self)
        position = sheets.index(before) if before is not None else sheets.index(after) + 1
        sheets.insert(position, self)
        self.engine.log("sheet_move", self._name, position + 1)

    @property
    def tables(self) -> MemoryTables:
        return MemoryTables(self)

    @property
    def used_range(self) -> MemoryRange:
        keys = [*self.values, *self.formulas, *self.styles, *self.hyperlinks]
        if not keys:
            return MemoryRange(self, Area(1, 1, 1, 1))
        rows = [r for r, _ in keys]
        cols = [c for _, c in keys]
        first_row, first_col = min(rows), min(cols)
        return MemoryRange(
            self,
            Area(first_row, first_col, max(rows) - first_row + 1, max(cols) - first_col + 1),
        )

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        if not value and not any(s._visible for s in self._book._sheets if s is not self):
            raise ValueError("A workbook must contain at least one visible worksheet")
        self._visible = bool(value)

    @property
    def show_gridlines(self) -> bool:
        return self._show_gridlines

    @show_gridlines.setter
    def show_gridlines(self, value: bool) -> None:
        self._show_gridlines = bool(value)

    # -- model ---------------------------------------------------------------------------------

    def check_alive(self) -> None:
        if self not in self._book._sheets or self._book._closed:
            raise RuntimeError(f"sheet {self._name!r} was deleted or its book closed")

    def _book_references_renamed(self, old_name: str, replacement: str) -> None:
        """Keep defined names pointing at this sheet (rename) or break them (delete: #REF!)."""
        quoted = re.escape(old_name.replace("'", "''"))
        pattern = re.compile(rf"'{quoted}'!|(?<![\w.'!]){re.escape(old_name)}!", re.IGNORECASE)
        for name in self._book._names:
            name._refers_to = pattern.sub(lambda _: replacement, name._refers_to)

    def ref(self, areas: Iterable[Area]) -> str:
        """``Sheet!A1:C4`` (relative, multi-area joined by commas) for the call log."""
        addresses = ",".join(area_address(a, row_absolute=False, col_absolute=False) for a in areas)
        return f"{quote_sheet_name(self._name)}!{addresses}"

    def has_content(self, row: int, col: int) -> bool:
        return (row, col) in self.values or (row, col) in self.formulas

    def content_keys(self, area: Area) -> list[tuple[int, int]]:
        """Cells of the area holding a value or formula, row by row."""
        if area.size <= _CELL_BY_CELL_LIMIT:
            return [key for key in area.cells() if self.has_content(*key)]
        keys = {k for k in itertools.chain(self.values, self.formulas) if area.contains(*k)}
        return sorted(keys)

    def style(self, row: int, col: int, key: str) -> Any:
        cell = self.styles.get((row, col))
        if cell is not None and key in cell:
            return cell[key]
        return self.column_styles.get(col, {}).get(key, DEFAULT_STYLE[key])

    def style_values(self, area: Area, key: str) -> set[Any]:
        """The distinct values of one style key over an area (whole columns included)."""
        if area.size <= _CELL_BY_CELL_LIMIT:
            return {self.style(r, c, key) for r, c in area.cells()}
        found: set[Any] = set()
        per_column: Counter[int] = Counter()
        for (r, c), cell in self.styles.items():
            if key in cell and area.contains(r, c):
                found.add(cell[key])
                per_column[c] += 1
        for c in range(area.col, area.last_col + 1):
            if per_column[c] < area.nrows:
                found.add(self.column_styles.get(c, {}).get(key, DEFAULT_STYLE[key]))
        return found

    def set_style(self, area: Area, key: str, value: Any) -> None:
        if area.size <= _CELL_BY_CELL_LIMIT:
            for cell in area.cells():
                self.styles.setdefault(cell, {})[key] = value
            return
        if area.row != 1 or area.nrows != MAX_ROWS:
            raise NotImplementedError(
                "MemoryRange: formatting huge ranges is supported for whole columns only"
            )
        for c in range(area.col, area.last_col + 1):  # Excel formats the column itself
            self.column_styles.setdefault(c, {})[key] = value
        for (_, c), cell in self.styles.items():
            if area.col <= c <= area.last_col:
                cell.pop(key, None)

    def presented(self, row: int, col: int) -> Any:
        """The value COM's ``Range.Value`` returns: a date only in a date-formatted cell."""
        value = self.values.get((row, col))
        if isinstance(value, (dt.datetime, float)) and not isinstance(value, bool):
            date_format = is_date_format(self.style(row, col, "number_format"))
            if isinstance(value, dt.datetime) and not date_format:
                return to_serial(value)
            if isinstance(value, float) and date_format and 0 <= value < 2_958_466:
                return from_serial(value)
        return value

    def text(self, row: int, col: int) -> str:
        return display_text(self.presented(row, col), self.style(row, col, "number_format"))

    def store(self, row: int, col: int, value: Any, *, as_formula: bool = False) -> None:
        """One cell written the way ``Range.Value = value`` (or ``Range.Formula``, with
        ``as_formula``) writes it in Excel."""
        key = (row, col)
        value = normalize_cell_value(value)
        number_format = self.style(row, col, "number_format")
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise ValueError(f"Excel cells hold at most {MAX_TEXT} characters")
            if self.engine.parse_text:
                entry = parse_text_entry(value, number_format)
            elif as_formula and value.startswith("=") and number_format != "@":
                entry = Entry(formula=value)
            else:
                entry = Entry(value)
        elif isinstance(value, dt.datetime):
            time_part = value.time() != dt.time(0)
            entry = Entry(value, number_format="m/d/yyyy h:mm" if time_part else "m/d/yyyy")
        else:
            entry = Entry(value)
        self.values.pop(key, None)
        self.formulas.pop(key, None)
        if entry.formula is not None:
            self.formulas[key] = entry.formula
        elif entry.value is not None:
            self.values[key] = entry.value
        if entry.number_format and number_format == "General":
            self.styles.setdefault(key, {})["number_format"] = entry.number_format

    def write(
        self,
        area: Area,
        rows: list[list[Any]] | None,
        scalar: Any = None,
        *,
        as_formula: bool = False,
    ) -> None:
        """Write a matrix (or fill with a scalar when ``rows`` is None), then fix up tables."""
        self.check_alive()
        if rows is None and normalize_cell_value(scalar) is None:
            self.clear_area(area, contents=True, formats=False, links=False)
            return
        if rows is None:
            if area.size > _CELL_BY_CELL_LIMIT:
                raise NotImplementedError("MemoryRange: filling huge ranges is not supported")
            for r, c in area.cells():
                self.store(r, c, scalar, as_formula=as_formula)
        else:
            for r, row in enumerate(rows, start=area.row):
                for c, value in enumerate(row, start=area.col):
                    self.store(r, c, value, as_formula=as_formula)
        self.tables_changed(area)

    def clear_area(self, area: Area, *, contents: bool, formats: bool, links: bool) -> None:
        self.check_alive()
        if contents:
            for key in self.content_keys(area):
                self.values.pop(key, None)
                self.formulas.pop(key, None)
        if formats:
            for key in [k for k in self.styles if area.contains(*k)]:
                del self.styles[key]
            if area.row == 1 and area.nrows == MAX_ROWS:
                for c in range(area.col, area.last_col + 1):
                    self.column_styles.pop(c, None)
        if links:
            for key in [k for k in self.hyperlinks if area.contains(*k)]:
                del self.hyperlinks[key]
        if contents:
            self.tables_changed(area)

    def tables_changed(self, area: Area) -> None:
        """Excel keeps table headers non-empty and unique whatever is written over them."""
        for table in self.list_objects:
            header = table.header_area
            if header.intersects(area):
                first = max(area.col, header.col)
                last = min(area.last_col, header.last_col)
                table.normalize_headers(range(first, last + 1))

    def table_at(self, row: int, col: int) -> MemoryTable | None:
        for table in self.list_objects:
            if table.area.contains(row, col):
                return table
        return None


# ---------------------------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------------------------


def _as_matrix(data: Any) -> list[list[Any]] | None:
    """COM's view of assigned data: a 2-D list/tuple, a 1-D one as one row, else a scalar."""
    if isinstance(data, (list, tuple)):
        if data and isinstance(data[0], (list, tuple)):
            return [list(row) for row in data]
        return [list(data)]
    return None


_DIRECTIONS = {
    "d": (1, 0), "down": (1, 0), "u": (-1, 0), "up": (-1, 0),
    "l": (0, -1), "left": (0, -1), "r": (0, 1), "right": (0, 1),
}  # fmt: skip


class MemoryRange(_NamedGaps, base_classes.Range):
    """A view on one or more areas of a sheet (the first area is the one most members use, as
    in Excel). Zero-sized areas (xlwings slices past the end) behave like the Windows engine:
    empty, and writes do nothing."""

    def __init__(self, sheet: MemorySheet, areas: Area | Iterable[Area]) -> None:
        self._sheet = sheet
        self._areas = [areas] if isinstance(areas, Area) else list(areas)
        if not self._areas:
            raise ValueError("a range needs at least one area")
        for area in self._areas:
            if area.size:
                _check_in_sheet(area)
        self.options: dict[str, Any] = {}  # main.Range stores its options here

    def __repr__(self) -> str:
        return f"<MemoryRange {self._sheet.ref(self._areas)}>"

    # -- geometry ------------------------------------------------------------------------------

    @property
    def area(self) -> Area:
        return self._areas[0]

    @property
    def areas(self) -> tuple[Area, ...]:
        return tuple(self._areas)

    @property
    def api(self) -> MemoryRange:
        return self  # truthy unless empty, like COM's Range or None

    @property
    def coords(self) -> tuple[MemorySheet, int, int, int, int]:
        return (self._sheet, *self.area)

    @property
    def sheet(self) -> MemorySheet:
        return self._sheet

    @property
    def engine(self) -> MemoryEngine:
        return self._sheet.engine

    def __len__(self) -> int:
        return sum(area.size for area in self._areas)

    @property
    def row(self) -> int:
        return self.area.row

    @property
    def column(self) -> int:
        return self.area.col

    @property
    def shape(self) -> tuple[int, int]:
        return self.area.nrows, self.area.ncols

    def __call__(self, *args: int) -> MemoryRange:
        """``rng(i)``: i-th cell row by row; ``rng(r, c)``: relative to the top left cell (may
        lie outside the range, as in Excel)."""
        area = self.area
        if len(args) == 1:
            if area.ncols == 0:
                raise IndexError("empty range")
            offset_row, offset_col = divmod(args[0] - 1, area.ncols)
        elif len(args) == 2:
            offset_row, offset_col = args[0] - 1, args[1] - 1
        else:
            raise ValueError("Invalid arguments")
        return MemoryRange(self._sheet, Area(area.row + offset_row, area.col + offset_col, 1, 1))

    @property
    def rows(self) -> MemoryRange:
        return MemoryRange(self._sheet, self._areas)

    @property
    def columns(self) -> MemoryRange:
        return MemoryRange(self._sheet, self._areas)

    @property
    def address(self) -> str:
        return ",".join(area_address(a) for a in self._areas)

    def get_address(self, row_absolute: bool, col_absolute: bool, external: bool) -> str:
        address = ",".join(
            area_address(a, row_absolute=row_absolute, col_absolute=col_absolute)
            for a in self._areas
        )
        if not external:
            return address
        book, sheet = self._sheet.book.name, self._sheet.name
        prefix = f"[{book}]{sheet}"
        if quote_sheet_name(sheet) != sheet or quote_sheet_name(book) != book:
            prefix = "'" + prefix.replace("'", "''") + "'"
        return f"{prefix}!{address}"

    def end(self, direction: str) -> MemoryRange:
        """Ctrl+arrow: to the edge of the block of filled cells, or to the next filled cell."""
        try:
            d_row, d_col = _DIRECTIONS[direction]
        except KeyError:
            raise ValueError(f"invalid direction {direction!r}") from None
        sheet = self._sheet
        row, col = self.row, self.column
        filled = list(itertools.chain(sheet.values, sheet.formulas))
        if d_row:
            position, step, limit = row, d_row, MAX_ROWS if d_row > 0 else 1
            line = {r for r, c in filled if c == col}
        else:
            position, step, limit = col, d_col, MAX_COLUMNS if d_col > 0 else 1
            line = {c for r, c in filled if r == row}
        if position in line and position + step in line:
            while position + step in line:
                position += step
        else:
            ahead = [p for p in line if (p - position) * step > 0]
            position = min(ahead, key=lambda p: abs(p - position)) if ahead else limit
        if d_row:
            return MemoryRange(sheet, Area(position, col, 1, 1))
        return MemoryRange(sheet, Area(row, position, 1, 1))

    @property
    def current_region(self) -> MemoryRange:
        """The block around the range bounded by empty rows and columns."""
        sheet = self._sheet
        area = self.area
        top, left, bottom, right = area.row, area.col, area.last_row, area.last_col
        while True:
            grown = (top, left, bottom, right)
            lo_c, hi_c = max(1, left - 1), min(MAX_COLUMNS, right + 1)
            lo_r, hi_r = max(1, top - 1), min(MAX_ROWS, bottom + 1)
            if top > 1 and any(sheet.has_content(top - 1, c) for c in range(lo_c, hi_c + 1)):
                top -= 1
            if bottom < MAX_ROWS and any(
                sheet.has_content(bottom + 1, c) for c in range(lo_c, hi_c + 1)
            ):
                bottom += 1
            if left > 1 and any(sheet.has_content(r, left - 1) for r in range(lo_r, hi_r + 1)):
                left -= 1
            if right < MAX_COLUMNS and any(
                sheet.has_content(r, right + 1) for r in range(lo_r, hi_r + 1)
            ):
                right += 1
            if (top, left, bottom, right) == grown:
                return MemoryRange(sheet, Area(top, left, bottom - top + 1, right - left + 1))

    def select(self) -> None:
        self._sheet.activate()
        self._sheet.book._selection = self

    # -- values and formulas -------------------------------------------------------------------

    @property
    def raw_value(self) -> Any:
        """Like COM: a scalar for one cell, else a tuple of row tuples (first area only)."""
        area = self.area
        if area.size == 0:
            return None
        if area.size > MAX_READ_CELLS:
            raise ValueError(f"refusing to read {area.size} cells at once")
        sheet = self._sheet
        rows = tuple(
            tuple(sheet.presented(r, c) for c in range(area.col, area.last_col + 1))
            for r in range(area.row, area.last_row + 1)
        )
        return rows[0][0] if area.size == 1 else rows

    @raw_value.setter
    def raw_value(self, data: Any) -> None:
        self._write("value", data)

    def _write(self, operation: str, data: Any) -> None:
        if len(self) == 0:
            return
        rows = _as_matrix(data)
        if rows is not None:
            if len(self._areas) > 1:
                raise NotImplementedError("MemoryRange: writing an array to several areas")
            if (len(rows), len(rows[0]) if rows else 0) != self.shape:
                raise ValueError(
                    f"{len(rows)}x{len(rows[0]) if rows else 0} values do not fit the "
                    f"{self.shape[0]}x{self.shape[1]} range {self.address} (Excel would pad "
                    "with #N/A or cut; the in-memory engine refuses)"
                )
        self.engine.log(operation, self._sheet.ref(self._areas))
        for area in self._areas:
            self._sheet.write(area, rows, data, as_formula=operation != "value")

    @property
    def formula(self) -> str | tuple[tuple[str, ...], ...] | None:
        area = self.area
        if area.size == 0:
            return None
        sheet = self._sheet
        rows = tuple(
            tuple(
                sheet.formulas.get((r, c)) or _formula_bar_text(sheet.presented(r, c))
                for c in range(area.col, area.last_col + 1)
            )
            for r in range(area.row, area.last_row + 1)
        )
        return rows[0][0] if area.size == 1 else rows

    @formula.setter
    def formula(self, value: Any) -> None:
        self._write("formula", value)

    @property
    def formula2(self) -> str | tuple[tuple[str, ...], ...] | None:
        return self.formula

    @formula2.setter
    def formula2(self, value: Any) -> None:
        self._write("formula2", value)

    @property
    def has_array(self) -> bool:
        return False

    def clear_contents(self) -> None:
        self._clear("clear_contents", contents=True, formats=False, links=False)

    def clear_formats(self) -> None:
        self._clear("clear_formats", contents=False, formats=True, links=False)

    def clear(self) -> None:
        for area in self._areas:
            for table in self._sheet.list_objects:
                if area.covers(table.area):
                    raise NotImplementedError(
                        f"MemoryRange.clear over the whole table {table.name!r}: whether Excel "
                        "deletes the table is not modelled; clear_contents() keeps it"
                    )
        self._clear("clear", contents=True, formats=True, links=True)

    def _clear(self, operation: str, *, contents: bool, formats: bool, links: bool) -> None:
        if len(self) == 0:
            return
        self.engine.log(operation, self._sheet.ref(self._areas))
        for area in self._areas:
            self._sheet.clear_area(area, contents=contents, formats=formats, links=links)

    # -- hyperlinks ----------------------------------------------------------------------------

    @property
    def hyperlink(self) -> str:
        sheet = self._sheet
        for key in self.area.cells():
            if key in sheet.hyperlinks:
                return sheet.hyperlinks[key].address
        raise Exception("The cell doesn't seem to contain a hyperlink!")  # as the Windows engine

    def add_hyperlink(
        self, address: str, text_to_display: str | None = None, screen_tip: str | None = None
    ) -> None:
        """Sets the link and shows ``text_to_display`` (stored as text, not parsed)."""
        text = address if text_to_display is None else str(text_to_display)
        self.engine.log("add_hyperlink", self._sheet.ref([self.area]), address)
        sheet = self._sheet
        for key in self.area.cells():
            sheet.values[key] = text
            sheet.formulas.pop(key, None)
            sheet.hyperlinks[key] = Hyperlink(address, text, screen_tip)
        sheet.tables_changed(self.area)

    # -- formatting ----------------------------------------------------------------------------

    def style_value(self, key: str) -> Any:
        """The style value when all cells agree, else None (Excel returns Null)."""
        values: set[Any] = set()
        for area in self._areas:
            values |= self._sheet.style_values(area, key)
        return values.pop() if len(values) == 1 else None

    def set_style(self, key: str, value: Any, operation: str) -> None:
        if len(self) == 0:
            return
        self.engine.log(operation, self._sheet.ref(self._areas), value)
        for area in self._areas:
            self._sheet.set_style(area, key, value)

    @property
    def number_format(self) -> str | None:
        if len(self) == 0:
            return ""
        return self.style_value("number_format")

    @number_format.setter
    def number_format(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("number_format must be a string")
        self.set_style("number_format", value, "number_format")

    @property
    def font(self) -> MemoryFont:
        return MemoryFont(self)

    @property
    def color(self) -> tuple[int, int, int] | None:
        return self.style_value("fill_color")

    @color.setter
    def color(self, color_or_rgb: Any) -> None:
        self.set_style("fill_color", _rgb(color_or_rgb), "color")

    @property
    def wrap_text(self) -> bool | None:
        return self.style_value("wrap_text")

    @wrap_text.setter
    def wrap_text(self, value: bool) -> None:
        self.set_style("wrap_text", bool(value), "wrap_text")

    @property
    def horizontal_alignment(self) -> str | None:
        return self.style_value("horizontal_alignment")

    @horizontal_alignment.setter
    def horizontal_alignment(self, value: str) -> None:
        self.set_style("horizontal_alignment", value, "horizontal_alignment")

    @property
    def vertical_alignment(self) -> str | None:
        return self.style_value("vertical_alignment")

    @vertical_alignment.setter
    def vertical_alignment(self, value: str) -> None:
        self.set_style("vertical_alignment", value, "vertical_alignment")

    @property
    def merge_cells(self) -> bool:
        return False

    @property
    def merge_area(self) -> MemoryRange:
        return self

    # -- columns and rows ----------------------------------------------------------------------

    def _columns(self) -> list[int]:
        return sorted({c for a in self._areas for c in range(a.col, a.last_col + 1)})

    def _rows(self) -> list[int]:
        return sorted({r for a in self._areas for r in range(a.row, a.last_row + 1)})

    @property
    def column_width(self) -> float | None:
        if len(self) == 0:
            return 0
        widths = {self._sheet.column_widths.get(c, DEFAULT_COLUMN_WIDTH) for c in self._columns()}
        return widths.pop() if len(widths) == 1 else None

    @column_width.setter
    def column_width(self, value: float) -> None:
        if not 0 <= value <= MAX_COLUMN_WIDTH:
            raise ValueError(f"column width must be between 0 and {MAX_COLUMN_WIDTH}")
        self.engine.log("column_width", self._sheet.ref(self._areas), value)
        for c in self._columns():
            self._sheet.column_widths[c] = float(value)

    @property
    def row_height(self) -> float | None:
        if len(self) == 0:
            return 0
        heights = {self._sheet.row_heights.get(r, DEFAULT_ROW_HEIGHT) for r in self._rows()}
        return heights.pop() if len(heights) == 1 else None

    @row_height.setter
    def row_height(self, value: float) -> None:
        if not 0 <= value <= MAX_ROW_HEIGHT:
            raise ValueError(f"row height must be between 0 and {MAX_ROW_HEIGHT}")
        self.engine.log("row_height", self._sheet.ref(self._areas), value)
        for r in self._rows():
            self._sheet.row_heights[r] = float(value)

    def _column_points(self, col: int) -> float:
        if col in self._sheet.hidden_columns:
            return 0.0
        width = self._sheet.column_widths.get(col, DEFAULT_COLUMN_WIDTH)
        return (width * 7 + 5) * 0.75 if width else 0.0  # Calibri 11: 7 px per character

    def _row_points(self, row: int) -> float:
        if row in self._sheet.hidden_rows:
            return 0.0
        return self._sheet.row_heights.get(row, DEFAULT_ROW_HEIGHT)

    @property
    def width(self) -> float:
        area = self.area
        return sum(self._column_points(c) for c in range(area.col, area.last_col + 1))

    @property
    def height(self) -> float:
        area = self.area
        return sum(self._row_points(r) for r in range(area.row, area.last_row + 1))

    @property
    def left(self) -> float:
        return sum(self._column_points(c) for c in range(1, self.column))

    @property
    def top(self) -> float:
        sheet = self._sheet
        custom = {r for r in sheet.row_heights.keys() | sheet.hidden_rows if r < self.row}
        standard_rows = self.row - 1 - len(custom)
        return standard_rows * DEFAULT_ROW_HEIGHT + sum(self._row_points(r) for r in custom)

    @property
    def row_hidden(self) -> bool | None:
        hidden = {r in self._sheet.hidden_rows for r in self._rows()}
        return hidden.pop() if len(hidden) == 1 else None

    @row_hidden.setter
    def row_hidden(self, value: bool) -> None:
        self.engine.log("row_hidden", self._sheet.ref(self._areas), value)
        rows = set(self._rows())
        self._sheet.hidden_rows = (
            self._sheet.hidden_rows | rows if value else self._sheet.hidden_rows - rows
        )

    @property
    def column_hidden(self) -> bool | None:
        hidden = {c in self._sheet.hidden_columns for c in self._columns()}
        return hidden.pop() if len(hidden) == 1 else None

    @column_hidden.setter
    def column_hidden(self, value: bool) -> None:
        self.engine.log("column_hidden", self._sheet.ref(self._areas), value)
        columns = set(self._columns())
        self._sheet.hidden_columns = (
            self._sheet.hidden_columns | columns if value else self._sheet.hidden_columns - columns
        )

    def autofit(self, axis: str | None = None) -> None:
        """Deterministic stand-in for Excel's AutoFit, looking at the cells of this range only.

        Columns: width = characters in the longest displayed line + 1 (max 255); a column with
        nothing to show gets the standard width. Rows: 15 points per line of text, counting
        line breaks only in cells with wrap_text.
        """
        if axis not in (None, "columns", "c", "rows", "r"):
            raise ValueError(f"invalid axis {axis!r}")
        if len(self) == 0:
            return
        sheet = self._sheet
        self.engine.log("autofit", sheet.ref(self._areas), axis or "both")
        keys = [key for area in self._areas for key in sheet.content_keys(area)]
        if axis in (None, "columns", "c"):
            longest: Counter[int] = Counter()
            for r, c in keys:
                lines = sheet.text(r, c).split("\n")
                longest[c] = max(longest[c], max(len(line) for line in lines))
            in_range = {c for c in sheet.column_widths if self._has_column(c)}
            for c in in_range | set(longest):
                if longest[c]:
                    sheet.column_widths[c] = min(MAX_COLUMN_WIDTH, longest[c] + 1.0)
                else:
                    sheet.column_widths.pop(c, None)  # nothing to show: standard width
        if axis in (None, "rows", "r"):
            lines_per_row: Counter[int] = Counter()
            for r, c in keys:
                wrapped = sheet.style(r, c, "wrap_text")
                lines = sheet.text(r, c).count("\n") + 1 if wrapped else 1
                lines_per_row[r] = max(lines_per_row[r], lines)
            in_range = {r for r in sheet.row_heights if self._has_row(r)}
            for r in in_range | set(lines_per_row):
                if lines_per_row[r] > 1:
                    sheet.row_heights[r] = DEFAULT_ROW_HEIGHT * lines_per_row[r]
                else:
                    sheet.row_heights.pop(r, None)

    def _has_column(self, col: int) -> bool:
        return any(a.col <= col <= a.last_col for a in self._areas)

    def _has_row(self, row: int) -> bool:
        return any(a.row <= row <= a.last_row for a in self._areas)

    # -- names and tables ----------------------------------------------------------------------

    @property
    def name(self) -> MemoryName | None:
        reference = f"={quote_sheet_name(self._sheet.name)}!{self.address}".casefold()
        for name in self._sheet.book._names:
            if name.refers_to.replace(" ", "").casefold() == reference:
                return name
        return None

    @name.setter
    def name(self, value: str) -> None:
        reference = f"={quote_sheet_name(self._sheet.name)}!{self.address}"
        MemoryNames(self._sheet.book, scope=None).add(value, reference)

    @property
    def table(self) -> MemoryTable | None:
        return self._sheet.table_at(self.row, self.column)


def _rgb(color: Any) -> tuple[int, int, int] | None:
    if color is None:
        return None
    if isinstance(color, str):
        return hex_to_rgb(color)  # type: ignore[return-value]
    if isinstance(color, int):
        return int_to_rgb(color)
    red, green, blue = color
    return int(red), int(green), int(blue)


class MemoryFont(_NamedGaps, base_classes.Font):
    """A range's font, stored in the cell styles (font_*, bold, italic)."""

    def __init__(self, rng: MemoryRange) -> None:
        self._range = rng

    @property
    def api(self) -> MemoryFont:
        return self

    @property
    def bold(self) -> bool | None:
        return self._range.style_value("bold")

    @bold.setter
    def bold(self, value: bool) -> None:
        self._range.set_style("bold", bool(value), "font.bold")

    @property
    def italic(self) -> bool | None:
        return self._range.style_value("italic")

    @italic.setter
    def italic(self, value: bool) -> None:
        self._range.set_style("italic", bool(value), "font.italic")

    @property
    def size(self) -> float | None:
        return self._range.style_value("font_size")

    @size.setter
    def size(self, value: float) -> None:
        self._range.set_style("font_size", float(value), "font.size")

    @property
    def color(self) -> tuple[int, int, int] | None:
        return self._range.style_value("font_color")

    @color.setter
    def color(self, color_or_rgb: Any) -> None:
        self._range.set_style("font_color", _rgb(color_or_rgb), "font.color")

    @property
    def name(self) -> str | None:
        return self._range.style_value("font_name")

    @name.setter
    def name(self, value: str) -> None:
        self._range.set_style("font_name", value, "font.name")


# ---------------------------------------------------------------------------------------------
# Defined names
# ---------------------------------------------------------------------------------------------


class MemoryName(_NamedGaps, base_classes.Name):
    """A defined name; ``scope`` is None for workbook-level names, else the sheet."""

    def __init__(
        self, book: MemoryBook, local_name: str, refers_to: str, scope: MemorySheet | None
    ) -> None:
        self._book = book
        self.local_name = local_name
        self._refers_to = refers_to
        self.scope = scope

    def __repr__(self) -> str:
        return f"<MemoryName {self.name!r} {self._refers_to!r}>"

    @property
    def api(self) -> MemoryName:
        return self

    @property
    def name(self) -> str:
        """``X``, or ``Sheet1!X`` for a sheet-level name (as Excel's Name.Name)."""
        if self.scope is None:
            return self.local_name
        return f"{quote_sheet_name(self.scope.name)}!{self.local_name}"

    @name.setter
    def name(self, value: str) -> None:
        check_defined_name(value)
        if self.scope is None and self._book.name_in_use(value, ignore=self):
            raise ValueError(f"the name {value!r} is already in use in this workbook")
        self.local_name = value

    @property
    def refers_to(self) -> str:
        return self._refers_to

    @refers_to.setter
    def refers_to(self, value: str) -> None:
        self._refers_to = _normalize_refers_to(value)
        self._book.engine.log("name_refers_to", self.name, self._refers_to)

    @property
    def refers_to_range(self) -> MemoryRange:
        return self._book.resolve_reference(self._refers_to)

    def delete(self) -> None:
        if self in self._book._names:
            self._book._names.remove(self)
            self._book.engine.log("name_delete", self.name)


def _normalize_refers_to(refers_to: Any) -> str:
    if isinstance(refers_to, xw.Range):
        return "=" + refers_to.get_address(include_sheetname=True)
    if not isinstance(refers_to, str):
        raise TypeError("refers_to must be a string such as '=Sheet1!$A$1' or '=TRUE'")
    if refers_to.startswith("="):
        return refers_to
    return '="' + refers_to.replace('"', '""') + '"'  # Excel stores text as a text constant


class MemoryNames(_NamedGaps, base_classes.Names):
    """``book.names`` (all names, as Excel lists them: alphabetically) or ``sheet.names``."""

    def __init__(self, book: MemoryBook, scope: MemorySheet | None) -> None:
        self._book = book
        self._scope = scope

    @property
    def api(self) -> MemoryNames:
        return self

    def _items(self) -> list[MemoryName]:
        names = [n for n in self._book._names if self._scope is None or n.scope is self._scope]
        return sorted(names, key=lambda n: n.name.casefold())

    def _find(self, key: str) -> MemoryName | None:
        folded = key.casefold()
        for name in self._items():
            if name.name.casefold() == folded or (
                (self._scope is not None or name.scope is None)
                and name.local_name.casefold() == folded
            ):
                return name
        return None

    def __call__(self, name_or_index: int | str) -> MemoryName:
        if isinstance(name_or_index, int):
            items = self._items()
            if not 1 <= name_or_index <= len(items):
                raise IndexError(name_or_index)
            return items[name_or_index - 1]
        found = self._find(name_or_index)
        if found is None:
            raise KeyError(name_or_index)
        return found

    def snapshot(self) -> list[tuple[str, MemoryName]]:
        return [(name.name, name) for name in self._items()]

    def contains(self, name_or_index: int | str) -> bool:
        if isinstance(name_or_index, int):
            return 1 <= name_or_index <= len(self)
        return self._find(name_or_index) is not None

    def __len__(self) -> int:
        return len(self._items())

    def __iter__(self) -> Iterator[MemoryName]:
        return iter(self._items())

    def add(self, name: str, refers_to: Any) -> MemoryName:
        """Adds, or redefines an existing name (Excel replaces it silently)."""
        scope = self._scope
        if self._scope is None and "!" in name:
            sheet_part, name = name.rsplit("!", 1)
            scope = self._book.sheets(sheet_part.strip("'").replace("''", "'"))
        check_defined_name(name)
        refers_to = _normalize_refers_to(refers_to)
        for existing in self._book._names:
            if existing.scope is scope and existing.local_name.casefold() == name.casefold():
                existing._refers_to = refers_to
                self._book.engine.log("name_add", existing.name, refers_to)
                return existing
        tables = self._book.all_tables()
        if scope is None and any(t.name.casefold() == name.casefold() for t in tables):
            raise ValueError(f"the name {name!r} is already used by a table")
        created = MemoryName(self._book, name, refers_to, scope)
        self._book._names.append(created)
        self._book.engine.log("name_add", created.name, refers_to)
        return created


# ---------------------------------------------------------------------------------------------
# Tables (ListObjects)
# ---------------------------------------------------------------------------------------------


class MemoryTable(_NamedGaps, base_classes.Table):
    """A ListObject: a rectangle with a header row (always shown here) and >= 1 body row."""

    def __init__(self, sheet: MemorySheet, name: str, area: Area, style: str) -> None:
        self._sheet = sheet
        self._name = name
        self.area = area
        self._style = style
        self._show_autofilter = True
        self._show_row_stripes = True
        self._show_column_stripes = False
        self._show_first_column = False
        self._show_last_column = False

    def __repr__(self) -> str:
        return f"<MemoryTable {self._name!r} {self._sheet.ref([self.area])}>"

    @property
    def header_area(self) -> Area:
        return Area(self.area.row, self.area.col, 1, self.area.ncols)

    @property
    def body_area(self) -> Area:
        area = self.area
        return Area(area.row + 1, area.col, area.nrows - 1, area.ncols)

    @property
    def engine(self) -> MemoryEngine:
        return self._sheet.engine

    def header_names(self) -> list[str]:
        return [self._sheet.values.get((self.area.row, c), "") for c in self._columns()]

    def _columns(self) -> range:
        return range(self.area.col, self.area.last_col + 1)

    def normalize_headers(self, columns: Iterable[int] | None = None) -> None:
        """What Excel does to header cells: empty -> ColumnN, other values -> their text,
        duplicates (ignoring case) -> Name2, Name3..."""
        sheet, row = self._sheet, self.area.row
        changed = sorted(set(self._columns() if columns is None else columns))
        taken = {sheet.text(row, c).casefold() for c in self._columns() if c not in changed}
        for c in changed:
            text = sheet.formulas.get((row, c)) or sheet.text(row, c)
            if text == "":
                number = c - self.area.col + 1
                while f"column{number}" in taken:
                    number += 1
                text = f"Column{number}"
            candidate, suffix = text, 2
            while candidate.casefold() in taken:
                candidate = f"{text}{suffix}"
                suffix += 1
            taken.add(candidate.casefold())
            sheet.formulas.pop((row, c), None)
            sheet.values[(row, c)] = candidate

    # -- xlwings interface ---------------------------------------------------------------------

    @property
    def api(self) -> MemoryTable:
        return self

    @property
    def parent(self) -> MemorySheet:
        return self._sheet

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        check_defined_name(value)
        if self._sheet.book.name_in_use(value, ignore=self):
            raise ValueError(f"the name {value!r} is already in use in this workbook")
        self.engine.log("table_name", self._name, value)
        self._name = value

    @property
    def display_name(self) -> str:
        return self._name

    @display_name.setter
    def display_name(self, value: str) -> None:
        self.name = value

    @property
    def range(self) -> MemoryRange:
        return MemoryRange(self._sheet, self.area)

    @property
    def header_row_range(self) -> MemoryRange:
        return MemoryRange(self._sheet, self.header_area)

    @property
    def data_body_range(self) -> MemoryRange:
        return MemoryRange(self._sheet, self.body_area)

    @property
    def insert_row_range(self) -> None:
        return None

    @property
    def totals_row_range(self) -> None:
        return None

    @property
    def show_headers(self) -> bool:
        return True

    @show_headers.setter
    def show_headers(self, value: bool) -> None:
        if not value:
            raise NotImplementedError("MemoryTable.show_headers = False is not supported")

    @property
    def show_totals(self) -> bool:
        return False

    @show_totals.setter
    def show_totals(self, value: bool) -> None:
        if value:
            raise NotImplementedError("MemoryTable.show_totals = True is not supported")

    @property
    def show_autofilter(self) -> bool:
        return self._show_autofilter

    @show_autofilter.setter
    def show_autofilter(self, value: bool) -> None:
        self.engine.log("table_show_autofilter", self._name, bool(value))
        self._show_autofilter = bool(value)

    @property
    def show_table_style_row_stripes(self) -> bool:
        return self._show_row_stripes

    @show_table_style_row_stripes.setter
    def show_table_style_row_stripes(self, value: bool) -> None:
        self._show_row_stripes = bool(value)

    @property
    def show_table_style_column_stripes(self) -> bool:
        return self._show_column_stripes

    @show_table_style_column_stripes.setter
    def show_table_style_column_stripes(self, value: bool) -> None:
        self._show_column_stripes = bool(value)

    @property
    def show_table_style_first_column(self) -> bool:
        return self._show_first_column

    @show_table_style_first_column.setter
    def show_table_style_first_column(self, value: bool) -> None:
        self._show_first_column = bool(value)

    @property
    def show_table_style_last_column(self) -> bool:
        return self._show_last_column

    @show_table_style_last_column.setter
    def show_table_style_last_column(self, value: bool) -> None:
        self._show_last_column = bool(value)

    @property
    def table_style(self) -> str:
        return self._style

    @table_style.setter
    def table_style(self, value: str) -> None:
        value = "" if value is None else value
        if not self._sheet.book.table_style_exists(value):
            raise ValueError(f"unknown table style {value!r}")
        self.engine.log("table_style", self._name, value)
        self._style = value

    def resize(self, new_range: Any) -> None:
        """Excel's rules: the header stays in its row, the new range overlaps the old one, keeps
        a body row and overlaps no other table. New header cells get names."""
        target = new_range.impl if isinstance(new_range, xw.Range) else new_range
        if not isinstance(target, MemoryRange) or target.sheet is not self._sheet:
            raise ValueError("a table can only be resized to a range on its own sheet")
        new = target.area
        if new.row != self.area.row:
            raise ValueError("The header must remain in the same row")
        if not new.intersects(self.area):
            raise ValueError("The new table range must overlap the old one")
        if new.nrows < 2:
            raise ValueError("A table needs a header row and at least one body row")
        _check_no_overlap(self._sheet, new, ignore=self)
        added = [c for c in range(new.col, new.last_col + 1) if c not in self._columns()]
        self.area = new
        self.engine.log("table_resize", self._name, self._sheet.ref([new]))
        if added:
            self.normalize_headers(added)

    @property
    def columns(self) -> MemoryTableColumns:
        return MemoryTableColumns(self)

    @property
    def rows(self) -> MemoryTableRows:
        return MemoryTableRows(self)


def _check_no_overlap(sheet: MemorySheet, area: Area, *, ignore: MemoryTable | None) -> None:
    for other in sheet.list_objects:
        if other is not ignore and other.area.intersects(area):
            raise ValueError(f"A table cannot overlap another table ({other.name!r})")


class MemoryTables(_NamedGaps, base_classes.Tables):
    def __init__(self, sheet: MemorySheet) -> None:
        self._sheet = sheet

    @property
    def api(self) -> MemoryTables:
        return self

    @property
    def parent(self) -> MemorySheet:
        return self._sheet

    def __call__(self, key: int | str) -> MemoryTable:
        tables = self._sheet.list_objects
        if isinstance(key, int):
            if not 1 <= key <= len(tables):
                raise KeyError(key)
            return tables[key - 1]
        for table in tables:
            if table.name.casefold() == key.casefold():
                return table
        raise KeyError(key)

    def __len__(self) -> int:
        return len(self._sheet.list_objects)

    def __iter__(self) -> Iterator[MemoryTable]:
        return iter(list(self._sheet.list_objects))

    def __contains__(self, key: str) -> bool:
        return any(t.name.casefold() == key.casefold() for t in self._sheet.list_objects)

    def add(
        self,
        source_type: Any = None,
        source: Any = None,
        link_source: Any = None,
        has_headers: bool | None = True,
        destination: Any = None,
        table_style_name: str | None = "TableStyleMedium2",
        name: str | None = None,
    ) -> MemoryTable:
        """ListObjects.Add from a range. Like Excel: one cell means its current region; a
        header-only range gets an empty body row; empty/duplicate headers are renamed."""
        sheet = self._sheet
        book = sheet.book
        if link_source or destination is not None or source_type not in (None, 1):
            raise NotImplementedError("MemoryTables.add supports ranges as the source only")
        if not has_headers:
            raise NotImplementedError("MemoryTables.add(has_headers=False) is not supported")
        rng = source.impl if isinstance(source, xw.Range) else source
        if not isinstance(rng, MemoryRange) or rng.sheet is not sheet:
            raise ValueError("the source must be a range on this sheet")
        if len(rng.areas) > 1:
            raise ValueError("A table cannot be created from a multi-area range")
        area = rng.area if rng.area.size > 1 else rng.current_region.area
        if area.nrows == 1:
            area = Area(area.row, area.col, 2, area.ncols)
            _check_in_sheet(area)
        _check_no_overlap(sheet, area, ignore=None)
        style = "TableStyleMedium2" if table_style_name is None else table_style_name
        if not book.table_style_exists(style):
            raise ValueError(f"unknown table style {style!r}")
        if name is None:
            number = 1
            while book.name_in_use(f"Table{number}"):
                number += 1
            name = f"Table{number}"
        check_defined_name(name)
        if book.name_in_use(name):
            raise ValueError(f"the name {name!r} is already in use in this workbook")
        table = MemoryTable(sheet, name, area, style)
        sheet.list_objects.append(table)
        table.normalize_headers()
        sheet.engine.log("table_add", sheet.ref([area]), name)
        return table


class MemoryTableColumn(_NamedGaps, base_classes.TableColumn):
    def __init__(self, table: MemoryTable, index: int) -> None:
        self._table = table
        self._index = index

    @property
    def name(self) -> str:
        return self._table.header_names()[self._index - 1]

    @property
    def index(self) -> int:
        return self._index

    @property
    def range(self) -> MemoryRange:
        area = self._table.area
        column = Area(area.row, area.col + self._index - 1, area.nrows, 1)
        return MemoryRange(self._table.parent, column)

    @property
    def data_body_range(self) -> MemoryRange:
        body = self._table.body_area
        column = Area(body.row, body.col + self._index - 1, body.nrows, 1)
        return MemoryRange(self._table.parent, column)


class MemoryTableColumns(_NamedGaps, base_classes.TableColumns):
    def __init__(self, table: MemoryTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return self._table.area.ncols

    def __iter__(self) -> Iterator[MemoryTableColumn]:
        return (MemoryTableColumn(self._table, i + 1) for i in range(len(self)))

    def __call__(self, key: int | str) -> MemoryTableColumn:
        if isinstance(key, int):
            if not 1 <= key <= len(self):
                raise KeyError(key)
            return MemoryTableColumn(self._table, key)
        for i, header in enumerate(self._table.header_names(), start=1):
            if header.casefold() == key.casefold():
                return MemoryTableColumn(self._table, i)
        raise KeyError(key)


class MemoryTableRow(_NamedGaps, base_classes.TableRow):
    def __init__(self, table: MemoryTable, index: int) -> None:
        self._table = table
        self._index = index

    @property
    def index(self) -> int:
        return self._index

    @property
    def range(self) -> MemoryRange:
        body = self._table.body_area
        row = Area(body.row + self._index - 1, body.col, 1, body.ncols)
        return MemoryRange(self._table.parent, row)


class MemoryTableRows(_NamedGaps, base_classes.TableRows):
    def __init__(self, table: MemoryTable) -> None:
        self._table = table

    @property
    def parent(self) -> MemoryTable:
        return self._table

    @property
    def column_count(self) -> int:
        return self._table.area.ncols

    def __len__(self) -> int:
        return self._table.body_area.nrows

    def __iter__(self) -> Iterator[MemoryTableRow]:
        return (MemoryTableRow(self._table, i + 1) for i in range(len(self)))

    def __call__(self, key: int) -> MemoryTableRow:
        if not 1 <= key <= len(self):
            raise KeyError(key)
        return MemoryTableRow(self._table, key)


# ---------------------------------------------------------------------------------------------
# Registration with xlwings and helpers for tests
# ---------------------------------------------------------------------------------------------

_saved_active: list[Any] = []  # xw.engines.active before the first install()


def install(engine: MemoryEngine | None = None) -> MemoryEngine:
    """Register ``engine`` with ``xw.engines`` under the name "memory" and make it the active
    engine, replacing any memory engine registered before. Then ``xw.App()``, ``xw.Book()``,
    ``xw.books``, ``xw.apps`` and ``xw.Book.caller()`` (with ``set_mock_caller``) use it.
    Undo with :func:`uninstall`."""
    engine = engine or MemoryEngine()
    registry = xw.engines
    if not _saved_active:
        _saved_active.append(registry.active)
    _unregister()
    wrapper = xw.Engine(impl=engine)
    registry.add(wrapper)
    registry.active = wrapper
    return engine


def _unregister() -> None:
    registry = xw.engines
    registry.engines[:] = [e for e in registry.engines if not isinstance(e.impl, MemoryEngine)]
    registry.engines_by_name.pop(MemoryEngine.name, None)


def uninstall() -> None:
    """Remove the memory engine from ``xw.engines`` and restore the previously active engine."""
    _unregister()
    if _saved_active:
        xw.engines.active = _saved_active.pop()


@contextmanager
def installed(engine: MemoryEngine | None = None) -> Iterator[MemoryEngine]:
    """``with installed() as engine: app = xw.App(); ...`` — uninstalls afterwards."""
    try:
        yield install(engine)
    finally:
        uninstall()


def new_book(
    name: str = "Book1.xlsx",
    sheets: Iterable[str] = ("Sheet1",),
    *,
    engine: MemoryEngine | None = None,
    fullname: str | None = None,
) -> xw.Book:
    """A real ``xw.Book`` in a fresh in-memory app (of a fresh engine unless one is given).

    The engine is installed as xlwings' active engine (see :func:`install`); get it back with
    :func:`engine_of`. ``fullname`` defaults to ``name``, as for an unsaved book.
    """
    engine = install(engine)
    app = engine.apps.add(add_book=False)
    book = app.new_book(name, tuple(sheets), fullname)
    return xw.Book(impl=book)


def engine_of(obj: xw.App | xw.Book | xw.Sheet | xw.Range) -> MemoryEngine:
    """The in-memory engine behind an xlwings object (for its ``calls`` log)."""
    engine = getattr(obj.impl, "engine", None)
    if not isinstance(engine, MemoryEngine):
        raise TypeError(f"{obj!r} does not live in the in-memory engine")
    return engine


def _cell(sheet: xw.Sheet, address: str) -> tuple[MemorySheet, int, int]:
    model = sheet.impl
    if not isinstance(model, MemorySheet):
        raise TypeError(f"{sheet!r} does not live in the in-memory engine")
    area = parse_area(address)
    if area.size != 1:
        raise ValueError(f"{address!r} is not a single cell")
    return model, area.row, area.col


def cell_value(sheet: xw.Sheet, address: str) -> Any:
    """What the cell holds as COM's ``Range.Value`` returns it (a date only if date-formatted;
    ``""`` stays ``""``; a formula cell gives its result, None unless set)."""
    model, row, col = _cell(sheet, address)
    return model.presented(row, col)


def cell_format(sheet: xw.Sheet, address: str) -> str:
    """The cell's number format (``General`` unless set)."""
    model, row, col = _cell(sheet, address)
    return model.style(row, col, "number_format")


def cell_formula(sheet: xw.Sheet, address: str) -> str | None:
    """The cell's formula, or None for a constant or empty cell."""
    model, row, col = _cell(sheet, address)
    return model.formulas.get((row, col))


def cell_text(sheet: xw.Sheet, address: str) -> str:
    """The cell as displayed (see :func:`display_text` for the formats understood)."""
    model, row, col = _cell(sheet, address)
    return model.text(row, col)


def is_empty(sheet: xw.Sheet, address: str) -> bool:
    """True only when the cell holds nothing: no value (``""`` is a value) and no formula."""
    model, row, col = _cell(sheet, address)
    return not model.has_content(row, col)


def set_formula_result(sheet: xw.Sheet, address: str, value: Any) -> None:
    """Pretend Excel calculated the formula in ``address`` to ``value``."""
    model, row, col = _cell(sheet, address)
    if (row, col) not in model.formulas:
        raise ValueError(f"{address} holds no formula")
    value = normalize_cell_value(value)
    if value is None:
        model.values.pop((row, col), None)
    else:
        model.values[(row, col)] = value


def table_ref(sheet: xw.Sheet, name: str) -> str:
    """The address of a table, e.g. ``"A1:C4"``."""
    model = sheet.impl
    if not isinstance(model, MemorySheet):
        raise TypeError(f"{sheet!r} does not live in the in-memory engine")
    table = model.tables(name)
    return area_address(table.area, row_absolute=False, col_absolute=False)
