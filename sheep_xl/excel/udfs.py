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

What is inside events, for one event (by uid) or for every event of a state or
classification (one request per event, paced by sheepCRM's rate limit):

    =SHEEP_ATTENDEES("example", A2)                             the attendees of the event in A2
    =SHEEP_ORDERS("example", "future+confirmed", "event, buyer, outstanding")
    =SHEEP_TICKETS("example", "current", , "limit=100")
    =SHEEP_TICKET_TYPES("example", "future", , "from_listing=true")   no request per event

The second argument is a state when it is one of the ten states and classifications (or a
``state+classification``), else an event uid; a word that is close to a state name
(``confirmd``) or holds a ``+`` is a misspelt state, said so, and nothing is sent. Columns are
the part's (``SHEEP_COLUMNS("attendees")``), checked before any request. Each part is fetched
once per bucket, part and uid or state for the time-to-live, whatever columns or options the
cells ask for. Every row starts with its event's uid, title and start date.

Events that fail. One event of a state failing (a server error, a uid gone) is not hidden: by
default the cell shows one ``SheepCRM:`` sentence naming the event(s) that failed, with the
first one's error, instead of a table silently missing their rows; the option
``partial=true`` shows the other events' rows instead. The events that worked are kept: after
15 seconds (what a failure is remembered for) the next calculation asks again for the failed
events only, so the table completes once they answer, without fetching the others again.
When every event fails, the first failure is the cell's sentence (an empty table would hide it).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import itertools
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sheep_xl.api.client import SheepClient
from sheep_xl.api.event_parts import event_part
from sheep_xl.api.per_event import (
    EventFailure,
    EventResult,
    fetch_event_part,
    fetch_per_event,
    raise_when_nothing_arrived,
)
from sheep_xl.api.states import ACCEPTED, STATE_DESCRIPTIONS, Selection, resolve_state
from sheep_xl.api.validation import validate_bucket, validate_uid
from sheep_xl.config import ENV_API_URL, config_path, load_settings, resolve_api_url
from sheep_xl.credentials import ENV_API_KEY, resolve_api_key
from sheep_xl.epoch import function_epoch
from sheep_xl.excel.cache import FAILURE_TTL_SECONDS, TtlCache
from sheep_xl.excel.registry import worksheet_function
from sheep_xl.exceptions import (
    InputError,
    InvalidStateError,
    NotFoundError,
    SheepError,
    UnexpectedResponseError,
)
from sheep_xl.frames.catalogue import CATALOGUE, DEFAULT_COLUMNS, Catalogue
from sheep_xl.frames.columns import ColumnSelection, resolve_columns, split_columns
from sheep_xl.frames.convert import events_frame
from sheep_xl.frames.event_catalogues import LISTED_TICKET_TYPES
from sheep_xl.frames.event_parts import (
    CATALOGUES,
    listed_ticket_types_frame,
    part_frame,
    resolve_part_columns,
)
from sheep_xl.tables.plan import check_excel_limits, plan_table
from sheep_xl.writers.live import com_value

_records = TtlCache()  # listings per (address, key, bucket, state); TTL from the settings
_parts = TtlCache(max_entries=64)  # parts per (address, key, bucket, part, uid or state)
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


def _current_session() -> _Session:
    """The session, after clearing the cache if the ribbon's Refresh all (or sign in/out) asked
    for fresh data since the last call."""
    epoch = function_epoch()
    if epoch != _epoch_seen[0]:
        _epoch_seen[0] = epoch
        clear_cache()
    return _session(epoch)


def _listing(bucket: str, api_state: str, ttl: float | None) -> tuple[list[dict], tuple]:
    session = _current_session()
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
    _parts.clear()
    _results.clear()


def _text(value: Any, what: str, example: str = '"example"') -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"The {what} is empty: give it as text, for example {example}.")
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
PART_OPTION_NAMES = (*OPTION_NAMES, "partial")  # SHEEP_ATTENDEES, SHEEP_ORDERS, SHEEP_TICKETS
TICKET_TYPE_OPTION_NAMES = (*PART_OPTION_NAMES, "from_listing")  # SHEEP_TICKET_TYPES
_FLAGS = ("header", "partial", "from_listing")


