"""Refresh the stored queries of a workbook in place, headless, all or nothing.

Every query is fetched before anything is written. Only when all of them succeeded is the
workbook rewritten, through a temporary file that replaces the original in one step; if any query
fails the file stays byte-identical and the error names the query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sheep_xl.api.client import ProgressCallback, SheepClient
from sheep_xl.api.per_event import EventProgress
from sheep_xl.exceptions import ReadOnlyWorkbookError, SheepError, WorkbookError
from sheep_xl.files import atomic_path, check_target, is_read_only
from sheep_xl.frames.fetch_parts import PartFrame
from sheep_xl.operations.export import local_now
from sheep_xl.operations.sources import Connections, as_connections
from sheep_xl.tables.plan import plan_table
from sheep_xl.tables.queries import (
    MARKER_NAME,
    OK,
    StoredQuery,
    check_distinct_tables,
    queries_plan,
    result_status,
    select_queries,
)
from sheep_xl.writers.ooxml import XlsxPackage
from sheep_xl.writers.xlsx_refresh import WorkbookEditor


@dataclass
class QueryResult:
    query: StoredQuery  # as it ran, with its new status
    rows: int
    ref: str
    warnings: list[str] = field(default_factory=list)  # including events that failed

    @property
    def partial(self) -> bool:
        return self.query.status != OK


@dataclass
class RefreshResult:
    path: Path
    results: list[QueryResult]

    @property
    def warnings(self) -> list[str]:
        return [f"{r.query.name}: {w}" for r in self.results for w in r.warnings]


def workbook_queries(path: Path) -> list[StoredQuery]:
    """The queries stored in a workbook file (an empty list when it has none)."""
    return WorkbookEditor(XlsxPackage(path)).read_queries()


def refresh_workbook(
    path: Path,
    client: SheepClient | Connections,
    query_names: Sequence[str] | None = None,
    *,
    progress: Callable[[StoredQuery], ProgressCallback | None] | None = None,
    event_progress: Callable[[StoredQuery], EventProgress | None] | None = None,
    now: dt.datetime | None = None,
    overwrite_read_only: bool = False,
) -> RefreshResult:
    """Fetch every selected stored query, then rewrite their tables in place (atomically).

    ``client`` serves the sheepCRM queries; demo queries get the in-process demo server (pass
    `Connections` to control both). Everything that can be wrong with the file is found before
    anything is fetched: a read-only workbook (refused unless ``overwrite_read_only``; the
    add-in skips such files too), a folder it cannot be written in, a damaged package, queries
    that cannot run or would share a table.

    A per-event query over a state keeps the rows of the events that arrived when some fail:
    its status says ``Partial`` and names them, as do the result's warnings."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise WorkbookError(
            f"Cannot refresh {path.name}: sheep-xl refreshes .xlsx workbooks (save it as .xlsx)."
        )
    if not overwrite_read_only and is_read_only(path):
        raise ReadOnlyWorkbookError(
            f"{path.name} is read-only, so it was not refreshed: make it writable, or give "
            "--overwrite-read-only to refresh it anyway (it stays read-only)."
        )
    package = XlsxPackage(path)
    check_target(path, errors=WorkbookError)
    editor = WorkbookEditor(package)
    stored = editor.read_queries()
    check_distinct_tables(stored)
    selected = select_queries(stored, query_names)
    for query in selected:
        query.validate()
        if editor.find_table(query.table) is None:
            raise WorkbookError(
                f"Query '{query.name}' fills table '{query.table}', which this workbook does not "
                "have: create it from Excel with the add-in (SheepCRM > Refresh all) or fix the "
                "Table column on the SheepCRM sheet."
            )
    # a damaged sheet or table part: reported before any request
    editor.preflight(refreshed=[query.table for query in selected])

    # all first: a failure changes nothing
    frames = fetch_queries(client, selected, progress, event_progress)
    ran_at = now or local_now()
    results = apply_results(editor, stored, frames, ran_at)
    editor.finish(modified=dt.datetime.now(dt.UTC) if now is None else now, today=ran_at.date())
    with atomic_path(path, errors=WorkbookError) as tmp:
        package.save(tmp)
    return RefreshResult(path, results)


def fetch_queries(
    client: SheepClient | Connections,
    queries: Sequence[StoredQuery],
    progress: Callable[[StoredQuery], ProgressCallback | None] | None = None,
    event_progress: Callable[[StoredQuery], EventProgress | None] | None = None,
) -> dict[str, PartFrame]:
    """Every query's typed frame (and the events it could not fetch), each from its source;
    the first failure is raised, naming its query."""
    connections = as_connections(client)
    frames: dict[str, PartFrame] = {}
    for query in queries:
        events = event_progress(query) if event_progress else None
        try:
            frames[query.name] = connections.fetch(
                query,
                pages=progress(query) if progress else None,
                progress=events,
                on_wait=getattr(events, "waiting", None),  # a progress that also tells waits
            )
        except SheepError as exc:
            raise exc.in_context(f"Query '{query.name}'") from None
    return frames


def apply_results(
    editor: WorkbookEditor,
    stored: Sequence[StoredQuery],
    frames: dict[str, PartFrame],
    ran_at: dt.datetime,
) -> list[QueryResult]:
    """Write each fetched frame into its query's table, then the queries' status and marker."""
    results = []
    finished: dict[str, StoredQuery] = {}
    for query in stored:
        fetched = frames.get(query.name)
        if fetched is None:
            continue
        frame = fetched.frame
        plan = plan_table(frame, query.table)
        write = editor.replace_table(plan, query.sheet)
        done = query.with_result(
            ran_at, len(frame), result_status(fetched.failures, fetched.events)
        )
        finished[query.name] = done
        # the plan's warnings: the frame's, and what Excel's limits changed (and the writer's)
        missing = [f"no rows for {failure}" for failure in fetched.failures]
        results.append(
            QueryResult(done, len(frame), write.ref, plan.warnings + write.warnings + missing)
        )
    editor.replace_table(queries_plan([finished.get(q.name, q) for q in stored]))
    if editor.defined_name(MARKER_NAME) is None:
        editor.set_defined_name(MARKER_NAME, "TRUE")
    return results
