"""The command-line commands for what is inside each event: ``event``, ``attendees``,
``orders``, ``tickets``, ``ticket-types``, and ``events --details full``.

Thin shells over `sheep_xl.operations.export_parts`, registered by ``cli.build_parser`` (kept
here so the main command module stays short). A run over many events prints one progress line
per event and says when it waits for sheepCRM's rate limit. Events that could not be fetched
are named on stderr; the file holds the others, and the exit code is 4 so a script notices.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO

from sheep_xl.api.client import SheepClient
from sheep_xl.api.per_event import DEFAULT_CONCURRENCY, EventFailure
from sheep_xl.api.states import ACCEPTED
from sheep_xl.exceptions import EXIT_OK, EXIT_REMOTE, InputError

AddCommand = Callable[..., argparse.ArgumentParser]

# part -> (command, what a row is, default file, help)
COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    ("attendees", "attendees", "attendees.xlsx", "fetch the attendees of one event or of a state"),
    ("orders", "orders", "orders.xlsx", "fetch the orders (one row per currency) of events"),
    ("tickets", "tickets", "tickets.xlsx", "fetch every ticket of events, cancelled ones too"),
    ("ticket-types", "ticket types", "ticket-types.xlsx", "fetch the ticket types of events"),
)


class EventProgress:
    """Events done so far and the current title, on stderr; one self-overwriting line on a
    terminal. Also says when the run waits for the rate limit."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.shown = False

    def __call__(self, done: int, total: int, title: str) -> None:
        self._line(f"SheepCRM: {done:,} of {total:,} events ({title[:60]})")

    def waiting(self, seconds: float) -> None:
        self._line(f"SheepCRM: waiting {seconds:,.0f} s for sheepCRM's rate limit", keep=True)

    def _line(self, text: str, keep: bool = False) -> None:
        if self.quiet:
            return
        if self.tty and not keep:
            self.stream.write("\r\x1b[K" + text)
        else:
            self.stream.write(("\n" if self.tty and self.shown else "") + text + "\n")
        self.stream.flush()
        self.shown = not keep

    def done(self) -> None:
        if self.shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self.shown = False

    def say(self, message: str) -> None:
        if not self.quiet:
            self.stream.write(message + "\n")
            self.stream.flush()


def _report(
    export: object, what: str, args: argparse.Namespace, err: TextIO, progress: EventProgress
) -> int:
    from sheep_xl.operations.export_parts import PartExport

    assert isinstance(export, PartExport)
    progress.done()
    result = export.result
    for warning in result.warnings:
        err.write(f"warning: {warning}\n")
    for failure in export.failures:
        err.write(f"warning: no {what} for {failure}\n")
    if args.out != "-":
        progress.say(f"Wrote {result.rows:,} {what} x {result.columns} columns to {args.out}")
    if export.failures:
        err.write(_failed_sentence(export.failures, export.events, what))
        return EXIT_REMOTE
    return EXIT_OK


def _failed_sentence(failures: list[EventFailure], events: int, what: str) -> str:
    return (
        f"sheep-xl: {len(failures)} of {events} event(s) could not be fetched (named above), "
        f"so their {what} are missing: run the command again later.\n"
    )


def _one_of(args: argparse.Namespace) -> None:
    if args.uid is None and args.state is None:
        raise InputError(
            f"Give one event's uid or --state, e.g. 'sheep-xl {args.command} {args.bucket} "
            "--state future+confirmed'."
        )
    if args.uid is not None and args.state is not None:
        raise InputError("Give one event's uid or --state, not both.")


