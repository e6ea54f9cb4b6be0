"""One plan, two headless writers: a new workbook (streaming) and an in-place refresh give the
same cells, types, formats, table range and hyperlinks, as read back by independent readers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from sheep_xl.frames import events_frame
from sheep_xl.tables.plan import plan_table
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook
from sheep_xl.writers.xlsx_refresh import WorkbookEditor

COLUMNS = (
    "title, start_date, start_time, start_datetime, cancelled, capacity, "
    "minimum_ticket_price, website, tags, user_interface, description"
)
RECORDS = [
    {
        "title": "Annual conference",
        "start_date": "2026-03-04",
        "start_time": "09:30",
        "start_datetime": "2026-03-04T09:30:00.000000",
        "cancelled": False,
        "capacity": 250,
        "minimum_ticket_price": 12.5,
        "website": "https://example.org/conf",
        "tags": ["a", "b"],
        "user_interface": {"can_delete": True},
        "description": "=not a formula",
    },
    {
        "title": "-Minus talk",
        "start_date": None,
        "cancelled": True,
        "capacity": None,
        "minimum_ticket_price": 1234.567,
        "website": "not a link",
        "description": "  padded  ",
    },
    {"title": "Empty"},
]
EXPECTED_FORMATS = {  # openpyxl's names for the built-in ids
    "Start date": "mm-dd-yy",  # built-in 14: the reader's short date
    "Start time": "h:mm",
    "Start": "m/d/yy h:mm",  # built-in 22
    "Capacity": "#,##0",
    "Minimum ticket price": "#,##0.00",
    "Title": "General",
}


def new_file(tmp_path: Path) -> Path:
    path = tmp_path / "new.xlsx"
    plan = plan_table(events_frame(RECORDS, COLUMNS), "Events")
    write_workbook(path, [SheetSpec("Events", plan)])
    return path


def refreshed_file(tmp_path: Path) -> Path:
    """A one-row table of other data, then refreshed in place with the same plan."""
    path = tmp_path / "refreshed.xlsx"
    seed = plan_table(events_frame([{"title": "old", "capacity": 1}], COLUMNS), "Events")
    write_workbook(path, [SheetSpec("Events", seed)])
    package = XlsxPackage(path)
    editor = WorkbookEditor(package)
    editor.replace_table(plan_table(events_frame(RECORDS, COLUMNS), "Events"))
    editor.finish()
    package.save(path)
    return path


@pytest.fixture(params=["new", "refreshed"])
def written(request, tmp_path) -> Path:
    return new_file(tmp_path) if request.param == "new" else refreshed_file(tmp_path)


def test_types_read_back_with_calamine(written) -> None:
    rows = CalamineWorkbook.from_path(str(written)).get_sheet_by_name("Events").to_python()
    header, first, second, third = rows
    row = dict(zip(header, first, strict=True))
    row2 = dict(zip(header, second, strict=True))
    assert row["Start date"] == dt.date(2026, 3, 4)
    assert row["Start time"] == dt.time(9, 30)
    assert row["Start"] == dt.datetime(2026, 3, 4, 9, 30)
    assert (
        row["Cancelled"] is False and dict(zip(header, second, strict=False))["Cancelled"] is True
    )
    assert row["Capacity"] == 250 and row["Minimum ticket price"] == 12.5
    assert row["Tags"] == "a; b" and row["User interface"] == '{"can_delete":true}'
    assert row["Description"] == "=not a formula"
    assert row2["Title"] == "-Minus talk"
    assert row2["Description"] == "  padded  "
    assert all(v == "" for v in third[1:]), "missing values are empty cells"


def test_formats_table_and_links_with_openpyxl(written) -> None:
    ws = openpyxl.load_workbook(written)["Events"]
    header = [c.value for c in ws[1]]
    for title, code in EXPECTED_FORMATS.items():
        assert ws.cell(2, header.index(title) + 1).number_format == code, title
    assert ws.tables["Events"].ref == "A1:K4", "exactly header + rows"
    website = header.index("Website") + 1
    assert ws.cell(2, website).hyperlink.target == "https://example.org/conf"
    assert ws.cell(3, website).hyperlink is None, "only real links become hyperlinks"
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
            if cell.value is None:
                assert cell.data_type == "n"


def test_both_writers_agree(tmp_path) -> None:
    a = CalamineWorkbook.from_path(str(new_file(tmp_path))).get_sheet_by_name("Events")
    b = CalamineWorkbook.from_path(str(refreshed_file(tmp_path))).get_sheet_by_name("Events")
    assert a.to_python() == b.to_python()
