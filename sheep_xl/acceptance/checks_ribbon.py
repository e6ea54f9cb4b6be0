"""The ribbon and refresh: the live writer through xlwings (COM on Windows, AppleScript on a
Mac, any engine here), then, in Excel, the add-in's own macros: RunPython, Refresh all,
Refresh this sheet, Insert events table, and refresh on open of a marked workbook."""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import time
from pathlib import Path
from typing import Any

from sheep_xl.acceptance.context import (
    BUCKET,
    ERROR_TEXTS,
    KitContext,
    attempt,
    compare_tables,
    inventory_in_excel,
    read_table_from_excel,
)
from sheep_xl.acceptance.registry import DESKTOP, WINDOWS, CheckFailed, check
from sheep_xl.tables.queries import OK, SOURCE_DEMO

STALE = dt.datetime(2001, 1, 1, 9, 0)  # "last refreshed" of the files the checks refresh


@check(
    "ribbon.live-writer",
    "ribbon and refresh",
    "The live writer inserts and refreshes a table in an open workbook through xlwings",
)
def live_writer(ctx: KitContext) -> str:
    from sheep_xl.operations.in_excel import insert_query, refresh_book
    from sheep_xl.operations.sources import Connections
    from sheep_xl.tables.queries import new_query
    from sheep_xl.writers.live import read_queries

    expected = ctx.cli_table("confirmed")
    book = ctx.new_book()
    query = new_query(BUCKET, "confirmed", sheet="Confirmed events", table="ConfirmedEvents")
    with Connections(ctx.client) as sources:
        outcome = insert_query(book, sources, query, now=ctx.now)
        if not outcome.ok:
            raise CheckFailed(f"Inserting the table failed: {outcome.message}")
        seen = read_table_from_excel(book, "ConfirmedEvents")
        if seen is None:
            raise CheckFailed("No table ConfirmedEvents after inserting it.")
        problems = compare_tables(expected, seen)
        if problems:
            raise CheckFailed("The live table differs from the CLI's.", problems)
        (again,) = refresh_book(book, sources, now=ctx.now)
    (stored,) = read_queries(book)
    if not again.ok or stored.status != OK or stored.rows != len(expected) - 1:
        raise CheckFailed(
            f"Refreshing the live table gave {again.message!r}; the SheepCRM sheet says "
            f"{stored.status!r} with {stored.rows} rows."
        )
    ctx.close(book)
    return f"{len(seen) - 1} rows inserted equal to the CLI's, then refreshed: {stored.status}"


def _events_copy(ctx: KitContext, name: str) -> Path:
    """A demo events workbook last refreshed long ago, for the add-in to refresh."""
    from sheep_xl.operations.export import export_events

    path = ctx.folder("ribbon") / name
    path.unlink(missing_ok=True)
    export_events(ctx.client, BUCKET, "confirmed", str(path), now=STALE, source=SOURCE_DEMO)
    return path


def _refreshed_since(book: Any, when: dt.datetime) -> bool:
    from sheep_xl.writers.live import read_queries

    queries = attempt(lambda: read_queries(book)) or []
    return bool(queries) and all(
        q.last_refreshed is not None and q.last_refreshed > when and q.status == OK for q in queries
    )


def _click(ctx: KitContext, callback: str) -> str:
    try:
        return str(ctx.macro("SheepProbeRun")(callback) or "")
    except Exception as exc:
        raise CheckFailed(f"The add-in's {callback} raised: {exc}") from exc


@check(
    "ribbon.run-python",
    "ribbon and refresh",
    "A button runs Python through RunPython (Refresh all on a workbook with no tables)",
    real_excel=True,
    platforms=DESKTOP,
    requires=("addin.compiles",),
)
def run_python(ctx: KitContext) -> str:
    from sheep_xl.epoch import function_epoch

    book = ctx.new_book()
    book.activate()
    before = function_epoch()
    said = _click(ctx, "SheepRefreshAll")
    ran = ctx.wait_for(lambda: function_epoch() != before, 60)
    ctx.close(book)
    if said or not ran:
        raise CheckFailed(
            "Refresh all did not run Python"
            + (f": the add-in said {said!r}." if said else " (the function epoch did not move)."),
            ["Python is started as the add-in's settings say (INTERPRETER_WIN/INTERPRETER_MAC)"],
        )
    return "Refresh all ran Python, which told the worksheet functions to fetch again"


@check(
    "ribbon.refresh-all",
    "ribbon and refresh",
    "Refresh all refreshes a workbook's tables through the add-in and keeps them",
    real_excel=True,
    platforms=DESKTOP,
    requires=("ribbon.run-python",),
)
def refresh_all(ctx: KitContext) -> str:
    book = ctx.open_book(_events_copy(ctx, "refresh-all.xlsx"), events=False)
    book.activate()
    before = inventory_in_excel(book)
    said = _click(ctx, "SheepRefreshAll")
    if said:
        raise CheckFailed(f"Refresh all said {said!r}.")
    if not ctx.wait_for(lambda: _refreshed_since(book, STALE), 120):
        raise CheckFailed("Refresh all did not record a new refresh on the SheepCRM sheet.")
    problems = before.lost_in(inventory_in_excel(book))
    if problems:
        raise CheckFailed("Refresh all changed the workbook's structure.", problems)
    ctx.artifacts["refresh_all_book"] = book
    return f"refreshed: {inventory_in_excel(book).as_text()}"