def parse_options(options: Any, names: Sequence[str] = OPTION_NAMES) -> dict[str, Any]:
    """``"header=false; ttl=60; limit=100"`` or a two-column range of names and values.

    ``names``: the options the function takes (``OPTION_NAMES`` for SHEEP_EVENTS; the
    per-event functions add ``partial``, ticket types ``from_listing``)."""
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
                pairs.append((name.strip().lower().replace("-", "_"), value.strip()))
    elif isinstance(options, (list, tuple)):
        rows = options if options and isinstance(options[0], (list, tuple)) else [options]
        for row in rows:
            if row and row[0] is not None:
                name = str(row[0]).strip().lower().replace("-", "_")
                pairs.append((name, row[1] if len(row) > 1 else None))
    elif options is not None:
        raise InputError('Options must be text like "header=false; ttl=60" or a 2-column range.')
    parsed: dict[str, Any] = {
        "header": True,
        "ttl": None,
        "limit": None,
        "partial": False,
        "from_listing": False,
    }
    for name, value in pairs:
        if name not in names:
            raise InputError(
                f"Unknown option {name!r}: use {', '.join(names)}, for example "
                '"header=false; ttl=60; limit=100".'
            )
        if name in _FLAGS:
            parsed[name] = str(value).strip().lower() not in ("false", "0", "no", "off")
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
        return _excel_table(events_frame(rows, chosen), opts["header"])

    return _results.get(result_key, render)


def _excel_table(frame: pd.DataFrame, header: bool) -> list[list[Any]]:
    """A typed frame as the table the COM call returns (`excel_result`), header row first."""
    plan = plan_table(frame)
    # a spill cannot pass the sheet's last row or column even from A1: say so, in the cell
    check_excel_limits(plan, 1 if header else 0, 1)
    body = [[excel_result(v) for v in row] for row in plan.iter_rows()]
    table = ([[excel_result(t) for t in plan.titles]] if header else []) + body
    return table or [[""] * max(plan.n_cols, 1)]


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


# --- inside each event: attendees, orders, tickets, ticket types ---------------------------------

Record = dict[str, Any]
PARTIAL_RETRY_SECONDS = FAILURE_TTL_SECONDS  # failed events are asked again after this long
_serials = itertools.count(1)


@dataclass(frozen=True)
class _Target:
    """The second argument of a per-event function: one event's uid, or a state."""

    uid: str | None = None
    selection: Selection | None = None

    @property
    def key(self) -> tuple[str, str]:
        if self.selection is not None:
            return ("state", self.selection.name)
        return ("uid", str(self.uid))


def _target(value: Any) -> _Target:
    """A state or classification when it is one; a misspelt one (close to a state name, or
    holding a ``+``, which no uid has) is the state error; anything else must be a uid."""
    text = _text(value, "event uid or state", '"future+confirmed" or an event\'s uid')
    try:
        return _Target(selection=resolve_state(text))
    except InvalidStateError:
        name = text.lower().replace(" ", "")
        if "+" in name or difflib.get_close_matches(name, ACCEPTED, n=1):
            raise
    try:
        return _Target(uid=validate_uid(text))
    except InputError:
        shown = repr(text if len(text) <= 40 else text[:37] + "...")
        raise InputError(
            f"{shown} is neither an event uid nor a state: give an event's uid (the letters and "
            "digits at the end of its URI, for example '6305f074683e800f3abe809e') or one of "
            f"{', '.join(ACCEPTED)}, or a state and a classification such as future+confirmed."
        ) from None


@dataclass(frozen=True)
class _Fetched:
    """One snapshot of a part as fetched: every event asked about, in the listing's order, its
    answer (None where it failed) and why it failed."""

    events: tuple[Record, ...]
    bodies: tuple[Record | None, ...]
    failures: Mapping[int, EventFailure]
    tried_at: float
    version: int = 0

    @property
    def results(self) -> list[EventResult]:
        return [
            EventResult(e, b)
            for e, b in zip(self.events, self.bodies, strict=True)
            if b is not None
        ]


@dataclass
class _PartFetch:
    """What the cache keeps per bucket, part and target. ``current`` is replaced as a whole
    when failed events are asked again, so a reader always sees one consistent snapshot."""

    current: _Fetched
    serial: int = field(default_factory=lambda: next(_serials))
    lock: threading.Lock = field(default_factory=threading.Lock)


def _merge(
    base: _Fetched,
    asked: Sequence[int],
    results: Sequence[EventResult],
    failed: Sequence[EventFailure],
) -> _Fetched:
    """``base`` with the answers for the events at ``asked`` (the others stay as they were).
    ``failed``: the failures of the events at ``asked`` that gave no answer, in their order."""
    answers = {id(r.event): r.body for r in results}
    bodies = list(base.bodies)
    failures = dict(base.failures)
    missing: list[int] = []
    for index in asked:
        body = answers.get(id(base.events[index]))
        if body is None:
            missing.append(index)
        else:
            bodies[index] = body
            failures.pop(index, None)
    # every event is either answered or failed: a mismatch is a bug, never rows dropped silently
    failures.update(zip(missing, failed, strict=True))
    return _Fetched(base.events, tuple(bodies), failures, time.monotonic(), base.version + 1)


