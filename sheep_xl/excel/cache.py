"""The worksheet functions' cache: one request per distinct query per time-to-live.

Excel may recalculate hundreds of ``=SHEEP_EVENTS(...)`` cells at once. Every call asks this
cache; calls that arrive while the same query is being fetched wait for that one request
("single flight") instead of sending their own. A failed fetch is remembered briefly too, so a
storm of cells does not hammer a server that is down. Another process (the ribbon, the command
line) tells the functions to clear it through the epoch file in ``sheep_xl.epoch``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

FAILURE_TTL_SECONDS = 15.0


@dataclass
class _Entry:
    value: Any
    error: BaseException | None
    expires: float
    fetched_at: float


class TtlCache:
    """A thread-safe, single-flight cache with a time-to-live per entry."""

    def __init__(
        self,
        ttl_seconds: float = 300.0,
        *,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._inflight: dict[Hashable, Future[Any]] = {}
        self.loads = 0  # how many times a loader actually ran (for diagnostics and tests)

    def get(
        self, key: Hashable, loader: Callable[[], Any], ttl_seconds: float | None = None
    ) -> Any:
        """The cached value for ``key``, loading it (once, for all waiting callers) if needed."""
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        with self._lock:
            entry = self._entries.get(key)
            now = self._clock()
            if entry is not None and now < entry.expires and ttl > 0:
                self._entries.move_to_end(key)
                if entry.error is not None:
                    raise entry.error
                return entry.value
            future = self._inflight.get(key)
            leader = future is None
            if leader:
                future = Future()
                self._inflight[key] = future
                self.loads += 1
        assert future is not None
        if not leader:
            return future.result()
        try:
            value = loader()
        except BaseException as exc:
            self._store(
                key, _Entry(None, exc, self._clock() + min(ttl, FAILURE_TTL_SECONDS), self._clock())
            )
            future.set_exception(exc)
            raise
        self._store(key, _Entry(value, None, self._clock() + ttl, self._clock()))
        future.set_result(value)
        return value

    def fetched_at(self, key: Hashable) -> float | None:
        with self._lock:
            entry = self._entries.get(key)
            return entry.fetched_at if entry is not None and entry.error is None else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _store(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._inflight.pop(key, None)
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
