"""The refresh column layout is decided once (tables.layout) and both writers follow it: the same
table refreshed headless and in live Excel ends with the same columns and the same warning."""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl
from openpyxl.worksheet.table import TableColumn, TableFormula
from support import DEMO_TODAY
from support.xlwings_memory import new_book, uninstall

from sheep_xl.demo.data import demo_events
from sheep_xl.frames import events_frame
from sheep_xl.operations.export import local_now, write_new_report
from sheep_xl.tables.layout import refresh_layout
from sheep_xl.tables.plan import plan_table
from sheep_xl.tables.queries import new_query
from sheep_xl.writers.live import write_table
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.xlsx_refresh import WorkbookEditor

BEFORE = "title, capacity, total_stock_allocated"
AFTER = "capacity, title, status"  # other columns, in another order
FORMULA = "IFERROR(Events[[#This Row],[Tickets sold]]/Events[[#This Row],[Capacity]],0)"


def records(n: int) -> list[dict]:
    out = []
    for i, record in enumerate(demo_events(DEMO_TODAY)[:n]):
        record = copy.deepcopy(record)
        record["uid"] = f"{i:024x}"
        out.append(record)
    return out


def test_same_columns_keep_the_persons_columns_where_they_are() -> None:
    layout = refresh_layout(["A", "Mine", "B"], {"Mine"}, ["A", "B"])
    assert layout.titles == ("A", "Mine", "B") and layout.calculated == ("Mine",)
    assert layout.warnings == ()
    # data columns reordered (by hand or in the query): the query's order wins
    assert refresh_layout(["B", "A", "Mine"], {"Mine"}, ["A", "B"]).titles == ("A", "B", "Mine")


def test_changed_columns_come_first_then_the_persons_own() -> None:
    layout = refresh_layout(["A", "Mine", "Typed"], {"Mine"}, ["C", "A"])
    assert layout.titles == ("C", "A", "Mine", "Typed")
    assert layout.cleared == ("Typed",)
    assert layout.warnings == (
        "Column(s) 'Typed' are not from sheepCRM and have no formula, so their cells were "
        "cleared: give them a formula to keep them filled.",
    )


def test_a_formula_column_of_the_same_name_as_a_field_is_data_again() -> None:
    layout = refresh_layout(["A", "B"], {"B"}, ["A", "B"])
    assert layout.calculated == () and layout.titles == ("A", "B")


def headless(tmp_path: Path) -> tuple[list[str], list[str]]:
    path = tmp_path / "report.xlsx"
    first = plan_table(events_frame(records(5), BEFORE), "Events")
    write_new_report(path, [(new_query("example", "all", BEFORE), first)], ran_at=local_now())
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    table = ws.tables["Events"]
    ws["D1"], ws["E1"] = "% sold", "Notes"
    for row in range(2, 7):
        ws[f"D{row}"] = "=" + FORMULA
        ws[f"E{row}"] = "typed by hand"
    table.ref = "A1:E6"
    table.autoFilter.ref = "A1:E6"
    table.tableColumns.append(
        TableColumn(id=4, name="% sold", calculatedColumnFormula=TableFormula(attr_text=FORMULA))
    )
    table.tableColumns.append(TableColumn(id=5, name="Notes"))
    wb.save(path)

    package = XlsxPackage(path)
    editor = WorkbookEditor(package)
    write = editor.replace_table(plan_table(events_frame(records(8), AFTER), "Events"), "Events")
    editor.finish()
    package.save(path)
    header = [c.value for c in openpyxl.load_workbook(path)["Events"][1]]
    return header, write.warnings


def live() -> tuple[list[str], list[str]]:
    book = new_book("Report.xlsx", sheets=("Sheet1",))
    try:
        write_table(book, "Events", plan_table(events_frame(records(5), BEFORE), "Events"))
        sheet = book.sheets["Events"]
        sheet.tables["Events"].resize(sheet["A1:E6"])
        sheet["D1"].value, sheet["E1"].value = "% sold", "Notes"
        sheet["D2:D6"].formula = "=IFERROR([@[Tickets sold]]/[@Capacity],0)"
        sheet["E2:E6"].value = "typed by hand"
        write = write_table(book, "Events", plan_table(events_frame(records(8), AFTER), "Events"))
        header = sheet["A1"].resize(1, 6).value
        return list(header), write.warnings
    finally:
        uninstall()


def test_both_writers_lay_out_a_refreshed_table_alike(tmp_path) -> None:
    titles, warnings = headless(tmp_path)
    assert (titles, warnings) == live()
    assert titles == ["Capacity", "Title", "Status", "Tickets sold", "% sold", "Notes"]
    assert "'Tickets sold'" in warnings[0]


def has_link(cell) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(cell.hyperlink)
    except Exception:  # xlwings raises when the cell has none
        return False


def test_one_value_conversion_and_one_link_rule_for_every_writer(tmp_path) -> None:
    """Worksheet functions and the live writer convert values alike (the live writer only adds
    the text-keeping apostrophe); new files and live Excel link exactly the same values."""
    import datetime as dt

    from sheep_xl.writers.live import com_value, excel_value
    from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook

    samples = [dt.time(9, 30), dt.date(2026, 3, 4), dt.datetime(2026, 3, 4, 9), True, 2.5, None]
    for value in samples:
        assert excel_value(value, "any") == com_value(value)
    assert excel_value("=1+1", "text") == "'=1+1" and com_value("=1+1") == "=1+1"
    assert com_value(dt.time(12, 0)) == 0.5

    sites = ["https://a.example", "javascript:alert(1)", "mailto:b@example.org", "ftp://c", "x"]
    rows = [{**r, "website": site} for r, site in zip(records(5), sites, strict=True)]
    table = plan_table(events_frame(rows, "title, website"), "Events")
    path = tmp_path / "links.xlsx"
    write_workbook(path, [SheetSpec("Events", table)])
    in_file = {c.coordinate for c in openpyxl.load_workbook(path)["Events"]["B"] if c.hyperlink}
    book = new_book("Links.xlsx", sheets=("Sheet1",))
    try:
        write_table(book, "Events", table)
        sheet = book.sheets["Events"]
        live_links = {f"B{r}" for r in range(2, 7) if has_link(sheet[f"B{r}"])}
    finally:
        uninstall()
    assert in_file == live_links == {"B2", "B4"}
