"""The options of ``sheep-xl excel-check``, apart from the kit so the command line can offer
them without loading the checks."""

from __future__ import annotations

import argparse

DEFAULT_REPORT = "excel-check-report.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        default=DEFAULT_REPORT,
        help=f"report file: FILE.json and FILE.md are written (default {DEFAULT_REPORT})",
    )
    parser.add_argument("--only", action="append", help="only this check or group (repeatable)")
    parser.add_argument("--visible", action="store_true", help="show the kit's Excel")
    parser.add_argument("--keep", help="keep the files the checks wrote in this folder")
    parser.add_argument("--list", action="store_true", help="list the checks and stop")
