"""Issue 14's performance goals, each against its baseline in the same run.

Run: ``python benchmarks/bench_perf_goals.py --quick`` (a few minutes on 2 cores) or without
``--quick`` for the goals' own sizes; ``--cases 2,5`` runs some of them. Every figure is a
median of ``--repeat`` runs with its min-max; memory is the tracemalloc peak of a separate run.
Nothing here is asserted: the figures are printed (see README, "Performance").

1. refresh a table in place (10k -> 50k rows, 50k -> 5k) vs writing the same rows anew
2. peak memory of writing 200k x 21 to a new workbook: rows streamed from the frame's columns
   vs the same plan held as a Python list per row (how `TablePlan` was before)
3. writer speed vs XlsxWriter (constant_memory) and rustpy-xlsxwriter, when installed (they are
   benchmark-only: ``pip install xlsxwriter rustpy-xlsxwriter``, never dependencies)
4. ``sheep-xl events`` end to end against a local demo server vs a naive script (requests
   paging, ``pandas.json_normalize``, ``to_excel``), both in fresh processes
5. a warm ``SHEEP_EVENTS``, with what Excel's call path converts (xlwings' ``conversion.write``
   with the function's declared return options and xlwings' own Windows value preparation)
   vs the result as cached before (plan values through xlwings' default conversion)
6. ``import sheep_xl.excel.ribbon`` (every ribbon click) vs ``import xlwings``, fresh processes
7. linearity: time at n and 4n for rows, columns and hyperlinks (4.0x is linear)
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import types
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sheep_xl.demo.data import demo_events
from sheep_xl.frames import events_frame
from sheep_xl.frames.catalogue import DEFAULT_COLUMNS
from sheep_xl.tables.plan import TablePlan, plan_table
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook

TODAY = dt.date(2026, 11, 24)
PYTHON = sys.executable
OUT = Path(tempfile.mkdtemp(prefix="sheep-perf-"))


# --- measuring -------------------------------------------------------------------------------


class Figure:
    """Seconds of ``repeat`` runs: the median and the min-max."""

    def __init__(self, times: list[float]) -> None:
        self.times = times
        self.median = statistics.median(times)

    def __str__(self) -> str:
        if len(self.times) == 1:
            return f"{self.median:.3f} s"
        return f"{self.median:.3f} s ({min(self.times):.3f}-{max(self.times):.3f})"


def timed(fn: Callable[[], Any], repeat: int) -> Figure:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return Figure(times)


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak memory allocated while ``fn`` runs (tracemalloc; what existed before is not
    counted, so a frame built beforehand is not part of the writer's figure)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def ratio_line(what: str, new: Figure, baseline: Figure, baseline_name: str) -> None:
    """``what``'s time against the baseline's, as baseline / new (above 1: ``what`` is faster)."""
    times = baseline.median / new.median
    print(f"    {what}: {new}  vs {baseline_name} {baseline}  ->  {times:.2f}x as fast")


# --- data ------------------------------------------------------------------------------------


def make_events(n: int) -> list[dict[str, Any]]:
    """``n`` demo events (the sample set repeated with fresh uids, no series), as the API sends
    them; the same way ``bench_frames.make_pages`` builds bigger sets."""
    base = demo_events(TODAY)
    out = []
    for i in range(n):
        record = dict(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        record["uri"] = f"/example/booking/{record['uid']}/"
        record.pop("series_id", None)
        out.append(record)
    return out


_FRAMES: dict[tuple[int, str], pd.DataFrame] = {}


def frame_for(n: int, columns: str = "default") -> pd.DataFrame:
    key = (n, columns)
    if key not in _FRAMES:
        _FRAMES.clear()  # one size at a time: the frames are big
        _FRAMES[key] = events_frame(json.loads(json.dumps(make_events(n))), columns)
    return _FRAMES[key]


def held(plan: TablePlan) -> TablePlan:
    """The same plan with every row a Python list (the representation before issue 14)."""
    return TablePlan(plan.name, plan.columns, [list(r) for r in plan.rows], plan.style, [])


def write_new(frame: pd.DataFrame, path: Path) -> None:
    write_workbook(path, [SheetSpec("Events", plan_table(frame, "Events"))])


# --- 1. refresh ------------------------------------------------------------------------------

REFRESH_RSS_SCRIPT = """
import pathlib, pickle, sys
from sheep_xl.tables.plan import plan_table
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook
from sheep_xl.writers.xlsx_refresh import WorkbookEditor
frame = pickle.loads(pathlib.Path(sys.argv[1]).read_bytes())
start, out = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark: the frame is loaded
before = status("VmRSS")
if sys.argv[4] == "refresh":
    package = XlsxPackage(start)
    editor = WorkbookEditor(package)
    editor.replace_table(plan_table(frame, "Events"))
    editor.finish()
    package.save(out)
