"""The spliced refresh (``writers.sheet_splice``) makes the sheet the tree path makes.

Every workbook here is refreshed twice, spliced and as a whole tree (``xlsx_refresh.SPLICE``),
and the two results must be the same workbook: every XML part equal in canonical form, every
cell read back equal (python-calamine), and the parts a refresh does not edit byte-identical
to the original. The sheets cover what a person does around a table (cells beside and below
it, hidden and tall rows, links of their own, a totals row, a calculated column, a report's
names, chart and formats) and sheets written otherwise than sheep-xl writes them (by openpyxl,
as Excel does: shared strings, ``spans``); the shapes the splice does not take fall back to
the tree path, and a test says so for each.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lxml import etree
from openpyxl.styles import PatternFill
from python_calamine import CalamineWorkbook
from support import DEMO_TODAY
from support.reportkit import make_report

from sheep_xl.demo.data import demo_events
from sheep_xl.exceptions import WorkbookError
from sheep_xl.frames import events_frame
from sheep_xl.tables.plan import TablePlan, plan_table
from sheep_xl.writers import ooxml, sheet_splice, table_runs, xlsx_refresh
from sheep_xl.writers.ooxml import Box, XlsxPackage, column_letter
from sheep_xl.writers.sheet_splice import (
    Region,
    columns_pattern,
    drop_links,
    numbers_pattern,
    prune_relationships,
    split_sheet,
)
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook
from sheep_xl.writers.xlsx_refresh import TableWrite, WorkbookEditor

SHEET = "xl/worksheets/sheet1.xml"
STAMP = (2026, 11, 24, 9, 30, 0)
MODIFIED = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
# what a refresh may edit (the styles: a column's number format new to the workbook); every
# other part keeps its bytes
EDITED = re.compile(
    r"xl/worksheets/sheet1\.xml|xl/worksheets/_rels/sheet1\.xml\.rels|xl/tables/table\d+\.xml"
    r"|xl/workbook\.xml|docProps/core\.xml|xl/calcChain\.xml|\[Content_Types\]\.xml"
    r"|xl/_rels/workbook\.xml\.rels|xl/worksheets/sheet\d+\.xml|xl/charts/chart\d+\.xml"
    r"|xl/pivotCache/.*|xl/styles\.xml"
)


@pytest.fixture(autouse=True, params=["scanned", "skipped"])
def runs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: workbooks written without runs (their old rows are scanned), and with
    runs even in small tables (the old rows of ours are skipped unread, `sync_points`)."""
    if request.param == "skipped":
        monkeypatch.setattr(table_runs, "SKIP_FROM", 2)
        monkeypatch.setattr(table_runs, "SKIP_FROM_BYTES", 0)
    else:
        monkeypatch.setattr(table_runs, "SKIP_FROM", 10**9)
    return str(request.param)


