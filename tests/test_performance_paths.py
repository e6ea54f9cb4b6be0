"""The fast paths of issue 14 keep every guarantee of the slow ones (structure, not timings:
the figures are printed by ``benchmarks/bench_perf_goals.py``).

* the new-workbook writer streams a plan's cells from the frame's columns: the workbook is the
  same, byte for byte, as one written from the plan's rows held as lists, and reads back cell
  for cell as the frame (python-calamine);
* ``SHEEP_EVENTS`` caches its result in the form xlwings' conversion hands COM and returns it
  with the ``raw`` converter: the same values as xlwings' real conversion code makes of
  today's result;
* ``import sheep_xl.excel.ribbon`` (every ribbon click) loads no writer, openpyxl, lxml or
  requests.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import subprocess
import sys
import types
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xlwings
from python_calamine import CalamineWorkbook
from support import DEMO_TODAY
from support.excel_runtime import ComValues, call_like_excel, windows_udf_runtime
from xlwings import conversion

from sheep_xl.demo.data import demo_events
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.frames import events_frame
from sheep_xl.frames.columns import resolve_columns
from sheep_xl.tables import plan as plan_module
from sheep_xl.tables.plan import TablePlan, plan_table
from sheep_xl.writers.live import com_value
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook


def demo_frame(n: int, columns: str = "default") -> pd.DataFrame:
    base = demo_events(DEMO_TODAY)
    records = []
    for i in range(n):
        record = dict(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        records.append(record)
    return events_frame(records, columns)


def parts(path: Path) -> dict[str, bytes]:
    """Every part but docProps/core.xml (it holds the time of writing)."""
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}


# --- goal 2: the writer streams from the frame's columns ---------------------------------------


@pytest.mark.parametrize(("n", "columns"), [(0, "default"), (23, "default"), (9, "all")])
def test_streamed_plan_writes_the_same_bytes_as_rows_in_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, columns: str
) -> None:
    monkeypatch.setattr(plan_module, "CHUNK_ROWS", 4)  # many chunk boundaries in a small frame
    frame = demo_frame(n, columns)
    if n:
        frame.loc[frame.index[0], "Capacity"] = 1e309  # beyond Excel's range: an empty cell
    streamed = plan_table(frame, "Events")
    held = TablePlan(
        "Events", streamed.columns, [list(r) for r in streamed.rows], warnings=[]
    )  # today's form: every row a list
    assert len(streamed.rows) == n and held.n_rows == n
    assert [list(r) for r in held.rows] == [list(r) for r in streamed.rows]
    write_workbook(tmp_path / "streamed.xlsx", [SheetSpec("Events", streamed, ("T", "help"))])
    write_workbook(tmp_path / "held.xlsx", [SheetSpec("Events", held, ("T", "help"))])
    assert parts(tmp_path / "streamed.xlsx") == parts(tmp_path / "held.xlsx")
    if n:
        assert any("beyond Excel's range" in w for w in streamed.warnings)


def expected_cell(value: Any, kind: str) -> Any:
    """What a reader gets back for a frame's value (empty cells read as "")."""
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if kind == "date":
        return value.date()
    if kind == "datetime":
        return value.to_pydatetime()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if kind == "number":
        return float(value)
    return value if value != "" else ""


def test_streamed_workbook_reads_back_as_the_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_module, "CHUNK_ROWS", 5)
    frame = demo_frame(37, "all")
    plan = plan_table(frame, "Events")
    path = tmp_path / "events.xlsx"
    write_workbook(path, [SheetSpec("Events", plan)])
    header, *rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    assert header == plan.titles and len(rows) == len(frame)
    kinds = [c.kind for c in plan.columns]
    for r, row in enumerate(rows):
        for c, got in enumerate(row):
            want = expected_cell(frame.iat[r, c], kinds[c])
            if isinstance(want, float) and isinstance(got, (int, float)):
                assert math.isclose(got, want), (r, header[c])
            elif isinstance(want, dt.datetime) and isinstance(got, dt.datetime):
                # a serial number holds about a millisecond; calamine rounds to it
                assert abs(got - want) <= dt.timedelta(milliseconds=1), (r, header[c])
            else:
                assert got == want, (r, header[c], got, want)


def test_links_past_the_sheet_limit_are_counted_without_holding_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sheep_xl.writers import xlsx_new

    monkeypatch.setattr(xlsx_new, "MAX_HYPERLINKS", 5)
    plan = plan_table(demo_frame(12), "Events")
    write_workbook(tmp_path / "links.xlsx", [SheetSpec("Events", plan)])
    with zipfile.ZipFile(tmp_path / "links.xlsx") as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<hyperlink ") == 5
    linked = sum(1 for v in plan.column(plan.titles.index("Website")) if v)
    assert any(f"{linked - 5:,} link(s) beyond" in w for w in plan.warnings)


# --- goal 5: warm SHEEP_EVENTS returns its cached result raw -----------------------------------


