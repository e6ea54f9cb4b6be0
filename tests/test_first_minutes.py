"""What a new user meets in the first ten minutes: signing in, the demo server, the column list,
money and CSV, yes/no cells, printing, help texts and the settings file."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.errors
import openpyxl
import pytest
from keyring.backend import KeyringBackend
from python_calamine import CalamineWorkbook
from support import REPO_ROOT
from support.xlwings_memory import cell_format, cell_value, new_book, uninstall

from sheep_xl.cli import build_parser, main
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer
from sheep_xl.exceptions import PortInUseError
from sheep_xl.frames import events_frame
from sheep_xl.frames.catalogue import BOOLEAN, CATALOGUE, DEFAULT_COLUMNS, DERIVED
from sheep_xl.frames.columns import resolve_columns
from sheep_xl.tables.plan import plan_table
from sheep_xl.writers.live import write_table
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.xlsx_new import (
    NARROW_MARGINS,
    SheetSpec,
    column_inches,
    write_workbook,
)
from sheep_xl.writers.xlsx_refresh import WorkbookEditor


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv), out=out, err=err)
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def last_line(err: str) -> str:
    """The error sentence: the last line of stderr (prompts may come before it)."""
    lines = err.rstrip("\n").split("\n")
    assert "Traceback" not in err
    return lines[-1]


@pytest.fixture
def demo_env(demo: DemoServer, monkeypatch: pytest.MonkeyPatch) -> DemoServer:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    return demo


@pytest.fixture
def no_key_prompt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every hidden key prompt; the tests below must not reach one."""
    prompts: list[str] = []

    def getpass(prompt: str, stream: Any = None) -> str:
        prompts.append(prompt)
        return DEMO_API_KEY

    monkeypatch.setattr("getpass.getpass", getpass)
    return prompts


# --- 1. login: validate first, closed input, no credential store; doctor -----------------


def test_login_checks_bucket_and_api_url_before_asking_for_the_key(
    demo: DemoServer, monkeypatch: pytest.MonkeyPatch, no_key_prompt: list[str]
) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    code, _, err = run("login", "--bucket", "../x")
    assert code == 2 and last_line(err).startswith("sheep-xl: Invalid bucket '../x'")
    code, _, err = run("login", stdin="a/b\n")  # typed at the prompt
    assert code == 2 and "Invalid bucket 'a/b'" in last_line(err)
    monkeypatch.setenv("SHEEP_API_URL", "ftp://sheep.example")
    code, _, err = run("login", "--bucket", "example")
    assert code == 2 and "is not an http(s) URL" in last_line(err)
    assert no_key_prompt == [], "the key was never asked for"
    assert len(demo.requests) == 0


def test_login_with_closed_input_at_the_bucket_prompt(
    demo: DemoServer, monkeypatch: pytest.MonkeyPatch, no_key_prompt: list[str]
) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    code, _, err = run("login", stdin="")  # EOF: nothing can ever be typed
    assert code == 2
    sentence = last_line(err)
    assert sentence.startswith("sheep-xl: No bucket was entered because the input is closed")
    assert "--bucket" in sentence and sentence.count(". ") == 0
    assert no_key_prompt == []


