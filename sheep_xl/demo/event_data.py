"""Deterministic data inside each demo event: attendees, orders, tickets, ticket types and the
full event, all consistent with the event's listing record.

Everything is derived from the record alone (and ``today``), with a random generator seeded by
the event's uid, so it works for any bucket a `DemoServer` serves, the same uid always gives the
same people, and nothing here disturbs the seeded sequence of `sheep_xl.demo.data`.

One ledger per event ties the parts together, as a booking system's would:

* each ticket type sells exactly its ``allocated`` tickets, so the attendees (one per active
  ticket) number ``total_stock_allocated``, and each type's tickets sum to its
  ``ticket_type_income``; an order's ``order_total`` is its tickets' prices by currency, so the
  orders' totals per currency equal the income of the types priced in that currency;
* tickets are bought in orders of one to four; the first attendee of an order is the buyer and
  the others are guests (``guest``: true);
* some orders are unpaid or part paid (``outstanding`` > 0), card payments carry processing fees;
* cancelled (refunded) tickets are listed by ``tickets/all`` with ``record_state`` "cancelled" and
  count in nothing else; a cancelled event has refunded orders with zero totals;
* three events price their ticket types in several currencies (see ``data``), so some orders
  have two currencies;
* names are international: Zoë, Siân, Łukasz, Nguyễn, Ødegaard, O'Brien...

Currency codes are lower case here, as the spec's ``currency`` schema has them (the listing's
``ticket_types`` map, which the spec leaves undescribed, spells them "GBP").
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sheep_xl.demo.data import format_date, format_datetime

Record = dict[str, Any]

_FIRST = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Zoë", "Siân", "Aoife", "Chloé", "Niamh", "Priya",
    "Fatima", "Mei", "Ingrid", "Beatriz", "Oliver", "George", "Noah", "Arthur", "Muhammad",
    "Łukasz", "José", "Søren", "Rhys", "Eóin", "Tomás", "Kwame", "Hiroshi", "Dmitri", "Ahmed",
    "Harriet", "Gwen", "Catrin", "Hamish", "Ewan", "Björn", "Anaïs", "Renée", "Zainab", "Yusuf",
)  # fmt: skip
_LAST = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Roberts", "Johnson", "Lewis", "Walker", "Robinson", "Wood", "Thompson", "White", "Watson",
    "Jackson", "Wright", "Green", "Harris", "Cooper", "King", "Lee", "Martin", "Clarke", "James",
    "Morgan", "Hughes", "Edwards", "Hill", "Moore", "Clark", "Harrison", "Scott", "Young",
    "O'Brien", "Ní Bhriain", "MacLeod", "Nguyễn", "Ødegaard", "Kowalski", "García", "Müller",
    "Papadopoulos", "Øvergaard", "Dubois", "Patel", "Khan", "Chen", "Okafor", "Fernández",
)  # fmt: skip
_DIETS = ("vegetarian", "vegan", "gluten-free", "halal", "kosher", "nut allergy", "dairy-free")
_CATERERS = ("In-house catering", "Harvest Table Ltd", "The Copper Pot", "Venue's own caterer")
_BAR_TYPES = ("Cash bar", "Paid bar", "Drinks reception")
_ASCII = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "'": "", " ": "", "ễ": "e"})


def _rng(uid: str, part: str) -> random.Random:
    """A generator for one part of one event: the same uid always gives the same data."""
    return random.Random(f"sheep-xl-demo:{uid}:{part}")


def _uid(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode("utf-8")).hexdigest()[:24]


def _bucket_of(record: Mapping[str, Any]) -> str:
    uri = record.get("uri")
    if isinstance(uri, str) and uri.count("/") >= 3:
        return uri.strip("/").split("/")[0]
    return "example"


def _uri(bucket: str, resource_type: str, uid: str) -> str:
    return f"/{bucket}/{resource_type}/{uid}/"


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _email(first: str, last: str, index: int) -> str:
    def plain(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
        return "".join(c for c in folded if c.isascii() and c.isalnum()).lower()

    domain = ("example.org", "example.com", "example.net", "example.co.uk")[index % 4]
    return f"{plain(first)}.{plain(last)}{index % 97 if index % 5 == 0 else ''}@{domain}"


def _money(amount: float) -> float:
    return round(amount + 0.0, 2)


# --------------------------------------------------------------------------------------------
# the ledger
# --------------------------------------------------------------------------------------------


@dataclass
class _Person:
    uid: str
    first: str
    last: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def index_name(self) -> str:
        return f"{self.last}, {self.first}"


@dataclass
class _Ticket:
    uid: str
    number: int
    type_key: str
    type_uid: str
    price: float
    currency: str
    attendee: _Person
    guest: bool
    purchased: datetime
    cancelled: bool = False


@dataclass
class _Order:
    buyer: _Person
    date: datetime
    tickets: list[_Ticket] = field(default_factory=list)
    paid_share: float = 1.0  # of each currency's total
    card: bool = True

    @property
    def active(self) -> list[_Ticket]:
        return [t for t in self.tickets if not t.cancelled]


@dataclass
class Ledger:
    """Every ticket and order of one event (see the module docstring)."""

    record: Record
    bucket: str
    today: date
    orders: list[_Order]
    types: dict[str, Record]  # the listing's ticket_types, by key
    type_uids: dict[str, str]

    @property
    def tickets(self) -> list[_Ticket]:
        return sorted((t for o in self.orders for t in o.tickets), key=lambda t: t.number)

    @property
    def uid(self) -> str:
        return str(self.record.get("uid"))


def build_ledger(record: Mapping[str, Any], today: date) -> Ledger:
    """The tickets and orders of one event, from its listing record."""
    uid = str(record.get("uid"))
    bucket = _bucket_of(record)
    rng = _rng(uid, "ledger")
    raw_types = record.get("ticket_types")
    types = {
        str(k): dict(v)
        for k, v in (raw_types.items() if isinstance(raw_types, Mapping) else [])
        if isinstance(v, Mapping)
    }
    type_uids = {key: _uid(uid, "ticket_type", key) for key in types}
    start = _parse(record.get("start_datetime")) or datetime.combine(today, datetime.min.time())
    opened = _parse(record.get("created")) or start - timedelta(days=60)
    last_sale = min(start, datetime.combine(today, datetime.min.time()) + timedelta(hours=9))
    if last_sale <= opened:
        last_sale = opened + timedelta(hours=1)
    span = (last_sale - opened).total_seconds()

    sold: list[tuple[str, Record]] = []
    for key, info in types.items():
        count = info.get("allocated")
        sold.extend((key, info) for _ in range(int(count) if isinstance(count, int | float) else 0))
    rng.shuffle(sold)

    people = _People(uid, rng)
    orders: list[_Order] = []
    number = 0
    position = 0
    while position < len(sold):
        size = min(rng.choice((1, 1, 1, 1, 2, 2, 2, 3, 4)), len(sold) - position)
        buyer = people.next()
        when = opened + timedelta(seconds=span * rng.random() ** 0.7)
        order = _Order(buyer, when.replace(microsecond=rng.randint(0, 999_999)))
        for seat in range(size):
            key, info = sold[position + seat]
            number += 1
            order.tickets.append(
                _ticket(
                    uid,
                    number,
                    key,
                    type_uids[key],
                    info,
                    buyer if seat == 0 else people.next(),
                    seat > 0,
                    order.date,
                )
            )
        position += size
        total = sum(t.price for t in order.tickets)
        roll = rng.random()
        if total > 0 and roll < 0.09:
            order.paid_share = 0.0  # invoice not yet paid
        elif total > 0 and roll < 0.14:
            order.paid_share = 0.5  # deposit paid
        order.card = rng.random() < 0.7
        if rng.random() < 0.05 and types:  # one ticket of the order was cancelled and refunded
            key = rng.choice(sorted(types))
            number += 1
            order.tickets.append(
                _ticket(
                    uid,
                    number,
                    key,
                    type_uids[key],
                    types[key],
                    people.next(),
                    True,
                    order.date,
                    cancelled=True,
                )
            )
        orders.append(order)
    if record.get("cancelled") and types:  # refunded orders of a cancelled event
        for _ in range(rng.randint(3, 9)):
            buyer = people.next()
            key = rng.choice(sorted(types))
            number += 1
            when = opened + timedelta(seconds=span * rng.random())
            order = _Order(buyer, when)
            order.tickets.append(
                _ticket(
                    uid, number, key, type_uids[key], types[key], buyer, False, when, cancelled=True
                )
            )
            orders.append(order)
    orders.sort(key=lambda o: o.date)
    return Ledger(dict(record), bucket, today, orders, types, type_uids)


class _People:
    """Attendees of one event, never the same person twice."""

    def __init__(self, uid: str, rng: random.Random) -> None:
        self.uid, self.rng, self.count = uid, rng, 0

    def next(self) -> _Person:
        self.count += 1
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        person_uid = _uid(self.uid, "person", self.count)
        return _Person(person_uid, first, last, _email(first, last, self.count))


def _ticket(
    event_uid: str,
    number: int,
    key: str,
    type_uid: str,
    info: Mapping[str, Any],
    attendee: _Person,
    guest: bool,
    when: datetime,
    *,
    cancelled: bool = False,
) -> _Ticket:
    price = info.get("price")
    currency = info.get("currency")
    return _Ticket(
        _uid(event_uid, "ticket", number),
        number,
        key,
        type_uid,
        float(price) if isinstance(price, int | float) else 0.0,
        currency.lower() if isinstance(currency, str) and currency else "gbp",
        attendee,
        guest,
        when,
        cancelled,
    )


# --------------------------------------------------------------------------------------------
# the answers
# --------------------------------------------------------------------------------------------


def attendance(ledger: Ledger, booking: Record) -> Record:
    """``EventAttendanceList``: one session per active ticket."""
    rng = _rng(ledger.uid, "attendance")
    record = ledger.record
    end = _parse(record.get("end_datetime")) or _parse(record.get("start_datetime"))
    start = _parse(record.get("start_datetime"))
    past = end is not None and end.date() < ledger.today
    sessions = []
    for ticket in ledger.tickets:
        if ticket.cancelled:
            continue
        roll = rng.random()
        if past:
            status = "attended" if roll < 0.86 else "no-show" if roll < 0.97 else "declined"
        else:
            status = "invited" if ticket.guest and roll < 0.12 else "accepted"
        updated = ticket.purchased + timedelta(minutes=rng.randint(1, 600))
        if status in ("attended", "no-show") and start is not None:
            updated = start + timedelta(minutes=rng.randint(-20, 45))
        session_uid = _uid(ledger.uid, "session", ticket.number)
        person = ticket.attendee
        item: Record = {
            "attendee_email": person.email,
            "attendee_name": person.name,
            "created": format_datetime(ticket.purchased),
            "display_value": f"{person.name} ({ticket.type_key})",
            "guest": ticket.guest,
            "last_updated": format_datetime(max(updated, ticket.purchased)),
            "person_ref": _uri(ledger.bucket, "person", person.uid),
            "record_state": "active",
            "status": status,
            "ticket": ticket.type_key,
            "ticket_ref": _uri(ledger.bucket, "ticket", ticket.uid),
            "uid": session_uid,
            "uri": _uri(ledger.bucket, "attendance", session_uid),
        }
        if ticket.guest:
            item["guest_ref"] = _uri(ledger.bucket, "person", person.uid)
        sessions.append(item)
    return {"booking": booking, "booking_uri": record.get("uri"), "sessions": sessions}


def _order_totals(order: _Order) -> dict[str, Record]:
    by_currency: dict[str, float] = {}
    for ticket in order.active:
        by_currency[ticket.currency] = by_currency.get(ticket.currency, 0.0) + ticket.price
    if not by_currency:  # only refunded tickets: zero in the currency they were bought in
        by_currency = {order.tickets[0].currency: 0.0}
    totals = {}
    for currency, amount in by_currency.items():
        total = _money(amount)
        paid = _money(total * order.paid_share)
        fees = _money(paid * 0.014 + 0.20) if order.card and paid > 0 else 0.0
        totals[currency] = {
            "fully_paid": paid >= total,
            "outstanding": _money(total - paid),
            "paid": paid,
            "processing_fees": fees,
            "total": total,
        }
    return totals


def orders(ledger: Ledger, booking: Record) -> Record:
    """``OrdersList``: one ``Order`` per buyer, totals by currency."""
    buyers: dict[str, Record] = {}
    unpaid = 0
    for order in ledger.orders:
        uri = _uri(ledger.bucket, "person", order.buyer.uid)
        totals = _order_totals(order)
        unpaid += any(t["outstanding"] > 0 for t in totals.values())
        counts = Counter(t.type_key for t in order.active)
        buyers[uri] = {
            "attendee_count": len(order.active),
            "buyer": uri,
            "buyer_index_name": order.buyer.index_name,
            "currencies": list(totals),
            "order_date": format_datetime(order.date),
            "order_total": totals,
            "tickets": len(order.active),
            "tickets_as_string": ", ".join(f"{n} × {key}" for key, n in counts.items()),
        }
    return {
        "booking": booking,
        "booking_uri": ledger.record.get("uri"),
        "buyers": buyers,
        "number_of_orders": len(buyers),
        "number_of_unpaid_orders": unpaid,
    }


def tickets(ledger: Ledger, booking: Record) -> Record:
    """``TicketsList``: every ticket, cancelled ones included."""
    record = ledger.record
    title = str(record.get("title") or "")
    when = record.get("start_datetime")
    vat = record.get("booking_type") != "Members' event"
    buyers = {t.uid: o.buyer for o in ledger.orders for t in o.tickets}
    items = []
    for ticket in ledger.tickets:
        buyer = buyers[ticket.uid]
        item: Record = {
            "activity": "Cancelled and refunded"
            if ticket.cancelled
            else ("Booked online" if ticket.number % 7 else "Booked by the events team"),
            "amount": ticket.price,
            "booking": record.get("uri"),
            "booking_display": title,
            "buyer": _uri(ledger.bucket, "person", buyer.uid),
            "buyer_display": buyer.name,
            "created": format_datetime(ticket.purchased),
            "currency": ticket.currency,
            "display_value": f"{ticket.type_key} — {ticket.attendee.name}",
            "formatted_title": f"{ticket.type_key} — {title}",
            "last_updated": format_datetime(ticket.purchased + timedelta(minutes=3)),
            "number_of_attendees": 1,
            "purchase_date": format_datetime(ticket.purchased),
            "quantity": 1,
            "record_state": "cancelled" if ticket.cancelled else "active",
            "reference": f"EV-{ledger.uid[:4].upper()}-{ticket.number:04d}",
            "tax_rate": 0.2 if vat else 0.0,
            "ticket_id": f"T{ticket.number:05d}",
            "ticket_type": _uri(ledger.bucket, "ticket_type", ticket.type_uid),
            "ticket_type_display": ticket.type_key,
            "uid": ticket.uid,
            "uri": _uri(ledger.bucket, "ticket", ticket.uid),
            "xero_account_code": "4010" if vat else "4020",
        }
        if isinstance(when, str):
            item["date"] = when
        location = record.get("location")
        if isinstance(location, str) and location:
            item["venue"] = location
        items.append(item)
    return {"booking": booking, "booking_uri": record.get("uri"), "tickets": items}


def available_tickets(ledger: Ledger) -> Record:
    """``EventAvailableTickets``: each ticket type with its price and stock. Stock left is
    shared out over the types, and a few tickets of an upcoming event sit in baskets
    (``reserved``): ``available`` plus ``reserved`` sum to ``total_stock_available``."""
    rng = _rng(ledger.uid, "ticket_types")
    record = ledger.record
    left = record.get("total_stock_available")
    keys = list(ledger.types)
    shares = _split(int(left), len(keys), rng) if isinstance(left, int | float) and keys else []
    start = _parse(record.get("start_datetime"))
    upcoming = start is not None and start.date() > ledger.today
    items = []
    for index, key in enumerate(keys):
        info = ledger.types[key]
        price = info.get("price")
        currency = info.get("currency")
        sold = info.get("allocated")
        allocated = int(sold) if isinstance(sold, int | float) else 0
        item: Record = {
            "allocated": allocated,
            "amount": f"{float(price):.2f}" if isinstance(price, int | float) else "0.00",
            "currency": currency.lower() if isinstance(currency, str) else "gbp",
            "description": f"{key} ticket for {record.get('title')}",
            "member_only": bool(info.get("member_only")),
            "name": str(info.get("name") or key),
            "number_of_attendees_per_ticket": "10" if "Table of 10" in key else "1",
            "single_use": False,
            "sort_order": info.get("sort_order", index + 1),
            "tags": ["members"] if info.get("member_only") else [],
            "tax": "VAT 20%" if record.get("booking_type") != "Members' event" else "Exempt",
            "uri": _uri(ledger.bucket, "ticket_type", ledger.type_uids[key]),
            "xero_account_code": "4010",
        }
        if shares:
            free = shares[index]
            reserved = min(free, rng.randint(0, 2)) if upcoming else 0
            item.update(available=free - reserved, reserved=reserved, total=allocated + free)
        else:
            item["reserved"] = 0
        if info.get("member_only") and rng.random() < 0.3:
            item["access_code"] = f"MEMBER{ledger.uid[-4:].upper()}"
        items.append(item)
    return {"available_tickets": items}


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    weights = [rng.random() + 0.2 for _ in range(parts)]
    shares = [int(total * w / sum(weights)) for w in weights]
    shares[0] += total - sum(shares)
    return shares


# --------------------------------------------------------------------------------------------
# the full event
# --------------------------------------------------------------------------------------------


def full_event(ledger: Ledger, attendees: Record | None = None) -> Record:
    """The getEvent answer: the listing record with the fields its summary packet leaves out
    (planning notes, catering and dietary needs, invoicing, sales dates). Every field of the
    listing keeps its value; dietary requirements are counted from the attendees."""
    record = ledger.record
    rng = _rng(ledger.uid, "detail")
    detail: Record = dict(record)
    start = _parse(record.get("start_datetime"))
    created = _parse(record.get("created"))
    online = record.get("location") == "Online"
    sessions = (attendees or {}).get("sessions") or []
    extra: Record = {}
    if start is not None:
        arrive = (start - timedelta(minutes=rng.choice((30, 45, 60, 90)))).strftime("%H:%M")
        extra["timing_notes"] = f"Doors and registration from {arrive}; start {start:%H:%M}."
        sales = (created or start - timedelta(days=60)) + timedelta(days=rng.randint(0, 10))
        extra["start_sales_date"] = format_date(min(sales, start).date())
    if not online:
        extra["setup_notes"] = rng.choice(
            (
                "Registration desk at the main entrance; badges alphabetical by surname.",
                "Set up the lectern, roving microphones and the projector by 08:30.",
                "Signage from reception; hearing loop to be tested before doors open.",
            )
        )
        extra["takedown_notes"] = "Clear the room and return the AV kit within an hour of the end."
        extra["layout_notes"] = rng.choice(("Theatre style", "Cabaret rounds of 8", "Boardroom"))
    catering = bool(record.get("catering")) or (not online and rng.random() < 0.55)
    extra.update(catering=catering, has_catering=catering, catering_support=catering)
    if catering:
        extra["catering_by"] = rng.choice(_CATERERS)
        extra["catering_notes"] = rng.choice(
            (
                "Tea and coffee on arrival; lunch at 12:30.",
                "Hot buffet; water on every table.",
                "Canapés and soft drinks during the reception.",
            )
        )
        extra["menu_notes"] = "Menus to the caterer ten working days before the event."
        diets: Counter[str] = Counter()
        for _session in sessions:
            if rng.random() < 0.12:
                diets[rng.choice(_DIETS)] += 1
        extra["dietary_requirements"] = (
            ", ".join(f"{n} {diet}" for diet, n in diets.most_common()) or "None notified"
        )
    bar = not online and rng.random() < 0.3
    extra.update(bar_requested=bar, has_bar_requested=bar)
    if bar:
        extra["bar_type"] = rng.choice(_BAR_TYPES)
        extra["bar_notes"] = "Bar open from the end of the last session until 21:00."
    extra["latecomers_allowed"] = record.get("event_type") != "Dinner"
    extra["has_latecomers_allowed"] = extra["latecomers_allowed"]
    if not extra["latecomers_allowed"]:
        extra["latecomers_policy"] = "Latecomers are seated at the end of the first course."
    extra["important_information_for_attendees"] = (
        "Joining details are emailed the day before."
        if online
        else "Please bring your ticket (printed or on your phone) and photo ID."
    )
    extra.update(_invoicing(ledger))
    if created is not None:
        extra["base_record_last_updated"] = format_datetime(created + timedelta(minutes=5))
    for key, value in extra.items():
        detail.setdefault(key, value)  # the listing's own values are never changed
    return detail


def _invoicing(ledger: Ledger) -> Record:
    """Invoice figures in the event's invoice currency, from its orders."""
    currency = str(ledger.record.get("invoice_currency") or "GBP").lower()
    total = outstanding = 0.0
    count = items = 0
    for order in ledger.orders:
        amounts = _order_totals(order).get(currency)
        if amounts is None:
            continue
        count += 1
        items += sum(1 for t in order.active if t.currency == currency)
        total += amounts["total"]
        outstanding += amounts["outstanding"]
    if count == 0:
        return {"invoice_status": "Not invoiced", "invoice_count": 0, "invoice_items": 0}
    status = "Paid" if outstanding == 0 else "Part paid" if outstanding < total else "Unpaid"
    return {
        "invoice_status": status,
        "invoice_count": count,
        "invoice_items": items,
        "invoice_total": _money(total),
        "invoice_total_inc_tax": _money(total * 1.2),
        "balance": _money(outstanding),
        "invoices": [f"INV-{ledger.uid[:6].upper()}-{n:03d}" for n in range(1, min(count, 3) + 1)],
    }
