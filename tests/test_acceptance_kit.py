"""The Excel acceptance kit (sheep-xl excel-check) runs here against the in-memory xlwings
engine: every check that needs Excel is skipped with its reason and every other one passes.
Fed a fake Excel that misbehaves (a spill that comes back as text, a repair on open, a macro
that raises), the report names each failure."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xlwings as xw
from support.xlwings_memory import install, uninstall
from support.xlwings_memory.engine import MemoryApp, MemoryBook, MemoryBooks, MemoryEngine

from sheep_xl import __version__
from sheep_xl.acceptance import CHECKS, run_kit
from sheep_xl.acceptance.checks_addin import probe_callbacks, ribbon_callbacks
from sheep_xl.acceptance.context import Inventory, compare_tables
from sheep_xl.addin.build import source_text
from sheep_xl.cli import main


@pytest.fixture
def memory_app() -> Iterator[xw.App]:
    install()
    app = xw.App(add_book=False)
    yield app
    uninstall()


def test_the_kit_runs_here_and_skips_only_what_needs_excel(memory_app, tmp_path) -> None:
    report = run_kit(memory_app, report=tmp_path / "report.json", timeout=1)
    assert len(report.results) == len(CHECKS)
    for result in report.results:
        if result.needs_real_excel:
            assert result.status == "skip", result
            assert "needs real Excel" in result.sentence
        else:
            assert result.status == "pass", (result.name, result.sentence, result.details)
    assert report.ok and report.counts["pass"] >= 6
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["excel"]["real_excel"] is False and data["excel"]["engine"] == "memory"
    assert data["machine"]["sheep_xl"] == __version__ and data["machine"]["os"]
    assert {r["name"] for r in data["results"]} == {c.name for c in CHECKS}
    page = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert all(f"`{c.name}`" in page for c in CHECKS) and "## Failures" not in page
    assert memory_app.books.count == 0, "every book the kit opened is closed"


def test_the_checks_cover_the_release_list() -> None:
    names = {c.name for c in CHECKS}
    for wanted in (
        "addin.loads",
        "addin.compiles",
        "addin.callbacks-resolve",
        "files.open-without-repair",
        "files.excel-save-round-trip",
        "files.refresh-after-excel-save",
        "functions.spill",
        "functions.recalc-storm",
        "ribbon.run-python",
        "ribbon.refresh-all",
        "ribbon.refresh-sheet",
        "ribbon.insert-table",
        "ribbon.refresh-on-open",
        "installer.install-ps1",
        "installer.mac-paths",
        "functions.mac-says-windows-only",
    ):
        assert wanted in names, wanted
    mac = [c.name for c in CHECKS if "mac" in c.platforms and c.needs_real_excel]
    assert "functions.spill" not in mac and "ribbon.refresh-on-open" in mac


def test_the_probe_knows_every_ribbon_callback() -> None:
    assert sorted(probe_callbacks(source_text("SheepProbe.bas"))) == sorted(ribbon_callbacks())


def test_comparison_names_types_and_blanks() -> None:
    want = [
        ["Title", "Start date", "Cancelled", "Capacity"],
        ["AGM", dt.date(2026, 5, 1), False, None],
    ]
    assert compare_tables(want, [["Title", "Start date", "Cancelled", "Capacity"],
                                 ["AGM", dt.datetime(2026, 5, 1), False, ""]]) == []  # fmt: skip
    problems = compare_tables(want, [want[0], ["AGM", "46143", "FALSE", 0.0]])
    assert problems == [
        "row 2, Start date: text '46143' instead of number 46143.0",
        "row 2, Cancelled: text 'FALSE' instead of boolean False",
        "row 2, Capacity: number 0.0 instead of empty",
    ]
    before = Inventory(("Events",), ("Events",), ("SheepCRM_RefreshOnOpen",), 1, 10)
    after = Inventory(("Events",), (), (), 0, 9)
    assert len(before.lost_in(after)) == 4


def test_cli_lists_the_checks(capsys) -> None:
    assert main(["excel-check", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(c.name in listed for c in CHECKS)


# --- a fake Excel that misbehaves --------------------------------------------------------------

_CALL = re.compile(r"^=(SHEEP_[A-Z_]+)\((.*)\)$")


class FakeBook(MemoryBook):
    """A workbook opened from a file: saving copies that file; one "repaired" on open."""

    source: Path
    repaired: bool = False

    def save(self, path: str | None = None, password: str | None = None) -> None:
        if path:
            shutil.copyfile(self.source, path)
        super().save(path, password)

    def Windows(self, index: int) -> Any:
        caption = self.name + (" [Repaired]" if self.repaired else "")
        return types.SimpleNamespace(Caption=caption)


class FakeBooks(MemoryBooks):
    def open(self, fullname: str, *args: Any, **kwargs: Any) -> MemoryBook:
        from openpyxl import load_workbook

        path = Path(fullname)
        app = self._app
        assert isinstance(app, FakeApp)
        if path.suffix == ".xlam":  # an add-in: not one of the workbooks, never active
            book = app.new_book(path.name, ("sheepcrm.conf",), str(path))
            app._books.remove(book)
            app._active_book = app._books[-1] if app._books else None
            return book
        wb = load_workbook(path)
        book = app.new_book(path.name, tuple(wb.sheetnames), str(path))
        book.__class__ = FakeBook
        assert isinstance(book, FakeBook)
        book.source = path
        book.repaired = path.name == "events.xlsx"  # Excel "repairs" the events workbook
        xbook = xw.Book(impl=book)
        for ws in wb.worksheets:
            sheet = xbook.sheets[ws.title]
            for row in ws.iter_rows():
                for cell in row:
                    value = cell.value
                    if value is None or value == "":
                        continue
                    if isinstance(value, dt.time):  # a time of day: a fraction of one
                        value = (value.hour * 60 + value.minute) / 1440
                    sheet.range((cell.row, cell.column)).value = getattr(value, "text", value)
            for name in list(ws.tables):
                sheet.tables.add(source=sheet.range(ws.tables[name].ref), name=name)
        for name, defined in wb.defined_names.items():
            xbook.names.add(name, "=" + defined.attr_text)
        return book


class FakeApp(MemoryApp):
    """Runs the probe's macros (one of them raises), opens files, and "calculates" SheepCRM
    formulas by calling the functions, writing every result as text."""

    environment: dict[str, str]

    @property
    def books(self) -> FakeBooks:
        return FakeBooks(self)

    def run(self, macro: str, args: list[Any]) -> Any:
        name = macro.rsplit("!", 1)[-1]
        if name == "SheepProbe":
            return __version__
        if name == "SheepProbeCallbacks":
            return ",".join(ribbon_callbacks())
        if name == "SheepProbeSetEnv":
            self.environment[args[0]] = args[1]
            return ""
        raise RuntimeError(f"Excel VBA error 1004 in {name}: the macro failed")

    def calculate(self) -> None:
        import os

        from sheep_xl.excel import udfs

        saved = dict(os.environ)
        os.environ.update(self.environment)
        try:
            for book in self._books:
                for sheet in book._sheets:
                    for (r, c), formula in list(sheet.formulas.items()):
                        match = _CALL.match(formula)
                        if not match:
                            continue
                        args = re.findall(r'"([^"]*)"', match.group(2))
                        result = getattr(udfs, match.group(1))(*args)
                        rows = result if isinstance(result, list) else [[result]]
                        for i, row in enumerate(rows):
                            for j, value in enumerate(row):
                                text = "" if value is None else str(value)
                                if text:
                                    sheet.values[(r + i, c + j)] = text
        finally:
            os.environ.clear()
            os.environ.update(saved)


class FakeEngine(MemoryEngine):
    name = "fake-excel"


def test_a_misbehaving_excel_gets_each_failure_named(tmp_path) -> None:
    engine = install(FakeEngine())
    try:
        impl = FakeApp(engine)
        impl.environment = {}
        engine._apps.insert(0, impl)
        app = xw.App(impl=impl)
        report = run_kit(
            app, report=tmp_path / "fake.md", real_excel=True, platform="windows", timeout=1
        )
    finally:
        uninstall()
    assert report.result("addin.loads").status == "pass"
    assert report.result("addin.compiles").status == "pass"

    raised = report.result("addin.callbacks-resolve")
    assert raised.status == "fail" and "raised" in raised.sentence
    assert "VBA error 1004" in raised.sentence

    repaired = report.result("files.open-without-repair")
    assert repaired.status == "fail" and "events.xlsx" in repaired.sentence
    assert any("[Repaired]" in d for d in repaired.details), repaired.details
    assert not any("report" in d.split(":")[0] for d in repaired.details), "only events.xlsx"

    spill = report.result("functions.spill")
    assert spill.status == "fail" and "came back as text" in spill.sentence, spill
    assert any("instead of" in d for d in spill.details)

    python = report.result("ribbon.run-python")
    assert python.status == "fail" and "raised" in python.sentence
    assert report.result("ribbon.refresh-all").status == "skip"
    assert "ribbon.run-python" in report.result("ribbon.refresh-all").sentence

    page = (tmp_path / "fake.md").read_text(encoding="utf-8")
    for name in ("addin.callbacks-resolve", "files.open-without-repair", "functions.spill"):
        assert f"### `{name}`" in page
    assert json.loads((tmp_path / "fake.json").read_text())["counts"]["fail"] >= 4
    assert not report.ok


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="this machine may have Excel")
def test_without_excel_the_command_says_so_and_fails_nothing(tmp_path) -> None:
    """Where no Excel can start (Linux, CI), the checks that need none still run and pass, the
    rest are skipped, and the exit code (2) says Excel could not be started."""
    import io

    from sheep_xl.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["excel-check", "--report", str(tmp_path / "report.json")], out=out, err=err)
    assert code == 2, err.getvalue()
    assert "0 failed" in out.getvalue()
    assert "xlwings drives Excel only on Windows and macOS" in err.getvalue()
    assert (tmp_path / "report.md").is_file()
