"""One part of every event of a listing: e.g. the attendees of all ``future+confirmed`` events.

sheepCRM has no "attendees of many events" endpoint, so this is one request per event, a few at
a time (a small thread pool, 4 by default: more would only queue at the rate limit), paced by
the rate-limit headers (`pacing.RatePacer`). The documented limits (400 a minute, 1,000 an hour)
make 500 events a minute and a half at best, so progress is reported per event.

One event failing (a server error, a uid that vanished) does not lose the others: it is
recorded in `PerEventResult.failures` by title and uid, and the rest go on. Errors that would
fail every event alike (a rejected key, an unknown bucket, an insecure address) stop the run at
once instead of being repeated hundreds of times.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from sheep_xl.api.client import SheepClient
from sheep_xl.api.event_parts import EventPart, event_part
from sheep_xl.api.pacing import RatePacer, WaitCallback
from sheep_xl.api.validation import validate_bucket, validate_uid
from sheep_xl.exceptions import (
    AuthenticationError,
    BucketNotFoundError,
    InputError,
    SheepError,
    UnexpectedResponseError,
)

log = logging.getLogger(__name__)

Record = dict[str, Any]
EventProgress = Callable[[int, int, str], None]  # (events done, events in all, event title)

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16
# Errors that every event would meet alike: stop rather than repeat them per event.
FATAL = (AuthenticationError, BucketNotFoundError, InputError)


@dataclass(frozen=True)
class EventFailure:
    """An event whose part could not be fetched, and why (one sentence)."""

    uid: str
    title: str
    message: str
    exit_code: int
    error: SheepError | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.title or '(untitled)'} ({self.uid or 'no uid'}): {self.message}"


@dataclass(frozen=True)
class EventResult:
    """One event's part: ``event`` is the record it belongs to (the listing's, or the one the
    answer carries), ``body`` the part's answer as sent."""

    event: Record
    body: Record


@dataclass
class PerEventResult:
    part: str
    results: list[EventResult]  # in the listing's order
    failures: list[EventFailure] = field(default_factory=list)
    events: list[Record] = field(default_factory=list)  # the listing, every event asked for
    total: int = 0  # events asked for
    requests: int = 0  # requests the pacer let through
    waited: float = 0.0  # seconds spent waiting for the rate limit
    rate_limited: int = 0  # 429 answers seen (the client retried them)


def event_title(record: Record) -> str:
    title = record.get("title")
    return title if isinstance(title, str) else ""


def fetch_per_event(
    client: SheepClient,
    bucket: str,
    part: str,
    *,
    state: str | None = None,
    events: Sequence[Record] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: EventProgress | None = None,
    pacer: RatePacer | None = None,
    on_wait: WaitCallback | None = None,
) -> PerEventResult:
    """``part`` (see `event_parts.PARTS`) of every event of ``bucket`` in ``state``, or of
    the given ``events`` (listing records). Inputs are checked before any request."""
    spec = event_part(part)
    bucket = validate_bucket(bucket)
    if events is None:
        if state is None:
            raise InputError("Give a state (e.g. future+confirmed) or the events themselves.")
        client.validate_request(bucket, state)
    workers = _concurrency(concurrency)
    pacer = pacer or RatePacer()
    if on_wait is not None:
        pacer.on_wait = on_wait
    with pacer.attach(client.session):
        listing = list(events) if events is not None else client.events(bucket, str(state))
        results, failures = _run(client, bucket, spec, listing, workers, pacer, progress)
    return PerEventResult(
        spec.name,
        results,
        failures,
        events=listing,
        total=len(listing),
        requests=pacer.requests,
        waited=pacer.waited,
        rate_limited=pacer.rate_limited,
    )


def fetch_event_part(client: SheepClient, bucket: str, uid: str, part: str) -> EventResult:
    """``part`` of one event, with the event it belongs to: the ``booking`` the answer carries,
    else the event fetched on its own (the ticket types answer has no ``booking``)."""
    spec = event_part(part)
    bucket, uid = validate_bucket(bucket), validate_uid(uid)
    body = client.event_part(bucket, uid, spec.name)
    if not spec.path:
        return EventResult(body, body)
    booking = body.get("booking")
    if isinstance(booking, dict) and booking.get("uid") == uid:
        return EventResult(booking, body)
    return EventResult(client.event(bucket, uid), body)


# --- the pool ---------------------------------------------------------------------------------


def _concurrency(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise InputError(
            f"Invalid concurrency {str(value)[:20]!r}: use a whole number from 1 to "
            f"{MAX_CONCURRENCY} (4 is plenty: the rate limit is the bound)."
        )
    return value


def _run(
    client: SheepClient,
    bucket: str,
    spec: EventPart,
    listing: list[Record],
    workers: int,
    pacer: RatePacer,
    progress: EventProgress | None,
) -> tuple[list[EventResult], list[EventFailure]]:
    bodies: dict[int, Record] = {}
    failures: dict[int, EventFailure] = {}
    stop = threading.Event()

    def one(record: Record) -> Record | None:
        if stop.is_set():
            return None
        uid = record.get("uid")
        if not isinstance(uid, str) or not uid:
            raise UnexpectedResponseError("the listing gave this event no uid")
        with pacer.slot():
            if stop.is_set():
                return None
            try:
                return client.event_part(bucket, uid, spec.name)
            except FATAL:
                stop.set()  # the other workers stop before their next request
                raise

    done = 0
    fatal: SheepError | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sheep-xl-event") as pool:
        pending: dict[Future[Record | None], int] = {
            pool.submit(one, record): index for index, record in enumerate(listing)
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                record = listing[index]
                if future.cancelled():
                    continue  # after a fatal error
                try:
                    body = future.result()
                except FATAL as exc:
                    if fatal is None:
                        fatal = exc
                    stop.set()
                    for other in pending:
                        other.cancel()
                    continue
                except SheepError as exc:
                    failures[index] = _failure(record, exc)
                    log.warning("%s", failures[index])
                else:
                    if body is not None:
                        bodies[index] = body
                done += 1
                if progress is not None and fatal is None:
                    progress(done, len(listing), event_title(record))
    if fatal is not None:
        raise fatal
    results = [EventResult(listing[i], bodies[i]) for i in sorted(bodies)]
    return results, [failures[i] for i in sorted(failures)]


def _failure(record: Record, exc: SheepError) -> EventFailure:
    uid = record.get("uid")
    return EventFailure(
        uid if isinstance(uid, str) else "",
        event_title(record),
        str(exc),
        exc.exit_code,
        exc,
    )


def raise_when_nothing_arrived(result: PerEventResult) -> None:
    """Every event failed: raise the first failure, saying so (an empty table would hide it)."""
    if not result.failures or result.results:
        return
    first = result.failures[0]
    error = first.error or UnexpectedResponseError(first.message)
    what = event_part(result.part).what
    raise error.in_context(
        f"None of the {result.total} event(s) gave its {what}; the first, "
        f"'{first.title}' ({first.uid})"
    )
