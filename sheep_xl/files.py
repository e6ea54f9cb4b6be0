"""Files are replaced atomically: a failed write never leaves a half-written file.

The one helper for every file sheep-xl replaces (workbooks, CSV exports, report workbooks, the
settings file, the built add-in and everything the add-in installer writes). It sits below every
other layer, so it knows nothing about workbooks or the add-in: callers choose, with ``errors``,
whether a missing folder or a locked file becomes one of their own one-sentence errors or stays
an ``OSError`` they translate themselves.

What it guarantees, for every caller:

* a run stopped at any moment (an error, Ctrl-C, SIGTERM, even SIGKILL or a power cut) leaves
  the old file or the new one, never half of one: the new file is written beside the target
  and moved over it in one ``os.replace``;
* the temporary file is removed when the block ends in any way Python sees (the CLI turns
  SIGTERM into ``KeyboardInterrupt`` for this); one a killed run left behind
  (``.NAME.XXXXXXXX.tmp``) is removed by the next write of the same target once it is an hour
  old (`remove_stale_temporaries`), so a run writing at the same time is never disturbed;
* a target that is a symbolic link is written through: the file it names is replaced and the
  link stays a link;
* `check_target` / `check_folder` say, before any work, that a target cannot be written (no
  such folder, a folder where a file should be, a folder that is not writable), and
  `is_read_only` whether a person marked a file read-only.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
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


STALE_AFTER_SECONDS = 3600.0  # a temporary file older than this is a dead run's
_TEMP_CHARS = "[a-z0-9_]{8}"  # what tempfile.mkstemp puts between our prefix and suffix


def real_target(target: Path) -> Path:
    """The file a write of ``target`` replaces: the file a symbolic link names (so the link
    stays a link), else ``target`` itself, made absolute."""
    target = Path(os.path.abspath(target))
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def check_target(target: Path, *, errors: type[SheepError]) -> None:
    """Raise ``errors`` with one sentence when ``target`` (a file to be written) cannot be:
    its folder is missing or not writable, or it is a folder itself."""
    target = real_target(Path(target))
    if target.is_dir():
        raise errors(
            f"{target} is a folder: give a file name, for example {target / 'events.xlsx'}."
        )
    check_folder(target.parent, errors=errors)


def check_folder(folder: Path, *, errors: type[SheepError]) -> None:
    """Raise ``errors`` when files cannot be created in ``folder``."""
    folder = Path(os.path.abspath(folder))
    if folder.exists() and not folder.is_dir():
        raise errors(f"{folder} is a file, not a folder: choose a folder to write into.")
    if not folder.is_dir():
        raise errors(f"The folder {folder} does not exist: create it or choose another.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors(
            f"Cannot create files in the folder {folder} (no permission): choose another folder."
        )


def is_read_only(path: Path) -> bool:
    """Whether ``path`` is marked read-only: no write permission for its owner (on Windows,
    the read-only attribute, which ``os.stat`` reports the same way) or none for this user."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not mode & stat.S_IWUSR or not os.access(path, os.W_OK)


def remove_stale_temporaries(target: Path, older_than: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Remove temporary files a killed earlier write of ``target`` left beside it.

    Only our exact pattern (``.NAME.`` + mkstemp's 8 characters + ``.tmp``), only regular files
    (never a link or a folder), only this user's, and only ones not touched for ``older_than``
    seconds, so another run writing the same file right now keeps its temporary file."""
    target = Path(target)
    pattern = re.compile(re.escape(f".{target.name}.") + _TEMP_CHARS + r"\.tmp\Z")
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < older_than:
                continue
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                continue
            os.unlink(entry.path)
        except OSError:
            continue  # gone already, or not ours to remove: never a reason to fail a write
        removed.append(Path(entry.path))
    return removed


@contextmanager
def atomic_path(target: Path, *, errors: type[SheepError] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; replace ``target`` only if the block succeeds.

    The temporary file is always removed; the new file keeps ``target``'s permissions. With
    ``errors`` (e.g. ``WorkbookError``), a missing folder and a target that cannot be replaced
    (``PermissionError``: open in Excel on Windows) raise that error with one sentence; without
    it, the ``OSError`` goes to the caller unchanged. A symbolic link is written through (the
    file it names is replaced, beside which the temporary file is made, on the same disk).
    """
    target = real_target(Path(target))
    directory = target.parent
    if errors is not None and not directory.is_dir():
        raise errors(
            f"The folder {directory.resolve()} does not exist: create it or choose another."
        )
    remove_stale_temporaries(target)
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
