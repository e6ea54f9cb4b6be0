"""Table plans: everything an Excel table must hold, decided once for every writer.

A ``TablePlan`` is built from a typed frame and applied by the headless writer (openpyxl and the
in-place refresher) and the live writer (xlwings), which is what keeps their results identical:
header titles, Excel-native cell values (``None`` is a real empty cell, never ``""``), a number
format per column, column widths from the content, which columns are hyperlinks, table name and
style.

It is also the one place Excel's limits are applied, so no writer can produce a file Excel
repairs or data it silently drops (README, "Excel's limits"):

* what cannot fit at all is an error before anything is written: `check_excel_limits` (rows
  past 1,048,576 or columns past XFD, wherever the table starts), called by every writer;
* what can be kept in a weaker form is, and is counted in the plan's warnings: column titles
  Excel's tables cannot hold are renamed (`excel_titles`), numbers beyond Excel's range and
  dates before its first day become empty cells, links too long for a hyperlink and links past
  a sheet's 65,530 hyperlinks stay plain text (`is_link`, `cap_links`). Text rules (32,767
  UTF-16 units, XML-illegal characters, ``_xHHHH_``) are ``frames.excel_text``'s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, overload

import numpy as np
import pandas as pd

from sheep_xl.exceptions import ExcelLimitError, InputError
from sheep_xl.frames.catalogue import NumberFormat
from sheep_xl.frames.convert import column_specs, frame_warnings
from sheep_xl.frames.excel_text import clean_text, cut_utf16, utf16_length

DEFAULT_TABLE_STYLE = "TableStyleMedium2"
DEFAULT_TABLE_NAME = "Events"

# Typical display widths (characters) for kinds whose text length says little.
_KIND_WIDTHS = {"date": 11.0, "datetime": 16.5, "time": 8.0, "bool": 9.0}
_MIN_WIDTH, _MAX_WIDTH = 8.0, 60.0
_WIDTH_SAMPLE = 2000  # rows looked at to size a column

Cell = Any  # str | float | bool | datetime.datetime | datetime.date | datetime.time | None

# --- Excel's limits (Excel specifications and limits, Microsoft 365) -------------------------
MAX_ROWS = 1_048_576  # rows a worksheet has
MAX_COLUMNS = 16_384  # columns a worksheet has (A to XFD)
MAX_HYPERLINKS = 65_530  # hyperlinks one worksheet can hold
MAX_LINK_LENGTH = 2_079  # characters of a hyperlink's address
MAX_TITLE_LENGTH = 255  # characters of a table column's name
MAX_NUMBER = 9.99999999999999e307  # the largest number a cell can hold (either sign)
EARLIEST_DATE = dt.date(1900, 1, 1)  # day 1 of the 1900 date system, the default
EARLIEST_DATE_1904 = dt.date(1904, 1, 1)  # day 0 of the 1904 date system (old Mac workbooks)


@dataclass(frozen=True)
class PlanColumn:
    title: str
    field: str  # API field name ("" for columns that are not from the API)
    kind: str
    number_format: NumberFormat
    width: float
    hyperlink: bool = False


CHUNK_ROWS = 4096  # rows converted at a time when a plan's values are read

# A chunk of one column's cells in the form the writers render fastest (`TablePlan.cells`):
# a list of cells like `TablePlan.column`'s, or for a frame's typed columns a NumPy array:
# float64 for numbers (NaN: an empty cell), datetime64[us] for dates and date-times, wall-clock
# time (NaT: empty), int8 for booleans (1, 0; -1: empty).
FastCells = list[Cell] | np.ndarray

_NOT_TEXT = ("date", "datetime", "time", "number", "bool")  # the kinds `_excel_values` converts


class _ColumnValues:
    """One column's cells. A plan built from a frame keeps the frame's column and converts it
    a chunk at a time whenever it is read, so a writer streaming 200k rows never holds a Python
    object per cell (2.2 KB a row of 21 columns); a plan built from rows holds its list.

    The plan's blanking rules (numbers beyond Excel's range, dates before the date system's
    first day) are worked out once, over the whole column (with NumPy for the frame's typed
    columns), and kept as a mask of the cells they emptied: every chunk read has them empty,
    so the values read are exactly those a full list would hold after the same edits."""

    __slots__ = ("_blank", "_series", "_values", "kind")

    def __init__(
        self, kind: str, series: pd.Series | None = None, values: list[Cell] | None = None
    ) -> None:
        self.kind = kind
        self._series = series
        self._values = values
        self._blank: np.ndarray | None = None  # bool per row: emptied by a rule

    def read(self, start: int, stop: int) -> list[Cell]:
        """The cells of rows ``start`` to ``stop`` (a new list: changing it changes nothing)."""
        if self._values is not None:
            return self._values[start:stop]
        assert self._series is not None
        out = _excel_values(self._series.iloc[start:stop], self.kind)
        if self._blank is not None:
            for gap in np.flatnonzero(self._blank[start:stop]):
                out[gap] = None
        return out

    def cells(self, start: int, stop: int) -> FastCells:
        """Rows ``start`` to ``stop`` in their fastest form (see `FastCells`): the same cells
        as `read`, as an array where the frame's column has a NumPy form of its kind."""
        if self._values is not None:
            return self._values[start:stop]
        assert self._series is not None
        fast = _fast_cells(self._series.iloc[start:stop], self.kind)
        if fast is None:
            return self.read(start, stop)
        if self._blank is not None:
            gaps = np.flatnonzero(self._blank[start:stop])
            if len(gaps):
                _empty_at(fast, gaps)
        return fast

    def apply(self, rule: Callable[[list[Cell]], int], n_rows: int) -> int:
        """Apply ``rule`` (it empties cells in a list and counts them) to every cell from now
        on; returns how many cells it emptied."""
        if self._values is not None:
            return rule(self._values)
        count = 0
        for start in _starts(n_rows):
            values = self.read(start, min(start + CHUNK_ROWS, n_rows))
            before = [value is None for value in values]
            count += rule(values)
            emptied = [v is None and not b for v, b in zip(values, before, strict=True)]
            if any(emptied):
                self._empty(start + np.flatnonzero(emptied), n_rows)
        return count

    def blank_where(self, test: Callable[[np.ndarray], np.ndarray], n_rows: int) -> int | None:
        """Empty the cells of a frame column held as a NumPy array (`cells`) for which ``test``
        of the array is true, but for cells already empty (missing in the frame, or emptied);
        how many were emptied, or None when the column has no such form (the caller then
        applies its rule to lists of cells, `apply`)."""
        if self._values is not None:
            return None
        assert self._series is not None
        fast = self.cells(0, n_rows)
        if not isinstance(fast, np.ndarray):
            return None
        gone = self._series.isna().to_numpy(dtype=bool)
        if self._blank is not None:
            gone |= self._blank
        hit = np.flatnonzero(test(fast) & ~gone)
        if len(hit):
            self._empty(hit, n_rows)
        return len(hit)

    def _empty(self, rows: np.ndarray, n_rows: int) -> None:
        if self._blank is None:
            self._blank = np.zeros(n_rows, dtype=bool)
        self._blank[rows] = True


