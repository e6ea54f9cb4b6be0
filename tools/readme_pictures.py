"""Rebuild the README's report pictures from the demo data.

    python -m tools.readme_pictures        # writes docs/images/report-*.png

Builds every report with ``sheep-xl templates build --demo`` into a temporary folder, renders
each sheet with LibreOffice (tools.libreoffice.render_pngs) and keeps the pages the README
shows (one or two per report).
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
# (report file stem, the sheet page rendered: number-slug[-pK], the picture's name, dpi)
CHOSEN = (
    ("events-overview", "03-summary", "report-events-overview", 70),
    ("upcoming-capacity", "02-upcoming-p1", "report-upcoming-capacity", 70),
    ("past-events", "03-summary", "report-past-events", 70),
    ("live-formulas", "01-cover", "report-live-formulas", 70),
    ("event-pack", "02-summary", "report-event-pack", 70),
    ("event-pack", "04-sign-in", "report-event-pack-sign-in", 70),
    ("attendance-income", "02-summary", "report-attendance-income", 110),
    ("attendance-income", "03-by-event", "report-attendance-income-by-event", 110),
)


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
        rendered: dict[tuple[str, int], list[Path]] = {}
        for stem, page, name, dpi in CHOSEN:
            if (stem, dpi) not in rendered:
                png = Path(folder) / f"png-{dpi}"
                # a sharper picture of a page fitted to its width; every page of a long
                # table is rasterised too, which takes minutes
                rendered[stem, dpi] = render_pngs(
                    reports / f"{stem}.xlsx", png, dpi=dpi, timeout=900
                )
            wanted = (f"{stem}-{page}", f"{stem}-{page}-p1")  # a sheet's page, or its first
            chosen = next(p for p in rendered[stem, dpi] if p.stem in wanted)
            shutil.copyfile(chosen, OUT / f"{name}.png")
            print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
