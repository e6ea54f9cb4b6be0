"""A local, sheepCRM-compatible events API for demos and tests (standard library only).

`DemoServer` serves the v2 events endpoints of the official spec from in-memory buckets,
by default the deterministic sample data of `sheep_xl.demo.data` in the bucket ``example``.
It listens on 127.0.0.1 by default and accepts the public demo key `DEMO_API_KEY`.

Endpoints (GET only; any other method gets 405 and the error body):

* ``/events/v2/{bucket}/bookings/{state}``: a listing; ``state`` is one of ``all``, ``current``,
  ``draft``, ``future``, ``past``, ``running``, lower case only (anything else: 400).
* ``/events/v2/{bucket}`` and ``/events/v2/{bucket}/bookings``: the ``current`` listing.
* ``/events/v2/{bucket}/booking/{uid}``: one event, the full record (richer than the listing's
  summary, as the real API's is: planning notes, catering, dietary needs, invoicing), or 404.
* Inside one event (`sheep_xl.demo.event_data`, consistent with the listing record):
  ``.../booking/{uid}/attendance`` and ``/attendance/all`` (also ``.../bookings/{uid}/attendance``,
  the documented alias), ``/orders``, ``/tickets/all`` and ``/available_tickets``.

Listings take ``page`` (1-based, default 1) and ``page_size`` (default 250, no maximum); a value
that is not an integer >= 1 gives 400. The body is ``{"bookings": [...]}`` and nothing else (no
total, no next link, as the real API); a page past the end is ``{"bookings": []}``. Responses carry
``x-rate-limit-limit``/``-remaining``/``-reset`` headers. By default nothing is limited (the
headers count a 400-a-minute window); with ``rate_limits=RateLimits(...)`` the limits are
enforced: a request over any window gets 429 (``type`` ``rate_limited``) with ``Retry-After``
before any other check, and the headers describe the tightest window. Windows are fixed and
aligned on the server's ``clock`` (injectable, so a simulated clock runs minutes of limits in
milliseconds). ``fail_uids`` makes every endpoint of those events answer 500, to show that one
failing event does not spoil the others. ``unchanging=True`` promises the buckets are never
edited: each answer is then encoded once and sent again as it is (benchmarks use it, so that
they time their clients rather than this server's JSON encoding).

Errors always use the spec's ``error`` schema, ``{"error", "description", "type"}``:
400 ``bad_request``, 401 ``authentication`` (missing or wrong ``Authorization: Bearer <key>``),
404 ``not_found`` (unknown path, bucket or uid), 405 ``method_not_allowed``, 500 ``server_error``.
Checks run in that order: method, then key, then path.

State semantics. The real API documents only ``current`` (past 14 days to next 90); the others
are inferred. This server uses calendar dates (``start_date``/``end_date``, else the date part of
``start_datetime``/``end_datetime``; an event without an end ends on its start day), with
``today`` fixed when the server is created:

* ``all``: every event, drafts included;
* ``draft``: events whose ``status`` is ``"Draft"``;
* ``current``: non-draft events overlapping [today - 14 days, today + 90 days];
* ``future``: non-draft events starting after today;
* ``past``: non-draft events that ended before today;
* ``running``: non-draft events with start <= today <= end.

Cancelled events, enquiries and events whose dates are to be confirmed (they carry provisional
dates) are listed like any other. An event whose dates cannot be read appears only under ``all``
(and ``draft`` when it is a draft).

Series. As the real API does, a listing shows one record per ``series_id``: among the occurrences
that pass the state's filter, the one nearest ``today`` (a running occurrence is at distance 0;
otherwise the gap in days to its start or end; ties go to the earlier start, then the smaller uid).
This applies to every state, ``all`` included, so a listing holds fewer records than the bucket.
The single-event endpoint reaches every occurrence.

Listings are sorted by ``start_datetime`` then ``uid``. Listings and the single-event endpoint
return the stored records unchanged (the demo records are already summary-packet shaped).

The server records every request it receives in `DemoServer.requests` as
``(method, path, query, has_auth_header)``; the Authorization value is never stored or logged.
"""

from __future__ import annotations

import errno
import hmac
import json
import math
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, overload
from urllib.parse import parse_qs, unquote, urlsplit

