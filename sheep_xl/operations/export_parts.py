"""Export what is inside events (attendees, orders, tickets, ticket types, full events) to a new
``.xlsx`` (one formatted Excel table) or CSV, with the events export's own writers.

The workbook holds the table only, no SheepCRM sheet: a stored query can say "events of a
state" but not yet "attendees of them", and a query that refreshed these tables as events
would be wrong. ``sheep-xl refresh`` of such a workbook therefore says it has no queries;
stored queries of these kinds are the next step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd

from sheep_xl.api.client import SheepClient
from sheep_xl.api.pacing import RatePacer, WaitCallback
from sheep_xl.api.per_event import DEFAULT_CONCURRENCY, EventFailure, EventProgress
from sheep_xl.exceptions import WorkbookError
from sheep_xl.files import atomic_path
from sheep_xl.frames.columns import ColumnsArg
from sheep_xl.frames.convert import frame_warnings
from sheep_xl.frames.fetch_parts import PartFrame, fetch_full_events_frame, fetch_part_frame
from sheep_xl.operations.export import ExportResult, output_kind, write_csv_output
from sheep_xl.tables.plan import plan_table, validate_table_name
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook

#: Default table (and sheet) names per part.
TABLE_NAMES: dict[str, str] = {
    "event": "Event",
    "events": "Events",
    "attendees": "Attendees",
    "orders": "Orders",
    "tickets": "Tickets",
    "ticket-types": "TicketTypes",
}
SHEET_TITLES: dict[str, str] = {
    "event": "Event",
    "events": "Events",
    "attendees": "Attendees",
    "orders": "Orders",
    "tickets": "Tickets",
    "ticket-types": "Ticket types",
}


@dataclass
class PartExport:
    """What was written, and which events could not be fetched (their rows are missing)."""

    result: ExportResult
    failures: list[EventFailure] = field(default_factory=list)
    events: int = 0
    waited: float = 0.0


def write_frame(
    frame: pd.DataFrame,
    out: str,
    *,
    table_name: str,
    sheet_title: str,
    stdout: IO[str] | None = None,
) -> ExportResult:
    """``frame`` as a new .xlsx holding one table, a .csv, or CSV on ``stdout`` ('-')."""
    kind = output_kind(out)
    if kind == "xlsx":
        plan = plan_table(frame, table_name)
        with atomic_path(Path(out), errors=WorkbookError) as tmp:
            write_workbook(tmp, [SheetSpec(sheet_title, plan)])
    else:
        write_csv_output(frame, out, stdout)
    return ExportResult(out, len(frame), len(frame.columns), frame_warnings(frame))


def export_part(
    client: SheepClient,
    bucket: str,
    part: str,
    out: str,
    *,
    uid: str | None = None,
    state: str | None = None,
    columns: ColumnsArg = None,
    listed: bool = False,
    details: bool = False,
    table_name: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: EventProgress | None = None,
    pacer: RatePacer | None = None,
    on_wait: WaitCallback | None = None,
    stdout: IO[str] | None = None,
) -> PartExport:
    """Fetch ``part`` of the event ``uid`` or of every event in ``state``, and write ``out``.

    ``part="events"`` with ``details=True`` is the events listing with each summary replaced by
    the full event. The output name and table name are checked before anything is fetched."""
    output_kind(out)
    key = "events" if part == "events" else part
    table = validate_table_name(table_name or TABLE_NAMES.get(key, "Table"))
    fetched: PartFrame
    if part == "events":
        if not details or state is None:
            raise ValueError("export_part('events') is for full details of a state")
        fetched = fetch_full_events_frame(
            client,
            bucket,
            state,
            columns,
            concurrency=concurrency,
            progress=progress,
            pacer=pacer,
            on_wait=on_wait,
        )
    else:
        fetched = fetch_part_frame(
            client,
            bucket,
            part,
            uid=uid,
            state=state,
            columns=columns,
            listed=listed,
            concurrency=concurrency,
            progress=progress,
            pacer=pacer,
            on_wait=on_wait,
        )
    result = write_frame(
        fetched.frame,
        out,
        table_name=table,
        sheet_title=SHEET_TITLES.get(key, "Table"),
        stdout=stdout,
    )
    return PartExport(result, fetched.failures, fetched.events, fetched.waited)
