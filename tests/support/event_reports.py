"""Helpers for the reports about events' insides (event pack, attendance and income).

`choose_event` does to a workbook file what a person does on its SheepCRM sheet when they type
another event's uid in the Event UID column; `table_frames` reads a workbook's tables back with
python-calamine (which never recalculates), so tests compare them with pandas.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from python_calamine import CalamineWorkbook

from sheep_xl.tables.queries import queries_plan
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.xlsx_refresh import WorkbookEditor

EVENT_PACK = "event-pack.xlsx"
ATTENDANCE = "attendance-income.xlsx"
# The demo events the tests use: the pack's demo event (CHF and EUR, unpaid orders, guests),
# and one with pounds, euros and dollars to switch to.
ZURICH = "2bb96d6b308e1412b04361b0"
CONFERENCE = "f1ed22b99d9152bb41a82b05"


def choose_event(path: Path, uid: str, queries: Iterable[str] | None = None) -> None:
    """Type ``uid`` into the Event UID cell of the queries named (default: every query that
    has one) on the SheepCRM sheet, and save, as Excel would (nothing else changes)."""
    package = XlsxPackage(path)
    editor = WorkbookEditor(package)
    wanted = None if queries is None else set(queries)
    stored = [
        dataclasses.replace(q, event_uid=uid)
        if q.event_uid and (wanted is None or q.name in wanted)
        else q
        for q in editor.read_queries()
    ]
    editor.replace_table(queries_plan(stored))
    editor.finish()
    package.save(path)


def table_frames(path: Path) -> dict[str, pd.DataFrame]:
    """Every Excel table of a workbook (but the stored queries) as a frame of the values
    python-calamine reads, by table name."""
    package = XlsxPackage(path)
    editor = WorkbookEditor(package)
    book = CalamineWorkbook.from_path(str(path))
    out: dict[str, pd.DataFrame] = {}
    for info in editor.tables():
        grid = book.get_sheet_by_name(info.sheet_name).to_python(skip_empty_area=False)
        box = info.box
        rows = [row[box.left - 1 : box.right] for row in grid[box.top - 1 : box.bottom]]
        header, body = rows[0], rows[1:]
        body = [r for r in body if any(v not in ("", None) for v in r)] if len(body) == 1 else body
        out[info.name] = pd.DataFrame(body, columns=header)
    return out


def sheet_grid(path: Path, sheet: str) -> list[list[Any]]:
    """A sheet's cells as python-calamine reads them (cached values of formulas)."""
    return (
        CalamineWorkbook.from_path(str(path))
        .get_sheet_by_name(sheet)
        .to_python(skip_empty_area=False)
    )


def labelled(grid: list[list[Any]]) -> dict[str, list[Any]]:
    """Rows by their first cell (the label): label -> the rest of the row."""
    out: dict[str, list[Any]] = {}
    for row in grid:
        if row and isinstance(row[0], str) and row[0]:
            out.setdefault(row[0], row[1:])
    return out
