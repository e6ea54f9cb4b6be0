"""The rest of a desktop: the installers, the Mac's folders, the dialogs' toolkit, and
pictures of what Excel shows (where Excel can save them)."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

from sheep_xl.acceptance.context import KitContext, attempt
from sheep_xl.acceptance.registry import DESKTOP, MAC, WINDOWS, CheckFailed, CheckSkipped, check


def _installer(name: str) -> Path:
    """The installer beside the package in an unzipped download or a clone (a wheel has none)."""
    import sheep_xl

    path = Path(sheep_xl.__file__).resolve().parent.parent / "installer" / name
    if not path.is_file():
        raise CheckSkipped(
            f"installer/{name} is not beside this installation (run the kit from the unzipped "
            "sheep-xl folder to check it)"
        )
    return path


@check(
    "installer.install-ps1",
    "installers",
    "install.ps1 creates its environment and installs the add-in (into a temporary folder)",
    real_excel=True,
    platforms=WINDOWS,
)
def install_ps1(ctx: KitContext) -> str:
    script = _installer("install.ps1")
    target, venv = ctx.folder("install-target"), ctx.work / "install-venv"
    command = [
        "powershell", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", str(script),
        "-Source", str(script.parent.parent), "-VenvDir", str(venv), "-Target", str(target),
        "-Python", sys.executable,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    installed = list(target.rglob("sheepcrm.xlam"))
    if done.returncode != 0 or not installed:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise CheckFailed(f"install.ps1 ended with code {done.returncode}.", tail)
    return f"install.ps1 installed {installed[0]}"


@check(
    "installer.mac-paths",
    "installers",
    "The Mac folders the add-in and its AppleScript go to exist and can be written",
    real_excel=True,
    platforms=MAC,
)
def mac_paths(ctx: KitContext) -> str:
    from sheep_xl.addin.locations import locations

    where = locations(platform="darwin")
    problems = []
    folders = [where.addin_dir.parent, Path.home() / "Library/Containers/com.microsoft.Excel/Data"]
    if where.applescript_dir is not None:
        folders.append(where.applescript_dir.parent)
    for folder in folders:
        if not folder.is_dir():
            problems.append(f"{folder} does not exist (open Excel once, then quit it)")
        elif not _writable(folder):
            problems.append(f"{folder} cannot be written")
    if problems:
        raise CheckFailed("A folder the Mac installer needs is missing or read-only.", problems)
    return "; ".join(str(f) for f in folders)


def _writable(folder: Path) -> bool:
    probe = folder / ".sheep-xl-excel-check"
    try:
        probe.write_text("x", encoding="utf-8")
        probe.unlink()
        return True
    except OSError:
        return False


@check(
    "dialogs.toolkit",
    "dialogs",
    "The Python the add-in runs can open the Sign in and Insert events windows (tkinter)",
    real_excel=True,
    platforms=DESKTOP,
)
def dialogs_toolkit(ctx: KitContext) -> str:
    code = "import tkinter; r = tkinter.Tk(); r.withdraw(); r.update(); r.destroy()"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise CheckFailed(
            "This Python cannot open a window, so the dialogs fall back to questions one at a "
            "time (README: Your first refresh).",
            done.stderr.strip().splitlines()[-3:],
        )
    return f"{sys.executable} opens tkinter windows"


@check(
    "dialogs.by-hand",
    "dialogs",
    "Sign in and Insert events, clicked and answered by a person",
    real_excel=True,
    platforms=DESKTOP,
)
def dialogs_by_hand(ctx: KitContext) -> str:
    raise CheckSkipped(
        "a dialog needs a person: click SheepCRM > Sign in and SheepCRM > Events table once"
    )


@check(
    "report.screenshots",
    "report",
    "Pictures of a report's chart and an events table, as Excel draws them",
    real_excel=True,
    platforms=WINDOWS,
    requires=("files.open-without-repair",),
)
def screenshots(ctx: KitContext) -> str:
    from sheep_xl.acceptance.checks_files import written_files

    folder = ctx.folder("screenshots")
    for written in written_files(ctx):
        if written.inventory.charts == 0 and not written.inventory.tables:
            continue
        book = ctx.open_book(written.path, events=False)
        for sheet in book.sheets:
            stem = f"{written.path.stem}-{sheet.name}".replace(" ", "-")
            if len(sheet.charts):
                png = folder / f"{stem}-chart.png"
                attempt(functools.partial(_export_chart, sheet, png))
                if png.is_file():
                    ctx.screenshots.append(png)
            if len(sheet.tables):
                png = folder / f"{stem}-table.png"
                attempt(functools.partial(_table_picture, sheet, png))
                if png.is_file():
                    ctx.screenshots.append(png)
        ctx.close(book)
    ctx.screenshots[:] = [p for p in ctx.screenshots if p.is_file()]
    if not ctx.screenshots:
        raise CheckSkipped("this Excel saved no pictures (xlwings' to_png needs Pillow)")
    return f"{len(ctx.screenshots)} pictures in {folder}"


def _export_chart(sheet: Any, png: Path) -> None:
    sheet.charts[0].api[1].Export(str(png))  # Windows: (ChartObject, Chart)


def _table_picture(sheet: Any, png: Path) -> None:
    sheet.tables[0].range[:20, :8].to_png(str(png))  # xlwings: CopyPicture, then Pillow
