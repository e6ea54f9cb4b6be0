"""New report workbooks: result tables plus the SheepCRM sheet that stores their queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sheep_xl.tables.plan import TablePlan
from sheep_xl.tables.queries import (
    MARKER_NAME,
    OK,
    QUERIES_PREAMBLE,
    QUERIES_SHEET,
    StoredQuery,
    queries_plan,
)
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook


def local_now() -> dt.datetime:
    """Now, as the wall-clock time people read on the SheepCRM sheet (no time zone)."""
    return dt.datetime.now().replace(microsecond=0)


def write_new_report(
    path: Path,
    results: Sequence[tuple[StoredQuery, TablePlan]],
    *,
    ran_at: dt.datetime,
    refresh_on_open: bool = True,
) -> None:
    """A new workbook: one sheet per query's table, then the SheepCRM sheet and the marker."""
    sheets = [SheetSpec(query.sheet, plan) for query, plan in results]
    queries = [query.with_result(ran_at, plan.n_rows, OK) for query, plan in results]
    sheets.append(SheetSpec(QUERIES_SHEET, queries_plan(queries), QUERIES_PREAMBLE))
    marker = "TRUE" if refresh_on_open else "FALSE"
    write_workbook(path, sheets, {MARKER_NAME: marker})
