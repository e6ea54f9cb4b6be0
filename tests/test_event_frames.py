"""Typed frames of what is inside events: every kind of field of every record kind, the orders'
currency map flattened, column selection, and the table plans built from them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from sheep_xl.api.per_event import EventResult
from sheep_xl.exceptions import UnknownColumnsError
from sheep_xl.frames.convert import column_specs, frame_warnings
from sheep_xl.frames.event_parts import (
    full_events_frame,
    listed_ticket_types_frame,
    part_frame,
    resolve_part_columns,
)
from sheep_xl.frames.fetch_parts import fetch_part_frame
from sheep_xl.tables.plan import plan_table

EVENT = {"uid": "e1", "title": "Zürich study tour", "start_date": "2026-11-22"}
ZURICH = "2bb96d6b308e1412b04361b0"


def results(body: dict[str, Any], event: dict[str, Any] | None = None) -> list[EventResult]:
    return [EventResult(event or EVENT, body)]


def test_attendees_are_typed() -> None:
    body = {
        "sessions": [
            {
                "attendee_name": "Zoë O'Brien",
                "attendee_email": "zoe@example.org",
                "guest": True,
                "created": "2026-10-01T09:30:00.123000",
                "status": "=accepted",  # a formula-like value stays text
                "person_ref": "/example/person/p1/",
                "uid": "s1",
                "nickname": "Zo",  # not in the spec: kept under "all"
            },
            {"attendee_name": None, "guest": None, "created": "2026-13-45T00:00:00.000000"},
        ]
    }
    frame = part_frame("attendees", results(body), "all")
    assert list(frame.columns[:4]) == ["Event UID", "Event", "Event start date", "Email"]
    assert frame["Event"].tolist() == ["Zürich study tour"] * 2
    assert frame["Event start date"].dtype == "datetime64[us]"
    assert frame["Event start date"][0] == pd.Timestamp("2026-11-22")
    assert str(frame["Guest"].dtype) == "boolean" and frame["Guest"][0] == True  # noqa: E712
    assert frame["Guest"].isna()[1]
    assert frame["Created"][0] == pd.Timestamp("2026-10-01 09:30:00.123")
    assert pd.isna(frame["Created"][1])
    assert frame["Status"][0] == "=accepted"
    assert frame["nickname"][0] == "Zo"
    assert any("could not be read" in w for w in frame_warnings(frame))
    plan = plan_table(frame, "Attendees")
    kinds = {c.title: c.kind for c in plan.columns}
    assert kinds["Person URI"] == "uri" and kinds["Created"] == "datetime"
    assert plan.rows[0][:3] == ["e1", "Zürich study tour", dt.date(2026, 11, 22)]


def test_orders_are_flattened_one_row_per_currency() -> None:
    body = {
        "buyers": {
            "/example/person/b1/": {
                "buyer_index_name": "Ødegaard, Søren",
                "order_date": "2026-09-01T10:00:00.000000",
                "tickets": 3,
                "currencies": ["gbp", "eur"],
                "order_total": {
                    "gbp": {
                        "total": 120.5,
                        "paid": 60.25,
                        "outstanding": 60.25,
                        "processing_fees": 1.04,
                        "fully_paid": False,
                    },
                    "eur": {
                        "total": 80,
                        "paid": 80,
                        "outstanding": 0,
                        "processing_fees": 0,
                        "fully_paid": True,
                    },
                },
            },
            "/example/person/b2/": {"buyer_index_name": "Khan, Zainab", "order_total": None},
            "/example/person/b3/": {"buyer_index_name": "Lee, Mei", "order_total": [1]},
        },
        "number_of_orders": 3,
    }
    frame = part_frame("orders", results(body))
    assert frame["Currency"].tolist()[:2] == ["gbp", "eur"]
    assert len(frame) == 4, "two currencies, then one row for each order without totals"
    assert frame["Total"].tolist()[:2] == [120.5, 80.0]
    assert frame["Outstanding"].tolist()[:2] == [60.25, 0.0]
    assert str(frame["Total"].dtype) == "Float64" and str(frame["Fully paid"].dtype) == "boolean"
    assert frame["Fully paid"].tolist()[:2] == [False, True]
    assert frame["Buyer URI"].tolist() == [
        "/example/person/b1/",
        "/example/person/b1/",
        "/example/person/b2/",
        "/example/person/b3/",
    ], "the map's key fills a missing buyer"
    assert frame["Tickets"][0] == 3 and frame["Order date"][0] == pd.Timestamp("2026-09-01 10:00")
    assert frame["Total"].isna().tolist()[2:] == [True, True]
    assert any("order total(s)" in w for w in frame_warnings(frame))
    formats = {c.title: c.number_format.code for c in plan_table(frame, "Orders").columns}
    assert formats["Total"] == formats["Outstanding"] == "#,##0.00"
    assert formats["Tickets"] == "#,##0" and formats["Order date"] == "m/d/yyyy h:mm"


def test_tickets_and_ticket_types_are_typed() -> None:
    tickets = part_frame(
        "tickets",
        results(
            {
                "tickets": [
                    {
                        "amount": 12.5,
                        "currency": "gbp",
                        "quantity": 1,
                        "tax_rate": 0.2,
                        "record_state": "cancelled",
                        "purchase_date": "2026-10-02T11:00:00.000000",
                        "reference": {"order": 7},  # the spec leaves it untyped
                    }
                ]
            }
        ),
        "all",
    )
    assert tickets["Amount"][0] == 12.5 and tickets["Tax rate"][0] == 0.2
    assert tickets["Reference"][0] == '{"order":7}'
    types = part_frame(
        "ticket-types",
        results(
            {
                "available_tickets": [
                    {
                        "name": "Member",
                        "amount": "1,295.50",  # number_as_string
                        "member_only": True,
                        "tags": ["members", "early"],
                        "number_of_attendees_per_ticket": "10",
                        "available_from_date": {"date": "2026-01-01"},
                    }
                ]
            }
        ),
        "all",
    )
    assert types["Price"][0] == 1295.5 and types["Attendees per ticket"][0] == 10
    assert types["Tags"][0] == "members; early"
    assert types["Available from"][0] == '{"date":"2026-01-01"}'
    assert types["Members only"][0] == True  # noqa: E712


def test_missing_lists_give_no_rows_but_the_columns() -> None:
    for part, body in (
        ("attendees", {"sessions": None}),
        ("orders", {}),
        ("tickets", {"tickets": []}),
        ("ticket-types", {}),
    ):
        frame = part_frame(part, results(body))
        assert len(frame) == 0 and list(frame.columns[:3]) == [
            "Event UID",
            "Event",
            "Event start date",
        ]
        plan_table(frame, "T")


def test_columns_are_chosen_per_kind() -> None:
    frame = part_frame(
        "attendees", results({"sessions": [{"attendee_name": "A"}]}), "Attendee, event start date"
    )
    assert list(frame.columns) == ["Attendee", "Event start date"]
    with pytest.raises(UnknownColumnsError, match="did you mean 'attendee_email'") as info:
        resolve_part_columns("attendees", "attendee_emial")
    assert "attendee field names" in str(info.value)
    assert resolve_part_columns("orders").fields[:3] == (
        "event_uid",
        "event_title",
        "event_start_date",
    )


def test_the_event_start_date_falls_back_to_the_datetime() -> None:
    event = {"uid": "e2", "title": "T", "start_datetime": "2026-12-01T18:00:00.000000"}
    frame = part_frame("tickets", results({"tickets": [{}]}, event))
    assert frame["Event start date"][0] == pd.Timestamp("2026-12-01")


def test_full_events_have_the_detail_defaults() -> None:
    frame = full_events_frame(
        [{"title": "X", "dietary_requirements": "2 vegan", "balance": 10, "catering": True}]
    )
    assert {"Dietary requirements", "Balance", "Catering", "Sales start date"} <= set(frame.columns)
    assert frame["Balance"][0] == 10 and frame["Catering"][0] == True  # noqa: E712
    assert column_specs(frame)[list(frame.columns).index("Balance")].field.number_style == "money"


def test_listed_ticket_types_need_no_request() -> None:
    events: list[dict[str, Any]] = [
        {
            **EVENT,
            "ticket_types": {
                "member": {"name": "Member", "price": 10.0, "currency": "GBP", "allocated": 3},
                "guest": {"name": "Guest", "price": 12.5, "currency": "EUR", "allocated": 2},
            },
            "ticket_type_income": {"member": 30.0, "guest": 25.0},
        },
        {"uid": "e3", "title": "Free talk"},  # no map: no rows
    ]
    frame = listed_ticket_types_frame(events)
    assert frame["Ticket type"].tolist() == ["Member", "Guest"]
    assert frame["Income"].tolist() == [30.0, 25.0]
    assert frame["Currency"].tolist() == ["GBP", "EUR"]


def test_every_kind_from_the_demo_server(demo_client: Any) -> None:
    """Every part of a real answer, typed: dtype per kind, every row with its event."""
    expected = {
        "attendees": {"Guest": "boolean", "Created": "datetime64[us]"},
        "orders": {"Total": "Float64", "Fully paid": "boolean"},
        "tickets": {"Amount": "Float64", "Purchase date": "datetime64[us]"},
        "ticket-types": {"Price": "Float64", "Members only": "boolean"},
        "event": {"Start date": "datetime64[us]", "Capacity": "Float64"},
    }
    for part, dtypes in expected.items():
        fetched = fetch_part_frame(demo_client, "example", part, uid=ZURICH, columns="all")
        frame = fetched.frame
        assert len(frame) >= 1 and fetched.failures == []
        for title, dtype in dtypes.items():
            assert str(frame[title].dtype) == dtype, (part, title)
        if part != "event":
            assert set(frame["Event"]) == {"Zürich study tour"}
        plan = plan_table(frame, "T")
        assert plan.n_rows == len(frame)
    orders = fetch_part_frame(demo_client, "example", "orders", uid=ZURICH).frame
    assert set(orders["Currency"]) == {"chf", "eur"}
