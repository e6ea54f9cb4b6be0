"""Demo workbooks stay demo workbooks: their queries record the built-in demo as their source,
refresh from it with no key and no server started by hand, and real queries never go there."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sheep_xl.cli import main
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.exceptions import WorkbookError
from sheep_xl.operations.refresh import workbook_queries
from sheep_xl.tables.queries import (
    QUERY_TITLES,
    SOURCE_DEMO,
    SOURCE_SHEEPCRM,
    StoredQuery,
    parse_queries,
)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_demo_command_workbook_refreshes_from_the_demo_without_a_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a user's own folder, not the repository
    code, _, err = run("demo", "--out", "events.xlsx")
    assert code == 0, err
    (query,) = workbook_queries(tmp_path / "events.xlsx")
    assert query.source == SOURCE_DEMO and query.bucket == "example"

    code, _, err = run("refresh", "events.xlsx")  # no SHEEP_API_KEY, an empty keyring
    assert code == 0, err
    assert "built-in demo data" in err
    (query,) = workbook_queries(tmp_path / "events.xlsx")
    assert query.status == "OK" and query.rows and query.rows > 0


def test_templates_build_demo_from_any_folder_then_refresh(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run("templates", "build", "--demo", "--out", "R")
    assert code == 0, err
    built = sorted(p.name for p in (tmp_path / "R").glob("*.xlsx"))
    assert built == [
        "attendance-income.xlsx",
        "event-pack.xlsx",
        "events-overview.xlsx",
        "live-formulas.xlsx",
        "past-events.xlsx",
        "upcoming-capacity.xlsx",
    ]
    report = tmp_path / "R" / "upcoming-capacity.xlsx"
    assert {q.source for q in workbook_queries(report)} == {SOURCE_DEMO}
    code, _, err = run("refresh", str(report))
    assert code == 0, err
    assert "Refreshing 'Upcoming' (built-in demo data, example, future+confirmed)" in err


def test_a_sheepcrm_query_never_goes_to_the_demo(demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    assert run("events", "example", "future", "--out", "real.xlsx")[0] == 0
    (query,) = workbook_queries(tmp_path / "real.xlsx")
    assert query.source == SOURCE_SHEEPCRM

    monkeypatch.delenv("SHEEP_API_KEY")
    demo.requests.clear()
    before = (tmp_path / "real.xlsx").read_bytes()
    code, _, err = run("refresh", "real.xlsx")
    assert code == 3, "no key: an authentication error, not demo data"
    assert "demo" not in err.lower()
    assert (tmp_path / "real.xlsx").read_bytes() == before
    assert len(demo.requests) == 0


def test_demo_with_another_bucket_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run("templates", "build", "--demo", "--bucket", "mine", "--out", "R")
    assert code == 2 and "only the bucket 'example'" in err
    assert not (tmp_path / "R").exists()


def test_unknown_template_name_lists_the_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run("templates", "build", "--demo", "--only", "nope", "--out", "R")
    assert code == 2
    assert "no report template named 'nope'" in err
    assert "events-overview, live-formulas, past-events, upcoming-capacity" in err
    assert err.count("\n") == 1


def test_source_column_is_read_in_any_case_and_defaults_to_sheepcrm():
    header = list(QUERY_TITLES)
    row = ["Q", "Events", "Events", "DEMO", "example", "all", "default"]
    row += [None] * (len(header) - len(row))
    (query,) = parse_queries(header, [row])
    assert query.source == SOURCE_DEMO
    # An older workbook without the column: its queries are sheepCRM queries.
    old_header = [h for h in header if h != "Source"]
    old_row = ["Q", "Events", "Events", "example", "all"] + [None] * (len(old_header) - 5)
    (query,) = parse_queries(old_header, [old_row])
    assert query.source == SOURCE_SHEEPCRM


def test_an_unknown_source_is_a_clear_error():
    query = StoredQuery("Q", "Events", "Events", "example", "all", source="sheepcrm-test")
    with pytest.raises(WorkbookError, match="is not one of sheepCRM, demo"):
        query.validate()


def test_demo_cover_says_it_is_demo_data(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("templates", "build", "--demo", "--only", "past-events", "--out", "R")[0] == 0
    from python_calamine import CalamineWorkbook

    cover = CalamineWorkbook.from_path(str(tmp_path / "R" / "past-events.xlsx"))
    text = " ".join(str(v) for row in cover.get_sheet_by_name("Cover").to_python() for v in row)
    assert "built-in demo data, not your sheepCRM" in text
    assert "no key needed" in text


def test_bad_now_is_bad_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run("templates", "build", "--demo", "--now", "yesterday", "--out", "R")
    assert code == 2 and "--now 'yesterday' is not an ISO date or time" in err
