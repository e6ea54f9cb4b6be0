"""Fetch what is inside events and type it in one step, for one event (by uid) or for every
event of a listing (by state). Every input is checked first, so bad input sends nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sheep_xl.api.client import ProgressCallback, SheepClient
from sheep_xl.api.event_parts import event_part
from sheep_xl.api.pacing import RatePacer, WaitCallback
from sheep_xl.api.per_event import (
    DEFAULT_CONCURRENCY,
    EventFailure,
    EventProgress,
    _concurrency,
    fetch_event_part,
    fetch_per_event,
    raise_when_nothing_arrived,
)
from sheep_xl.api.validation import validate_bucket, validate_uid
from sheep_xl.exceptions import InputError
from sheep_xl.frames.columns import ColumnsArg, resolve_columns
from sheep_xl.frames.event_catalogues import FULL_EVENT, LISTED_TICKET_TYPES
from sheep_xl.frames.event_parts import (
    full_events_frame,
    listed_ticket_types_frame,
    part_frame,
    resolve_part_columns,
)


@dataclass
class PartFrame:
    """A typed frame and what could not be fetched for it."""

    frame: pd.DataFrame
    failures: list[EventFailure] = field(default_factory=list)
    events: int = 0  # events asked about
    waited: float = 0.0  # seconds spent waiting for the rate limit


def fetch_part_frame(
    client: SheepClient,
    bucket: str,
    part: str,
    *,
    uid: str | None = None,
    state: str | None = None,
    columns: ColumnsArg = None,
    listed: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: EventProgress | None = None,
    pages: ProgressCallback | None = None,
    pacer: RatePacer | None = None,
    on_wait: WaitCallback | None = None,
) -> PartFrame:
    """``part`` (``event``, ``attendees``, ``orders``, ``tickets``, ``ticket-types``) of the
    event ``uid``, or of every event of ``bucket`` in ``state`` (give exactly one).

    ``listed=True`` (ticket types with a state only) reads the ``ticket_types`` map the listing
    already holds instead of one request per event. When every event fails, the first failure
    is raised: an empty table would hide it."""
    spec = event_part(part)
    bucket = validate_bucket(bucket)
    if (uid is None) == (state is None):
        raise InputError(
            f"Give either an event uid or --state for the {spec.what}, not both or neither."
        )
    if listed and (spec.name != "ticket-types" or state is None):
        raise InputError(
            "Only ticket types can be read from the events listing, and only with --state."
        )
    catalogue_columns = (
        resolve_columns(columns, LISTED_TICKET_TYPES)
        if listed
        else resolve_part_columns(spec.name, columns)
    )  # unknown columns fail here, before any request
    if uid is not None:
        result = fetch_event_part(client, bucket, validate_uid(uid), spec.name)
        return PartFrame(part_frame(spec.name, [result], catalogue_columns), events=1)
    assert state is not None
    client.validate_request(bucket, state)
    _concurrency(concurrency)
    if listed:
        records = client.events(bucket, state, progress=pages)
        return PartFrame(listed_ticket_types_frame(records, catalogue_columns), events=len(records))
    fetched = fetch_per_event(
        client,
        bucket,
        spec.name,
        state=state,
        concurrency=concurrency,
        progress=progress,
        pacer=pacer,
        on_wait=on_wait,
    )
    raise_when_nothing_arrived(fetched)
    return PartFrame(
        part_frame(spec.name, fetched.results, catalogue_columns),
        fetched.failures,
        fetched.total,
        fetched.waited,
    )


def fetch_full_events_frame(
    client: SheepClient,
    bucket: str,
    state: str,
    columns: ColumnsArg = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: EventProgress | None = None,
    pacer: RatePacer | None = None,
    on_wait: WaitCallback | None = None,
) -> PartFrame:
    """Every event of ``bucket`` in ``state`` with its full details (one request per event).

    An event whose details could not be fetched keeps its listing record (the summary), and is
    named in the failures."""
    bucket = validate_bucket(bucket)
    client.validate_request(bucket, state)
    selection = resolve_columns(columns, FULL_EVENT)
    _concurrency(concurrency)
    fetched = fetch_per_event(
        client,
        bucket,
        "event",
        state=state,
        concurrency=concurrency,
        progress=progress,
        pacer=pacer,
        on_wait=on_wait,
    )
    raise_when_nothing_arrived(fetched)
    full = {id(r.event): r.body for r in fetched.results}
    # the listing's order, each summary replaced by its full record where that arrived
    records = [full.get(id(record), record) for record in fetched.events]
    return PartFrame(
        full_events_frame(records, selection), fetched.failures, fetched.total, fetched.waited
    )
