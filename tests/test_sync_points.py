"""Runs a refresh skips unread (`sheep_xl.writers.sync_points`): the CRC arithmetic, the record
read back only while it holds, and refreshes that skip a table's old rows, links and link
relationships making the same workbook as the tree path, again and again."""

from __future__ import annotations

import copy
import io
import random
import zipfile
import zlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook
from support import DEMO_TODAY, ooxml_check
from support.excel_style import excel_style
from support.ooxml_check import read_package, write_package
from support.reportkit import make_report

from sheep_xl.demo.data import demo_events
from sheep_xl.exceptions import WorkbookError
from sheep_xl.frames import events_frame
from sheep_xl.tables.plan import plan_table
from sheep_xl.writers import ooxml, table_runs, xlsx_refresh
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.sync_points import (
    RECORD_URI,
    Run,
    SyncWriter,
    crc32_combine,
    read_record,
    record_ext,
    skip_runs,
)
from sheep_xl.writers.xlsx_new import SheetSpec, write_workbook
from sheep_xl.writers.xlsx_refresh import WorkbookEditor
from tools import libreoffice as lo

SHEET, RELS = "xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels"


def test_crc32_combine_is_the_crc_of_the_joined_bytes() -> None:
    rng = random.Random(14)
    for _ in range(300):
        a, b = rng.randbytes(rng.randint(0, 200)), rng.randbytes(rng.randint(0, 5000))
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    big = bytes(range(256)) * 40_000  # ten megabytes: the length's high bits count too
    assert crc32_combine(zlib.crc32(b"x"), zlib.crc32(big), len(big)) == zlib.crc32(b"x" + big)


# --- a part with runs, written and read back ------------------------------------------------


def write_part(items: list[Any], supported: bool = True) -> tuple[bytes, zipfile.ZipInfo]:
    """A one-part ZIP written from ``items``; the raw deflate stream and its entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
        info = zipfile.ZipInfo("part.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as handle:
            writer = SyncWriter(handle)
            writer.supported = writer.supported and supported
            for item in items:
                writer.write(item)
    data = buffer.getvalue()
    entry = zipfile.ZipFile(io.BytesIO(data)).getinfo("part.xml")
    start = entry.header_offset + 30
    start += int.from_bytes(data[entry.header_offset + 26 : entry.header_offset + 28], "little")
    start += int.from_bytes(data[entry.header_offset + 28 : entry.header_offset + 30], "little")
    return data[start : start + entry.compress_size], entry


def two_runs() -> tuple[list[Any], bytes, list[Run]]:
    rows, links = Run("rows:3-9000:A1:B9000"), Run("links:rIdL1-rIdL10")
    middle, later = b"<row/>" * 9000, b"<hyperlink/>" * 10
    items: list[Any] = [b"<a><head/>", rows.start, middle, rows.end, b"<between/>"]
    items += [links.start, later, links.end, b"<extLst>", *record_ext([rows, links])]
    items += [b"</extLst></a>"]
    return items, b"<a><head/>" + middle + b"<between/>" + later, [rows, links]


def test_runs_are_skipped_and_the_rest_read() -> None:
    items, whole, _ = two_runs()
    raw, entry = write_part(items)
    text = zlib.decompress(raw, -15)
    assert text.startswith(whole), "the part's own bytes are unchanged"
    assert etree.fromstring(text).find("extLst/ext").get("uri") == RECORD_URI
    runs = read_record(raw)
    assert runs is not None and [r.label for r in runs] == [
        "rows:3-9000:A1:B9000",
        "links:rIdL1-rIdL10",
    ]
    pieces = skip_runs(raw, entry.file_size, entry.CRC, runs)
    assert pieces is not None
    assert pieces[:2] == [b"<a><head/>", b"<between/>"]
    assert pieces[2].startswith(b"<extLst><ext ") and pieces[2].endswith(b"</extLst></a>")
    assert sum(map(len, pieces)) == len(text) - 6 * 9000 - 12 * 10


def test_a_record_that_does_not_hold_is_not_used() -> None:
    items, _, _ = two_runs()
    raw, entry = write_part(items)
    runs = read_record(raw)
    assert runs is not None
    assert skip_runs(raw, entry.file_size, entry.CRC ^ 1, runs) is None, "another CRC"
    assert skip_runs(raw, entry.file_size + 1, entry.CRC, runs) is None, "another size"
    # the bytes between the runs changed, as any editor would change them
    other = [b"<between!>" if item == b"<between/>" else item for item in items]
    raw2, entry2 = write_part(other)
    assert skip_runs(raw2, entry2.file_size, entry.CRC, runs) is None
    # a record copied onto a part written otherwise (no sync points where it says)
    plain = zlib.compressobj(3, zlib.DEFLATED, -15)
    copied = plain.compress(zlib.decompress(raw, -15)) + plain.flush()
    assert read_record(copied) is None
    assert skip_runs(copied, entry.file_size, entry.CRC, runs) is None
    assert read_record(b"") is None and read_record(b"\x00\x00\xff\xff") is None


def test_without_the_compressors_handle_no_sync_point_and_no_record_is_written() -> None:
    items, whole, runs = two_runs()
    raw, _ = write_part(items, supported=False)
    assert zlib.decompress(raw, -15) == whole + b"<extLst></extLst></a>"
    assert read_record(raw) is None
    assert not any(run.written for run in runs)


# --- refreshes that skip -------------------------------------------------------------------


def frame(n: int, start: int = 0) -> Any:
    base = demo_events(DEMO_TODAY)
    records = []
    for i in range(start, start + n):
        record = copy.deepcopy(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        record["website"] = f"https://example.org/events/{i}"
        record.pop("series_id", None)
        records.append(record)
    return events_frame(records)


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Runs in tables of a few rows, and a record of whether each refresh skipped."""
    monkeypatch.setattr(table_runs, "SKIP_FROM", 2)
    monkeypatch.setattr(table_runs, "SKIP_FROM_BYTES", 0)
    used: list[bool] = []
    real = table_runs.skipped_sheet

    def spy(*args: Any) -> Any:
        found = real(*args)
        used.append(found is not None)
        return found

    monkeypatch.setattr(xlsx_refresh, "skipped_sheet", spy)
    return used


