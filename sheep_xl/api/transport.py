"""The HTTP session: keep-alive, the OS trust store for TLS, retry timing, and reading a body
within bounds.

``truststore`` makes Python verify certificates with the operating system's store, which is what
corporate networks that intercept TLS rely on; without it requests only knows ``certifi``'s list.

`read_body` is the one place a response body is read. It reads the raw stream as it arrives and
decodes gzip/deflate itself in bounded steps, so two limits hold whatever the server does:
the decoded size (a gzip bomb stops at the cap, having decompressed at most one step beyond it)
and the time for the whole response (a server sending one byte a second ends at the deadline,
which no per-read timeout would catch).
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import random
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from sheep_xl import __version__

USER_AGENT = f"sheep-xl/{__version__} (+https://github.com/sheep-xl)"

# Statuses worth another try: rate limits and gateways that are briefly unavailable.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class TrustStoreAdapter(HTTPAdapter):
    """An adapter whose TLS context trusts the OS certificate store (via ``truststore``)."""

    def __init__(self, **kwargs: Any) -> None:
        self._ssl_context = _os_trust_context()
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._ssl_context is not None:
            kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        if self._ssl_context is not None:
            kwargs["ssl_context"] = self._ssl_context
        return super().proxy_manager_for(proxy, **kwargs)


def _os_trust_context() -> ssl.SSLContext | None:
    try:
        import truststore
    except ImportError:  # optional at run time: fall back to requests' own CA bundle
        return None
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def new_session() -> requests.Session:
    """One session per client, so connections are kept alive across pages."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    # only encodings `read_body` decodes itself in bounded steps (not br or zstd)
    session.headers["Accept-Encoding"] = "gzip, deflate"
    session.mount("https://", TrustStoreAdapter(pool_connections=2, pool_maxsize=8))
    return session


