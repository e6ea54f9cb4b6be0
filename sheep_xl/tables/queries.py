"""Queries stored in a workbook: what to fetch into which table, readable and editable in Excel.

A workbook holds its queries in an Excel table named ``SheepCRM_Queries`` on a sheet called
``SheepCRM``. A person can read and edit it like any table; there is never a secret in it. Each
row is one query; the last three columns are written by every refresh:

==================  =========================================================================
Query               a name for the query (unique)
Sheet, Table        where the results go (the table is created or refreshed in place)
Source              ``sheepCRM`` (your data; needs your API key) or ``demo`` (sheep-xl's built-in
                    sample data, served in-process; no key). Blank means ``sheepCRM``
Kind                what a row is: ``events`` (blank), ``full events``, ``attendees``, ``orders``,
                    ``tickets`` or ``ticket types`` (see `sheep_xl.frames.query_kinds`)
Bucket              the sheepCRM bucket
State, Event UID    the target: a state or classification (every event in it), or one event's
                    uid (per-event kinds only); exactly one of the two
Columns             ``default``, ``all`` or field names/titles separated by commas
Sort by             optional: a column to sort by, e.g. ``Start date`` or ``Start date desc``
Refresh on open     TRUE to refresh this query when the workbook opens in Excel with the add-in
Last refreshed      when the query last ran (local time)
Rows                how many rows it returned
Status              ``OK``, ``Partial: ...`` naming events that could not be fetched (the
                    others' rows are in the table), or the one-sentence error
==================  =========================================================================

The workbook-level defined name ``SheepCRM_RefreshOnOpen`` (``=TRUE``/``=FALSE``) is the marker the
add-in looks for when a workbook opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sheep_xl.exceptions import InputError, SheepError, WorkbookError
from sheep_xl.frames.catalogue import COUNT, DATETIME, GENERAL
from sheep_xl.frames.query_kinds import EVENTS_KIND, QueryKind, check_query, resolve_kind
from sheep_xl.tables.plan import PlanColumn, TablePlan, header_row_below, validate_table_name

QUERIES_SHEET = "SheepCRM"
QUERIES_TABLE = "SheepCRM_Queries"
MARKER_NAME = "SheepCRM_RefreshOnOpen"
RESERVED_NAMES = frozenset({QUERIES_TABLE.lower(), MARKER_NAME.lower()})  # no query's table
QUERIES_STYLE = "TableStyleMedium2"  # one table style across a workbook
# The two lines above the table on the SheepCRM sheet.
QUERIES_PREAMBLE = (
    "SheepCRM queries",
    "Each row fetches sheepCRM data into a table of this workbook: events, or what is inside "
    "them (Kind: attendees, orders, tickets, ticket types) for a State or one Event UID. Edit a "
    "row to change what it fetches, then refresh (SheepCRM ribbon > Refresh all, or: sheep-xl "
    "refresh FILE.xlsx). API keys are never stored here.",
)

QUERIES_HEADER_ROW = header_row_below(QUERIES_PREAMBLE)  # where every writer puts the table

# (title, kind, width) in sheet order
QUERY_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("Query", "text", 16),
    ("Sheet", "text", 14),
    ("Table", "text", 14),
    ("Source", "text", 10),
    ("Kind", "text", 12),
    ("Bucket", "text", 12),
    ("State", "text", 11),
    ("Event UID", "text", 16),
    ("Columns", "text", 30),
    ("Sort by", "text", 14),
    ("Refresh on open", "bool", 17),
    ("Last refreshed", "datetime", 17),
    ("Rows", "number", 8),
    ("Status", "text", 60),
)
QUERY_TITLES = tuple(title for title, _, _ in QUERY_COLUMNS)
OK = "OK"
PARTIAL = "Partial"  # some events of a per-event query could not be fetched
SOURCE_SHEEPCRM = "sheepCRM"  # the real API: the key from SHEEP_API_KEY or the credential store
SOURCE_DEMO = "demo"  # the built-in demo server, started in-process; never a real bucket
SOURCES = (SOURCE_SHEEPCRM, SOURCE_DEMO)


@dataclass(frozen=True)
class StoredQuery:
    name: str
    sheet: str
    table: str
    bucket: str
    state: str
    columns: str = "default"
    sort: str = ""
    refresh_on_open: bool = True
    last_refreshed: dt.datetime | None = None
    rows: int | None = None
    status: str = ""
    source: str = SOURCE_SHEEPCRM
    kind: str = EVENTS_KIND.name
    event_uid: str = ""

    @property
    def is_demo(self) -> bool:
        return self.source == SOURCE_DEMO

    @property
    def query_kind(self) -> QueryKind:
        return resolve_kind(self.kind)

    @property
    def target(self) -> str:
        """What the query is about, for people: the event uid or the state."""
        return self.event_uid or self.state

    def validate(self) -> StoredQuery:
        """Check the query the way the API call will, so a bad row fails before any request."""
        where = f"query '{self.name}' on the {QUERIES_SHEET} sheet"
        if self.source not in SOURCES:
            raise WorkbookError(
                f"In {where}: the source {self.source!r} is not one of {', '.join(SOURCES)} "
                f"({SOURCE_SHEEPCRM} is your data, {SOURCE_DEMO} the built-in sample data)."
            )
        try:
            check_query(
                self.query_kind,
                self.bucket,
                self.state,
                self.event_uid,
                self.columns or None,
                self.sort,
            )
            check_table_name(self.table)
        except SheepError as exc:
            raise WorkbookError(f"In {where}: {exc}") from None
        if (
            not self.sheet.strip()
            or len(self.sheet) > 31
            or any(c in self.sheet for c in "[]:*?/\\")
        ):
            raise WorkbookError(
                f"In {where}: the sheet name {self.sheet!r} is not a valid Excel sheet name "
                "(1 to 31 characters, none of [ ] : * ? / \\)."
            )
        return self

    def with_result(self, when: dt.datetime, rows: int | None, status: str) -> StoredQuery:
        return replace(self, last_refreshed=when, rows=rows, status=status)


def result_status(failures: Sequence[object], events: int) -> str:
    """The Status cell after a query ran: ``OK``, or which events' rows are missing."""
    if not failures:
        return OK
    names = "; ".join(str(f) for f in failures[:3])
    more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
    return (
        f"{PARTIAL}: {len(failures)} of {events} events could not be fetched, so their rows are "
        f"missing (refresh again later): {names}{more}"
    )


