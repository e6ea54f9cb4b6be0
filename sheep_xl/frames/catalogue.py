"""The field catalogue: every documented ``EventSingle`` field with its kind, title and format.

The catalogue follows sheepCRM's official OpenAPI description (158 fields); a test compares the
two. Kinds decide how a value is parsed and shown:

==========  ============================================  ====================================
kind        wire format                                   in a DataFrame / in Excel
==========  ============================================  ====================================
datetime    ``2023-09-05T11:27:06.437000`` (no timezone)  datetime64, date+time format (22)
date        ``2020-01-01``                                datetime64, locale short date (14)
time        ``11:27``                                     ``datetime.time``, ``h:mm`` (20)
bool        true / false                                  nullable boolean, TRUE/FALSE
number      number                                        nullable Float64
text        string                                        string
url         ``https://...``                               string, a hyperlink in Excel
uri         ``/bucket/resource_type/uid/``                string
list        array                                         items joined with ``; ``
map/object  object                                        compact JSON text
==========  ============================================  ====================================

Two fields typed as plain strings in the spec (``conferencing_url``, ``post_event_url``) hold
links, so they are catalogued as ``url`` to become hyperlinks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "datetime", "date", "time", "bool", "number", "text", "url", "uri", "list", "map", "object"
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NumberFormat:
    """An Excel number format: the en-US code Excel's object model takes, and the built-in id
    when there is one (built-ins 14 and 22 follow the reader's locale, so UK users see
    dd/mm/yyyy and US users m/d/yyyy)."""

    code: str
    builtin_id: int | None = None


GENERAL = NumberFormat("General", 0)
DATE = NumberFormat("m/d/yyyy", 14)
DATETIME = NumberFormat("m/d/yyyy h:mm", 22)
TIME = NumberFormat("h:mm", 20)
MONEY = NumberFormat("#,##0.00", 4)
COUNT = NumberFormat("#,##0", 3)
# Yes/no cells are real booleans; this format (positive;negative;zero) marks the column as
# boolean, so Excel and LibreOffice both show TRUE/FALSE, even for a 1 or 0 typed into it.
BOOLEAN = NumberFormat('"TRUE";"TRUE";"FALSE"')

# The one place a kind gets its number format: every writer (new workbooks, in-place refresh,
# live Excel) takes it from ``Field.number_format`` through the table plan.
KIND_FORMATS: dict[str, NumberFormat] = {
    "datetime": DATETIME,
    "date": DATE,
    "time": TIME,
    "bool": BOOLEAN,
}
NUMBER_STYLES: dict[str, NumberFormat] = {"money": MONEY, "count": COUNT, "number": GENERAL}


@dataclass(frozen=True)
class Field:
    name: str  # the API's field name
    kind: Kind
    title: str  # the column header a person reads
    number_style: str = ""  # for numbers: "money", "count" or "number"

    @property
    def number_format(self) -> NumberFormat:
        if self.kind == "number":
            return NUMBER_STYLES[self.number_style or "number"]
        return KIND_FORMATS.get(self.kind, GENERAL)


F = Field

# fmt: off
CATALOGUE: tuple[Field, ...] = (
    F("attendee_questions", "list", "Attendee questions"),
    F("auto_forms", "bool", "Auto forms"),
    F("balance", "number", "Balance", "money"),
    F("bar_notes", "text", "Bar notes"),
    F("bar_requested", "bool", "Bar requested"),
    F("bar_type", "text", "Bar type"),
    F("base_record_last_updated", "datetime", "Base record last updated"),
    F("billing_contact", "text", "Billing contact"),
    F("bookable_refs", "list", "Bookable URIs"),
    F("booking_contact", "text", "Booking contact"),
    F("booking_organisation", "text", "Booking organisation"),
    F("booking_reference", "text", "Booking reference"),
    F("booking_type", "text", "Booking type"),
    F("buyer_handling", "text", "Buyer handling"),
    F("cancelled", "bool", "Cancelled"),
    F("capacity", "number", "Capacity", "count"),
    F("category", "text", "Category"),
    F("catering", "bool", "Catering"),
    F("catering_by", "text", "Catering by"),
    F("catering_notes", "text", "Catering notes"),
    F("catering_support", "bool", "Catering support"),
    F("checklist", "list", "Checklist"),
    F("conferencing_instructions", "text", "Conferencing instructions"),
    F("conferencing_url", "url", "Conferencing URL"),
    F("connection_type_counter", "map", "Connection type counter"),
    F("contacts", "list", "Contacts"),
    F("controller", "text", "Controller"),
    F("created", "datetime", "Created"),
    F("date_range", "text", "Date range"),
    F("dates_to_be_confirmed", "bool", "Dates TBC"),
    F("delivered_by", "text", "Delivered by"),
    F("delivered_by_background", "text", "Delivered by background"),
    F("delivered_by_photo", "text", "Delivered by photo"),
    F("description", "text", "Description"),
    F("dietary_requirements", "text", "Dietary requirements"),
    F("display_value", "text", "Display value"),
    F("end_date", "date", "End date"),
    F("end_datetime", "datetime", "End"),
    F("end_time", "time", "End time"),
    F("enquiry", "bool", "Enquiry"),
    F("enquiry_date", "date", "Enquiry date"),
    F("est_numbers", "number", "Estimated numbers", "count"),
    F("event_type", "text", "Event type"),
    F("eventbrite_id", "text", "Eventbrite ID"),
    F("eventbrite_last_sync", "datetime", "Eventbrite last sync"),
    F("external_boxoffice_link", "url", "External boxoffice link"),
    F("external_image", "url", "External image"),
    F("external_web_link", "url", "External web link"),
    F("extras", "text", "Extras"),
    F("featured", "bool", "Featured"),
    F("files", "list", "Files"),
    F("filming", "bool", "Filming"),
    F("formatted_connections", "list", "Formatted connections"),
    F("formatted_title", "text", "Formatted title"),
    F("group", "list", "Group"),
    F("group_member_connections", "list", "Group member connections"),
    F("guest_support", "bool", "Guest support"),
    F("has_available_tickets", "bool", "Has available tickets"),
    F("has_bar_requested", "bool", "Has bar requested"),
    F("has_cancelled", "bool", "Has cancelled"),
    F("has_catering", "bool", "Has catering"),
    F("has_catering_support", "bool", "Has catering support"),
    F("has_enquiry", "bool", "Has enquiry"),
    F("has_filming", "bool", "Has filming"),
    F("has_guest_support", "bool", "Has guest support"),
    F("has_latecomers_allowed", "bool", "Has latecomers allowed"),
    F("has_media_support", "bool", "Has media support"),
    F("has_music", "bool", "Has music"),
    F("has_photography", "bool", "Has photography"),
    F("has_staffed_event", "bool", "Has staffed event"),
    F("has_ticketed_event", "bool", "Has ticketed event"),
    F("hide_banners", "bool", "Hide banners"),
    F("hide_from_self_service", "bool", "Hidden from self-service"),
    F("important_information_for_attendees", "text", "Important information for attendees"),
    F("invoice_count", "number", "Invoice count", "count"),
    F("invoice_currency", "text", "Invoice currency"),
    F("invoice_items", "number", "Invoice items", "count"),
    F("invoice_status", "text", "Invoice status"),
    F("invoice_total", "number", "Invoice total", "money"),
    F("invoice_total_inc_tax", "number", "Invoice total inc. tax", "money"),
    F("invoices", "list", "Invoices"),
    F("is_sold_out", "bool", "Sold out"),
    F("last_updated", "datetime", "Last updated"),
    F("last_venue_update", "datetime", "Last venue update"),
    F("latecomers_allowed", "bool", "Latecomers allowed"),
    F("latecomers_policy", "text", "Latecomers policy"),
    F("layout_notes", "text", "Layout notes"),
    F("layout_requirements", "text", "Layout requirements"),
    F("legacy_uid", "text", "Legacy UID"),
    F("length", "text", "Length"),
    F("length_display", "text", "Length display"),
    F("length_hours", "number", "Length (hours)", "number"),
    F("lifecycle_emails", "bool", "Lifecycle emails"),
    F("linked_member_connections", "list", "Linked member connections"),
    F("location", "text", "Location"),
    F("location_address_string", "text", "Address"),
    F("location_attendee_notes", "text", "Location notes for attendees"),
    F("location_country", "text", "Location country"),
    F("location_postal_code", "text", "Postcode"),
    F("map_zoom_level", "number", "Map zoom level", "number"),
    F("maximum_ticket_price", "number", "Maximum ticket price", "money"),
    F("media_notes", "text", "Media notes"),
    F("media_support", "bool", "Media support"),
    F("member_only_event", "bool", "Members only"),
    F("menu_notes", "text", "Menu notes"),
    F("minimum_ticket_price", "number", "Minimum ticket price", "money"),
    F("moodle_id", "text", "Moodle ID"),
    F("multi_day", "bool", "Multi day"),
    F("music", "bool", "Music"),
    F("next_activity_date", "datetime", "Next activity date"),
    F("notes", "text", "Notes"),
    F("order_questions", "list", "Order questions"),
    F("pay_later", "bool", "Pay later"),
    F("photo", "url", "Photo"),
    F("photography", "bool", "Photography"),
    F("playlist", "text", "Playlist"),
    F("post_event_information", "text", "Post-event information"),
    F("post_event_url", "url", "Post-event URL"),
    F("progress", "number", "Progress", "number"),
    F("proposed_dates", "list", "Proposed dates"),
    F("resource_type", "text", "Resource type"),
    F("secondary_photos", "list", "Secondary photos"),
    F("self_service_attendee_details", "text", "Self-service attendee details"),
    F("series_id", "text", "Series ID"),
    F("setup_notes", "text", "Setup notes"),
    F("show_map", "bool", "Show map"),
    F("slug", "text", "Slug"),
    F("staffed_event", "bool", "Staffed event"),
    F("start_date", "date", "Start date"),
    F("start_datetime", "datetime", "Start"),
    F("start_sales_date", "date", "Sales start date"),
    F("start_time", "time", "Start time"),
    F("status", "text", "Status"),
    F("subcategory", "text", "Subcategory"),
    F("tags", "list", "Tags"),
    F("takedown_notes", "text", "Takedown notes"),
    F("ticket_buyer_form_per_contact", "list", "Ticket buyer form per contact"),
    F("ticket_buyer_form_per_order", "list", "Ticket buyer form per order"),
    F("ticket_choices", "list", "Ticket choices"),
    F("ticket_stock_control", "bool", "Ticket stock control"),
    F("ticket_type_income", "map", "Ticket type income"),
    F("ticket_types", "map", "Ticket types"),
    F("ticketed_event", "bool", "Ticketed event"),
    F("timing_notes", "text", "Timing notes"),
    F("title", "text", "Title"),
    F("total_stock", "number", "Tickets", "count"),
    F("total_stock_allocated", "number", "Tickets sold", "count"),
    F("total_stock_available", "number", "Tickets available", "count"),
    F("uid", "text", "UID"),
    F("uri", "uri", "URI"),
    F("use_access_code", "bool", "Use access code"),
    F("user_interface", "object", "User interface"),
    F("venue_handling", "text", "Venue handling"),
    F("venue_refs", "list", "Venue URIs"),
    F("venues", "list", "Venues"),
    F("waitlist_available", "bool", "Waitlist available"),
    F("website", "url", "Website"),
    F("xero_account_code", "text", "Xero account code"),
)
# fmt: on

BY_NAME: dict[str, Field] = {f.name: f for f in CATALOGUE}

# Fields sheep-xl computes from others (asked for by name; not part of "all", which is the API's).
DERIVED: dict[str, Field] = {
    # ticket_type_income is a map of ticket type -> income; reports need the event's total
    # (left empty when the ticket types are sold in more than one currency: no sum across them)
    "ticket_income": Field("ticket_income", "number", "Ticket income", "money"),
    "ticket_income_currency": Field("ticket_income_currency", "text", "Income currency"),
}

# The columns an events manager wants first: what, when, where, status, capacity, link, id.
DEFAULT_COLUMNS: tuple[str, ...] = (
    "title",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "event_type",
    "category",
    "location",
    "location_postal_code",
    "status",
    "cancelled",
    "enquiry",
    "dates_to_be_confirmed",
    "member_only_event",
    "capacity",
    "total_stock",
    "total_stock_allocated",
    "total_stock_available",
    "is_sold_out",
    "website",
    "uid",
)


def field_for(name: str) -> Field:
    """The catalogue entry, or a text field titled with the raw name for unknown fields."""
    return BY_NAME.get(name) or DERIVED.get(name) or Field(name, "text", name)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The fields of one kind of record (events, attendees, orders...), so column selection,
    typing and messages work the same way for every kind without knowing which one it is.

    ``derived`` fields are computed by sheep-xl: asked for by name, never part of ``all``."""

    noun: str  # "event", "attendee": for messages ("Unknown column ... use attendee fields")
    fields: tuple[Field, ...]
    defaults: tuple[str, ...]
    derived: tuple[Field, ...] = ()
    examples: tuple[str, ...] = ("title", "start_date", "Event type")  # shown in messages
    _by_name: dict[str, Field] = field(init=False, repr=False, default_factory=dict)
    _lookup: dict[str, str] = field(init=False, repr=False, default_factory=dict)
    _known: frozenset[str] = field(init=False, repr=False, default=frozenset())

    def __post_init__(self) -> None:
        by_name = {f.name: f for f in (*self.fields, *self.derived)}
        missing = [name for name in self.defaults if name not in by_name]
        if missing:
            raise ValueError(f"default columns not in the {self.noun} catalogue: {missing}")
        # every spelling a user may type: API name and title, case-insensitive
        lookup: dict[str, str] = {}
        for fld in (*self.fields, *self.derived):
            lookup[fld.name.lower()] = fld.name
            lookup[fld.title.lower()] = fld.name
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_lookup", lookup)
        object.__setattr__(self, "_known", frozenset(f.name for f in self.fields))

    @property
    def by_name(self) -> dict[str, Field]:
        return self._by_name

    @property
    def lookup(self) -> dict[str, str]:
        """Lower-case name or title -> field name."""
        return self._lookup

    @property
    def known(self) -> frozenset[str]:
        """The documented field names (what ``all`` lists before any extra fields)."""
        return self._known

    def field_for(self, name: str) -> Field:
        """The entry, or a text field titled with the raw name for fields it does not know."""
        return self.by_name.get(name) or Field(name, "text", name)


#: The events listing's catalogue (``EventSingle``), as used by ``events`` and the reports.
EVENTS = Catalogue("event", CATALOGUE, DEFAULT_COLUMNS, tuple(DERIVED.values()))
