"""Field names and shapes from the server are not trusted by the frames layer: odd names become
safe, unique column titles (or are left out with a warning), deep values do not crash, and the
work grows in step with the number of fields, not with its square."""

from __future__ import annotations

import copy
import io
import time

import pandas as pd

from sheep_xl.frames.convert import FrameMeta, column_specs, events_frame, frame_warnings
from sheep_xl.operations.export import write_csv
from sheep_xl.tables.plan import plan_table


def test_control_characters_and_lone_surrogates_in_field_names() -> None:
    records = [
        {
            "uid": "a",
            "title": "T",
            "bad\x00name": 1,
            "line\r\nbreak": "x",
            "half\ud800surrogate": True,
            "\x01\x02": "nothing usable",
            "\ud83d": "a lone high surrogate only",
            "fine": "ok",
        }
    ]
    frame = events_frame(records, "all")
    titles = list(frame.columns)
    assert "badname" in titles and "line break" in titles and "halfsurrogate" in titles
    assert "fine" in titles
    assert not any(ch in t for t in titles for ch in "\x00\x01\r\n\ud800\ud83d")
    assert frame.loc[0, "badname"] == 1 and frame.loc[0, "line break"] == "x"
    warnings = " ".join(frame_warnings(frame))
    assert "3 field name(s)" in warnings and "2 field(s)" in warnings and "left out" in warnings
    warnings.encode("ascii")  # printable anywhere: bad characters are shown as escapes
    # every writer takes it: CSV (UTF-8) and the table plan of an .xlsx
    out = io.StringIO()
    write_csv(frame, out)
    out.getvalue().encode("utf-8")
    plan = plan_table(frame)
    assert [c.title for c in plan.columns] == titles


def test_cleaned_names_stay_unique() -> None:
    records = [{"uid": "a", "Title": 1, "a\x00": 2, "a": 3, "a\x01": 4}]
    frame = events_frame(records, ["title"]).columns.tolist()
    assert frame == ["Title"]
    titles = events_frame(records, "all").columns.tolist()
    assert len(titles) == len(set(titles))
    assert {"a", "a (extra)", "a (extra 2)"} <= set(titles)
    assert "Title (extra)" in titles  # the server's "Title" next to the catalogue's "Title"


def test_deeply_nested_value_does_not_crash() -> None:
    value: object = []
    for _ in range(5000):
        value = [value]
    frame = events_frame([{"uid": "a", "title": "T", "deep": value}], "all")
    assert frame.loc[0, "deep"] == "(nested too deeply to show)"


def test_csv_header_cells_cannot_become_formulas() -> None:
    frame = events_frame([{"uid": "a", "title": "T", "=cmd|' /C calc'!A0": "x", "@sum": 1}], "all")
    out = io.StringIO()
    write_csv(frame, out)
    header = out.getvalue().splitlines()[0]
    assert "'=cmd" in header and "'@sum" in header


def test_frame_metadata_is_copied_by_reference() -> None:
    meta = FrameMeta(fields=["a"], kinds=["text"], warnings=[])
    assert copy.deepcopy(meta) is meta and copy.copy(meta) is meta
    assert meta["fields"] == ("a",) and dict(meta)["kinds"] == ("text",)


def _pipeline_seconds(fields: int) -> float:
    """CPU time (so other processes on a busy machine do not count) to type a frame of
    ``fields`` unknown fields and read every column back, as the CSV and xlsx writers do."""
    records = [
        {"uid": f"u{r}", "title": "t", **{f"x{i}": i for i in range(fields)}} for r in (1, 2)
    ]
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        frame = events_frame(records, "all")
        column_specs(frame)
        write_csv(frame, io.StringIO())
        plan_table(frame)
        best = min(best, time.process_time() - started)
    return best


def test_time_grows_in_proportion_to_the_number_of_fields() -> None:
    small, large = _pipeline_seconds(2000), _pipeline_seconds(8000)
    # 4x the fields: linear is about 4x, quadratic 16x (it was: pandas deep-copied per-column
    # metadata into every column it handed out)
    assert large / small < 8, f"2,000 fields {small:.2f}s, 8,000 fields {large:.2f}s"


def test_numbers_beyond_any_float_are_left_empty_with_a_warning() -> None:
    """JSON allows any number of digits; Python reads them as an exact integer."""
    records = [
        {"uid": "a" * 24, "capacity": 10**400},
        {"uid": "b" * 24, "capacity": -(10**400)},
        {"uid": "c" * 24, "capacity": 2**63},  # just past the quick path: still a float
        {"uid": "d" * 24, "capacity": 250},
        {"uid": "e" * 24, "capacity": 12.5},
    ]
    frame = events_frame(records, ["uid", "capacity"])
    assert frame["Capacity"].isna().tolist() == [True, True, False, False, False]
    assert frame["Capacity"].tolist()[2:] == [float(2**63), 250.0, 12.5]
    (warning,) = frame_warnings(frame)
    assert warning.startswith("2 value(s) could not be read and were left empty: capacity 2")


def test_a_column_of_plain_text_is_kept_as_it_is_and_any_other_is_cleaned_value_by_value() -> None:
    """The whole-column check (one search for the column) agrees with `clean_text` per value."""
    import random

    from sheep_xl.frames.excel_text import EXCEL_CELL_LIMIT, clean_text

    rng = random.Random(14)
    pieces = ["plain", "", " spaced ", "é", "🎶", "\x07", "\x00", "\ud800", "\n", "\t", "\ufffe"]
    for _ in range(200):
        column = [
            None if rng.random() < 0.2 else "".join(rng.choices(pieces, k=rng.randint(0, 4)))
            for _ in range(rng.randint(0, 6))
        ]
        if rng.random() < 0.1:
            column.append("x" * (EXCEL_CELL_LIMIT // 2 + 1) + "🎶" * (EXCEL_CELL_LIMIT // 2))
        records = [{"uid": f"{i:024x}", "title": v} for i, v in enumerate(column)]
        got = events_frame(records, ["uid", "title"])["Title"].tolist()
        want = [None if v is None else clean_text(v)[0] for v in column]
        assert [None if g is None or g is pd.NA else g for g in got] == want
