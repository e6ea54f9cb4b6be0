"""``python -m sheep_xl.demo [--host H] [--port N] [--today YYYY-MM-DD] [--quiet]``."""

from __future__ import annotations

import argparse
from datetime import date

from sheep_xl.demo.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sheep_xl.demo",
        description="Run the local sheepCRM-compatible demo server until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the date the sample data and the states are relative to (default: today)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    serve(args.host, args.port, today=args.today, verbose=not args.quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
