"""Tests for installing and removing the add-in (sheep_xl.addin.install).

Everything runs in temporary folders through ``target=`` (or a fake home through ``environ=``),
so the Windows and macOS layouts are exercised on any OS. The settings file is read back with a
reader written here from the VBA ``Input #`` rules that xlwings' ``GetConfigFromFile`` relies on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sheep_xl.addin import install
from sheep_xl.addin.install import (
    ADDIN_FILE,
    AddinInUseError,
    InstallError,
    apply,
    format_plan,
    format_result,
    format_status,
    locations,
    plan_install,
    plan_remove,
    status,
)
from sheep_xl.exceptions import InputError, SheepError

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_KEY = "sk_live_FAKE0123456789abcdefSECRET"
LAYOUTS = ["win32", "darwin", "linux"]  # linux with a target uses the Windows layout


# --- helpers -----------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root``: relative name -> bytes (None for a folder)."""
    result: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        result[name] = None if path.is_dir() else path.read_bytes()
    return result


def vba_input_fields(text: str) -> list[str]:
    """VBA ``Input #`` into String variables: comma or line end ends a field, a field that starts
    with a double quote runs to the next one, unquoted fields are trimmed, a blank line is an empty
    field."""
    fields: list[str] = []
    pos = 0
    pattern = re.compile(r'[ \t]*(?:"([^"]*)"[^,\r\n]*|([^,\r\n]*))(\r\n|[,\r\n]|$)')
    while pos < len(text):
        match = pattern.match(text, pos)
        assert match is not None
        quoted, bare = match.group(1), match.group(2)
        fields.append(quoted if quoted is not None else bare.rstrip(" \t"))
        pos = match.end()
    return fields


def get_config_from_file(data: bytes, name: str, encoding: str) -> str | None:
    """``GetConfigFromFile``: read pairs until ``LCase(sVarName) = LCase(sName)``."""
    fields = vba_input_fields(data.decode(encoding))
    assert len(fields) % 2 == 0, "an odd field count makes Input # run past the end of the file"
    for key, value in zip(fields[::2], fields[1::2], strict=True):
        if key.lower() == name.lower():
            return value
    return None


def config_path(target: Path, layout: str) -> Path:
    if layout == "darwin":
        return target / "sheepcrm.conf"
    return target / ".sheepcrm" / "sheepcrm.conf"


def interpreter_key(layout: str) -> str:
    return "INTERPRETER_MAC" if layout == "darwin" else "INTERPRETER_WIN"


@pytest.fixture
def addin_file(tmp_path: Path) -> Path:
    path = tmp_path / "build" / "sheepcrm.xlam"
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04 a small stand-in for the add-in \x00\xff" * 20)
    return path


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """A folder that already holds something of the user's."""
    root = tmp_path / "target"
    (root / "Other").mkdir(parents=True)
    (root / "Other" / "book.xlsx").write_bytes(b"not ours")
    (root / "readme.txt").write_text("keep me\n")
    return root


def install_into(addin: Path, target: Path, platform: str, **kwargs: object) -> None:
    apply(plan_install(addin, target=target, platform=platform, **kwargs))  # type: ignore[arg-type]


def remove_from(target: Path, platform: str) -> None:
    apply(plan_remove(target=target, platform=platform))


# --- dry run -----------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", LAYOUTS)
def test_dry_run_prints_the_plan_and_changes_nothing(
    addin_file: Path, target: Path, platform: str
) -> None:
    before = snapshot(target)
    plan = plan_install(addin_file, target=target, platform=platform)
    text = format_plan(plan)
    assert snapshot(target) == before
    assert f"Copy the add-in {addin_file} to {target / ADDIN_FILE}" in text
    assert (
        f"Write the add-in settings (interpreter, UDF module) to {config_path(target, platform)}"
        in text
    )
    assert "UDF MODULES = sheep_xl.excel.udfs" in text
    assert "REFRESH_ON_OPEN = True" in text
    assert "Record what was installed" in text
    if platform != "darwin":
        assert f"Create folder {target / '.sheepcrm'}" in text
    # a numbered list of steps, in plain English
    assert re.search(r"^  1\. ", text, re.MULTILINE)


