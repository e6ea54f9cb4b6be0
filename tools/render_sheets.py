"""Render every sheet of workbooks to PNG files with LibreOffice headless, for a person to look at.

Usage (from the repository root)::

    python tools/render_sheets.py WORKBOOK... --out DIR [--dpi 80] [--gridlines]
    python -m tools.render_sheets WORKBOOK... --out DIR

Prints one PNG path per line. Files are named ``<workbook-stem>-<NN>-<sheet-slug>[-pK].png``.
Run it with the project's virtualenv Python; LibreOffice itself is driven through
``tools/uno_worker.py`` and the system Python (see ``tools.libreoffice``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType


def _harness() -> ModuleType:
    """Import tools.libreoffice both as ``python -m tools.render_sheets`` and as a script."""
    if __package__:
        from . import libreoffice
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tools import libreoffice
    return libreoffice


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="render_sheets",
        description="Render every sheet of each workbook to PNG files via LibreOffice.",
    )
    parser.add_argument("workbooks", nargs="+", type=Path, metavar="WORKBOOK")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--dpi", type=int, default=80, help="resolution (default 80)")
    parser.add_argument(
        "--gridlines", action="store_true", help="print cell grid and row/column headers"
    )
    parser.add_argument(
        "--whole-sheet", action="store_true", help="one page per sheet, sized to fit it"
    )
    parser.add_argument("--skip-hidden", action="store_true", help="leave hidden sheets out")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per workbook (default 120)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    lo = _harness()
    reason = lo.skip_reason(need_pdftoppm=True)
    if reason:
        print(reason, file=sys.stderr)
        return 2
    status = 0
    for workbook in args.workbooks:
        try:
            pngs = lo.render_pngs(
                workbook,
                args.out,
                args.dpi,
                gridlines=args.gridlines,
                include_hidden=not args.skip_hidden,
                whole_sheet=args.whole_sheet,
                timeout=args.timeout,
            )
        except lo.LibreOfficeError as exc:
            print(f"{workbook}: {exc}", file=sys.stderr)
            status = 1
            continue
        for png in pngs:
            print(png)
    return status


if __name__ == "__main__":
    sys.exit(main())
