"""Entry points of the SheepCRM ribbon, run by the add-in's VBA through xlwings' ``RunPython``.

Each button runs one function here in a fresh Python process. The add-in never puts a name or
a path on the command line: it writes a request file (the action, the workbook's full name and
name, the arguments: `read_request`) and runs the constant command
``import sheep_xl.excel.ribbon as sheep_ribbon; sheep_ribbon.run_request('<hex id>')``;
`run_request` finds the workbook in the calling Excel and runs the action (`ACTIONS`). The
functions are thin: they call the library and tell the user what happened in one sentence (an
alert for problems, the status bar for progress and success). The API key only ever travels
between the sign-in dialog shown by Python and the OS credential store.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import xlwings as xw

from sheep_xl import accounts
from sheep_xl.api.states import resolve_state
from sheep_xl.api.validation import validate_bucket, validate_uid
from sheep_xl.config import resolve_api_url
from sheep_xl.credentials import keyring_user
from sheep_xl.epoch import bump_function_epoch
from sheep_xl.exceptions import SheepError, WorkbookError
from sheep_xl.frames.catalogue import field_for
from sheep_xl.frames.columns import resolve_columns
from sheep_xl.frames.query_kinds import kind_of_part
from sheep_xl.operations.in_excel import insert_query, refresh_book
from sheep_xl.operations.sources import Connections
from sheep_xl.tables.queries import PARTIAL, SOURCE_SHEEPCRM, new_query
from sheep_xl.writers.live import (
    StatusBar,
    find_sheet,
    find_table,
    read_queries,
    set_refresh_on_open,
    table_row_at,
)
from sheep_xl.writers.live import (
    refresh_on_open as marker_is_on,
)

log = logging.getLogger(__name__)
TITLE = "SheepCRM"
PREFORMAT_ROWS = 5000  # rows below a live formula formatted for its spill
F = TypeVar("F", bound=Callable[..., Any])


def _book() -> xw.Book:
    return xw.Book.caller()


def _tell(book: xw.Book, message: str, problem: bool = False) -> None:
    try:
        book.app.alert(message, TITLE, mode="critical" if problem else "info")
    except Exception:  # no alert (e.g. in tests): the status bar still says it
        StatusBar(book).show(f"{TITLE}: {message}")


def user_action(func: F) -> F:
    """Every failure becomes one sentence in an alert: never a traceback, never the key."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        book = kwargs.pop("book", None) or _book()
        try:
            return func(book, *args, **kwargs)
        except SheepError as exc:
            _tell(book, str(exc), problem=True)
        except Exception as exc:
            log.exception("unexpected error in %s", func.__name__)
            _tell(
                book,
                f"Unexpected {type(exc).__name__}: use Test connection, and report it "
                "if it happens again.",
                problem=True,
            )
        finally:
            StatusBar(book).clear()
        return None

    return run  # type: ignore[return-value]


# --- refresh ---------------------------------------------------------------------------------


@user_action
def refresh_all(book: xw.Book) -> None:
    """Refresh every stored query, then let the SHEEP_ functions fetch again."""
    bump_function_epoch()  # the add-in recalculates fully after this returns
    if not read_queries(book):
        StatusBar(book).show(f"{TITLE}: no stored tables here; formulas will recalculate.")
        return
    with Connections() as sources:  # sheepCRM, and the built-in demo for demo queries
        outcomes = refresh_book(book, sources)
    _report(book, outcomes)


@user_action
def refresh_sheet(book: xw.Book, sheet_name: str) -> None:
    with Connections() as sources:
        outcomes = refresh_book(book, sources, sheet_name=sheet_name)
    if not outcomes:
        raise WorkbookError(
            f"Sheet '{sheet_name}' has no SheepCRM table: use Events table to add one."
        )
    _report(book, outcomes)


def _report(book: xw.Book, outcomes: list[Any]) -> None:
    failed = [o for o in outcomes if not o.ok]
    if failed:
        _tell(book, " ".join(f"{o.query.name}: {o.message}" for o in failed), problem=True)