def frame(n: int, columns: str = "default") -> Any:
    base = demo_events(DEMO_TODAY)
    records = []
    for i in range(n):
        record = copy.deepcopy(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        record.pop("series_id", None)
        records.append(record)
    return events_frame(records, columns)


def events_book(path: Path, n: int) -> Path:
    write_workbook(path, [SheetSpec("Events", plan_table(frame(n), "Events"))])
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rewrite(path: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    found = parts(path)
    change(found)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in found.items():
            zf.writestr(name, data)
    return path


def canonical(data: bytes) -> bytes:
    """An XML part in exclusive canonical form (a namespace declared where it is used: the
    same XML whichever element declares it), without a sheet's record of the runs the next
    refresh may skip (only a spliced sheet has one, `sync_points`); other parts as they are."""
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError:
        return data
    if root.tag == f"{{{ooxml.NS_MAIN}}}worksheet":
        ooxml.drop_run_record(root)
    return etree.tostring(root, method="c14n", exclusive=True)


def refresh(
    source: Path,
    out: Path,
    plans: list[TablePlan],
    splice: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> list[TableWrite]:
    monkeypatch.setattr(xlsx_refresh, "SPLICE", splice)
    package = XlsxPackage(source)
    editor = WorkbookEditor(package)
    editor.preflight()
    writes = [editor.replace_table(plan) for plan in plans]
    editor.finish(modified=MODIFIED, today=DEMO_TODAY)
    package.save(out, date_time=STAMP)
    return writes


def both_ways(
    source: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    plans: list[TablePlan],
    spliced: bool | list[bool] = True,
) -> Path:
    """Refresh ``source`` spliced and as a tree: the same workbook (returned), the parts not
    edited byte-identical to the original, each table spliced as ``spliced`` says."""
    tree_out, splice_out = tmp_path / "tree.xlsx", tmp_path / "splice.xlsx"
    by_tree = refresh(source, tree_out, copy.deepcopy(plans), False, monkeypatch)
    by_splice = refresh(source, splice_out, plans, True, monkeypatch)
    assert [w.spliced for w in by_tree] == [False] * len(plans)
    wanted = spliced if isinstance(spliced, list) else [spliced] * len(plans)
    assert [w.spliced for w in by_splice] == wanted
    for a, b in zip(by_tree, by_splice, strict=True):
        assert (a.ref, a.rows, a.warnings) == (b.ref, b.rows, b.warnings)
    tree, splice, original = parts(tree_out), parts(splice_out), parts(source)
    assert list(tree) == list(splice)
    for name in tree:
        assert canonical(tree[name]) == canonical(splice[name]), name
        if name in original and not EDITED.fullmatch(name):
            assert splice[name] == original[name], f"{name} keeps its bytes"
    read_tree = CalamineWorkbook.from_path(str(tree_out))
    read_splice = CalamineWorkbook.from_path(str(splice_out))
    for name in read_tree.sheet_names:
        assert (
            read_tree.get_sheet_by_name(name).to_python()
            == read_splice.get_sheet_by_name(name).to_python()
        ), name
    return splice_out


def events_plan(n: int, columns: str = "default") -> TablePlan:
    return plan_table(frame(n, columns), "Events")


# --- the same workbook both ways ---------------------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [(12, 40), (40, 7), (25, 0), (9, 9)])
def test_grow_shrink_and_empty_make_the_tree_paths_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: int, after: int
) -> None:
    source = events_book(tmp_path / "events.xlsx", before)
    out = both_ways(source, tmp_path, monkeypatch, [events_plan(after)])
    ws = openpyxl.load_workbook(out)["Events"]
    assert ws.tables["Events"].ref == f"A1:U{max(after, 1) + 1}"
    assert ws.calculate_dimension() == f"A1:U{max(after, 1) + 1}"


def test_every_cell_reads_back_as_the_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = events_book(tmp_path / "events.xlsx", 30)
    plan = events_plan(17, "all")
    out = both_ways(source, tmp_path, monkeypatch, [plan])
    header, *rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Events").to_python()
    assert header == plan.titles and len(rows) == 17
    kinds = [c.kind for c in plan.columns]
    for got_row, want_row in zip(rows, plan.rows, strict=True):
        for got, want, kind in zip(got_row, want_row, kinds, strict=True):
            if want is None:
                assert got == ""
            elif kind == "number" or isinstance(want, bool):
                assert got == want
            elif kind == "datetime":
                assert abs(got - want) <= dt.timedelta(milliseconds=1)
            elif kind in ("date", "time"):
                assert got == want or str(got).startswith(str(want))
            else:
                assert got == want


def people_around_the_table(path: Path, rows: int) -> Path:
    """A person's work around the table: notes beside every row, a tall row and a hidden row
    in the table, a link of their own beside it and one below it, a cell far below."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Events"]
    for row in range(1, rows + 2):
        ws.cell(row, 23, f"note {row}")  # W: beside the table, one column apart
    ws.row_dimensions[4].height = 40
    ws.row_dimensions[6].hidden = True
    ws["X3"] = "a link of mine"
    ws["X3"].hyperlink = "https://example.org/mine"
    ws["B90"] = "far below"
    ws["C91"] = "another link"
    ws["C91"].hyperlink = "https://example.org/below"
    ws["A91"].fill = PatternFill(start_color="FFFF00", end_color="FFFF00", fill_type="solid")
    wb.save(path)
    return path


@pytest.mark.parametrize("after", [5, 30, 0])
def test_cells_beside_and_below_the_table_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    source = people_around_the_table(events_book(tmp_path / "events.xlsx", 20), 20)
    out = both_ways(source, tmp_path, monkeypatch, [events_plan(after)])
    ws = openpyxl.load_workbook(out)["Events"]
    assert [ws.cell(r, 23).value for r in range(1, 22)] == [f"note {r}" for r in range(1, 22)]
    assert ws["X3"].hyperlink.target == "https://example.org/mine"
    assert ws["C91"].hyperlink.target == "https://example.org/below"
    assert ws["B90"].value == "far below"
    assert ws.row_dimensions[4].height == 40 and ws.row_dimensions[6].hidden


def test_growing_into_a_persons_cell_is_refused_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = events_book(tmp_path / "events.xlsx", 10)
    wb = openpyxl.load_workbook(source)
    wb["Events"]["C20"] = "in the way"
    wb.save(source)
    for splice in (True, False):
        monkeypatch.setattr(xlsx_refresh, "SPLICE", splice)
        editor = WorkbookEditor(XlsxPackage(source))
        with pytest.raises(WorkbookError, match="C20 holds data"):
            editor.replace_table(events_plan(30))


def test_a_report_refreshes_the_same_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names, a chart, conditional formats, validation, a calculated column (its formula
    filled down and computed), a summary sheet's formulas over the table."""
    source = events_book(tmp_path / "events.xlsx", 30)
    make_report(source)
    for after in (45, 8):
        out = both_ways(source, tmp_path, monkeypatch, [events_plan(after)])
        ws = openpyxl.load_workbook(out)["Events"]
        assert ws.tables["Events"].ref == f"A1:V{after + 1}"
        assert str(ws[f"V{after + 1}"].value).startswith("=IFERROR(")


def test_a_totals_row_moves_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = events_book(tmp_path / "events.xlsx", 20)
    wb = openpyxl.load_workbook(source)
    ws = wb["Events"]
    table = ws.tables["Events"]
    table.ref, table.totalsRowCount, table.autoFilter.ref = "A1:U22", 1, "A1:U21"
    ws["A22"] = "Total"
    ws["O22"] = "=SUBTOTAL(109,Events[Capacity])"
    table.tableColumns[0].totalsRowLabel = "Total"
    table.tableColumns[14].totalsRowFunction = "sum"
    wb.save(source)
    for after in (30, 4):
        out = both_ways(source, tmp_path, monkeypatch, [events_plan(after)])
        ws = openpyxl.load_workbook(out)["Events"]
        assert ws[f"A{after + 2}"].value == "Total"
        assert ws[f"O{after + 2}"].value == "=SUBTOTAL(109,Events[Capacity])"


NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
INLINE = re.compile(r'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: [^>]*)?>(.*?)</t></is></c>')


def excel_like(path: Path) -> Path:
    """The workbook as Excel writes one: text in shared strings, rows with ``spans`` and
    ``x14ac:dyDescent``, relationships as openpyxl writes them (``Id`` last)."""
    wb = openpyxl.load_workbook(path)
    wb.save(path)

    def as_excel(found: dict[str, bytes]) -> None:
        strings: list[str] = []

        def shared(match: re.Match[str]) -> str:
            strings.append(match.group(3))
            return f'<c {match.group(1)}t="s"{match.group(2)}><v>{len(strings) - 1}</v></c>'

        sheet = INLINE.sub(shared, found[SHEET].decode())
        sheet = sheet.replace(
            "<worksheet ",
            '<worksheet xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" ',
            1,
        )
        sheet = re.sub(r'<row r="(\d+)"', r'<row r="\1" spans="1:23" x14ac:dyDescent="0.25"', sheet)
        found[SHEET] = sheet.encode()
        items = "".join(f"<si><t>{text}</t></si>" for text in strings)
        found["xl/sharedStrings.xml"] = (
            f'<sst xmlns="{NS_MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            f"{items}</sst>"
        ).encode()
        rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
        found["xl/_rels/workbook.xml.rels"] = found["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            f'<Relationship Type="{rel}" Target="sharedStrings.xml" Id="rIdS"/>'
            "</Relationships>".encode(),
        )
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
        found["[Content_Types].xml"] = found["[Content_Types].xml"].replace(
            b"</Types>",
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/></Types>'.encode(),
        )

    return rewrite(path, as_excel)


@pytest.mark.parametrize("after", [3, 50])
def test_a_sheet_written_as_excel_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    source = excel_like(people_around_the_table(events_book(tmp_path / "e.xlsx", 30), 30))
    assert b't="s"' in parts(source)[SHEET] and b"spans=" in parts(source)[SHEET]
    both_ways(source, tmp_path, monkeypatch, [events_plan(after)])


def test_every_part_read_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With every part held compressed until read (as big parts are), nothing changes."""
    monkeypatch.setattr(ooxml, "LAZY_PART_BYTES", 0)
    monkeypatch.setattr(ooxml, "READ_CHUNK", 97)  # rows, links and tags cut across chunks
    source = people_around_the_table(events_book(tmp_path / "events.xlsx", 25), 25)
    both_ways(source, tmp_path, monkeypatch, [events_plan(40)])
    both_ways(excel_like(source), tmp_path, monkeypatch, [events_plan(6)])


def test_two_tables_on_one_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second table's sheet is already spliced: it is spliced again from its bytes."""
    source = tmp_path / "two.xlsx"
    write_workbook(source, [SheetSpec("Events", plan_table(frame(6), "Events"))])
    wb = openpyxl.load_workbook(source)
    ws = wb["Events"]
    from openpyxl.worksheet.table import Table

    for row in range(20, 24):
        ws.cell(row, 1, "Title" if row == 20 else f"t{row}")
    ws.add_table(Table(displayName="Other", ref="A20:A23"))
    wb.save(source)
    other = TablePlan("Other", events_plan(1).columns[:1], [["x"], ["y"]])
    both_ways(source, tmp_path, monkeypatch, [events_plan(9), other], spliced=[True, True])


# --- what the splice does not take: the tree path, and the same workbook ------------------------


def _rows_without_numbers(found: dict[str, bytes]) -> None:
    found[SHEET] = found[SHEET].replace(b'<row r="5">', b"<row>", 1)


def _prefixed(found: dict[str, bytes]) -> None:
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet = found[SHEET].replace(main, main.replace(b"xmlns", b"xmlns:x"), 1)
    found[SHEET] = re.sub(rb"<(/?)(?!\?)(?![a-z]+:)([A-Za-z]+)", rb"<\1x:\2", sheet)


def _comment_among_rows(found: dict[str, bytes]) -> None:
    found[SHEET] = found[SHEET].replace(b'<row r="4">', b'<!-- a note --><row r="4">', 1)


def _rows_out_of_order(found: dict[str, bytes]) -> None:
    sheet = found[SHEET]
    row_9 = re.search(rb'<row r="9">.*?</row>', sheet)
    assert row_9
    sheet = sheet.replace(row_9.group(0), b"", 1)
    found[SHEET] = sheet.replace(b'<row r="3">', row_9.group(0) + b'<row r="3">', 1)


@pytest.mark.parametrize(
    "change",
    [_rows_without_numbers, _prefixed, _comment_among_rows, _rows_out_of_order],
    ids=["rows-without-numbers", "prefixed-namespace", "comment-among-rows", "out-of-order"],
)
def test_sheets_the_splice_does_not_take_go_the_tree_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[dict[str, bytes]], None]
) -> None:
    source = rewrite(events_book(tmp_path / "events.xlsx", 12), change)
    both_ways(source, tmp_path, monkeypatch, [events_plan(20)], spliced=False)