from sheep_xl.demo import event_data
from sheep_xl.demo.data import DEMO_BUCKET, demo_events
from sheep_xl.exceptions import PortInUseError

__all__ = [
    "DEMO_API_KEY",
    "DOCUMENTED_LIMITS",
    "STATES",
    "DemoServer",
    "RateLimits",
    "RequestLog",
    "RequestRecord",
    "select_events",
    "serve",
]

#: The public demo credential. It only opens this local demo server, never a real sheepCRM.
DEMO_API_KEY = "sheep-demo-key"

#: The listing states of ``/events/v2/{bucket}/bookings/{state}``, as in the spec.
STATES: tuple[str, ...] = ("all", "current", "draft", "future", "past", "running")

DEFAULT_PAGE_SIZE = 250
CURRENT_DAYS_BEFORE = 14
CURRENT_DAYS_AFTER = 90
RATE_LIMIT = 400  # per minute, as in sheepCRM's documentation; advertised when not enforced


@dataclass(frozen=True)
class RateLimits:
    """Requests allowed per fixed window; ``None`` leaves a window unlimited."""

    per_minute: int | None = RATE_LIMIT
    per_hour: int | None = 1000

    def windows(self) -> list[tuple[int, int]]:
        """(window seconds, limit) of each limited window."""
        return [(size, n) for size, n in ((60, self.per_minute), (3600, self.per_hour)) if n]


#: sheepCRM's documented limits: 400 requests a minute and 1,000 an hour.
DOCUMENTED_LIMITS = RateLimits(400, 1000)


# --------------------------------------------------------------------------------------------
# request log
# --------------------------------------------------------------------------------------------


class RequestRecord(NamedTuple):
    """One request as the server saw it. No header values are kept."""

    method: str
    path: str
    query: dict[str, str]
    has_auth_header: bool


class RequestLog(Sequence[RequestRecord]):
    """A thread-safe, append-only (until `clear`) list of `RequestRecord`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._items.append(record)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @overload
    def __getitem__(self, index: int) -> RequestRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[RequestRecord]: ...

    def __getitem__(self, index: int | slice) -> RequestRecord | list[RequestRecord]:
        with self._lock:
            return self._items[index]

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RequestLog):
            return self.snapshot() == other.snapshot()
        if isinstance(other, list | tuple):
            return self.snapshot() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"


# --------------------------------------------------------------------------------------------
# state filtering (pure functions, usable without a server)
# --------------------------------------------------------------------------------------------


def _parse_day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _event_days(record: Mapping[str, Any]) -> tuple[date, date] | None:
    """(first day, last day) of an event, or None when its dates cannot be read."""
    start = _parse_day(record.get("start_date")) or _parse_day(record.get("start_datetime"))
    if start is None:
        return None
    end = _parse_day(record.get("end_date")) or _parse_day(record.get("end_datetime")) or start
    return start, max(start, end)


def _is_draft(record: Mapping[str, Any]) -> bool:
    return record.get("status") == "Draft"


def _passes(state: str, record: Mapping[str, Any], today: date) -> bool:
    if state == "all":
        return True
    if state == "draft":
        return _is_draft(record)
    if _is_draft(record):
        return False
    days = _event_days(record)
    if days is None:
        return False
    start, end = days
    if state == "current":
        return start <= today + timedelta(days=CURRENT_DAYS_AFTER) and end >= today - timedelta(
            days=CURRENT_DAYS_BEFORE
        )
    if state == "future":
        return start > today
    if state == "past":
        return end < today
    if state == "running":
        return start <= today <= end
    raise ValueError(f"unknown state {state!r}")


def _sort_key(record: Mapping[str, Any]) -> tuple[str, str]:
    start = record.get("start_datetime")
    if not isinstance(start, str):
        start = record.get("start_date") if isinstance(record.get("start_date"), str) else ""
    return str(start), str(record.get("uid", ""))


def _distance(record: Mapping[str, Any], today: date) -> int:
    days = _event_days(record)
    if days is None:
        return sys.maxsize
    start, end = days
    if start > today:
        return (start - today).days
    if end < today:
        return (today - end).days
    return 0


def _series_key(record: Mapping[str, Any]) -> str | None:
    series = record.get("series_id")
    if series is None or series == "":
        return None
    return series if isinstance(series, str) else json.dumps(series, sort_keys=True, default=str)


def select_events(
    records: Sequence[Mapping[str, Any]], state: str, today: date
) -> list[Mapping[str, Any]]:
    """The records a listing of ``state`` shows: filtered, series collapsed, sorted."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    chosen: list[Mapping[str, Any]] = []
    best_in_series: dict[str, Mapping[str, Any]] = {}
    for record in records:
        if not isinstance(record, Mapping) or not _passes(state, record, today):
            continue
        series = _series_key(record)
        if series is None:
            chosen.append(record)
            continue
        current = best_in_series.get(series)
        rank = (_distance(record, today), _sort_key(record))
        if current is None or rank < (_distance(current, today), _sort_key(current)):
            best_in_series[series] = record
    chosen.extend(best_in_series.values())
    chosen.sort(key=_sort_key)
    return chosen


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class _HTTPError(Exception):
    def __init__(self, status: HTTPStatus, error: str, description: str, kind: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "description": description, "type": kind}