@user_action
def refresh_on_open(book: xw.Book, full_name: str = "") -> None:
    """Called by the add-in just after a marked workbook opened (``book``, or the open workbook
    called ``full_name``)."""
    target = _open_book(book, full_name) if full_name else book
    if not marker_is_on(target):
        return
    with Connections() as sources:
        outcomes = refresh_book(target, sources)
    failed = [o for o in outcomes if not o.ok]
    if failed:  # on open, a message on the status bar rather than a dialog
        StatusBar(target).show(f"{TITLE}: {failed[0].query.name}: {failed[0].message}")


def _open_book(caller: xw.Book, full_name: str) -> xw.Book:
    for candidate in caller.app.books:
        if candidate.fullname == full_name:
            return candidate
    return caller


@user_action
def toggle_refresh_on_open(book: xw.Book) -> None:
    on = not marker_is_on(book)
    set_refresh_on_open(book, on)
    state = "on" if on else "off"
    _tell(book, f"Refresh on open is now {state} for {book.name} (save the workbook to keep it).")


# --- insert ----------------------------------------------------------------------------------


def _unique(existing: set[str], base: str) -> str:
    name, n = base, 1
    while name.lower() in existing:
        n += 1
        name = f"{base}{n}"
    return name


def _table_base(state: str) -> str:
    selection = resolve_state(state)
    return re.sub(r"[^A-Za-z0-9_]", "", selection.name.title()) + "Events"


@user_action
def insert_table(book: xw.Book, bucket: str, state: str, columns: str = "default") -> None:
    """Create a sheet, a table and its stored query, and fill it."""
    bucket = validate_bucket(bucket)
    resolve_columns(columns or None)
    tables = {t.name.lower() for s in book.sheets for t in s.tables}
    table = _unique(tables, _table_base(state))
    sheets = {s.name.lower() for s in book.sheets}
    sheet = _unique(sheets, f"{resolve_state(state).name.title()} events")
    query = new_query(bucket, state, columns or "default", sheet=sheet, table=table)
    from sheep_xl.api.client import SheepClient  # requests: only when a query runs

    with SheepClient() as client:
        outcome = insert_query(book, client, query)
    if not outcome.ok:
        raise WorkbookError(outcome.message)
    target = find_table(book, table)
    if target is not None:
        target.parent.activate()


#: The ribbon's "Inside the event" buttons: part -> (the button's label, what a row is).
EVENT_PART_BUTTONS: dict[str, str] = {
    "attendees": "Attendees",
    "orders": "Orders",
    "tickets": "Tickets",
    "ticket-types": "Ticket types",
}
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@user_action
def insert_event_part(book: xw.Book, part: str, sheet_name: str, address: str) -> None:
    """The Attendees, Orders and Tickets buttons: for the event in the selected row of any
    events table (one with a UID or Event UID column), a new sheet with that event's table and
    its stored query, from the same bucket and source as the selected table's own query."""
    if part not in EVENT_PART_BUTTONS:
        raise WorkbookError(f"The add-in asked for an unknown part '{part}'.")
    label = EVENT_PART_BUTTONS[part]
    sheet = find_sheet(book, sheet_name) if sheet_name else None
    row = table_row_at(sheet, address) if sheet is not None and address else None
    if row is None:
        raise WorkbookError(
            f"Select a row of an events table first (any cell of the event's row), then click "
            f"{label}."
        )
    uid = row.get("Event UID", "UID")
    if uid is None or not str(uid).strip():
        raise WorkbookError(
            f"Table '{row.table}' has no event uid in this row: select a row of an events table "
            "with a UID column (add 'uid' to its Columns on the SheepCRM sheet and refresh)."
        )
    uid = validate_uid(str(uid).strip())
    title = str(row.get("Event", "Title") or uid)
    parent = next((q for q in read_queries(book) if q.table.lower() == row.table.lower()), None)
    bucket = parent.bucket if parent is not None else load_default_bucket()
    if not bucket:
        raise WorkbookError(
            f"Table '{row.table}' has no stored query, so SheepCRM cannot tell its bucket: "
            "select a row of a table SheepCRM inserted, or set default_bucket in the settings."
        )
    kind = kind_of_part(part)
    tables = {t.name.lower() for s in book.sheets for t in s.tables}
    sheets = {s.name.lower() for s in book.sheets}
    base_sheet = _SHEET_NAME_BAD.sub("", f"{label} {title}")[:28].strip() or label
    query = new_query(
        bucket,
        "",
        "default",
        sheet=_unique(sheets, base_sheet),
        table=_unique(tables, kind.table),
        kind=kind.name,
        event_uid=uid,
        source=parent.source if parent is not None else SOURCE_SHEEPCRM,
    )
    with Connections() as sources:  # a demo table's events come from the demo again
        outcome = insert_query(book, sources, query)
    if not outcome.ok and not outcome.message.startswith(PARTIAL):
        raise WorkbookError(outcome.message)
    target = find_table(book, query.table)
    if target is not None:
        target.parent.activate()
    if not outcome.ok:  # partial: the rows that arrived are in; say which events are missing
        _tell(book, f"{label} of {title}: {outcome.message}")