def _empty_at(cells: FastCells, gaps: np.ndarray) -> None:
    if not isinstance(cells, np.ndarray):
        for gap in gaps:
            cells[gap] = None
    elif cells.dtype.kind == "f":
        cells[gaps] = np.nan
    elif cells.dtype.kind == "M":
        cells[gaps] = np.datetime64("NaT")
    else:
        cells[gaps] = -1


def _fast_cells(series: pd.Series, kind: str) -> FastCells | None:
    """`_excel_values`' cells of a frame's typed column in their fastest form, or None where it
    has none (object columns of other values): ``frames.convert`` makes Float64 numbers,
    datetime64 dates and date-times, boolean flags and string text."""
    dtype = series.dtype
    if kind == "number" and dtype.kind in "iuf":
        return series.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    if kind in ("date", "datetime") and pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is not None:
            series = series.dt.tz_localize(None)  # the wall-clock time, never converted
        return series.to_numpy(dtype="datetime64[us]", copy=True)
    if kind == "bool" and dtype.kind == "b":
        return series.to_numpy(dtype="int8", na_value=-1, copy=True)
    if isinstance(dtype, pd.StringDtype) and kind not in _NOT_TEXT:
        missing: Any = None  # pandas-stubs take no None for na_value; pandas does
        texts = series.to_numpy(dtype=object, na_value=missing).tolist()
        return [text or None for text in texts]  # "": an empty cell, as in `_excel_values`
    return None