def local_now() -> dt.datetime:
    """Now, as the wall-clock time people read on the SheepCRM sheet (no time zone). Here, with
    the stored queries it stamps, so the live refresh needs no writer module to know it."""
    return dt.datetime.now().replace(microsecond=0)


def check_table_name(name: str) -> str:
    """A valid Excel table name that is not one of sheep-xl's own names (in any letter case,
    as Excel compares them): a query filling the queries table would destroy the queries."""
    name = validate_table_name(name)
    if name.lower() in RESERVED_NAMES:
        raise InputError(
            f"The table name {name!r} is sheep-xl's own ({QUERIES_TABLE} holds the stored "
            f"queries, {MARKER_NAME} is a workbook name, and Excel compares names in any "
            "letter case): choose another table name."
        )
    return name


def check_distinct_tables(queries: Sequence[StoredQuery]) -> None:
    """Two queries filling one table would overwrite each other's rows (Excel's table names are
    one per workbook, in any letter case): refused before anything is fetched."""
    seen: dict[str, StoredQuery] = {}
    for query in queries:
        key = query.table.strip().lower()
        if key in seen:
            raise WorkbookError(
                f"Queries '{seen[key].name}' and '{query.name}' both fill table "
                f"'{query.table}' (Excel compares table names in any letter case): give one of "
                f"them another table on the {QUERIES_SHEET} sheet."
            )
        seen[key] = query


def new_query(
    bucket: str,
    state: str,
    columns: str | Sequence[str] | None = None,
    *,
    sheet: str = "Events",
    table: str = "Events",
    name: str | None = None,
    sort: str = "",
    refresh_on_open: bool = True,
    source: str = SOURCE_SHEEPCRM,
    kind: str = EVENTS_KIND.name,
    event_uid: str = "",
) -> StoredQuery:
    if columns is None:
        columns_text = "default"
    elif isinstance(columns, str):
        columns_text = columns
    else:
        columns_text = ", ".join(columns)
    return StoredQuery(
        name=name or table,
        sheet=sheet,
        table=table,
        bucket=str(bucket),
        state=str(state),
        columns=columns_text,
        sort=sort,
        refresh_on_open=refresh_on_open,
        source=source,
        kind=resolve_kind(kind).name,
        event_uid=event_uid,
    ).validate()


def queries_plan(queries: Sequence[StoredQuery]) -> TablePlan:
    """The ``SheepCRM_Queries`` table as a plan, so every writer stores queries the same way."""
    formats = {"datetime": DATETIME, "number": COUNT}
    columns = [
        PlanColumn(title, "", kind, formats.get(kind, GENERAL), width)
        for title, kind, width in QUERY_COLUMNS
    ]
    rows = [[_cells(q)[title] for title in QUERY_TITLES] for q in queries]
    return TablePlan(QUERIES_TABLE, columns, rows, QUERIES_STYLE)


