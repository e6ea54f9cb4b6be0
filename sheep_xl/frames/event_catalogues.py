"""Field catalogues of what is inside each event: attendees, orders, tickets, ticket types, and
the full event.

Each follows a schema of sheepCRM's official OpenAPI description, in the spec's order; a test
compares them (``tests/test_event_catalogues.py``). Kinds mean what they mean for events (see
``catalogue``), with two readings the spec's types do not give by themselves:

* ``number_as_string`` (a decimal sent as text, e.g. a ticket type's ``amount`` ``"12.50"``) is
  catalogued as a number, so prices sum and sort in Excel;
* ``email`` and ``currency`` are plain text (an e-mail address is not made a link: a click would
  start writing to an attendee).

Every row of a per-event table starts with the event it belongs to (`CONTEXT`: uid, title, start
date), so tables holding many events can be filtered and pivoted by event. Those three columns
are sheep-xl's, not the API's, and come first in ``default`` and in ``all``.

Orders are flattened: ``order_total`` maps a currency code to paid/outstanding/fees/total, so an
order becomes one row per currency, with the code in ``currency`` (`ORDERS`).
"""

from __future__ import annotations

from sheep_xl.frames.catalogue import CATALOGUE, DEFAULT_COLUMNS, DERIVED, Catalogue, Field

F = Field

#: The event a row belongs to, first in every per-event table (filled by sheep-xl).
CONTEXT: tuple[Field, ...] = (
    F("event_uid", "text", "Event UID"),
    F("event_title", "text", "Event"),
    F("event_start_date", "date", "Event start date"),
)
CONTEXT_NAMES: tuple[str, ...] = tuple(f.name for f in CONTEXT)

# fmt: off
# EventAttendanceList.sessions[] (getEventAttendanceAll)
ATTENDEE_FIELDS: tuple[Field, ...] = (
    F("attendee_email", "text", "Email"),
    F("attendee_name", "text", "Attendee"),
    F("created", "datetime", "Created"),
    F("display_value", "text", "Display value"),
    F("guest", "bool", "Guest"),
    F("guest_ref", "uri", "Guest URI"),
    F("last_updated", "datetime", "Last updated"),
    F("person_ref", "uri", "Person URI"),
    F("record_state", "text", "Record state"),
    F("status", "text", "Status"),
    F("ticket", "text", "Ticket"),
    F("ticket_ref", "uri", "Ticket URI"),
    F("uid", "text", "UID"),
    F("uri", "uri", "URI"),
)

# Order (OrdersList.buyers values) without order_total, which is flattened into the rows
ORDER_FIELDS: tuple[Field, ...] = (
    F("attendee_count", "number", "Attendees", "count"),
    F("buyer", "uri", "Buyer URI"),
    F("buyer_index_name", "text", "Buyer"),
    F("currencies", "list", "Currencies"),
    F("order_date", "datetime", "Order date"),
    F("tickets", "number", "Tickets", "count"),
    F("tickets_as_string", "text", "Tickets bought"),
)
#: The key of ``order_total``: one row per currency of an order.
ORDER_CURRENCY = F("currency", "text", "Currency")
# OrderTotal (the values of Order.order_total)
ORDER_TOTAL_FIELDS: tuple[Field, ...] = (
    F("fully_paid", "bool", "Fully paid"),
    F("outstanding", "number", "Outstanding", "money"),
    F("paid", "number", "Paid", "money"),
    F("processing_fees", "number", "Processing fees", "money"),
    F("total", "number", "Total", "money"),
)

# TicketsList.tickets[] (TicketExpanded, getEventTicketsAll)
TICKET_FIELDS: tuple[Field, ...] = (
    F("activity", "text", "Activity"),
    F("amount", "number", "Amount", "money"),
    F("booking", "uri", "Event URI"),
    F("booking_display", "text", "Event name"),
    F("buyer", "uri", "Buyer URI"),
    F("buyer_display", "text", "Buyer"),
    F("created", "datetime", "Created"),
    F("currency", "text", "Currency"),
    F("date", "datetime", "Date"),
    F("display_value", "text", "Display value"),
    F("formatted_title", "text", "Formatted title"),
    F("last_updated", "datetime", "Last updated"),
    F("legacy_uid", "text", "Legacy UID"),
    F("number_of_attendees", "number", "Attendees", "count"),
    F("purchase_date", "datetime", "Purchase date"),
    F("quantity", "number", "Quantity", "count"),
    F("record_state", "text", "Record state"),
    F("reference", "text", "Reference"),
    F("tax_rate", "number", "Tax rate", "number"),
    F("ticket_id", "text", "Ticket ID"),
    F("ticket_type", "uri", "Ticket type URI"),
    F("ticket_type_display", "text", "Ticket type"),
    F("uid", "text", "UID"),
    F("uri", "uri", "URI"),
    F("venue", "text", "Venue"),
    F("xero_account_code", "text", "Xero account code"),
)

