"""Install, remove and inspect the SheepCRM Excel add-in (``sheep-xl addin install|remove|status``).

Everything is planned first (:func:`plan_install`, :func:`plan_remove`), shown in plain English
(:func:`format_plan`, which is the ``--dry-run`` output and touches nothing) and only then carried
out (:func:`apply`). A failed :func:`apply` undoes the steps it had already done.

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

The settings file is what VBA's ``Write #`` produces and ``Input #`` (``GetConfigFromFile``)
reads: one ``"KEY","value"`` line per setting (CRLF and the ANSI code page on Windows, LF and UTF-8
on macOS, like ``xlwings config create``). Keys are matched case-insensitively and the first match
wins, so install replaces its own keys in place, drops duplicates and blank lines (a blank line
reads as an empty field and would shift every later pair), and keeps every other line. Values can
hold no double quote. Only the interpreter, the UDF module and ``REFRESH_ON_OPEN`` are written;
never an API key or any other secret.

Install records what it created or changed (and backs up what it replaced) so that remove puts
every folder back byte for byte; installing twice changes nothing the second time.
"""

from __future__ import annotations

import codecs
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sheep_xl.addin.build import PROPERTY_XLWINGS, read_built_with
from sheep_xl.exceptions import InputError

PROJECT_NAME = "sheepcrm"
ADDIN_NAME = f"{PROJECT_NAME}.xlam"
CONFIG_NAME = f"{PROJECT_NAME}.conf"
UDF_MODULES = "sheep_xl.excel.udfs"

KEY_INTERPRETER_WIN = "INTERPRETER_WIN"
KEY_INTERPRETER_MAC = "INTERPRETER_MAC"
KEY_UDF_MODULES = "UDF MODULES"
KEY_REFRESH_ON_OPEN = "REFRESH_ON_OPEN"
#: every key install may write; remove takes exactly these back out
OWN_KEYS = (KEY_INTERPRETER_WIN, KEY_INTERPRETER_MAC, KEY_UDF_MODULES, KEY_REFRESH_ON_OPEN)

MAC_OFFICE_GROUP = "UBF8T346G9.Office"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1

Layout = Literal["win32", "darwin"]
Role = Literal["addin", "config", "applescript"]
_LAYOUT_NAMES = {"win32": "Windows", "darwin": "macOS"}
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD")


class InstallError(InputError):
    """The add-in cannot be installed or removed as asked (a file or folder problem)."""


class AddinInUseError(InstallError):
    """The add-in file is open in Excel (Windows refuses to replace or delete it)."""


# --- where things go -------------------------------------------------------------------------


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
        return self.addin_dir / ADDIN_NAME

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
        return self.applescript_dir / f"xlwings-{_xlwings_version()}.applescript"

    @property
    def description(self) -> str:
        where = f", into {self.target}" if self.target is not None else ""
        return f"{_LAYOUT_NAMES[self.layout]} layout{where}"


def _normalise_platform(platform: str | None) -> str:
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
    system = _normalise_platform(platform)
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
        dot = root / f".{PROJECT_NAME}"
        return Locations(
            system, "win32", root, dot / CONFIG_NAME, dot / "sheep-xl-install", target=root
        )
    if system == "win32":
        profile = Path(env.get("USERPROFILE") or Path.home())
        appdata = Path(env.get("APPDATA") or profile / "AppData" / "Roaming")
        dot = profile / f".{PROJECT_NAME}"
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
    if _normalise_platform(platform) == "win32":
        return exe.with_name("pythonw.exe")
    return exe


def _xlwings_version() -> str:
    try:
        return importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _xlwings_applescript_source() -> Path | None:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).parent / f"xlwings-{_xlwings_version()}.applescript"
    return source if source.is_file() else None


# --- the settings file, as VBA's Write # / Input # see it ------------------------------------


def _config_encoding(layout: Layout) -> str:
    """VBA file I/O uses the ANSI code page on Windows ("mbcs" exists only there)."""
    if layout == "darwin":
        return "utf-8"
    try:
        codecs.lookup("mbcs")
    except LookupError:
        return "cp1252"
    return "mbcs"


