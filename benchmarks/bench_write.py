"""Writing a formatted Excel table: sheep-xl's streaming writer against pandas' to_excel.

Run: ``python benchmarks/bench_write.py`` (``--repeat 3`` for medians). For each case the same
typed frame is written by ``DataFrame.to_excel(engine="openpyxl")`` (the baseline, unformatted)
and by sheep-xl (plan + write-only workbook: number formats, hyperlinks, an Excel table), in the
same process. Reported: cells per second, the ratio, and peak memory of each (tracemalloc).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import json

from bench_frames import make_pages

from sheep_xl.frames import events_frame
from sheep_xl.tables.plan import plan_table
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook


def frame_for(n: int, columns: str):  # type: ignore[no-untyped-def]
    records = []
    for page in make_pages(n):
        records.extend(json.loads(page)["bookings"])
    return events_frame(records, columns)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def peak_memory(fn) -> float:  # type: ignore[no-untyped-def]
    """Peak memory allocated while ``fn`` runs (tracemalloc, in a separate untimed run)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cases", default="50000:default,5000:all")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp())
    print(f"{'case':<16} {'writer':<10} {'median s':>9} {'cells/s':>10} {'peak MB':>8}")
    for case in args.cases.split(","):
        n, columns = case.split(":")
        frame = frame_for(int(n), columns)
        cells = frame.shape[0] * frame.shape[1]

        def pandas_write(frame=frame) -> None:  # type: ignore[no-untyped-def]
            frame.to_excel(out / "pandas.xlsx", index=False, engine="openpyxl")

        def sheep_write(frame=frame) -> None:  # type: ignore[no-untyped-def]
            plan = plan_table(frame, "Events")
            write_workbook(out / "sheep.xlsx", [SheetSpec("Events", plan)])

        results = {}
        for name, fn in (("pandas", pandas_write), ("sheep-xl", sheep_write)):
            median = statistics.median(timed(fn) for _ in range(args.repeat))
            peak = peak_memory(fn) / 2**20
            results[name] = median
            print(
                f"{n + ' x ' + columns:<16} {name:<10} {median:>9.2f} "
                f"{cells / median:>10,.0f} {peak:>8.0f}"
            )
        print(f"{'':<16} ratio sheep-xl / pandas: {results['pandas'] / results['sheep-xl']:.2f}x")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    print(f"peak RSS of this process (all cases, including building the frames): {peak_rss:.0f} MB")


if __name__ == "__main__":
    main()
