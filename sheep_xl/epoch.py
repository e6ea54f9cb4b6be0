"""The worksheet functions' epoch: a small file that tells them to look again.

The ribbon's buttons and the ``sheep-xl`` command each run in their own Python process, while the
worksheet functions run in xlwings' UDF server. Signing in or out, and the ribbon's Refresh all,
touch this file (:func:`bump_function_epoch`); each function call compares its contents with the
last it saw (:func:`function_epoch`) and, when they changed, clears its cache and looks up the
key and settings again. This module knows nothing about Excel, so the command line can use it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import platformdirs

ENV_EPOCH_FILE = "SHEEP_XL_FUNCTION_EPOCH"


def epoch_file() -> Path:
    """Where the epoch lives (``SHEEP_XL_FUNCTION_EPOCH`` overrides, e.g. for tests)."""
    override = os.environ.get(ENV_EPOCH_FILE)
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("sheep-xl", appauthor=False)) / "functions.epoch"


def bump_function_epoch() -> None:
    """Tell every worksheet function to look again.

    Written in place, not replaced through a temporary file: the UDF server reads it on every
    call, and Windows refuses to replace a file another process has open. A torn read only
    looks like one more change, which is harmless."""
    path = epoch_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(time.time_ns()))


def function_epoch() -> str:
    """The epoch as last written; empty when there is none yet."""
    try:
        return epoch_file().read_text()
    except OSError:
        return ""
