"""Build the report workbooks from the demo data through the command line, as a person would."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from sheep_xl.cli import main
from support import REPO_ROOT


def build_demo_reports(out: Path, now: dt.datetime | str, today: dt.date) -> list[Path]:
    """``sheep-xl templates build --demo`` of the repository's definitions into ``out``, with
    a fixed refresh time and demo "today" (so builds are deterministic); the files, sorted."""
    err = io.StringIO()
    code = main(
        [
            "templates",
            "build",
            "--demo",
            "--out",
            str(out),
            "--now",
            now if isinstance(now, str) else now.isoformat(),
            "--today",
            today.isoformat(),
            "--templates",
            str(REPO_ROOT / "workbook_templates"),
        ],
        err=err,
        out=io.StringIO(),
    )
    assert code == 0, err.getvalue()
    return sorted(out.glob("*.xlsx"))