@pytest.mark.skipif(sys.platform == "win32", reason="getpass reads the console on Windows")
def test_login_with_closed_input_at_the_hidden_key_prompt(demo: DemoServer, tmp_path: Path):
    """As a process without a terminal and with stdin closed: one sentence, exit 2."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHEEP_", "PYTHON_KEYRING")) and k != "PYTHONPATH"
    }
    env |= {
        "SHEEP_XL_CONFIG": str(tmp_path / "config.toml"),
        "SHEEP_XL_FUNCTION_EPOCH": str(tmp_path / "functions.epoch"),
        "SHEEP_API_URL": demo.url,
        # a working (in-memory) store, so the process gets as far as the key prompt
        "PYTHON_KEYRING_BACKEND": "conftest.MemoryKeyring",
        "PYTHONPATH": str(REPO_ROOT / "tests"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "sheep_xl.cli", "login", "--bucket", "example"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        start_new_session=True,  # no controlling terminal: getpass falls back to stdin
    )
    assert result.returncode == 2, result.stderr
    assert "sheepCRM API key for" in result.stderr, "it got as far as the key prompt"
    assert "GetPassWarning" not in result.stderr
    sentence = last_line(result.stderr)
    assert sentence.startswith("sheep-xl: No key was entered because the input is closed")
    assert "SHEEP_API_KEY" in sentence


class _EmptyChainer(keyring.backends.chainer.ChainerBackend):
    backends: ClassVar[list[KeyringBackend]] = []  # type: ignore[assignment,misc]


class _NoKeyringBackend(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.NoKeyringError("no backend")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.NoKeyringError("no backend")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.NoKeyringError("no backend")


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "backend",
    [keyring.backends.fail.Keyring, _EmptyChainer, _NoKeyringBackend],
    ids=["fail", "empty-chainer", "raises-NoKeyringError"],
)
def test_login_without_a_credential_store_says_so_before_asking_for_the_key(
    demo: DemoServer,
    monkeypatch: pytest.MonkeyPatch,
    no_key_prompt: list[str],
    restore_keyring: None,
    backend: type[KeyringBackend],
) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    keyring.set_keyring(backend())
    code, _, err = run("login", "--bucket", "example")
    assert code == 3, "authentication: the key cannot be kept (see exceptions.py)"
    assert err.count("\n") == 1, "one sentence"
    sentence = last_line(err)
    assert "no usable OS credential store" in sentence and "SHEEP_API_KEY" in sentence
    if sys.platform.startswith("linux"):
        assert "Secret Service such as gnome-keyring" in sentence
    assert no_key_prompt == [], "said before the key was asked for"
    code, _, err = run("login", stdin="example\n")  # also before the bucket prompt
    assert code == 3 and "Bucket to check" not in err and no_key_prompt == []


def test_doctor_reports_the_credential_store(
    demo: DemoServer, monkeypatch: pytest.MonkeyPatch, restore_keyring: None
) -> None:
    monkeypatch.setenv("SHEEP_API_URL", demo.url)
    code, out, _ = run("doctor")
    line = next(x for x in out.splitlines() if x.startswith("Credential store"))
    assert "MemoryKeyring (usable)" in line and code == 0
    keyring.set_keyring(keyring.backends.fail.Keyring())
    code, out, _ = run("doctor")
    line = next(x for x in out.splitlines() if x.startswith("Credential store"))
    assert "PROBLEM" in line and "fail.Keyring" in line and "SHEEP_API_KEY" in line
    assert code == 3
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)  # the key comes from elsewhere: a note
    code, out, _ = run("doctor", "--bucket", "example")
    line = next(x for x in out.splitlines() if x.startswith("Credential store"))
    assert "PROBLEM" not in line and "SHEEP_API_KEY is set" in line and code == 0


# --- 2. demo-server on a port in use ------------------------------------------------------


def test_demo_server_on_a_port_in_use_is_one_sentence_exit_2(demo: DemoServer) -> None:
    port = demo.port  # the session's demo server holds it
    code, _, err = run("demo-server", "--port", str(port), "--quiet")
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"port {port} is in use" in err and "--port " in err
    assert "file" not in err, "not the generic file message"
    with pytest.raises(PortInUseError):
        DemoServer(port=port).start()
    assert demo.running


# --- 3. columns lists the computed ones too -----------------------------------------------


def test_columns_lists_every_column_including_computed_ones() -> None:
    code, out, _ = run("columns")
    assert code == 0
    lines = out.splitlines()
    listed = {line[2:].split()[0]: line[0] for line in lines[:-1]}
    assert set(listed) == {f.name for f in CATALOGUE} | set(DERIVED)
    assert listed["ticket_income"] == "+" and "Ticket income" in out
    assert all(listed[name] == "*" for name in DEFAULT_COLUMNS)
    assert "+ = computed by sheep-xl" in lines[-1]
    assert resolve_columns(", ".join(listed)).fields == tuple(listed), "each can be asked for"


# --- 4. money to the cent; CSV is UTF-8 with BOM to a file and to stdout ----------------


def test_ticket_income_is_rounded_to_cents_in_csv_and_cells(demo_env, tmp_path: Path) -> None:
    csv_path, xlsx = tmp_path / "money.csv", tmp_path / "money.xlsx"
    columns = ["--columns", "title, ticket_income"]
    assert run("events", "example", "all", "--out", str(csv_path), "-q", *columns)[0] == 0
    assert run("events", "example", "all", "--out", str(xlsx), "-q", *columns)[0] == 0
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        incomes = [row["Ticket income"] for row in csv.DictReader(fh) if row["Ticket income"]]
    assert len(incomes) > 10
    for text in incomes:
        cents = text.partition(".")[2]
        assert len(cents) <= 2, text
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name("Events").to_python()[1:]
    values = [r[1] for r in rows if r[1] != ""]
    assert len(values) == len(incomes)
    assert all(round(v, 2) == v for v in values)
    assert any(isinstance(v, float) and not v.is_integer() for v in values), "pence kept"


def test_csv_to_stdout_is_the_same_bytes_as_csv_to_a_file(demo_env, tmp_path: Path) -> None:
    args = ["events", "example", "future", "-q", "--columns", "title, venues, start date"]
    path = tmp_path / "future.csv"
    assert run(*args, "--out", str(path))[0] == 0
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="ascii", newline="\r\n")  # a console's own choice
    assert main([*args, "--out", "-"], out=stdout, err=io.StringIO()) == 0
    stdout.flush()
    assert raw.getvalue() == path.read_bytes()
    assert raw.getvalue().startswith(b"\xef\xbb\xbfTitle,Venues,Start date\n")
    code, text, _ = run(*args, "--out", "-")  # a text-only stream still gets the BOM
    assert code == 0 and text.encode("utf-8") == path.read_bytes()


# --- 5. yes/no columns carry a boolean number format in every writer -------------------


BOOL_RECORDS = [
    {"title": "A", "cancelled": True, "enquiry": False, "capacity": 5},
    {"title": "B", "cancelled": False, "enquiry": True, "capacity": 6},
]
BOOL_COLUMNS = "title, cancelled, enquiry, capacity"


def _bool_cells_ok(path: Path, sheet: str = "Events") -> None:
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    for title in ("Cancelled", "Enquiry"):
        col = header.index(title) + 1
        values = [r[col - 1] for r in rows[1:]]
        assert values.count(True) and values.count(False), "real booleans, both ways"
        for row in range(2, ws.max_row + 1):
            assert ws.cell(row, col).number_format == '"TRUE";"TRUE";"FALSE"', (title, row)
            assert isinstance(values[row - 2], bool) or values[row - 2] == "", (title, row)
    assert ws.cell(2, header.index("Capacity") + 1).number_format == "#,##0"


def test_bool_columns_have_a_boolean_format_in_new_and_refreshed_workbooks(tmp_path) -> None:
    assert BOOLEAN.code == '"TRUE";"TRUE";"FALSE"'
    new = tmp_path / "new.xlsx"
    write_workbook(new, [SheetSpec("Events", plan_table(events_frame(BOOL_RECORDS, BOOL_COLUMNS)))])
    _bool_cells_ok(new)
    # an old table whose yes/no cells had no format, refreshed in place
    refreshed = tmp_path / "refreshed.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Events"
    ws.append(["Title", "Cancelled", "Enquiry", "Capacity"])
    ws.append(["old", False, False, 1])
    ws.add_table(openpyxl.worksheet.table.Table(displayName="Events", ref="A1:D2"))
    wb.save(refreshed)
    package = XlsxPackage(refreshed)
    editor = WorkbookEditor(package)
    editor.replace_table(plan_table(events_frame(BOOL_RECORDS, BOOL_COLUMNS), "Events"))
    editor.finish()
    package.save(refreshed)
    _bool_cells_ok(refreshed)


def test_bool_columns_have_a_boolean_format_from_the_cli(demo_env, tmp_path) -> None:
    path = tmp_path / "events.xlsx"
    assert run("events", "example", "all", "--out", str(path), "-q")[0] == 0
    _bool_cells_ok(path)


def test_bool_columns_have_a_boolean_format_in_live_excel() -> None:
    try:
        book = new_book("Report.xlsx", sheets=("Sheet1",))
        write_table(book, "Events", plan_table(events_frame(BOOL_RECORDS, BOOL_COLUMNS)))
        sheet = book.sheets["Events"]
        assert cell_value(sheet, "B2") is True and cell_value(sheet, "C2") is False
        assert cell_format(sheet, "B2") == cell_format(sheet, "C3") == BOOLEAN.code
    finally:
        uninstall()


# --- 6. a printed events table stays readable on A4 and Letter -----------------------------

PAPER_INCHES = {"A4": (11.69, 8.27), "Letter": (11.0, 8.5)}  # landscape width, height


def effective_print_scale(ws: Any, paper: str) -> float:
    """What Excel would print at: the fixed scale, or the fit-to-width one (never above 100%),
    from the sheet's page set-up, margins and column widths."""
    width, _ = PAPER_INCHES[paper]
    assert ws.page_setup.orientation == "landscape"
    printable = width - ws.page_margins.left - ws.page_margins.right
    widths = [dim.width for dim in ws.column_dimensions.values() if dim.width]
    total = sum(column_inches(w) for w in widths)
    if ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1:
        return min(1.0, printable / total)
    return (ws.page_setup.scale or 100) / 100


