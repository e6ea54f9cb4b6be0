"""The ``sheep-xl`` command line: each command is a thin shell over a library function.

Exit codes: 0 ok, 2 bad input, 3 authentication, 4 network or server. Errors are one sentence on
stderr; ``--debug`` adds the traceback. The API key is never a command-line argument: it comes
from ``SHEEP_API_KEY`` or the OS credential store (``sheep-xl login``).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sheep_xl import __version__
from sheep_xl.accounts import sign_in, sign_out
from sheep_xl.api.client import SheepClient
from sheep_xl.api.states import ACCEPTED, STATE_DESCRIPTIONS
from sheep_xl.api.validation import validate_bucket, validate_uid
from sheep_xl.cli_parts import COLUMN_KINDS as _COLUMN_KINDS
from sheep_xl.cli_parts import add_concurrency as _add_concurrency
from sheep_xl.cli_parts import add_part_commands as _add_part_commands
from sheep_xl.config import config_warnings, resolve_api_url
from sheep_xl.credentials import (
    ENV_API_KEY,
    check_credential_store,
    keyring_user,
    validate_api_key,
)
from sheep_xl.exceptions import EXIT_BAD_INPUT, EXIT_OK, EXIT_REMOTE, InputError, SheepError
from sheep_xl.redaction import RedactingFilter

log = logging.getLogger("sheep_xl")
T = TypeVar("T")


class Progress:
    """Pages and rows so far, on stderr; one self-overwriting line on a terminal."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.shown = False

    def __call__(self, pages: int, rows: int) -> None:
        if self.quiet:
            return
        text = f"SheepCRM: page {pages}, {rows:,} events so far"
        if self.tty:
            self.stream.write("\r" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def say(self, message: str) -> None:
        if not self.quiet:
            self.stream.write(message + "\n")
            self.stream.flush()


# --- commands -----------------------------------------------------------------------------


def cmd_events(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.operations.export import export_events

    if getattr(args, "details", "summary") == "full":
        from sheep_xl.cli_parts import cmd_events_full

        return cmd_events_full(args, out, err)
    progress = Progress(err, args.quiet)
    with SheepClient(base_url=args.api_url) as client:
        result = export_events(
            client,
            args.bucket,
            args.state,
            args.out,
            args.columns,
            page_size=args.page_size,
            table_name=args.table,
            progress=progress,
            stdout=out,
        )
    progress.done()
    for warning in result.warnings:
        err.write(f"warning: {warning}\n")
    if args.out != "-":
        progress.say(f"Wrote {result.rows:,} events x {result.columns} columns to {args.out}")
    return EXIT_OK


def cmd_refresh(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.operations.refresh import refresh_workbook

    progress = Progress(err, args.quiet)

    from sheep_xl.cli_parts import EventProgress
    from sheep_xl.operations.sources import Connections, describe_source

    events = EventProgress(err, args.quiet)

    def per_query(query: Any) -> Progress:
        progress.say(f"Refreshing '{query.name}' ({describe_source(query)})")
        return progress

    def per_event(query: Any) -> EventProgress | None:
        return events if query.query_kind.per_event and not query.event_uid else None

    with Connections(api_url=args.api_url) as sources:
        result = refresh_workbook(
            Path(args.workbook),
            sources,
            args.query or None,
            progress=per_query,
            event_progress=per_event,
            overwrite_read_only=args.overwrite_read_only,
        )
    progress.done()
    events.done()
    for warning in result.warnings:
        err.write(f"warning: {warning}\n")
    for item in result.results:
        progress.say(f"{item.query.name}: {item.rows:,} rows in {item.query.sheet}!{item.ref}")
    progress.say(
        f"Refreshed {len(result.results)} quer{'y' if len(result.results) == 1 else 'ies'}"
        f" in {args.workbook}"
    )
    partial = [item.query.name for item in result.results if item.partial]
    if partial:
        err.write(
            f"sheep-xl: some events of {', '.join(repr(n) for n in partial)} could not be "
            "fetched (named above), so their rows are missing: refresh again later.\n"
        )
        return EXIT_REMOTE
    return EXIT_OK


def cmd_login(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Everything that can be wrong is checked before the key is asked for.
    url = resolve_api_url(args.api_url)
    host = keyring_user(url)
    bucket = validate_bucket(args.bucket) if args.bucket is not None else None
    check_credential_store(url)
    if bucket is None:
        bucket = validate_bucket(_ask("Bucket to check the key against (e.g. example): ", err))
    try:
        with warnings.catch_warnings():
            # without a terminal getpass says "input may be echoed" itself, in plain words
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            key = getpass.getpass(f"sheepCRM API key for {host} (input hidden): ", stream=err)
    except EOFError:
        err.write("\n")
        raise InputError(
            "No key was entered because the input is closed: run 'sheep-xl login' in a "
            f"terminal, or set the {ENV_API_KEY} environment variable instead."
        ) from None
    key = validate_api_key(key)  # a line break or space inside: one sentence, nothing sent
    signed_in = sign_in(key, bucket, url, check=not args.no_check)  # an empty key is an error
    err.write(f"Signed in: the key for {signed_in.host} is in the OS credential store.\n")
    return EXIT_OK


def _ask(prompt: str, err: TextIO) -> str:
    """One line from standard input; a closed input (EOF) is an error, not an empty answer."""
    err.write(prompt)
    err.flush()
    line = sys.stdin.readline()
    if not line:
        err.write("\n")
        raise InputError(
            "No bucket was entered because the input is closed: give it with --bucket, "
            "for example 'sheep-xl login --bucket example'."
        )
    return line.strip()


def cmd_logout(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    url = resolve_api_url(args.api_url)
    removed = sign_out(url)
    err.write(
        f"Signed out: removed the key for {keyring_user(url)}.\n"
        if removed
        else f"No stored key for {keyring_user(url)}; nothing to remove.\n"
    )
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.doctor import diagnose, format_report

    checks = diagnose(args.bucket, args.api_url)
    out.write(format_report(checks) + "\n")
    failures = [c for c in checks if not c.ok]
    return max((c.exit_code for c in failures), default=EXIT_OK)


def cmd_states(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    for name in ACCEPTED:
        out.write(f"{name:<10} {STATE_DESCRIPTIONS[name]}\n")
    return EXIT_OK


def cmd_columns(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.frames.catalogue import CATALOGUE, DEFAULT_COLUMNS, DERIVED

    if getattr(args, "kind", "events") != "events":
        from sheep_xl.cli_parts import cmd_columns_of

        return cmd_columns_of(args, out, err)

    for fld in (*CATALOGUE, *DERIVED.values()):
        mark = "*" if fld.name in DEFAULT_COLUMNS else "+" if fld.name in DERIVED else " "
        out.write(f"{mark} {fld.name:<38} {fld.kind:<9} {fld.title}\n")
    out.write(
        "(* = default column; + = computed by sheep-xl, not part of 'all': ask for it by name)\n"
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.demo.data import DEMO_BUCKET
    from sheep_xl.exceptions import WorkbookError
    from sheep_xl.files import check_target
    from sheep_xl.operations.export import STDOUT, export_events, output_kind
    from sheep_xl.operations.sources import Connections
    from sheep_xl.tables.queries import SOURCE_DEMO

    output_kind(args.out)  # a bad output is found before the demo server even starts
    if args.out != STDOUT:
        check_target(Path(args.out), errors=WorkbookError)
    progress = Progress(err, args.quiet)
    with Connections() as sources:
        client = sources.demo()
        progress.say(f"Started the built-in demo sheepCRM server at {client.base_url}")
        result = export_events(
            client,
            DEMO_BUCKET,
            args.state,
            args.out,
            args.columns,
            progress=progress,
            stdout=out,
            source=SOURCE_DEMO,  # refreshing the workbook later goes to the demo again
        )
    progress.done()
    progress.say(
        f"Wrote {result.rows:,} {args.state} demo events x {result.columns} columns to {args.out}"
    )
    return EXIT_OK


def cmd_addin_build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.addin.build import ADDIN_FILE, build_addin
    from sheep_xl.files import check_target

    target = Path(args.out)
    if target.is_dir():
        target = target / ADDIN_FILE
    if target.suffix.lower() != ".xlam":
        raise InputError(
            f"Cannot write {args.out!r}: the add-in must be an .xlam file (or give a folder)."
        )
    check_target(target, errors=InputError)  # before building anything
    path = build_addin(target)
    Progress(err, args.quiet).say(f"Built the SheepCRM add-in: {path}")
    return EXIT_OK


def cmd_addin_install(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import tempfile

    from sheep_xl.addin import install
    from sheep_xl.addin.build import ADDIN_FILE, build_addin

    target = Path(args.target) if args.target else None
    with tempfile.TemporaryDirectory() as folder:
        addin = Path(args.addin) if args.addin else build_addin(Path(folder) / ADDIN_FILE)
        _carry_out(install.plan_install(addin, target=target), args.dry_run, out)
    return EXIT_OK


def _carry_out(plan: Any, dry_run: bool, out: TextIO) -> None:
    """Print an install or remove plan, then apply it unless this is a dry run."""
    from sheep_xl.addin import install

    out.write(install.format_plan(plan) + "\n")
    if not dry_run:
        install.apply(plan)
        out.write(install.format_result(plan) + "\n")


def cmd_addin_remove(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.addin import install

    _carry_out(
        install.plan_remove(target=Path(args.target) if args.target else None), args.dry_run, out
    )
    return EXIT_OK


def cmd_addin_status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.addin import install

    info = install.status(target=Path(args.target) if args.target else None)
    out.write(install.format_status(info) + "\n")
    return EXIT_OK


def cmd_templates_build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import datetime as dt

    from sheep_xl.operations.export import local_now
    from sheep_xl.operations.sources import Connections
    from sheep_xl.reports.templates import (
        build_report,
        builtin_templates,
        find_templates,
        select_templates,
    )
    from sheep_xl.tables.queries import SOURCE_DEMO, SOURCE_SHEEPCRM

    progress = Progress(err, args.quiet)
    available = find_templates(Path(args.templates)) if args.templates else builtin_templates()
    templates = select_templates(available, args.only)  # unknown names: exit 2, nothing built
    chosen = _report_events(templates, args.event, args.demo, bool(args.only))
    now = _iso(args.now, dt.datetime.fromisoformat, "--now", "2026-11-24T09:00")
    now = now or local_now()
    if args.demo:
        from sheep_xl.demo.data import DEMO_BUCKET

        if args.bucket and args.bucket != DEMO_BUCKET:
            raise InputError(
                f"The demo data has only the bucket '{DEMO_BUCKET}': leave out --bucket with "
                "--demo, or leave out --demo to build from your own sheepCRM."
            )
        today = _iso(args.today, dt.date.fromisoformat, "--today", "2026-11-24")
        sources, bucket, source = Connections(demo_today=today), DEMO_BUCKET, SOURCE_DEMO
    else:
        if not args.bucket:
            raise InputError("Give --bucket (your sheepCRM database name), or --demo.")
        sources = Connections(api_url=args.api_url)
        bucket, source = args.bucket, SOURCE_SHEEPCRM
    from sheep_xl.exceptions import WorkbookError
    from sheep_xl.files import check_folder

    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        check_folder(out_dir, errors=WorkbookError)  # says it is a file, not a folder
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbookError(
            f"Cannot create the folder {out_dir} ({exc.strerror or exc}): choose another."
        ) from None
    check_folder(out_dir, errors=WorkbookError)  # writable: checked before any request
    with sources:
        for template in templates:
            if template.needs_event and not chosen.get(template.path.stem):
                stem = template.path.stem
                progress.say(
                    f"Skipped {stem}: it is for one event; build it with --only {stem} --event UID"
                )
                continue
            built = build_report(
                template,
                sources,
                bucket,
                out_dir,
                now=now,
                progress=lambda q: progress,
                source=source,
                event=chosen.get(template.path.stem),
            )
            rows = ", ".join(f"{name} {n:,} rows" for name, n in built.rows.items())
            progress.say(f"Built {built.path}" + (f" ({rows})" if rows else ""))
    progress.done()
    return EXIT_OK


def _report_events(
    templates: Sequence[Any], event: str | None, demo: bool, named: bool
) -> dict[str, str]:
    """The event each report for one event is built for (by template name): ``--event``, or
    with the demo data the template's own demo event. Without either, a report named with
    ``--only`` is an error and one built with all the others is skipped (a bucket's events are
    not guessed at). ``--event`` when no report is for one event is an error too."""
    uid = (event or "").strip()
    if uid:
        validate_uid(uid)
    for_one = [t for t in templates if t.needs_event]
    if uid and not for_one:
        raise InputError(
            "--event chooses the event of a report for one event, but none of the reports to "
            "build is one: add --only event-pack (or the name of your own)."
        )
    chosen: dict[str, str] = {}
    for template in for_one:
        pick = uid or (template.demo_event if demo else "")
        if not pick and named:
            raise InputError(
                f"{template.title} is for one event: give --event UID (the UID column of any "
                "events table, or the last part of the event's address in sheepCRM)."
            )
        if pick:
            chosen[template.path.stem] = pick
    return chosen


def _iso(text: str | None, parse: Callable[[str], T], option: str, example: str) -> T | None:
    """An ISO date or time option; a bad one is bad input, not a crash."""
    if not text:
        return None
    try:
        return parse(text)
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not an ISO date or time such as {example}."
        ) from None


def cmd_addin_refresh_on_open(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.addin import install

    value = "True" if args.switch == "on" else "False"
    path = install.set_user_setting(
        "REFRESH_ON_OPEN", value, target=Path(args.target) if args.target else None
    )
    out.write(f"Refresh on open is {args.switch} for every workbook (setting in {path}).\n")
    return EXIT_OK


def cmd_demo_server(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sheep_xl.demo.server import serve

    serve(args.host, args.port, verbose=not args.quiet)
    return EXIT_OK


# --- parser -------------------------------------------------------------------------------


def _common_options(suppress: bool, api_url: bool = True) -> argparse.ArgumentParser:
    """Options accepted before or after the command; after it they must not reset defaults.

    ``--api-url`` is offered only by commands that talk to sheepCRM (``api_url=True``)."""
    common = argparse.ArgumentParser(add_help=False)
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    if api_url:
        common.add_argument(
            "--api-url",
            help="sheepCRM API address (default: settings, SHEEP_API_URL or "
            "https://sls-api.sheepcrm.com)",
            **({"default": None} | default),
        )
    common.add_argument(
        "-q", "--quiet", action="store_true", help="no progress messages", **default
    )
    common.add_argument(
        "--debug", action="store_true", help="show tracebacks and HTTP details", **default
    )
    return common


def cmd_excel_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``sheep-xl excel-check``: the acceptance kit (sheep_xl.acceptance) on this Excel."""
    from sheep_xl.acceptance.runner import run_from_args

    return run_from_args(args, out, err)


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(suppress=True)
    local = _common_options(suppress=True, api_url=False)  # for commands that stay offline
    parser = argparse.ArgumentParser(
        prog="sheep-xl",
        parents=[common],
        description="sheepCRM event data in Excel. The API key comes from SHEEP_API_KEY or "
        "'sheep-xl login'; it is never given on the command line.",
    )
    parser.add_argument("--version", action="version", version=f"sheep-xl {__version__}")
    sub = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        required=True,
        help="run 'sheep-xl COMMAND --help' for its options",
    )

    def add(
        name: str, func: Callable[..., int], help: str, api: bool = False
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common if api else local], help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("events", cmd_events, "fetch events and write .xlsx, .csv or CSV to stdout", api=True)
    p.add_argument("bucket", help="your sheepCRM database name, e.g. example")
    p.add_argument("state", help=f"one of: {', '.join(ACCEPTED)}")
    p.add_argument("--columns", help="'default', 'all', or comma-separated names or titles")
    p.add_argument("--out", default="events.xlsx", help="FILE.xlsx, FILE.csv or - (stdout)")
    p.add_argument("--page-size", type=int, default=None, help="events per request (250)")
    p.add_argument("--table", default="Events", help="Excel table name (default Events)")
    p.add_argument(
        "--details",
        choices=("summary", "full"),
        default="summary",
        help="'full': replace each listed event by its full record (one request per event)",
    )
    _add_concurrency(p)

    p = add("refresh", cmd_refresh, "refresh the stored queries of a workbook in place", api=True)
    p.add_argument("workbook", help="an .xlsx written by sheep-xl (or with a SheepCRM sheet)")
    p.add_argument("--query", action="append", help="only this query (repeatable)")
    p.add_argument(
        "--overwrite-read-only",
        action="store_true",
        help="refresh the workbook even if it is marked read-only (it stays read-only)",
    )

    p = add("login", cmd_login, "store your API key in the OS credential store", api=True)
    p.add_argument("--bucket", help="bucket to check the key against")
    p.add_argument("--no-check", action="store_true", help="store without checking")
    add("logout", cmd_logout, "remove the stored API key", api=True)
    p = add("doctor", cmd_doctor, "show versions, settings and test the connection", api=True)
    p.add_argument("--bucket", help="also check that the key can read this bucket")
    add("states", cmd_states, "list the accepted states and classifications")
    p = add("columns", cmd_columns, "list every event field, its kind and title")
    p.add_argument(
        "--kind", choices=_COLUMN_KINDS, default="events", help="another kind of record's fields"
    )
    _add_part_commands(add)  # event, attendees, orders, tickets, ticket-types

    p = add("demo", cmd_demo, "run the built-in demo server and build events.xlsx from it")
    p.add_argument("--out", default="events.xlsx", help="output file (default events.xlsx)")
    p.add_argument("--state", default="confirmed", help="state or classification")
    p.add_argument("--columns", help="'default', 'all', or names")

    def group(name: str, text: str) -> Any:
        """A command with actions of its own (``sheep-xl NAME ACTION``)."""
        parent = sub.add_parser(name, help=text, description=text)
        return parent.add_subparsers(
            dest=f"{name}_command",
            metavar="ACTION",
            required=True,
            help=f"run 'sheep-xl {name} ACTION --help' for its options",
        )

    addin_sub = group("addin", "build, install or remove the Excel add-in")
    text = "build sheepcrm.xlam from sources"
    p = addin_sub.add_parser("build", parents=[local], help=text, description=text)
    p.add_argument("--out", default="sheepcrm.xlam", help="file or folder (default sheepcrm.xlam)")
    p.set_defaults(func=cmd_addin_build)
    for action, func, text in (
        ("install", cmd_addin_install, "build the add-in and install it for Excel"),
        ("remove", cmd_addin_remove, "remove the add-in and its settings"),
        ("status", cmd_addin_status, "show whether and where the add-in is installed"),
    ):
        p = addin_sub.add_parser(action, parents=[local], help=text, description=text)
        p.add_argument("--target", help="a folder to use instead of Excel's (for testing)")
        if action != "status":
            p.add_argument("--dry-run", action="store_true", help="only print the plan")
        if action == "install":
            p.add_argument("--addin", help="install this .xlam instead of building one")
        p.set_defaults(func=func)
    text = "turn refreshing marked workbooks when they open on or off"
    p = addin_sub.add_parser("refresh-on-open", parents=[local], help=text, description=text)
    p.add_argument("switch", choices=("on", "off"), help="on or off, for every workbook")
    p.add_argument("--target", help="a folder to use instead of Excel's (for testing)")
    p.set_defaults(func=cmd_addin_refresh_on_open)

    templates_sub = group("templates", "build the report workbooks")
    p = templates_sub.add_parser(
        "build", parents=[common], help="build every report of workbook_templates/ into .xlsx files"
    )
    p.add_argument("--bucket", help="your sheepCRM bucket (needs 'sheep-xl login' first)")
    p.add_argument("--out", default="reports", help="output folder (default reports)")
    p.add_argument("--demo", action="store_true", help="use the built-in demo server")
    p.add_argument(
        "--templates",
        help="a folder of your own *.toml definitions (default: the built-in reports)",
    )
    p.add_argument("--only", action="append", help="only this template (file name without .toml)")
    p.add_argument("--now", help="the refresh time to record, e.g. 2026-11-24T09:00 (default now)")
    p.add_argument("--today", help="with --demo: the demo data's 'today', e.g. 2026-11-24")
    p.add_argument(
        "--event",
        metavar="UID",
        help="the event of a report for one event (event-pack); with --demo the default is a "
        "demo event with orders in two currencies",
    )
    p.set_defaults(func=cmd_templates_build)

    p = add("excel-check", cmd_excel_check, "check sheep-xl against this computer's Excel")
    from sheep_xl.acceptance.options import add_arguments as _excel_check_arguments

    _excel_check_arguments(p)

    p = add("demo-server", cmd_demo_server, "run the demo sheepCRM server until Ctrl-C")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this computer)",
    )
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own usage message
        return int(exc.code or 0) and EXIT_BAD_INPUT
    for name, default in (("api_url", None), ("quiet", False), ("debug", False)):
        if not hasattr(args, name):  # options may come before or after the command
            setattr(args, name, default)
    chosen = _chosen_parser(parser, args)
    if args.api_url is not None and "--api-url" not in chosen._option_string_actions:
        err.write(
            f"sheep-xl: --api-url does not apply to '{chosen.prog}', which does not contact "
            "sheepCRM: leave it out.\n"
        )
        return EXIT_BAD_INPUT
    _configure_logging(args, err)
    for warning in _settings_warnings():
        err.write(f"warning: {warning}\n")
    try:
        with _terminate_as_interrupt():
            return int(args.func(args, out, err))
    except SheepError as exc:
        if args.debug:
            traceback.print_exc(file=err)
        err.write(f"sheep-xl: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        # Ctrl-C or SIGTERM: the atomic writes have removed their temporary files on the way
        # out, and no file was replaced unless its write had finished.
        err.write("sheep-xl: interrupted; nothing was changed.\n")
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except OSError as exc:
        if args.debug:
            traceback.print_exc(file=err)
        err.write(
            f"sheep-xl: {exc.strerror or exc} ({exc.filename or 'file'}): check the path "
            "and that the file is not open elsewhere.\n"
        )
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: still one sentence, the details on request
        if args.debug:
            traceback.print_exc(file=err)
        err.write(
            f"sheep-xl: unexpected {type(exc).__name__}: run again with --debug and "
            "report the output.\n"
        )
        return 1


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a service manager, a closing terminal), raised where the program is."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM takes the path Ctrl-C takes: an exception that unwinds every ``finally`` (so no
    temporary file survives, ``files.atomic_path``) instead of ending the process on the spot.
    Installed only in the main thread (signals are delivered there) and restored afterwards,
    so calling `main` from a test or a host program leaves its handlers as they were."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The (sub-)parser of the command that was given, e.g. the one of ``addin build``."""
    current = parser
    while True:
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        name = getattr(args, subs[0].dest, None) if subs else None
        if name is None or name not in subs[0].choices:
            return current
        current = subs[0].choices[name]


def _settings_warnings() -> list[str]:
    """Warnings about the settings file (unknown keys); a file that cannot be read at all is
    reported by the commands that need it, as an error."""
    try:
        return config_warnings()
    except SheepError:
        return []


def _configure_logging(args: Any, err: TextIO) -> None:
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())  # server text in any log line (urllib3's too)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if args.debug else logging.ERROR)
    # Data warnings are printed by the commands themselves, once.
    logging.getLogger("sheep_xl").setLevel(logging.DEBUG if args.debug else logging.ERROR)


if __name__ == "__main__":
    raise SystemExit(main())