def _starts(n_rows: int) -> range:
    return range(0, n_rows, CHUNK_ROWS)


class RowView(Sequence[list[Cell]]):
    """A plan's rows, read on demand (see `TablePlan.rows`)."""

    def __init__(self, plan: TablePlan) -> None:
        self._plan = plan

    def __len__(self) -> int:
        return self._plan.n_rows

    def __iter__(self) -> Iterator[list[Cell]]:
        for row in self._plan.iter_rows():
            yield list(row)

    @overload
    def __getitem__(self, index: int) -> list[Cell]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[Cell]]: ...

    def __getitem__(self, index: int | slice) -> list[Cell] | list[list[Cell]]:
        n = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            rows = [list(r) for r in self._plan.iter_rows(start, max(stop, start))]
            return rows[::step]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("row index out of range")
        return [column.read(index, index + 1)[0] for column in self._plan.data]


class TablePlan:
    """A table's columns and cells. ``rows`` (a list of rows) is how plans are built by hand
    (the stored queries, tests); `plan_table` builds one over a frame's columns instead, which
    is what keeps the new-workbook writer's memory flat however many rows there are."""

    def __init__(
        self,
        name: str,
        columns: list[PlanColumn],
        rows: Sequence[Sequence[Cell]] = (),
        style: str = DEFAULT_TABLE_STYLE,
        warnings: list[str] | None = None,
        *,
        data: list[_ColumnValues] | None = None,
        n_rows: int | None = None,
    ) -> None:
        self.name = name
        self.columns = columns
        self.style = style
        self.warnings: list[str] = [] if warnings is None else warnings
        if data is None:
            cells = [list(c) for c in zip(*rows, strict=True)] if rows else []
            if not cells:
                cells = [[] for _ in columns]
            data = [_ColumnValues(c.kind, values=v) for c, v in zip(columns, cells, strict=True)]
            n_rows = len(rows)
        self.data = data
        self._n_rows = int(n_rows or 0)

    def __repr__(self) -> str:
        return f"TablePlan({self.name!r}, {self.n_cols} columns, {self.n_rows:,} rows)"

    @property
    def titles(self) -> list[str]:
        return [c.title for c in self.columns]

    @property
    def rows(self) -> RowView:
        """The rows, each a list of cells, read on demand (a chunk of rows at a time when
        iterated): `len`, truth, iteration and indexing work as on a list of lists. A row read
        is a copy; the plan's values change only through its own methods."""
        return RowView(self)

    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def n_cols(self) -> int:
        return len(self.columns)

    def iter_rows(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[Cell, ...]]:
        """Rows ``start`` to ``stop`` as tuples, converted a chunk at a time (the writers'
        path: only one chunk of Python values exists at any moment)."""
        stop = self.n_rows if stop is None else min(stop, self.n_rows)
        for first in range(start, stop, CHUNK_ROWS):
            last = min(first + CHUNK_ROWS, stop)
            if not self.data:
                yield from (() for _ in range(first, last))
                continue
            yield from zip(*(column.read(first, last) for column in self.data), strict=True)

    def cells(self, index: int, start: int, stop: int) -> FastCells:
        """Column ``index``'s rows ``start`` to ``stop`` in their fastest form (`FastCells`):
        the writers' path, rendering a column at a time."""
        return self.data[index].cells(start, min(stop, self.n_rows))

    def column_chunks(self, index: int) -> Iterator[tuple[int, list[Cell]]]:
        """Column ``index``'s cells as (first row offset, cells), a chunk at a time."""
        column = self.data[index]
        for first in _starts(self.n_rows):
            yield first, column.read(first, min(first + CHUNK_ROWS, self.n_rows))

    def column(self, index: int) -> list[Cell]:
        """Every cell of column ``index`` (a new list)."""
        return self.data[index].read(0, self.n_rows)

    def blank_dates_before(self, earliest: dt.date) -> int:
        """Empty the date and date-time cells before ``earliest`` (the first day the workbook's
        date system can hold), counting them in the warnings; returns how many.

        `plan_table` applies the 1900 date system's first day for every writer (xlwings would
        hand Excel an OLE date it cannot store as a date); the in-place refresh of a 1904
        workbook applies 1904-01-01 too."""
        count = 0
        first = np.datetime64(earliest, "us")
        for index, column in enumerate(self.columns):
            if column.kind not in ("date", "datetime"):
                continue
            values = self.data[index]
            emptied = values.blank_where(lambda cells: cells < first, self.n_rows)  # NaT: False
            if emptied is None:
                emptied = values.apply(partial(_blank_dates, earliest=earliest), self.n_rows)
            count += emptied
        if count:
            self.warnings.append(
                f"{count:,} date(s) before {earliest.isoformat()}, the first day Excel's date "
                "system can hold, were left empty."
            )
        return count


