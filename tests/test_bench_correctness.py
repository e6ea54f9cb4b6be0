"""Issue 14's correctness acceptance at a small size: the benchmark's writers (ours, and the
baselines that are installed) write files that python-calamine reads back, cell for cell, as
the frame: text, numbers, booleans, dates, date-times, times; and our links are the frame's.
``benchmarks/bench_perf_goals.py`` makes the same check at full size after timing (case 3).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_perf_goals as bench

from sheep_xl.frames import events_frame
from sheep_xl.tables import plan as plan_module

TRICKY_TITLES = [
    "Q&A <live> & more",
    "_x0041_ stays as typed",
    "  spaces at both ends  ",
    "two\nlines",
    "tab\tinside",
    "=1+2 is text",
    "#N/A",
    "emoji 😀 and café — dash",
    "\u00a0no-break space first",
    "ends with a no-break space\u00a0",
    "",
]


def frames() -> dict[str, pd.DataFrame]:
    records: list[dict[str, Any]] = bench.make_events(45)
    for i, title in enumerate(TRICKY_TITLES):
        records[i]["title"] = title
    records[1]["website"] = "https://example.org/e?a=1&b=<2>"
    records[2]["website"] = "javascript:alert(1)"  # not a link: stays text
    records = json.loads(json.dumps(records))
    return {
        "default": bench.frame_for(60),
        "all": events_frame(records, "all"),
        "tricky": events_frame(records, None),
    }


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


WRITERS = [
    pytest.param("sheep-xl", bench.write_new, id="sheep-xl"),
    pytest.param(
        "XlsxWriter",
        bench.write_xlsxwriter,
        id="xlsxwriter",
        marks=pytest.mark.skipif(not installed("xlsxwriter"), reason="benchmark-only"),
    ),
    pytest.param(
        "rustpy-xlsxwriter",
        bench.write_rust,
        id="rustpy-xlsxwriter",
        marks=pytest.mark.skipif(not installed("rustpy_xlsxwriter"), reason="benchmark-only"),
    ),
]


# The tricky frame only for sheep-xl: the baselines' own text rules (``_xHHHH_``, line breaks)
# are theirs, not what the benchmark compares.
CASES = [
    pytest.param(*writer.values, frame_name, marks=writer.marks, id=f"{writer.id}-{frame_name}")
    for writer in WRITERS
    for frame_name in ("default", "all", "tricky")
    if frame_name != "tricky" or writer.id == "sheep-xl"
]


@pytest.mark.parametrize(("name", "write", "frame_name"), CASES)
def test_benchmark_outputs_read_back_as_the_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, write: Any, frame_name: str
) -> None:
    monkeypatch.setattr(plan_module, "CHUNK_ROWS", 16)  # chunk boundaries in a small frame
    frame = frames()[frame_name]
    path = tmp_path / "out.xlsx"
    write(frame, path)
    rust = name == "rustpy-xlsxwriter"
    checked, problems = bench.read_back_mismatches(
        path,
        frame,
        times_as_fractions=rust,
        close=bench.RUST_DATETIMES if rust else bench.MILLISECOND,
        limit=20,
    )
    assert checked == frame.shape[0] * frame.shape[1]
    assert problems == []


@pytest.mark.parametrize("frame_name", ["default", "tricky"])
def test_our_links_are_the_frames(tmp_path: Path, frame_name: str) -> None:
    frame = frames()[frame_name]
    path = tmp_path / "out.xlsx"
    bench.write_new(frame, path)
    count, problems = bench.link_mismatches(path, frame, limit=20)
    assert problems == []
    assert count == sum(
        plan_module.is_link(v) for c in frame.columns if c == "Website" for v in frame[c].tolist()
    )
    assert count > 0


def test_the_check_sees_a_wrong_cell(tmp_path: Path) -> None:
    frame = frames()["default"]
    path = tmp_path / "out.xlsx"
    bench.write_new(frame, path)
    wrong = frame.copy()
    wrong.loc[wrong.index[3], "Title"] = "not what was written"
    wrong.loc[wrong.index[5], "Capacity"] = 12345.0
    _, problems = bench.read_back_mismatches(path, wrong)
    assert len(problems) == 2 and "row 5, Title" in problems[0]