else:
    write_workbook(out, [SheetSpec("Events", plan_table(frame, "Events"))])
print(status("VmHWM") - before)
"""


def refresh_rss(frame: pd.DataFrame, start: Path, mode: str) -> float | None:
    """Peak RSS growth (MB) of a refresh of ``start`` or a new workbook with ``frame``'s rows,
    in a fresh process that loaded the frame first: unlike tracemalloc it sees lxml's trees
    (the tree path's biggest cost) and zlib's buffers. Linux only."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    frame_file = OUT / "refresh-frame.pkl"
    frame_file.write_bytes(pickle.dumps(frame))
    out = subprocess.run(
        [PYTHON, "-c", REFRESH_RSS_SCRIPT, str(frame_file), str(start), str(OUT / "r.xlsx"), mode],
        capture_output=True,
        text=True,
    )
    return float(out.stdout) if out.returncode == 0 else None


def case_refresh(quick: bool, repeat: int) -> None:
    print("1. refresh in place vs writing the same rows anew (runs interleaved)")
    try:
        from sheep_xl.writers.ooxml import XlsxPackage
        from sheep_xl.writers.xlsx_refresh import WorkbookEditor
    except ImportError as exc:  # the refresher is being reorganised
        print(f"    skipped: {exc}")
        return
    big, small = (10_000, 1_000) if quick else (50_000, 5_000)
    first = big // 5 if not quick else 2_000
    for before, after in ((first, big), (big, small)):
        start = OUT / f"refresh-{before}.xlsx"
        write_new(frame_for(before), start)
        frame = frame_for(after)

        def refresh(start: Path = start, frame: pd.DataFrame = frame) -> None:
            package = XlsxPackage(start)
            editor = WorkbookEditor(package)
            editor.replace_table(plan_table(frame, "Events"))
            editor.finish()
            package.save(OUT / "refreshed.xlsx")

        def anew(frame: pd.DataFrame = frame) -> None:
            write_new(frame, OUT / "anew.xlsx")

        def preflight(start: Path = start) -> None:
            WorkbookEditor(XlsxPackage(start)).preflight()

        refresh()  # warm: imports, caches
        times: dict[str, list[float]] = {"refresh": [], "anew": [], "preflight": []}
        for _ in range(repeat):  # interleaved, so a busy moment costs both alike
            for name, fn in (("refresh", refresh), ("anew", anew), ("preflight", preflight)):
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
        new_t, base_t = Figure(times["refresh"]), Figure(times["anew"])
        new_m, base_m = peak_mb(refresh), peak_mb(anew)
        label = f"{before:,} -> {after:,} rows"
        print(
            f"    {label}, time: {new_t}  vs anew {base_t}  ->  "
            f"{new_t.median / base_t.median:.2f}x the time"
        )
        print(
            f"    {label}, tracemalloc peak: {new_m:.0f} MB vs anew {base_m:.0f} MB"
            f"  ->  {new_m / base_m:.2f}x the memory"
        )
        new_rss, base_rss = refresh_rss(frame, start, "refresh"), refresh_rss(frame, start, "anew")
        if new_rss is not None and base_rss is not None:
            print(
                f"    {label}, RSS growth (fresh process): {new_rss:.0f} MB vs anew "
                f"{base_rss:.0f} MB  ->  {new_rss / max(base_rss, 1):.2f}x"
            )
        print(f"    (the preflight `sheep-xl refresh` runs first: {Figure(times['preflight'])})")


# --- 2. writer memory ------------------------------------------------------------------------


RSS_SCRIPT = """
import pathlib, pickle, sys
sys.path.insert(0, sys.argv[3])
from bench_perf_goals import held
from sheep_xl.tables.plan import plan_table
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook
frame = pickle.loads(pathlib.Path(sys.argv[1]).read_bytes())
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark: the frame is loaded
before = status("VmRSS")
plan = plan_table(frame, "Events")
plan = held(plan) if sys.argv[2] == "lists" else plan
write_workbook(pathlib.Path(sys.argv[1]).with_suffix(".xlsx"), [SheetSpec("Events", plan)])
print(status("VmHWM") - before, status("VmHWM"))
"""


def rss_growth(frame_file: Path, mode: str) -> tuple[float, float] | None:
    """Peak RSS growth (MB) of plan + write in a fresh process that loaded the frame first, and
    the process's peak: unlike tracemalloc it sees lxml's and zlib's memory. Linux only."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    out = subprocess.run(
        [PYTHON, "-c", RSS_SCRIPT, str(frame_file), mode, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return None
    growth, peak = (float(x) for x in out.stdout.split())
    return growth, peak


def case_memory(quick: bool, repeat: int) -> None:
    n = 50_000 if quick else 200_000
    print(f"2. writer peak memory, {n:,} x 21 (goal at 200k: under 150 MB; was ~446 MB)")
    frame = frame_for(n)

    def streamed() -> None:
        write_new(frame, OUT / "streamed.xlsx")

    def as_lists() -> None:
        write_workbook(OUT / "lists.xlsx", [SheetSpec("Events", held(plan_table(frame)))])

    new_m, base_m = peak_mb(streamed), peak_mb(as_lists)
    print(
        f"    tracemalloc peak: streamed {new_m:.0f} MB ({new_m * 1024 / n:.2f} KB/row) vs rows "
        f"as lists {base_m:.0f} MB ({base_m * 1024 / n:.2f} KB/row)  ->  {base_m / new_m:.1f}x less"
    )
    frame_file = OUT / "frame.pkl"
    frame_file.write_bytes(pickle.dumps(frame))
    rss = {mode: rss_growth(frame_file, mode) for mode in ("streamed", "lists")}
    if rss["streamed"] and rss["lists"]:
        (new_g, new_p), (base_g, base_p) = rss["streamed"], rss["lists"]
        print(
            f"    RSS growth (fresh process): streamed {new_g:.0f} MB (process peak {new_p:.0f}) "
            f"vs rows as lists {base_g:.0f} MB (peak {base_p:.0f})  ->  {base_g / new_g:.1f}x less"
        )
    else:
        print("    RSS growth: skipped (needs Linux's /proc/self/clear_refs)")
    new_t, base_t = timed(streamed, repeat), timed(as_lists, repeat)
    ratio_line("time", new_t, base_t, "rows as lists")
    frame_mb = frame.memory_usage(deep=True).sum() / 2**20
    print(f"    (the frame itself, built before: {frame_mb:.0f} MB, not counted)")


# --- 3. writer speed -------------------------------------------------------------------------


def write_xlsxwriter(frame: pd.DataFrame, path: Path) -> None:
    """XlsxWriter (constant_memory) writing the plan's values, each column's number format."""
    import xlsxwriter  # type: ignore[import-untyped]

    plan = plan_table(frame, "Events")
    # text stays text: "=Equal Pay Day briefing" (a demo title) is no formula
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Events")
    formats = [book.add_format({"num_format": c.number_format.code}) for c in plan.columns]
    sheet.write_row(0, 0, plan.titles)
    for r, row in enumerate(plan.iter_rows(), 1):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value, formats[c])
    book.close()


def rust_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as rustpy-xlsxwriter takes it: NumPy dtypes (it refuses pandas' NA), empty
    cells as None or NaN, and times of day as Excel's fractions of a day (it has no time type)."""
    out: dict[str, Any] = {}
    for title in frame.columns:
        column = frame[title]
        if isinstance(column.dtype, pd.StringDtype) or column.dtype == "boolean":
            out[title] = column.to_numpy(dtype=object, na_value=None)
        elif column.dtype.kind in "iuf":
            out[title] = column.to_numpy(dtype=float, na_value=np.nan)
        elif column.dtype == object:  # times of day
            out[title] = np.array(
                [
                    (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
                    if isinstance(v, dt.time)
                    else np.nan
                    for v in column
                ]
            )
        elif column.isna().any():  # dates: it takes NaT for year 1
            out[title] = column.astype(object).where(column.notna(), None)
        else:
            out[title] = column
    return pd.DataFrame(out)


def write_rust(frame: pd.DataFrame, path: Path) -> None:
    """rustpy-xlsxwriter writing the frame (converted as it needs, `rust_frame`)."""
    import rustpy_xlsxwriter

    rustpy_xlsxwriter.write_worksheet(rust_frame(frame), str(path), sheet_name="Events")


def writers() -> dict[str, Callable[[pd.DataFrame, Path], None]]:
    """The writers compared: ours, and each baseline that is installed (benchmark-only:
    ``pip install xlsxwriter rustpy-xlsxwriter``, never dependencies)."""
    found: dict[str, Callable[[pd.DataFrame, Path], None]] = {"sheep-xl": write_new}
    for name, module, write in (
        ("XlsxWriter", "xlsxwriter", write_xlsxwriter),
        ("rustpy-xlsxwriter", "rustpy_xlsxwriter", write_rust),
    ):
        try:
            __import__(module)
        except ImportError:
            print(f"    {name}: skipped (pip install {module.replace('_', '-')} to compare)")
        else:
            found[name] = write
    return found


def _expected(column: pd.Series, kind: str, times_as_fractions: bool) -> list[Any]:
    """What a reader gets back for each of a frame column's values ("" for an empty cell)."""
    out: list[Any] = []
    for value in column.tolist():
        if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
            out.append("")
        elif kind == "date":
            out.append(value.date())
        elif kind == "datetime":
            out.append(value.to_pydatetime().replace(tzinfo=None))
        elif isinstance(value, dt.time) and times_as_fractions:
            seconds = value.hour * 3600 + value.minute * 60 + value.second
            out.append((seconds + value.microsecond / 1e6) / 86400)
        elif isinstance(value, (bool, np.bool_)):
            out.append(bool(value))
        elif kind == "number":
            out.append(float(value))
        else:
            out.append(value)
    return out


MILLISECOND = dt.timedelta(milliseconds=1)  # what a serial number holds; calamine rounds to it
RUST_DATETIMES = dt.timedelta(seconds=1)  # rustpy-xlsxwriter writes date-times to the second


def _same(got: Any, want: Any, close: dt.timedelta = MILLISECOND) -> bool:
    if isinstance(want, float):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and got == want
    if isinstance(want, dt.datetime):
        return isinstance(got, dt.datetime) and abs(got - want) < close
    if isinstance(want, dt.time) and isinstance(got, dt.time):
        later = dt.datetime.combine(TODAY, got) - dt.datetime.combine(TODAY, want)
        return abs(later) <= MILLISECOND
    return type(got) is type(want) and bool(got == want)


def read_back_mismatches(
    path: Path,
    frame: pd.DataFrame,
    *,
    times_as_fractions: bool = False,
    close: dt.timedelta = MILLISECOND,
    limit: int = 5,
) -> tuple[int, list[str]]:
    """How many cells python-calamine read back from the sheet "Events" of ``path``, and (the
    first ``limit`` of) those that differ from the frame: text, numbers, booleans, dates,
    date-times (to ``close``) and times (as day fractions where the writer has no time
    type)."""
    from python_calamine import CalamineWorkbook

    from sheep_xl.frames.convert import column_specs

    header, *body = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    problems = []
    if [str(t) for t in header] != [str(t) for t in frame.columns]:
        problems.append(f"header {header!r} != {list(frame.columns)!r}")
    if len(body) != len(frame):
        problems.append(f"{len(body)} rows read back for {len(frame)}")
    checked = 0
    for c, spec in enumerate(column_specs(frame)):
        wanted = _expected(frame[spec.title], spec.field.kind, times_as_fractions)
        for r, (want, row) in enumerate(zip(wanted, body, strict=False)):
            got = row[c] if c < len(row) else ""
            checked += 1
            if not _same(got, want, close):
                problems.append(f"row {r + 2}, {spec.title}: read {got!r}, frame {want!r}")
    return checked, problems[:limit] + (
        [f"... {len(problems)} in all"] if len(problems) > limit else []
    )


_HYPERLINK = re.compile(rb'<hyperlink ref="([A-Z]+)(\d+)" r:id="([^"]+)"/>')
_RELATIONSHIP = re.compile(rb'<Relationship Id="([^"]+)" Type="[^"]*/hyperlink" Target="([^"]*)"')


def link_mismatches(path: Path, frame: pd.DataFrame, limit: int = 5) -> tuple[int, list[str]]:
    """How many hyperlinks the first sheet of ``path`` has, and (the first ``limit`` of) the
    link cells of the frame (its ``url`` columns, a safe scheme) that lack theirs."""
    from html import unescape

    from sheep_xl.frames.convert import column_specs
    from sheep_xl.tables.plan import is_link
    from sheep_xl.writers.ooxml import column_letter

    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
        rels_name = "xl/worksheets/_rels/sheet1.xml.rels"
        rels = zf.read(rels_name) if rels_name in zf.namelist() else b""
    targets = {m[1]: unescape(m[2].decode()) for m in _RELATIONSHIP.finditer(rels)}
    found = {(m[1].decode(), int(m[2])): targets.get(m[3]) for m in _HYPERLINK.finditer(sheet)}
    problems = []
    for c, spec in enumerate(column_specs(frame)):
        if spec.field.kind != "url":
            continue
        letter = column_letter(c + 1)
        for r, value in enumerate(frame[spec.title].tolist(), 2):
            if is_link(value) and found.get((letter, r)) != value:
                problems.append(f"{letter}{r}: link {found.get((letter, r))!r}, frame {value!r}")
    return len(found), problems[:limit]


def case_speed(quick: bool, repeat: int) -> None:
    n = 20_000 if quick else 50_000
    print(f"3. writer speed, {n:,} x 21 (goal: within 1.3x of rustpy-xlsxwriter), interleaved")
    frame = frame_for(n)
    contenders = writers()
    paths = {name: OUT / f"speed-{number}.xlsx" for number, name in enumerate(contenders)}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_ in range(max(repeat, 5)):  # each round in another order: no writer always goes first
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            started = time.perf_counter()
            contenders[name](frame, paths[name])
            times[name].append(time.perf_counter() - started)
    ours = Figure(times["sheep-xl"])
    print(f"    sheep-xl: {ours}  ({n * 21 / ours.median:,.0f} cells/s)")
    for name in names[1:]:
        ratio_line("sheep-xl", ours, Figure(times[name]), name)
    if "rustpy-xlsxwriter" in times:
        rust = Figure(times["rustpy-xlsxwriter"])
        print(
            f"    sheep-xl / rustpy-xlsxwriter: {ours.median / rust.median:.2f}x its time "
            "(goal: at most 1.3x)"
        )
    sizes = ", ".join(f"{name} {paths[name].stat().st_size / 2**20:.2f} MB" for name in names)
    print(f"    files: {sizes}")
    for name in names:  # correctness at full size, after timing
        rust = name == "rustpy-xlsxwriter"
        checked, problems = read_back_mismatches(
            paths[name],
            frame,
            times_as_fractions=rust,
            close=RUST_DATETIMES if rust else MILLISECOND,
        )
        print(
            f"    calamine read-back, {name}: {checked:,} cells, "
            f"{'equal to the frame' if not problems else 'DIFFERENT'}"
        )
        for problem in problems:
            print(f"        {problem}")
    links, problems = link_mismatches(paths["sheep-xl"], frame)
    print(f"    hyperlinks, sheep-xl: {links:,}, {'OK' if not problems else 'MISSING'}")
    for problem in problems:
        print(f"        {problem}")


# --- 4. end to end ---------------------------------------------------------------------------

NAIVE = """
import sys, pandas as pd, requests
url, key, out = sys.argv[1:4]
keep = sys.argv[4].split(",") if len(sys.argv) > 4 else None  # the columns to write, or all
rows, page = [], 1
while True:
    r = requests.get(f"{url}/events/v2/example/bookings/all",
                     params={"page": page, "page_size": 250},
                     headers={"Authorization": f"Bearer {key}"}, timeout=60)
    r.raise_for_status()
    got = r.json()["bookings"]
    if not got:
        break
    rows.extend(got)
    page += 1
frame = pd.json_normalize(rows)
(frame[[c for c in keep if c in frame.columns]] if keep else frame).to_excel(out, index=False)
"""


E2E_EVENTS = 0  # ``--events``: case 4's size instead of its defaults


def case_end_to_end(quick: bool, repeat: int) -> None:
    from sheep_xl.demo.server import DEMO_API_KEY, DemoServer

    # the default columns (the naive script keeps the same fields), then all of them; the
    # goal's 50k events for the default columns (the naive script takes 4 minutes with all)
    runs = (
        [(5_000, "default"), (5_000, "all")]
        if quick
        else [(20_000, "default"), (50_000, "default"), (20_000, "all")]
    )
    if E2E_EVENTS:  # ``--events N``: both column sets at N events
        runs = [(E2E_EVENTS, "default"), (E2E_EVENTS, "all")]
    for n in sorted({n for n, _ in runs}):
        print(f"4. end to end, {n:,} events over HTTP from the demo server (fresh processes)")
        # the server encodes each page once (`unchanging`): both clients are timed, not its JSON
        events = make_events(n)
        with DemoServer(today=TODAY, buckets={"example": events}, unchanging=True) as server:
            env = dict(os.environ, SHEEP_API_KEY=DEMO_API_KEY, NO_PROXY="127.0.0.1,localhost")
            cli = str(Path(PYTHON).with_name("sheep-xl"))

            def run(cmd: list[str], env: dict[str, str] = env) -> Callable[[], None]:
                def once() -> None:
                    subprocess.run(cmd, env=env, check=True, capture_output=True)

                return once

            for columns in (c for size, c in runs if size == n):
                keep = ",".join(DEFAULT_COLUMNS) if columns == "default" else None
                ours_cmd = [cli, "events", "example", "all", "-q", "--api-url", server.url]
                ours_cmd += ["--columns", columns, "--out", str(OUT / "cli.xlsx")]
                naive_cmd = [PYTHON, "-c", NAIVE, server.url, DEMO_API_KEY]
                naive_cmd += [str(OUT / "naive.xlsx")] + ([keep] if keep else [])
                run(ours_cmd)()  # warm: the server's answers encoded, the files cached
                ratio_line(
                    f"sheep-xl events, {columns} columns",
                    timed(run(ours_cmd), repeat),
                    timed(run(naive_cmd), repeat),
                    "naive script",
                )


# --- 5. warm SHEEP_EVENTS --------------------------------------------------------------------


def xlwings_windows_prepare() -> Callable[[Any, Any], Any]:
    """xlwings' own ``_xlwindows.Engine.prepare_xl_data_element`` (and ``_datetime_to_com_time``)
    compiled from its source: the module needs Windows, the code does not."""
    import xlwings

    source = Path(xlwings.__file__).with_name("_xlwindows.py").read_text(encoding="utf-8")
    wanted: list[ast.stmt] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "_datetime_to_com_time":
            wanted.append(node)
        if isinstance(node, ast.ClassDef) and node.name == "Engine":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "prepare_xl_data_element":
                    item.decorator_list = []
                    wanted.append(item)
    utc = types.SimpleNamespace(TimeZoneInfo=types.SimpleNamespace(utc=lambda: dt.UTC))
    namespace: dict[str, Any] = {
        "dt": dt,
        "pd": pd,
        "np": np,
        "np_datetime_to_datetime": lambda x: pd.Timestamp(x).to_pydatetime(),
        "time_types": (dt.date, dt.datetime, np.datetime64),
        "win32timezone": utc,
    }
    exec(compile(ast.Module(body=wanted, type_ignores=[]), "_xlwindows.py", "exec"), namespace)
    prepare: Callable[[Any, Any], Any] = namespace["prepare_xl_data_element"]
    return prepare


@contextmanager
def excel_engine() -> Iterator[None]:
    """An xlwings engine named "excel" preparing values as the Windows engine does."""
    import xlwings

    prepare = xlwings_windows_prepare()

    class WindowsValues:
        name = "excel"
        type = "desktop"
        prepare_xl_data_element = staticmethod(prepare)

    engine = xlwings.main.Engine(impl=WindowsValues())
    xlwings.engines.add(engine)
    try:
        yield
    finally:
        xlwings.engines.engines.remove(engine)
        xlwings.engines.engines_by_name.pop("excel", None)


def case_warm_udf(quick: bool, repeat: int) -> None:
    from xlwings import conversion

    from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
    from sheep_xl.excel import udfs
    from sheep_xl.excel.registry import REGISTRY
    from sheep_xl.writers.live import com_value

    print(
        "5. warm SHEEP_EVENTS, with Excel's call path conversion (goal: 5 ms at 5k, 50 ms at 50k)"
    )
    options = REGISTRY["SHEEP_EVENTS"].ret_options
    reps = max(repeat, 5)
    sizes = (5_000, 20_000) if quick else (5_000, 50_000)
    with excel_engine():
        for n in sizes:
            with DemoServer(today=TODAY, buckets={"example": make_events(n)}) as server:
                os.environ["SHEEP_API_URL"], os.environ["SHEEP_API_KEY"] = server.url, DEMO_API_KEY
                udfs.clear_cache()
                udfs.SHEEP_EVENTS("example", "all")  # cold: fetch and render once
                records, _ = udfs._listing("example", "all", None)
                plan = plan_table(events_frame(records, None))
                before = [plan.titles] + [[com_value(v) for v in row] for row in plan.rows]

                def warm() -> None:
                    conversion.write(udfs.SHEEP_EVENTS("example", "all"), None, options)

                def warm_before(before: list[list[Any]] = before) -> None:
                    udfs.SHEEP_EVENTS("example", "all")  # the same lookup, then today's result
                    conversion.write(before, None, {})

                new_t, base_t = timed(warm, reps), timed(warm_before, reps)
                print(
                    f"    {n:,} x 21: {new_t.median * 1000:.1f} ms "
                    f"({min(new_t.times) * 1000:.1f}-{max(new_t.times) * 1000:.1f}) vs before "
                    f"{base_t.median * 1000:.0f} ms ({min(base_t.times) * 1000:.0f}-"
                    f"{max(base_t.times) * 1000:.0f})  ->  {base_t.median / new_t.median:.0f}x"
                )
    for name in ("SHEEP_API_URL", "SHEEP_API_KEY"):
        os.environ.pop(name, None)


# --- 6. ribbon import ------------------------------------------------------------------------


def case_ribbon_import(quick: bool, repeat: int) -> None:
    runs = 6 if quick else 15
    print(f"6. a ribbon click's import, fresh processes, {runs} each, interleaved (goal: 1.3x)")
    times: dict[str, list[float]] = {"xlwings": [], "sheep_xl.excel.ribbon": [], "": []}
    for _ in range(runs):
        for module in times:
            code = f"import {module}" if module else "pass"
            started = time.perf_counter()
            subprocess.run([PYTHON, "-c", code], check=True)
            times[module].append(time.perf_counter() - started)
    xlw, ribbon, bare = (Figure(times[m]) for m in ("xlwings", "sheep_xl.excel.ribbon", ""))
    print(f"    python -c pass: {bare}")
    print(
        f"    import xlwings: {xlw}; import sheep_xl.excel.ribbon: {ribbon}  ->  "
        f"{ribbon.median / xlw.median:.2f}x (without the interpreter's start: "
        f"{(ribbon.median - bare.median) / (xlw.median - bare.median):.2f}x)"
    )


# --- 7. linearity ----------------------------------------------------------------------------


def wide_frame(n_rows: int, n_cols: int) -> pd.DataFrame:
    """Events with thousands of fields: text and number columns, typed by dtype."""
    data: dict[str, Any] = {}
    for c in range(n_cols):
        if c % 2:
            data[f"field {c}"] = pd.array(np.arange(n_rows, dtype=float) + c, dtype="Float64")
        else:
            data[f"field {c}"] = pd.array([f"value {r}.{c}" for r in range(n_rows)], dtype="string")
    return pd.DataFrame(data)


def case_linearity(quick: bool, repeat: int) -> None:
    print("7. linearity: time at n and 4n (plan + new workbook; 4.0x is linear)")
    rows = 2_500 if quick else 10_000
    cols = 250 if quick else 1_000
    links = 2_500 if quick else 10_000

    def rows_case(n: int) -> Callable[[], None]:
        frame = frame_for(n)
        _FRAMES.clear()  # held here: `frame_for` keeps one size at a time
        return lambda: write_new(frame, OUT / "rows.xlsx")

    def cols_case(n: int) -> Callable[[], None]:
        frame = wide_frame(100, n)
        return lambda: write_new(frame, OUT / "cols.xlsx")

    def links_case(n: int) -> Callable[[], None]:
        records = [{"uid": f"{i:024x}", "website": f"https://example.org/e/{i}"} for i in range(n)]
        frame = events_frame(records, ["uid", "website"])
        return lambda: write_new(frame, OUT / "links.xlsx")

    for what, make, n in (
        ("rows (x 21 columns)", rows_case, rows),
        ("columns (x 100 rows)", cols_case, cols),
        ("hyperlinks", links_case, links),
    ):
        runs = {n: make(n), 4 * n: make(4 * n)}  # the frames are built first, outside the time
        times: dict[int, list[float]] = {n: [], 4 * n: []}
        for _ in range(repeat):  # n and 4n interleaved: the machine's load falls on both
            for size, run in runs.items():
                started = time.perf_counter()
                run()
                times[size].append(time.perf_counter() - started)
        small, large = Figure(times[n]), Figure(times[4 * n])
        print(
            f"    {what}: n={n:,} {small}, 4n={4 * n:,} {large}  ->  "
            f"{large.median / small.median:.2f}x"
        )


CASES = {
    1: case_refresh,
    2: case_memory,
    3: case_speed,
    4: case_end_to_end,
    5: case_warm_udf,
    6: case_ribbon_import,
    7: case_linearity,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a busy machine)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default=",".join(str(c) for c in CASES))
    parser.add_argument(
        "--events", type=int, default=0, help="case 4 at this many events, both column sets"
    )
    args = parser.parse_args()
    global E2E_EVENTS
    E2E_EVENTS = args.events
    print(
        f"mode: {'quick' if args.quick else 'full'}, repeat {args.repeat}, {os.cpu_count()} cores"
    )
    for number in (int(c) for c in args.cases.split(",")):
        started = time.perf_counter()
        CASES[number](args.quick, args.repeat)
        print(f"    ({time.perf_counter() - started:.0f} s)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
