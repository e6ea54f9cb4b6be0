"""Export what is inside events (attendees, orders, tickets, ticket types, full events) to a new
``.xlsx`` or CSV, with the events export's own writers.

A new workbook holds the table and, like every workbook sheep-xl writes, its stored query on the
SheepCRM sheet (kind and target: see `sheep_xl.frames.query_kinds`), so ``sheep-xl refresh``,
the ribbon and refresh on open update it in place later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sheep_xl.api.client import SheepClient
from sheep_xl.api.event_parts import event_part
from sheep_xl.api.pacing import RatePacer, WaitCallback
from sheep_xl.api.per_event import DEFAULT_CONCURRENCY, EventFailure, EventProgress
from sheep_xl.exceptions import WorkbookError
from sheep_xl.files import atomic_path, check_target
from sheep_xl.frames.columns import ColumnsArg
from sheep_xl.frames.convert import frame_warnings
from sheep_xl.frames.query_kinds import (
    KINDS,
    QueryKind,
    check_query,
    fetch_query_frame,
    kind_of_part,
)
from sheep_xl.operations.export import (
    STDOUT,
    ExportResult,
    columns_text,
    output_kind,
    write_csv_output,
    write_new_report,
)
from sheep_xl.tables.plan import plan_table
from sheep_xl.tables.queries import (
    SOURCE_SHEEPCRM,
    check_table_name,
    local_now,
    new_query,
    result_status,
)


@dataclass
class PartExport:
    """What was written, and which events could not be fetched (their rows are missing)."""

    result: ExportResult
    failures: list[EventFailure] = field(default_factory=list)
    events: int = 0
    waited: float = 0.0


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
    now: dt.datetime | None = None,
    source: str = SOURCE_SHEEPCRM,
) -> PartExport:
    """Fetch ``part`` of the event ``uid`` or of every event in ``state``, and write ``out``.

    ``part="events"`` with ``details=True`` is the events listing with each summary replaced by
    the full event. The output name, the table name and the query are checked before anything
    is fetched; ``source`` is what a new workbook's stored query records."""
    kind = _kind(part, listed, details)
    check_query(kind, bucket, state, uid, columns)  # one sentence for a bad query, nothing sent
    out_kind = output_kind(out)
    if out != STDOUT:
        check_target(Path(out), errors=WorkbookError)
    table = check_table_name(table_name or kind.table)
    query = None
    if out_kind == "xlsx":  # the stored query is checked as a refresh will check it
        query = new_query(
            bucket,
            state or "",
            columns_text(columns),
            sheet=kind.sheet,
            table=table,
            source=source,
            kind=kind.name,
            event_uid=uid or "",
        )
    fetched = fetch_query_frame(
        client,
        kind,
        bucket,
        state=state,
        uid=uid,
        columns=columns,
        progress=progress,
        on_wait=on_wait,
        concurrency=concurrency,
        pacer=pacer,
    )
    frame = fetched.frame
    warnings = frame_warnings(frame)
    if query is not None:
        plan = plan_table(frame, table)
        ran_at = now or local_now()
        with atomic_path(Path(out), errors=WorkbookError) as tmp:
            write_new_report(
                tmp,
                [(query, plan)],
                ran_at=ran_at,
                statuses={query.name: result_status(fetched.failures, fetched.events)},
            )
        warnings = plan.warnings
    else:
        write_csv_output(frame, out, stdout)
    result = ExportResult(out, len(frame), len(frame.columns), warnings)
    return PartExport(result, fetched.failures, fetched.events, fetched.waited)


def _kind(part: str, listed: bool, details: bool) -> QueryKind:
    if part == "events":
        if not details:
            raise ValueError("export_part('events') is for full details of a state")
        return kind_of_part("event")
    kind = kind_of_part(event_part(part).name)
    if listed:
        return next(k for k in KINDS if k.listed and k.part == kind.part)
    return kind