def test_dry_run_of_remove_changes_nothing(addin_file: Path, target: Path) -> None:
    install_into(addin_file, target, "win32")
    before = snapshot(target)
    text = format_plan(plan_remove(target=target, platform="win32"))
    assert snapshot(target) == before
    assert f"Delete {target / ADDIN_FILE}" in text


# --- install then remove is byte-identical ----------------------------------------------------


@pytest.mark.parametrize("platform", LAYOUTS)
@pytest.mark.parametrize("user_config", [False, True], ids=["no-config", "user-config"])
def test_install_then_remove_restores_the_folder(
    addin_file: Path, target: Path, platform: str, user_config: bool
) -> None:
    conf = config_path(target, platform)
    if user_config:
        conf.parent.mkdir(parents=True, exist_ok=True)
        # CRLF, a lower-case duplicate of our key, a key of the user's and a blank line
        conf.write_bytes(
            b'"SHOW CONSOLE","True"\r\n'
            b'"interpreter_win","C:\\old\\python.exe"\r\n'
            b"\r\n"
            b'"INTERPRETER_MAC","/usr/local/bin/python3"\r\n'
            b'"PYTHONPATH","C:\\work"\r\n'
        )
    before = snapshot(target)
    install_into(addin_file, target, platform)
    after_install = snapshot(target)
    assert after_install != before
    assert after_install[ADDIN_FILE] == addin_file.read_bytes()
    if user_config:
        data = conf.read_bytes()
        assert get_config_from_file(data, "SHOW CONSOLE", "utf-8") == "True"
        assert get_config_from_file(data, "PYTHONPATH", "utf-8") == "C:\\work"
    remove_from(target, platform)
    assert snapshot(target) == before


def test_remove_restores_a_replaced_addin(addin_file: Path, target: Path) -> None:
    (target / ADDIN_FILE).write_bytes(b"an older add-in")
    before = snapshot(target)
    plan = plan_install(addin_file, target=target, platform="win32")
    assert any(step.description.startswith("Back up existing") for step in plan.steps)
    apply(plan)
    assert (target / ADDIN_FILE).read_bytes() == addin_file.read_bytes()
    remove_from(target, "win32")
    assert snapshot(target) == before


def test_remove_keeps_settings_added_after_install(addin_file: Path, target: Path) -> None:
    install_into(addin_file, target, "win32")
    conf = config_path(target, "win32")
    conf.write_bytes(conf.read_bytes() + b'"SHOW CONSOLE","True"\r\n')
    remove_from(target, "win32")
    assert conf.read_bytes() == b'"SHOW CONSOLE","True"\r\n'
    assert not (target / ADDIN_FILE).exists()


def test_remove_when_not_installed_is_a_no_op(target: Path) -> None:
    before = snapshot(target)
    plan = plan_remove(target=target, platform="win32")
    assert plan.changes_nothing
    assert "not installed" in format_plan(plan)
    apply(plan)
    assert snapshot(target) == before
    assert "nothing was removed" in format_result(plan)


def test_remove_twice_is_a_no_op(addin_file: Path, target: Path) -> None:
    before = snapshot(target)
    install_into(addin_file, target, "darwin")
    remove_from(target, "darwin")
    plan = plan_remove(target=target, platform="darwin")
    assert plan.changes_nothing
    apply(plan)
    assert snapshot(target) == before


# --- idempotence -------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", LAYOUTS)
def test_installing_twice_gives_the_same_result(
    addin_file: Path, target: Path, platform: str
) -> None:
    before = snapshot(target)
    install_into(addin_file, target, platform)
    once = snapshot(target)
    second = plan_install(addin_file, target=target, platform=platform)
    assert second.changes_nothing
    assert "nothing to change" in format_plan(second)
    apply(second)
    assert snapshot(target) == once
    remove_from(target, platform)
    assert snapshot(target) == before


