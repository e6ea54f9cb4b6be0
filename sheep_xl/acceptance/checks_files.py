"""Every kind of file sheep-xl writes, opened by Excel: without a repair, holding what was
written, unchanged by an Excel save, and still good when refreshed after one."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sheep_xl.acceptance.context import (
    BUCKET,
    Inventory,
    KitContext,
    inventory_in_excel,
    inventory_of_file,
    repair_signs,
)
from sheep_xl.acceptance.registry import DESKTOP, CheckFailed, check
from sheep_xl.tables.queries import SOURCE_DEMO


@dataclass(frozen=True)
class WrittenFile:
    kind: str  # what wrote it, for the report
    path: Path
    inventory: Inventory
    refreshable: bool  # it holds stored queries


def written_files(ctx: KitContext) -> list[WrittenFile]:
    """The files of `files.written` (made by it)."""
    files: list[WrittenFile] = ctx.artifacts.get("files", [])
    if not files:
        raise CheckFailed("No files were written (files.written did not run).")
    return files


@check(
    "files.written",
    "files",
    "sheep-xl writes each kind of file: events workbook, every report, refreshed workbooks",
)
def files_written(ctx: KitContext) -> str:
    from sheep_xl.operations.export import export_events
    from sheep_xl.operations.refresh import refresh_workbook
    from sheep_xl.operations.sources import Connections
    from sheep_xl.reports.templates import build_report, builtin_templates

    folder = ctx.folder("files")
    made: list[tuple[str, Path, bool]] = []
    events = folder / "events.xlsx"
    export_events(ctx.client, BUCKET, "confirmed", str(events), now=ctx.now, source=SOURCE_DEMO)
    made.append(("sheep-xl events (new workbook)", events, True))
    for template in builtin_templates():
        built = build_report(template, ctx.client, BUCKET, folder, now=ctx.now, source=SOURCE_DEMO)
        made.append((f"report {template.path.stem}", built.path, bool(template.queries)))
    big = folder / "big-events.xlsx"
    _big_events_workbook(big, ctx)
    made.append(("big events workbook (runs recorded for the next refresh)", big, True))
    with Connections(ctx.client) as sources:
        for kind, path, refreshable in list(made):
            refreshed = len([m for m in made if m[0].startswith("refreshed")])
            if refreshable and (refreshed < 2 or path == big):
                copy = folder / f"refreshed-{path.name}"
                shutil.copyfile(path, copy)
                refresh_workbook(copy, sources, now=ctx.now)
                made.append((f"refreshed {kind}", copy, True))
    files = [WrittenFile(kind, path, inventory_of_file(path), ok) for kind, path, ok in made]
    ctx.artifacts["files"] = files
    return f"{len(files)} files: " + "; ".join(f"{f.path.name} ({f.kind})" for f in files)


def _big_events_workbook(path: Path, ctx: KitContext) -> None:
    """A workbook of 3,000 events (the demo's, repeated) with their links: big enough that
    its rows, links and relationships are written as runs the next refresh skips unread, with
    their record in the sheet's extLst (`writers.sync_points`). Its refresh (to the demo's
    confirmed events) skips them: Excel must open both as written."""
    import copy as copying

    from sheep_xl.demo.data import demo_events
    from sheep_xl.frames.convert import events_frame
    from sheep_xl.operations.export import write_new_report
    from sheep_xl.tables.plan import plan_table
    from sheep_xl.tables.queries import new_query

    base = demo_events(ctx.now.date())
    records = []
    for i in range(3000):
        record = copying.deepcopy(base[i % len(base)])
        record["uid"] = f"{i:024x}"
        record.pop("series_id", None)
        records.append(record)
    query = new_query(BUCKET, "confirmed", source=SOURCE_DEMO)
    plan = plan_table(events_frame(records), query.table)
    write_new_report(path, [(query, plan)], ran_at=ctx.now)


def _open_and_compare(ctx: KitContext, path: Path, expected: Inventory) -> tuple[object, list[str]]:
    try:
        book = ctx.open_book(path, events=False)
    except Exception as exc:
        return None, [f"Excel could not open it: {exc}"]
    problems = repair_signs(book)
    seen = inventory_in_excel(book)
    problems += expected.lost_in(seen)
    return book, problems


@check(
    "files.open-without-repair",
    "files",
    "Excel opens every file without repairing it, and holds what was written",
    real_excel=True,
    platforms=DESKTOP,
    requires=("files.written",),
)
def open_without_repair(ctx: KitContext) -> str:
    failures: list[str] = []
    for written in written_files(ctx):
        book, problems = _open_and_compare(ctx, written.path, written.inventory)
        if book is not None:
            ctx.close(book)
        failures += [f"{written.path.name}: {p}" for p in problems]
    if failures:
        names = sorted({f.split(":", 1)[0] for f in failures})
        raise CheckFailed(f"Excel repaired or changed {', '.join(names)} on open.", failures)
    return f"{len(written_files(ctx))} files opened as written"


@check(
    "files.excel-save-round-trip",
    "files",
    "Saved again by Excel, every file keeps its sheets, tables, names, charts and cells",
    real_excel=True,
    platforms=DESKTOP,
    requires=("files.open-without-repair",),
)
def save_round_trip(ctx: KitContext) -> str:
    folder = ctx.folder("saved-by-excel")
    failures: list[str] = []
    saved: list[tuple[WrittenFile, Path]] = []
    for written in written_files(ctx):
        book = ctx.open_book(written.path, events=False)
        target = folder / written.path.name
        target.unlink(missing_ok=True)
        book.save(str(target))
        ctx.close(book)
        failures += [
            f"{written.path.name}: {p}"
            for p in written.inventory.lost_in(inventory_of_file(target))
        ]
        saved.append((written, target))
    ctx.artifacts["saved"] = saved
    if failures:
        raise CheckFailed("Excel's save changed what some files hold.", failures)
    return f"{len(saved)} files saved by Excel and read back unchanged"


@check(
    "files.refresh-after-excel-save",
    "files",
    "A workbook Excel saved refreshes (sheep-xl refresh) and opens again without repair",
    real_excel=True,
    platforms=DESKTOP,
    requires=("files.excel-save-round-trip",),
)
def refresh_after_save(ctx: KitContext) -> str:
    from sheep_xl.operations.refresh import refresh_workbook
    from sheep_xl.operations.sources import Connections

    saved: list[tuple[WrittenFile, Path]] = ctx.artifacts.get("saved", [])
    failures: list[str] = []
    count = 0
    with Connections(ctx.client) as sources:
        for written, path in saved:
            if not written.refreshable:
                continue
            try:
                refresh_workbook(path, sources, now=ctx.now)
            except Exception as exc:
                failures.append(f"{path.name}: sheep-xl refresh failed: {exc}")
                continue
            count += 1
            book, problems = _open_and_compare(ctx, path, inventory_of_file(path))
            if book is not None:
                ctx.close(book)
            failures += [f"{path.name}: {p}" for p in problems]
    if failures:
        raise CheckFailed("A workbook refreshed after an Excel save opened changed.", failures)
    return f"{count} Excel-saved workbooks refreshed and opened without repair"
