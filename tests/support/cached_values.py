"""Formula cells' cached values: what an independent reader (python-calamine) sees in a file
we wrote, and whether LibreOffice, recalculating every formula itself, agrees."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from sheep_xl.writers.ooxml import M, XlsxPackage
from tools import libreoffice as lo


def formula_values(path: Path) -> dict[tuple[str, str], Any]:
    """(sheet, cell) -> the value python-calamine reads, for every cell with a formula; the
    formula cells are found in the sheet XML, and each must carry a cached ``<v>``."""
    pkg = XlsxPackage(path)
    workbook = CalamineWorkbook.from_path(str(path))
    out: dict[tuple[str, str], Any] = {}
    for sheet, part in pkg.sheets():
        grid = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        for cell in pkg.xml(part).iter(f"{M}c"):
            if cell.find(f"{M}f") is None:
                continue
            ref = cell.get("r", "")
            assert cell.find(f"{M}v") is not None, f"{sheet}!{ref} has no cached value"
            letters, digits = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()  # type: ignore[union-attr]
            row, col = int(digits) - 1, openpyxl.utils.column_index_from_string(letters) - 1
            out[(sheet, ref)] = grid[row][col]
    return out


def assert_libreoffice_agrees(path: Path) -> None:
    """LibreOffice recalculates every formula of ``path``: no error anywhere, and each value
    equals our cached one (dates and times as Excel's day numbers)."""
    ours = formula_values(path)
    wanted: dict[str, list[str]] = {}
    for sheet, ref in ours:
        wanted.setdefault(sheet, []).append(ref)
    result = lo.recalculate(path, wanted)
    assert not result.has_errors(), result.errors
    for (sheet, ref), value in ours.items():
        theirs = result[sheet][ref]
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        if isinstance(value, dt.datetime):
            value = (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        elif isinstance(value, dt.time):
            value = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        if isinstance(value, bool):
            value = float(value)
        if value == "" and theirs is None:
            continue  # an empty text result: LibreOffice reports the cell as empty
        if isinstance(value, float):
            assert theirs == pytest.approx(value, rel=1e-12), (sheet, ref)
        else:
            assert theirs == value, (sheet, ref)