def _bad_request(description: str) -> _HTTPError:
    return _HTTPError(HTTPStatus.BAD_REQUEST, "Bad request", description, "bad_request")


def _not_found(description: str) -> _HTTPError:
    return _HTTPError(HTTPStatus.NOT_FOUND, "Not found", description, "not_found")


def _unauthorized(description: str) -> _HTTPError:
    return _HTTPError(HTTPStatus.UNAUTHORIZED, "Unauthorized", description, "authentication")


class _RateLimited(_HTTPError):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(
            HTTPStatus.TOO_MANY_REQUESTS,
            "Too many requests",
            f"Rate limit exceeded; retry after {headers['Retry-After']} seconds",
            "rate_limited",
        )
        self.headers = headers


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # A quick restart may reuse a port in TIME_WAIT; on Windows SO_REUSEADDR would instead let
    # two servers share a port silently, so it is left off there.
    allow_reuse_address = sys.platform != "win32"

    def __init__(self, address: tuple[str, int], demo: DemoServer) -> None:
        self.demo = demo
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


def _bind(host: str, port: int, demo: DemoServer) -> _HTTPServer:
    """The listening server, or `PortInUseError` with one sentence saying what to do."""
    try:
        return _HTTPServer((host, port), demo)
    except OverflowError:
        raise PortInUseError(
            f"Port {port} is not a valid port number: use --port with a number from 1024 "
            "to 65535, for example --port 8765."
        ) from None
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise PortInUseError(
                f"Cannot start the demo server because port {port} is in use on {host} "
                f"(perhaps by a demo server already running): use another port, for example "
                f"--port {_free_port(host) or port + 1}."
            ) from None
        if exc.errno in (errno.EACCES, getattr(errno, "WSAEACCES", -1)):
            raise PortInUseError(
                f"Cannot start the demo server on port {port} of {host} (permission denied): "
                f"use a port from 1024 to 65535, for example --port {_free_port(host) or 8765}."
            ) from None
        raise PortInUseError(
            f"Cannot start the demo server on {host}:{port} ({exc.strerror or exc}): check "
            "--host (127.0.0.1 is this computer) and --port."
        ) from None