# EventAvailableTickets.available_tickets[] (getEventAvailableTickets)
TICKET_TYPE_FIELDS: tuple[Field, ...] = (
    F("access_code", "text", "Access code"),
    F("allocated", "number", "Allocated", "count"),
    F("amount", "number", "Price", "money"),
    F("available", "number", "Available", "count"),
    F("available_from_date", "object", "Available from"),
    F("currency", "text", "Currency"),
    F("description", "text", "Description"),
    F("member_only", "bool", "Members only"),
    F("name", "text", "Ticket type"),
    F("number_of_attendees_per_ticket", "number", "Attendees per ticket", "count"),
    F("pricing", "text", "Pricing (deprecated)"),
    F("reserved", "number", "Reserved", "count"),
    F("single_use", "bool", "Single use"),
    F("sort_order", "number", "Sort order", "number"),
    F("tags", "list", "Tags"),
    F("tax", "text", "Tax"),
    F("total", "number", "Total", "count"),
    F("uri", "uri", "URI"),
    F("xero_account_code", "text", "Xero account code"),
)

# The events listing's own ``ticket_types`` map (EventSingle.ticket_types): the spec says only
# "a map of objects", so these are the fields seen in its values; others are kept under "all".
LISTED_TICKET_TYPE_FIELDS: tuple[Field, ...] = (
    F("ticket_type", "text", "Ticket type key"),  # the map's key
    F("name", "text", "Ticket type"),
    F("price", "number", "Price", "money"),
    F("currency", "text", "Currency"),
    F("allocated", "number", "Allocated", "count"),
    F("member_only", "bool", "Members only"),
    F("sort_order", "number", "Sort order", "number"),
    F("on_sale", "bool", "On sale"),
    F("income", "number", "Income", "money"),  # ticket_type_income[key] of the same event
)
# fmt: on

# The fields a full event adds to what an events manager sees first: planning, catering and
# dietary needs, invoicing and sales dates, the parts the listing's summary packet leaves out.
FULL_EVENT_DEFAULTS: tuple[str, ...] = (
    *DEFAULT_COLUMNS[:-1],  # everything but uid, which stays last
    "start_sales_date",
    "booking_contact",
    "billing_contact",
    "setup_notes",
    "layout_requirements",
    "timing_notes",
    "takedown_notes",
    "catering",
    "catering_by",
    "catering_notes",
    "dietary_requirements",
    "menu_notes",
    "bar_requested",
    "invoice_status",
    "invoice_currency",
    "invoice_total",
    "invoice_total_inc_tax",
    "balance",
    "important_information_for_attendees",
    "uid",
)


def _per_event(noun: str, fields: tuple[Field, ...], defaults: tuple[str, ...]) -> Catalogue:
    return Catalogue(
        noun,
        (*CONTEXT, *fields),
        (*CONTEXT_NAMES, *defaults),
        examples=(CONTEXT_NAMES[1], defaults[0], (*CONTEXT, *fields)[3].title),
    )


ATTENDEES = _per_event(
    "attendee",
    ATTENDEE_FIELDS,
    ("attendee_name", "attendee_email", "status", "ticket", "guest", "created", "uid"),
)
ORDERS = _per_event(
    "order",
    (*ORDER_FIELDS, ORDER_CURRENCY, *ORDER_TOTAL_FIELDS),
    (
        "buyer_index_name",
        "order_date",
        "tickets",
        "tickets_as_string",
        "attendee_count",
        "currency",
        "total",
        "paid",
        "outstanding",
        "processing_fees",
        "fully_paid",
        "buyer",
    ),
)
TICKETS = _per_event(
    "ticket",
    TICKET_FIELDS,
    (
        "ticket_type_display",
        "buyer_display",
        "amount",
        "currency",
        "quantity",
        "purchase_date",
        "record_state",
        "activity",
        "ticket_id",
        "uid",
    ),
)
TICKET_TYPES = _per_event(
    "ticket type",
    TICKET_TYPE_FIELDS,
    (
        "name",
        "amount",
        "currency",
        "member_only",
        "total",
        "allocated",
        "reserved",
        "available",
        "sort_order",
    ),
)
LISTED_TICKET_TYPES = _per_event(
    "ticket type",
    LISTED_TICKET_TYPE_FIELDS,
    ("name", "price", "currency", "member_only", "allocated", "income", "on_sale"),
)
#: The full event (getEvent): every EventSingle field, with planning and money among the defaults.
FULL_EVENT = Catalogue("event", CATALOGUE, FULL_EVENT_DEFAULTS, tuple(DERIVED.values()))
