"""Every fault a person's workbook can have ends as one sentence and exit code 2 from the CLI:
never a traceback, never "unexpected"."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from sheep_xl.cli import main
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.exceptions import WorkbookError
from sheep_xl.tables.queries import queries_plan
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.xlsx_refresh import WorkbookEditor

SHEET = "xl/worksheets/sheet1.xml"
BOMB = (
    "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
    + "".join(
        f"<!ENTITY lol{i} '{('&lol' + (str(i - 1) if i > 1 else '') + ';') * 10}'>"
        for i in range(1, 10)
    )
    + "]>"
)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def one_sentence(code: int, err: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("sheep-xl: "), err
    assert "Traceback" not in err and "unexpected" not in err, err


@pytest.fixture(scope="module")
def demo_workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wb") / "events.xlsx"
    code, _, err = run("demo", "--out", str(path), "--quiet")
    assert code == 0, err
    return path


def rewrite(source: Path, target: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(source) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    change(parts)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return target


def _bad_xml(parts: dict[str, bytes]) -> None:
    parts[SHEET] = parts[SHEET][:-40]


def _no_styles(parts: dict[str, bytes]) -> None:
    del parts["xl/styles.xml"]


def _no_workbook(parts: dict[str, bytes]) -> None:
    del parts["xl/workbook.xml"]


def _entities(parts: dict[str, bytes]) -> None:
    body = parts[SHEET].split(b"?>", 1)[-1]  # without its XML declaration, if it has one
    parts[SHEET] = BOMB.encode() + body.replace(b"<sheetData>", b"<sheetData>&lol9;", 1)


def _bad_table_ref(parts: dict[str, bytes]) -> None:
    name = next(n for n in parts if n.startswith("xl/tables/table"))
    text = parts[name].decode()
    start = text.index(' ref="') + 6
    parts[name] = (text[:start] + "NOT A REF" + text[text.index('"', start) :]).encode()


def _huge_part(parts: dict[str, bytes]) -> None:
    parts["xl/padding.bin"] = b"\0" * (40 * 1024**2)  # expands about 1,000 times: a zip bomb


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_bad_xml, "not valid XML"),
        (_no_styles, "styles"),
        (_no_workbook, "has no xl/workbook.xml part"),
        (_entities, "not valid XML"),
        (_bad_table_ref, "cannot read"),
        (_huge_part, "would unpack to"),
    ],
    ids=["bad-xml", "no-styles", "no-workbook", "entities", "bad-ref", "zip-bomb"],
)
def test_damaged_workbook_is_one_sentence(demo_workbook, tmp_path, change, words) -> None:
    path = rewrite(demo_workbook, tmp_path / "broken.xlsx", change)
    before = path.read_bytes()
    code, _, err = run("refresh", str(path))
    one_sentence(code, err)
    assert words in err
    assert path.read_bytes() == before, "nothing was written"


def test_entities_are_never_expanded(demo_workbook, tmp_path) -> None:
    """A small entity would parse; it is neither expanded nor accepted (parts have no DTD)."""

    def small_entity(parts: dict[str, bytes]) -> None:
        body = parts[SHEET].split(b"?>", 1)[-1]
        doctype = b"<!DOCTYPE worksheet [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
        parts[SHEET] = doctype + body.replace(b"<sheetData>", b"<sheetData>&e;", 1)

    path = rewrite(demo_workbook, tmp_path / "lol.xlsx", small_entity)
    with pytest.raises(WorkbookError, match="declares a DTD"):
        XlsxPackage(path).xml(SHEET)
    code, _, err = run("refresh", str(path))
    one_sentence(code, err)
    assert "root:" not in err, "the entity was not resolved into the message"


@pytest.mark.parametrize(
    "content",
    [b"just text, not a zip", b"", b"PK\x03\x04 truncated"],
    ids=["text", "empty", "truncated"],
)
def test_not_a_workbook(tmp_path, content) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(content)
    code, _, err = run("refresh", str(path))
    one_sentence(code, err)


def test_missing_and_folder_workbooks(tmp_path) -> None:
    one_sentence(*run("refresh", str(tmp_path / "none.xlsx"))[::2])
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    one_sentence(*run("refresh", str(folder))[::2])


@pytest.mark.parametrize("table", ["SheepCRM_Queries", "sheepcrm_refreshonopen", "A1", "has space"])
def test_events_table_name_that_cannot_be_used(demo, monkeypatch, tmp_path, table) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    code, _, err = run(
        "events", "example", "all", "--table", table, "--out", str(tmp_path / "x.xlsx")
    )
    one_sentence(code, err)
    assert len(demo.requests) == 0, "refused before any request"
    assert list(tmp_path.iterdir()) == []


def _stored_queries(demo_workbook: Path, target: Path, tables: list[str]) -> Path:
    shutil.copy(demo_workbook, target)
    package = XlsxPackage(target)
    editor = WorkbookEditor(package)
    (query,) = editor.read_queries()
    queries = [
        query.__class__(**{**query.__dict__, "name": f"Q{i}", "table": table})
        for i, table in enumerate(tables)
    ]
    editor.replace_table(queries_plan(queries))
    editor.finish()
    package.save(target)
    return target


@pytest.mark.parametrize(
    "tables",
    [["Events", "EVENTS"], ["Events", "SheepCRM_Queries"], ["Events", "sheepcrm_refreshonopen"]],
    ids=["same-table-other-case", "the-queries-table", "the-marker-name"],
)
def test_stored_queries_whose_tables_collide(demo_workbook, tmp_path, tables) -> None:
    path = _stored_queries(demo_workbook, tmp_path / "q.xlsx", tables)
    before = path.read_bytes()
    code, _, err = run("refresh", str(path))
    one_sentence(code, err)
    assert path.read_bytes() == before