@check(
    "ribbon.refresh-sheet",
    "ribbon and refresh",
    "Refresh this sheet refreshes the active sheet's table",
    real_excel=True,
    platforms=DESKTOP,
    requires=("ribbon.refresh-all",),
)
def refresh_sheet(ctx: KitContext) -> str:
    from sheep_xl.writers.live import read_queries

    book = ctx.artifacts["refresh_all_book"]
    (query,) = read_queries(book)
    last = query.last_refreshed or STALE
    time.sleep(1.1)  # the SheepCRM sheet records whole seconds
    book.sheets[query.sheet].activate()
    said = _click(ctx, "SheepRefreshSheet")
    if said:
        raise CheckFailed(f"Refresh this sheet said {said!r}.")
    if not ctx.wait_for(lambda: _refreshed_since(book, last), 120):
        raise CheckFailed("Refresh this sheet did not record a new refresh.")
    ctx.close(book)
    return f"sheet {query.sheet!r} refreshed"


@check(
    "ribbon.insert-table",
    "ribbon and refresh",
    "Events table's insert (without its dialog) adds a table equal to the CLI's",
    real_excel=True,
    platforms=WINDOWS,
    requires=("ribbon.run-python",),
)
def insert_table(ctx: KitContext) -> str:
    ctx.point_excel_at_demo()
    expected = ctx.cli_table("confirmed")
    book = ctx.new_book()
    book.activate()
    said = str(ctx.macro("SheepProbeRequest")("insert_table", book.name, BUCKET, "confirmed", ""))
    if said:
        raise CheckFailed(f"The add-in said {said!r}.")
    if not ctx.wait_for(lambda: read_table_from_excel(book, "ConfirmedEvents") is not None, 120):
        raise CheckFailed("No table ConfirmedEvents appeared.")
    problems = compare_tables(expected, read_table_from_excel(book, "ConfirmedEvents") or [])
    ctx.close(book)
    if problems:
        raise CheckFailed("The inserted table differs from the CLI's.", problems)
    return f"table ConfirmedEvents inserted with {len(expected) - 1} rows, equal to the CLI's"


@check(
    "ribbon.refresh-on-open",
    "ribbon and refresh",
    "A marked workbook refreshes by itself when opened, and again when reopened",
    real_excel=True,
    platforms=DESKTOP,
    requires=("ribbon.run-python",),
)
def refresh_on_open(ctx: KitContext) -> str:
    from sheep_xl.writers.live import read_queries

    path = _events_copy(ctx, "refresh-on-open.xlsx")
    ctx.app.enable_events = True
    book = ctx.open_book(path)
    if not ctx.wait_for(lambda: _refreshed_since(book, STALE)):
        raise CheckFailed(f"{path.name} did not refresh within {ctx.timeout:.0f} s of opening.")
    (query,) = read_queries(book)
    last = query.last_refreshed or STALE
    book.save()
    ctx.close(book)
    time.sleep(1.1)
    book = ctx.open_book(path)
    if not ctx.wait_for(lambda: _refreshed_since(book, last)):
        raise CheckFailed(f"{path.name} did not refresh again when reopened.")
    ctx.close(book)
    return f"{path.name} refreshed on open, and again on reopening"


@check(
    "ribbon.reports-after-refresh",
    "ribbon and refresh",
    "Refresh all on every report keeps its tables and charts; no summary cell shows an error",
    real_excel=True,
    platforms=DESKTOP,
    requires=("ribbon.refresh-all", "files.written"),
)
def reports_after_refresh(ctx: KitContext) -> str:
    from sheep_xl.acceptance.checks_files import written_files

    failures: list[str] = []
    count = 0
    for written in written_files(ctx):
        if not written.refreshable or not written.kind.startswith("report"):
            continue
        copy = ctx.folder("ribbon") / f"refreshed-in-excel-{written.path.name}"
        shutil.copyfile(written.path, copy)
        book = ctx.open_book(copy, events=False)
        book.activate()
        before = inventory_in_excel(book)
        since = max(q.last_refreshed or STALE for q in _queries(book))
        time.sleep(1.1)
        said = _click(ctx, "SheepRefreshAll")
        refreshed = functools.partial(_refreshed_since, book, since)
        if said or not ctx.wait_for(refreshed, 120):
            failures.append(f"{copy.name}: not refreshed ({said or 'no new refresh recorded'})")
        failures += [f"{copy.name}: {p}" for p in before.lost_in(inventory_in_excel(book))]
        failures += [f"{copy.name}: {p}" for p in _error_cells(book)]
        ctx.close(book)
        count += 1
    if failures:
        raise CheckFailed("A report was not right after Refresh all.", failures)
    return f"{count} reports refreshed in Excel with their tables, charts and summaries intact"


def _queries(book: Any) -> list[Any]:
    from sheep_xl.writers.live import read_queries

    return read_queries(book)


def _error_cells(book: Any) -> list[str]:
    found = []
    for sheet in book.sheets:
        values = sheet.used_range.options(ndim=2, err_to_str=True).value
        for r, row in enumerate(values, 1):
            for c, value in enumerate(row, 1):
                if isinstance(value, str) and value in ERROR_TEXTS:
                    found.append(f"sheet {sheet.name!r} row {r} column {c} shows {value}")
    return found[:10]
