"""Fetch events and type them in one step: validation first, so bad input sends nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from sheep_xl.frames.columns import ColumnsArg, resolve_columns
from sheep_xl.frames.convert import events_frame, record_fields, sort_frame

if TYPE_CHECKING:  # the client is the caller's: importing this module needs no HTTP stack
    from sheep_xl.api.client import ProgressCallback, SheepClient


def fetch_events_frame(
    client: SheepClient,
    bucket: str,
    state: str,
    columns: ColumnsArg = None,
    *,
    page_size: int | None = None,
    sort: str | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Every event of ``bucket`` in ``state`` as a typed frame with the chosen columns,
    optionally sorted by one of them (``"Start date"``, ``"start_date desc"``)."""
    client.validate_request(bucket, state, page_size)
    selection = resolve_columns(columns)  # unknown columns fail here, before any request
    if sort:
        sort_frame(events_frame([], selection), sort)  # so does a bad sort column
    fields = record_fields(selection)  # the events' other fields are never decoded
    records = client.events(bucket, state, page_size, progress=progress, fields=fields)
    return sort_frame(events_frame(records, selection), sort)
