"""What the checks share: the Excel being checked, a work folder, the in-process demo server,
and the few artifacts several checks use (the built add-in, the written files, the CLI's own
table for a query), made once and kept.

Also the comparisons the checks make, kept here so they are the same everywhere: values as
Excel holds them (`cell_value`), tables compared cell by cell (`compare_tables`), and what a
workbook holds (`Inventory`) read from the file or from Excel."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheep_xl.addin.names import ADDIN_FILE
from sheep_xl.api.client import SheepClient
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer

BUCKET = "example"  # the demo server's bucket
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
ERROR_TEXTS = ("#REF!", "#NAME?", "#VALUE!", "#DIV/0!", "#N/A", "#SPILL!", "#NULL!", "#NUM!")
# Names Excel adds or keeps in its own form; a file's other names must survive a round trip.
_EXCEL_OWN_NAMES = ("_xlnm", "print_area", "print_titles", "_filterdatabase")


@dataclass
class KitContext:
    """One run of the kit. ``app`` is an xlwings ``App`` (or behaves like one); ``real_excel``
    says whether it is Excel itself, so that checks of Excel's own behaviour run."""

    app: Any
    work: Path
    server: DemoServer
    client: SheepClient
    real_excel: bool
    platform: str
    timeout: float = 90.0  # seconds to wait for Excel to do something by itself
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    addin_book: Any = None
    screenshots: list[Path] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    opened: list[Any] = field(default_factory=list)  # books to close at the end
    passed: set[str] = field(default_factory=set)

    # -- Excel ------------------------------------------------------------------------------

    def macro(self, name: str) -> Callable[..., Any]:
        """A macro of the kit's add-in, by name (``app.macro("'sheepcrm.xlam'!SheepProbe")``)."""
        return self.app.macro(f"'{ADDIN_FILE}'!{name}")

    def open_book(self, path: Path, *, events: bool = True) -> Any:
        """Open a file in the kit's Excel with alerts off (a repair then happens silently and
        shows in what the book holds), optionally with application events off, so a marked
        workbook does not refresh on open while a check wants to refresh it itself."""
        self.app.display_alerts = False
        previous = self.app.enable_events
        self.app.enable_events = events
        try:
            book = self.app.books.open(str(path))
        finally:
            self.app.enable_events = previous
        self.opened.append(book)
        return book

    def new_book(self) -> Any:
        book = self.app.books.add()
        self.opened.append(book)
        return book

    def close(self, book: Any) -> None:
        try:
            book.close()
        finally:
            if book in self.opened:
                self.opened.remove(book)

    def close_all(self) -> None:
        for book in reversed(list(self.opened)):
            try:
                self.close(book)
            except Exception:  # a book Excel already closed
                self.opened.remove(book) if book in self.opened else None

    def point_excel_at_demo(self) -> None:
        """Give the kit's Excel (and so the Python it starts: worksheet functions, RunPython)
        the demo server's address and key. An Excel started over COM does not inherit the
        kit's environment, so the add-in's probe sets them in Excel's own (Windows)."""
        if self.artifacts.get("excel_env"):
            return
        for name, value in self.demo_environment().items():
            said = self.macro("SheepProbeSetEnv")(name, value)
            if said:
                from sheep_xl.acceptance.registry import CheckFailed

                raise CheckFailed(f"Excel would not take the setting {name}: {said}.")
        self.artifacts["excel_env"] = True

    # -- the demo server --------------------------------------------------------------------

    def demo_environment(self) -> dict[str, str]:
        no_proxy = ",".join(filter(None, ("127.0.0.1,localhost", os.environ.get("NO_PROXY"))))
        return {
            "SHEEP_API_URL": self.server.url,
            "SHEEP_API_KEY": DEMO_API_KEY,
            "NO_PROXY": no_proxy,
        }

    @contextmanager
    def demo_env(self) -> Iterator[None]:
        """This process's environment pointed at the demo server, as the worksheet functions
        and ribbon actions read it, then put back exactly as it was."""
        saved = {name: os.environ.get(name) for name in self.demo_environment()}
        os.environ.update(self.demo_environment())
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def requests(self) -> int:
        return len(self.server.requests)

    def wait_for(self, condition: Callable[[], bool], seconds: float | None = None) -> bool:
        """Poll ``condition`` while Excel gets on with it (OnTime macros run when it is idle)."""
        deadline = time.monotonic() + (self.timeout if seconds is None else seconds)
        while True:
            if condition():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)

    # -- artifacts --------------------------------------------------------------------------

    def folder(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def addin(self) -> Path:
        """The add-in, built now from this installation, with this Python as its interpreter
        (in its settings sheet), in a temporary folder."""
        if "addin" not in self.artifacts:
            from sheep_xl.addin.build import build_addin_bytes, collect_sources
            from sheep_xl.addin.settings_file import KEY_INTERPRETER_MAC, KEY_INTERPRETER_WIN
            from sheep_xl.files import write_atomic

            sources = collect_sources()
            ours = {KEY_INTERPRETER_WIN, KEY_INTERPRETER_MAC}
            config = tuple((k, v) for k, v in sources.config if k not in ours)
            config += ((KEY_INTERPRETER_WIN, sys.executable), (KEY_INTERPRETER_MAC, sys.executable))
            path = self.folder("addin") / ADDIN_FILE
            write_atomic(path, build_addin_bytes(dataclasses.replace(sources, config=config)))
            self.artifacts["addin"] = path
        return self.artifacts["addin"]

    def cli_table(self, state: str, columns: str | None = None) -> list[list[Any]]:
        """What ``sheep-xl events example STATE`` writes, read back from its workbook: the
        reference every other path (spill, live table) is compared with."""
        key = f"cli:{state}:{columns}"
        if key not in self.artifacts:
            from sheep_xl.operations.export import export_events

            out = self.folder("cli") / f"{state.replace('+', '-')}-{len(self.artifacts)}.xlsx"
            export_events(self.client, BUCKET, state, str(out), columns, now=self.now)
            self.artifacts[key] = read_table_from_file(out, "Events")
        return self.artifacts[key]


# --- values and tables -----------------------------------------------------------------------


def cell_value(value: Any) -> Any:
    """A value as Excel holds it: dates and times as serial numbers, numbers as floats,
    empty text as an empty cell; booleans and text as they are."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
        return round((value - EXCEL_EPOCH).total_seconds() / 86400, 6)
    if isinstance(value, dt.date):
        return float((value - EXCEL_EPOCH.date()).days)
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return round(seconds / 86400, 6)
    if isinstance(value, (int, float)):
        return round(float(value), 6)
    return value


def describe(value: Any) -> str:
    kind = {bool: "boolean", float: "number", str: "text"}.get(type(value), type(value).__name__)
    return "empty" if value is None else f"{kind} {value!r}"


def compare_tables(
    expected: Sequence[Sequence[Any]], seen: Sequence[Sequence[Any]], *, limit: int = 8
) -> list[str]:
    """The differences between two tables, as Excel would hold them, at most ``limit`` of them
    (an empty list when they are the same)."""
    problems: list[str] = []
    if len(expected) != len(seen):
        problems.append(f"{len(seen)} rows instead of {len(expected)}")
    for r, (want_row, got_row) in enumerate(zip(expected, seen, strict=False), 1):
        if len(want_row) != len(got_row):
            problems.append(f"row {r}: {len(got_row)} columns instead of {len(want_row)}")
            continue
        for c, (want, got) in enumerate(zip(want_row, got_row, strict=True), 1):
            a, b = cell_value(want), cell_value(got)
            same = a == b or (
                isinstance(a, float)
                and isinstance(b, float)
                and not isinstance(b, bool)
                and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-5)
            )
            if not same:
                title = str(expected[0][c - 1]) if expected and r > 1 else f"column {c}"
                problems.append(f"row {r}, {title}: {describe(b)} instead of {describe(a)}")
        if len(problems) >= limit:
            break
    return problems[:limit]


def text_instead_of_values(expected: Sequence[Sequence[Any]], seen: Sequence[Sequence[Any]]) -> int:
    """How many cells hold text where a number, date or boolean belongs: the sign of a result
    Excel took as text (a spill through the wrong converter, a locale that misreads numbers)."""
    count = 0
    for want_row, got_row in zip(expected[1:], seen[1:], strict=False):
        for want, got in zip(want_row, got_row, strict=False):
            typed = isinstance(cell_value(want), (bool, float))
            if typed and isinstance(got, str) and got != "":
                count += 1
    return count


def read_table_from_file(path: Path, table: str) -> list[list[Any]]:
    """Header and rows of one table of an .xlsx file (openpyxl)."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    try:
        for ws in wb.worksheets:
            if table in ws.tables:
                cells = ws[ws.tables[table].ref]
                return [[c.value for c in row] for row in cells]
    finally:
        wb.close()
    raise FileNotFoundError(f"{path.name} has no table {table}")


def read_table_from_excel(book: Any, table: str) -> list[list[Any]] | None:
    """Header and rows of one table of a workbook open in Excel, or None without it."""
    for sheet in book.sheets:
        for candidate in sheet.tables:
            if candidate.name.lower() == table.lower():
                values = candidate.range.options(ndim=2).value
                return [list(row) for row in values]
    return None


# --- what a workbook holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """What Excel would lose or change in a repair: sheets, tables, defined names, charts and
    how many cells hold something."""

    sheets: tuple[str, ...]
    tables: tuple[str, ...]
    names: tuple[str, ...]
    charts: int | None  # None: this object model cannot count them
    cells: int
    spills: bool = False  # dynamic-array formulas: Excel fills their spill ranges itself

    def as_text(self) -> str:
        return (
            f"{len(self.sheets)} sheets, {len(self.tables)} tables, {len(self.names)} names, "
            f"{'?' if self.charts is None else self.charts} charts, {self.cells} cells"
        )

    def lost_in(self, other: Inventory) -> list[str]:
        """What ``other`` (the same workbook after Excel) lacks or holds differently."""
        problems = []
        if self.sheets != other.sheets:
            problems.append(f"sheets {list(other.sheets)} instead of {list(self.sheets)}")
        if set(self.tables) != set(other.tables):
            problems.append(f"tables {sorted(other.tables)} instead of {sorted(self.tables)}")
        missing = sorted(set(self.names) - set(other.names))
        if missing:
            problems.append(f"defined names lost: {', '.join(missing)}")
        if None not in (self.charts, other.charts) and self.charts != other.charts:
            problems.append(f"{other.charts} charts instead of {self.charts}")
        if self.cells != other.cells and not (self.spills or other.spills):
            problems.append(f"{other.cells} cells with content instead of {self.cells}")
        return problems


def _plain_name(name: str) -> str | None:
    plain = name.rsplit("!", 1)[-1]
    return None if plain.lower().startswith(_EXCEL_OWN_NAMES) else plain


def inventory_of_file(path: Path) -> Inventory:
    from openpyxl import load_workbook
    from openpyxl.worksheet.formula import ArrayFormula

    wb = load_workbook(path)
    try:
        names = [n for n in wb.defined_names]
        tables: list[str] = []
        charts = cells = 0
        spills = False
        for ws in wb.worksheets:
            names += list(ws.defined_names)
            tables += list(ws.tables)
            charts += len(ws._charts)
            for row in ws.iter_rows(values_only=True):
                cells += sum(1 for v in row if v is not None and v != "")
                spills = spills or any(isinstance(v, ArrayFormula) for v in row)
        plain = sorted(p for p in (_plain_name(n) for n in names) if p)
        return Inventory(
            tuple(wb.sheetnames), tuple(sorted(tables)), tuple(plain), charts, cells, spills
        )
    finally:
        wb.close()


def inventory_in_excel(book: Any) -> Inventory:
    sheets, tables = [], []
    charts: int | None = 0
    cells = 0
    for sheet in book.sheets:
        sheets.append(sheet.name)
        tables += [t.name for t in sheet.tables]
        count = attempt(functools.partial(_count_charts, sheet))
        charts = None if count is None or charts is None else charts + count
        formulas = sheet.used_range.formula
        rows = formulas if isinstance(formulas, tuple) else ((formulas,),)
        cells += sum(1 for row in rows for f in row if f not in ("", None))
    plain = sorted(p for p in (_plain_name(n.name) for n in book.names) if p)
    return Inventory(tuple(sheets), tuple(sorted(tables)), tuple(plain), charts, cells)


def _count_charts(sheet: Any) -> int:
    return len(sheet.charts)


def repair_signs(book: Any) -> list[str]:
    """What Excel shows when it repaired a file on open: "[Repaired]" in the window caption or
    the name (alerts off, Excel repairs silently and says so only there)."""
    signs = []
    caption = attempt(lambda: book.api.Windows(1).Caption)
    for what, text in (("window caption", caption), ("workbook name", book.name)):
        if isinstance(text, str) and "repaired" in text.lower():
            signs.append(f"the {what} says {text!r}")
    return signs


def attempt(get: Callable[[], Any]) -> Any:
    """``get()``, or None where this Excel (or platform) has no such property."""
    try:
        return get()
    except Exception:
        return None