def _load_part(
    session: _Session, bucket: str, part: str, target: _Target, ttl: float | None
) -> _PartFetch:
    """Fetch ``part`` of one event, or of every event of a state (whose listing is the one
    SHEEP_EVENTS caches). Failures of single events are kept; all failing is raised."""
    client = session.client
    if target.uid is not None:
        result = fetch_event_part(client, bucket, target.uid, part)
        return _PartFetch(_Fetched((result.event,), (result.body,), {}, time.monotonic()))
    selection = target.selection
    assert selection is not None
    records, _ = _listing(bucket, selection.api_state, ttl)
    events = records if selection.keep is None else [r for r in records if selection.keep(r)]
    fetched = fetch_per_event(client, bucket, part, events=events)
    raise_when_nothing_arrived(fetched)
    empty = _Fetched(tuple(events), (None,) * len(events), {}, 0.0, -1)
    return _PartFetch(_merge(empty, range(len(events)), fetched.results, fetched.failures))


def _ask_failed_again(holder: _PartFetch, session: _Session, bucket: str, part: str) -> None:
    """Ask again for the events that failed, once ``PARTIAL_RETRY_SECONDS`` have passed (one
    caller asks, the others wait and see its answer)."""
    if not holder.current.failures:
        return
    if time.monotonic() - holder.current.tried_at < PARTIAL_RETRY_SECONDS:
        return
    with holder.lock:
        base = holder.current
        if not base.failures or time.monotonic() - base.tried_at < PARTIAL_RETRY_SECONDS:
            return
        asked = sorted(base.failures)
        try:
            again = fetch_per_event(
                session.client, bucket, part, events=[base.events[i] for i in asked]
            )
        except SheepError:  # a key rejected meanwhile: say so, and wait before asking again
            holder.current = _Fetched(
                base.events, base.bodies, base.failures, time.monotonic(), base.version
            )
            raise
        holder.current = _merge(base, asked, again.results, again.failures)


def _some_failed(part: str, fetched: _Fetched) -> SheepError:
    """The sentence for a table that would miss the rows of the events that failed."""
    failures = [fetched.failures[i] for i in sorted(fetched.failures)]
    first = failures[0]
    what = event_part(part).what

    def named(failure: EventFailure) -> str:
        return f"'{failure.title or '(untitled)'}' ({failure.uid or 'no uid'})"

    if len(failures) == 1:
        where = named(first)
    else:
        shown = ", ".join(named(f) for f in failures[:4])
        more = f" and {len(failures) - 4} more" if len(failures) > 4 else ""
        where = f"{shown}{more}; the first"
    error = first.error or UnexpectedResponseError(first.message)
    return error.in_context(
        f"{len(failures)} of {len(fetched.events)} event(s) gave no {what}, so no table is shown "
        f"rather than one without their rows (the option partial=true shows the other events' "
        f"{what}): {where}"
    )


def _part_columns(part: str, columns: Any, listed: bool) -> ColumnSelection:
    names = _flatten(columns) or None
    return (
        resolve_columns(names, LISTED_TICKET_TYPES) if listed else resolve_part_columns(part, names)
    )


def _part_table(part: str, bucket: Any, uid_or_state: Any, columns: Any, options: Any) -> Any:
    """The table of ``part`` for a worksheet function; every input is checked before any
    request (bucket, uid or state, options, columns)."""
    bucket = validate_bucket(_text(bucket, "bucket"))
    target = _target(uid_or_state)
    names = TICKET_TYPE_OPTION_NAMES if part == "ticket-types" else PART_OPTION_NAMES
    opts = parse_options(options, names)
    listed = bool(opts["from_listing"])
    if listed and target.selection is None:
        raise InputError(
            "The option from_listing reads the ticket types of every event of a state from the "
            'events listing: give a state (e.g. "future"), not an event uid.'
        )
    chosen = _part_columns(part, columns, listed)
    header, limit = opts["header"], opts["limit"]

    def as_table(frame: pd.DataFrame) -> list[list[Any]]:
        return _excel_table(frame if limit is None else frame.iloc[:limit], header)

    if listed:
        selection = target.selection
        assert selection is not None
        records, fetch_key = _listing(bucket, selection.api_state, opts["ttl"])
        fetched_at = _records.fetched_at(fetch_key)
        events = records if selection.keep is None else [r for r in records if selection.keep(r)]
        listed_key = (
            "listed ticket types",
            fetch_key,
            fetched_at,
            selection.name,
            chosen,
            header,
            limit,
        )
        return _results.get(listed_key, lambda: as_table(listed_ticket_types_frame(events, chosen)))

    session = _current_session()
    part_key = (*session.identity, bucket.lower(), part, *target.key)
    holder: _PartFetch = _parts.get(
        part_key,
        lambda: _load_part(session, bucket, part, target, opts["ttl"]),
        session.ttl_seconds if opts["ttl"] is None else opts["ttl"],
    )
    _ask_failed_again(holder, session, bucket, part)
    fetched = holder.current
    if fetched.failures and not opts["partial"]:
        raise _some_failed(part, fetched)
    key = (part_key, holder.serial, fetched.version, chosen, header, limit)
    return _results.get(key, lambda: as_table(part_frame(part, fetched.results, chosen)))


