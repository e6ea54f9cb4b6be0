"""Write new workbooks headless with openpyxl's streaming (write-only) mode.

Streaming keeps memory flat for large tables: rows go to the file as they are produced. Every cell
that needs a number format, a hyperlink or protection from formula parsing is a ``WriteOnlyCell``;
other values are passed as they are, which is much cheaper.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from sheep_xl.frames.catalogue import NumberFormat
from sheep_xl.frames.excel_text import is_formula_like
from sheep_xl.tables.plan import TablePlan


def openpyxl_format(fmt: NumberFormat) -> str:
    """The format string openpyxl maps to the same built-in id (14 stays the locale's date)."""
    if fmt.builtin_id is not None and fmt.builtin_id in BUILTIN_FORMATS:
        return BUILTIN_FORMATS[fmt.builtin_id]
    return fmt.code


def table_ref(plan: TablePlan, first_row: int = 1, first_col: int = 1) -> str:
    """Header plus rows; an empty result keeps one blank row, as Excel's tables always have."""
    last_row = first_row + max(plan.n_rows, 1)
    last_col = first_col + max(plan.n_cols, 1) - 1
    return f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"


def excel_table(plan: TablePlan, ref: str) -> Table:
    table = Table(displayName=plan.name, name=plan.name, ref=ref)
    table.tableColumns = [TableColumn(id=i, name=t) for i, t in enumerate(plan.titles, 1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(
        name=plan.style,
        showRowStripes=True,
        showColumnStripes=False,
        showFirstColumn=False,
        showLastColumn=False,
    )
    return table


@dataclass
class SheetSpec:
    """One sheet of a new workbook holding one table (at A1, or below a few lines of text)."""

    title: str
    plan: TablePlan
    preamble: Sequence[str] = ()  # lines above the table (a title, a help text)

    @property
    def first_row(self) -> int:
        return len(self.preamble) + 2 if self.preamble else 1


def write_table_sheet(wb: Workbook, spec: SheetSpec) -> Any:
    """Add a streaming sheet holding ``spec.plan`` as a formatted Excel table at A1."""
    plan = spec.plan
    ws = wb.create_sheet(spec.title)
    for index, column in enumerate(plan.columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    first = spec.first_row
    ws.freeze_panes = f"A{first + 1}"
    for number, line in enumerate(spec.preamble):
        cell = WriteOnlyCell(ws, value=line)
        cell.data_type = "s"
        cell.font = Font(bold=True, size=14) if number == 0 else Font(italic=True)
        ws.append([cell])
    if spec.preamble:
        ws.append([])
    header_font = Font(bold=True)
    header = []
    for title in plan.titles:
        cell = WriteOnlyCell(ws, value=title)
        cell.data_type = "s"
        cell.font = header_font
        header.append(cell)
    ws.append(header)

    makers = [
        _cell_maker(ws, column.number_format, column.hyperlink, i)
        for i, column in enumerate(plan.columns, 1)
    ]
    for row_number, row in enumerate(plan.rows, first + 1):
        ws.append([make(value, row_number) for make, value in zip(makers, row, strict=True)])
    if plan.n_cols:
        with warnings.catch_warnings():
            # openpyxl warns that write-only tables need their columns set by hand: they are.
            warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
            ws.add_table(excel_table(plan, table_ref(plan, first_row=first)))
    return ws


def _cell_maker(
    ws: Any, fmt: NumberFormat, hyperlink: bool, column: int
) -> Callable[[Any, int], Any]:
    """A function turning one value into what ``ws.append`` takes, for one column."""
    code = openpyxl_format(fmt)
    needs_format = code != "General"
    letter = get_column_letter(column)

    def make(value: Any, row: int) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            if not (hyperlink or is_formula_like(value)):
                return value
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"  # text stays text: never a formula
            if hyperlink and value.startswith(("http://", "https://", "mailto:")):
                cell.hyperlink = Hyperlink(ref=f"{letter}{row}", target=value)
                cell.style = "Hyperlink"
            return cell
        if needs_format or isinstance(value, (dt.date, dt.time)):
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = code
            return cell
        return value

    return make


def write_workbook(
    path: Path, sheets: Sequence[SheetSpec], defined_names: Mapping[str, str] | None = None
) -> None:
    """A new workbook with one table sheet per spec (streaming), and workbook-level names."""
    wb = Workbook(write_only=True)
    for spec in sheets:
        write_table_sheet(wb, spec)
    for name, value in (defined_names or {}).items():
        wb.defined_names[name] = DefinedName(name, attr_text=value)
    wb.save(path)