def test_reinstalling_a_new_addin_then_removing(addin_file: Path, target: Path) -> None:
    """An upgrade replaces the add-in without taking the first install's file as 'the user's'."""
    before = snapshot(target)
    install_into(addin_file, target, "win32")
    addin_file.write_bytes(b"version two")
    plan = plan_install(addin_file, target=target, platform="win32")
    assert not any(step.description.startswith("Back up") for step in plan.steps)
    apply(plan)
    assert (target / ADDIN_FILE).read_bytes() == b"version two"
    remove_from(target, "win32")
    assert snapshot(target) == before


def test_existing_refresh_on_open_is_kept(addin_file: Path, target: Path) -> None:
    conf = config_path(target, "win32")
    conf.parent.mkdir()
    conf.write_bytes(b'"REFRESH_ON_OPEN","False"\r\n')
    install_into(addin_file, target, "win32")
    assert get_config_from_file(conf.read_bytes(), "REFRESH_ON_OPEN", "cp1252") == "False"
    assert install.config_value(conf.read_bytes(), "refresh_on_open") == "False"


# --- the settings file -------------------------------------------------------------------------


@pytest.mark.parametrize("platform", LAYOUTS)
def test_config_file_has_the_right_keys_and_format(
    addin_file: Path, target: Path, platform: str
) -> None:
    install_into(addin_file, target, platform)
    layout = "darwin" if platform == "darwin" else "win32"
    data = config_path(target, platform).read_bytes()
    newline = b"\n" if layout == "darwin" else b"\r\n"
    lines = data.split(newline)
    assert lines[-1] == b""  # ends with a line break, like VBA's Write #
    for line in lines[:-1]:
        assert re.fullmatch(rb'"[A-Z_ ]+","[^"\r\n]*"', line), line
    if layout == "win32":
        assert b"\n" not in data.replace(b"\r\n", b"")
    exe = Path(sys.executable)
    expected = exe.with_name("pythonw.exe") if platform == "win32" else exe
    assert get_config_from_file(data, interpreter_key(layout), "utf-8") == str(expected)
    assert get_config_from_file(data, "UDF MODULES", "utf-8") == "sheep_xl.excel.udfs"
    assert get_config_from_file(data, "REFRESH_ON_OPEN", "utf-8") == "True"
    other = "INTERPRETER_WIN" if layout == "darwin" else "INTERPRETER_MAC"
    assert get_config_from_file(data, other, "utf-8") is None
    assert len(lines) - 1 == 3


def test_config_replaces_duplicates_case_insensitively(addin_file: Path, target: Path) -> None:
    conf = config_path(target, "win32")
    conf.parent.mkdir()
    conf.write_bytes(b'"interpreter_win","C:\\a.exe"\r\n"INTERPRETER_WIN","C:\\b.exe"\r\n')
    install_into(addin_file, target, "win32", interpreter=Path("C:/Py/pythonw.exe"))
    data = conf.read_bytes()
    assert get_config_from_file(data, "INTERPRETER_WIN", "cp1252") == str(Path("C:/Py/pythonw.exe"))
    assert data.lower().count(b"interpreter_win") == 1


def test_parse_config_matches_the_vba_reader() -> None:
    data = b' "A" , "x,y"\r\nB,  plain value  \r\n"C","" \r\n'
    assert install.parse_config(data) == [("A", "x,y"), ("B", "plain value"), ("C", "")]
    assert vba_input_fields(data.decode()) == ["A", "x,y", "B", "plain value", "C", ""]


def test_values_that_excel_cannot_read_are_refused(addin_file: Path, target: Path) -> None:
    before = snapshot(target)
    with pytest.raises(InstallError, match="double quote"):
        plan_install(addin_file, target=target, platform="win32", interpreter=Path('C:/a"b.exe'))
    assert snapshot(target) == before


