"""Refresh and insert stored queries in a workbook open in Excel (through xlwings).

Unlike the headless refresh, each query stands alone: a query whose fetch fails keeps its
previous table untouched and records the error sentence as its status, the others go ahead. A
per-event query some of whose events failed writes the others' rows and says ``Partial``.
Excel's status bar shows progress and is given back at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import xlwings as xw

from sheep_xl.exceptions import SheepError
from sheep_xl.operations.sources import Connections, as_connections
from sheep_xl.tables.plan import plan_table
from sheep_xl.tables.queries import (
    OK,
    StoredQuery,
    check_distinct_tables,
    local_now,
    result_status,
    select_queries,
)
from sheep_xl.writers.live import (
    StatusBar,
    find_table,
    read_queries,
    set_refresh_on_open,
    write_queries,
    write_table,
)

if TYPE_CHECKING:  # the caller's client: a ribbon click that runs no query loads no HTTP stack
    from sheep_xl.api.client import SheepClient


@dataclass
class Outcome:
    query: StoredQuery
    ok: bool
    message: str  # "OK" or the error sentence


def refresh_book(
    book: xw.Book,
    client: SheepClient | Connections,
    *,
    query_names: Sequence[str] | None = None,
    sheet_name: str | None = None,
    now: dt.datetime | None = None,
) -> list[Outcome]:
    """Refresh the workbook's stored queries (all, the named ones, or those of one sheet), each
    from its source (sheepCRM through ``client``, or the built-in demo)."""
    connections = as_connections(client)
    status = StatusBar(book)
    stored = read_queries(book)
    check_distinct_tables(stored)
    if sheet_name is not None:
        selected = [q for q in stored if _query_sheet(book, q).lower() == sheet_name.lower()]
    else:
        selected = select_queries(stored, query_names)
    ran_at = now or local_now()
    outcomes: list[Outcome] = []
    updated: dict[str, StoredQuery] = {}
    try:
        for query in selected:
            try:
                query.validate()
                fetched = connections.fetch(
                    query,
                    pages=status.fetch_progress(query.name),
                    progress=status.event_progress(query.name),
                    on_wait=status.waiting,
                )
                frame = fetched.frame
                write_table(book, query.sheet, plan_table(frame, query.table), status=status)
            except SheepError as exc:
                updated[query.name] = query.with_result(ran_at, query.rows, str(exc))
                outcomes.append(Outcome(query, False, str(exc)))
                continue
            message = result_status(fetched.failures, fetched.events)
            updated[query.name] = query.with_result(ran_at, len(frame), message)
            outcomes.append(Outcome(query, message == OK, message))
        if selected:
            write_queries(book, [updated.get(q.name, q) for q in stored], status)
    finally:
        status.clear()
    return outcomes


def insert_query(
    book: xw.Book,
    client: SheepClient | Connections,
    query: StoredQuery,
    now: dt.datetime | None = None,
) -> Outcome:
    """Add a query (and its sheet and table) to the workbook and fill it."""
    query.validate()
    stored = [q for q in read_queries(book) if q.name.lower() != query.name.lower()]
    write_queries(book, [*stored, query])
    set_refresh_on_open(book, True)
    (outcome,) = refresh_book(book, client, query_names=[query.name], now=now)
    return outcome


def _query_sheet(book: xw.Book, query: StoredQuery) -> str:
    """The sheet a query's table is on now (the user may have moved or renamed it)."""
    table = find_table(book, query.table)
    return table.parent.name if table is not None else query.sheet