def test_a_damaged_sheet_is_reported_by_the_preflight(tmp_path: Path) -> None:
    def damage(found: dict[str, bytes]) -> None:
        found[SHEET] = found[SHEET].replace(b"</c></row>", b"</row>", 3)

    source = rewrite(events_book(tmp_path / "events.xlsx", 12), damage)
    package = XlsxPackage(source)
    with pytest.raises(WorkbookError, match=r"is damaged: its part xl/worksheets/sheet1\.xml"):
        WorkbookEditor(package).preflight()


def test_a_big_sheet_is_checked_and_spliced_without_its_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the preflight nor the refresh parses the sheet (or its links) whole."""
    source = events_book(tmp_path / "events.xlsx", 400)
    sizes: list[int] = []
    parse = ooxml.parse_xml

    def counted(data: bytes) -> etree._Element:
        sizes.append(len(data))
        return parse(data)

    for module in (ooxml, sheet_splice):
        monkeypatch.setattr(module, "parse_xml", counted)
    monkeypatch.setattr(ooxml, "LAZY_PART_BYTES", 50_000)
    package = XlsxPackage(source)
    editor = WorkbookEditor(package)
    editor.preflight()
    write = editor.replace_table(events_plan(300))
    editor.finish()
    package.save(tmp_path / "out.xlsx")
    assert write.spliced
    sheet_size = len(parts(source)[SHEET])
    assert sheet_size > 300_000 and max(sizes) < 20_000, sizes


# --- the pieces -----------------------------------------------------------------------------------


def all_columns(up_to: int) -> Iterator[tuple[int, str]]:
    for index in range(1, up_to + 1):
        yield index, column_letter(index)


@pytest.mark.parametrize(
    ("left", "right"), [(1, 1), (1, 21), (3, 26), (5, 27), (26, 52), (27, 703), (700, 16384)]
)
def test_columns_pattern_matches_exactly_the_columns(left: int, right: int) -> None:
    pattern = re.compile(columns_pattern(left, right))
    for index, letters in all_columns(800):
        assert bool(pattern.fullmatch(letters)) == (left <= index <= right), letters
    for index in (16383, 16384, 1000, 18278):
        letters = column_letter(index)
        assert bool(pattern.fullmatch(letters)) == (left <= index <= right), letters


@pytest.mark.parametrize(("low", "high"), [(1, 1), (2, 9), (2, 50001), (17, 1048576), (99, 100)])
def test_numbers_pattern_matches_exactly_the_numbers(low: int, high: int) -> None:
    pattern = re.compile(numbers_pattern(low, high))
    for number in [*range(1, 1200), 9999, 10000, 50000, 50001, 50002, 1048576, 1048577]:
        assert bool(pattern.fullmatch(str(number))) == (low <= number <= high), number


def test_links_in_the_area_are_dropped_from_the_bytes() -> None:
    r = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    head = f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" {r}>'
    links = (
        '<hyperlink ref="B2" r:id="rId1"/><hyperlink ref="Z2" r:id="rId2"/>'
        '<hyperlink ref="C9:D9" r:id="rId3"/><hyperlink ref="B3" location="Other!A1"/>'
        '<hyperlink ref="C40" r:id="rId4"/>'
    )
    tail = f"</sheetData><hyperlinks>{links}</hyperlinks></worksheet>"
    found = drop_links(head.encode(), tail.encode(), Box(1, 1, 10, 4))
    assert found is not None
    kept, dropped = found
    assert dropped.removed == {"rId1", "rId3"} and dropped.kept == {"rId2", "rId4"}
    assert kept == (
        b'</sheetData><hyperlinks><hyperlink ref="Z2" r:id="rId2"/>'
        b'<hyperlink ref="C40" r:id="rId4"/></hyperlinks></worksheet>'
    )
    every = drop_links(head.encode(), tail.encode(), Box(1, 1, 50, 30))
    assert every is not None and every[1].removed == {"rId1", "rId2", "rId3", "rId4"}
    other_order = tail.replace('ref="B2" r:id="rId1"', 'r:id="rId1" ref="B2"')
    assert drop_links(head.encode(), other_order.encode(), Box(1, 1, 10, 4)) is None


def test_relationships_are_pruned_from_the_bytes() -> None:
    link = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
    data = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Type="t/table" Target="../tables/table1.xml" Id="rId1"/>'
        + "".join(
            f'<Relationship Id="rIdL{i}" Type="{link}" Target="https://x/{i}" '
            'TargetMode="External"/>'
            for i in range(1, 40)
        )
        + "</Relationships>"
    ).encode()
    ids = {f"rIdL{i}" for i in range(1, 40) if i != 7}
    pruned = prune_relationships([data[i : i + 50] for i in range(0, len(data), 50)], ids)
    assert pruned is not None
    root = etree.fromstring(pruned)
    assert [r.get("Id") for r in root] == ["rId1", "rIdL7"]
    commented = data.replace(b"<Relationship Id", b"<!-- x --><Relationship Id", 1)
    assert prune_relationships([commented], ids) is None


def test_split_keeps_what_a_refresh_keeps() -> None:
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rows = "".join(
        [
            '<row r="1"><c r="A1"/></row>',
            '<row r="2"><c r="A2"/><c r="B2"/></row>',
            '<row r="3"><c r="B3"/></row>',
            '<row r="4" customHeight="1" ht="30"><c r="A4"/></row>',
            '<row r="5"><c r="A5"/><c r="E5"/></row>',
            '<row r="6"/>',
            '<row r="7"><c r="A7"/></row>',
            '<row r="12"><c r="A12"/></row>',
        ]
    )
    data = f"<worksheet {main}><sheetData>{rows}</sheetData></worksheet>".encode()
    region = Region(top=1, droppable=7, bottom=8, left=1, right=2, keep=frozenset({1, 2}))
    for size in (7, 1000):
        split = split_sheet((data[i : i + size] for i in range(0, len(data), size)), region)
        assert split is not None
        assert split.rows == [1, 2, 4, 5, 12]
        root = split.parse()
        assert root is not None
        kept = [row.get("r") for row in root.iter("{*}row")]
        assert kept == ["1", "2", "4", "5", "12"]


def test_a_big_part_that_does_not_unpack_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: str
) -> None:
    """A big part stays compressed until read; when it is damaged, reading it says so. (Bytes
    inside the runs a refresh skips are never read before the save: `test_sync_points`.)"""
    source = events_book(tmp_path / "events.xlsx", 30)
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    # a byte of the deflated sheet: mid-way, or with runs in the part before them
    data[start + (info.compress_size // 2 if runs == "scanned" else 40)] ^= 0xFF
    source.write_bytes(bytes(data))
    monkeypatch.setattr(ooxml, "LAZY_PART_BYTES", 10_000)
    package = XlsxPackage(source)  # opens: the sheet is not read yet
    with pytest.raises(WorkbookError, match=r"is damaged: its part xl/worksheets/sheet1\.xml"):
        WorkbookEditor(package).preflight()
    with pytest.raises(WorkbookError, match="is damaged"):
        package.save(tmp_path / "out.xlsx")


def test_a_small_part_that_does_not_unpack_is_reported(tmp_path: Path) -> None:
    """Read at once: a deflate error (zlib's, not zipfile's) is a `WorkbookError` too."""
    source = events_book(tmp_path / "events.xlsx", 30)
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(info.compress_size // 3, info.compress_size, 97):
        damaged = bytearray(data)
        damaged[start + offset] ^= 0xFF
        (tmp_path / "damaged.xlsx").write_bytes(bytes(damaged))
        with pytest.raises(WorkbookError):
            XlsxPackage(tmp_path / "damaged.xlsx")


def test_a_big_relationships_part_is_read_for_one_type_without_its_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = events_book(tmp_path / "events.xlsx", 300)
    table = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
    link = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
    whole = XlsxPackage(source)
    monkeypatch.setattr(ooxml, "LAZY_PART_BYTES", 1000)
    monkeypatch.setattr(ooxml, "READ_CHUNK", 333)
    lazy = XlsxPackage(source)
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    for kind in (table, link):
        assert lazy.relationships(SHEET, kind) == whole.relationships(SHEET, kind)
    assert rels not in lazy._trees, "found without parsing the part"
    assert len(lazy.relationships(SHEET, link)) > 200
    assert lazy.relationships(SHEET) == whole.relationships(SHEET)


def test_a_table_away_from_a1_with_cells_left_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person's table at C4: their labels left of every row and a title above it."""
    from openpyxl.worksheet.table import Table

    plan = events_plan(15)
    source = tmp_path / "moved.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Events"
    ws["A1"] = "My title"
    for c, title in enumerate(plan.titles, 3):
        ws.cell(4, c, title)
    for r, row in enumerate(plan.rows, 5):
        ws.cell(r, 1, f"label {r}")
        for c, value in enumerate(row, 3):
            ws.cell(r, c, value if not isinstance(value, dt.time) else str(value))
    last = column_letter(2 + len(plan.titles))
    ws.add_table(Table(displayName="Events", ref=f"C4:{last}19"))
    wb.save(source)
    for after in (30, 3):
        out = both_ways(source, tmp_path, monkeypatch, [events_plan(after)])
        ws = openpyxl.load_workbook(out)["Events"]
        assert ws.tables["Events"].ref == f"C4:{last}{4 + after}"
        assert ws["A1"].value == "My title"
        assert [ws.cell(r, 1).value for r in range(5, 20)] == [f"label {r}" for r in range(5, 20)]


def test_fewer_columns_than_the_table_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "all.xlsx"
    write_workbook(source, [SheetSpec("Events", plan_table(frame(12, "all"), "Events"))])
    both_ways(source, tmp_path, monkeypatch, [events_plan(20)])