# --- no secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", LAYOUTS)
def test_no_secret_is_written(
    addin_file: Path, target: Path, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHEEP_API_KEY", FAKE_KEY)
    plan = plan_install(addin_file, target=target, platform=platform)
    assert FAKE_KEY not in format_plan(plan)
    apply(plan)
    for path in target.rglob("*"):
        assert FAKE_KEY not in path.name
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert FAKE_KEY not in format_status(status(target=target, platform=platform))


def test_status_hides_secret_looking_settings(target: Path) -> None:
    conf = config_path(target, "win32")
    conf.parent.mkdir()
    conf.write_bytes(b'"LICENSE_KEY","abc123"\r\n"UDF MODULES","m"\r\n')
    info = status(target=target, platform="win32")
    assert info.settings == {"LICENSE_KEY": "*** (hidden)", "UDF MODULES": "m"}
    assert "abc123" not in format_status(info)


# --- status ------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", LAYOUTS)
def test_status_before_and_after(addin_file: Path, target: Path, platform: str) -> None:
    layout = "darwin" if platform == "darwin" else "win32"
    info = status(target=target, platform=platform)
    assert not info.installed
    assert info.addin_size is None and info.addin_sha256 is None
    assert not info.config_exists and info.settings == {}
    assert info.interpreter is None and not info.interpreter_exists
    assert not info.recorded
    assert "Installed: no" in format_status(info)

    install_into(addin_file, target, platform, interpreter=Path(sys.executable))
    info = status(target=target, platform=platform)
    assert info.installed
    assert info.addin_file == target / ADDIN_FILE
    assert info.addin_size == addin_file.stat().st_size
    assert info.addin_sha256 is not None and len(info.addin_sha256) == 64
    assert info.config_file == config_path(target, platform)
    assert info.settings == {
        interpreter_key(layout): sys.executable,
        "UDF MODULES": "sheep_xl.excel.udfs",
        "REFRESH_ON_OPEN": "True",
    }
    assert info.interpreter == sys.executable and info.interpreter_exists
    assert info.recorded
    if layout == "darwin":
        assert info.applescript_exists
    text = format_status(info)
    assert "Installed: yes" in text and "(found)" in text

    remove_from(target, platform)
    assert not status(target=target, platform=platform).installed


def test_status_reports_a_missing_interpreter(addin_file: Path, target: Path) -> None:
    install_into(addin_file, target, "win32", interpreter=target / "nowhere" / "pythonw.exe")
    info = status(target=target, platform="win32")
    assert not info.interpreter_exists
    assert "NOT FOUND" in format_status(info)


# --- the real layouts --------------------------------------------------------------------------


def test_windows_layout(addin_file: Path, tmp_path: Path) -> None:
    profile = tmp_path / "Users" / "ann"
    appdata = profile / "AppData" / "Roaming"
    environ = {"USERPROFILE": str(profile), "APPDATA": str(appdata)}
    loc = locations(platform="win32", environ=environ)
    assert loc.addin_file == appdata / "Microsoft" / "Excel" / "XLSTART" / "sheepcrm.xlam"
    assert loc.config_file == profile / ".sheepcrm" / "sheepcrm.conf"
    assert loc.applescript_file is None
    plan = plan_install(addin_file, platform="win32", environ=environ)
    text = format_plan(plan)
    assert f"to {loc.addin_file}" in text
    assert f"to {loc.config_file}" in text
    assert "INTERPRETER_WIN = " in text and "pythonw.exe" in text
    assert "INTERPRETER_MAC" not in text
    assert not profile.exists()  # planning touches nothing
    # and it can really be carried out and undone in the fake profile
    profile.mkdir(parents=True)
    apply(plan)
    assert status(platform="win32", environ=environ).installed
    apply(plan_remove(platform="win32", environ=environ))
    assert snapshot(profile) == {}


def test_macos_layout(addin_file: Path, tmp_path: Path) -> None:
    home = tmp_path / "Users" / "ann"
    environ = {"HOME": str(home)}
    library = home / "Library"
    loc = locations(platform="darwin", environ=environ)
    startup = library / "Group Containers" / "UBF8T346G9.Office" / "User Content" / "Startup"
    assert loc.addin_file == startup / "Excel" / "sheepcrm.xlam"
    assert loc.config_file == library / "Containers" / "com.microsoft.Excel" / "Data" / (
        "sheepcrm.conf"
    )
    assert loc.applescript_file is not None
    assert loc.applescript_file.parent == library / "Application Scripts" / "com.microsoft.Excel"
    assert re.fullmatch(r"xlwings-\d+\.\d+\.\d+\.applescript", loc.applescript_file.name)

    # Excel never started: its sandbox folders are missing, and we don't make them
    with pytest.raises(InstallError, match="open Excel once"):
        plan_install(addin_file, platform="darwin", environ=environ)

    (library / "Containers" / "com.microsoft.Excel").mkdir(parents=True)
    (library / "Group Containers" / "UBF8T346G9.Office").mkdir(parents=True)
    before = snapshot(home)
    plan = plan_install(addin_file, platform="darwin", environ=environ)
    text = format_plan(plan)
    assert f"to {loc.addin_file}" in text
    assert f"to {loc.config_file}" in text
    assert f"to {loc.applescript_file}" in text
    assert f"INTERPRETER_MAC = {sys.executable}" in text
    apply(plan)
    assert status(platform="darwin", environ=environ).installed
    apply(plan_remove(platform="darwin", environ=environ))
    assert snapshot(home) == before


def test_macos_warns_about_spaces_in_the_interpreter_path(addin_file: Path, target: Path) -> None:
    python = Path("/Users/ann/Library/Application Support/sheep-xl/venv/bin/python")
    plan = plan_install(addin_file, target=target, platform="darwin", interpreter=python)
    assert "contains a space" in format_plan(plan)


def test_linux_without_target_is_a_clear_error(addin_file: Path) -> None:
    with pytest.raises(InputError) as caught:
        plan_install(addin_file, platform="linux")
    message = str(caught.value)
    assert "Windows or macOS" in message and "--target" in message
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0
    with pytest.raises(InputError):
        plan_remove(platform="linux")
    with pytest.raises(InputError):
        status(platform="linux")


def test_missing_addin_file_is_a_clear_error(tmp_path: Path, target: Path) -> None:
    with pytest.raises(InstallError, match="does not exist"):
        plan_install(tmp_path / "nope.xlam", target=target, platform="win32")


# --- the add-in is open in Excel ---------------------------------------------------------------


@pytest.mark.parametrize("action", ["install", "remove"])
def test_addin_open_in_excel_gives_a_clear_error_and_changes_nothing(
    addin_file: Path, target: Path, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    (target / ADDIN_FILE).write_bytes(b"the add-in Excel has open")
    if action == "remove":
        install_into(addin_file, target, "win32")
    before = snapshot(target)
    real_replace = os.replace
    locked = target / ADDIN_FILE

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == locked:
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    plan = (
        plan_install(addin_file, target=target, platform="win32")
        if action == "install"
        else plan_remove(target=target, platform="win32")
    )
    with pytest.raises(AddinInUseError) as caught:
        apply(plan)
    assert isinstance(caught.value, SheepError)
    assert "close Excel" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert snapshot(target) == before  # rolled back, no temporary files left


def test_damaged_install_record_is_a_clear_error(addin_file: Path, target: Path) -> None:
    install_into(addin_file, target, "win32")
    manifest = locations(target=target, platform="win32").manifest_file
    manifest.write_text("{not json")
    with pytest.raises(InstallError, match="damaged"):
        plan_remove(target=target, platform="win32")


# --- the installer scripts ---------------------------------------------------------------------


def test_install_sh_is_valid_bash() -> None:
    script = REPO_ROOT / "installer" / "install.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_install_sh_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed")
    script = REPO_ROOT / "installer" / "install.sh"
    subprocess.run([shellcheck, str(script)], check=True)


@pytest.mark.parametrize("name", ["install.sh", "install.ps1"])
def test_installers_never_ask_for_the_api_key(name: str) -> None:
    text = (REPO_ROOT / "installer" / name).read_text(encoding="utf-8")
    assert "Read-Host" not in text
    assert not re.search(r"^\s*read\s", text, re.MULTILINE)
    assert "SHEEP_API_KEY" not in text
    assert re.search(r"addin.{1,5}install", text) and "doctor" in text
    assert "Sign in" in text
