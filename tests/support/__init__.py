"""Helpers shared by several test modules (imported as ``support.*``): the fault-injecting
HTTP server, the in-memory xlwings engine, report fixtures, OOXML checks, and the constants below.

Test modules import from here, never from ``conftest`` (which holds only fixtures).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The official spec lives beside the project, never inside it (see README, "Tests").
SPEC_PATH = Path(
    os.environ.get("SHEEP_OPENAPI_SPEC", REPO_ROOT.parent / "shared" / "sheepcrm-openapi.yaml")
)
# The demo data's "today" in tests, so results are stable.
DEMO_TODAY = dt.date(2026, 11, 24)
