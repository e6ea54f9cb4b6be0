"""Render a refreshed report so a person can look at it.

    python -m tools.render_refresh --out /tmp/refresh-pngs

Builds the test suite's report workbook (a sheep-xl table plus a formula sheet with structured
references, a chart, conditional formatting, data validation, a defined name and a user sheet:
tests/support/reportkit.py), refreshes it from a demo server with 50 and then 10 events, and renders
every sheet after each refresh with LibreOffice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.reportkit import make_report  # noqa: E402
from test_refresh import some_events  # noqa: E402

from sheep_xl.api.client import SheepClient  # noqa: E402
from sheep_xl.demo.server import DEMO_API_KEY, DemoServer  # noqa: E402
from sheep_xl.operations.export import export_events  # noqa: E402
from sheep_xl.operations.refresh import refresh_workbook  # noqa: E402
from tools.libreoffice import render_pngs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="refresh-pngs")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    now = dt.datetime(2026, 11, 24, 9, 30)
    server = DemoServer(buckets={"example": some_events(30)})
    with server, SheepClient(api_key=DEMO_API_KEY, base_url=server.url) as client:
        path = out / "report.xlsx"
        export_events(client, "example", "all", str(path), now=now)
        make_report(path)
        for n in (50, 10):
            server.buckets["example"] = some_events(n)
            refresh_workbook(path, client, now=now)
            for picture in render_pngs(path, out / f"after-{n}-rows", dpi=60):
                print(picture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
