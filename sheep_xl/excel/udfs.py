"""Worksheet functions of the SheepCRM add-in (Windows Excel; the add-in names this module).

    =SHEEP_EVENTS("example", "confirmed")                      a spilled, typed table of events
    =SHEEP_EVENTS("example", "future", "title, start date")    chosen columns (text or a range)
    =SHEEP_EVENT("example", A2, "capacity")                    one field of one event, by uid
    =SHEEP_COUNT("example", "cancelled")                       how many events
    =SHEEP_STATES()  =SHEEP_COLUMNS()                          what you can ask for

Results come from a cache shared by all cells (default five minutes, setting
``cache_ttl_seconds``; option ``ttl=``), so a workbook full of formulas makes one request per
distinct query. Errors come back as one cell holding one sentence starting with ``SheepCRM:``.
Dates and date-times are Excel dates; times are fractions of a day. Excel's limits are the
tables layer's, as in every writer: a date before 1900-01-01 or a number beyond Excel's range
is an empty cell, and a result that could not spill on a sheet is an error. A function cannot format
cells, so format the spill area (the ribbon's *Insert live formula* does it for you).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sheep_xl.api.client import SheepClient
from sheep_xl.api.states import ACCEPTED, STATE_DESCRIPTIONS, resolve_state
from sheep_xl.api.validation import validate_bucket, validate_uid
from sheep_xl.config import ENV_API_URL, config_path, load_settings, resolve_api_url
from sheep_xl.credentials import ENV_API_KEY, resolve_api_key
from sheep_xl.epoch import function_epoch
from sheep_xl.excel.cache import TtlCache
from sheep_xl.excel.registry import worksheet_function
from sheep_xl.exceptions import InputError, NotFoundError
from sheep_xl.frames.catalogue import CATALOGUE, DEFAULT_COLUMNS
from sheep_xl.frames.columns import resolve_columns, split_columns
from sheep_xl.frames.convert import events_frame
from sheep_xl.tables.plan import check_excel_limits, plan_table
from sheep_xl.writers.live import com_value

_records = TtlCache()  # listings per (address, key, bucket, state); TTL from the settings
_results = TtlCache(ttl_seconds=24 * 3600, max_entries=128)  # rendered tables per fetch
_clients: dict[tuple[str, str], SheepClient] = {}
_epoch_seen = [function_epoch()]
_clients_lock = threading.Lock()


# --- plumbing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Session:
    client: SheepClient
    identity: tuple[str, str]  # (address, hash of the key): never reuse another key's results
    ttl_seconds: float


_session_memo: list[tuple[tuple[Any, ...], _Session]] = []


def _inputs_fingerprint(epoch: str) -> tuple[Any, ...]:
    """What the address, key and settings depend on. Sign in/out bump the epoch (the stored key
    lives in the OS credential store, which is slow to ask on every cell)."""
    path = config_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    return epoch, os.environ.get(ENV_API_KEY), os.environ.get(ENV_API_URL), str(path), stamp


def _session(epoch: str) -> _Session:
    """The client and settings for the current inputs; worked out again only when they change."""
    fingerprint = _inputs_fingerprint(epoch)
    with _clients_lock:
        if _session_memo and _session_memo[0][0] == fingerprint:
            return _session_memo[0][1]
    settings = load_settings()
    url = resolve_api_url()
    key = resolve_api_key(url)
    identity = (url, hashlib.sha256(key.value.encode()).hexdigest()[:16])
    with _clients_lock:
        client = _clients.get(identity)
        if client is None:
            client = _clients[identity] = SheepClient(api_key=key.value, base_url=url)
        session = _Session(client, identity, settings.cache_ttl_seconds)
        _session_memo[:] = [(fingerprint, session)]
    return session


def _listing(bucket: str, api_state: str, ttl: float | None) -> tuple[list[dict], tuple]:
    epoch = function_epoch()
    if epoch != _epoch_seen[0]:  # the ribbon's Refresh all asked for fresh data
        _epoch_seen[0] = epoch
        clear_cache()
    session = _session(epoch)
    key = (*session.identity, bucket.lower(), api_state)
    records = _records.get(
        key,
        lambda: session.client.events(bucket, api_state),
        session.ttl_seconds if ttl is None else ttl,
    )
    return records, key


def clear_cache() -> None:
    """Forget every cached result (the ribbon's Refresh all calls this before recalculating)."""
    _records.clear()
    _results.clear()


def _text(value: Any, what: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f'The {what} is empty: give it as text, for example "example".')
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _flatten(value: Any) -> list[str]:
    """A comma-separated text, a row/column of cells, or a 2-D range -> a list of names."""
    if value is None:
        return []
    if isinstance(value, str):
        return split_columns(value)
    if isinstance(value, (list, tuple)):
        out: list[str] = []
        for item in value:
            out.extend(_flatten(item))
        return out
    return [str(value)]


OPTION_NAMES = ("header", "ttl", "limit")


def parse_options(options: Any) -> dict[str, Any]:
    """``"header=false; ttl=60; limit=100"`` or a two-column range of names and values."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(options, str):
        for part in options.replace(";", ",").split(","):
            if part.strip():
                name, sep, value = part.partition("=")
                if not sep:
                    raise InputError(
                        f"Option {part.strip()!r} has no value: write name=value, for example "
                        '"header=false; ttl=60".'
                    )
                pairs.append((name.strip().lower(), value.strip()))
    elif isinstance(options, (list, tuple)):
        rows = options if options and isinstance(options[0], (list, tuple)) else [options]
        for row in rows:
            if row and row[0] is not None:
                pairs.append((str(row[0]).strip().lower(), row[1] if len(row) > 1 else None))
    elif options is not None:
        raise InputError('Options must be text like "header=false; ttl=60" or a 2-column range.')
    parsed: dict[str, Any] = {"header": True, "ttl": None, "limit": None}
    for name, value in pairs:
        if name not in OPTION_NAMES:
            raise InputError(
                f"Unknown option {name!r}: use {', '.join(OPTION_NAMES)}, for example "
                '"header=false; ttl=60; limit=100".'
            )
        if name == "header":
            parsed["header"] = str(value).strip().lower() not in ("false", "0", "no", "off")
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = -1
            if number < 0:
                unit = "seconds" if name == "ttl" else "rows"
                raise InputError(f"Option {name} must be a number of {unit} (0 or more).")
            parsed[name] = int(number) if name == "limit" else number
    return parsed


# --- results in the form the COM call returns ------------------------------------------------

_UTC = dt.UTC


def excel_result(value: Any) -> Any:
    """A plan value as xlwings' Windows conversion hands it to COM (``com_value``, then the
    engine's ``prepare_xl_data_element``): empty cells are ``""``, dates and date-times are
    datetimes stamped UTC (the wall clock kept: xlwings does this so pywin32 does not shift
    them), times are fractions of a day, numpy numbers are floats. Results kept in this form
    are returned with xlwings' ``raw`` converter, which passes them through untouched; a test
    runs xlwings' real conversion code over the same values and compares."""
    kind = type(value)
    if value is None:
        return ""
    if kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        return "" if math.isnan(value) else value
    if kind is dt.datetime:
        return value.replace(tzinfo=_UTC)
    if kind is dt.date:
        return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    if kind is dt.time:
        return com_value(value)
    return _like_xlwings(value)


def _like_xlwings(value: Any) -> Any:
    """What ``_xlwindows.Engine.prepare_xl_data_element`` does, for the rare values a plan
    does not make itself (pandas and numpy scalars, subclasses)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dt.time):
        return com_value(value)
    if isinstance(value, (dt.date, np.datetime64)):
        if value is pd.NaT:
            return ""
        if isinstance(value, np.datetime64):
            value = pd.Timestamp(value)
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
        return value.replace(tzinfo=None).replace(tzinfo=_UTC)
    if pd.isna(value):
        return ""
    if isinstance(value, np.number):
        return float(value)
    return value


# --- the functions -----------------------------------------------------------------------------


@worksheet_function(
    raw_result=True,
    bucket='Your sheepCRM database name, e.g. "example"',
    state="all, current, draft, future, past, running, confirmed, cancelled, enquiry or tbc",
    columns='Optional: "default", "all", or field names/titles (text or a range)',
    options='Optional: "header=false; ttl=60; limit=100"',
)
def SHEEP_EVENTS(bucket: Any, state: Any, columns: Any = None, options: Any = None) -> Any:
    """Events of a sheepCRM bucket as a table (header row and one row per event) that spills."""
    bucket = validate_bucket(_text(bucket, "bucket"))
    selection = resolve_state(_text(state, "state"))
    names = _flatten(columns)
    chosen = resolve_columns(names or None)
    opts = parse_options(options)
    records, fetch_key = _listing(bucket, selection.api_state, opts["ttl"])
    fetched_at = _records.fetched_at(fetch_key)
    result_key = (fetch_key, fetched_at, selection.name, chosen, opts["header"], opts["limit"])

    def render() -> list[list[Any]]:
        """The table in the form the COM call returns (`excel_result`), cached as such: a warm
        call is then a lookup, with nothing converted per cell (declared ``raw``)."""
        rows = records if selection.keep is None else [r for r in records if selection.keep(r)]
        if opts["limit"] is not None:
            rows = rows[: opts["limit"]]
        plan = plan_table(events_frame(rows, chosen))
        # a spill cannot pass the sheet's last row or column even from A1: say so, in the cell
        check_excel_limits(plan, 1 if opts["header"] else 0, 1)
        body = [[excel_result(v) for v in row] for row in plan.iter_rows()]
        table = ([[excel_result(t) for t in plan.titles]] if opts["header"] else []) + body
        return table or [[""] * max(plan.n_cols, 1)]

    return _results.get(result_key, render)


@worksheet_function(
    bucket="Your sheepCRM database name",
    uid="The event's uid (the last part of its URI)",
    field='A field name or column title, e.g. "capacity" or "Start date"',
)
def SHEEP_EVENT(bucket: Any, uid: Any, field: Any = "title") -> Any:
    """One field of one event, looked up by its uid."""
    bucket = validate_bucket(_text(bucket, "bucket"))
    uid = validate_uid(_text(uid, "uid"))
    selection = resolve_columns([_text(field, "field")])
    name = selection.fields[0]
    records, _ = _listing(bucket, "all", None)
    record = next((r for r in records if r.get("uid") == uid), None)
    if record is None or name not in record:
        session = _session(function_epoch())
        record = _records.get(
            (*session.identity, bucket.lower(), "uid", uid),
            lambda: session.client.event(bucket, uid),
        )
    if record is None:
        raise NotFoundError(f"Event '{uid}' was not found in bucket '{bucket}'.")
    plan = plan_table(events_frame([record], selection))
    value = com_value(plan.column(0)[0])
    return "" if value is None else value


@worksheet_function(
    bucket="Your sheepCRM database name",
    state='A state or classification, e.g. "confirmed"',
)
def SHEEP_COUNT(bucket: Any, state: Any) -> Any:
    """How many events a bucket has in a state or classification."""
    bucket = validate_bucket(_text(bucket, "bucket"))
    selection = resolve_state(_text(state, "state"))
    records, _ = _listing(bucket, selection.api_state, None)
    if selection.keep is None:
        return len(records)
    return sum(1 for r in records if selection.keep(r))


@worksheet_function()
def SHEEP_STATES() -> Any:
    """The states and classifications SHEEP_EVENTS accepts, with what each one means."""
    return [["State", "Meaning"], *[[name, STATE_DESCRIPTIONS[name]] for name in ACCEPTED]]


@worksheet_function()
def SHEEP_COLUMNS() -> Any:
    """Every event field: its name, column title, kind, and whether it is a default column."""
    return [
        ["Field", "Title", "Kind", "Default"],
        *[[f.name, f.title, f.kind, f.name in DEFAULT_COLUMNS] for f in CATALOGUE],
    ]


def function_names() -> Sequence[str]:
    return ("SHEEP_EVENTS", "SHEEP_EVENT", "SHEEP_COUNT", "SHEEP_STATES", "SHEEP_COLUMNS")


__all__ = ["clear_cache", "excel_result", "function_names", "parse_options"]
