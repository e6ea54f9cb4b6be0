"""What a stored query can fetch: its *kind* (events, full events, attendees, orders, tickets,
ticket types) and its *target* (a state or classification for many events, or one event's uid),
checked and fetched in one place for every entry point (headless refresh, live refresh, reports,
the ribbon).

==============  ==========================================  ======================================
kind            with a state                                with an event uid
==============  ==========================================  ======================================
events          the events listing (one request a page)     (not allowed: use ``full events``)
full events     each listed event's full details            that event's full details, one row
attendees       attendees of every event of the state       that event's attendees
orders          one row per order and currency              that event's orders
tickets         every ticket, cancelled ones too            that event's tickets
ticket types    each event's ticket types and stock         that event's ticket types
listed ticket   the ``ticket_types`` map the listing        (not allowed: the listing is by state)
types           already holds: no request per event
==============  ==========================================  ======================================

Per-event kinds with a state make one request per event, paced by sheepCRM's rate limit. An
event that could not be fetched is named in the result's ``failures``; the rows of the others
are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sheep_xl.api.states import resolve_state
from sheep_xl.api.validation import validate_bucket, validate_uid
from sheep_xl.exceptions import InputError
from sheep_xl.frames.catalogue import EVENTS, Catalogue
from sheep_xl.frames.columns import ColumnsArg, resolve_columns
from sheep_xl.frames.convert import events_frame, sort_frame
from sheep_xl.frames.event_catalogues import FULL_EVENT, LISTED_TICKET_TYPES
from sheep_xl.frames.event_parts import (
    catalogue_for,
    full_events_frame,
    listed_ticket_types_frame,
    part_frame,
)

if TYPE_CHECKING:  # the client is the caller's: importing this module needs no HTTP stack
    from sheep_xl.api.client import ProgressCallback, SheepClient
    from sheep_xl.api.pacing import RatePacer, WaitCallback
    from sheep_xl.api.per_event import EventProgress
    from sheep_xl.frames.fetch_parts import PartFrame


@dataclass(frozen=True)
class QueryKind:
    name: str  # as the Kind column of the SheepCRM sheet spells it
    part: str | None  # the per-event endpoint (`sheep_xl.api.event_parts`); None: the listing
    noun: str  # what a row is, plural, for messages: "attendees"
    table: str  # the default table name of a new table of this kind
    sheet: str  # the default sheet title
    listed: bool = False  # read from the events listing (by state), no request per event

    @property
    def catalogue(self) -> Catalogue:
        if self.listed:
            return LISTED_TICKET_TYPES
        if self.part is None:
            return EVENTS
        return FULL_EVENT if self.part == "event" else catalogue_for(self.part)

    @property
    def per_event(self) -> bool:
        """One request per event (or the one event's)."""
        return self.part is not None and not self.listed

    @property
    def by_state_only(self) -> bool:
        return self.part is None or self.listed


EVENTS_KIND = QueryKind("events", None, "events", "Events", "Events")
KINDS: tuple[QueryKind, ...] = (
    EVENTS_KIND,
    QueryKind("full events", "event", "events", "Events", "Events"),
    QueryKind("attendees", "attendees", "attendees", "Attendees", "Attendees"),
    QueryKind("orders", "orders", "orders", "Orders", "Orders"),
    QueryKind("tickets", "tickets", "tickets", "Tickets", "Tickets"),
    QueryKind("ticket types", "ticket-types", "ticket types", "TicketTypes", "Ticket types"),
    QueryKind(
        "listed ticket types",
        "ticket-types",
        "ticket types",
        "TicketTypes",
        "Ticket types",
        listed=True,
    ),
)
KIND_NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)
_BY_PART = {k.part: k for k in KINDS if k.part is not None and not k.listed}


def resolve_kind(text: str | None) -> QueryKind:
    """A kind as a person may type it: any letter case, ``-`` or ``_`` for the space, singular
    or plural (``Ticket-Types``, ``attendee``, ``full event``); blank is ``events``."""
    key = " ".join((text or "").strip().lower().replace("-", " ").replace("_", " ").split())
    if not key:
        return EVENTS_KIND
    for kind in KINDS:
        if key in (kind.name, kind.name.rstrip("s"), (kind.part or "").replace("-", " ")):
            return kind
    raise InputError(
        f"Unknown kind {str(text).strip()[:40]!r}: use one of {', '.join(KIND_NAMES)}."
    )


