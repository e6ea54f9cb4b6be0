"""The worksheet functions: the values they hand Excel equal the command line's for the same
query (values, dates, booleans, blanks), SHEEP_EVENTS' and those of what is inside events
(SHEEP_ATTENDEES, SHEEP_ORDERS, SHEEP_TICKETS, SHEEP_TICKET_TYPES); a recalculation storm
costs no requests; in Windows Excel the formulas spill those values through XLPy.CallUDF; on a
Mac they say they cannot."""

from __future__ import annotations

from typing import Any

from sheep_xl.acceptance.context import (
    BUCKET,
    KitContext,
    attempt,
    cell_value,
    compare_tables,
    read_table_from_file,
    text_instead_of_values,
)
from sheep_xl.acceptance.registry import MAC, WINDOWS, CheckFailed, check

QUERY = ("example", "confirmed")
FORMULA = f'=SHEEP_EVENTS("{QUERY[0]}","{QUERY[1]}")'
STORM_CELLS = 40  # formulas asking the same things in a storm of recalculations
# What is inside events: each function and the command (and part) it must agree with.
PART_FUNCTIONS = {
    "SHEEP_ATTENDEES": "attendees",
    "SHEEP_ORDERS": "orders",
    "SHEEP_TICKETS": "tickets",
    "SHEEP_TICKET_TYPES": "ticket-types",
}
PART_STATE = "current+confirmed"  # the per-event functions for every event of a state
KIT_TABLE = "KitPart"  # the table name the kit gives the CLI's per-event workbooks


def _udfs() -> Any:
    from sheep_xl.excel import udfs

    return udfs


def _as_table(result: Any, name: str = "SHEEP_EVENTS") -> list[list[Any]]:
    if isinstance(result, str):  # one sentence: the function failed
        raise CheckFailed(f"{name} answered {result!r}.")
    table = [list(row) for row in result]
    if len(table) == 1 and len(table[0]) == 1 and str(table[0][0]).startswith("SheepCRM:"):
        raise CheckFailed(f"{name} answered {table[0][0]!r}.")  # a sentence as a 1x1 table
    return table


def _cli_part_table(ctx: KitContext, part: str, *, uid: str | None = None) -> list[list[Any]]:
    """What ``sheep-xl attendees example UID`` (or ``--state PART_STATE``; orders, tickets,
    ticket-types) writes, read back from its workbook."""
    key = f"cli-part:{part}:{uid}"
    if key not in ctx.artifacts:
        from sheep_xl.operations.export_parts import export_part

        out = ctx.folder("cli") / f"{part}-{len(ctx.artifacts)}.xlsx"
        state = None if uid is not None else PART_STATE
        export = export_part(
            ctx.client, BUCKET, part, str(out), uid=uid, state=state, table_name=KIT_TABLE
        )
        if export.failures:
            raise CheckFailed(
                f"'sheep-xl {part}' could not fetch {len(export.failures)} event(s) of the demo.",
                [str(f) for f in export.failures[:3]],
            )
        ctx.artifacts[key] = read_table_from_file(out, KIT_TABLE)
    table: list[list[Any]] = ctx.artifacts[key]
    return table


def _part_uid(ctx: KitContext) -> str:
    """An event of ``PART_STATE`` that has attendees (the first row of the CLI's table)."""
    attendees = _cli_part_table(ctx, "attendees")
    if len(attendees) < 2:
        raise CheckFailed(f"The demo has no attendees of {PART_STATE} events to compare.")
    return str(attendees[1][[str(t) for t in attendees[0]].index("Event UID")])


@check(
    "functions.values-match-cli",
    "worksheet functions",
    "SHEEP_EVENTS, SHEEP_COUNT and SHEEP_EVENT give what 'sheep-xl events' writes",
)
def values_match_cli(ctx: KitContext) -> str:
    udfs = _udfs()
    expected = ctx.cli_table(QUERY[1])
    with ctx.demo_env():
        udfs.clear_cache()
        table = _as_table(udfs.SHEEP_EVENTS(*QUERY))
        count = udfs.SHEEP_COUNT(*QUERY)
        header = [str(h) for h in expected[0]]
        uid_col, cap_col = header.index("UID"), header.index("Capacity")
        row = next(r for r in expected[1:] if r[cap_col] is not None)
        capacity = udfs.SHEEP_EVENT(BUCKET, row[uid_col], "capacity")
    problems = compare_tables(expected, table)
    if count != len(expected) - 1:
        problems.append(f"SHEEP_COUNT gave {count!r} for {len(expected) - 1} events")
    if cell_value(capacity) != cell_value(row[cap_col]):
        problems.append(f"SHEEP_EVENT capacity gave {capacity!r} instead of {row[cap_col]!r}")
    if problems:
        raise CheckFailed("The worksheet functions' values differ from the CLI's.", problems)
    kinds = {type(v).__name__ for r in table[1:] for v in r}
    return (
        f"{len(table) - 1} rows x {len(table[0])} columns equal the CLI's events.xlsx "
        f"(kinds: {', '.join(sorted(kinds))})"
    )


