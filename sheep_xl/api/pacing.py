"""Pacing requests by the server's rate-limit headers, so a long run never meets a 429.

sheepCRM documents 400 requests a minute and 1,000 an hour, and says so in every answer:
``x-rate-limit-limit``, ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (seconds until the
window resets, or a Unix time: the docs do not say which, so both are read). Fetching one part of
500 events is more than a minute's allowance, so the per-event fetch (``per_event``) asks a
`RatePacer` before every request:

* each request spends one of the budget as it goes (so requests on their way count before
  their answers do), and goes only while the budget is above the reserve (0 by default), so
  ``remaining`` never goes below zero; each answer then corrects the budget downwards;
* with nothing left, one thread sleeps until the window resets (plus a margin for clock skew)
  while the others wait for it: one sleeper means a simulated clock advances exactly as a real
  one would;
* before the first answer the budget is unknown, so one request goes alone to learn it;
* a 429 sets the budget to zero until the reset the server gives (``Retry-After`` first).

Answers are seen through a ``requests`` response hook (`attach`), so every answer counts,
retries and redirects included, without the client knowing about the pacer.

Both the clock and the sleep are injectable: `SimulatedClock` makes tests and benchmarks of
minutes of pacing run in milliseconds, and the demo server takes the same clock.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from sheep_xl.api.transport import server_wait_hint

WaitCallback = Callable[[float], None]  # seconds about to be waited for the rate limit

EPOCH_THRESHOLD = 1_000_000_000  # a reset larger than this is a Unix time, not a delay


class SimulatedClock:
    """A clock that moves only when something sleeps on it, for tests and benchmarks.

    ``clock()`` is the time; ``clock.sleep(s)`` moves it on by ``s`` at once. Only the pacer's
    single sleeper (and the client's rare retry) sleep on it, so it advances as real time would.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.slept = 0.0  # total simulated seconds slept

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            step = max(0.0, float(seconds))
            self._now += step
            self.slept += step


class RatePacer:
    """A shared budget of requests, learnt from the rate-limit headers (module docstring)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
        reserve: int = 0,
        margin: float = 1.0,
        unknown_wait: float = 1.0,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._wall = wall
        self.reserve = reserve  # requests left unused in each window (0: use them all)
        self.margin = margin  # seconds added to a reset, for clock skew
        self.unknown_wait = unknown_wait  # when the server gives no reset time
        self.on_wait = on_wait
        self._cond = threading.Condition()
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None  # clock time the window resets
        self.in_flight = 0
        self._sleeping = False
        # figures, for progress messages and benchmarks
        self.requests = 0  # requests let through
        self.responses = 0
        self.rate_limited = 0  # 429 answers seen
        self.waits = 0
        self.waited = 0.0  # seconds slept for the rate limit
        self.lowest_remaining: int | None = None

    # --- before and after each request ------------------------------------------------------

    def acquire(self) -> None:
        """Block until one more request fits in the budget, then count it as on its way."""
        with self._cond:
            while True:
                now = self._clock()
                if self.reset_at is not None and now >= self.reset_at:
                    self.remaining, self.reset_at = self.limit, None  # a new window
                if self.remaining is None:
                    if self.in_flight == 0 and not self._sleeping:
                        break  # the first request (or the first after a reset) learns the budget
                elif self.remaining > self.reserve:
                    self.remaining -= 1
                    break
                elif self.in_flight == 0 and not self._sleeping:
                    self._wait_for_reset(now)
                    continue
                # answers on their way may bring a fresher budget; a sleeper wakes us too
                self._cond.wait(timeout=0.25)
            self.in_flight += 1
            self.requests += 1

    def release(self) -> None:
        """A request (with any retries the client made) is over."""
        with self._cond:
            self.in_flight = max(0, self.in_flight - 1)
            self._cond.notify_all()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def observe(self, headers: Mapping[str, str], status: int = 200) -> None:
        """Learn the budget from one answer's headers (any status)."""
        remaining = _int_header(headers, "x-rate-limit-remaining")
        limit = _int_header(headers, "x-rate-limit-limit")
        delay = self._reset_delay(headers, status)
        with self._cond:
            self.responses += 1
            now = self._clock()
            if limit is not None:
                self.limit = limit
            if status == 429:
                self.rate_limited += 1
                remaining = 0
            if remaining is not None:
                reset_at = now + delay if delay is not None else None
                new_window = (
                    self.remaining is None
                    or self.reset_at is None
                    or (reset_at is not None and reset_at > self.reset_at + 1.0)
                )
                if new_window:  # the others on their way will spend from this window too
                    self.remaining = max(0, remaining - max(0, self.in_flight - 1))
                    self.reset_at = reset_at if reset_at is not None else now + self.unknown_wait
                else:  # answers of one window may arrive out of order: the lowest is the truth
                    self.remaining = min(self.remaining or 0, remaining)
                low = self.lowest_remaining
                self.lowest_remaining = remaining if low is None else min(low, remaining)
            self._cond.notify_all()

    # --- wiring -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def attach(self, session: requests.Session) -> Iterator[RatePacer]:
        """Observe every answer ``session`` receives while the block runs."""

        def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            self.observe(response.headers, response.status_code)

        hooks = session.hooks.setdefault("response", [])
        hooks.append(hook)
        try:
            yield self
        finally:
            with contextlib.suppress(ValueError):
                hooks.remove(hook)

    # --- helpers ----------------------------------------------------------------------------

    def _wait_for_reset(self, now: float) -> None:
        """Sleep (lock released) until the window resets; the only thread that sleeps."""
        delay = (self.reset_at - now if self.reset_at is not None else 0.0) + self.margin
        delay = max(delay, 0.0)
        self._sleeping = True
        self._cond.release()
        try:
            if self.on_wait is not None:
                self.on_wait(delay)
            self._sleep(delay)
        finally:
            self._cond.acquire()
            self._sleeping = False
            self.waits += 1
            self.waited += delay
            if self.reset_at is not None and self._clock() >= self.reset_at:
                self.remaining, self.reset_at = self.limit, None
            self._cond.notify_all()

    def _reset_delay(self, headers: Mapping[str, str], status: int) -> float | None:
        """Seconds until the window resets: ``Retry-After`` on a 429, else the reset header."""
        if status == 429:
            hint = server_wait_hint(headers, now=self._wall())
            if hint is not None:
                return hint
        reset = headers.get("x-rate-limit-reset")
        if not reset:
            return None
        try:
            value = float(reset)
        except ValueError:
            return None
        if not math.isfinite(value):
            return None
        return max(0.0, value - self._wall()) if value > EPOCH_THRESHOLD else max(0.0, value)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None
