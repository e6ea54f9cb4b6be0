"""What is inside each event, endpoint by endpoint: the paths, and the shape each answer must
have before anything is read from it.

======================  ===================================  ==============================
part                    path under ``/booking/{uid}``        answer (spec schema)
======================  ===================================  ==============================
``event``               (none: the event itself)             ``EventSingle``
``attendees``           ``attendance/all``                   ``EventAttendanceList``
``orders``              ``orders``                           ``OrdersList``
``tickets``             ``tickets/all``                      ``TicketsList``
``ticket-types``        ``available_tickets``                ``EventAvailableTickets``
======================  ===================================  ==============================

The spec documents ``attendance`` as an alias of ``attendance/all``; sheep-xl asks for the
``/all`` form, whose operation (getEventAttendanceAll) is the one documented as a list.

A missing or ``null`` list (no ``sessions``, ``buyers: null``) means none, as missing fields do
everywhere in sheep-xl; a list of the wrong type means the answer is not what was asked for,
which is an error naming the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sheep_xl.config import ENV_API_URL
from sheep_xl.exceptions import InputError, UnexpectedResponseError

Record = dict[str, Any]


@dataclass(frozen=True)
class EventPart:
    name: str  # as the command line and the library call it
    path: str  # below /events/v2/{bucket}/booking/{uid}; "" for the event itself
    operation: str  # the spec's operationId
    schema: str  # the spec's response schema
    container: str | None  # the key holding the records
    container_type: type  # list or dict
    what: str  # for messages: "attendees"


PARTS: dict[str, EventPart] = {
    p.name: p
    for p in (
        EventPart("event", "", "getEvent", "EventSingle", None, dict, "details"),
        EventPart(
            "attendees",
            "attendance/all",
            "getEventAttendanceAll",
            "EventAttendanceList",
            "sessions",
            list,
            "attendees",
        ),
        EventPart("orders", "orders", "getEventOrders", "OrdersList", "buyers", dict, "orders"),
        EventPart(
            "tickets",
            "tickets/all",
            "getEventTicketsAll",
            "TicketsList",
            "tickets",
            list,
            "tickets",
        ),
        EventPart(
            "ticket-types",
            "available_tickets",
            "getEventAvailableTickets",
            "EventAvailableTickets",
            "available_tickets",
            list,
            "ticket types",
        ),
    )
}
PART_NAMES: tuple[str, ...] = tuple(PARTS)


def event_part(name: str) -> EventPart:
    """The part called ``name`` (``attendees``, ``orders``...); anything else is bad input."""
    try:
        return PARTS[str(name).strip().lower()]
    except KeyError:
        raise InputError(
            f"Unknown part of an event {str(name)[:40]!r}: use one of {', '.join(PART_NAMES)}."
        ) from None


def check_part_body(body: Any, part: EventPart, host: str, uid: str) -> Record:
    """``body`` when it has the part's shape; an error that names the event otherwise."""
    if not isinstance(body, dict):
        raise UnexpectedResponseError(
            f"The sheepCRM API at {host} sent {type(body).__name__} instead of the "
            f"{part.what} of event '{uid}': check the API address ({ENV_API_URL}), or try again "
            "later."
        )
    if part.container is None:
        return body
    records = body.get(part.container)
    if records is None:
        return body  # none: read as an empty list or map
    if not isinstance(records, part.container_type):
        expected = "an object" if part.container_type is dict else "a list"
        raise UnexpectedResponseError(
            f"The {part.what} of event '{uid}' from {host} have '{part.container}' as "
            f"{type(records).__name__} instead of {expected}: try again later, and tell "
            "sheepCRM support if it persists."
        )
    items: list[Any] = []
    if isinstance(records, dict):
        items = list(records.values())
    elif isinstance(records, list):
        items = records
    for index, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise UnexpectedResponseError(
                f"Item {index} of the {part.what} of event '{uid}' from {host} is "
                f"{type(item).__name__} instead of an object: try again later, and tell "
                "sheepCRM support if it persists."
            )
    return body
