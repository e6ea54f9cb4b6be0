"""Table plans: everything an Excel table must hold, decided once for every writer.

A ``TablePlan`` is built from a typed frame and applied by the headless writer (openpyxl and the
in-place refresher) and the live writer (xlwings), which is what keeps their results identical:
header titles, Excel-native cell values (``None`` is a real empty cell, never ``""``), a number
format per column, column widths from the content, which columns are hyperlinks, table name and
style.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sheep_xl.exceptions import InputError
from sheep_xl.frames.catalogue import NumberFormat
from sheep_xl.frames.convert import column_specs, frame_warnings

DEFAULT_TABLE_STYLE = "TableStyleMedium2"
DEFAULT_TABLE_NAME = "Events"

# Typical display widths (characters) for kinds whose text length says little.
_KIND_WIDTHS = {"date": 11.0, "datetime": 16.5, "time": 8.0, "bool": 9.0}
_MIN_WIDTH, _MAX_WIDTH = 8.0, 60.0
_WIDTH_SAMPLE = 2000  # rows looked at to size a column

Cell = Any  # str | float | bool | datetime.datetime | datetime.date | datetime.time | None


@dataclass(frozen=True)
class PlanColumn:
    title: str
    field: str  # API field name ("" for columns that are not from the API)
    kind: str
    number_format: NumberFormat
    width: float
    hyperlink: bool = False


@dataclass
class TablePlan:
    name: str
    columns: list[PlanColumn]
    rows: list[list[Cell]]
    style: str = DEFAULT_TABLE_STYLE
    warnings: list[str] = field(default_factory=list)

    @property
    def titles(self) -> list[str]:
        return [c.title for c in self.columns]

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return len(self.columns)


_TABLE_NAME = re.compile(r"[A-Za-z_\\][A-Za-z0-9_.\\]{0,254}")
_CELL_LIKE = re.compile(r"([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)")


# A value of a link column becomes a clickable hyperlink only with one of these schemes (never
# javascript:, file: or a relative path), in every writer.
LINK_PREFIXES = ("http://", "https://", "mailto:")


def is_link(value: Cell) -> bool:
    return isinstance(value, str) and value.startswith(LINK_PREFIXES)


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
    """The plan for an Excel table holding ``frame`` (built by ``frames.events_frame``)."""
    name = validate_table_name(name)
    specs = column_specs(frame)
    columns: list[PlanColumn] = []
    cells_by_column: list[list[Cell]] = []
    for spec in specs:
        values = _excel_values(frame[spec.title], spec.field.kind)
        cells_by_column.append(values)
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
    rows = [list(r) for r in zip(*cells_by_column, strict=True)] if cells_by_column else []
    if not cells_by_column:
        rows = [[] for _ in range(len(frame))]
    return TablePlan(name, columns, rows, style, frame_warnings(frame))


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


def _width(title: str, kind: str, values: list[Cell]) -> float:
    header = len(title) + 3  # room for the filter button
    if kind in _KIND_WIDTHS:
        return max(header, _KIND_WIDTHS[kind])
    longest = 0
    for value in values[:_WIDTH_SAMPLE]:
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