def load_default_bucket() -> str:
    from sheep_xl.config import load_settings

    return load_settings().default_bucket or ""


def formula_text(bucket: str, state: str, columns: str = "") -> str:
    """``=SHEEP_EVENTS("bucket","state"[,"columns"])`` with Excel's quoting."""

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    args = [quoted(bucket), quoted(state)]
    if columns and columns.strip().lower() != "default":
        args.append(quoted(columns))
    return f"=SHEEP_EVENTS({','.join(args)})"


@user_action
def insert_formula(
    book: xw.Book, bucket: str, state: str, columns: str, sheet_name: str, address: str
) -> None:
    """Write the live formula at a cell and format the columns it spills into by kind."""
    bucket = validate_bucket(bucket)
    resolve_state(state)
    selection = resolve_columns(columns or None)
    sheet = find_sheet(book, sheet_name) or book.sheets.active
    cell = sheet.range(address)
    for offset, name in enumerate(selection.fields):
        fmt = field_for(name).number_format
        if fmt.code != "General":
            cell.offset(1, offset).resize(PREFORMAT_ROWS, 1).number_format = fmt.code
    cell.formula2 = formula_text(bucket, state, columns)


@user_action
def insert_dialog(
    book: xw.Book, kind: str = "table", sheet_name: str = "", address: str = ""
) -> None:
    """The Events table and Live formula buttons: ask with the Insert events dialog, then insert
    a table on a new sheet or a formula at the active cell (``sheet_name``/``address``, empty
    when the active sheet cannot take one)."""
    from sheep_xl.config import load_settings
    from sheep_xl.excel import insert_dialog as dialog

    target = dialog.Target("formula" if kind == "formula" else "table", sheet_name, address)
    choice = dialog.ask(target, load_settings().default_bucket, prompt=excel_prompt(book))
    if choice is None:
        return
    # the decorated functions take the workbook as book= (see user_action)
    if choice.where == "cell":
        formula: Any = insert_formula
        formula(choice.bucket, choice.state, choice.columns, sheet_name, address, book=book)
    else:
        table: Any = insert_table
        table(choice.bucket, choice.state, choice.columns, book=book)


