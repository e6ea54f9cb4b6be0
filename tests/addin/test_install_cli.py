"""``sheep-xl addin install | remove | status`` with --dry-run and --target."""

from __future__ import annotations

import io
from pathlib import Path

from sheep_xl.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, err=io.StringIO())
    return code, out.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
    }


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    before = snapshot(tmp_path)
    code, out = run("addin", "install", "--dry-run", "--target", str(tmp_path))
    assert code == 0
    assert "Copy the add-in" in out and "sheepcrm.xlam" in out and "UDF MODULES" in out
    assert snapshot(tmp_path) == before


def test_install_then_remove_leaves_the_folder_as_it_was(tmp_path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    before = snapshot(tmp_path)
    assert run("addin", "install", "--target", str(tmp_path))[0] == 0
    assert (tmp_path / "sheepcrm.xlam").is_file()
    code, out = run("addin", "status", "--target", str(tmp_path))
    assert code == 0 and "Installed: yes" in out
    assert run("addin", "install", "--target", str(tmp_path))[0] == 0, "twice is safe"
    assert run("addin", "remove", "--target", str(tmp_path))[0] == 0
    assert snapshot(tmp_path) == before


def test_refresh_on_open_user_setting(tmp_path) -> None:
    from sheep_xl.addin.install import config_value

    assert run("addin", "refresh-on-open", "off", "--target", str(tmp_path))[0] == 2
    run("addin", "install", "--target", str(tmp_path))
    conf = tmp_path / ".sheepcrm" / "sheepcrm.conf"
    assert config_value(conf.read_bytes(), "REFRESH_ON_OPEN") == "True"
    code, out = run("addin", "refresh-on-open", "off", "--target", str(tmp_path))
    assert code == 0 and "off" in out
    assert config_value(conf.read_bytes(), "REFRESH_ON_OPEN") == "False"
    assert config_value(conf.read_bytes(), "UDF MODULES") == "sheep_xl.excel.udfs"


def test_status_compares_the_add_ins_xlwings_with_this_environment(tmp_path) -> None:
    """The add-in embeds xlwings' DLL and AppleScript names: status says when they drift."""
    import xlwings

    from sheep_xl.addin.build import (
        PROPERTY_XLWINGS,
        _custom,
        build_addin_bytes,
        read_built_with,
    )

    assert run("addin", "install", "--target", str(tmp_path))[0] == 0
    addin = tmp_path / "sheepcrm.xlam"
    assert read_built_with(addin.read_bytes())[PROPERTY_XLWINGS] == xlwings.__version__
    code, out = run("addin", "status", "--target", str(tmp_path))
    assert code == 0 and f"xlwings: built for {xlwings.__version__}" in out and "(OK)" in out

    # The same add-in as an older xlwings would have built it.
    import zipfile

    data = build_addin_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(addin, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "docProps/custom.xml":
                body = _custom({PROPERTY_XLWINGS: "0.30.0"}).encode()
            dst.writestr(item, body)
    _, out = run("addin", "status", "--target", str(tmp_path))
    assert "built for xlwings 0.30.0 but this environment has xlwings" in out
    assert "run 'sheep-xl addin install' again" in out