def kind_of_part(part: str) -> QueryKind:
    """The kind whose rows an endpoint (``attendees``, ``event``...) gives."""
    return _BY_PART[part]


def check_target(
    kind: QueryKind, state: str | None, uid: str | None
) -> tuple[str | None, str | None]:
    """The target of a query of ``kind``: exactly one of a state and an event uid (events: a
    state only), each checked as the request will be. Returns them cleaned (blank -> None)."""
    state = (state or "").strip() or None
    uid = (uid or "").strip() or None
    if kind.by_state_only:
        if uid is not None and kind.listed:
            raise InputError(
                "Ticket types are read from the events listing only with a state (--state, or "
                "a query's State column), not an event uid: give a state, or fetch one event's "
                "ticket types (without --from-listing; the query kind 'ticket types')."
            )
        if uid is not None:
            raise InputError(
                "An events query lists the events of a state, not one event: clear the event "
                "uid, or use the kind 'full events' for one event's full details."
            )
        if state is None:
            raise InputError(
                f"A query of {kind.name} needs a state, for example 'future+confirmed'."
            )
    elif (state is None) == (uid is None):
        raise InputError(
            f"A query of {kind.noun} needs either one event's uid or a state (for every event "
            "of that state), not both or neither."
        )
    if state is not None:
        resolve_state(state)
    if uid is not None:
        validate_uid(uid)
    return state, uid


def check_query(
    kind: QueryKind,
    bucket: str,
    state: str | None,
    uid: str | None,
    columns: ColumnsArg = None,
    sort: str | None = None,
) -> None:
    """Everything that can be wrong with a query, found without a request: bucket, target,
    columns of the kind's catalogue, and the sort column (which must be one of them)."""
    validate_bucket(bucket)
    check_target(kind, state, uid)
    selection = resolve_columns(columns, kind.catalogue)
    if sort:
        if kind.listed:
            empty = listed_ticket_types_frame([], selection)
        elif kind.part is None:
            empty = events_frame([], selection)
        elif kind.part == "event":
            empty = full_events_frame([], selection)
        else:
            empty = part_frame(kind.part, [], selection)
        sort_frame(empty, sort, kind.catalogue)


def fetch_query_frame(
    client: SheepClient,
    kind: QueryKind,
    bucket: str,
    *,
    state: str | None = None,
    uid: str | None = None,
    columns: ColumnsArg = None,
    sort: str | None = None,
    pages: ProgressCallback | None = None,
    progress: EventProgress | None = None,
    on_wait: WaitCallback | None = None,
    concurrency: int | None = None,
    pacer: RatePacer | None = None,
) -> PartFrame:
    """A query's typed frame (sorted when asked) and the events that could not be fetched.

    Everything is checked first (`check_query`), so a bad query sends nothing. ``concurrency``
    and ``pacer`` tune the per-event fetches (`sheep_xl.api.per_event`)."""
    # Imported here: the stored queries (and so a ribbon click) read kinds without loading
    # the HTTP stack the fetchers' pacing and pools bring.
    from sheep_xl.api.per_event import DEFAULT_CONCURRENCY
    from sheep_xl.frames.fetch import fetch_events_frame
    from sheep_xl.frames.fetch_parts import PartFrame, fetch_full_events_frame, fetch_part_frame

    concurrency = DEFAULT_CONCURRENCY if concurrency is None else concurrency
    check_query(kind, bucket, state, uid, columns, sort)
    state, uid = check_target(kind, state, uid)
    fetched: PartFrame
    if kind.part is None:
        assert state is not None
        frame = fetch_events_frame(client, bucket, state, columns, progress=pages)
        fetched = PartFrame(frame, events=len(frame))
    elif kind.part == "event" and state is not None:
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
        assert kind.part is not None
        fetched = fetch_part_frame(
            client,
            bucket,
            kind.part,
            uid=uid,
            state=state,
            columns=columns,
            listed=kind.listed,
            progress=progress,
            pages=pages,
            concurrency=concurrency,
            pacer=pacer,
            on_wait=on_wait,
        )
    if sort:
        fetched.frame = sort_frame(fetched.frame, sort, kind.catalogue)
    return fetched