def refreshed(source: Path, out: Path, n: int, start: int, splice: bool, mp: Any) -> Path:
    mp.setattr(xlsx_refresh, "SPLICE", splice)
    package = XlsxPackage(source)
    editor = WorkbookEditor(package)
    editor.replace_table(plan_table(frame(n, start), "Events"))
    editor.finish()
    package.save(out)
    return out


def cells(path: Path) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Events").to_python()


def links(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)["Events"]
    return {
        str(c.coordinate): c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink
    }


def test_each_refresh_skips_the_rows_and_links_the_last_one_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_runs: list[bool]
) -> None:
    current = tmp_path / "0.xlsx"
    write_workbook(current, [SheetSpec("Events", plan_table(frame(60), "Events"))])
    for step, (n, start) in enumerate([(200, 5), (40, 100), (41, 7), (1, 0), (90, 3)], 1):
        by_tree = refreshed(current, tmp_path / f"tree{step}.xlsx", n, start, False, monkeypatch)
        spliced = refreshed(current, tmp_path / f"{step}.xlsx", n, start, True, monkeypatch)
        assert cells(spliced) == cells(by_tree)
        assert links(spliced) == links(by_tree) and len(links(spliced)) == n
        with zipfile.ZipFile(spliced) as zf:
            rels = zf.read(RELS)
        assert rels.count(b"<Relationship ") == n + 1, "no relationship left behind"
        if ooxml_check.schemas_available():  # the records are comments the schemas allow
            ooxml_check.assert_valid(spliced)
        current = spliced
    # the last table of one row has no run to skip: the refresh after it scans
    assert small_runs == [True, True, True, True, False]


def test_a_sheet_saved_by_another_program_is_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_runs: list[bool]
) -> None:
    source = tmp_path / "events.xlsx"
    write_workbook(source, [SheetSpec("Events", plan_table(frame(30), "Events"))])
    (tmp_path / "excel.xlsx").write_bytes(write_package(excel_style(read_package(source))))
    by_tree = refreshed(tmp_path / "excel.xlsx", tmp_path / "t.xlsx", 12, 0, False, monkeypatch)
    spliced = refreshed(tmp_path / "excel.xlsx", tmp_path / "s.xlsx", 12, 0, True, monkeypatch)
    assert cells(spliced) == cells(by_tree)
    assert small_runs == [False]


def test_a_record_of_another_table_shape_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_runs: list[bool]
) -> None:
    """The table part says where the table is: moved or resized since, the rows are scanned."""
    source = tmp_path / "events.xlsx"
    write_workbook(source, [SheetSpec("Events", plan_table(frame(30), "Events"))])
    with zipfile.ZipFile(source) as zf:
        found = {name: zf.read(name) for name in zf.namelist()}
        entries = {i.filename: i for i in zf.infolist()}
    table = found["xl/tables/table1.xml"].replace(b'ref="A1:U31"', b'ref="A1:U25"')
    assert table != found["xl/tables/table1.xml"]
    with zipfile.ZipFile(source) as zf, zipfile.ZipFile(tmp_path / "moved.xlsx", "w") as out:
        for name, info in entries.items():  # the sheet keeps its exact compressed bytes
            if name == "xl/tables/table1.xml":
                out.writestr(info, table, zipfile.ZIP_DEFLATED)
            else:
                out.writestr(info, zf.read(name), zipfile.ZIP_DEFLATED)
    package = XlsxPackage(tmp_path / "moved.xlsx")
    assert table_runs.skipped_sheet(package, SHEET, "A1:U25", 2, 25) is None
    recompressed = table_runs.skipped_sheet(package, SHEET, "A1:U31", 2, 31)
    assert recompressed is None, "recompressed: the sync points are gone"
    package = XlsxPackage(source)
    assert table_runs.skipped_sheet(package, SHEET, "A1:U31", 2, 31) is not None
    assert table_runs.skipped_sheet(package, SHEET, "A1:U25", 2, 25) is None