@check(
    "functions.parts-match-cli",
    "worksheet functions",
    "SHEEP_ATTENDEES, SHEEP_ORDERS, SHEEP_TICKETS and SHEEP_TICKET_TYPES give what 'sheep-xl "
    "attendees' (orders, tickets, ticket-types) writes, for one event and for a state",
)
def parts_match_cli(ctx: KitContext) -> str:
    udfs = _udfs()
    uid = _part_uid(ctx)
    problems: list[str] = []
    rows = 0
    with ctx.demo_env():
        udfs.clear_cache()
        for name, part in PART_FUNCTIONS.items():
            for target, by_uid in ((uid, uid), (PART_STATE, None)):
                expected = _cli_part_table(ctx, part, uid=by_uid)
                table = _as_table(getattr(udfs, name)(BUCKET, target), name)
                rows += len(table) - 1
                differences = compare_tables(expected, table, limit=3)
                problems += [f'{name}("{BUCKET}", "{target}"): {d}' for d in differences]
        before = ctx.requests()
        for name in PART_FUNCTIONS:
            getattr(udfs, name)(BUCKET, uid)
            getattr(udfs, name)(BUCKET, PART_STATE, "all", "header=false")
        again = ctx.requests() - before
    if again:
        problems.append(f"calling them again (other columns and options) made {again} requests")
    if problems:
        raise CheckFailed("The per-event worksheet functions differ from the CLI's.", problems)
    return (
        f"{len(PART_FUNCTIONS)} functions, for event {uid} and for {PART_STATE}: {rows} rows "
        "equal the CLI's tables; calling them again made no requests"
    )


@check(
    "functions.cache-storm",
    "worksheet functions",
    "Hundreds of calls for the same queries make one fetch, not one per cell",
)
def cache_storm(ctx: KitContext) -> str:
    udfs = _udfs()
    with ctx.demo_env():
        udfs.clear_cache()
        before = ctx.requests()
        udfs.SHEEP_EVENTS(*QUERY)
        first = ctx.requests() - before
        before = ctx.requests()
        for _ in range(100):
            udfs.SHEEP_EVENTS(*QUERY)
            udfs.SHEEP_COUNT(BUCKET, "cancelled")  # the same listing (all), classified here
        storm = ctx.requests() - before
    if first == 0 or storm:
        raise CheckFailed(
            f"The first call made {first} requests and 200 more calls made {storm}.",
            ["expected: at least one request first, then none while the cache holds"],
        )
    return f"the first call made {first} requests; 200 more calls made none"


def _spill(sheet: Any, anchor: str) -> list[list[Any]]:
    """What a spilled formula shows, read back from the sheet (Excel's SpillingToRange where
    it has one, else the region from the anchor)."""
    cell = sheet[anchor]
    address = attempt(lambda: cell.api.SpillingToRange.Address)
    rng = sheet.range(address) if isinstance(address, str) else cell.expand("table")
    values = rng.options(ndim=2).value
    return [list(row) for row in values]


def _enter(ctx: KitContext, sheet: Any, anchor: str, formula: str) -> None:
    cell = sheet[anchor]
    try:
        cell.formula2 = formula
    except Exception:  # an Excel without dynamic arrays
        cell.formula = formula


def _calculate(ctx: KitContext, full: bool = False) -> None:
    """Recalculate: ``full`` as Excel's Ctrl+Alt+F9 (every formula, cached or not)."""
    if full:
        try:
            ctx.app.api.CalculateFull()
            return
        except Exception:  # an Excel object model without it: an ordinary recalculation
            pass
    ctx.app.calculate()


@check(
    "functions.spill",
    "worksheet functions",
    f"{FORMULA} spills through XLPy.CallUDF the CLI's values, dates, booleans and blanks",
    real_excel=True,
    platforms=WINDOWS,
    requires=("addin.compiles",),
)
def spill(ctx: KitContext) -> str:
    ctx.point_excel_at_demo()
    expected = ctx.cli_table(QUERY[1])
    book = ctx.new_book()
    ctx.artifacts["function_book"] = book
    sheet = book.sheets[0]
    _enter(ctx, sheet, "A1", FORMULA)
    _calculate(ctx)
    seen = _spill(sheet, "A1")
    if len(seen) == 1 and len(seen[0]) == 1:
        raise CheckFailed(f"{FORMULA} did not spill: the cell shows {seen[0][0]!r}.")
    problems = compare_tables(expected, seen)
    if problems:
        as_text = text_instead_of_values(expected, seen)
        sentence = (
            f"The spill came back as text in {as_text} cells where numbers, dates or booleans "
            "belong."
            if as_text
            else "The spill differs from the CLI's table."
        )
        raise CheckFailed(sentence, problems)
    ctx.artifacts["spill_requests"] = ctx.requests()
    return f"{len(seen) - 1} rows x {len(seen[0])} columns spilled, equal to the CLI's"