def cmd_part(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``attendees``, ``orders``, ``tickets``, ``ticket-types``."""
    from sheep_xl.operations.export_parts import export_part

    _one_of(args)
    what = next(w for name, w, _, _ in COMMANDS if name == args.command)
    progress = EventProgress(err, args.quiet)
    with SheepClient(base_url=args.api_url) as client:
        export = export_part(
            client,
            args.bucket,
            args.command,
            args.out,
            uid=args.uid,
            state=args.state,
            columns=args.columns,
            listed=getattr(args, "from_listing", False),
            table_name=args.table,
            concurrency=args.concurrency,
            progress=progress,
            on_wait=progress.waiting,
            stdout=out,
        )
    return _report(export, what, args, err, progress)


def cmd_event(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``event BUCKET UID``: one event's full details, one row."""
    from sheep_xl.operations.export_parts import export_part

    progress = EventProgress(err, args.quiet)
    with SheepClient(base_url=args.api_url) as client:
        export = export_part(
            client,
            args.bucket,
            "event",
            args.out,
            uid=args.uid,
            columns=args.columns,
            table_name=args.table,
            stdout=out,
        )
    return _report(export, "event", args, err, progress)


def cmd_events_full(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``events BUCKET STATE --details full``: each listed event replaced by its full record."""
    from sheep_xl.operations.export_parts import export_part

    progress = EventProgress(err, args.quiet)
    with SheepClient(base_url=args.api_url) as client:
        export = export_part(
            client,
            args.bucket,
            "events",
            args.out,
            state=args.state,
            columns=args.columns,
            details=True,
            table_name=args.table,
            concurrency=args.concurrency,
            progress=progress,
            on_wait=progress.waiting,
            stdout=out,
        )
    return _report(export, "events", args, err, progress)


def cmd_columns_of(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``columns --kind KIND``: the fields of attendees, orders... (``*``: default column)."""
    from sheep_xl.frames.event_catalogues import CONTEXT_NAMES
    from sheep_xl.frames.event_parts import CATALOGUES

    catalogue = CATALOGUES[args.kind]
    for fld in (*catalogue.fields, *catalogue.derived):
        mark = "*" if fld.name in catalogue.defaults else "+" if fld in catalogue.derived else " "
        if fld.name in CONTEXT_NAMES:
            mark = "*"
        out.write(f"{mark} {fld.name:<38} {fld.kind:<9} {fld.title}\n")
    out.write("(* = default column; + = computed by sheep-xl, not part of 'all': ask by name)\n")
    return EXIT_OK


#: What ``columns --kind`` accepts.
COLUMN_KINDS: tuple[str, ...] = (
    "events",
    "event",
    "attendees",
    "orders",
    "tickets",
    "ticket-types",
)


def add_concurrency(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"events fetched at once (default {DEFAULT_CONCURRENCY}; the rate limit is the "
        "real bound)",
    )


def add_part_commands(add: AddCommand) -> None:
    """Register ``event`` and the per-event commands with ``cli.build_parser``'s ``add``."""
    p = add("event", cmd_event, "fetch one event's full details (one row)", api=True)
    p.add_argument("bucket", help="your sheepCRM database name, e.g. example")
    p.add_argument("uid", help="the event's uid (the last part of its URI)")
    p.add_argument("--columns", help="'default', 'all', or comma-separated names or titles")
    p.add_argument("--out", default="event.xlsx", help="FILE.xlsx, FILE.csv or - (stdout)")
    p.add_argument("--table", default="Event", help="Excel table name (default Event)")

    for name, what, default_out, text in COMMANDS:
        p = add(name, cmd_part, text, api=True)
        p.add_argument("bucket", help="your sheepCRM database name, e.g. example")
        p.add_argument("uid", nargs="?", help="one event's uid; or give --state")
        p.add_argument("--state", help=f"every event in this state: {', '.join(ACCEPTED)}")
        p.add_argument("--columns", help="'default', 'all', or comma-separated names or titles")
        p.add_argument("--out", default=default_out, help="FILE.xlsx, FILE.csv or - (stdout)")
        p.add_argument("--table", default=None, help=f"Excel table name (the {what}' default)")
        add_concurrency(p)
        if name == "ticket-types":
            p.add_argument(
                "--from-listing",
                action="store_true",
                help="with --state: read the ticket_types map the events listing holds "
                "(no request per event; sold counts and prices, no stock)",
            )
