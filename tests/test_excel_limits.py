"""Excel's limits in every writer: an error before anything is written, or a counted, documented
degradation, and never a file Excel would repair (checked with tests/support/ooxml_check)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.worksheet.table import Table
from python_calamine import CalamineWorkbook
from support import ooxml_check
from support.xlwings_memory import engine_of, new_book, uninstall

from sheep_xl.exceptions import ExcelLimitError, InputError
from sheep_xl.frames.catalogue import GENERAL
from sheep_xl.frames.convert import events_frame
from sheep_xl.frames.excel_text import EXCEL_CELL_LIMIT, clean_text, utf16_length
from sheep_xl.tables.plan import (
    MAX_COLUMNS,
    MAX_HYPERLINKS,
    MAX_LINK_LENGTH,
    MAX_ROWS,
    PlanColumn,
    TablePlan,
    check_excel_limits,
    excel_titles,
    plan_table,
)
from sheep_xl.writers import live, xlsx_refresh
from sheep_xl.writers.ooxml import XlsxPackage, column_letter
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook
from sheep_xl.writers.xlsx_refresh import WorkbookEditor

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
EMOJI = "\U0001f600"  # two UTF-16 units


def valid(path: Path) -> None:
    ooxml_check.require()
    ooxml_check.assert_valid(path)


def new_file(tmp_path: Path, plan: TablePlan, preamble: tuple[str, ...] = ()) -> Path:
    path = tmp_path / "new.xlsx"
    write_workbook(path, [SheetSpec("Events", plan, preamble)])
    return path


def table_workbook(path: Path, ref: str, titles: list[str], date1904: bool = False) -> Path:
    """A workbook whose one table ``Events`` sits at ``ref`` (anywhere on the sheet)."""
    wb = openpyxl.Workbook()
    if date1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Data"
    top_left = ref.split(":")[0]
    row = int("".join(c for c in top_left if c.isdigit()))
    col = openpyxl.utils.column_index_from_string("".join(c for c in top_left if c.isalpha()))
    for offset, title in enumerate(titles):
        ws.cell(row, col + offset, title)
        ws.cell(row + 1, col + offset, "old")
    ws.add_table(Table(displayName="Events", ref=ref))
    wb.save(path)
    return path


def refresh(path: Path, plan: TablePlan, out: Path | None = None) -> xlsx_refresh.TableWrite:
    package = XlsxPackage(path)
    editor = WorkbookEditor(package)
    write = editor.replace_table(plan)
    editor.finish()
    package.save(out or path)
    return write


def sheet_cells(path: Path, part: str = "xl/worksheets/sheet1.xml") -> dict[str, etree._Element]:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read(part))
    return {c.get("r"): c for c in root.iter(f"{MAIN}c")}


def plain_plan(n_cols: int, n_rows: int = 1, name: str = "Events") -> TablePlan:
    columns = [PlanColumn(f"C{i}", "", "text", GENERAL, 8.0) for i in range(n_cols)]
    return TablePlan(name, columns, [["x"] * n_cols for _ in range(n_rows)])


# --- text ---------------------------------------------------------------------------------------


def test_text_is_cut_in_utf16_units_and_never_inside_a_surrogate_pair() -> None:
    text, _, cut = clean_text("a" * (EXCEL_CELL_LIMIT - 1) + EMOJI)
    assert cut and text == "a" * (EXCEL_CELL_LIMIT - 1), "the emoji would need 32,768 units"
    fits = "a" * (EXCEL_CELL_LIMIT - 2) + EMOJI
    assert clean_text(fits) == (fits, False, False)
    emoji_only, _, cut = clean_text(EMOJI * EXCEL_CELL_LIMIT)
    assert cut and utf16_length(emoji_only) == EXCEL_CELL_LIMIT - 1
    assert all(ord(c) > 0xFFFF for c in emoji_only), "no half pair left"


def test_long_emoji_text_fits_excels_cell_in_new_files_and_refresh(tmp_path: Path) -> None:
    record = {"title": EMOJI * 20_000, "uid": "u1"}
    plan = plan_table(events_frame([record], "title, uid"), "Events")
    assert any("cut" in w for w in plan.warnings), plan.warnings
    path = new_file(tmp_path, plan)
    valid(path)
    title = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()[1][0]
    assert utf16_length(title) <= EXCEL_CELL_LIMIT and set(title) == {EMOJI}

    book = table_workbook(tmp_path / "refresh.xlsx", "B3:C4", ["Title", "UID"])
    refresh(book, plan_table(events_frame([record], "title, uid"), "Events"))
    valid(book)


def test_literal_escape_sequences_show_as_typed(tmp_path: Path) -> None:
    records = [{"title": "code _x0041_ and _x000a_", "_x0042_": "v"}]
    plan = plan_table(events_frame(records, "all"), "Events")
    path = new_file(tmp_path, plan)
    valid(path)  # its table-header rule decodes header cell and column name alike
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    assert "_x0042_" in rows[0], "the header as typed"
    assert "code _x0041_ and _x000a_" in rows[1]
    raw = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "code _x005F_x0041_ and _x005F_x000a_" in raw

    editor = WorkbookEditor(XlsxPackage(path))
    header, body = editor.read_table("Events")
    assert "_x0042_" in header and "code _x0041_ and _x000a_" in body[0], "read back as typed"

    book = table_workbook(tmp_path / "refresh.xlsx", "A1:B2", ["Title", "Other"])
    refresh(book, plan_table(events_frame(records, "all"), "Events"))
    valid(book)
    header, body = WorkbookEditor(XlsxPackage(book)).read_table("Events")
    assert "_x0042_" in header and "code _x0041_ and _x000a_" in body[0]
    refresh(book, plan_table(events_frame(records, "all"), "Events"))  # the column is found again
    header2, _ = WorkbookEditor(XlsxPackage(book)).read_table("Events")
    assert header2 == header


# --- column titles ----------------------------------------------------------------------------


def test_titles_are_unique_in_any_case_and_keep_every_value(tmp_path: Path) -> None:
    records = [{"title": "t", "Foo": "upper", "foo": "lower", "TITLE": "shout", "a\nb": "br"}]
    plan = plan_table(events_frame(records, "all"), "Events")
    lowered = [t.lower() for t in plan.titles]
    assert len(set(lowered)) == len(lowered)
    assert {"Foo", "foo (2)", "TITLE (2)", "a b"} <= set(plan.titles)
    assert any("column title(s) were changed" in w for w in plan.warnings)
    path = new_file(tmp_path, plan)
    valid(path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    by_title = dict(zip(rows[0], rows[1], strict=True))
    assert (by_title["Foo"], by_title["foo (2)"], by_title["TITLE (2)"]) == (
        "upper",
        "lower",
        "shout",
    ), "no value lost"


def test_title_rules() -> None:
    long = "x" * 300
    titles, changed = excel_titles(["", "\x01", long, long, EMOJI * 200, "ok"])
    assert titles[0] == "Column 1" and titles[1] == "Column 2"
    assert len(titles[2]) == 255 and titles[3].endswith(" (2)") and len(titles[3]) == 255
    assert utf16_length(titles[4]) <= 255 and set(titles[4]) == {EMOJI}
    assert titles[5] == "ok" and "ok" not in changed


# --- numbers and dates ------------------------------------------------------------------------


def test_numbers_beyond_excels_range_are_empty_and_counted(tmp_path: Path) -> None:
    records = [{"title": "a", "capacity": 1e308}, {"title": "b", "capacity": -1e308}]
    records.append({"title": "c", "capacity": 9.99999999999999e307})
    plan = plan_table(events_frame(records, "title, capacity"), "Events")
    assert [r[1] for r in plan.rows] == [None, None, 9.99999999999999e307]
    assert any("2 number(s) beyond Excel's range" in w for w in plan.warnings)
    valid(new_file(tmp_path, plan))


DATES = [
    {"title": "before", "start_date": "1899-12-31", "base_record_last_updated": "1899-12-31T10:00"},
    {"title": "first", "start_date": "1900-01-01", "base_record_last_updated": "1900-01-01T12:00"},
    {"title": "feb28", "start_date": "1900-02-28", "base_record_last_updated": "1900-02-28T06:00"},
    {"title": "mar1", "start_date": "1900-03-01", "base_record_last_updated": "1900-03-01T18:00"},
]
DATE_COLUMNS = "title, start_date, base_record_last_updated"


def date_plan() -> TablePlan:
    return plan_table(events_frame(DATES, DATE_COLUMNS), "Events")


def check_dates(path: Path, sheet: str, top: int, left: int) -> None:
    """Serials exactly as Excel counts them, read back as the same days by both readers."""
    letter, dt_letter = column_letter(left + 1), column_letter(left + 2)
    cells = sheet_cells(path, _part(path, sheet))
    serials = [cells[f"{letter}{top + i}"].findtext(f"{MAIN}v") for i in range(1, 5)]
    assert serials == [None, "1", "59", "61"]
    stamps = [cells[f"{dt_letter}{top + i}"].findtext(f"{MAIN}v") for i in range(1, 5)]
    assert stamps == [None, "1.5", "59.25", "61.75"]
    ws = openpyxl.load_workbook(path)[sheet]
    assert [ws.cell(top + i, left + 1).value for i in range(1, 5)] == [
        None,
        dt.datetime(1900, 1, 1),
        dt.datetime(1900, 2, 28),
        dt.datetime(1900, 3, 1),
    ]
    found = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet)
    rows = found.to_python()
    first_row, first_col = found.start or (0, 0)  # calamine's grid starts at the used area
    days = [rows[top - 1 - first_row + i][left - first_col] for i in range(1, 5)]
    assert days[1:] == [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1)]
    assert days[0] in ("", None)
    stamp = rows[top - 1 - first_row + 3][left - first_col + 1]
    assert stamp == dt.datetime(1900, 2, 28, 6, 0)


def _part(path: Path, sheet: str) -> str:
    return dict(XlsxPackage(path).sheets())[sheet]


def test_dates_around_excels_leap_year_bug_in_new_files_and_refresh(tmp_path: Path) -> None:
    plan = date_plan()
    assert any("2 date(s) before 1900-01-01" in w for w in plan.warnings), plan.warnings
    path = new_file(tmp_path, plan)
    valid(path)
    check_dates(path, "Events", 1, 1)

    book = table_workbook(tmp_path / "refresh.xlsx", "B3:D4", ["Title", "Start date", "x"])
    refresh(book, date_plan())
    valid(book)
    check_dates(book, "Data", 3, 2)
    _header, body = WorkbookEditor(XlsxPackage(book)).read_table("Events")
    assert [row[1] for row in body] == [
        None,
        dt.datetime(1900, 1, 1),
        dt.datetime(1900, 2, 28),
        dt.datetime(1900, 3, 1),
    ], "our own reader inverts the serials"


def test_a_1904_workbook_gets_dates_before_1904_as_empty_cells(tmp_path: Path) -> None:
    book = table_workbook(tmp_path / "mac.xlsx", "A1:B2", ["Title", "Start date"], date1904=True)
    records = [
        {"title": "a", "start_date": "1903-12-31"},
        {"title": "b", "start_date": "1904-01-02"},
    ]
    plan = plan_table(events_frame(records, "title, start_date"), "Events")
    refresh(book, plan)
    assert any("1 date(s) before 1904-01-01" in w for w in plan.warnings), plan.warnings
    cells = sheet_cells(book)
    assert cells["B2"].findtext(f"{MAIN}v") is None and cells["B3"].findtext(f"{MAIN}v") == "1"
    valid(book)


# --- rows and columns ----------------------------------------------------------------------------


def test_row_and_column_limits_count_from_where_the_table_starts() -> None:
    check_excel_limits(plain_plan(1, MAX_ROWS - 1), 1, 1)  # header + every other row
    with pytest.raises(ExcelLimitError, match="past Excel's last row"):
        check_excel_limits(plain_plan(1, MAX_ROWS - 3), 4, 1)  # the SheepCRM sheet's row 4
    check_excel_limits(plain_plan(1, MAX_ROWS - 4), 4, 1)
    with pytest.raises(ExcelLimitError, match="choose fewer columns"):
        check_excel_limits(plain_plan(MAX_COLUMNS), 1, 2)
    with pytest.raises(ExcelLimitError, match="past Excel's last row"):
        check_excel_limits(plain_plan(1, 5), MAX_ROWS - 5, 1, extra_rows=1)  # a totals row


def test_a_new_file_past_the_last_row_is_refused_before_writing(tmp_path: Path) -> None:
    plan = TablePlan("Events", plain_plan(1).columns, [["x"]] * (MAX_ROWS - 3))
    with pytest.raises(ExcelLimitError, match="1,048,573 rows below row 4"):
        new_file(tmp_path, plan, preamble=("Title", "Help"))  # the header at row 4
    assert list(tmp_path.iterdir()) == []


def test_a_new_file_with_every_column_is_valid_and_one_more_is_refused(tmp_path: Path) -> None:
    path = new_file(tmp_path, plain_plan(MAX_COLUMNS))
    valid(path)
    assert "XFD2" in sheet_cells(path)
    path.unlink()
    with pytest.raises(ExcelLimitError, match="16,385 columns"):
        new_file(tmp_path, plain_plan(MAX_COLUMNS + 1))
    assert list(tmp_path.iterdir()) == []


def test_refresh_growing_to_the_last_row_and_column(tmp_path: Path) -> None:
    low = table_workbook(tmp_path / "low.xlsx", "A1048570:B1048571", ["C0", "C1"])
    refresh(low, plain_plan(2, 6), tmp_path / "full.xlsx")  # header 1048570, rows to 1048576
    valid(tmp_path / "full.xlsx")
    assert "B1048576" in sheet_cells(tmp_path / "full.xlsx")
    before = low.read_bytes()
    with pytest.raises(ExcelLimitError, match="past Excel's last row"):
        refresh(low, plain_plan(2, 7))
    assert low.read_bytes() == before

    right = table_workbook(tmp_path / "right.xlsx", "XFA1:XFD2", ["C0", "C1", "C2", "C3"])
    refresh(right, plain_plan(4, 2), tmp_path / "wide.xlsx")
    valid(tmp_path / "wide.xlsx")
    with pytest.raises(ExcelLimitError, match="past Excel's last column"):
        refresh(right, plain_plan(5, 2))


def test_live_writer_refuses_a_table_past_the_sheet_before_writing() -> None:
    try:
        book = new_book("Report.xlsx", sheets=("Sheet1",))
        with pytest.raises(ExcelLimitError, match="past Excel's last row"):
            live.write_table(book, "Sheet1", plain_plan(1, 2), anchor=f"A{MAX_ROWS - 1}")
        with pytest.raises(ExcelLimitError, match="past Excel's last column"):
            live.write_table(book, "Sheet1", plain_plan(2, 1), anchor="XFD1")
        assert engine_of(book).calls == [], "nothing was written"
    finally:
        uninstall()


# --- hyperlinks -------------------------------------------------------------------------------


def link_plan(urls: list[str]) -> TablePlan:
    records = [{"title": f"e{i}", "website": url} for i, url in enumerate(urls)]
    return plan_table(events_frame(records, "title, website"), "Events")


def hyperlink_refs(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    return [h.get("ref") for h in root.iter(f"{MAIN}hyperlink")]


def test_links_too_long_for_excel_are_plain_text(tmp_path: Path) -> None:
    base = "https://example.org/"
    fits = base + "a" * (MAX_LINK_LENGTH - len(base))
    plan = link_plan([fits, fits + "a"])
    assert any("1 link(s) longer than Excel's 2,079" in w for w in plan.warnings)
    path = new_file(tmp_path, plan)
    valid(path)
    assert hyperlink_refs(path) == ["B2"]
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()
    assert rows[2][1] == fits + "a", "kept as text"


def test_a_sheet_holds_at_most_excels_hyperlinks(tmp_path: Path) -> None:
    plan = link_plan([f"https://example.org/{i}" for i in range(MAX_HYPERLINKS + 2)])
    path = new_file(tmp_path, plan)
    assert len(hyperlink_refs(path)) == MAX_HYPERLINKS
    assert any("2 link(s) beyond Excel's 65,530 hyperlinks" in w for w in plan.warnings)
    valid(path)


def test_refresh_counts_the_sheets_other_links(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx_refresh, "MAX_HYPERLINKS", 4)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["A2"], ws["B2"] = "Title", "Website", "old", "x"
    ws.add_table(Table(displayName="Events", ref="A1:B2"))
    ws["E1"].hyperlink = "https://example.org/elsewhere"  # the person's own link stays
    path = tmp_path / "links.xlsx"
    wb.save(path)
    write = refresh(path, link_plan([f"https://example.org/{i}" for i in range(5)]))
    refs = hyperlink_refs(path)
    assert "E1" in refs and len(refs) == 4
    assert any("2 link(s) beyond" in w for w in write.warnings), write.warnings
    valid(path)


def test_live_writer_caps_hyperlinks(monkeypatch) -> None:
    monkeypatch.setattr(live, "MAX_HYPERLINKS", 2)
    try:
        book = new_book("Report.xlsx", sheets=("Sheet1",))
        write = live.write_table(
            book, "Sheet1", link_plan([f"https://e.org/{i}" for i in range(3)])
        )
        assert len(book.sheets["Sheet1"].impl.hyperlinks) == 2
        assert any("1 link(s) beyond" in w for w in write.warnings)
    finally:
        uninstall()


def test_new_file_names_must_differ_in_more_than_case(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="used twice"):
        write_workbook(
            tmp_path / "x.xlsx",
            [
                SheetSpec("A", plain_plan(1, name="Events")),
                SheetSpec("B", plain_plan(1, name="EVENTS")),
            ],
        )
    assert list(tmp_path.iterdir()) == []
