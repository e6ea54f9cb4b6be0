"""A client for sheepCRM's events API (v2) with transparent paging, retries and typed errors.

    >>> client = SheepClient()                      # key from SHEEP_API_KEY or the credential store
    >>> rows = client.events("example", "confirmed")   # every page, classified on the client

The list endpoint gives no totals and no next link, and a server may quietly cap ``page_size``
below what was asked, so a short page does not prove the end: the listing ends only at an empty
page, or at a page that merely repeats earlier events after a short one (some servers answer a
page past the end with the last page again). A server that ignores ``page`` would loop forever
or duplicate rows, so each page's uids are checked.

Every request is bounded (see ``transport.read_body``): ``max_response_bytes`` of decoded body,
``request_deadline`` seconds in all. The key goes only to the configured address over https, or
over http to this computer (loopback) unless ``allow_insecure_http`` is set; redirects are
followed here, not by ``requests``, and keep the Authorization header only on the same origin.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from sheep_xl.api.decoding import PageReader, page_reader
from sheep_xl.api.event_parts import check_part_body, event_part
from sheep_xl.api.states import CLASSIFICATION_FIELDS, Selection, resolve_state
from sheep_xl.api.transport import (
    RETRY_STATUSES,
    BodyTooLarge,
    DeadlineExceeded,
    UnsupportedEncoding,
    backoff_delay,
    is_loopback,
    new_session,
    read_body,
    same_origin,
    server_wait_hint,
)
from sheep_xl.api.validation import validate_bucket, validate_page_size, validate_uid
from sheep_xl.config import ENV_API_URL, Settings, load_settings, normalise_api_url
from sheep_xl.credentials import ApiKey, resolve_api_key
from sheep_xl.exceptions import (
    ApiKeyRejectedError,
    ApiTimeoutError,
    BadRequestError,
    BucketNotFoundError,
    InsecureTransportError,
    NetworkError,
    NotFoundError,
    PagingError,
    RateLimitedError,
    RequestDeadlineError,
    ResponseTooLargeError,
    ServerError,
    UnexpectedResponseError,
)
from sheep_xl.redaction import server_text

log = logging.getLogger(__name__)

Record = dict[str, Any]
ProgressCallback = Callable[[int, int], None]  # (pages fetched, rows so far)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class _Target:
    """What a request is about, so an error can name it."""

    kind: str  # "bucket" or "event"
    bucket: str
    uid: str = ""


class SheepClient:
    """Talks to one sheepCRM API address with one keep-alive session."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        settings: Settings | None = None,
        session: requests.Session | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retries: int | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_wait: float = 120.0,
        max_pages: int | None = None,
        request_deadline: float | None = None,
        max_response_bytes: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.base_url = normalise_api_url(base_url or self.settings.api_url)
        # for messages: host and port only, never the user name or password of the address
        self.host = urlsplit(self.base_url).netloc.rpartition("@")[2]
        self._explicit_key = api_key
        self._key: ApiKey | None = None
        self.session = session or new_session()
        self.timeout = (
            connect_timeout if connect_timeout is not None else self.settings.connect_timeout,
            read_timeout if read_timeout is not None else self.settings.read_timeout,
        )
        self.retries = self.settings.retries if retries is None else retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_wait = max_wait  # longest server-requested wait we honour before giving up
        self.max_pages = max_pages or self.settings.max_pages
        self.request_deadline = (
            self.settings.request_deadline if request_deadline is None else request_deadline
        )
        self.max_response_bytes = max_response_bytes or self.settings.max_response_bytes
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random(seed)

    # --- public API -------------------------------------------------------------------------

    def events(
        self,
        bucket: str,
        state: str = "all",
        page_size: int | None = None,
        *,
        progress: ProgressCallback | None = None,
        fields: Collection[str] | None = None,
    ) -> list[Record]:
        """Every event of ``bucket`` in ``state`` (an API state or a classification); with
        ``fields``, each event holds only those of its fields (`decoding.page_reader`)."""
        bucket, selection, size = self.validate_request(bucket, state, page_size)
        reader = None
        if fields is not None:  # and what paging (uid) and a classification look at
            reader = page_reader({*fields, "uid", *CLASSIFICATION_FIELDS})
        rows: list[Record] = []
        pages_of = self.iter_pages(bucket, selection.api_state, size, reader)
        for pages, page in enumerate(pages_of, 1):
            rows.extend(page)
            if progress:
                progress(pages, len(rows))
        if selection.keep is not None:
            rows = [r for r in rows if selection.keep(r)]
        return rows

    def validate_request(
        self, bucket: str, state: str, page_size: int | None = None
    ) -> tuple[str, Selection, int]:
        """Check every input up front; raises an ``InputError`` and sends nothing when invalid."""
        return (
            validate_bucket(bucket),
            resolve_state(state),
            validate_page_size(self.settings.page_size if page_size is None else page_size),
        )

    def iter_pages(
        self, bucket: str, api_state: str, page_size: int, reader: PageReader | None = None
    ) -> Iterator[list[Record]]:
        """Pages of ``/events/v2/{bucket}/bookings/{state}`` until the end is certain, read by
        ``reader`` where it can (`decoding.page_reader`).

        A short page is not trusted as the last one (the server may cap ``page_size``): the
        next page is asked for, and the listing ends at an empty page, or at a page of only
        repeats when the page before was short. A full page of only repeats means the server
        ignores ``page`` (an error). A listing ending exactly on a page boundary costs the same
        one extra request as before; a short last page costs one more."""
        path = f"/events/v2/{quote(bucket, safe='')}/bookings/{quote(api_state, safe='')}"
        target = _Target("bucket", bucket)
        seen: set[str] = set()
        previous_short = False
        for page in range(1, self.max_pages + 1):
            body = self._get_json(path, {"page": page, "page_size": page_size}, target, reader)
            records = _bookings(body, self.host, page)
            if not records:
                return
            if previous_short and _only_repeats(records, seen):
                return  # the server answers a page past the end with the last page again
            fresh = _drop_seen(records, seen, page, self.host)
            if fresh:
                yield fresh
            previous_short = len(records) < page_size
            if previous_short:
                log.debug(
                    "page %d had %d of %d events: confirming the end", page, len(records), page_size
                )
        raise PagingError(
            f"The sheepCRM API at {self.host} sent more than {self.max_pages} pages for "
            f"'{bucket}': raise max_pages in the settings or use a larger page size."
        )

    def event(self, bucket: str, uid: str) -> Record:
        """One event's full record (``/events/v2/{bucket}/booking/{uid}``)."""
        bucket, uid = validate_bucket(bucket), validate_uid(uid)
        body = self._get_json(
            f"/events/v2/{bucket}/booking/{uid}", {}, _Target("event", bucket, uid)
        )
        if not isinstance(body, dict):
            raise UnexpectedResponseError(
                f"The sheepCRM API at {self.host} sent something other than an event for "
                f"'{uid}': check the API address or try again later."
            )
        return body

    # --- inside one event (see event_parts for the paths and shapes) --------------------------

    def event_attendance(self, bucket: str, uid: str) -> Record:
        """The event's attendees (getEventAttendanceAll): ``sessions``, one per attendee, and
        usually the event itself as ``booking``."""
        return self.event_part(bucket, uid, "attendees")

    def event_orders(self, bucket: str, uid: str) -> Record:
        """The event's orders (getEventOrders): ``buyers`` maps a buyer URI to its order, whose
        ``order_total`` maps a currency to paid/outstanding/total. Needs ``booking.orders``."""
        return self.event_part(bucket, uid, "orders")

    def event_tickets(self, bucket: str, uid: str) -> Record:
        """Every ticket of the event (getEventTicketsAll): ``tickets``, cancelled ones too."""
        return self.event_part(bucket, uid, "tickets")

    def event_available_tickets(self, bucket: str, uid: str) -> Record:
        """The event's ticket types with price and stock (getEventAvailableTickets):
        ``available_tickets``."""
        return self.event_part(bucket, uid, "ticket-types")

    def event_part(self, bucket: str, uid: str, part: str) -> Record:
        """One part of an event by name (``event``, ``attendees``, ``orders``, ``tickets``,
        ``ticket-types``), through the same checks, retries and errors as ``events``."""
        spec = event_part(part)
        if not spec.path:
            return self.event(bucket, uid)
        bucket, uid = validate_bucket(bucket), validate_uid(uid)
        body = self._get_json(
            f"/events/v2/{bucket}/booking/{uid}/{spec.path}", {}, _Target("event", bucket, uid)
        )
        return check_part_body(body, spec, self.host, uid)

    def check_access(self, bucket: str) -> None:
        """Make one small request: proves the address, the key and the bucket work together."""
        bucket = validate_bucket(bucket)
        path = f"/events/v2/{bucket}/bookings/current"
        body = self._get_json(path, {"page": 1, "page_size": 1}, _Target("bucket", bucket))
        _bookings(body, self.host, 1)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SheepClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- HTTP -------------------------------------------------------------------------------

    def _api_key(self) -> ApiKey:
        if self._key is None:
            self._key = resolve_api_key(self.base_url, self._explicit_key)
        return self._key

    def _check_transport(self) -> None:
        """Refuse to send the key over plain http to another computer (anyone on the path could
        read it), unless the settings allow it for a deliberate test rig."""
        if (
            urlsplit(self.base_url).scheme == "http"
            and not is_loopback(self.base_url)
            and not self.settings.allow_insecure_http
        ):
            raise InsecureTransportError(
                f"The API address http://{self.host} is not encrypted, so the API key would be "
                "readable on the way: use https, or for a test rig set allow_insecure_http = "
                "true in the settings file."
            )

    def _get_json(
        self,
        path: str,
        params: dict[str, Any],
        target: _Target,
        reader: PageReader | None = None,
    ) -> Any:
        self._check_transport()
        key = self._api_key()
        url = self.base_url + path
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            failure: Exception | None = None
            wait_hint: float | None = None
            try:
                response, content = self._fetch(url, params, key)
            except requests.exceptions.Timeout as exc:
                failure = exc
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                failure = exc
            except requests.exceptions.RequestException as exc:
                raise NetworkError(
                    f"The request to {self.host} could not be made ({type(exc).__name__}): "
                    f"check the API address ({ENV_API_URL})."
                ) from None
            else:
                status = response.status_code
                log.debug("GET %s %s -> %s (%d bytes)", path, params, status, len(content))
                if status == 200:
                    body = reader(content) if reader is not None else None
                    return self._decode(response, content) if body is None else body
                if status not in RETRY_STATUSES:
                    raise self._status_error(response, content, target)
                wait_hint = server_wait_hint(response.headers)
                failure = None

            if attempt == attempts:
                break
            if wait_hint is not None and wait_hint > self.max_wait:
                break  # the server asks for longer than a person should wait: report it now
            delay = backoff_delay(attempt, self.backoff_base, self.backoff_max, self._rng)
            if wait_hint is not None:
                delay = wait_hint + self._rng.random() * min(1.0, self.backoff_base)
            log.info("retrying %s in %.1fs (attempt %d of %d)", path, delay, attempt + 1, attempts)
            self._sleep(delay)

        if failure is not None:
            raise self._network_error(failure, attempts)
        raise self._retry_exhausted_error(response, attempt, wait_hint)

    def _fetch(self, url: str, params: dict[str, Any], key: ApiKey) -> tuple[Any, bytes]:
        """One attempt: the response (after any redirects) and its body, read within the
        size cap and before the deadline.

        Redirects are followed here rather than by ``requests`` so that each hop's body is
        bounded too, the deadline spans the whole chain, and the Authorization header goes
        only to the same scheme, host and port as the API address."""
        deadline = self._clock() + self.request_deadline
        headers = {"Authorization": f"Bearer {key.value}"}
        query: dict[str, Any] | None = params
        for _hop in range(MAX_REDIRECTS + 1):
            response = self.session.get(
                url,
                params=query,
                headers=headers,
                timeout=(self.timeout[0], min(self.timeout[1], self.request_deadline)),
                stream=True,
                allow_redirects=False,
            )
            location = response.headers.get("Location")
            if response.status_code in REDIRECTS and location:
                response.close()  # a redirect's body is never read
                url = urljoin(response.url, location)
                query = None  # the new address carries its own query
                if not same_origin(url, self.base_url):
                    headers = {}  # the key stays with the API address
                log.debug("redirected to another address (HTTP %s)", response.status_code)
                continue
            try:
                content = self._read(response, deadline)
            except BaseException:
                response.close()  # drops a connection left in the middle of a body
                raise
            response.raw.release_conn()  # read to its end: the connection stays alive
            return response, content
        raise UnexpectedResponseError(
            f"The server at {self.host} redirected more than {MAX_REDIRECTS} times: check the "
            f"API address ({ENV_API_URL})."
        )

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        try:
            return read_body(
                response,
                limit=self.max_response_bytes,
                deadline=deadline,
                read_timeout=self.timeout[1],
                clock=self._clock,
            )
        except BodyTooLarge:
            raise ResponseTooLargeError(
                f"The answer from {self.host} was larger than {_size(self.max_response_bytes)} "
                "once decoded, so it was not read further: use a smaller page size, or raise "
                "max_response_bytes in the settings if the events really are that large."
            ) from None
        except DeadlineExceeded:
            raise RequestDeadlineError(
                f"{self.host} took longer than {_seconds(self.request_deadline)} to send one "
                "answer, so it was abandoned: try again later, or raise request_deadline in "
                "the settings for a very slow connection."
            ) from None
        except UnsupportedEncoding as exc:
            raise UnexpectedResponseError(
                f"The server at {self.host} compressed its answer as "
                f"{server_text(exc.encoding, 40)!r}, which was not asked for: check any proxy "
                "between you and sheepCRM."
            ) from None

    def _decode(self, response: requests.Response, content: bytes) -> Any:
        try:
            return _parse_json(content)
        except RecursionError:
            raise UnexpectedResponseError(
                f"The answer from {self.host} is JSON nested too deeply to be event data: check "
                f"the API address ({ENV_API_URL}), and tell sheepCRM support if it persists."
            ) from None
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise UnexpectedResponseError(
                f"The server at {self.host} answered with {server_text(kind, 60)} instead of "
                f"JSON: check the API address ({ENV_API_URL}) and any proxy between you and "
                "sheepCRM."
            ) from None

    def _status_error(
        self, response: requests.Response, content: bytes, target: _Target
    ) -> Exception:
        status = response.status_code
        detail = _error_description(content)
        if status in (401, 403):
            return ApiKeyRejectedError(
                f"The sheepCRM API rejected the API key from {self._api_key().source} "
                f"(HTTP {status}): sign in again with 'sheep-xl login' or check the key in "
                "your sheepCRM profile."
            )
        if status == 404 and target.kind == "event":
            return NotFoundError(
                f"Event '{target.uid}' was not found in bucket '{target.bucket}' (HTTP 404): "
                "check the uid, or that your key can see this bucket."
            )
        if status == 404:
            return BucketNotFoundError(
                f"Bucket '{target.bucket}' was not found at {self.host} (HTTP 404): check the "
                "bucket name (your sheepCRM database name) and that your key belongs to it."
            )
        if status == 400:
            return BadRequestError(
                f"The sheepCRM API refused the request (HTTP 400{': ' + detail if detail else ''})"
                ": check the bucket, state and options."
            )
        if status >= 500:
            return ServerError(
                f"The sheepCRM API at {self.host} had a server error (HTTP {status}"
                f"{': ' + detail if detail else ''}): try again later, and tell sheepCRM "
                "support if it persists."
            )
        return UnexpectedResponseError(
            f"The sheepCRM API at {self.host} answered HTTP {status}"
            f"{' (' + detail + ')' if detail else ''}: check the request and the API address."
        )

    def _retry_exhausted_error(
        self, response: requests.Response, attempts: int, wait_hint: float | None
    ) -> Exception:
        status = response.status_code
        if status == 429:
            later = f"wait {wait_hint:.0f} seconds" if wait_hint else "wait a minute"
            return RateLimitedError(
                f"The sheepCRM API is limiting requests (HTTP 429) and still was after "
                f"{attempts} attempt{'s' if attempts > 1 else ''}: {later} and try again."
            )
        return ServerError(
            f"The sheepCRM API at {self.host} was unavailable (HTTP {status}) after {attempts} "
            f"attempt{'s' if attempts > 1 else ''}: try again in a few minutes."
        )

    def _network_error(self, exc: Exception, attempts: int) -> Exception:
        tries = f"after {attempts} attempt{'s' if attempts > 1 else ''}"
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return ApiTimeoutError(
                f"Could not connect to {self.host} in time {tries}: check your network, VPN or "
                "proxy settings."
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return ApiTimeoutError(
                f"{self.host} did not answer in time {tries}: try again later, or raise "
                "read_timeout in the settings for very large buckets."
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return NetworkError(
                f"The secure connection to {self.host} failed (certificate or TLS problem) "
                f"{tries}: run 'sheep-xl doctor' to check TLS and proxy settings."
            )
        if isinstance(exc, requests.exceptions.ProxyError):
            return NetworkError(
                f"The proxy refused the connection to {self.host} {tries}: check HTTPS_PROXY "
                "and your proxy's settings."
            )
        if isinstance(
            exc,
            (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError),
        ):
            return NetworkError(
                f"The connection to {self.host} broke while receiving data {tries}: check your "
                "network and try again."
            )
        return NetworkError(
            f"Could not reach {self.host} {tries}: check your network connection, VPN or "
            "proxy, and the API address."
        )


# --- helpers ------------------------------------------------------------------------------


def _parse_json(content: bytes) -> Any:
    """JSON from a body; ``ValueError`` for anything else (bad bytes, bad syntax, lone
    surrogates are allowed through as Python's json does), ``RecursionError`` when nested
    deeper than Python's json can read."""
    return json.loads(content)  # bytes: UTF-8/16/32 detected as the JSON RFC says


def _error_description(content: bytes) -> str:
    """The server's ``description`` (or ``error``) from the standard error body, as one short
    line of redacted, printable text (`redaction.server_text`)."""
    try:
        body = _parse_json(content)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(body, dict):
        return ""
    return server_text(body.get("description") or body.get("error") or "")


def _seconds(value: float) -> str:
    return f"{value:g} second{'' if value == 1 else 's'}"


def _size(count: int) -> str:
    return f"{count / 1024**2:,.0f} MB" if count >= 1024**2 else f"{count:,} bytes"


def _only_repeats(records: list[Record], seen: set[str]) -> bool:
    """True when every record with a uid was on an earlier page (and at least one has one)."""
    keys = [_record_key(r) for r in records]
    keyed = [k for k in keys if k is not None]
    return bool(keyed) and all(k in seen for k in keyed)


def _bookings(body: Any, host: str, page: int) -> list[Record]:
    """The ``bookings`` list of a page, checked for shape."""
    if not isinstance(body, dict) or "bookings" not in body:
        raise UnexpectedResponseError(
            f"The answer from {host} for page {page} has no 'bookings' list: check the API "
            f"address ({ENV_API_URL}); it should be the sheepCRM API."
        )
    records = body["bookings"]
    if not isinstance(records, list):
        raise UnexpectedResponseError(
            f"The answer from {host} for page {page} has 'bookings' as "
            f"{type(records).__name__} instead of a list: try again later, and tell sheepCRM "
            "support if it persists."
        )
    for index, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise UnexpectedResponseError(
                f"Event {index} on page {page} from {host} is {type(record).__name__} instead "
                "of an object: try again later, and tell sheepCRM support if it persists."
            )
    return records


def _record_key(record: Record) -> str | None:
    for field in ("uid", "uri"):
        value = record.get(field)
        if isinstance(value, str) and value:
            return f"{field}:{value}"
    return None


def _drop_seen(records: list[Record], seen: set[str], page: int, host: str) -> list[Record]:
    """Records not seen on earlier pages; an error when a page only repeats earlier ones."""
    keys = [_record_key(r) for r in records]
    keyed = [k for k in keys if k is not None]
    if page > 1 and keyed and all(k in seen for k in keyed):
        raise PagingError(
            f"{host} sent the same events for page {page} as for an earlier page, so it seems to "
            "ignore paging: try a larger page size, and tell sheepCRM support if it persists."
        )
    fresh: list[Record] = []
    repeats = 0
    for record, key in zip(records, keys, strict=True):
        if key is not None and key in seen:
            repeats += 1  # the listing shifted while we paged: keep the first copy only
            continue
        if key is not None:
            seen.add(key)
        fresh.append(record)
    if repeats:
        log.warning("page %d repeated %d event(s) from earlier pages; kept one copy", page, repeats)
    return fresh