def server_wait_hint(headers: Any, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After`` (seconds or a date), else
    ``x-rate-limit-reset`` (an epoch time or a number of seconds, the docs do not say which)."""
    now = time.time() if now is None else now
    retry_after = headers.get("Retry-After")
    if retry_after:
        retry_after = retry_after.strip()
        if retry_after.isdigit():
            return float(retry_after)
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.timestamp() - now)
    reset = headers.get("x-rate-limit-reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        # Values that look like Unix times are absolute; small ones are a delay.
        return max(0.0, value - now) if value > 1_000_000_000 else max(0.0, value)
    return None


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential back-off with jitter: about base·2^(attempt-1), spread over ±50%."""
    raw = min(cap, base * (2 ** (attempt - 1)))
    return raw * (0.5 + rng.random())


# --- reading a body within bounds -----------------------------------------------------------

CHUNK = 64 * 1024  # raw bytes per read, and decoded bytes per decompression step


class BodyTooLarge(Exception):
    """The decoded body passed the cap; ``limit`` is the cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class DeadlineExceeded(Exception):
    """The response took longer in all than the deadline allowed."""


class UnsupportedEncoding(Exception):
    """The body uses a ``Content-Encoding`` sheep-xl did not ask for and cannot decode."""

    def __init__(self, encoding: str) -> None:
        super().__init__(encoding)
        self.encoding = encoding


def read_body(
    response: requests.Response,
    *,
    limit: int,
    deadline: float,
    read_timeout: float,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """The decoded body of a ``stream=True`` response, at most ``limit`` bytes, read before
    ``deadline`` (a ``clock()`` value).

    Raises `BodyTooLarge`, `DeadlineExceeded`, `UnsupportedEncoding`, or the ``requests``
    exceptions a non-streamed read would (``ReadTimeout``, ``ChunkedEncodingError`` for a cut
    body, ``ContentDecodingError`` for corrupt gzip), so callers handle one set of errors."""
    decode = _decoder(response.headers.get("Content-Encoding", ""))
    declared = response.headers.get("Content-Length", "")
    if decode is None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)  # no need to read what would be thrown away
    out = bytearray()
    raw = response.raw
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            raise DeadlineExceeded()
        _limit_socket_wait(raw, min(read_timeout, remaining))
        try:
            data = raw.read1(CHUNK, decode_content=False)
        except urllib3.exceptions.ReadTimeoutError as exc:
            if deadline - clock() <= 0:
                raise DeadlineExceeded() from None
            raise requests.exceptions.ReadTimeout(str(exc)) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
            raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.exceptions.ConnectionError(str(exc)) from None
        pieces = decode(data) if decode is not None else iter((data,))
        for piece in pieces:
            out += piece
            if len(out) > limit:
                raise BodyTooLarge(limit)
        if not data:
            return bytes(out)


def _limit_socket_wait(raw: Any, seconds: float) -> None:
    """Make the next socket read wait at most ``seconds`` (the time left before the deadline),
    so the deadline holds to within a moment, not to within a whole read timeout."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # a closed socket: the read that follows says so
            sock.settimeout(max(seconds, 0.001))


def _decoder(encoding: str) -> Callable[[bytes], Iterator[bytes]] | None:
    """A function from raw bytes to decoded pieces of at most `CHUNK` bytes each, or None for
    an identity body; ``b""`` marks the end (and flushes)."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip"):
        return _Inflater(16 + zlib.MAX_WBITS).feed
    if name == "deflate":
        return _Inflater(zlib.MAX_WBITS, raw_fallback=True).feed
    raise UnsupportedEncoding(encoding)


class _Inflater:
    """zlib decompression in steps of at most `CHUNK` output bytes (``max_length``), keeping
    the unconsumed input for the next step: memory stays bounded for any compression ratio.
    Several gzip members one after another are decoded in turn, as ``gzip`` does."""

    def __init__(self, wbits: int, raw_fallback: bool = False) -> None:
        self._wbits = wbits
        self._raw_fallback = raw_fallback  # "deflate" is sometimes sent without its zlib header
        self._started = False
        self._z = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            yield from self._feed(data)
        except zlib.error as exc:
            raise requests.exceptions.ContentDecodingError(str(exc)) from None

    def _feed(self, data: bytes) -> Iterator[bytes]:
        if not data:  # the body is over: a stream cut short is corrupt, not merely short
            if self._started and not self._z.eof:
                raise zlib.error("the compressed body ended early")
            return
        pending = data
        if self._z.eof:  # a new gzip member starts in this chunk
            pending = self._next_member(self._z.unused_data + pending)
        while pending or self._started:
            piece = self._step(pending)
            if piece:
                yield piece
            if self._z.eof:
                pending = self._next_member(self._z.unused_data)
                if not pending:
                    return
                continue
            pending = self._z.unconsumed_tail
            if not pending and len(piece) < CHUNK:
                return  # all input used and no output held back: wait for more bytes

    def _step(self, pending: bytes) -> bytes:
        try:
            piece = self._z.decompress(pending, CHUNK)
        except zlib.error:
            if self._started or not self._raw_fallback:
                raise
            self._wbits, self._raw_fallback = -zlib.MAX_WBITS, False
            self._z = zlib.decompressobj(self._wbits)
            piece = self._z.decompress(pending, CHUNK)
        self._started = True
        return piece

    def _next_member(self, rest: bytes) -> bytes:
        """The input of the next gzip member, or b"" when only padding follows."""
        if not rest.strip(b"\0"):
            return b""
        self._z = zlib.decompressobj(self._wbits)
        return rest


# --- where the key may go --------------------------------------------------------------------


def is_loopback(url: str) -> bool:
    """True for ``localhost`` and addresses of this computer (127.0.0.0/8, ``::1``)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port: the only redirect target that gets the Authorization header."""
    pa, pb = urlsplit(a), urlsplit(b)
    default = {"http": 80, "https": 443}
    return (
        pa.scheme == pb.scheme
        and (pa.hostname or "") == (pb.hostname or "")
        and (pa.port or default.get(pa.scheme)) == (pb.port or default.get(pb.scheme))
    )