@check(
    "functions.other-functions",
    "worksheet functions",
    "SHEEP_COUNT, SHEEP_EVENT, SHEEP_STATES and SHEEP_COLUMNS give their Python values in Excel",
    real_excel=True,
    platforms=WINDOWS,
    requires=("functions.spill",),
)
def other_functions(ctx: KitContext) -> str:
    udfs = _udfs()
    expected = ctx.cli_table(QUERY[1])
    header = [str(h) for h in expected[0]]
    uid = expected[1][header.index("UID")]
    sheet = ctx.artifacts["function_book"].sheets.add()
    formulas = {
        "A1": (f'=SHEEP_COUNT("{BUCKET}","{QUERY[1]}")', [[len(expected) - 1]]),
        "B1": (f'=SHEEP_EVENT("{BUCKET}","{uid}","title")', [[expected[1][0]]]),
        "D1": ("=SHEEP_STATES()", udfs.SHEEP_STATES()),
        "H1": ("=SHEEP_COLUMNS()", udfs.SHEEP_COLUMNS()),
    }
    for anchor, (formula, _) in formulas.items():
        _enter(ctx, sheet, anchor, formula)
    _calculate(ctx)
    problems = []
    for anchor, (formula, want) in formulas.items():
        got = _spill(sheet, anchor) if len(want) > 1 else [[sheet[anchor].value]]
        problems += [f"{formula}: {p}" for p in compare_tables(want, got, limit=3)]
    if problems:
        raise CheckFailed("Some worksheet functions gave other values in Excel.", problems)
    return f"{len(formulas)} formulas gave their Python values"


@check(
    "functions.parts-spill",
    "worksheet functions",
    "SHEEP_ATTENDEES, SHEEP_ORDERS, SHEEP_TICKETS and SHEEP_TICKET_TYPES of one event spill the "
    "CLI's values in Excel",
    real_excel=True,
    platforms=WINDOWS,
    requires=("functions.spill",),
)
def parts_spill(ctx: KitContext) -> str:
    uid = _part_uid(ctx)
    book = ctx.artifacts["function_book"]
    problems: list[str] = []
    for name, part in PART_FUNCTIONS.items():
        expected = _cli_part_table(ctx, part, uid=uid)
        sheet = book.sheets.add()
        formula = f'={name}("{BUCKET}","{uid}")'
        _enter(ctx, sheet, "A1", formula)
        _calculate(ctx)
        seen = _spill(sheet, "A1")
        if len(seen) == 1 and len(seen[0]) == 1 and len(expected) > 1:
            problems.append(f"{formula} did not spill: the cell shows {seen[0][0]!r}")
            continue
        problems += [f"{formula}: {p}" for p in compare_tables(expected, seen, limit=3)]
    if problems:
        raise CheckFailed("Some per-event functions spilled other values than the CLI's.", problems)
    return f"{len(PART_FUNCTIONS)} formulas for event {uid} spilled the CLI's tables"


@check(
    "functions.recalc-storm",
    "worksheet functions",
    "Full recalculations of a sheet of SheepCRM formulas make no new requests",
    real_excel=True,
    platforms=WINDOWS,
    requires=("functions.spill",),
)
def recalc_storm(ctx: KitContext) -> str:
    sheet = ctx.artifacts["function_book"].sheets.add()
    for i in range(1, STORM_CELLS + 1):
        _enter(ctx, sheet, f"A{i}", f'=SHEEP_COUNT("{BUCKET}","{QUERY[1]}")')
        _enter(ctx, sheet, f"B{i}", f'=SHEEP_COUNT("{BUCKET}","cancelled")')
    _calculate(ctx)
    before = ctx.requests()
    for _ in range(3):
        _calculate(ctx, full=True)
    storm = ctx.requests() - before
    if storm:
        raise CheckFailed(
            f"Three full recalculations of {2 * STORM_CELLS} formulas made {storm} requests.",
            ["the worksheet functions' cache should have answered them all"],
        )
    return f"three full recalculations of {2 * STORM_CELLS} formulas made no requests"


@check(
    "functions.mac-says-windows-only",
    "worksheet functions",
    "On a Mac a SheepCRM formula says in one sentence that it needs Excel for Windows",
    real_excel=True,
    platforms=MAC,
    requires=("addin.compiles",),
)
def mac_message(ctx: KitContext) -> str:
    book = ctx.new_book()
    sheet = book.sheets[0]
    _enter(ctx, sheet, "A1", FORMULA)
    _calculate(ctx)
    shown = sheet["A1"].value
    if not (isinstance(shown, str) and "need Excel for Windows" in shown):
        raise CheckFailed(f"{FORMULA} shows {shown!r} on this Mac.")
    ctx.close(book)
    return f"the cell says {shown!r}"
