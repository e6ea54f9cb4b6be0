"""Attendees of 500 events under sheepCRM's documented rate limit, on a simulated clock.

Run: ``python benchmarks/bench_per_event.py`` (``--events 1500`` shows the hourly limit binding).

The demo server enforces 400 requests a minute and 1,000 an hour on a `SimulatedClock` shared
with the client and its pacer, so the minutes of waiting the real API would need pass at once
while every request still goes over real HTTP. Printed: the simulated time the fetch would take
against sheepCRM, the real time it took here, and how close the pacing runs to the limit
(requests per simulated minute and hour against 400 and 1,000), with the 429s met (0 is the aim).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from typing import Any

import requests

from sheep_xl.api.client import SheepClient
from sheep_xl.api.pacing import RatePacer, SimulatedClock
from sheep_xl.api.per_event import fetch_per_event
from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY, DOCUMENTED_LIMITS, DemoServer

TODAY = dt.date(2026, 11, 24)


def make_events(n: int) -> list[dict[str, Any]]:
    """``n`` sample events with fresh uids and no series (so a listing shows every one)."""
    base = demo_events(TODAY)
    records = []
    for i in range(n):
        record = dict(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        record["uri"] = f"/example/booking/{record['uid']}/"
        record.pop("series_id", None)
        records.append(record)
    return records


def run(n: int, concurrency: int) -> dict[str, Any]:
    clock = SimulatedClock(0.0)  # the start of a minute and of an hour
    sent: list[float] = []  # simulated time of every answer

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        sent.append(clock())

    with DemoServer(
        today=TODAY,
        buckets={"example": make_events(n)},
        rate_limits=DOCUMENTED_LIMITS,
        clock=clock,
    ) as server:
        with SheepClient(
            api_key=DEMO_API_KEY, base_url=server.url, sleep=clock.sleep, clock=clock
        ) as client:
            client.session.hooks["response"].append(hook)
            pacer = RatePacer(clock=clock, sleep=clock.sleep)
            started = time.perf_counter()
            result = fetch_per_event(
                client, "example", "attendees", state="all", concurrency=concurrency, pacer=pacer
            )
            real = time.perf_counter() - started
        throttled = server.throttled
    per_minute = Counter(int(t // 60) for t in sent)
    per_hour = Counter(int(t // 3600) for t in sent)
    full_minutes = [c for m, c in per_minute.items() if m != max(per_minute)] or list(
        per_minute.values()
    )
    return {
        "events": result.total,
        "fetched": len(result.results),
        "failures": len(result.failures),
        "attendees": sum(len(r.body.get("sessions") or []) for r in result.results),
        "requests": len(sent),
        "simulated": clock(),
        "real": real,
        "waits": pacer.waits,
        "max_minute": max(per_minute.values()),
        "mean_full_minute": sum(full_minutes) / len(full_minutes),
        "max_hour": max(per_hour.values()),
        "throttled": throttled,
        "lowest_remaining": pacer.lowest_remaining,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    f = run(args.events, args.concurrency)
    minutes, seconds = divmod(f["simulated"], 60)
    print(
        f"attendees of {f['events']:,} events ({f['fetched']:,} fetched, {f['failures']} failed, "
        f"{f['attendees']:,} attendees) in {f['requests']:,} requests, "
        f"{args.concurrency} at a time, under 400/minute and 1,000/hour"
    )
    print(
        f"  against sheepCRM: {int(minutes)} min {seconds:.0f} s of simulated time waiting for "
        f"the limit ({f['waits']} waits for a reset; the requests' own time comes on top)"
    )
    print(f"  here: {f['real']:.2f} s real time over HTTP to the demo server")
    print(
        f"  pacing: at most {f['max_minute']} requests in any simulated minute "
        f"({f['max_minute'] / 4:.0f}% of 400), {f['mean_full_minute']:.0f} on average over the "
        f"full minutes; at most {f['max_hour']} in any hour (of 1,000)"
    )
    print(
        f"  429 answers: {f['throttled']}; lowest x-rate-limit-remaining seen: "
        f"{f['lowest_remaining']}"
    )


if __name__ == "__main__":
    main()
