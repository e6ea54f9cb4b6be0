"""What is inside events -> typed DataFrames: one row per attendee, order and currency, ticket
or ticket type, each starting with the event it belongs to; or one row per full event.

The answers are read as sent: a missing or null field is an empty cell, fields sheep-xl does
not know are kept under ``all``, and the typing, text safety and warnings are the events
table's (`records.records_frame`). Orders are flattened here: an ``Order``'s ``order_total``
maps currencies to amounts, so each order gives one row per currency (an order without totals
still gives one row, with the amounts empty). The frames carry their catalogue's fields, so
``tables.plan.plan_table`` formats money, counts, dates and links as for events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from sheep_xl.api.event_parts import event_part
from sheep_xl.frames.catalogue import Catalogue
from sheep_xl.frames.columns import ColumnsArg, ColumnSelection, resolve_columns
from sheep_xl.frames.convert import events_frame
from sheep_xl.frames.event_catalogues import (
    ATTENDEES,
    FULL_EVENT,
    LISTED_TICKET_TYPES,
    ORDER_CURRENCY,
    ORDER_TOTAL_FIELDS,
    ORDERS,
    TICKET_TYPES,
    TICKETS,
)
from sheep_xl.frames.records import records_frame

if TYPE_CHECKING:  # a type only: reading the catalogues needs no HTTP stack
    from sheep_xl.api.per_event import EventResult

Record = dict[str, Any]
Rows = tuple[list[Record], int]  # rows, and how many values could not be read into rows

#: Each part's catalogue (``event``: the full EventSingle).
CATALOGUES: dict[str, Catalogue] = {
    "event": FULL_EVENT,
    "attendees": ATTENDEES,
    "orders": ORDERS,
    "tickets": TICKETS,
    "ticket-types": TICKET_TYPES,
}


def catalogue_for(part: str) -> Catalogue:
    return CATALOGUES[event_part(part).name]


def resolve_part_columns(part: str, columns: ColumnsArg = None) -> ColumnSelection:
    """The columns of ``part`` a user asked for: unknown names fail before any request."""
    return resolve_columns(columns, catalogue_for(part))


def event_context(event: Mapping[str, Any]) -> Record:
    """The first three columns of every per-event row: the event's uid, title and start date
    (``start_date``, else the date part of ``start_datetime``)."""
    start = event.get("start_date")
    if not isinstance(start, str) or not start:
        when = event.get("start_datetime")
        start = when[:10] if isinstance(when, str) and len(when) >= 10 else None
    return {
        "event_uid": event.get("uid"),
        "event_title": event.get("title"),
        "event_start_date": start,
    }


# --- rows of each part ------------------------------------------------------------------------


def _items(body: Mapping[str, Any], key: str) -> list[Record]:
    value = body.get(key)
    if isinstance(value, Mapping):
        value = list(value.values())
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def attendee_rows(body: Mapping[str, Any]) -> Rows:
    return _items(body, "sessions"), 0


def ticket_rows(body: Mapping[str, Any]) -> Rows:
    return _items(body, "tickets"), 0


def ticket_type_rows(body: Mapping[str, Any]) -> Rows:
    return _items(body, "available_tickets"), 0


_TOTAL_NAMES = tuple(f.name for f in ORDER_TOTAL_FIELDS)


def order_rows(body: Mapping[str, Any]) -> Rows:
    """One row per order and currency. ``buyers`` maps a buyer URI to an ``Order``; the URI
    fills ``buyer`` when the order leaves it out."""
    buyers = body.get("buyers")
    if not isinstance(buyers, Mapping):
        return [], 0
    rows: list[Record] = []
    unreadable = 0
    for buyer, order in buyers.items():
        if not isinstance(order, Mapping):
            continue
        base = {k: v for k, v in order.items() if k != "order_total"}
        if base.get("buyer") in (None, ""):
            base["buyer"] = buyer
        totals = order.get("order_total")
        if isinstance(totals, Mapping) and totals:
            for currency, amounts in totals.items():
                row = {**base, ORDER_CURRENCY.name: currency}
                if isinstance(amounts, Mapping):
                    row.update({n: amounts.get(n) for n in _TOTAL_NAMES})
                    row.update({k: v for k, v in amounts.items() if k not in row})
                else:
                    unreadable += 1
                rows.append(row)
        else:
            if totals is not None and not isinstance(totals, Mapping):
                unreadable += 1
            rows.append(base)  # no totals: one row, amounts empty
    return rows, unreadable


ROWS: dict[str, Callable[[Mapping[str, Any]], Rows]] = {
    "attendees": attendee_rows,
    "orders": order_rows,
    "tickets": ticket_rows,
    "ticket-types": ticket_type_rows,
}


# --- frames -----------------------------------------------------------------------------------


def part_frame(
    part: str, results: Iterable[EventResult], columns: ColumnsArg = None
) -> pd.DataFrame:
    """A typed frame of ``part`` for the events in ``results`` (in their order)."""
    name = event_part(part).name
    selection = resolve_part_columns(name, columns)
    if name == "event":
        return full_events_frame([r.body for r in results], selection)
    rows: list[Record] = []
    unreadable = 0
    for result in results:
        items, bad = ROWS[name](result.body)
        context = event_context(result.event)
        rows.extend({**item, **context} for item in items)
        unreadable += bad
    notes = (
        [
            f"{unreadable} order total(s) were not a map of currency to amounts, so their "
            "amounts were left empty."
        ]
        if unreadable
        else []
    )
    return records_frame(rows, CATALOGUES[name], selection, warnings=notes)


def full_events_frame(
    records: Iterable[Mapping[str, Any]], columns: ColumnsArg = None
) -> pd.DataFrame:
    """Full events (getEvent), one row each; ``default`` adds planning and money columns to the
    events table's own."""
    return events_frame(records, resolve_columns(columns, FULL_EVENT))


def listed_ticket_types_frame(
    events: Iterable[Mapping[str, Any]], columns: ColumnsArg = None
) -> pd.DataFrame:
    """The ``ticket_types`` map the events listing already holds, one row per event and ticket
    type, with the type's ``income`` from ``ticket_type_income``: no request per event."""
    selection = resolve_columns(columns, LISTED_TICKET_TYPES)
    rows: list[Record] = []
    for event in events:
        types = event.get("ticket_types")
        if not isinstance(types, Mapping):
            continue
        income = event.get("ticket_type_income")
        income = income if isinstance(income, Mapping) else {}
        context = event_context(event)
        for key, value in types.items():
            item = dict(value) if isinstance(value, Mapping) else {}
            rows.append({**item, "ticket_type": key, "income": income.get(key), **context})
    return records_frame(rows, LISTED_TICKET_TYPES, selection)
