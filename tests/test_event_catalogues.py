"""The catalogues of what is inside each event, against sheepCRM's official OpenAPI description
(as test_catalogue does for events)."""

from __future__ import annotations

from typing import Any

import pytest
from test_catalogue import REF_KINDS, TYPE_KINDS

from sheep_xl.frames.catalogue import BY_NAME, CATALOGUE, KINDS, Catalogue
from sheep_xl.frames.event_catalogues import (
    ATTENDEE_FIELDS,
    ATTENDEES,
    CONTEXT_NAMES,
    FULL_EVENT,
    LISTED_TICKET_TYPES,
    ORDER_CURRENCY,
    ORDER_FIELDS,
    ORDER_TOTAL_FIELDS,
    ORDERS,
    TICKET_FIELDS,
    TICKET_TYPE_FIELDS,
    TICKET_TYPES,
    TICKETS,
)

# How the per-event schemas' references and types map to kinds, beyond the events' own.
PART_REF_KINDS = {
    **REF_KINDS,
    "email": {"text"},
    "currency": {"text"},
    "number_as_string": {"number"},  # a decimal sent as text: typed as a number on purpose
    "sort_order": {"number"},
}


def expected_kinds(schema: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        return PART_REF_KINDS[schema["$ref"].rsplit("/", 1)[-1]]
    if not schema:
        return {"text"}  # {}: any type, shown as text (JSON for objects)
    if schema.get("type") == "object":
        return {"map"} if "additionalProperties" in schema else {"object"}
    return TYPE_KINDS[schema["type"]]


def schemas(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    s = spec["components"]["schemas"]
    order = dict(s["Order"]["properties"])
    order.pop("order_total")
    return {
        "attendee": s["EventAttendanceList"]["properties"]["sessions"]["items"]["properties"],
        "order": order,
        "order total": s["OrderTotal"]["properties"],
        "ticket": s["TicketExpanded"]["properties"],
        "ticket type": s["EventAvailableTickets"]["properties"]["available_tickets"]["items"][
            "properties"
        ],
    }


FIELDS = {
    "attendee": ATTENDEE_FIELDS,
    "order": ORDER_FIELDS,
    "order total": ORDER_TOTAL_FIELDS,
    "ticket": TICKET_FIELDS,
    "ticket type": TICKET_TYPE_FIELDS,
}


@pytest.mark.parametrize("kind", sorted(FIELDS))
def test_each_catalogue_matches_its_schema(openapi_spec: dict[str, Any], kind: str) -> None:
    props = schemas(openapi_spec)[kind]
    fields = FIELDS[kind]
    assert [f.name for f in fields] == list(props), "every field, in the spec's order"
    wrong = {
        f.name: (f.kind, sorted(expected_kinds(props[f.name])))
        for f in fields
        if f.kind not in expected_kinds(props[f.name])
    }
    assert wrong == {}


def test_order_rows_are_order_then_currency_then_totals(openapi_spec: dict[str, Any]) -> None:
    order = openapi_spec["components"]["schemas"]["Order"]["properties"]
    # the spec lists currencies as properties (gbp, eur, usd) of order_total; rows take any key
    assert set(order["order_total"]["properties"]) == {"gbp", "eur", "usd"}
    names = [f.name for f in ORDERS.fields]
    assert names == [
        *CONTEXT_NAMES,
        *(f.name for f in ORDER_FIELDS),
        ORDER_CURRENCY.name,
        *(f.name for f in ORDER_TOTAL_FIELDS),
    ]


def test_the_full_event_is_every_eventsingle_field(openapi_spec: dict[str, Any]) -> None:
    props = openapi_spec["components"]["schemas"]["EventSingle"]["properties"]
    assert [f.name for f in FULL_EVENT.fields] == list(props)
    detail = {"dietary_requirements", "catering", "setup_notes", "invoice_total"}
    assert detail | {"start_sales_date", "balance"} <= set(FULL_EVENT.defaults)


def test_the_listed_ticket_types_cover_the_demo_map() -> None:
    import datetime as dt

    from sheep_xl.demo.data import demo_events

    keys = {
        k
        for r in demo_events(dt.date(2026, 11, 24))
        for t in (r.get("ticket_types") or {}).values()
        for k in t
    }
    assert keys <= {f.name for f in LISTED_TICKET_TYPES.fields}


@pytest.mark.parametrize(
    "catalogue", [ATTENDEES, ORDERS, TICKETS, TICKET_TYPES, LISTED_TICKET_TYPES, FULL_EVENT]
)
def test_catalogues_are_self_consistent(catalogue: Catalogue) -> None:
    names = [f.name for f in catalogue.fields]
    titles = [f.title.lower() for f in catalogue.fields]
    assert len(set(names)) == len(names)
    assert len(set(titles)) == len(titles), "titles are unique"
    assert {f.kind for f in catalogue.fields} <= set(KINDS)
    assert set(catalogue.defaults) <= set(names) | {f.name for f in catalogue.derived}
    if catalogue is not FULL_EVENT:
        assert names[:3] == list(CONTEXT_NAMES), "the event comes first, in default and all"
        assert catalogue.defaults[:3] == CONTEXT_NAMES
    for fld in catalogue.fields:  # money and counts are formatted as such
        if fld.kind == "number":
            assert fld.number_style in ("money", "count", "number")


def test_money_and_counts_are_formatted() -> None:
    by_name = {f.name: f for f in ORDERS.fields}
    assert by_name["outstanding"].number_format.code == "#,##0.00"
    assert by_name["tickets"].number_format.code == "#,##0"
    assert {f.name: f for f in TICKET_TYPES.fields}["amount"].number_format.code == "#,##0.00"


def test_the_events_catalogue_is_unchanged() -> None:
    assert len(CATALOGUE) == 158 and BY_NAME["title"].title == "Title"
