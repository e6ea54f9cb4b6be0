"""A client for sheepCRM's events API (v2) with transparent paging, retries and typed errors.

    >>> client = SheepClient()                      # key from SHEEP_API_KEY or the credential store
    >>> rows = client.events("example", "confirmed")   # every page, classified on the client

The list endpoint gives no totals and no next link: the end is a short or empty page. A server
that ignores ``page`` would loop forever or duplicate rows, so each page's uids are checked.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from sheep_xl.api.states import Selection, resolve_state
from sheep_xl.api.transport import (
    RETRY_STATUSES,
    backoff_delay,
    new_session,
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
    NetworkError,
    NotFoundError,
    PagingError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)

log = logging.getLogger(__name__)

Record = dict[str, Any]
ProgressCallback = Callable[[int, int], None]  # (pages fetched, rows so far)


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
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.base_url = normalise_api_url(base_url or self.settings.api_url)
        self.host = urlsplit(self.base_url).netloc
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
        self._sleep = sleep
        self._rng = random.Random(seed)

    # --- public API -------------------------------------------------------------------------

    def events(
        self,
        bucket: str,
        state: str = "all",
        page_size: int | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Record]:
        """Every event of ``bucket`` in ``state`` (an API state or a classification)."""
        bucket, selection, size = self.validate_request(bucket, state, page_size)
        rows: list[Record] = []
        for pages, page in enumerate(self.iter_pages(bucket, selection.api_state, size), 1):
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

    def iter_pages(self, bucket: str, api_state: str, page_size: int) -> Iterator[list[Record]]:
        """Pages of ``/events/v2/{bucket}/bookings/{state}`` until a short or empty page."""
        path = f"/events/v2/{quote(bucket, safe='')}/bookings/{quote(api_state, safe='')}"
        target = _Target("bucket", bucket)
        seen: set[str] = set()
        for page in range(1, self.max_pages + 1):
            body = self._get_json(path, {"page": page, "page_size": page_size}, target)
            records = _bookings(body, self.host, page)
            fresh = _drop_seen(records, seen, page, self.host)
            if fresh:
                yield fresh
            if len(records) < page_size:
                return
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

    def _get_json(self, path: str, params: dict[str, Any], target: _Target) -> Any:
        key = self._api_key()
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {key.value}"}
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            failure: Exception | None = None
            wait_hint: float | None = None
            try:
                response = self.session.get(
                    url, params=params, headers=headers, timeout=self.timeout
                )
                content = response.content  # read the whole body here: a cut body raises here
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
                    return self._decode(response, content)
                if status not in RETRY_STATUSES:
                    raise self._status_error(response, target)
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

    def _decode(self, response: requests.Response, content: bytes) -> Any:
        try:
            return json.loads(content)
        except (UnicodeDecodeError, ValueError):
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise UnexpectedResponseError(
                f"The server at {self.host} answered with {kind} instead of JSON: check the API "
                f"address ({ENV_API_URL}) and any proxy between you and sheepCRM."
            ) from None

    def _status_error(self, response: requests.Response, target: _Target) -> Exception:
        status = response.status_code
        detail = _error_description(response)
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


def _error_description(response: requests.Response) -> str:
    """The server's ``description`` (or ``error``) from the standard error body, shortened."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    text = body.get("description") or body.get("error") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= 200 else text[:197] + "..."


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
