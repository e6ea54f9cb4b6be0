"""The column-wise renderers (issue 14, goal 3) write exactly the bytes of the per-cell ones.

`sheet_xml.column_renderer` renders a chunk of a column at once, from NumPy arrays for a
frame's numbers, dates and flags, with fast paths for text needing no escaping; `render_rows`
and `join_rows` make each row with one string format. Whatever the values, the text must be
that of `renderer_for`'s function cell by cell (in ``utf8`` form: the same UTF-8 bytes).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheep_xl.tables.plan import _number
from sheep_xl.writers.ooxml import column_letter
from sheep_xl.writers.sheet_xml import (
    column_renderer,
    formula_renderer,
    join_rows,
    render_rows,
    renderer_for,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.text(alphabet="ab &<>_x0041\n\t \u00a0\u2003\u2014é😀\x01\ufffe", max_size=10),
    st.sampled_from(["", " ", "_x0041_", "=1+2", "#N/A", "a\u00a6b", "a\x00b", "x" * 17000]),
)
numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**60), 2**60).map(float),
    st.sampled_from([0.0, -0.0, 1e15, 1e15 + 2, 2.0**53, 2.0**53 + 2, 1e308, 5e-324, 0.1]),
)
datetimes = st.one_of(
    st.none(), st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 1, 1))
)
times = st.one_of(st.none(), st.times())


def rows_for(n: int, first: int = 2) -> list[str]:
    return [str(r) for r in range(first, first + n)]


def per_cell(kind: str, style: int, values: list[Any], letter: str, rows: list[str]) -> list[str]:
    render = renderer_for(kind, style)
    return [render(v, f"{letter}{r}") for v, r in zip(values, rows, strict=True)]


def rendered(
    kind: str, style: int, cells: Any, letter: str, rows: list[str], utf8: bool
) -> list[str]:
    chunk = column_renderer(kind, style, utf8=utf8)(cells, letter, rows)
    out = chunk.cells(letter, rows)
    return [c.encode("latin-1").decode() for c in out] if utf8 else out


@SETTINGS
@given(st.lists(texts, max_size=30), st.sampled_from([0, 7]), st.booleans())
def test_text_columns(values: list[Any], style: int, utf8: bool) -> None:
    rows = rows_for(len(values))
    want = per_cell("text", style, values, "AB", rows)
    assert rendered("text", style, values, "AB", rows, utf8) == want


@SETTINGS
@given(st.lists(numbers, max_size=30), st.sampled_from([0, 3]))
def test_number_arrays(values: list[Any], style: int) -> None:
    rows = rows_for(len(values))
    array = np.array([math.nan if v is None else v for v in values], dtype="float64")
    python = [None if v is None or math.isnan(v) else _number(v) for v in values]
    want = per_cell("number", style, python, "C", rows)
    assert rendered("number", style, array, "C", rows, True) == want


@SETTINGS
@given(st.lists(datetimes, max_size=30), st.sampled_from(["date", "datetime"]), st.booleans())
def test_date_arrays(values: list[Any], kind: str, date1904: bool) -> None:
    rows = rows_for(len(values))
    array = np.array([np.datetime64("NaT") if v is None else v for v in values], "datetime64[us]")
    python = [v.date() if v is not None and kind == "date" else v for v in values]
    render = renderer_for(kind, 2, date1904)
    want = [render(v, f"D{r}") for v, r in zip(python, rows, strict=True)]
    chunk = column_renderer(kind, 2, date1904, utf8=True)(array, "D", rows)
    assert chunk.cells("D", rows) == want


@SETTINGS
@given(st.lists(st.sampled_from([True, False, None]), max_size=30))
def test_flag_arrays(values: list[Any]) -> None:
    rows = rows_for(len(values))
    array = np.array([-1 if v is None else int(v) for v in values], dtype="int8")
    assert rendered("bool", 5, array, "E", rows, True) == per_cell("bool", 5, values, "E", rows)


@SETTINGS
@given(st.lists(st.one_of(times, st.just("9:00"), st.just(1.5)), max_size=30))
def test_time_lists(values: list[Any]) -> None:
    rows = rows_for(len(values))
    assert rendered("time", 0, values, "F", rows, True) == per_cell("time", 0, values, "F", rows)


@SETTINGS
@given(
    st.lists(
        st.tuples(texts, numbers, times, st.sampled_from([True, False, None, 3, "x"])),
        max_size=25,
    ),
    st.integers(1, 30),
)
def test_render_rows_is_the_per_cell_join(rows: list[tuple[Any, ...]], first: int) -> None:
    kinds = [("text", 0), ("number", 3), ("time", 4), ("bool", 0)]
    renderers = [renderer_for(kind, style) for kind, style in kinds]
    renderers.append(formula_renderer('=A1&"<"', 6))
    sources = [0, 1, 2, 3, None]
    letters = [column_letter(2 + i) for i in range(len(renderers))]
    want = [
        f'<row r="{first + i}">'
        + "".join(
            render(row[source] if source is not None else None, f"{letter}{first + i}")
            for letter, source, render in zip(letters, sources, renderers, strict=True)
        )
        + "</row>"
        for i, row in enumerate(rows)
    ]
    assert list(render_rows(rows, sources, renderers, first, 2)) == want


@pytest.mark.parametrize("n_cols", [0, 1, 39, 40, 41, 130])
def test_join_rows_any_width(n_cols: int) -> None:
    rows = rows_for(3)
    letters = [column_letter(i + 1) for i in range(n_cols)]
    values = [["a", None, "c&d"] if i % 2 else [1.5, None, 2.0] for i in range(n_cols)]
    chunks = [
        column_renderer("text" if i % 2 else "number", i % 3)(
            v if i % 2 else np.array([math.nan if x is None else x for x in v]), letters[i], rows
        )
        for i, v in enumerate(values)
    ]
    cells = [chunk.cells(letter, rows) for chunk, letter in zip(chunks, letters, strict=True)]
    want = ["".join(c[r] for c in cells) for r in range(3)]
    assert join_rows(chunks, letters, rows, element=False) == want
    assert join_rows(chunks, letters, rows) == [
        f'<row r="{row}">{text}</row>' for row, text in zip(rows, want, strict=True)
    ]
