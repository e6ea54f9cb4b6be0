"""Install, remove and inspect the SheepCRM Excel add-in (``sheep-xl addin install|remove|status``).

Everything is planned first (:func:`plan_install`, :func:`plan_remove`), shown in plain English
(:func:`format_plan`, which is the ``--dry-run`` output and touches nothing) and only then carried
out (:func:`apply`). A failed :func:`apply` undoes the steps it had already done.

Where things go is :mod:`sheep_xl.addin.locations`; the settings file's format, as VBA reads it,
is :mod:`sheep_xl.addin.settings_file`. Install writes only the interpreter, the UDF module and
``REFRESH_ON_OPEN`` into the settings file; never an API key or any other secret.

Install records what it created or changed (and backs up what it replaced) so that remove puts
every folder back byte for byte; installing twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sheep_xl.addin.build import PROPERTY_XLWINGS, read_built_with
from sheep_xl.addin.locations import (
    MAC_OFFICE_GROUP,
    MANIFEST_NAME,
    Locations,
    default_interpreter,
    locations,
    normalise_platform,
    xlwings_applescript_source,
    xlwings_version,
)
from sheep_xl.addin.names import ADDIN_FILE, ADDIN_PROJECT, CONFIG_NAME, UDF_MODULE, Layout
from sheep_xl.addin.settings_file import (
    KEY_INTERPRETER_MAC,
    KEY_INTERPRETER_WIN,
    KEY_REFRESH_ON_OPEN,
    KEY_UDF_MODULES,
    check_value,
    config_value,
    config_without_keys,
    parse_config,
    updated_config,
)
from sheep_xl.exceptions import AddinInUseError, InstallError
from sheep_xl.files import write_atomic

__all__ = [
    "ADDIN_FILE",
    "ADDIN_PROJECT",
    "CONFIG_NAME",
    "KEY_INTERPRETER_MAC",
    "KEY_INTERPRETER_WIN",
    "KEY_REFRESH_ON_OPEN",
    "KEY_UDF_MODULES",
    "MAC_OFFICE_GROUP",
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "OWN_KEYS",
    "UDF_MODULE",
    "AddinInUseError",
    "InstallError",
    "InstallPlan",
    "InstallStatus",
    "Layout",
    "Locations",
    "Role",
    "Step",
    "apply",
    "config_value",
    "default_interpreter",
    "format_plan",
    "format_result",
    "format_status",
    "locations",
    "parse_config",
    "plan_install",
    "plan_remove",
    "set_user_setting",
    "status",
]

#: every key install may write; remove takes exactly these back out
OWN_KEYS = (KEY_INTERPRETER_WIN, KEY_INTERPRETER_MAC, KEY_UDF_MODULES, KEY_REFRESH_ON_OPEN)
MANIFEST_FORMAT = 1

Role = Literal["addin", "config", "applescript"]
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD")


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
        KEY_UDF_MODULES: UDF_MODULE,
        KEY_REFRESH_ON_OPEN: "True" if refresh is None else refresh,
    }
    for key, value in settings.items():
        check_value(key, value, loc.layout)
    config_data = updated_config(existing_config, settings, [KEY_REFRESH_ON_OPEN], loc.layout)

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
        source = xlwings_applescript_source()
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

    if loc.system == normalise_platform(None) and not Path(python).exists():
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
            edited = config_without_keys(current, original, OWN_KEYS, loc.layout)
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
                write_atomic(path, data)
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
                write_atomic(path, step.data)
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
        xlwings_here=xlwings_version(),
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
    check_value(key, value, loc.layout)
    write_atomic(loc.config_file, updated_config(current, {key: value}, (), loc.layout))
    return loc.config_file
