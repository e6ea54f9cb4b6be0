"""The add-in: it builds, its ribbon's callbacks exist in its VBA, and in Excel it loads from a
temporary folder, its VBA project compiles and the callbacks bind."""

from __future__ import annotations

import re
import zipfile

from sheep_xl import __version__
from sheep_xl.acceptance.context import KitContext, attempt
from sheep_xl.acceptance.registry import DESKTOP, CheckFailed, check
from sheep_xl.addin.names import ADDIN_FILE

_ON_ACTION = re.compile(r'onAction="([^"]+)"')
_PROBE_LIST = re.compile(r'SheepProbeCallbacks = ((?:"[^"]*"(?:\s*_?\s*&\s*)?)+)', re.S)


def ribbon_callbacks() -> list[str]:
    """The onAction names of the SheepCRM tab (customUI14.xml), in order."""
    from sheep_xl.addin.build import source_text

    return _ON_ACTION.findall(source_text("customUI14.xml"))


def probe_callbacks(source: str) -> list[str]:
    """The callbacks SheepProbe.bas says it can run (its SheepProbeCallbacks constant)."""
    match = _PROBE_LIST.search(source)
    if not match:
        return []
    text = "".join(re.findall(r'"([^"]*)"', match.group(1)))
    return [name for name in text.split(",") if name]


@check("addin.build", "add-in", "The add-in builds from this installation, recording its versions")
def addin_build(ctx: KitContext) -> str:
    from sheep_xl.addin.build import built_with, read_built_with

    path = ctx.addin()
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        parts = set(zf.namelist())
    missing = {"xl/vbaProject.bin", "customUI/customUI14.xml", "xl/workbook.xml"} - parts
    if missing:
        raise CheckFailed(f"The add-in lacks {', '.join(sorted(missing))}.", sorted(parts))
    recorded = read_built_with(data)
    if recorded != built_with():
        raise CheckFailed(f"The add-in records {recorded}, not {built_with()}.")
    versions = ", ".join(f"{k} {v}" for k, v in recorded.items())
    return f"{path.name}: {len(data):,} bytes, {versions}"


@check(
    "addin.callbacks-defined",
    "add-in",
    "Every button of the SheepCRM tab names a VBA callback the add-in has",
)
def callbacks_defined(ctx: KitContext) -> str:
    from sheep_xl.addin.build import collect_sources

    callbacks = ribbon_callbacks()
    if not callbacks:
        raise CheckFailed("customUI14.xml names no callbacks.")
    modules = {m.name: m.source for m in collect_sources().modules}
    everything = "\n".join(modules.values())
    missing = [
        name
        for name in callbacks
        if not re.search(rf"^Public Sub {name}\(control As IRibbonControl\)", everything, re.M)
    ]
    if missing:
        raise CheckFailed(
            f"No 'Public Sub NAME(control As IRibbonControl)' for {', '.join(missing)}.",
            [f"onAction names: {', '.join(callbacks)}"],
        )
    probed = probe_callbacks(modules.get("SheepProbe", ""))
    if sorted(probed) != sorted(callbacks):
        raise CheckFailed(
            "SheepProbe.bas does not list exactly the ribbon's callbacks.",
            [f"ribbon: {sorted(callbacks)}", f"probe: {sorted(probed)}"],
        )
    return f"{len(callbacks)} callbacks: {', '.join(callbacks)}"


@check(
    "addin.loads",
    "add-in",
    "Excel opens the freshly built add-in from a temporary folder",
    real_excel=True,
    platforms=DESKTOP,
    requires=("addin.build",),
)
def addin_loads(ctx: KitContext) -> str:
    path = ctx.addin()
    try:
        book = ctx.app.books.open(str(path))
    except Exception as exc:
        raise CheckFailed(f"Excel could not open {path.name}: {exc}", [str(path)]) from exc
    ctx.addin_book = book
    if book.name.lower() != ADDIN_FILE.lower():
        raise CheckFailed(f"Excel opened it as {book.name!r}, not {ADDIN_FILE}.")
    is_addin = attempt(lambda: book.api.IsAddin)
    if is_addin is False:
        raise CheckFailed(f"Excel opened {ADDIN_FILE} as a workbook, not as an add-in.")
    return f"opened {path} (IsAddin: {'unknown' if is_addin is None else is_addin})"


@check(
    "addin.compiles",
    "add-in",
    "Its VBA project compiles and runs: SheepProbe returns the sheep-xl version",
    real_excel=True,
    platforms=DESKTOP,
    requires=("addin.loads",),
)
def addin_compiles(ctx: KitContext) -> str:
    try:
        said = ctx.macro("SheepProbe")()
    except Exception as exc:
        raise CheckFailed(
            f"Running SheepProbe failed, so the VBA project did not compile or load: {exc}"
        ) from exc
    if said != __version__:
        raise CheckFailed(f"SheepProbe returned {said!r} instead of {__version__!r}.")
    return f"SheepProbe returned {said!r}"


@check(
    "addin.callbacks-resolve",
    "add-in",
    "The tab's callbacks resolve as macros, and a click with no workbook says one sentence",
    real_excel=True,
    platforms=DESKTOP,
    requires=("addin.compiles",),
)
def callbacks_resolve(ctx: KitContext) -> str:
    try:
        listed = str(ctx.macro("SheepProbeCallbacks")()).split(",")
    except Exception as exc:
        raise CheckFailed(f"SheepProbeCallbacks failed: {exc}") from exc
    callbacks = ribbon_callbacks()
    if sorted(listed) != sorted(callbacks):
        raise CheckFailed(
            "The add-in's callbacks differ from the ribbon's.",
            [f"ribbon: {sorted(callbacks)}", f"add-in: {sorted(listed)}"],
        )
    if attempt(lambda: ctx.app.books.count):  # add-ins are not counted
        return f"{len(callbacks)} callbacks resolve (a workbook is open: no click tried)"
    try:
        said = str(ctx.macro("SheepProbeRun")("SheepRefreshAll"))
    except Exception as exc:
        raise CheckFailed(f"Clicking Refresh all with no workbook raised: {exc}") from exc
    if "Open a workbook first" not in said:
        raise CheckFailed(
            "Refresh all with no workbook open did not say 'Open a workbook first'.", [said]
        )
    return f"{len(callbacks)} callbacks resolve; with no workbook Refresh all says {said!r}"
