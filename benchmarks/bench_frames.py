"""Pages of API JSON -> typed DataFrame: rows per second for 5,000 and 50,000 events.

Run: ``python benchmarks/bench_frames.py`` (add ``--repeat 5`` for steadier medians).
The records are the demo server's sample events, repeated with fresh uids, serialised as pages of
250 exactly as the API sends them; the timed part is ``json.loads`` of every page plus
``events_frame``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time

from sheep_xl.demo.data import demo_events
from sheep_xl.frames import events_frame

PAGE = 250


def make_pages(n: int) -> list[bytes]:
    base = demo_events(dt.date(2026, 11, 24))
    records = []
    for i in range(n):
        record = dict(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        records.append(record)
    return [json.dumps({"bookings": records[i : i + PAGE]}).encode() for i in range(0, n, PAGE)]


def run(pages: list[bytes], columns: str | None) -> float:
    started = time.perf_counter()
    records = []
    for page in pages:
        records.extend(json.loads(page)["bookings"])
    events_frame(records, columns)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="5000,50000")
    args = parser.parse_args()
    print(f"{'events':>8} {'columns':>8} {'median s':>9} {'rows/s':>10}")
    for n in (int(s) for s in args.sizes.split(",")):
        pages = make_pages(n)
        for columns in ("default", "all"):
            times = [run(pages, columns) for _ in range(args.repeat)]
            median = statistics.median(times)
            print(f"{n:>8} {columns:>8} {median:>9.3f} {n / median:>10,.0f}")


if __name__ == "__main__":
    main()
