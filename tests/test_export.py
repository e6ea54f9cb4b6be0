"""Files written by ``export_events``, read back by independent readers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from support.faultserver import FaultServer, bookings

from sheep_xl.api.client import SheepClient
from sheep_xl.operations.export import export_events

FORMULA_LIKE = [
    {
        "uid": "f1",
        "title": "=1+1",
        "start_date": "2026-01-05",
        "start_time": "09:30",
        "capacity": 10,
        "cancelled": False,
        "website": "https://example.org/e/1",
    },
    {
        "uid": "f2",
        "title": "+44 20 7946 0000",
        "location": "-Basement",
        "category": "@home",
        "start_date": "2026-01-06",
        "capacity": None,
    },
    {"uid": "f3", "title": '=HYPERLINK("http://evil.example","x")', "status": "=cmd|' /C calc'!A0"},
]


@pytest.fixture
def formula_server():
    with FaultServer(lambda n, s: bookings(FORMULA_LIKE)) as server:
        yield server


def test_formula_like_text_stays_text_in_xlsx(formula_server, tmp_path) -> None:
    path = tmp_path / "f.xlsx"
    with SheepClient(api_key="k", base_url=formula_server.url) as client:
        export_events(client, "example", "all", str(path))
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet, "no formula anywhere in the sheet"
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    titles = [r[0] for r in rows[1:]]
    assert titles == ["=1+1", "+44 20 7946 0000", '=HYPERLINK("http://evil.example","x")']
    ws = openpyxl.load_workbook(path)["Events"]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate


def test_formula_like_text_is_quoted_in_csv(formula_server) -> None:
    out = io.StringIO()
    with SheepClient(api_key="k", base_url=formula_server.url) as client:
        export_events(
            client, "example", "all", "-", "title,location,category,status,capacity", stdout=out
        )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][0] == "'=1+1"
    assert rows[2][:3] == ["'+44 20 7946 0000", "'-Basement", "'@home"]
    assert rows[3][3] == "'=cmd|' /C calc'!A0"
    assert rows[1][4] == "10" and rows[2][4] == ""


def test_xlsx_types_read_back(formula_server, tmp_path) -> None:
    path = tmp_path / "t.xlsx"
    with SheepClient(api_key="k", base_url=formula_server.url) as client:
        export_events(client, "example", "all", str(path))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Start date"] == dt.date(2026, 1, 5)
    assert first["Start time"] == dt.time(9, 30)
    assert first["Capacity"] == 10 and first["Cancelled"] is False
    second = dict(zip(header, rows[2], strict=True))
    assert second["Capacity"] == "" and second["Start time"] == ""  # empty cells
    ws = openpyxl.load_workbook(path)["Events"]
    assert ws.tables["Events"].ref == "A1:U4"
    assert ws["B2"].number_format == "mm-dd-yy"  # built-in 14: the reader's short date
    assert ws["C2"].number_format == "h:mm"
    assert ws["T2"].hyperlink.target == "https://example.org/e/1"