def _cells(q: StoredQuery) -> dict[str, Any]:
    """A query's row of the SheepCRM_Queries table, by column title."""
    return {
        "Query": q.name,
        "Sheet": q.sheet,
        "Table": q.table,
        "Source": q.source,
        "Kind": q.kind or EVENTS_KIND.name,
        "Bucket": q.bucket,
        "State": q.state or None,
        "Event UID": q.event_uid or None,
        "Columns": q.columns or "default",
        "Sort by": q.sort or None,
        "Refresh on open": q.refresh_on_open,
        "Last refreshed": q.last_refreshed,
        "Rows": q.rows,
        "Status": q.status or None,
    }


def parse_queries(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[StoredQuery]:
    """Stored queries from the table's header and body values (blank rows are skipped)."""
    titles = [str(h).strip().lower() if h is not None else "" for h in header]
    index: dict[str, int] = {}
    for title in QUERY_TITLES:
        if title.lower() not in titles:
            if title in (
                "Last refreshed",
                "Rows",
                "Status",
                "Refresh on open",
                "Columns",
                "Query",
                "Sort by",
                "Source",
                "Kind",
                "Event UID",
            ):
                continue  # optional: defaults apply
            raise WorkbookError(
                f"The {QUERIES_TABLE} table has no '{title}' column: restore it (columns: "
                f"{', '.join(QUERY_TITLES)})."
            )
        index[title] = titles.index(title.lower())

    def get(row: Sequence[Any], title: str) -> Any:
        i = index.get(title)
        return row[i] if i is not None and i < len(row) else None

    queries: list[StoredQuery] = []
    for number, row in enumerate(rows, 1):
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        table = _text(get(row, "Table"))
        query = StoredQuery(
            name=_text(get(row, "Query")) or table or f"Query {number}",
            sheet=_text(get(row, "Sheet")),
            table=table,
            bucket=_text(get(row, "Bucket")),
            state=_text(get(row, "State")),
            columns=_text(get(row, "Columns")) or "default",
            sort=_text(get(row, "Sort by")),
            refresh_on_open=_bool(get(row, "Refresh on open"), default=True),
            last_refreshed=get(row, "Last refreshed")
            if isinstance(get(row, "Last refreshed"), dt.datetime)
            else None,
            rows=_int(get(row, "Rows")),
            status=_text(get(row, "Status")),
            source=_source(get(row, "Source")),
            kind=_kind(get(row, "Kind")),
            event_uid=_text(get(row, "Event UID")),
        )
        queries.append(query)
    names = [q.name.lower() for q in queries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise WorkbookError(
            f"Query names must be unique on the {QUERIES_SHEET} sheet, but "
            f"'{duplicates[0]}' appears more than once: rename one of them."
        )
    return queries


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _source(value: Any) -> str:
    """The Source cell in any letter case; blank (older workbooks have no column) is sheepCRM.
    Anything else is kept as typed, for ``validate`` to name."""
    text = _text(value)
    for source in SOURCES:
        if text.lower() == source.lower():
            return source
    return text or SOURCE_SHEEPCRM


def _kind(value: Any) -> str:
    """The Kind cell as its canonical name; blank (older workbooks) is events. Anything else
    is kept as typed, for ``validate`` to name."""
    text = _text(value)
    try:
        return resolve_kind(text).name
    except SheepError:
        return text


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().lower() in ("true", "yes", "1", "y", "on")


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return int(float(str(value).replace(",", "")))
    except ValueError:
        return None


def select_queries(
    queries: Sequence[StoredQuery], names: Sequence[str] | None
) -> list[StoredQuery]:
    """The queries to run: all, or those named (case-insensitive); unknown names are an error."""
    if not queries:
        raise WorkbookError(
            f"This workbook has no stored queries: add one with 'sheep-xl events ... --out', the "
            f"ribbon's Insert events table, or a row in the {QUERIES_TABLE} table."
        )
    if not names:
        return list(queries)
    by_name = {q.name.lower(): q for q in queries}
    unknown = [n for n in names if n.lower() not in by_name]
    if unknown:
        raise WorkbookError(
            f"No stored query named '{unknown[0]}': this workbook has "
            f"{', '.join(repr(q.name) for q in queries)}."
        )
    return [by_name[n.lower()] for n in names]