def _blank_dates(values: list[Cell], earliest: dt.date) -> int:
    count = 0
    for row, value in enumerate(values):
        day = value.date() if isinstance(value, dt.datetime) else value
        if isinstance(day, dt.date) and day < earliest:
            values[row] = None
            count += 1
    return count


def _blank_numbers(values: list[Cell]) -> int:
    count = 0
    for row, value in enumerate(values):
        if isinstance(value, float) and not (abs(value) <= MAX_NUMBER):
            values[row] = None
            count += 1
    return count


_TABLE_NAME = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]{0,254}")
_CELL_LIKE = re.compile(r"([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)")


# A value of a link column becomes a clickable hyperlink only with one of these schemes (never
# javascript:, file: or a relative path), in every writer.
LINK_PREFIXES = ("http://", "https://", "mailto:")


def is_link(value: Cell) -> bool:
    """Whether a value of a link column is written as a hyperlink: a safe scheme, and short
    enough for Excel (a longer address would make Excel repair the file; it stays text)."""
    return (
        isinstance(value, str)
        and value.startswith(LINK_PREFIXES)
        and (len(value) <= MAX_LINK_LENGTH // 2 or utf16_length(value) <= MAX_LINK_LENGTH)
    )


def cap_links(
    links: list[Any], budget: int, warnings: list[str], total: int | None = None
) -> list[Any]:
    """The first ``budget`` of a sheet's new ``links``; the rest stay plain text, counted in
    ``warnings``. ``budget`` is `MAX_HYPERLINKS` less the links the sheet keeps elsewhere.
    ``total`` is how many links there were when the caller kept only the first ``budget`` of
    them (the new-workbook writer, so a sheet of 200k links never holds them all)."""
    budget = max(budget, 0)
    total = len(links) if total is None else total
    if total <= budget:
        return links
    warnings.append(
        f"{total - budget:,} link(s) beyond Excel's {MAX_HYPERLINKS:,} hyperlinks per "
        "sheet were written as plain text (not clickable)."
    )
    return links[:budget]


def check_excel_limits(
    plan: TablePlan, top_row: int, left_col: int, n_cols: int | None = None, extra_rows: int = 0
) -> None:
    """Refuse, before anything is written, a table that would pass Excel's last row or column.

    ``top_row``/``left_col`` are where the table's header starts (row 4 on the SheepCRM sheet,
    anywhere for a table a person moved), ``n_cols`` its width when it keeps columns of its own
    (a refresh), ``extra_rows`` a totals row. Excel cannot hold such a sheet at all: cutting the
    table would drop rows without a trace, so the person is told to ask for less."""
    width = plan.n_cols if n_cols is None else n_cols
    last_row = top_row + max(plan.n_rows, 1) + extra_rows
    if last_row > MAX_ROWS:
        raise ExcelLimitError(
            f"Table '{plan.name}' would need {plan.n_rows:,} rows below row {top_row:,}, past "
            f"Excel's last row ({MAX_ROWS:,}): choose a narrower state or classification (e.g. "
            "future+confirmed instead of all), or move the table up."
        )
    if left_col + max(width, 1) - 1 > MAX_COLUMNS:
        raise ExcelLimitError(
            f"Table '{plan.name}' would need {width:,} columns from column {left_col:,}, past "
            f"Excel's last column (XFD, {MAX_COLUMNS:,}): choose fewer columns."
        )


def check_unique_names(names: Sequence[str]) -> None:
    """Table and workbook names of a new workbook: Excel keeps one namespace for both and
    compares in any letter case, so a repeat would make it repair the file."""
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            raise InputError(
                f"The name '{name}' is used twice in this workbook (tables and names must "
                "differ in more than letter case): choose another table name."
            )
        seen.add(name.lower())


def excel_titles(titles: Sequence[str]) -> tuple[list[str], list[str]]:
    """Titles an Excel table can use as column names, and the original titles that changed.

    Excel wants each name on one line (no control characters), at most 255 characters, not
    empty, and unique regardless of letter case (``Foo`` and ``foo`` would make Excel repair
    the table). A repeated name gets `` (2)``, `` (3)``, ... so every source column keeps its
    own column and no value is lost."""
    out: list[str] = []
    changed: list[str] = []
    taken: set[str] = set()
    for index, title in enumerate(titles, 1):
        text, _, _ = clean_text(str(title))
        text = cut_utf16(" ".join(text.split()), MAX_TITLE_LENGTH).strip() or f"Column {index}"
        candidate, number = text, 1
        while candidate.lower() in taken:
            number += 1
            suffix = f" ({number})"
            candidate = cut_utf16(text, MAX_TITLE_LENGTH - len(suffix)).rstrip() + suffix
        taken.add(candidate.lower())
        out.append(candidate)
        if candidate != title:
            changed.append(str(title))
    return out, changed


def header_row_below(lines: Sequence[str]) -> int:
    """The row of a table's header on a sheet that has ``lines`` of text above it: the text
    from row 1, one blank row, then the table (at row 1 when there is no text)."""
    return len(lines) + 2 if lines else 1


def validate_table_name(name: str) -> str:
    """Excel's rules: starts with a letter or '_', no spaces, not a cell reference, not R or C."""
    name = str(name).strip()
    if not _TABLE_NAME.fullmatch(name) or _CELL_LIKE.fullmatch(name) or name.upper() in {"R", "C"}:
        raise InputError(
            f"Invalid table name {name!r}: start with a letter, use letters, digits and '_' "
            "only, and do not use a cell address such as 'A1'."
        )
    return name


def plan_table(
    frame: pd.DataFrame, name: str = DEFAULT_TABLE_NAME, style: str = DEFAULT_TABLE_STYLE
) -> TablePlan:
    """The plan for an Excel table holding ``frame`` (built by ``frames.events_frame``).

    The plan keeps the frame's columns and converts their cells when they are read (see
    `TablePlan.iter_rows`), so the frame must not be changed while the plan is in use; widths,
    warnings and the blanking of values Excel cannot hold are worked out here, once."""
    name = validate_table_name(name)
    specs = column_specs(frame)
    columns: list[PlanColumn] = []
    data: list[_ColumnValues] = []
    for spec in specs:
        values = _ColumnValues(spec.field.kind, series=frame[spec.title])
        data.append(values)
        columns.append(
            PlanColumn(
                title=spec.title,
                field=spec.field.name,
                kind=spec.field.kind,
                number_format=spec.field.number_format,
                width=_width(spec.title, spec.field.kind, values),
                hyperlink=spec.field.kind == "url",
            )
        )
    warnings = frame_warnings(frame)
    titles, renamed = excel_titles([c.title for c in columns])
    if renamed:
        columns = [replace(c, title=t) for c, t in zip(columns, titles, strict=True)]
        shown = ", ".join(ascii(t)[:40] for t in renamed[:3])
        more = f" and {len(renamed) - 3} more" if len(renamed) > 3 else ""
        warnings.append(
            f"{len(renamed)} column title(s) were changed to names an Excel table can hold "
            f"(one line, at most {MAX_TITLE_LENGTH} characters, unique in any letter case): "
            f"{shown}{more}."
        )
    plan = TablePlan(name, columns, style=style, warnings=warnings, data=data, n_rows=len(frame))
    _blank_out_of_range_numbers(plan)
    plan.blank_dates_before(EARLIEST_DATE)
    _count_long_links(plan)
    return plan


def _blank_out_of_range_numbers(plan: TablePlan) -> None:
    """Numbers a cell cannot hold (beyond ±9.99999999999999E+307, NaN, infinity) become empty
    cells, counted: Excel would otherwise repair the file or show a wrong value."""
    count = 0
    for index, column in enumerate(plan.columns):
        if column.kind != "number":
            continue
        values = plan.data[index]
        emptied = values.blank_where(_beyond_excel, plan.n_rows)
        count += values.apply(_blank_numbers, plan.n_rows) if emptied is None else emptied
    if count:
        plan.warnings.append(
            f"{count:,} number(s) beyond Excel's range (±{MAX_NUMBER:.14E}) were left empty."
        )


def _beyond_excel(cells: np.ndarray) -> np.ndarray:
    """The numbers of a float64 column that `_blank_numbers` empties (NaN among them)."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(cells) <= MAX_NUMBER)


def _count_long_links(plan: TablePlan) -> None:
    count = sum(
        1
        for index, column in enumerate(plan.columns)
        if column.hyperlink
        for first in _starts(plan.n_rows)
        for value in plan.cells(index, first, first + CHUNK_ROWS)
        # at most half the limit in characters cannot pass it in UTF-16 units
        if isinstance(value, str)
        and len(value) > MAX_LINK_LENGTH // 2
        and value.startswith(LINK_PREFIXES)
        and utf16_length(value) > MAX_LINK_LENGTH
    )
    if count:
        plan.warnings.append(
            f"{count:,} link(s) longer than Excel's {MAX_LINK_LENGTH:,} characters were written "
            "as plain text (not clickable)."
        )


def _excel_values(series: pd.Series, kind: str) -> list[Cell]:
    """Python values Excel understands, with None for every missing value."""
    missing = series.isna().to_numpy()
    if kind in ("datetime", "date"):
        as_dt = pd.to_datetime(series)
        if kind == "date":
            values: list[Any] = [
                dt.date(y, m, d)
                for y, m, d in zip(
                    as_dt.dt.year.fillna(1900).astype(int),
                    as_dt.dt.month.fillna(1).astype(int),
                    as_dt.dt.day.fillna(1).astype(int),
                    strict=True,
                )
            ]
        else:
            values = [_naive(v) for v in (as_dt.dt.to_pydatetime() if len(as_dt) else [])]
    elif kind == "bool":
        values = series.tolist()
    elif kind == "number":
        values = [None if m else _number(v) for v, m in zip(series.tolist(), missing, strict=True)]
    elif kind == "time":
        values = series.tolist()
    else:
        values = [
            v if m or isinstance(v, str) else str(v)
            for v, m in zip(series.tolist(), missing, strict=True)
        ]
    out = list(values)
    if missing.any():
        for gap in np.flatnonzero(missing):
            out[gap] = None
    for index, value in enumerate(out):
        if isinstance(value, str) and value == "":
            out[index] = None  # an empty cell, never empty text
    return out


def _naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # keep the wall-clock time; never convert
    return value


def _number(value: Any) -> Any:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _width(title: str, kind: str, column: _ColumnValues) -> float:
    header = len(title) + 3  # room for the filter button
    if kind in _KIND_WIDTHS:
        return max(header, _KIND_WIDTHS[kind])
    longest = 0
    for value in column.read(0, _WIDTH_SAMPLE):
        if value is None:
            continue
        text = f"{value:,.2f}" if isinstance(value, float) else str(value)
        longest = max(longest, len(text))
    return float(min(_MAX_WIDTH, max(_MIN_WIDTH, header, longest + 2)))


def keeps_user_format(code: str | None, kind: str) -> bool:
    """Whether a number format a person gave a column suits the column's kind, so a refresh
    keeps it (e.g. ``dd mmm yyyy`` on a date column) instead of the plan's default."""
    from openpyxl.styles.numbers import is_date_format

    if not code or code in ("General", "@"):
        return False
    if kind in ("date", "datetime", "time"):
        return is_date_format(code)
    if kind == "number":
        return not is_date_format(code)
    return False
