"""Files are replaced atomically: a failed write never leaves a half-written file.

The one helper for every file sheep-xl replaces (workbooks, CSV exports, report workbooks, the
settings file, the built add-in and everything the add-in installer writes). It sits below every
other layer, so it knows nothing about workbooks or the add-in: callers choose, with ``errors``,
whether a missing folder or a locked file becomes one of their own one-sentence errors or stays
an ``OSError`` they translate themselves.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sheep_xl.exceptions import SheepError


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
def atomic_path(target: Path, *, errors: type[SheepError] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; replace ``target`` only if the block succeeds.

    The temporary file is always removed; the new file keeps ``target``'s permissions. With
    ``errors`` (e.g. ``WorkbookError``), a missing folder and a target that cannot be replaced
    (``PermissionError``: open in Excel on Windows) raise that error with one sentence; without
    it, the ``OSError`` goes to the caller unchanged.
    """
    target = Path(target)
    directory = Path(os.path.abspath(target)).parent  # beside a link, not beside what it names
    if errors is not None and not directory.is_dir():
        raise errors(
            f"The folder {directory.resolve()} does not exist: create it or choose another."
        )
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _copy_mode(target, tmp)
        try:
            os.replace(tmp, target)
        except PermissionError:
            if errors is None:
                raise
            raise errors(
                f"Cannot replace {target}: it is probably open in Excel; close it and try again."
            ) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes, *, errors: type[SheepError] | None = None) -> None:
    """Replace ``target`` with ``data`` in one step (see :func:`atomic_path`)."""
    with atomic_path(target, errors=errors) as tmp:
        tmp.write_bytes(data)