def _input_fields(text: str) -> list[str]:
    """Split text into fields the way VBA's ``Input #`` reads strings.

    Commas and line ends both end a field; a field that starts with ``"`` runs to the next ``"``
    (no escapes) and anything after it up to the delimiter is ignored; unquoted fields lose
    surrounding spaces and tabs; a blank line is one empty field.
    """
    fields: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            fields.append(text[i + 1 : end])
            i = end + 1
            while i < n and text[i] not in ",\r\n":
                i += 1
        else:
            end = i
            while end < n and text[end] not in ",\r\n":
                end += 1
            fields.append(text[i:end].rstrip(" \t"))
            i = end
        if i < n:
            i += 2 if text.startswith("\r\n", i) else 1
    return fields


def parse_config(data: bytes, layout: Layout = "win32") -> list[tuple[str, str]]:
    """The (key, value) pairs in file order, as ``GetConfigFromFile`` reads them two at a time."""
    fields = _input_fields(data.decode(_config_encoding(layout), "surrogateescape"))
    if len(fields) % 2:
        fields.append("")
    return list(zip(fields[::2], fields[1::2], strict=True))


def config_value(data: bytes, key: str, layout: Layout = "win32") -> str | None:
    """What ``GetConfigFromFile`` returns for ``key``: the first case-insensitive match."""
    for name, value in parse_config(data, layout):
        if name.lower() == key.lower():
            return value
    return None


def _config_line(key: str, value: str) -> str:
    return f'"{key}","{value}"'


def _split_lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _line_key(line: str) -> str:
    fields = _input_fields(line)
    return fields[0] if fields else ""


def _encode_config(lines: list[str], newline: str, layout: Layout) -> bytes:
    if not lines:
        return b""
    return (newline.join(lines) + newline).encode(_config_encoding(layout), "surrogateescape")


def _decode_config(data: bytes, layout: Layout) -> tuple[list[str], str]:
    text = data.decode(_config_encoding(layout), "surrogateescape")
    default = "\n" if layout == "darwin" else "\r\n"
    newline = (
        "\r\n" if "\r\n" in text else "\n" if "\n" in text else "\r" if "\r" in text else default
    )
    return _split_lines(text), newline


def _updated_config(
    existing: bytes | None, settings: dict[str, str], keep: Iterable[str], layout: Layout
) -> bytes:
    """``existing`` with ``settings`` written in place; keys in ``keep`` stay if already set."""
    lines, newline = _decode_config(existing or b"", layout)
    wanted = {key.upper(): key for key in settings}
    keep_upper = {key.upper() for key in keep}
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        upper = _line_key(line).upper()
        if upper not in wanted:
            out.append(line)
        elif upper not in seen:
            seen.add(upper)
            key = wanted[upper]
            out.append(line if upper in keep_upper else _config_line(key, settings[key]))
    out.extend(
        _config_line(key, value) for key, value in settings.items() if key.upper() not in seen
    )
    return _encode_config(out, newline, layout)


def _config_without_own_keys(current: bytes, original: bytes | None, layout: Layout) -> bytes:
    """``current`` with install's keys taken out and the original lines for them put back."""
    own = {key.upper() for key in OWN_KEYS}
    lines, newline = _decode_config(current, layout)
    out = [line for line in lines if _line_key(line).upper() not in own]
    if original:
        original_lines, _ = _decode_config(original, layout)
        out.extend(line for line in original_lines if _line_key(line).upper() in own)
    return _encode_config(out, newline, layout)


def _check_value(key: str, value: str, layout: Layout) -> None:
    if '"' in value or "\r" in value or "\n" in value:
        raise InstallError(
            f"The setting {key} cannot hold a double quote or a line break ({value!r}); "
            "install Python into a folder with a plain name and try again."
        )
    try:
        value.encode(_config_encoding(layout))
    except UnicodeEncodeError:
        raise InstallError(
            f"Excel cannot read the characters in {value!r} from its settings file; "
            "install Python into a folder whose path uses plain letters and try again."
        ) from None


# --- plans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One change to the file system, described for a person."""

    action: Literal["mkdir", "write", "delete", "rmdir"]
    path: Path
    description: str
    data: bytes | None = field(default=None, repr=False)
    details: tuple[str, ...] = ()
    addin: bool = False  # the add-in file itself: a PermissionError means Excel has it open


@dataclass
class InstallPlan:
    """What install or remove would do; :func:`apply` carries it out."""

    action: Literal["install", "remove"]
    locations: Locations
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes_nothing(self) -> bool:
        return not self.steps


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    if path.is_dir():
        raise InstallError(f"{path} is a folder, not a file; move it away and try again.")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InstallError(f"Could not read {path} ({exc.strerror or exc}).") from exc