def xlwings_windows_prepare() -> Callable[[Any, Any], Any]:
    """xlwings' own ``_xlwindows.Engine.prepare_xl_data_element`` and ``_datetime_to_com_time``,
    compiled from its source (the module itself needs Windows); ``win32timezone``'s UTC is the
    one stand-in."""
    source = Path(xlwings.__file__).with_name("_xlwindows.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    wanted: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "_datetime_to_com_time":
            wanted.append(node)
        if isinstance(node, ast.ClassDef) and node.name == "Engine":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "prepare_xl_data_element":
                    item.decorator_list = []
                    wanted.append(item)
    assert len(wanted) == 2, "xlwings' Windows conversion code moved"
    win32timezone = types.SimpleNamespace(TimeZoneInfo=types.SimpleNamespace(utc=lambda: dt.UTC))
    namespace: dict[str, Any] = {
        "dt": dt,
        "pd": pd,
        "np": np,
        "np_datetime_to_datetime": lambda x: pd.Timestamp(x).to_pydatetime(),
        "time_types": (dt.date, dt.datetime, np.datetime64),
        "win32timezone": win32timezone,
    }
    exec(compile(ast.Module(body=wanted, type_ignores=[]), "_xlwindows.py", "exec"), namespace)
    prepare: Callable[[Any, Any], Any] = namespace["prepare_xl_data_element"]
    return prepare


@pytest.fixture(scope="module")
def udfs() -> Iterator[types.ModuleType]:
    with windows_udf_runtime() as module:
        yield module


@pytest.fixture
def real_conversion(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, Any], Any]:
    prepare = xlwings_windows_prepare()
    monkeypatch.setattr(ComValues, "prepare_xl_data_element", staticmethod(prepare))
    return prepare


def same(a: Any, b: Any) -> bool:
    """Equal, of the same type, and for datetimes the same offset (naive never equals aware)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return bool(a == b)


def test_excel_result_is_what_xlwings_conversion_makes(real_conversion: Any) -> None:
    values = [
        None,
        "",
        "text",
        True,
        False,
        0,
        12,
        2.5,
        float("nan"),
        dt.date(2026, 11, 24),
        dt.date(1900, 2, 28),
        dt.datetime(2026, 11, 24, 9, 30, 15),
        dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.time(9, 30),
        np.float64(1.5),
        np.int64(7),
        pd.Timestamp("2026-11-24 08:00"),
        pd.NaT,
        pd.NA,
    ]
    from sheep_xl.excel.udfs import excel_result

    for value in values:
        want = real_conversion(com_value(value), {})
        assert same(excel_result(value), want), (value, excel_result(value), want)


def test_raw_events_are_the_values_excel_got_before(
    udfs: types.ModuleType, demo: Any, monkeypatch: pytest.MonkeyPatch, real_conversion: Any
) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    udfs.clear_cache()
    func = udfs.SHEEP_EVENTS
    assert func.__xlfunc__["ret"]["options"] == {"convert": "raw"}
    from sheep_xl.api.client import SheepClient

    with SheepClient(api_key=DEMO_API_KEY, base_url=demo.url) as client:
        records = client.events("example", "all")
    for columns in (None, "all"):
        raw = call_like_excel(func, "example", "all", columns)
        warm = call_like_excel(func, "example", "all", columns)
        assert warm is raw  # the cached object itself: nothing converted on a warm call
        plan = plan_table(events_frame(records, resolve_columns([columns] if columns else None)))
        before = [plan.titles] + [[com_value(v) for v in row] for row in plan.rows]
        converted = conversion.write(before, None, {})  # today's path, xlwings' real stages
        assert len(raw) == len(converted) > 100
        kinds = {type(v) for row in raw[1:] for v in row}
        assert {str, bool, float, dt.datetime} <= kinds
        for got_row, want_row in zip(raw, converted, strict=True):
            assert len(got_row) == len(want_row)
            for got, want in zip(got_row, want_row, strict=True):
                assert same(got, want), (got, want)


def test_raw_errors_are_the_sentence_excel_got_before(udfs: types.ModuleType) -> None:
    result = call_like_excel(udfs.SHEEP_EVENTS, "", "all")
    assert result == conversion.write(result[0][0], None, {})
    assert result[0][0].startswith("SheepCRM: ")


# --- goal 6: a ribbon click imports only what it uses ------------------------------------------


def test_ribbon_import_loads_no_writer_or_http_stack() -> None:
    code = (
        "import sys, sheep_xl.excel.ribbon\n"
        "heavy = ('openpyxl', 'lxml', 'requests', 'urllib3', 'keyring', 'ssl',\n"
        "         'sheep_xl.writers.xlsx_new', 'sheep_xl.writers.xlsx_refresh',\n"
        "         'sheep_xl.operations.export')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/?a=1&b=2",
        'https://example.org/"quoted"',
        "https://example.org/<tag>",
        "https://example.org/caf\u00e9-\u20ac-\U0001f600",
        "https://example.org/tab\there\nnew\rline",
        "mailto:o'brien@example.org",
    ],
)
def test_streamed_relationships_are_the_bytes_lxml_writes(url: str) -> None:
    from lxml import etree

    from sheep_xl.writers.sheet_xml import xml_attribute

    lxml_bytes = etree.tostring(etree.Element("r", Target=url), encoding="UTF-8")
    assert lxml_bytes == f'<r Target="{xml_attribute(url)}"/>'.encode()
