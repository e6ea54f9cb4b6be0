"""Rebuild the README's report pictures from the demo data.

    python -m tools.readme_pictures        # writes docs/images/report-*.png

Builds every report with ``sheep-xl templates build --demo`` into a temporary folder, renders
each sheet with LibreOffice (tools.libreoffice.render_pngs) and keeps one picture per report.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from sheep_xl.cli import main as sheep_xl
from tools.libreoffice import render_pngs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
# report file stem -> the sheet (slug, first page) whose picture the README shows
CHOSEN = {
    "events-overview": "03-summary",
    "upcoming-capacity": "02-upcoming-p1",
    "past-events": "03-summary",
    "live-formulas": "01-cover",
}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        reports = Path(folder) / "reports"
        code = sheep_xl(
            [
                "templates",
                "build",
                "--demo",
                "--out",
                str(reports),
                "--quiet",
                "--today",
                "2026-11-24",
                "--now",
                "2026-11-24T09:00",
            ]
        )
        if code:
            return code
        for stem, page in CHOSEN.items():
            pictures = render_pngs(reports / f"{stem}.xlsx", Path(folder) / "png", dpi=70)
            chosen = next(p for p in pictures if p.stem == f"{stem}-{page}")
            shutil.copyfile(chosen, OUT / f"report-{stem}.png")
            print(OUT / f"report-{stem}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
