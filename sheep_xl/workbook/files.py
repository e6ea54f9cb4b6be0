"""Files are replaced atomically: a failed write never leaves a half-written workbook.

The helper itself is :func:`sheep_xl.files.atomic_path`; here its problems (a missing folder, a
workbook open in Excel) are :class:`WorkbookError` sentences.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from sheep_xl import files
from sheep_xl.exceptions import WorkbookError


def atomic_path(target: Path) -> AbstractContextManager[Path]:
    """Yield a temporary path beside ``target``; replace ``target`` only if the block succeeds."""
    return files.atomic_path(target, errors=WorkbookError)
