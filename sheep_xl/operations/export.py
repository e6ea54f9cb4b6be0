"""Export events to a new ``.xlsx`` (a formatted Excel table with its stored query) or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

from sheep_xl.api.client import ProgressCallback, SheepClient
from sheep_xl.exceptions import InputError, WorkbookError
from sheep_xl.files import atomic_path, check_target
from sheep_xl.frames.columns import ColumnsArg, ColumnSelection
from sheep_xl.frames.convert import column_specs, frame_warnings
from sheep_xl.frames.excel_text import is_formula_like
from sheep_xl.frames.fetch import fetch_events_frame
from sheep_xl.tables.plan import DEFAULT_TABLE_NAME, TablePlan, plan_table
from sheep_xl.tables.queries import (
    MARKER_NAME,
    OK,
    QUERIES_PREAMBLE,
    QUERIES_SHEET,
    SOURCE_SHEEPCRM,
    StoredQuery,
    check_table_name,
    local_now,
    new_query,
    queries_plan,
)
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook

STDOUT = "-"


def write_new_report(
    path: Path,
    results: Sequence[tuple[StoredQuery, TablePlan]],
    *,
    ran_at: dt.datetime,
    refresh_on_open: bool = True,
    statuses: Mapping[str, str] | None = None,
) -> None:
    """A new workbook: one sheet per query's table, then the SheepCRM sheet and the marker.
    ``statuses`` gives a query's Status when it is not ``OK`` (a partial per-event fetch)."""
    sheets = [SheetSpec(query.sheet, plan) for query, plan in results]
    queries = [
        query.with_result(ran_at, plan.n_rows, (statuses or {}).get(query.name, OK))
        for query, plan in results
    ]
    sheets.append(SheetSpec(QUERIES_SHEET, queries_plan(queries), QUERIES_PREAMBLE))
    marker = "TRUE" if refresh_on_open else "FALSE"
    write_workbook(path, sheets, {MARKER_NAME: marker})


# UTF-8 with a byte-order mark, for files and standard output alike: Excel reads a CSV as UTF-8
# only when it starts with the BOM (without it, names like "Zoë" arrive garbled).
CSV_ENCODING = "utf-8-sig"


@dataclass
class ExportResult:
    path: str  # "-" for standard output
    rows: int
    columns: int
    warnings: list[str] = field(default_factory=list)


def output_kind(out: str) -> str:
    if out == STDOUT:
        return "csv"
    suffix = Path(out).suffix.lower()
    if suffix in (".xlsx", ".csv"):
        return suffix[1:]
    raise InputError(
        f"Cannot write {out!r}: the output must end in .xlsx or .csv, or be '-' for CSV on "
        "standard output."
    )


def export_events(
    client: SheepClient,
    bucket: str,
    state: str,
    out: str,
    columns: ColumnsArg = None,
    *,
    page_size: int | None = None,
    table_name: str = DEFAULT_TABLE_NAME,
    sheet_title: str = "Events",
    progress: ProgressCallback | None = None,
    stdout: IO[str] | None = None,
    now: dt.datetime | None = None,
    source: str = SOURCE_SHEEPCRM,
) -> ExportResult:
    """Fetch ``bucket``/``state`` and write ``out`` (.xlsx, .csv or '-'). ``source`` is what a
    new workbook's stored query records (``demo`` when ``client`` is the built-in demo)."""
    # Bad input is checked before fetching: the file name and its folder, the table name.
    kind = output_kind(out)
    if out != STDOUT:
        check_target(Path(out), errors=WorkbookError)
    if kind == "xlsx":
        check_table_name(table_name)
    frame = fetch_events_frame(
        client, bucket, state, columns, page_size=page_size, progress=progress
    )
    warnings = frame_warnings(frame)
    if kind == "xlsx":
        query = new_query(
            bucket,
            state,
            columns_text(columns),
            sheet=sheet_title,
            table=table_name,
            source=source,
        )
        plan = plan_table(frame, table_name)
        with atomic_path(Path(out), errors=WorkbookError) as tmp:
            write_new_report(tmp, [(query, plan)], ran_at=now or local_now())
        warnings = plan.warnings
    else:
        write_csv_output(frame, out, stdout)
    return ExportResult(out, len(frame), len(frame.columns), warnings)


def write_csv_output(frame: pd.DataFrame, out: str, stdout: IO[str] | None = None) -> None:
    """CSV on standard output (``out`` is '-') or in a file that is replaced atomically; the
    same bytes either way."""
    if out == STDOUT:
        write_csv_stream(frame, stdout or io.StringIO())
        return
    with (
        atomic_path(Path(out), errors=WorkbookError) as tmp,
        tmp.open("w", encoding=CSV_ENCODING, newline="") as fh,
    ):
        write_csv(frame, fh)


def columns_text(columns: ColumnsArg) -> str:
    if columns is None:
        return "default"
    if isinstance(columns, str):
        return columns
    if isinstance(columns, ColumnSelection):
        return "all" if columns.is_all else ", ".join(columns.fields)
    return ", ".join(str(c) for c in columns)


def write_csv_stream(frame: pd.DataFrame, stream: IO[str]) -> None:
    """CSV on a text stream (standard output) as the same bytes a .csv file gets: UTF-8 with
    a BOM and ``\n`` line ends, whatever the console's own encoding (cp1252 on Windows)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a pure text stream (io.StringIO): only the BOM can be added
        stream.write("\ufeff")
        write_csv(frame, stream)
        return
    stream.flush()
    wrapper = io.TextIOWrapper(buffer, encoding=CSV_ENCODING, newline="", write_through=True)
    try:
        write_csv(frame, wrapper)
        wrapper.flush()
    finally:
        wrapper.detach()  # leave the caller's stream (and its buffer) open


def write_csv(frame: pd.DataFrame, fh: IO[str]) -> None:
    """CSV with ISO dates; text a spreadsheet would run as a formula gets a leading quote, in
    the header row too (titles of extra fields are the server's field names, e.g. ``=cmd``)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(["'" + t if is_formula_like(t) else t for t in map(str, frame.columns)])
    formatters = [_csv_formatter(spec.field.kind) for spec in column_specs(frame)]
    columns = [frame[c].tolist() for c in frame.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([fmt(v) for fmt, v in zip(formatters, row, strict=True)])


def _csv_formatter(kind: str) -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        if (
            value is None
            or value is pd.NA
            or value is pd.NaT
            or (isinstance(value, float) and value != value)
        ):
            return ""
        if kind == "date":
            return value.strftime("%Y-%m-%d")
        if kind == "datetime":
            return value.isoformat(sep=" ", timespec="seconds")
        if kind == "time":
            return value.strftime("%H:%M")
        if kind == "bool":
            return "TRUE" if value else "FALSE"
        if kind == "number":
            number = float(value)
            return str(int(number)) if number.is_integer() else repr(number)
        text = str(value)
        # OWASP's advice for CSV injection: a quote makes Excel read the cell as text.
        return "'" + text if is_formula_like(text) else text

    return fmt
