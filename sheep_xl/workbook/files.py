"""Files are replaced atomically: a failed write never leaves a half-written workbook."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sheep_xl.exceptions import WorkbookError


def _copy_mode(target: Path, tmp: Path) -> None:
    """The new file gets the old file's permissions, or the usual ones for a new file
    (``mkstemp`` makes private files)."""
    if target.exists():
        mode = stat.S_IMODE(target.stat().st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; replace ``target`` only if the block succeeds."""
    target = Path(target)
    directory = target.resolve().parent
    if not directory.is_dir():
        raise WorkbookError(f"The folder {directory} does not exist: create it or choose another.")
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _copy_mode(target, tmp)
        try:
            os.replace(tmp, target)
        except PermissionError:
            raise WorkbookError(
                f"Cannot replace {target}: it is probably open in Excel; close it and try again."
            ) from None
    finally:
        tmp.unlink(missing_ok=True)