def test_printed_default_events_table_is_readable(demo_env, tmp_path) -> None:
    path = tmp_path / "events.xlsx"
    assert run("events", "example", "all", "--out", str(path), "-q")[0] == 0
    ws = openpyxl.load_workbook(path)["Events"]
    assert ws.max_column == len(DEFAULT_COLUMNS) > 20
    assert ws.page_margins.left == NARROW_MARGINS["left"]
    for paper in PAPER_INCHES:
        scale = effective_print_scale(ws, paper)
        assert scale >= 0.70, (paper, scale)
        assert 11 * scale >= 7.7, "about 8 pt from 11 pt Calibri"
    assert ws.print_title_rows == "$1:$1", "the header row on every page"
    if not ws.sheet_properties.pageSetUpPr.fitToPage:
        assert ws.print_title_cols == "$A:$A", "the title on every page across"
    # a narrow table is still fitted on one page wide
    narrow = tmp_path / "narrow.xlsx"
    assert run("events", "example", "all", "--out", str(narrow), "-q", "--columns", "title")[0] == 0
    ws = openpyxl.load_workbook(narrow)["Events"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1


# --- 7. help everywhere, options only where they apply, unknown settings warned about -----


def _parsers(parser: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_command_and_option_has_help() -> None:
    import argparse

    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {c.dest: c.help for c in action._choices_actions}
                missing += [(*path, n) for n in action.choices if not helps.get(n)]
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append((*path, action.dest))
    assert missing == []


def test_api_url_is_offered_only_where_it_applies(capsys: pytest.CaptureFixture[str]) -> None:
    offline = {"states", "columns", "demo", "demo-server", "addin"}
    for path, parser in _parsers(build_parser()):
        if path and path[0] in offline:
            assert "--api-url" not in parser._option_string_actions, path
    for path in (("events",), ("refresh",), ("login",), ("logout",), ("doctor",)):
        assert "--api-url" in dict(_parsers(build_parser()))[path]._option_string_actions
    code, out, err = run("states", "--api-url", "http://127.0.0.1:9")
    assert code == 2 and out == ""
    assert "unrecognized arguments: --api-url" in capsys.readouterr().err
    code, out, err = run("--api-url", "http://127.0.0.1:9", "columns")  # before the command
    assert code == 2 and out == ""
    assert err == (
        "sheep-xl: --api-url does not apply to 'sheep-xl columns', which does not contact "
        "sheepCRM: leave it out.\n"
    )


def test_an_unknown_setting_is_a_warning_naming_it(demo_env) -> None:
    config = Path(os.environ["SHEEP_XL_CONFIG"])
    config.write_text("colour = 1\nretries = 1\nreed_timeout = 5\n", encoding="utf-8")
    code, out, err = run("states")
    assert code == 0 and "confirmed" in out
    warnings = err.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("warning: The setting 'colour' in ")
    assert "is ignored" in warnings[0] and "api_url, connect_timeout" in warnings[0]
    assert "(did you mean 'read_timeout'?)" in warnings[1]
    code, out, err = run("events", "example", "running", "--out", "-", "-q")
    assert code == 0 and "'colour'" in err and out.startswith("\ufeffTitle")