def _read_manifest(loc: Locations) -> dict[str, Any] | None:
    data = _read(loc.manifest_file)
    if data is None:
        return None
    try:
        manifest = json.loads(data)
        if manifest.get("format") != MANIFEST_FORMAT:
            raise ValueError("unknown format")
        for entry in manifest["files"]:
            _ = entry["role"], entry["path"], entry["existed_before"], entry["backup"]
        _ = list(manifest["created_dirs"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InstallError(
            f"The install record {loc.manifest_file} is damaged; "
            "delete it and run the command again."
        ) from None
    return manifest


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _missing_dirs(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, outermost first."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    return missing[::-1]


def _check_mac_excel_started(loc: Locations) -> None:
    """macOS makes Excel's sandbox folders on Excel's first start; making them ourselves could
    confuse the sandbox, so (unlike ``xlwings config create``) we ask for one start instead."""
    for folder in (loc.config_file.parent.parent, loc.addin_dir.parents[2]):
        if not folder.is_dir():
            raise InstallError(
                f"Excel has not been started on this Mac yet ({folder} is missing): "
                "open Excel once, quit it, and run the install again."
            )


def plan_install(
    addin_file: Path,
    *,
    target: Path | None = None,
    platform: str | None = None,
    interpreter: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> InstallPlan:
    """Plan copying ``addin_file`` into Excel's startup folder (or ``target``) and writing the
    add-in's settings; reads the file system, changes nothing."""
    loc = locations(target=target, platform=platform, environ=environ)
    addin_file = Path(addin_file)
    if not addin_file.is_file():
        raise InstallError(f"The add-in file {addin_file} does not exist; build it first.")
    python = str(interpreter) if interpreter is not None else str(default_interpreter(loc.system))
    plan = InstallPlan("install", loc)
    if loc.layout == "darwin" and loc.target is None:
        _check_mac_excel_started(loc)

    existing_config = _read(loc.config_file)
    refresh = config_value(existing_config or b"", KEY_REFRESH_ON_OPEN, loc.layout)
    settings = {
        loc.interpreter_key: python,
        KEY_UDF_MODULES: UDF_MODULES,
        KEY_REFRESH_ON_OPEN: "True" if refresh is None else refresh,
    }
    for key, value in settings.items():
        _check_value(key, value, loc.layout)
    config_data = _updated_config(existing_config, settings, [KEY_REFRESH_ON_OPEN], loc.layout)

    desired: list[tuple[Role, Path, bytes, str, tuple[str, ...]]] = [
        (
            "addin",
            loc.addin_file,
            addin_file.read_bytes(),
            f"Copy the add-in {addin_file} to {loc.addin_file}",
            (),
        ),
        (
            "config",
            loc.config_file,
            config_data,
            f"Write the add-in settings (interpreter, UDF module) to {loc.config_file}",
            tuple(f"{key} = {value}" for key, value in settings.items()),
        ),
    ]
    script = loc.applescript_file
    if script is not None:
        source = _xlwings_applescript_source()
        if source is None:
            plan.notes.append(
                "xlwings' AppleScript helper was not found in this Python, so the ribbon buttons "
                "will not start Python on a Mac until you run 'xlwings runpython install'."
            )
        else:
            desired.append(
                (
                    "applescript",
                    script,
                    source.read_bytes(),
                    f"Copy xlwings' AppleScript helper (lets the ribbon buttons start Python on a "
                    f"Mac) to {script}",
                    (),
                )
            )

    manifest = _read_manifest(loc)
    recorded = {entry["role"]: entry for entry in manifest["files"]} if manifest else {}
    created_dirs: list[str] = list(manifest["created_dirs"]) if manifest else []
    entries: list[dict[str, Any]] = []
    backups: list[Step] = []
    writes: list[Step] = []
    for role, path, data, description, details in desired:
        current = _read(path)
        entry = recorded.get(role)
        if entry is None or entry["path"] != str(path):
            entry = {
                "role": role,
                "path": str(path),
                "existed_before": current is not None,
                "backup": None,
            }
            if current is not None and current != data:
                backup = loc.backup_dir / path.name
                entry["backup"] = str(backup)
                backups.append(
                    Step("write", backup, f"Back up existing {path} to {backup}", data=current)
                )
        entry = {**entry, "sha256": _sha256(data)}
        entries.append(entry)
        if current != data:
            writes.append(
                Step("write", path, description, data=data, details=details, addin=role == "addin")
            )

    # a file installed before but not wanted now (e.g. no AppleScript helper this time) stays
    # recorded, so that remove still takes it away
    entries.extend(
        entry for role, entry in recorded.items() if role not in {item[0] for item in desired}
    )

    needed = [loc.addin_dir, loc.config_file.parent, loc.state_dir]
    if backups or any(entry["backup"] for entry in entries):
        needed.append(loc.backup_dir)
    if script is not None and any(entry["role"] == "applescript" for entry in entries):
        needed.append(script.parent)
    mkdirs: list[Step] = []
    for folder in needed:
        for missing in _missing_dirs(folder):
            if str(missing) not in created_dirs:
                created_dirs.append(str(missing))
                mkdirs.append(Step("mkdir", missing, f"Create folder {missing}"))

    new_manifest = {
        "format": MANIFEST_FORMAT,
        "layout": loc.layout,
        "created_dirs": created_dirs,
        "files": entries,
    }
    manifest_data = _manifest_bytes(new_manifest)
    plan.steps = [*mkdirs, *backups, *writes]
    if plan.steps or _read(loc.manifest_file) != manifest_data:
        plan.steps.append(
            Step(
                "write",
                loc.manifest_file,
                f"Record what was installed in {loc.manifest_file}, so 'sheep-xl addin remove' can "
                "undo it exactly",
                data=manifest_data,
            )
        )
    if not plan.steps:
        plan.notes.append(
            f"The add-in is already installed and up to date in {loc.addin_dir}; nothing to change."
        )

    if loc.system == _normalise_platform(None) and not Path(python).exists():
        plan.notes.append(
            f"The Python interpreter {python} does not exist; the add-in will not "
            "be able to start Python until it does."
        )
    if loc.layout == "darwin" and re.search(r"\s", python):
        plan.notes.append(
            f"The Python path {python} contains a space, which xlwings' Mac helper does not "
            "quote, so the ribbon buttons will fail: reinstall into a folder without spaces."
        )
    return plan


def plan_remove(
    *,
    target: Path | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> InstallPlan:
    """Plan undoing :func:`plan_install`: files it created go, files it changed get their
    original bytes back (settings edited since install lose only install's own keys)."""
    loc = locations(target=target, platform=platform, environ=environ)
    plan = InstallPlan("remove", loc)
    manifest = _read_manifest(loc)
    if manifest is None:
        if loc.addin_file.is_file():
            plan.steps.append(
                Step("delete", loc.addin_file, f"Delete the add-in {loc.addin_file}", addin=True)
            )
            plan.notes.append(
                f"No install record was found, so the settings in "
                f"{loc.config_file} are left as they are."
            )
        else:
            plan.notes.append(
                f"The SheepCRM add-in is not installed in {loc.addin_dir}; nothing to remove."
            )
        return plan

    expected: dict[str, Path | None] = {
        "addin": loc.addin_file,
        "config": loc.config_file,
        "applescript": loc.applescript_file,
    }
    gone: set[Path] = set()
    for entry in manifest["files"]:
        path = expected.get(entry["role"])
        if path is None or entry["path"] != str(path):
            plan.notes.append(f"Ignoring unexpected install record entry for {entry['path']}.")
            continue
        backup = Path(entry["backup"]) if entry["backup"] else None
        if backup is not None and backup.parent != loc.backup_dir:
            plan.notes.append(f"Ignoring unexpected backup {backup} in the install record.")
            backup = None
        original = _read(backup) if backup is not None else None
        if backup is not None and original is None:
            plan.notes.append(f"The backup {backup} is missing, so {path} cannot be restored.")
        current = _read(path)
        is_addin = entry["role"] == "addin"
        if entry["existed_before"] and backup is None:
            pass  # it already held exactly what install wanted: leave it
        elif (
            current is None or entry["role"] != "config" or _sha256(current) == entry.get("sha256")
        ):
            if original is not None:
                if current != original:
                    plan.steps.append(
                        Step(
                            "write",
                            path,
                            f"Restore your original {path} from {backup}",
                            data=original,
                            addin=is_addin,
                        )
                    )
            elif current is not None:
                plan.steps.append(Step("delete", path, f"Delete {path}", addin=is_addin))
                gone.add(path)
        else:
            edited = _config_without_own_keys(current, original, loc.layout)
            if not edited and not entry["existed_before"]:
                plan.steps.append(Step("delete", path, f"Delete the settings file {path}"))
                gone.add(path)
            else:
                plan.steps.append(
                    Step(
                        "write",
                        path,
                        f"Take the add-in settings out of {path} (it was edited since "
                        "install; your other settings stay)",
                        data=edited,
                    )
                )
        if backup is not None and backup.exists():
            plan.steps.append(Step("delete", backup, f"Delete the backup {backup}"))
            gone.add(backup)
    plan.steps.append(
        Step("delete", loc.manifest_file, f"Delete the install record {loc.manifest_file}")
    )
    gone.add(loc.manifest_file)
    for name in reversed(manifest["created_dirs"]):
        folder = Path(name)
        if not folder.is_dir():
            continue
        if all(child in gone for child in folder.iterdir()):
            plan.steps.append(Step("rmdir", folder, f"Remove folder {folder} (install created it)"))
            gone.add(folder)
        else:
            plan.notes.append(f"Keeping folder {folder} because it holds other files.")
    return plan


def format_plan(plan: InstallPlan) -> str:
    """The plan in plain English: the ``--dry-run`` output."""
    verb = "Install" if plan.action == "install" else "Remove"
    lines = [f"{verb} the SheepCRM add-in ({plan.locations.description}):"]
    if not plan.steps:
        lines.append("  Nothing to do.")
    for number, step in enumerate(plan.steps, 1):
        lines.append(f"  {number}. {step.description}")
        lines.extend(f"       {detail}" for detail in step.details)
    lines.extend(f"Note: {note}" for note in plan.notes)
    return "\n".join(lines)


def format_result(plan: InstallPlan) -> str:
    """One line for after a successful :func:`apply`."""
    loc = plan.locations
    if plan.action == "install":
        if plan.changes_nothing:
            return f"The SheepCRM add-in is already installed in {loc.addin_dir}."
        return (
            f"Installed the SheepCRM add-in in {loc.addin_dir}: restart Excel, then use "
            "Sign in on the SheepCRM ribbon."
        )
    if plan.changes_nothing:
        return f"The SheepCRM add-in is not installed in {loc.addin_dir}; nothing was removed."
    return f"Removed the SheepCRM add-in from {loc.addin_dir}: restart Excel to unload it."


# --- carrying a plan out -----------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file beside ``path`` and replace it in one step."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        if mode is not None:
            os.chmod(temp, mode)
        else:
            # mkstemp makes 0600; a new file gets what the user's umask gives any new file
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


def _undo(done: list[tuple[str, Path, bytes | None]]) -> None:
    for kind, path, data in reversed(done):
        try:
            if kind == "created_dir":
                if path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
            elif kind == "removed_dir":
                path.mkdir(exist_ok=True)
            elif data is None:
                path.unlink(missing_ok=True)
            else:
                _write_atomic(path, data)
        except OSError:
            continue  # best effort: the original error is what the user needs to see


def apply(plan: InstallPlan) -> None:
    """Carry out ``plan``; on failure undo what was done and raise a one-sentence error."""
    done: list[tuple[str, Path, bytes | None]] = []
    for step in plan.steps:
        path = step.path
        try:
            if step.action == "mkdir":
                if not path.is_dir():
                    path.mkdir()
                    done.append(("created_dir", path, None))
            elif step.action == "rmdir":
                if path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
                    done.append(("removed_dir", path, None))
            elif step.action == "write":
                assert step.data is not None
                before = path.read_bytes() if path.is_file() else None
                _write_atomic(path, step.data)
                done.append(("file", path, before))
            elif path.is_file():
                before = path.read_bytes()
                path.unlink()
                done.append(("file", path, before))
        except OSError as exc:
            _undo(done)
            if isinstance(exc, PermissionError) and step.addin:
                raise AddinInUseError(
                    f"Cannot replace or delete {path} because it is in use, most likely open in "
                    "Excel: close Excel completely and run the command again."
                ) from exc
            raise InstallError(
                f"Could not do this step: {step.description} ({exc.strerror or exc}); "
                "nothing was changed."
            ) from exc


# --- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstallStatus:
    """What is installed where, read from the file system."""

    installed: bool
    locations: Locations
    addin_file: Path
    addin_size: int | None
    addin_sha256: str | None
    config_file: Path
    config_exists: bool
    settings: dict[str, str]  # first value per key, as Excel reads it; secret-looking ones masked
    interpreter_key: str
    interpreter: str | None
    interpreter_exists: bool
    recorded: bool  # an install record exists, so remove can undo install exactly
    applescript_file: Path | None = None
    applescript_exists: bool = False
    built_with_xlwings: str | None = None  # recorded in the installed add-in, if it says
    xlwings_here: str = ""  # the xlwings of this environment

    @property
    def xlwings_mismatch(self) -> str | None:
        """One sentence when the installed add-in was built for another xlwings: its worksheet
        functions would fail to load the DLL ("Could not load xlwings64-...dll")."""
        if not self.installed:
            return None
        if self.built_with_xlwings is None:
            return (
                "The installed add-in does not record which xlwings it was built for (it is "
                "older than this sheep-xl): run 'sheep-xl addin install' to rebuild it."
            )
        if self.built_with_xlwings != self.xlwings_here:
            return (
                f"The installed add-in was built for xlwings {self.built_with_xlwings} but this "
                f"environment has xlwings {self.xlwings_here}: run 'sheep-xl addin install' "
                "again to rebuild it (or reinstall sheep-xl, which pins its xlwings)."
            )
        return None


def _masked(key: str, value: str) -> str:
    upper = key.upper()
    if value and any(word in upper for word in _SECRET_WORDS):
        return "*** (hidden)"
    return value


def status(
    *,
    target: Path | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> InstallStatus:
    """Whether the add-in is installed, where, and which settings Excel will read."""
    loc = locations(target=target, platform=platform, environ=environ)
    addin = _read(loc.addin_file)
    config = _read(loc.config_file)
    settings: dict[str, str] = {}
    seen: set[str] = set()
    for key, value in parse_config(config or b"", loc.layout):
        if key and key.upper() not in seen:
            seen.add(key.upper())
            settings[key] = _masked(key, value)
    interpreter = config_value(config or b"", loc.interpreter_key, loc.layout)
    script = loc.applescript_file
    return InstallStatus(
        installed=addin is not None,
        locations=loc,
        addin_file=loc.addin_file,
        addin_size=len(addin) if addin is not None else None,
        addin_sha256=_sha256(addin) if addin is not None else None,
        config_file=loc.config_file,
        config_exists=config is not None,
        settings=settings,
        interpreter_key=loc.interpreter_key,
        interpreter=interpreter,
        interpreter_exists=bool(interpreter) and Path(str(interpreter)).is_file(),
        recorded=loc.manifest_file.is_file(),
        applescript_file=script,
        applescript_exists=script is not None and script.is_file(),
        built_with_xlwings=(
            read_built_with(addin).get(PROPERTY_XLWINGS) if addin is not None else None
        ),
        xlwings_here=_xlwings_version(),
    )


def format_status(info: InstallStatus) -> str:
    """The status in plain English."""
    lines = [f"SheepCRM add-in ({info.locations.description}):"]
    if info.installed:
        lines.append(
            f"  Installed: yes, {info.addin_file} ({info.addin_size:,} bytes, "
            f"sha256 {info.addin_sha256})"
        )
    else:
        lines.append(f"  Installed: no (looked for {info.addin_file})")
    if info.config_exists:
        lines.append(f"  Settings file: {info.config_file}")
        lines.extend(f"    {key} = {value}" for key, value in info.settings.items())
    else:
        lines.append(f"  Settings file: none ({info.config_file})")
    if info.interpreter:
        state = "found" if info.interpreter_exists else "NOT FOUND"
        lines.append(f"  Python ({info.interpreter_key}): {info.interpreter} ({state})")
    else:
        lines.append(f"  Python ({info.interpreter_key}): not set")
    if info.applescript_file is not None:
        state = "found" if info.applescript_exists else "NOT FOUND"
        lines.append(f"  AppleScript helper: {info.applescript_file} ({state})")
    if info.installed:
        problem = info.xlwings_mismatch
        lines.append(
            f"  xlwings: built for {info.built_with_xlwings or 'unknown'}, this environment has "
            f"{info.xlwings_here}" + (f": PROBLEM: {problem}" if problem else " (OK)")
        )
    lines.append(f"  Install record: {'yes' if info.recorded else 'no'}")
    return "\n".join(lines)


def set_user_setting(
    key: str,
    value: str,
    *,
    target: Path | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Set one key of the add-in's user settings file (e.g. ``REFRESH_ON_OPEN``), keeping the
    rest; the file must exist (the add-in is installed). Returns the file's path."""
    loc = locations(target=target, platform=platform, environ=environ)
    current = _read(loc.config_file)
    if current is None:
        raise InstallError(
            f"The add-in's settings file {loc.config_file} does not exist: install the add-in "
            "first (sheep-xl addin install)."
        )
    _check_value(key, value, loc.layout)
    _write_atomic(loc.config_file, _updated_config(current, {key: value}, (), loc.layout))
    return loc.config_file