def test_the_old_rows_are_never_read_the_preflight_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_runs: list[bool]
) -> None:
    """Bytes in the middle of the recorded rows, damaged: neither the preflight (before any
    request) nor the refresh reads them, and the refresh replaces them."""
    monkeypatch.setattr(ooxml, "LAZY_PART_BYTES", 10_000)  # read when needed, as big parts are
    source = tmp_path / "events.xlsx"
    write_workbook(source, [SheetSpec("Events", plan_table(frame(400), "Events"))])
    package = XlsxPackage(source)
    (rows,) = [r for r in package.recorded_runs(SHEET) if r.label.startswith("rows:")]
    raw, entry = package.original_deflate(SHEET) or (None, None)
    assert raw is not None and entry is not None
    data = bytearray(source.read_bytes())
    start = entry.header_offset + 30 + len(entry.filename) + len(entry.extra)
    middle = start + (rows.end_at // 2)  # well inside the run's compressed bytes
    data[middle] ^= 0xFF
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(data))
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(damaged).read(SHEET)  # read whole, the damage shows
    with pytest.raises(WorkbookError, match="is damaged: its part xl/worksheets/sheet1"):
        WorkbookEditor(XlsxPackage(damaged)).preflight()  # not refreshed: read, and reported
    WorkbookEditor(XlsxPackage(damaged)).preflight(refreshed=["events"])  # skipped: not read
    fixed = refreshed(damaged, tmp_path / "fixed.xlsx", 30, 0, True, monkeypatch)
    good = refreshed(source, tmp_path / "good.xlsx", 30, 0, True, monkeypatch)
    assert cells(fixed) == cells(good) and small_runs == [True, True, True]


def test_a_comment_among_the_sheets_elements_and_formulas_in_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_runs: list[bool]
) -> None:
    """An XML comment under <worksheet> (a tool of the user's wrote it): the record still goes
    last. A table with a calculated column is edited as a tree after the splice (its cached
    values): it is written without runs, and without an empty extLst."""
    source = tmp_path / "events.xlsx"
    write_workbook(source, [SheetSpec("Events", plan_table(frame(50), "Events"))])
    found = read_package(source)
    sheet = found[SHEET].replace(b"<sheetData>", b"<!-- written by a tool --><sheetData>", 1)
    found[SHEET] = sheet.replace(b"<extLst>", b"<!-- before the extensions --><extLst>", 1)
    (tmp_path / "commented.xlsx").write_bytes(write_package(found))
    by_tree = refreshed(tmp_path / "commented.xlsx", tmp_path / "t.xlsx", 30, 0, False, monkeypatch)
    spliced = refreshed(tmp_path / "commented.xlsx", tmp_path / "s.xlsx", 30, 0, True, monkeypatch)
    assert cells(spliced) == cells(by_tree)
    with zipfile.ZipFile(spliced) as zf:
        root = etree.fromstring(zf.read(SHEET))
    assert root[-1].tag.endswith("extLst") and root[-1][-1].get("uri") == RECORD_URI
    if ooxml_check.schemas_available():
        ooxml_check.assert_valid(spliced)

    report = tmp_path / "report.xlsx"  # a calculated column, cached values, a summary
    write_workbook(report, [SheetSpec("Events", plan_table(frame(30), "Events"))])
    make_report(report)
    once = refreshed(report, tmp_path / "r1.xlsx", 45, 0, True, monkeypatch)
    twice = refreshed(once, tmp_path / "r2.xlsx", 20, 0, True, monkeypatch)
    for path in (once, twice):
        with zipfile.ZipFile(path) as zf:
            xml = zf.read(SHEET)
        assert b"<extLst/>" not in xml and b"<extLst></extLst>" not in xml
        assert RECORD_URI.encode() not in xml, "edited as a tree after the splice: no runs"
    assert small_runs[-2:] == [False, False]


@pytest.mark.libreoffice
@pytest.mark.skipif(lo.skip_reason() is not None, reason=lo.skip_reason() or "")
def test_libreoffice_reads_a_sheet_with_runs_and_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_runs: list[bool]
) -> None:
    """The full flushes and the record as another spreadsheet program meets them: every
    requested cell as calamine reads it, before and after a refresh that skipped."""
    source = tmp_path / "events.xlsx"
    write_workbook(source, [SheetSpec("Events", plan_table(frame(120), "Events"))])
    spliced = refreshed(source, tmp_path / "refreshed.xlsx", 60, 9, True, monkeypatch)
    assert small_runs == [True]
    for path, rows in ((source, 121), (spliced, 61)):
        wanted = cells(path)
        assert len(wanted) == rows
        result = lo.recalculate(path, {"Events": ["A1:C3", f"A{rows}:U{rows}"]})
        assert result.sheets[0] == "Events" and not result.has_errors()
        got = result["Events"]
        assert got["A1"] == wanted[0][0] and got["A2"] == wanted[1][0]
        assert got[f"A{rows}"] == wanted[-1][0], "the last row is there"
        assert got[f"U{rows}"] == wanted[-1][20]