_PART_ARGS = {
    "bucket": 'Your sheepCRM database name, e.g. "example"',
    "uid_or_state": 'An event\'s uid, or a state or classification, e.g. "future+confirmed"',
    "columns": 'Optional: "default", "all", or field names/titles (text or a range)',
    "options": 'Optional: "header=false; ttl=60; limit=100; partial=true"',
}


@worksheet_function(raw_result=True, **_PART_ARGS)
def SHEEP_ATTENDEES(
    bucket: Any, uid_or_state: Any, columns: Any = None, options: Any = None
) -> Any:
    """Attendees of one event (by uid) or of every event of a state, as a table that spills."""
    return _part_table("attendees", bucket, uid_or_state, columns, options)


@worksheet_function(raw_result=True, **_PART_ARGS)
def SHEEP_ORDERS(bucket: Any, uid_or_state: Any, columns: Any = None, options: Any = None) -> Any:
    """Orders (one row per order and currency) of one event or of every event of a state."""
    return _part_table("orders", bucket, uid_or_state, columns, options)


@worksheet_function(raw_result=True, **_PART_ARGS)
def SHEEP_TICKETS(bucket: Any, uid_or_state: Any, columns: Any = None, options: Any = None) -> Any:
    """Tickets, cancelled ones included, of one event or of every event of a state."""
    return _part_table("tickets", bucket, uid_or_state, columns, options)


@worksheet_function(
    raw_result=True,
    **{
        **_PART_ARGS,
        "options": 'Optional: "header=false; limit=100; partial=true; from_listing=true"',
    },
)
def SHEEP_TICKET_TYPES(
    bucket: Any, uid_or_state: Any, columns: Any = None, options: Any = None
) -> Any:
    """Ticket types (price, stock, members-only) of one event or of every event of a state."""
    return _part_table("ticket-types", bucket, uid_or_state, columns, options)


@worksheet_function()
def SHEEP_STATES() -> Any:
    """The states and classifications SHEEP_EVENTS accepts, with what each one means."""
    return [["State", "Meaning"], *[[name, STATE_DESCRIPTIONS[name]] for name in ACCEPTED]]


COLUMN_KINDS: tuple[str, ...] = ("events", *(k for k in CATALOGUES if k != "event"))


@worksheet_function(
    kind="Optional: events (the default), attendees, orders, tickets or ticket-types"
)
def SHEEP_COLUMNS(kind: Any = None) -> Any:
    """Every field of events (or attendees, orders...): name, column title, kind, default."""
    name = "events" if kind is None else _text(kind, "kind", '"attendees"').lower()
    name = name.replace(" ", "-").replace("_", "-")
    name = {"event": "events", "ticket-type": "ticket-types"}.get(name, name)
    if name == "events":
        return [
            ["Field", "Title", "Kind", "Default"],
            *[[f.name, f.title, f.kind, f.name in DEFAULT_COLUMNS] for f in CATALOGUE],
        ]
    if name not in COLUMN_KINDS:
        raise InputError(f"Unknown kind {name[:40]!r}: use one of {', '.join(COLUMN_KINDS)}.")
    catalogue: Catalogue = CATALOGUES[name]
    return [
        ["Field", "Title", "Kind", "Default"],
        *[
            [f.name, f.title, f.kind, f.name in catalogue.defaults]
            for f in (*catalogue.fields, *catalogue.derived)
        ],
    ]


def function_names() -> Sequence[str]:
    return (
        "SHEEP_EVENTS",
        "SHEEP_EVENT",
        "SHEEP_COUNT",
        "SHEEP_ATTENDEES",
        "SHEEP_ORDERS",
        "SHEEP_TICKETS",
        "SHEEP_TICKET_TYPES",
        "SHEEP_STATES",
        "SHEEP_COLUMNS",
    )


__all__ = ["clear_cache", "excel_result", "function_names", "parse_options"]
