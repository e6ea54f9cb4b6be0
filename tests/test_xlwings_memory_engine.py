"""The in-memory xlwings engine: xlwings' real classes and conversion pipeline running on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import xlwings as xw
from support.xlwings_memory import (
    MemoryEngine,
    MemoryRange,
    cell_format,
    cell_formula,
    cell_text,
    cell_value,
    engine_of,
    install,
    installed,
    is_empty,
    new_book,
    set_formula_result,
    table_ref,
    uninstall,
)


@pytest.fixture(autouse=True)
def _restore_xlwings_engines() -> Iterator[None]:
    yield
    uninstall()


@pytest.fixture
def book() -> xw.Book:
    return new_book("Events.xlsx", sheets=("Events", "Notes"))


@pytest.fixture
def sheet(book: xw.Book) -> xw.Sheet:
    return book.sheets["Events"]


ROWS = [
    ["Name", "Starts", "Day", "Price", "Paid", "Note"],
    ["AGM", dt.datetime(2026, 5, 1, 18, 30), dt.date(2026, 5, 1), 12.5, True, None],
    ["Dinner", dt.datetime(2026, 6, 2, 19, 0), dt.date(2026, 6, 2), 40, False, "vegan"],
]


# --- apps, books, registration -----------------------------------------------------------------


def test_new_book_returns_a_real_xlwings_book(book: xw.Book) -> None:
    assert isinstance(book, xw.Book)
    assert book.name == "Events.xlsx"
    assert book.fullname == "Events.xlsx"
    assert book.sheet_names == ["Events", "Notes"]
    assert book.app.version.major == 16
    assert xw.books.active == book  # installed as xlwings' active engine
    assert engine_of(book).calls == []  # setting up the book is not logged


def test_public_xlwings_way_to_create_apps_and_books() -> None:
    with installed() as engine:
        assert xw.engines.active.name == "memory"
        app = xw.App(visible=False)
        assert app.books[0].name == "Book1"
        book = xw.Book()
        assert book.name == "Book2"
        assert book.app == app == xw.apps.active
        assert book.sheets[0].name == "Sheet1"
        assert engine_of(book) is engine
        app.quit()
        assert len(xw.apps) == 0
    assert "memory" not in [e.name for e in xw.engines]
    assert xw.engines.active is None


def test_install_replaces_a_previous_memory_engine() -> None:
    first, second = install(), install(MemoryEngine())
    assert xw.engines.active.impl is second is not first
    assert [e.name for e in xw.engines] == ["memory"]


def test_book_caller_with_mock_caller(book: xw.Book) -> None:
    book.set_mock_caller()
    try:
        assert xw.Book.caller() == book
    finally:
        del xw.Book._mock_caller


def test_app_settings(book: xw.Book) -> None:
    app = book.app
    assert (app.screen_updating, app.enable_events, app.display_alerts) == (True, True, True)
    with app.properties(screen_updating=False, calculation="manual", enable_events=False):
        assert app.screen_updating is False
        assert app.calculation == "manual"
    assert app.calculation == "automatic"
    assert app.screen_updating is True


def test_status_bar_excel_semantics(book: xw.Book) -> None:
    app = book.app
    assert app.status_bar is False  # Excel has control
    app.status_bar = "Loading events..."
    assert app.status_bar == "Loading events..."
    app.status_bar = False
    assert app.status_bar is False
    assert engine_of(book).calls_of("status_bar") == [
        ("status_bar", "Loading events..."),
        ("status_bar", False),
    ]


def test_save_is_recorded_not_written(book: xw.Book, tmp_path) -> None:
    target = tmp_path / "Saved.xlsx"
    book.save(target)
    assert book.name == "Saved.xlsx"
    assert book.fullname == str(target)
    assert not target.exists()
    assert engine_of(book).calls == [("save", str(target))]


# --- sheets ------------------------------------------------------------------------------------


def test_sheets_add_get_iterate_rename_delete(book: xw.Book) -> None:
    added = book.sheets.add("Summary", after=book.sheets["Events"])
    assert [s.name for s in book.sheets] == ["Events", "Summary", "Notes"]
    assert book.sheets["summary"] == added  # case-insensitive, like Excel
    assert book.sheets.active == added
    assert added.index == 2
    default = book.sheets.add()  # Excel: before the active sheet
    assert [s.name for s in book.sheets] == ["Events", "Sheet4", "Summary", "Notes"]
    default.name = "Scratch"
    assert book.sheets[1].name == "Scratch"
    book.sheets["Scratch"].delete()
    assert book.sheet_names == ["Events", "Summary", "Notes"]
    with pytest.raises(ValueError, match="already present"):
        added.name = "notes"
    with pytest.raises(ValueError):
        book.sheets.add("Events")
    assert engine_of(book).calls == [
        ("sheet_add", "Summary"),
        ("sheet_add", "Sheet4"),
        ("sheet_name", "Sheet4", "Scratch"),
        ("sheet_delete", "Scratch"),
    ]


def test_last_visible_sheet_cannot_be_deleted() -> None:
    book = new_book(sheets=("Only",))
    with pytest.raises(ValueError, match="at least one visible"):
        book.sheets["Only"].delete()


def test_deleted_sheet_cannot_be_used(book: xw.Book) -> None:
    notes = book.sheets["Notes"]
    notes.delete()
    with pytest.raises(RuntimeError, match="deleted"):
        notes["A1"].value = 1


# --- values ------------------------------------------------------------------------------------


def test_2d_write_of_mixed_types_and_read_back(sheet: xw.Sheet) -> None:
    sheet["A1"].value = ROWS
    assert engine_of(sheet).calls == [("value", "Events!A1:F3")]
    assert sheet["A1"].expand().value == [
        ROWS[0],
        ["AGM", dt.datetime(2026, 5, 1, 18, 30), dt.datetime(2026, 5, 1), 12.5, True, None],
        ["Dinner", dt.datetime(2026, 6, 2, 19, 0), dt.datetime(2026, 6, 2), 40.0, False, "vegan"],
    ]
    assert cell_value(sheet, "D3") == 40.0  # Excel holds numbers as floats
    assert is_empty(sheet, "F2")
    assert cell_format(sheet, "B2") == "m/d/yyyy h:mm"  # Excel formats dates written to General
    assert cell_format(sheet, "C2") == "m/d/yyyy"
    assert cell_text(sheet, "B2") == "5/1/2026 18:30"

    df = sheet["A1"].options(pd.DataFrame, index=False, header=True, expand="table").value
    assert list(df.columns) == ROWS[0]
    assert df["Name"].tolist() == ["AGM", "Dinner"]
    assert df["Price"].tolist() == [12.5, 40.0]
    assert df["Starts"].tolist() == [pd.Timestamp(2026, 5, 1, 18, 30), pd.Timestamp(2026, 6, 2, 19)]


def test_read_options_go_through_the_xlwings_pipeline(sheet: xw.Sheet) -> None:
    sheet["A1"].value = ROWS
    assert sheet["D2:D3"].options(numbers=int).value == [12, 40]
    assert sheet["C2"].options(dates=dt.date).value == dt.date(2026, 5, 1)
    assert sheet["A1"].options(ndim=2).value == [["Name"]]
    assert sheet["F2:F3"].options(empty="-").value == ["-", "vegan"]
    assert sheet["A1:B1"].options(transpose=True).value == ["Name", "Starts"]
    assert sheet["A2"].value == "AGM"
    assert sheet["A1:A3"].value == ["Name", "AGM", "Dinner"]


def test_dataframe_write_is_one_bulk_write(sheet: xw.Sheet) -> None:
    df = pd.DataFrame(
        {
            "Event": ["AGM", "Dinner", "Quiz"],
            "Seats": np.array([10, 20, 30], dtype=np.int64),
            "Fee": [1.5, np.nan, 3.0],
            "Starts": [pd.Timestamp("2026-05-01 18:00"), pd.NaT, pd.Timestamp("2026-07-01")],
            "Open": np.array([True, False, True]),
        }
    )
    sheet["B2"].options(pd.DataFrame, index=False).value = df
    assert engine_of(sheet).calls == [("value", "Events!B2:F5")]
    assert sheet["B2:F2"].value == ["Event", "Seats", "Fee", "Starts", "Open"]
    assert sheet["B3:F3"].value == ["AGM", 10.0, 1.5, dt.datetime(2026, 5, 1, 18), True]
    assert is_empty(sheet, "D4")  # NaN: an empty cell
    assert is_empty(sheet, "E4")  # NaT: an empty cell
    back = sheet["B2"].options(pd.DataFrame, index=False, expand="table").value
    assert back["Seats"].tolist() == [10.0, 20.0, 30.0]


def test_none_nan_and_empty_text(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [["x", "", None, float("nan"), pd.NA, pd.NaT]]
    assert not is_empty(sheet, "B1")  # "" is kept (Excel would empty the cell)
    assert cell_value(sheet, "B1") == ""
    assert all(is_empty(sheet, a) for a in ("C1", "D1", "E1", "F1"))
    assert sheet["A1:F1"].value == ["x", None, None, None, None, None]  # reads like Windows


def test_prepare_and_clean_mirror_the_windows_engine() -> None:
    prepare = MemoryEngine.prepare_xl_data_element
    tz = dt.timezone(dt.timedelta(hours=2))
    assert prepare(dt.datetime(2026, 1, 2, 3, 4, tzinfo=tz)) == dt.datetime(2026, 1, 2, 3, 4)
    assert prepare(dt.date(2026, 1, 2)) == dt.datetime(2026, 1, 2)
    assert prepare(pd.Timestamp("2026-01-02", tz="UTC")) == dt.datetime(2026, 1, 2)
    assert prepare(np.datetime64("2026-01-02")) == dt.datetime(2026, 1, 2)
    assert type(prepare(np.float32(1.5))) is float
    assert type(prepare(np.int64(3))) is float
    assert prepare(np.bool_(True)) is True
    for missing in (None, float("nan"), np.nan, pd.NaT, pd.NA, np.datetime64("NaT")):
        assert prepare(missing) is None
    clean = MemoryEngine.clean_value_data(
        [["", None, 2.0, dt.datetime(2026, 1, 2)]], dt.datetime, "E", int, False
    )
    assert clean == [["E", "E", 2, dt.datetime(2026, 1, 2)]]


def test_values_excel_cannot_hold_are_refused(sheet: xw.Sheet) -> None:
    with pytest.raises(TypeError, match="dict"):
        sheet["A1"].value = [[{"a": 1}]]
    with pytest.raises(ValueError, match="inf"):
        sheet["A1"].raw_value = float("inf")
    with pytest.raises(ValueError, match="do not fit"):
        sheet["A1:B2"].raw_value = [[1, 2, 3]]


def test_text_is_parsed_like_excel_parses_typed_entries(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [
        ["00123"],
        ["'00123"],
        ["=A1*2"],
        ["-abc"],
        ["TRUE"],
        ["12%"],
        ["2026-05-01"],
        ["plain text"],
    ]
    assert cell_value(sheet, "A1") == 123.0  # leading zeros lost, as in Excel
    assert cell_value(sheet, "A2") == "00123"  # the apostrophe keeps text
    assert cell_formula(sheet, "A3") == "=A1*2"
    assert cell_value(sheet, "A3") is None  # not calculated
    assert cell_formula(sheet, "A4") == "=-abc"  # Excel takes it for a formula
    assert cell_value(sheet, "A5") is True
    assert (cell_value(sheet, "A6"), cell_format(sheet, "A6")) == (0.12, "0%")
    assert cell_value(sheet, "A7") == dt.datetime(2026, 5, 1)
    assert cell_value(sheet, "A8") == "plain text"

    sheet["B1:B2"].number_format = "@"  # the Text format keeps text as text
    sheet["B1:B2"].value = [["00123"], ["=not a formula"]]
    assert sheet["B1:B2"].value == ["00123", "=not a formula"]


def test_text_parsing_can_be_switched_off() -> None:
    book = new_book(engine=MemoryEngine(parse_text=False))
    sheet = book.sheets[0]
    sheet["A1"].value = [["00123", "=A1"]]
    assert sheet["A1:B1"].value == ["00123", "=A1"]
    sheet["C1"].formula = "=A1"
    assert cell_formula(sheet, "C1") == "=A1"


def test_dates_follow_the_number_format_like_com(sheet: xw.Sheet) -> None:
    sheet["A1"].value = dt.date(2026, 5, 1)
    sheet["A1"].number_format = "0.00"
    assert sheet["A1"].value == 46143.0  # a date shown as a number reads as its serial
    sheet["B1"].number_format = "yyyy-mm-dd"
    sheet["B1"].value = 46143
    assert sheet["B1"].value == dt.datetime(2026, 5, 1)
    assert cell_text(sheet, "B1") == "2026-05-01"
    sheet["B1"].clear_contents()  # keeps the format: a later number reads as a date
    sheet["B1"].value = 2
    assert sheet["B1"].value == dt.datetime(1900, 1, 1)
    sheet["B1"].clear()
    assert cell_format(sheet, "B1") == "General"


def test_formula_results_can_be_set_by_tests(sheet: xw.Sheet) -> None:
    sheet["A1"].formula = "=1+1"
    set_formula_result(sheet, "A1", 2)
    assert sheet["A1"].value == 2.0
    assert sheet["A1"].formula == "=1+1"


# --- addresses and range geometry --------------------------------------------------------------


def test_range_addressing(sheet: xw.Sheet) -> None:
    rng = sheet["B2:D5"]
    assert rng.address == "$B$2:$D$5"
    assert rng.get_address(False, False) == "B2:D5"
    assert rng.get_address(include_sheetname=True) == "Events!$B$2:$D$5"
    assert rng.shape == (4, 3)
    assert rng.count == 12
    assert (rng.row, rng.column) == (2, 2)
    assert rng.last_cell.address == "$D$5"
    assert rng.resize(2, 2).address == "$B$2:$C$3"
    assert rng.offset(1, 2).address == "$D$3:$F$6"
    assert rng[0, 0].address == "$B$2"
    assert rng[1:, :2].address == "$B$3:$C$5"
    assert rng[-1, -1].address == "$D$5"
    assert rng[4].address == "$C$3"  # row by row
    assert [r.address for r in rng.rows][:2] == ["$B$2:$D$2", "$B$3:$D$3"]
    assert [c.address for c in rng.columns] == ["$B$2:$B$5", "$C$2:$C$5", "$D$2:$D$5"]
    assert len(rng.rows) == 4
    assert sheet.range((2, 2), (5, 4)) == rng
    assert sheet.cells(2, 2).address == "$B$2"
    assert sheet[1, 1].address == "$B$2"
    assert sheet["$b$2"].address == "$B$2"
    assert sheet["C:D"].address == "$C:$D"
    assert sheet.range("B2,B5:B7").address == "$B$2,$B$5:$B$7"
    with pytest.raises(IndexError):
        sheet.range((0, 1))


def test_expand_and_current_region(sheet: xw.Sheet) -> None:
    sheet["B2"].value = [["a", "b", "c"], [1, 2, 3], [4, 5, 6]]
    assert sheet["B2"].expand().address == "$B$2:$D$4"
    assert sheet["B2"].expand("down").address == "$B$2:$B$4"
    assert sheet["B2"].expand("right").address == "$B$2:$D$2"
    assert sheet["C3"].current_region.address == "$B$2:$D$4"
    assert sheet["B2"].end("down").address == "$B$4"
    assert sheet["B4"].end("down").row == 1_048_576


# --- formatting --------------------------------------------------------------------------------


def test_number_format_uniform_or_none(sheet: xw.Sheet) -> None:
    rng = sheet["A1:B3"]
    assert rng.number_format == "General"
    rng.number_format = "0.00"
    assert rng.number_format == "0.00"
    sheet["B2"].number_format = "#,##0"
    assert rng.number_format is None  # mixed formats, like Excel's Null
    assert cell_format(sheet, "B2") == "#,##0"
    sheet["C:C"].number_format = "@"  # whole columns
    assert sheet["C1:C5"].number_format == "@"
    assert engine_of(sheet).calls_of("number_format") == [
        ("number_format", "Events!A1:B3", "0.00"),
        ("number_format", "Events!B2", "#,##0"),
        ("number_format", "Events!C:C", "@"),
    ]


def test_font_and_fill(sheet: xw.Sheet) -> None:
    header = sheet["A1:C1"]
    header.font.bold = True
    header.font.color = "#FFFFFF"
    header.color = (31, 78, 121)
    assert header.font.bold is True
    assert header.font.color == (255, 255, 255)
    assert header.color == (31, 78, 121)
    assert sheet["A1:A2"].font.bold is None  # mixed
    assert sheet["A2"].color is None


def test_column_width_and_autofit(sheet: xw.Sheet) -> None:
    assert sheet["A1"].column_width == 8.43
    sheet["A1:B1"].column_width = 20
    assert sheet["A1:B1"].column_width == 20
    assert sheet["A1:C1"].column_width is None  # mixed widths
    sheet["C1"].value = [["Name"], ["A much longer name"], [dt.datetime(2026, 5, 1)]]
    sheet["C1:C3"].columns.autofit()
    assert sheet["C1"].column_width == len("A much longer name") + 1
    sheet["C1"].autofit()  # only the cells of the range count
    assert sheet["C1"].column_width == len("Name") + 1
    sheet["D1"].autofit()  # nothing to show: the standard width
    assert sheet["D1"].column_width == 8.43
    assert engine_of(sheet).calls_of("autofit") == [
        ("autofit", "Events!C1:C3", "c"),
        ("autofit", "Events!C1", "both"),
        ("autofit", "Events!D1", "both"),
    ]


# --- clearing ----------------------------------------------------------------------------------


def test_clear_contents_clear_and_multi_area(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14]]
    sheet["A1:B7"].number_format = "0.0"
    sheet.range("B2,B5:B7").clear_contents()
    assert sheet["B1:B7"].value == [2.0, None, 6.0, 8.0, None, None, None]
    assert cell_format(sheet, "B2") == "0.0"  # formats stay
    sheet["A1:A2"].clear()
    assert is_empty(sheet, "A1")
    assert cell_format(sheet, "A1") == "General"
    sheet["A3"].clear_formats()
    assert (cell_value(sheet, "A3"), cell_format(sheet, "A3")) == (5.0, "General")
    calls = engine_of(sheet).calls
    assert ("clear_contents", "Events!B2,B5:B7") in calls
    assert ("clear", "Events!A1:A2") in calls


# --- hyperlinks and formulas -------------------------------------------------------------------


def test_hyperlinks(sheet: xw.Sheet) -> None:
    sheet["A2"].add_hyperlink("https://example.org/e/1", "AGM 2026")
    assert sheet["A2"].value == "AGM 2026"
    assert sheet["A2"].hyperlink == "https://example.org/e/1"
    sheet["A3"].add_hyperlink("www.example.org")
    assert sheet["A3"].hyperlink == "http://www.example.org"  # xlwings adds the scheme
    sheet["A2"].clear_contents()  # Excel keeps the link
    assert sheet["A2"].hyperlink == "https://example.org/e/1"
    sheet["A2"].clear()
    with pytest.raises(Exception, match="hyperlink"):
        sheet["A2"].hyperlink  # noqa: B018
    sheet["A4"].formula = '=HYPERLINK("https://example.org/e/2", "Dinner")'
    assert sheet["A4"].hyperlink == "https://example.org/e/2"
    assert engine_of(sheet).calls_of("add_hyperlink")[0] == (
        "add_hyperlink",
        "Events!A2",
        "https://example.org/e/1",
    )


def test_formula_and_formula2(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [[1, 2]]
    sheet["C1"].formula = "=A1+B1"
    assert sheet["C1"].formula == "=A1+B1"
    assert sheet["C1"].formula2 == "=A1+B1"
    assert sheet["A1"].formula == "1"
    sheet["A2:B3"].formula2 = [["=A1", "text"], [3.5, None]]
    assert sheet["A2:B3"].formula == (("=A1", "text"), ("3.5", ""))
    assert sheet["A2:B3"].value == [[None, "text"], [3.5, None]]
    assert engine_of(sheet).calls[1:] == [("formula", "Events!C1"), ("formula2", "Events!A2:B3")]


# --- tables ------------------------------------------------------------------------------------


def test_table_add_and_properties(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [["Name", "Date", "Seats"], ["AGM", dt.date(2026, 5, 1), 10]]
    table = sheet.tables.add(
        source=sheet["A1:C2"], name="Events", table_style_name="TableStyleMedium2"
    )
    assert sheet.tables["Events"] == table
    assert "events" in sheet.tables
    assert len(sheet.tables) == 1
    assert [t.name for t in sheet.tables] == ["Events"]
    assert table.name == "Events"
    assert table.range.address == "$A$1:$C$2"
    assert table.header_row_range.value == ["Name", "Date", "Seats"]
    assert table.data_body_range.address == "$A$2:$C$2"
    assert table.table_style == "TableStyleMedium2"
    assert table.show_autofilter is True
    table.show_autofilter = False
    assert table.show_autofilter is False
    table.table_style = "TableStyleLight9"
    assert table.table_style == "TableStyleLight9"
    with pytest.raises(ValueError, match="unknown table style"):
        table.table_style = "TableStyleMedium99"
    assert [c.name for c in table.columns] == ["Name", "Date", "Seats"]
    assert len(table.rows) == 1
    assert sheet["B2"].table == table
    assert table_ref(sheet, "Events") == "A1:C2"
    assert engine_of(sheet).calls_of("table_add") == [("table_add", "Events!A1:C2", "Events")]


def test_table_headers_are_made_unique_text(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [["Name", None, "name", 2026]]
    table = sheet.tables.add(source=sheet["A1:D1"])  # header only: Excel adds a body row
    assert table.name == "Table1"
    assert table_ref(sheet, "Table1") == "A1:D2"
    assert table.header_row_range.value == ["Name", "Column2", "name2", "2026"]
    sheet["B1"].clear_contents()  # Excel names a cleared header cell
    assert sheet["B1"].value == "Column2"
    table.header_row_range.value = ["B", "A", "C", "C"]  # a bulk rename is atomic
    assert table.header_row_range.value == ["B", "A", "C", "C2"]


def test_table_names_are_unique_and_tables_do_not_overlap(book: xw.Book) -> None:
    events, notes = book.sheets["Events"], book.sheets["Notes"]
    events.tables.add(source=events["A1:B3"], name="Events")
    with pytest.raises(ValueError, match="already in use"):
        notes.tables.add(source=notes["A1:B3"], name="EVENTS")
    with pytest.raises(ValueError, match="overlap"):
        events.tables.add(source=events["B3:C5"], name="Other")
    with pytest.raises(ValueError, match="not a valid Excel name"):
        notes.tables.add(source=notes["A1:B3"], name="My Events")
    with pytest.raises(ValueError, match="cell reference"):
        notes.tables.add(source=notes["A1:B3"], name="AB12")
    book.names.add("Taken", "=TRUE")
    with pytest.raises(ValueError, match="already in use"):
        notes.tables.add(source=notes["A1:B3"], name="Taken")


def test_table_resize_rules(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [["a", "b"], [1, 2], [3, 4]]
    table = sheet.tables.add(source=sheet["A1:B3"], name="T")
    table.resize(sheet["A1:C5"])
    assert table_ref(sheet, "T") == "A1:C5"
    assert sheet["C1"].value == "Column3"  # a new header cell gets a name
    with pytest.raises(ValueError, match="same row"):
        table.resize(sheet["A2:C5"])
    with pytest.raises(ValueError, match="body row"):
        table.resize(sheet["A1:C1"])
    assert engine_of(sheet).calls_of("table_resize") == [("table_resize", "T", "Events!A1:C5")]


def test_table_update_grows_and_shrinks(sheet: xw.Sheet) -> None:
    sheet["A1"].value = [["Name", "Seats"], ["AGM", 10]]
    table = sheet.tables.add(source=sheet["A1:B2"], name="Events")
    grown = pd.DataFrame(
        {"Name": ["AGM", "Dinner", "Quiz"], "Seats": [10, 20, 30], "Fee": [1.0, 2.0, 3.0]}
    )
    table.update(grown, index=False)  # xlwings' own implementation
    assert table_ref(sheet, "Events") == "A1:C4"
    assert table.range.options(pd.DataFrame, index=False).value.equals(
        grown.astype({"Seats": float})
    )
    engine = engine_of(sheet)
    engine.clear_calls()
    table.update(grown.iloc[:1, :2], index=False)
    assert table_ref(sheet, "Events") == "A1:B2"
    assert sheet["A1:C4"].value == [
        ["Name", "Seats", None],
        ["AGM", 10.0, None],
        [None, None, None],
        [None, None, None],
    ]
    assert engine.calls == [
        ("table_resize", "Events", "Events!A1:B2"),
        ("clear_contents", "Events!C1:C4"),
        ("clear_contents", "Events!A3:C4"),  # computed by xlwings before the resize
        ("value", "Events!A1:B1"),
        ("value", "Events!A2:B2"),
    ]
    # An empty frame: xlwings sizes the table to one column and one body row (a ListObject
    # always has one) but neither clears nor writes that row, so the old "AGM" stays.
    table.update(grown.iloc[:0, :1], index=False)
    assert table_ref(sheet, "Events") == "A1:A2"
    assert sheet["A1:B2"].value == [["Name", None], ["AGM", None]]


# --- defined names -----------------------------------------------------------------------------


def test_defined_names(book: xw.Book) -> None:
    book.names.add("SheepCRM_RefreshOnOpen", "=TRUE")
    book.names.add("EventData", "=Events!$A$1:$B$3")
    assert "SheepCRM_RefreshOnOpen" in [n.name for n in book.names]
    assert [n.name for n in book.names] == ["EventData", "SheepCRM_RefreshOnOpen"]  # sorted
    assert book.names["SheepCRM_RefreshOnOpen"].refers_to == "=TRUE"
    assert book.names["EventData"].refers_to_range.address == "$A$1:$B$3"
    assert book.sheets["Events"]["EventData"].address == "$A$1:$B$3"
    book.names.add("EventData", "=Events!$A$1:$B$9")  # Excel redefines silently
    assert len(book.names) == 2
    book.sheets["Events"].name = "All events"
    assert book.names["EventData"].refers_to == "='All events'!$A$1:$B$9"
    book.names["SheepCRM_RefreshOnOpen"].delete()
    assert "SheepCRM_RefreshOnOpen" not in [n.name for n in book.names]
    with pytest.raises(KeyError):
        book.names["SheepCRM_RefreshOnOpen"]
    assert engine_of(book).calls_of("name_delete") == [("name_delete", "SheepCRM_RefreshOnOpen")]


def test_sheet_scoped_names(book: xw.Book) -> None:
    events = book.sheets["Events"]
    events.names.add("Local", "=Events!$A$1")
    assert [n.name for n in book.names] == ["Events!Local"]
    assert events.names["Local"].refers_to == "=Events!$A$1"
    assert len(book.sheets["Notes"].names) == 0


# --- gaps --------------------------------------------------------------------------------------


def test_unsupported_members_name_themselves(sheet: xw.Sheet) -> None:
    with pytest.raises(NotImplementedError, match=r"MemoryRange\.merge "):
        sheet["A1:B1"].merge()
    with pytest.raises(NotImplementedError, match=r"MemorySheet\.copy "):
        sheet.copy()
    with pytest.raises(NotImplementedError, match=r"MemoryRange\.insert "):
        sheet["A1"].insert("down")
    with pytest.raises(NotImplementedError, match="whole table"):
        sheet.tables.add(source=sheet["A1:B2"], name="T").range.clear()


def test_impls_are_the_model(book: xw.Book) -> None:
    sheet = book.sheets["Events"]
    sheet["B2"].value = "x"
    assert sheet.impl.values == {(2, 2): "x"}
    assert isinstance(sheet["B2"].impl, MemoryRange)
