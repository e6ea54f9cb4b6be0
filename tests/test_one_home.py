"""Rules that have one home stay there: a new copy of one of them fails here, by name.

Each test reads the package's source (for "who may call what") or runs every writer on the same
input (for "all writers agree"), so a second implementation cannot creep back in unnoticed.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import openpyxl
from support.xlwings_memory import new_book, uninstall

from sheep_xl.tables.queries import QUERIES_HEADER_ROW, QUERY_TITLES, new_query

PACKAGE = Path(__file__).resolve().parent.parent / "sheep_xl"


def sources() -> dict[str, str]:
    return {
        str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8")
        for path in PACKAGE.rglob("*.py")
    }


def callers(pattern: str) -> set[str]:
    return {name for name, text in sources().items() if re.search(pattern, text)}


def test_files_are_replaced_only_by_the_atomic_helper() -> None:
    assert callers(r"os\.replace\(|\.replace\(\s*(out|target|path)\b|mkstemp\(") == {"files.py"}


def test_keys_are_stored_and_removed_only_through_accounts() -> None:
    assert callers(r"\b(store_key|delete_key)\(") <= {"accounts.py", "credentials.py"}


def test_link_schemes_are_defined_once() -> None:
    assert callers(r"[\"']mailto:[\"']") == {"tables/plan.py"}


def test_the_cli_does_not_import_the_excel_entry_points() -> None:
    tree = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    imported = {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {m for m in imported if m.startswith("sheep_xl.excel")}


def test_every_writer_puts_the_queries_table_at_the_same_row(tmp_path, demo_client) -> None:
    from sheep_xl.operations.export import export_events
    from sheep_xl.reports.templates import build_report, builtin_templates
    from sheep_xl.writers.live import write_queries

    export_events(demo_client, "example", "future", str(tmp_path / "events.xlsx"))
    overview = next(t for t in builtin_templates() if t.file == "events-overview.xlsx")
    built = build_report(overview, demo_client, "example", tmp_path, now=dt.datetime(2026, 11, 24))
    for path in (tmp_path / "events.xlsx", built.path):
        ws = openpyxl.load_workbook(path)["SheepCRM"]
        (table,) = ws.tables.values()
        assert table.ref.startswith(f"A{QUERIES_HEADER_ROW}:"), path.name
        assert ws.cell(QUERIES_HEADER_ROW, 1).value == QUERY_TITLES[0]

    book = new_book("Live.xlsx", sheets=("Sheet1",))
    try:
        write_queries(book, [new_query("example", "all")])
        sheet = book.sheets["SheepCRM"]
        assert sheet.range(f"A{QUERIES_HEADER_ROW}").value == QUERY_TITLES[0]
        assert sheet.tables[0].range.row == QUERIES_HEADER_ROW
    finally:
        uninstall()


def test_no_test_imports_conftest() -> None:
    """Shared test helpers live in tests/support; conftest holds only fixtures."""
    tests = Path(__file__).resolve().parent
    offenders = [
        str(path.relative_to(tests))
        for path in tests.rglob("*.py")
        if re.search(r"^\s*(from conftest import|import conftest)", path.read_text("utf-8"), re.M)
    ]
    assert offenders == []
