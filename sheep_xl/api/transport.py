"""The HTTP session: keep-alive, the OS trust store for TLS, and retry timing.

``truststore`` makes Python verify certificates with the operating system's store, which is what
corporate networks that intercept TLS rely on; without it requests only knows ``certifi``'s list.
"""

from __future__ import annotations

import email.utils
import random
import ssl
import time
from typing import Any

import requests
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
