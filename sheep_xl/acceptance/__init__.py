"""The Excel acceptance kit: ``sheep-xl excel-check`` (also ``python -m sheep_xl.acceptance``).

What the test suite cannot prove without Excel (the add-in opening and compiling, the ribbon's
callbacks binding, files opening without repair, worksheet functions spilling, refresh through
the add-in and on open), this kit proves on a real desktop in one run: it starts a hidden Excel
of its own, installs the freshly built add-in into it from a temporary folder (never the user's
XLSTART), serves the built-in demo data in-process (no key, no network) and writes one report,
JSON and Markdown, with pass/fail/skip for every check.

The checks (``checks_*`` modules) are small functions over an xlwings ``App`` (or anything that
behaves like one), registered with their group, whether they need real Excel and the platforms
they apply to (`registry`). Without Excel the same kit runs against any xlwings engine; the
checks that need Excel's own behaviour are then skipped, each with its reason, which is how the
test suite runs the kit's logic on the in-memory engine.
"""

from sheep_xl.acceptance.registry import CHECKS, Check, CheckResult
from sheep_xl.acceptance.runner import main, run_kit

__all__ = ["CHECKS", "Check", "CheckResult", "main", "run_kit"]