def excel_prompt(book: xw.Book) -> Callable[[str, str], str | None]:
    """One question at a time where tkinter is missing: Excel's InputBox on Windows, a system
    dialog (osascript, text passed as arguments, never in the script) on a Mac."""

    def windows(question: str, default: str) -> str | None:
        answer = book.app.api.InputBox(question, TITLE, default, Type=2)
        return None if answer is False else str(answer)

    def mac(question: str, default: str) -> str | None:
        import subprocess

        script = (
            "on run argv\n"
            "display dialog (item 1 of argv) default answer (item 2 of argv) "
            'with title "SheepCRM"\n'
            "return text returned of result\n"
            "end run"
        )
        done = subprocess.run(
            ["osascript", "-e", script, question, default],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.rstrip("\n") if done.returncode == 0 else None

    return mac if sys.platform == "darwin" else windows


# --- account ---------------------------------------------------------------------------------


def sign_in_with(key: str, bucket: str, api_url: str | None = None) -> str:
    """Check a key against the API with one small request, then store it. Returns a sentence."""
    signed_in = accounts.sign_in(key, bucket, api_url)
    return f"Signed in to {signed_in.host}: your key is in this computer's credential store."


def ask_for_key(default_bucket: str = "") -> tuple[str, str] | None:
    """A small password dialog (tkinter): the key is typed into Python, never into Excel."""
    import tkinter as tk
    from tkinter import ttk

    result: list[tuple[str, str]] = []
    root = tk.Tk()
    root.title("SheepCRM - Sign in")
    root.attributes("-topmost", True)
    frame = ttk.Frame(root, padding=16)
    frame.grid()
    ttk.Label(frame, text="sheepCRM bucket (database name):").grid(row=0, column=0, sticky="w")
    bucket = ttk.Entry(frame, width=40)
    bucket.insert(0, default_bucket)
    bucket.grid(row=1, column=0, pady=(0, 8))
    ttk.Label(frame, text="API key (from your sheepCRM profile):").grid(row=2, column=0, sticky="w")
    key = ttk.Entry(frame, width=40, show="\u2022")
    key.grid(row=3, column=0)
    key.focus_set()

    def ok(*_: Any) -> None:
        result.append((key.get(), bucket.get()))
        root.destroy()

    buttons = ttk.Frame(frame)
    buttons.grid(row=4, column=0, pady=(12, 0), sticky="e")
    ttk.Button(buttons, text="Cancel", command=root.destroy).grid(row=0, column=0, padx=4)
    ttk.Button(buttons, text="Sign in", command=ok).grid(row=0, column=1)
    root.bind("<Return>", ok)
    root.bind("<Escape>", lambda *_: root.destroy())
    root.mainloop()
    return result[0] if result else None


@user_action
def sign_in(book: xw.Book) -> None:
    from sheep_xl.config import load_settings

    answer = ask_for_key(load_settings().default_bucket)
    if answer is None:
        return
    _tell(book, sign_in_with(*answer))


@user_action
def sign_out(book: xw.Book) -> None:
    url = resolve_api_url()
    removed = accounts.sign_out(url)
    _tell(
        book,
        f"Signed out: the key for {keyring_user(url)} was removed from this computer."
        if removed
        else "You were not signed in on this computer.",
    )


@user_action
def diagnostics(book: xw.Book) -> None:
    from sheep_xl.config import load_settings
    from sheep_xl.doctor import diagnose, format_report

    report = format_report(diagnose(load_settings().default_bucket or None))
    _tell(book, report[:1000])


# --- requests from the add-in ------------------------------------------------------------------

REQUEST_HEADER = "sheepcrm-request 1"
ENV_REQUEST_DIR = "SHEEP_XL_REQUEST_DIR"  # tests: where request files are looked for first
MAC_EXCEL_SANDBOX = Path("~/Library/Containers/com.microsoft.Excel/Data")
STALE_REQUEST_SECONDS = 3600  # request files nobody read (Python never started) are removed
_REQUEST_ID = re.compile(r"[0-9A-F]{1,64}")


@dataclass(frozen=True)
class Request:
    """What the add-in asked for (SheepRun.bas, ``WriteRequest``)."""

    action: str
    workbook: str  # full name of the workbook to act on, "" for none (sign in with none open)
    workbook_name: str
    args: tuple[str, ...] = ()


def encode_value(text: str) -> str:
    """One value line as VBA's ``HexText`` writes it: ``x`` and 4 hex digits per UTF-16 unit."""
    return "x" + text.encode("utf-16-be", "surrogatepass").hex().upper()


def decode_value(line: str) -> str:
    line = line.strip()
    if not line.startswith("x") or len(line) % 4 != 1:
        raise ValueError("a request value line is 'x' and groups of four hex digits")
    return bytes.fromhex(line[1:]).decode("utf-16-be", "replace")


def request_text(request: Request) -> str:
    """The request file's text, exactly as the add-in writes it (for tests and tools)."""
    values = (request.action, request.workbook, request.workbook_name, *request.args)
    return "\r\n".join([REQUEST_HEADER, *map(encode_value, values)]) + "\r\n"


def parse_request(text: str) -> Request:
    lines = text.splitlines()
    if not lines or lines[0].strip() != REQUEST_HEADER:
        raise ValueError("not a SheepCRM request file")
    values = [decode_value(line) for line in lines[1:] if line.strip()]
    if len(values) < 3:
        raise ValueError("a request names an action and a workbook")
    return Request(values[0], values[1], values[2], tuple(values[3:]))


def request_folders() -> list[Path]:
    """Where the add-in writes request files: ``%TEMP%`` on Windows, Excel's sandbox folder on a
    Mac (VBA's ``Environ("HOME")`` there)."""
    folders = []
    if os.environ.get(ENV_REQUEST_DIR):
        folders.append(Path(os.environ[ENV_REQUEST_DIR]))
    if sys.platform == "darwin":
        folders.append(MAC_EXCEL_SANDBOX.expanduser())
    if os.environ.get("TEMP"):
        folders.append(Path(os.environ["TEMP"]))
    folders.append(Path(tempfile.gettempdir()))
    return folders


def request_file_name(request_id: str) -> str:
    return f"sheepcrm-request-{request_id}.txt"


def read_request(request_id: str) -> Request:
    """Read the add-in's request file ``request_id`` and delete it (and stale ones)."""
    if not _REQUEST_ID.fullmatch(request_id):
        raise WorkbookError("The add-in sent a malformed request: run 'sheep-xl addin install'.")
    for folder in request_folders():
        path = folder / request_file_name(request_id)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        try:
            return parse_request(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WorkbookError(
                f"The add-in's request could not be read ({exc}): run 'sheep-xl addin install'."
            ) from None
        finally:
            _remove_request_files(path)
    raise WorkbookError(
        "The add-in's request was not found: run 'sheep-xl addin install' again, then retry."
    )


def _remove_request_files(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
        cutoff = time.time() - STALE_REQUEST_SECONDS
        for old in path.parent.glob(request_file_name("*")):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove request file %s: %s", path, exc)


ACTIONS: dict[str, Callable[..., Any]] = {
    "refresh_all": refresh_all,
    "refresh_sheet": refresh_sheet,
    "refresh_on_open": refresh_on_open,
    "toggle_refresh_on_open": toggle_refresh_on_open,
    "insert_dialog": insert_dialog,
    "insert_table": insert_table,
    "insert_formula": insert_formula,
    "insert_event_part": insert_event_part,
    "sign_in": sign_in,
    "sign_out": sign_out,
    "diagnostics": diagnostics,
}
NEEDS_WORKBOOK = frozenset(ACTIONS) - {"sign_in", "sign_out", "diagnostics"}


def _caller_app() -> xw.App | None:
    """The Excel that ran the add-in: ``Book.caller()`` (the add-in names its own book for
    xlwings, ``--wb``), else the active Excel (a Mac runs one)."""
    try:
        return xw.Book.caller().app
    except Exception:
        log.debug("Book.caller() failed; using the active Excel", exc_info=True)
    try:
        return xw.apps.active
    except Exception:
        return None


@dataclass(frozen=True)
class _NoBook:
    """Stands in for a workbook when none is open (sign in): alerts and the status bar only
    need the app."""

    app: xw.App
    name: str = ""


def _find_book(app: xw.App, full_name: str, name: str) -> xw.Book | None:
    books = list(app.books)
    for book in books:
        if full_name and book.fullname == full_name:
            return book
    for book in books:
        if name and book.name == name:
            return book
    return None


def run_request(request_id: str) -> None:
    """What the add-in runs: read its request file, then run the action for its workbook."""
    app = _caller_app()
    if app is None:
        raise WorkbookError("SheepCRM could not find the Excel that asked for this.")
    caller: Any = _NoBook(app)
    try:
        request = read_request(request_id)
        action = ACTIONS.get(request.action)
        if action is None:
            raise WorkbookError(f"The add-in asked for an unknown action '{request.action}'.")
        book = _find_book(app, request.workbook, request.workbook_name)
        if book is None and request.action in NEEDS_WORKBOOK:
            raise WorkbookError(
                f"The workbook '{request.workbook_name}' is no longer open in Excel."
                if request.workbook_name
                else "Open a workbook first: SheepCRM works on the active workbook."
            )
    except SheepError as exc:
        _tell(caller, str(exc), problem=True)
        return
    action(*request.args, book=book or caller)