def _free_port(host: str) -> int | None:
    """A port that is free on ``host`` right now, to suggest; None when none can be found."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, 0))
            return int(probe.getsockname()[1])
    except OSError:
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "sheep-xl-demo/1.0"
    sys_version = ""
    timeout = 30  # seconds an idle keep-alive connection is kept open

    def version_string(self) -> str:
        return self.server_version

    # -- connection bookkeeping, so that stop() can close keep-alive connections -----------

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, keep-alive clients wait
        # for a delayed ACK (~40 ms) on every request
        with suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        with suppress(OSError):
            super().finish()

    # -- logging: method, path and status only, and only when verbose -----------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.demo.verbose:
            path = urlsplit(self.path).path if hasattr(self, "path") else "-"
            method = getattr(self, "command", None) or "-"
            status = int(code) if isinstance(code, HTTPStatus) else code
            sys.stderr.write(f"[sheep-xl demo] {method} {path} {status}\n")

    def log_error(self, format: str, *args: Any) -> None:
        """Silenced: the stdlib would echo the request line (``log_request`` reports enough)."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: never let the stdlib print headers or request lines."""

    # -- methods ----------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        """Every method, however spelt (GET, TRACE, QUERY, a made-up one), goes to `_handle`:
        the stdlib would answer a method without a ``do_`` handler with its own HTML 501,
        outside the request log, the rate limit and the error body the API documents."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _handle(self) -> None:
        demo = self.server.demo
        parts = urlsplit(self.path)
        query = {
            key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
        }
        demo.requests.append(
            RequestRecord(self.command, parts.path, query, "Authorization" in self.headers)
        )
        self._drain_body()
        self._rate_headers: dict[str, str] = {}
        try:
            self._rate_headers = demo.admit()
            if self.command != "GET":
                raise _HTTPError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "Method not allowed",
                    f"{self.command} is not supported here; the demo server is read-only (GET)",
                    "method_not_allowed",
                )
            demo.check_key(self.headers.get("Authorization"))
            self._send(HTTPStatus.OK, demo.answer(parts.path, query))
        except _RateLimited as exc:
            self._rate_headers = exc.headers
            self._send(exc.status, json.dumps(exc.body).encode("utf-8"))
        except _HTTPError as exc:
            self._send(exc.status, json.dumps(exc.body).encode("utf-8"))
        except Exception as exc:  # a bucket record that cannot be served, e.g. not JSON-able
            body = {
                "error": "Internal server error",
                "description": (
                    f"The demo server could not build the response ({type(exc).__name__})"
                ),
                "type": "server_error",
            }
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, json.dumps(body).encode("utf-8"))

    def _drain_body(self) -> None:
        """Read and discard a request body so that the keep-alive connection stays usable."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > 0:
            self.rfile.read(length)

    def _send(self, status: HTTPStatus, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in self._rate_headers.items():
            self.send_header(name, value)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET")
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="sheepCRM demo"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class DemoServer:
    """A local sheepCRM events API serving in-memory buckets (see the module docstring).

    Use it as a context manager or call `start` and `stop`::

        with DemoServer() as server:
            requests.get(f"{server.url}/events/v2/example/bookings/all",
                         headers={"Authorization": f"Bearer {DEMO_API_KEY}"})
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str = DEMO_API_KEY,
        today: date | None = None,
        buckets: Mapping[str, list[dict[str, Any]]] | None = None,
        verbose: bool = False,
        rate_limits: RateLimits | None = None,
        clock: Callable[[], float] = time.time,
        fail_uids: Iterable[str] = (),
        unchanging: bool = False,
    ) -> None:
        if isinstance(today, datetime):
            today = today.date()
        self.host = host
        self.today: date = today or date.today()
        self.api_key = api_key
        self.verbose = verbose
        source = buckets if buckets is not None else {DEMO_BUCKET: demo_events(self.today)}
        self.buckets: dict[str, list[dict[str, Any]]] = dict(source)
        self.requests = RequestLog()
        self._requested_port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.rate_limits = rate_limits  # None: counted and advertised, never enforced
        self.clock = clock
        self.fail_uids: set[str] = set(fail_uids)  # every endpoint of these events answers 500
        self.throttled = 0  # 429 answers sent
        self._windows: dict[int, tuple[int, int]] = {}  # window seconds -> (index, count)
        self._rate_lock = threading.Lock()
        self._ledgers: dict[tuple[str, str], event_data.Ledger] = {}
        self._ledger_lock = threading.Lock()
        # answers kept by path and query when the buckets never change (`unchanging`)
        self.unchanging = unchanging
        self._answers: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}
        # (bucket, state) -> (the bucket's list, its length, today, the events listed)
        self._listings: dict[tuple[str, str], tuple[list[Any], int, date, list[Any]]] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> DemoServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("the demo server is already running")
        httpd = _bind(self.host, self._requested_port, self)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sheep-xl-demo-server:{httpd.server_address[1]}",
            daemon=True,
        )
        self._httpd, self._thread = httpd, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port. Safe to call twice."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        with httpd.connections_lock:
            connections = list(httpd.open_connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def forget_requests(self) -> None:
        """Start counting afresh: an empty request log and rate-limit windows, as if no request
        had come yet (a long-lived server shared by many runs, e.g. a test session, would
        otherwise advertise an allowance others used up, and paced clients would wait)."""
        self.requests.clear()
        with self._rate_lock:
            self._windows.clear()
            self.throttled = 0

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._httpd is None:
            raise RuntimeError("the demo server is not running: call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        if host in {"", "0.0.0.0"}:
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"

    # -- request handling (called from handler threads) ------------------------------------

    def check_key(self, header: str | None) -> None:
        if not header:
            raise _unauthorized(
                "Missing Authorization header; send 'Authorization: Bearer <API key>'"
            )
        scheme, _, key = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _unauthorized("Malformed Authorization header; expected 'Bearer <API key>'")
        if not hmac.compare_digest(key.strip().encode("utf-8"), self.api_key.encode("utf-8")):
            raise _unauthorized("The API key was not recognised")

    def answer(self, path: str, query: Mapping[str, str]) -> bytes:
        """The JSON body of a GET (`route`, encoded). With ``unchanging=True`` the buckets are
        promised never to change, so each answer is encoded once and sent again as it is: a
        benchmark then measures its clients, not this server's JSON encoding."""
        key = (path, tuple(sorted(query.items())))
        if self.unchanging and key in self._answers:
            return self._answers[key]
        payload = json.dumps(self.route(path, query), ensure_ascii=False).encode("utf-8")
        if self.unchanging:
            self._answers[key] = payload
        return payload

    def route(self, path: str, query: Mapping[str, str]) -> dict[str, Any]:
        segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        if len(segments) < 3 or segments[:2] != ["events", "v2"]:
            raise _not_found(f"No such endpoint: {path}")
        bucket, rest = segments[2], segments[3:]
        if rest == [] or rest == ["bookings"]:
            return self._listing(bucket, "current", query)
        if len(rest) == 2 and rest[0] == "bookings":
            return self._listing(bucket, rest[1], query)
        if len(rest) == 2 and rest[0] == "booking":
            return self._single(bucket, rest[1])
        inside = _INSIDE.get(tuple(rest[2:])) if len(rest) >= 3 else None
        # ".../bookings/{uid}/attendance" is the spec's documented alias of the attendance
        if inside is not None and (rest[0] == "booking" or rest[2:] == ["attendance"]):
            return self._inside(bucket, rest[1], inside)
        raise _not_found(f"No such endpoint: {path}")

    def _records(self, bucket: str) -> list[dict[str, Any]]:
        try:
            return self.buckets[bucket]
        except KeyError:
            raise _not_found(f"Unknown bucket {bucket!r}") from None

    def _listing(self, bucket: str, state: str, query: Mapping[str, str]) -> dict[str, Any]:
        records = self._records(bucket)
        if state not in STATES:
            raise _bad_request(f"Unknown state {state!r}; expected one of {', '.join(STATES)}")
        page = _positive_int(query, "page", 1)
        page_size = _positive_int(query, "page_size", DEFAULT_PAGE_SIZE)
        selected = self._listed(bucket, state, records, fresh=page == 1)
        first = (page - 1) * page_size
        return {"bookings": list(selected[first : first + page_size])}

    def _listed(
        self, bucket: str, state: str, records: list[dict[str, Any]], *, fresh: bool
    ) -> list[Any]:
        """The events a listing shows, selected afresh at its first page and reused by the
        pages after it (selecting is linear in the bucket, so selecting for every page made a
        paged listing quadratic: 22 ms a page at 20,000 events). A listing sees the bucket as
        it was at its page 1, unless the bucket's list is replaced or grows or shrinks."""
        key = (bucket, state)
        cached = self._listings.get(key)
        if (
            not fresh
            and cached is not None
            and cached[0] is records
            and cached[1] == len(records)
            and cached[2] == self.today
        ):
            return cached[3]
        selected = select_events(records, state, self.today)
        self._listings[key] = (records, len(records), self.today, selected)
        return selected

    def _record(self, bucket: str, uid: str) -> Mapping[str, Any]:
        for record in self._records(bucket):
            if isinstance(record, Mapping) and str(record.get("uid")) == uid:
                if uid in self.fail_uids:
                    raise _HTTPError(
                        HTTPStatus.INTERNAL_SERVER_ERROR,
                        "Internal server error",
                        f"The demo server was told to fail event {uid!r}",
                        "server_error",
                    )
                return record
        raise _not_found(f"No event with uid {uid!r} in bucket {bucket!r}")

    def ledger(self, bucket: str, uid: str) -> event_data.Ledger:
        """The tickets and orders behind one event's answers (built once, then kept)."""
        record = self._record(bucket, uid)
        with self._ledger_lock:
            ledger = self._ledgers.get((bucket, uid))
            if ledger is None or ledger.record != record:
                ledger = event_data.build_ledger(record, self.today)
                self._ledgers[(bucket, uid)] = ledger
            return ledger

    def _single(self, bucket: str, uid: str) -> dict[str, Any]:
        if not _has_details(self._record(bucket, uid)):
            return dict(self._record(bucket, uid))  # a record without dates or a uri: as stored
        ledger = self.ledger(bucket, uid)
        return event_data.full_event(ledger, event_data.attendance(ledger, {}))

    def _inside(self, bucket: str, uid: str, part: str) -> dict[str, Any]:
        ledger = self.ledger(bucket, uid)
        if part == "available_tickets":
            return event_data.available_tickets(ledger)
        booking = self._single(bucket, uid)
        if part == "attendance":
            return event_data.attendance(ledger, booking)
        if part == "orders":
            return event_data.orders(ledger, booking)
        return event_data.tickets(ledger, booking)

    def admit(self) -> dict[str, str]:
        """Count one request; its rate-limit headers, or `_RateLimited` when it is over a limit.

        ``x-rate-limit-reset`` is the number of seconds (rounded up) until the window resets
        (sheepCRM does not document its unit; clients should not rely on it)."""
        now = self.clock()
        limits = self.rate_limits
        windows = limits.windows() if limits is not None else [(60, RATE_LIMIT)]
        with self._rate_lock:
            state = []
            for size, limit in windows:
                index = int(now // size)
                seen_index, count = self._windows.get(size, (index, 0))
                if seen_index != index:
                    count = 0
                state.append((size, limit, index, count))
            full = [(size, index) for size, limit, index, count in state if count >= limit]
            if limits is not None and full:
                self.throttled += 1
                wait = max(_until(now, size, index) for size, index in full)
                tight = min(state, key=lambda w: (w[1] - w[3], -w[0]))
                headers = _limit_headers(tight[1], 0, wait)
                headers["Retry-After"] = str(wait)
                raise _RateLimited(headers)
            for size, _limit, index, count in state:
                self._windows[size] = (index, count + 1)
            size, limit, index, count = min(state, key=lambda w: (w[1] - w[3] - 1, -w[0]))
        return _limit_headers(limit, max(limit - count - 1, 0), _until(now, size, index))

    def rate_limit_headers(self) -> dict[str, str]:
        """Count one request and return its headers (kept for callers of the old name)."""
        try:
            return self.admit()
        except _RateLimited as exc:
            return exc.headers


_INSIDE: dict[tuple[str, ...], str] = {
    ("attendance",): "attendance",
    ("attendance", "all"): "attendance",
    ("orders",): "orders",
    ("tickets", "all"): "tickets",
    ("available_tickets",): "available_tickets",
}


def _has_details(record: Mapping[str, Any]) -> bool:
    """Whether a stored record can be given its full details (it needs a uid and dates)."""
    return isinstance(record.get("uid"), str) and _event_days(record) is not None


def _until(now: float, size: int, index: int) -> int:
    """Whole seconds (at least 1) until window ``index`` of ``size`` seconds ends."""
    return max(math.ceil((index + 1) * size - now), 1)


def _limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


def _positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isdigit() or not text.isascii() or int(text) < 1:
        raise _bad_request(f"Invalid {name} {raw!r}; expected an integer >= 1")
    return int(text)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    today: date | None = None,
    verbose: bool = True,
) -> None:
    """Run the demo server until Ctrl-C (for ``sheep-xl demo-server``)."""
    server = DemoServer(host, port, today=today, verbose=verbose).start()
    print(f"sheepCRM demo server on {server.url}  (bucket {DEMO_BUCKET!r}, today {server.today})")
    print(f"Demo API key (public, works only here): {server.api_key}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while server.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping the demo server.", flush=True)
    finally:
        server.stop()
