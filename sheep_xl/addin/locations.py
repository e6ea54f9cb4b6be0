"""Where the SheepCRM add-in, its settings and its install record go, per platform.

Where things go (the add-in's VBA is xlwings' ``xlwings_custom_addin.bas`` with
``PROJECT_NAME = "sheepcrm"``, so these are xlwings' own locations with that name):

=================  ===========================================================================
Windows            add-in: ``%APPDATA%\\Microsoft\\Excel\\XLSTART\\sheepcrm.xlam`` (the user's
                   XLSTART folder, Excel's ``Application.StartupPath``);
                   settings: ``%USERPROFILE%\\.sheepcrm\\sheepcrm.conf`` (VBA
                   ``GetConfigFilePath``: ``Environ("USERPROFILE") & "\\." & PROJECT_NAME & "\\"
                   & PROJECT_NAME & ".conf"``);
                   install record and backups: ``%USERPROFILE%\\.sheepcrm\\sheep-xl-install``
macOS              add-in: ``~/Library/Group Containers/UBF8T346G9.Office/User Content/Startup/
                   Excel/sheepcrm.xlam``; settings:
                   ``~/Library/Containers/com.microsoft.Excel/Data/sheepcrm.conf`` (VBA
                   ``GetMacDir("$HOME")`` is the sandbox home, as in ``xlwings.USER_CONFIG_FILE``);
                   xlwings' AppleScript helper ``xlwings-<version>.applescript`` in
                   ``~/Library/Application Scripts/com.microsoft.Excel`` (what ``xlwings runpython
                   install`` does; the VBA calls it through ``AppleScriptTask`` for RunPython);
                   install record and backups:
                   ``~/Library/Application Support/sheep-xl/addin-install``
``target=DIR``     Windows layout (also used for ``target`` on Linux): add-in ``DIR/sheepcrm.xlam``,
                   settings ``DIR/.sheepcrm/sheepcrm.conf``, record
                   ``DIR/.sheepcrm/sheep-xl-install``. macOS layout: add-in, settings
                   ``DIR/sheepcrm.conf`` and the AppleScript helper all in ``DIR``, record
                   ``DIR/.sheep-xl-install``.
=================  ===========================================================================
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sheep_xl.addin.names import ADDIN_FILE, ADDIN_PROJECT, CONFIG_NAME, Layout
from sheep_xl.addin.settings_file import KEY_INTERPRETER_MAC, KEY_INTERPRETER_WIN
from sheep_xl.exceptions import InputError

MAC_OFFICE_GROUP = "UBF8T346G9.Office"
MANIFEST_NAME = "manifest.json"

_LAYOUT_NAMES = {"win32": "Windows", "darwin": "macOS"}


@dataclass(frozen=True)
class Locations:
    """Every path install and remove touch, for one layout."""

    system: str  # the platform asked for: "win32", "darwin", "linux", ...
    layout: Layout  # whose folder structure and config conventions are used
    addin_dir: Path
    config_file: Path
    state_dir: Path  # install record and backups
    applescript_dir: Path | None = None  # macOS layout only
    target: Path | None = None

    @property
    def addin_file(self) -> Path:
        return self.addin_dir / ADDIN_FILE

    @property
    def manifest_file(self) -> Path:
        return self.state_dir / MANIFEST_NAME

    @property
    def backup_dir(self) -> Path:
        return self.state_dir / "backup"

    @property
    def interpreter_key(self) -> str:
        return KEY_INTERPRETER_MAC if self.layout == "darwin" else KEY_INTERPRETER_WIN

    @property
    def applescript_file(self) -> Path | None:
        if self.applescript_dir is None:
            return None
        return self.applescript_dir / f"xlwings-{xlwings_version()}.applescript"

    @property
    def description(self) -> str:
        where = f", into {self.target}" if self.target is not None else ""
        return f"{_LAYOUT_NAMES[self.layout]} layout{where}"


def normalise_platform(platform: str | None) -> str:
    name = platform or sys.platform
    if name.startswith("win"):
        return "win32"
    if name.startswith("darwin"):
        return "darwin"
    return name


def locations(
    *,
    target: Path | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Locations:
    """Where the add-in, its settings and the install record go.

    ``platform`` defaults to ``sys.platform``; ``environ`` (default ``os.environ``) supplies
    ``APPDATA``/``USERPROFILE`` (Windows) and ``HOME`` (macOS). Linux has no Excel: without
    ``target`` it is an :class:`InputError`; with ``target`` the Windows layout is used.
    """
    system = normalise_platform(platform)
    env = os.environ if environ is None else environ
    if target is not None:
        root = Path(os.path.abspath(target))
        if system == "darwin":
            return Locations(
                system,
                "darwin",
                root,
                root / CONFIG_NAME,
                root / ".sheep-xl-install",
                applescript_dir=root,
                target=root,
            )
        dot = root / f".{ADDIN_PROJECT}"
        return Locations(
            system, "win32", root, dot / CONFIG_NAME, dot / "sheep-xl-install", target=root
        )
    if system == "win32":
        profile = Path(env.get("USERPROFILE") or Path.home())
        appdata = Path(env.get("APPDATA") or profile / "AppData" / "Roaming")
        dot = profile / f".{ADDIN_PROJECT}"
        return Locations(
            system,
            "win32",
            appdata / "Microsoft" / "Excel" / "XLSTART",
            dot / CONFIG_NAME,
            dot / "sheep-xl-install",
        )
    if system == "darwin":
        home = Path(env.get("HOME") or Path.home())
        library = home / "Library"
        return Locations(
            system,
            "darwin",
            library / "Group Containers" / MAC_OFFICE_GROUP / "User Content" / "Startup" / "Excel",
            library / "Containers" / "com.microsoft.Excel" / "Data" / CONFIG_NAME,
            library / "Application Support" / "sheep-xl" / "addin-install",
            applescript_dir=library / "Application Scripts" / "com.microsoft.Excel",
        )
    raise InputError(
        f"Excel add-ins can only be installed on Windows or macOS, not on {system}; "
        "use --target DIR to install into a folder instead."
    )


def default_interpreter(platform: str | None = None) -> Path:
    """The Python the add-in should start: ``pythonw.exe`` beside this one on Windows (no console
    window, as xlwings expects), this one elsewhere (venv path kept, symlinks not resolved)."""
    exe = Path(sys.executable)
    if normalise_platform(platform) == "win32":
        return exe.with_name("pythonw.exe")
    return exe


def xlwings_version() -> str:
    try:
        return importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def xlwings_applescript_source() -> Path | None:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).parent / f"xlwings-{xlwings_version()}.applescript"
    return source if source.is_file() else None
