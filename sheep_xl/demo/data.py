"""Deterministic sample events for the demo server: a fictional UK professional institute.

`demo_events(today)` returns about 320 sheepCRM ``EventSingle`` records (JSON-ready dicts in the
wire formats of the official spec) for the demo bucket ``example``. The only input is ``today``:
every date is an offset from it and all other choices come from a ``random.Random`` with a fixed
seed, so the same ``today`` always gives identical records (uids do not depend on ``today`` at all).

Wire formats (as the spec and live data use them):

* datetimes ``YYYY-MM-DDTHH:MM:SS.mmmmmm`` with no timezone (the organisation's wall-clock time),
* dates ``YYYY-MM-DD``, times ``HH:MM``, URLs ``https://...``,
* URIs ``/example/booking/<uid>/``, uids 24 lower-case hex characters.

The data deliberately contains what a client meets in live data: cancelled events, enquiries,
dates to be confirmed, drafts, series (several records sharing a ``series_id``), an overnight event,
an overseas event, unicode titles and titles a spreadsheet could mistake for a formula (leading
``=``, ``-``, ``+``, ``@``), HTML and plain-text descriptions, lean "summary packet" records that
omit many fields, JSON ``null`` in the fields listed in `NULLABLE_FIELDS`, and fields that are not
in the spec (`UNKNOWN_FIELDS`, e.g. ``record_state``, removed from the spec in 2025 but still seen
live). Every spec-declared field that is present and not null has the JSON type the spec declares:
malformed data is not part of the demo.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

__all__ = [
    "DEMO_BUCKET",
    "NULLABLE_FIELDS",
    "UNKNOWN_FIELDS",
    "demo_events",
    "format_date",
    "format_datetime",
    "format_time",
]

DEMO_BUCKET = "example"

#: Spec-declared fields that are JSON ``null`` in some demo records. The spec declares no field
#: nullable, but live summary packets carry nulls; a client must accept them.
NULLABLE_FIELDS: frozenset[str] = frozenset(
    {
        "capacity",
        "conferencing_url",
        "description",
        "location_postal_code",
        "maximum_ticket_price",
        "minimum_ticket_price",
        "photo",
        "subcategory",
        "website",
    }
)

#: Fields that some demo records carry although the spec does not declare them.
UNKNOWN_FIELDS: frozenset[str] = frozenset({"record_state", "cpd_hours"})

_SEED = 0x5EEB_2025
_RANDOM_EVENTS = 266
_ORG_SITE = "https://www.example.org"
_PHOTO_BASE = "https://s3-eu-west-1.amazonaws.com/sheepcrm/example/booking"


# --------------------------------------------------------------------------------------------
# wire formats
# --------------------------------------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmmmm`` without timezone (sheepCRM's datetime wire format)."""
    return value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")


def format_date(value: date) -> str:
    """``YYYY-MM-DD``."""
    return value.strftime("%Y-%m-%d")


def format_time(value: datetime | time) -> str:
    """``HH:MM``."""
    return value.strftime("%H:%M")


def _stable_uid(text: str) -> str:
    """A 24-hex uid derived from a name (used for venues, so their URIs never change)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def _uri(resource_type: str, uid: str) -> str:
    return f"/{DEMO_BUCKET}/{resource_type}/{uid}/"


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "event"


# --------------------------------------------------------------------------------------------
# reference data: venues, people, topics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Venue:
    name: str
    address: str  # street and town, without postcode
    postcode: str
    region: str
    size: str  # "large", "medium", "small"
    country: str = "United Kingdom"

    @property
    def uid(self) -> str:
        return _stable_uid(f"venue:{self.name}")

    @property
    def address_string(self) -> str:
        return f"{self.address}, {self.postcode}"


_VENUES: tuple[_Venue, ...] = (
    # London & South East
    _Venue("Institute Headquarters", "12 Bedford Row, London", "WC1R 4BU", "London", "medium"),
    _Venue(
        "The Queen Elizabeth II Centre",
        "Broad Sanctuary, Westminster, London",
        "SW1P 3EE",
        "London",
        "large",
    ),
    _Venue("Conway Hall", "25 Red Lion Square, London", "WC1R 4RL", "London", "medium"),
    _Venue(
        "Little Missenden Village Hall",
        "Taylors Lane, Little Missenden, Amersham",
        "HP7 0RA",
        "London",
        "small",
    ),
    # North West
    _Venue("Manchester Central", "Windmill Street, Manchester", "M2 3GX", "North West", "large"),
    _Venue("The Portico Library", "57 Mosley Street, Manchester", "M2 3HY", "North West", "small"),
    _Venue(
        "ACC Liverpool",
        "Kings Dock, Liverpool Waterfront, Liverpool",
        "L3 4FP",
        "North West",
        "large",
    ),
    _Venue(
        "Grasmere Village Hall", "Broadgate, Grasmere, Ambleside", "LA22 9TA", "North West", "small"
    ),
    # Scotland
    _Venue(
        "Edinburgh International Conference Centre",
        "The Exchange, 150 Morrison Street, Edinburgh",
        "EH3 8EE",
        "Scotland",
        "large",
    ),
    _Venue(
        "Glasgow Royal Concert Hall", "2 Sauchiehall Street, Glasgow", "G2 3NY", "Scotland", "large"
    ),
    _Venue("Pitlochry Town Hall", "Atholl Road, Pitlochry", "PH16 5BX", "Scotland", "small"),
    _Venue("Aviemore Community Centre", "Muirton, Aviemore", "PH22 1SF", "Scotland", "small"),
    # Wales
    _Venue("Cardiff City Hall", "Cathays Park, Cardiff", "CF10 3ND", "Wales", "large"),
    _Venue(
        "Aberystwyth Arts Centre", "Penglais Campus, Aberystwyth", "SY23 3DE", "Wales", "medium"
    ),
    _Venue(
        "Llanberis Village Hall", "High Street, Llanberis, Caernarfon", "LL55 4EU", "Wales", "small"
    ),
    # South West
    _Venue("The Guildhall, Bath", "High Street, Bath", "BA1 5AW", "South West", "medium"),
    _Venue("Watershed", "1 Canons Road, Harbourside, Bristol", "BS1 5TX", "South West", "medium"),
    _Venue("Totnes Civic Hall", "Market Square, Totnes", "TQ9 5SF", "South West", "small"),
    # Yorkshire
    _Venue(
        "Harrogate Convention Centre", "King's Road, Harrogate", "HG1 5LA", "Yorkshire", "large"
    ),
    _Venue("Merchant Adventurers' Hall", "Fossgate, York", "YO1 9XD", "Yorkshire", "medium"),
    _Venue(
        "Hebden Bridge Town Hall",
        "St George's Street, Hebden Bridge",
        "HX7 7BY",
        "Yorkshire",
        "small",
    ),
    # Midlands
    _Venue("ICC Birmingham", "Broad Street, Birmingham", "B1 2EA", "Midlands", "large"),
    _Venue(
        "Nottingham Conference Centre",
        "30 Burton Street, Nottingham",
        "NG1 4BU",
        "Midlands",
        "medium",
    ),
    _Venue("Ludlow Assembly Rooms", "1 Mill Street, Ludlow", "SY8 1AZ", "Midlands", "small"),
    # North East
    _Venue(
        "The Lit & Phil", "23 Westgate Road, Newcastle upon Tyne", "NE1 1SE", "North East", "small"
    ),
    _Venue("Durham Town Hall", "Market Place, Durham", "DH1 3NJ", "North East", "medium"),
    # Northern Ireland
    _Venue("Belfast Waterfront", "2 Lanyon Place, Belfast", "BT1 3WH", "Northern Ireland", "large"),
    _Venue(
        "Strangford Village Hall",
        "Castle Street, Strangford, Downpatrick",
        "BT30 7NF",
        "Northern Ireland",
        "small",
    ),
    # East of England
    _Venue("Churchill College", "Storey's Way, Cambridge", "CB3 0DS", "East of England", "medium"),
    _Venue(
        "The Forum, Norwich", "Millennium Plain, Norwich", "NR2 1TF", "East of England", "medium"
    ),
    _Venue(
        "Southwold Village Hall", "Mights Road, Southwold", "IP18 6BE", "East of England", "small"
    ),
)

_HOTELS: tuple[_Venue, ...] = (
    _Venue("The Old Swan Hotel", "Swan Road, Harrogate", "HG1 2SR", "Yorkshire", "medium"),
    _Venue("The Midland Hotel", "16 Peter Street, Manchester", "M60 2DS", "North West", "medium"),
    _Venue("The Balmoral Hotel", "1 Princes Street, Edinburgh", "EH2 2EQ", "Scotland", "medium"),
    _Venue(
        "The Grand Hotel, Birmingham", "Colmore Row, Birmingham", "B3 2BS", "Midlands", "medium"
    ),
    _Venue(
        "The Royal Crescent Hotel", "16 Royal Crescent, Bath", "BA1 2LS", "South West", "medium"
    ),
    _Venue(
        "One Great George Street", "1 Great George Street, London", "SW1P 3AA", "London", "large"
    ),
)

_OUTDOOR: tuple[_Venue, ...] = (
    _Venue("Royal Botanic Gardens, Kew", "Kew Road, Richmond", "TW9 3AE", "London", "medium"),
    _Venue("Eden Project", "Bodelva, Par", "PL24 2SG", "South West", "medium"),
    _Venue(
        "Ironbridge Gorge Museums",
        "Coach Road, Coalbrookdale, Telford",
        "TF8 7DQ",
        "Midlands",
        "medium",
    ),
    _Venue("Glenmore Visitor Centre", "Glenmore, Aviemore", "PH22 1QU", "Scotland", "small"),
    _Venue("Durham Cathedral", "The College, Durham", "DH1 3EH", "North East", "medium"),
    _Venue("Big Pit National Coal Museum", "Blaenavon, Torfaen", "NP4 9XP", "Wales", "medium"),
    _Venue("Fountains Abbey", "Fountains, Ripon", "HG4 3DY", "Yorkshire", "medium"),
)

_HQ = _VENUES[0]
_LLANGOLLEN = _Venue(
    "Royal International Pavilion", "Abbey Road, Llangollen", "LL20 8SW", "Wales", "large"
)
_ZURICH = _Venue(
    "Kongresshaus Zürich",
    "Claridenstrasse 5, Zürich",
    "8002",
    "Overseas",
    "large",
    country="Switzerland",
)

_REGIONS: tuple[str, ...] = (
    "London",
    "North West",
    "Scotland",
    "Wales",
    "South West",
    "Yorkshire",
    "Midlands",
    "North East",
    "Northern Ireland",
    "East of England",
)

_BRANCH_NAMES: dict[str, str] = {
    "London": "London & South East",
    "North West": "North West",
    "Scotland": "Scotland",
    "Wales": "Wales / Cymru",
    "South West": "South West",
    "Yorkshire": "Yorkshire & Humber",
    "Midlands": "Midlands",
    "North East": "North East",
    "Northern Ireland": "Northern Ireland",
    "East of England": "East of England",
}

_SPEAKERS: tuple[str, ...] = (
    "Dr Priya Raman",
    "Prof. Alasdair MacLeod",
    "Siân Roberts",
    "Niamh O'Connor",
    "Tomás Byrne",
    "Helen Carter MBE",
    "Oluwaseun Adeyemi",
    "Dr Rebecca Liddell",
    "James Whitfield FCIS",
    "Chloé Martin",
    "Gareth Llewellyn",
    "Dr Mei Lin Chau",
    "Fiona Sinclair",
    "Rhys ap Dafydd",
    "Aisling Murphy",
    "Sir David Pemberton",
)

_STAFF: tuple[str, ...] = (
    "Events Team",
    "Sarah Hughes",
    "Membership Services",
    "Tom Ashworth",
    "Claire Fenwick",
)

_TOPICS: tuple[str, ...] = (
    "Sustainability reporting",
    "Data protection and UK GDPR",
    "Net zero in practice",
    "Project management essentials",
    "Ethics and professional conduct",
    "AI in the workplace",
    "Negotiation skills",
    "Budgeting for non-finance managers",
    "Public speaking with confidence",
    "Employment law update",
    "Heritage conservation",
    "Risk management",
    "Wellbeing at work",
    "Procurement and the Procurement Act 2023",
    "Equality, diversity & inclusion",
    "Writing for impact",
    "Chairing effective meetings",
    "Cyber security basics",
    "Coaching conversations",
    "Building a CPD plan",
    "Biodiversity net gain",
    "Managing difficult conversations",
    "Governance for trustees",
    "Excel for professionals",
    "Influencing without authority",
)

_LECTURE_SUBJECTS: tuple[str, ...] = (
    "The future of the profession",
    "Lessons from the Thames Barrier",
    "Women who shaped the Institute",
    "Rewilding Britain's uplands",
    "What the census tells us",
    "Designing for an ageing population",
    "From Bletchley Park to big data",
    "The economics of flood defence",
    "A century of standards",
    "Engineering the Forth bridges",
)

_TRIPS: tuple[str, ...] = (
    "guided tour",
    "behind-the-scenes visit",
    "study visit",
    "field trip",
    "heritage walk",
)

_COMPANIES: tuple[str, ...] = (
    "Smith & Partners",
    "Northgate Housing Trust",
    "Brightwater Consulting",
    "Kestrel Engineering Ltd",
    "The Ashford Foundation",
    "Harlow & Webb LLP",
    "Pennine Water",
    "St Aidan's College",
)

_COURSE_LEVELS: tuple[str, ...] = ("Foundation", "Intermediate", "Advanced", "Masterclass")

_ATTENDEE_QUESTIONS: tuple[str, ...] = (
    "Dietary requirements",
    "Accessibility requirements",
    "Membership number (if known)",
    "Job title and organisation",
    "Name for badge",
)

_ORDER_QUESTIONS: tuple[str, ...] = (
    "How did you hear about this event?",
    "Purchase order number (for invoicing)",
    "May we share your details with other attendees?",
)


# --------------------------------------------------------------------------------------------
# kinds of event
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    key: str
    event_type: str
    booking_type: str
    category: str
    subcategories: tuple[str, ...]
    weekdays: frozenset[int]  # preferred weekdays (Mon=0) for generated dates
    slots: tuple[tuple[int, int, int, int], ...]  # (start h, m, end h, m)
    days: tuple[int, int]  # min, max days
    capacity: tuple[int, int]
    venue_sizes: tuple[str, ...]  # "" means online
    tags: tuple[str, ...]
    tickets: tuple[tuple[str, float], ...]  # name, price factor (x base price)
    base_price: tuple[int, int]


_KINDS: dict[str, _Kind] = {
    k.key: k
    for k in (
        _Kind(
            "conference",
            "Conference",
            "Public event",
            "Conferences",
            ("National conference", "Regional conference", "Symposium"),
            frozenset({1, 2}),
            ((9, 0, 17, 30), (8, 45, 17, 0)),
            (2, 3),
            (250, 800),
            ("large",),
            ("Conference", "CPD", "Networking"),
            (
                ("Member — full conference", 1.0),
                ("Non-member — full conference", 1.45),
                ("Member — day ticket", 0.55),
                ("Student", 0.25),
                ("Speaker", 0.0),
            ),
            (195, 495),
        ),
        _Kind(
            "workshop",
            "Workshop",
            "Public event",
            "Professional development",
            ("Skills workshop", "Technical workshop", "Masterclass"),
            frozenset({0, 1, 2, 3}),
            ((9, 30, 12, 30), (13, 30, 16, 30), (10, 0, 15, 0)),
            (1, 1),
            (16, 40),
            ("medium", "small"),
            ("Workshop", "CPD"),
            (("Member", 1.0), ("Non-member", 1.5)),
            (45, 125),
        ),
        _Kind(
            "webinar",
            "Webinar",
            "Online event",
            "Online learning",
            ("Webinar", "Briefing", "Panel discussion"),
            frozenset({0, 1, 2, 3}),
            ((12, 30, 13, 30), (10, 0, 11, 0), (16, 0, 17, 30)),
            (1, 1),
            (100, 500),
            ("",),
            ("Online", "CPD"),
            (("Member", 0.0), ("Non-member", 1.0)),
            (10, 25),
        ),
        _Kind(
            "branch",
            "Branch meeting",
            "Members' event",
            "Branch activities",
            ("Branch talk", "Branch social", "Branch committee"),
            frozenset({1, 2, 3}),
            ((18, 30, 20, 30), (19, 0, 21, 0)),
            (1, 1),
            (20, 80),
            ("small", "medium"),
            ("Branch", "Members"),
            (("Member", 0.0), ("Guest", 1.0)),
            (3, 8),
        ),
        _Kind(
            "networking",
            "Networking",
            "Members' event",
            "Networking",
            ("Networking evening", "Drinks reception", "Young professionals"),
            frozenset({2, 3}),
            ((18, 0, 20, 30), (17, 30, 19, 30)),
            (1, 1),
            (40, 150),
            ("medium", "hotel"),
            ("Networking", "Social"),
            (("Member", 1.0), ("Guest", 1.5)),
            (10, 25),
        ),
        _Kind(
            "training",
            "Training course",
            "Public event",
            "Professional development",
            ("Accredited course", "Short course", "Exam preparation"),
            frozenset({0, 1, 2}),
            ((9, 30, 16, 30), (9, 0, 17, 0)),
            (1, 3),
            (12, 30),
            ("medium", "hotel"),
            ("Training", "CPD", "Accredited"),
            (("Member", 1.0), ("Non-member", 1.38), ("Early bird (member)", 0.87)),
            (245, 895),
        ),
        _Kind(
            "lecture",
            "Lecture",
            "Public event",
            "Talks & lectures",
            ("Evening lecture", "Annual lecture", "Café Scientifique"),
            frozenset({1, 2, 3}),
            ((18, 30, 20, 0), (19, 0, 20, 30)),
            (1, 1),
            (60, 300),
            ("medium", "large"),
            ("Lecture", "Public"),
            (("Member", 0.0), ("Non-member", 1.0), ("Student", 0.5)),
            (6, 15),
        ),
        _Kind(
            "field_trip",
            "Field trip",
            "Members' event",
            "Visits & tours",
            ("Site visit", "Guided tour", "Heritage visit"),
            frozenset({5}),
            ((8, 30, 18, 0), (9, 0, 17, 30)),
            (1, 1),
            (20, 50),
            ("outdoor",),
            ("Visit", "Members", "Outdoors"),
            (("Adult", 1.0), ("Concession", 0.85), ("Child (under 16)", 0.45)),
            (35, 75),
        ),
        _Kind(
            "dinner",
            "Dinner",
            "Members' event",
            "Social",
            ("Annual dinner", "Branch dinner", "Awards dinner"),
            frozenset({4, 5}),
            ((19, 0, 23, 30), (18, 30, 23, 0)),
            (1, 1),
            (80, 400),
            ("hotel", "large"),
            ("Dinner", "Social", "Black tie"),
            (("Member", 1.0), ("Guest", 1.15), ("Table of 10", 9.5)),
            (75, 120),
        ),
        _Kind(
            "agm",
            "AGM",
            "Members' event",
            "Governance",
            ("Annual General Meeting", "Special General Meeting"),
            frozenset({3}),
            ((14, 0, 16, 0),),
            (1, 1),
            (150, 250),
            ("hq",),
            ("Governance", "Members", "Hybrid"),
            (("Member (in person)", 0.0), ("Member (online)", 0.0)),
            (0, 0),
        ),
        _Kind(
            "room_hire",
            "Private hire",
            "Room hire",
            "Venue hire",
            ("Meeting room", "Boardroom", "Lecture theatre"),
            frozenset({0, 1, 2, 3, 4}),
            ((9, 0, 17, 0), (10, 0, 16, 0), (8, 30, 12, 30)),
            (1, 1),
            (10, 120),
            ("hq",),
            ("Venue hire",),
            (),
            (0, 0),
        ),
        _Kind(
            "study_tour",
            "Study tour",
            "Members' event",
            "Visits & tours",
            ("Overseas study tour", "UK study tour"),
            frozenset({0}),
            ((9, 0, 18, 0),),
            (3, 6),
            (18, 36),
            ("outdoor",),
            ("Visit", "Members", "Travel"),
            (("Member (shared room)", 1.0), ("Member (single room)", 1.25)),
            (650, 1450),
        ),
    )
}

_RANDOM_KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("branch", 58),
    ("webinar", 56),
    ("workshop", 38),
    ("training", 32),
    ("networking", 26),
    ("lecture", 18),
    ("field_trip", 14),
    ("room_hire", 16),
    ("dinner", 6),
    ("conference", 3),
    ("study_tour", 2),
)


# --------------------------------------------------------------------------------------------
# plans: what an event is before it becomes a record
# --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    kind: _Kind
    title: str
    start: datetime
    end: datetime
    venue: _Venue | None  # None: online only
    online: bool = False
    status: str = "Published"
    cancelled: bool = False
    enquiry: bool = False
    tbc: bool = False
    series_id: str | None = None
    member_only: bool = False
    featured: bool = False
    ticketed: bool = True
    fill: float = 0.5  # share of capacity allocated
    capacity: int | None = 50
    unlimited: bool = False  # online event without a capacity (capacity null)
    base_price: float = 0.0
    speaker: str | None = None
    lean: bool = False  # summary packet with many fields left out
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # ticket type i is priced in currencies[i % len]: a few events sell in several currencies
    currencies: tuple[str, ...] = ("GBP",)


class _Builder:
    """Turns plans into records; owns the seeded random generator."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.now = datetime.combine(today, time(9, 0))
        self.rng = random.Random(_SEED)
        self.uid_rng = random.Random(_SEED + 1)
        self.records: list[dict[str, Any]] = []

    # -- helpers ------------------------------------------------------------------------------

    def new_uid(self) -> str:
        return f"{self.uid_rng.getrandbits(96):024x}"

    def day(self, offset: int, weekdays: frozenset[int] | None = None) -> date:
        """``today + offset``, moved forward to the next preferred weekday when given."""
        value = self.today + timedelta(days=offset)
        if weekdays:
            while value.weekday() not in weekdays:
                value += timedelta(days=1)
        return value

    def span(
        self,
        kind: _Kind,
        start_day: date,
        days: int | None = None,
        slot: tuple[int, int, int, int] | None = None,
    ) -> tuple[datetime, datetime]:
        rng = self.rng
        slot = slot or rng.choice(kind.slots)
        n_days = days if days is not None else rng.randint(*kind.days)
        start = datetime.combine(start_day, time(slot[0], slot[1]))
        end = datetime.combine(start_day + timedelta(days=n_days - 1), time(slot[2], slot[3]))
        return start, end

    def pick_venue(self, kind: _Kind, region: str | None = None) -> _Venue | None:
        rng = self.rng
        size = rng.choice(kind.venue_sizes)
        if size == "":
            return None
        if size == "hq":
            return _HQ
        if size == "hotel":
            pool: tuple[_Venue, ...] = _HOTELS
        elif size == "outdoor":
            pool = _OUTDOOR
        else:
            pool = tuple(v for v in _VENUES if v.size == size) or _VENUES
        if region is not None:
            local = tuple(v for v in pool if v.region == region)
            if local:
                pool = local
        return rng.choice(pool)

    def fill_for(self, start: date) -> float:
        """A plausible share of tickets sold, given how far away the event is."""
        rng = self.rng
        roll = rng.random()
        ahead = (start - self.today).days
        if ahead <= 0:
            return 1.0 if roll < 0.12 else 0.45 + 0.55 * roll
        if ahead <= 14:
            return 1.0 if roll < 0.15 else 0.35 + 0.6 * roll
        if ahead <= 90:
            return 0.1 + 0.6 * roll
        return 0.25 * roll

    # -- random events ------------------------------------------------------------------------

    def random_plan(self) -> _Plan:
        rng = self.rng
        keys = [k for k, _ in _RANDOM_KIND_WEIGHTS]
        weights = [w for _, w in _RANDOM_KIND_WEIGHTS]
        kind = _KINDS[rng.choices(keys, weights)[0]]
        offset = rng.randint(-730, 365)
        region = rng.choice(_REGIONS)
        start, end = self.span(kind, self.day(offset, kind.weekdays))
        venue = self.pick_venue(kind, region)
        if venue is not None and venue.region in _BRANCH_NAMES:
            region = venue.region
        title = self.random_title(kind, region, start, venue)
        topic_speaker = rng.choice(_SPEAKERS)
        capacity = rng.randint(*kind.capacity)
        capacity = capacity if capacity < 100 else capacity // 10 * 10
        base_price = float(rng.randint(*kind.base_price))
        # whole pounds for most prices, the odd £x.50
        if base_price and rng.random() < 0.2:
            base_price += 0.5
        status_roll, flag_roll, lean_roll, extra_roll = (rng.random() for _ in range(4))
        ahead = (start.date() - self.today).days
        plan = _Plan(
            kind=kind,
            title=title,
            start=start,
            end=end,
            venue=venue,
            online=venue is None,
            capacity=capacity,
            base_price=base_price,
            speaker=topic_speaker,
            member_only=kind.booking_type == "Members' event" and flag_roll < 0.6,
            featured=kind.key in {"conference", "dinner", "lecture"} and flag_roll > 0.7,
            ticketed=bool(kind.tickets) and not (kind.key == "branch" and flag_roll > 0.55),
            lean=lean_roll < 0.22,
        )
        plan.fill = self.fill_for(start.date())
        if kind.key == "webinar" and extra_roll < 0.3:
            plan.unlimited = True
        if ahead > 0 and status_roll < 0.11:
            plan.status = "Draft"
        elif ahead < -60 and status_roll < 0.008:
            plan.status = "Draft"  # a stale draft nobody deleted
        elif status_roll > 0.955:
            plan.cancelled = True
            plan.status = "Cancelled"
        elif kind.key == "room_hire" and status_roll > 0.55:
            plan.enquiry = True
            plan.status = "Provisional"
        elif ahead > 120 and status_roll > 0.9:
            plan.tbc = True
        elif ahead < -30 and status_roll > 0.5:
            plan.status = "Closed"
        if kind.key == "room_hire":
            plan.title = f"{rng.choice(_COMPANIES)} — {rng.choice(kind.subcategories).lower()} hire"
            if plan.enquiry:
                plan.title = f"Enquiry: {plan.title}"
            plan.ticketed = False
            plan.member_only = False
        if extra_roll > 0.985:
            plan.extra["record_state"] = "active"
        return plan

    def random_title(self, kind: _Kind, region: str, start: datetime, venue: _Venue | None) -> str:
        rng = self.rng
        topic = rng.choice(_TOPICS)
        branch = _BRANCH_NAMES[region]
        key = kind.key
        if key == "conference":
            return rng.choice(
                (
                    f"{branch} Regional Conference {start.year}",
                    f"{topic} Summit {start.year}",
                    f"{topic}: a symposium",
                )
            )
        if key == "workshop":
            return rng.choice(
                (f"Workshop: {topic}", f"{topic} — practical workshop", f"{topic} masterclass")
            )
        if key == "webinar":
            return rng.choice(
                (
                    f"Webinar: {topic}",
                    f"{topic} — live briefing",
                    f"Ask the experts: {topic}",
                )
            )
        if key == "branch":
            return rng.choice(
                (
                    f"{branch} Branch: {topic}",
                    f"{branch} Branch meeting — {start:%B %Y}",
                    f"{branch} Branch talk — {rng.choice(_LECTURE_SUBJECTS)}",
                )
            )
        if key == "networking":
            return rng.choice(
                (
                    f"{branch} networking evening",
                    f"Young Professionals social — {branch}",
                    f"New members' welcome drinks ({branch})",
                )
            )
        if key == "training":
            return f"{topic} ({rng.choice(_COURSE_LEVELS)})"
        if key == "lecture":
            return rng.choice(
                (
                    f"Evening lecture: {rng.choice(_LECTURE_SUBJECTS)}",
                    f"The {start.year} Presidential Lecture",
                    f"Public lecture — {rng.choice(_LECTURE_SUBJECTS)}",
                )
            )
        if key == "field_trip":
            place = venue.name if venue is not None else rng.choice(_OUTDOOR).name
            return f"{rng.choice(_TRIPS).capitalize()}: {place}"
        if key == "dinner":
            return rng.choice(
                (
                    f"{branch} Annual Dinner {start.year}",
                    f"President's Dinner {start.year}",
                    f"Awards Dinner {start.year}",
                )
            )
        if key == "study_tour":
            return rng.choice(
                (
                    "Study tour: the Scottish Highlands",
                    "Study tour: Snowdonia",
                    "Study tour: Hadrian's Wall country",
                )
            )
        return f"{kind.event_type}: {topic}"

    # -- special and series events --------------------------------------------------------------

    def plan(
        self,
        kind_key: str,
        title: str,
        offset: int,
        *,
        days: int = 1,
        slot: tuple[int, int, int, int] | None = None,
        venue: _Venue | str | None = "pick",
        **overrides: Any,
    ) -> _Plan:
        """A hand-written event ``offset`` days from today (no weekday shifting)."""
        kind = _KINDS[kind_key]
        start, end = self.span(kind, self.day(offset), days=days, slot=slot)
        chosen = self.pick_venue(kind) if venue == "pick" else venue
        assert not isinstance(chosen, str)
        capacity = self.rng.randint(*kind.capacity)
        base_price = float(self.rng.randint(*kind.base_price))
        plan = _Plan(
            kind=kind,
            title=title,
            start=start,
            end=end,
            venue=chosen,
            online=chosen is None,
            capacity=capacity,
            base_price=base_price,
            speaker=self.rng.choice(_SPEAKERS),
            ticketed=bool(kind.tickets),
        )
        plan.fill = self.fill_for(start.date())
        for name, value in overrides.items():
            setattr(plan, name, value)
        return plan

    def special_plans(self) -> list[_Plan]:
        p = self.plan
        t = self.today
        plans = [
            # happening now
            p(
                "conference",
                f"Annual Conference {t.year}",
                -1,
                days=3,
                venue=_VENUES[4],
                capacity=650,
                base_price=345.0,
                featured=True,
                description=_CONFERENCE_HTML,
                currencies=("GBP", "EUR", "GBP", "USD", "GBP"),  # delegates from abroad
            ),
            p(
                "study_tour",
                "Zürich study tour",
                -2,
                days=6,
                venue=_ZURICH,
                capacity=24,
                base_price=1295.0,
                member_only=True,
                fill=1.0,
                currencies=("CHF", "EUR"),
            ),
            p("training", "Project management essentials (Foundation)", 0, days=2),
            p(
                "branch",
                "North West Branch: committee meeting",
                0,
                slot=(18, 30, 20, 30),
                venue=_VENUES[5],
                ticketed=False,
                member_only=True,
            ),
            p(
                "webinar",
                "Webinar: Employment law update",
                0,
                slot=(12, 30, 13, 30),
                venue=None,
                unlimited=True,
            ),
            # the next fourteen days
            p(
                "lecture",
                "Café Scientifique: Ωmega",
                5,
                slot=(19, 0, 20, 30),
                venue=_VENUES[16],
                description=_CAFE_HTML,
            ),
            p(
                "webinar",
                "=Equal Pay Day briefing",
                9,
                slot=(12, 30, 13, 30),
                venue=None,
                description="Equal Pay Day marks the day when women effectively stop earning "
                "relative to men. =SUM(gap) is not a formula here, just text.",
            ),
            p(
                "networking",
                "+1 guest networking evening",
                12,
                slot=(18, 0, 20, 30),
                venue=_HOTELS[1],
                description="Bring a colleague (+1) who is not yet a member.",
            ),
            p(
                "workshop",
                "Chairing effective meetings — practical workshop",
                3,
                slot=(9, 30, 12, 30),
                venue=_VENUES[20],
                capacity=20,
                fill=1.0,
            ),
            p(
                "dinner",
                "Members' Christmas Dinner",
                11,
                slot=(19, 0, 23, 30),
                venue=_HOTELS[0],
                capacity=180,
                base_price=89.0,
                member_only=True,
                description=_DINNER_HTML,
            ),
            p(
                "field_trip",
                "Behind-the-scenes visit: Durham Cathedral",
                6,
                venue=_OUTDOOR[4],
                cancelled=True,
                status="Cancelled",
                description="<p><strong>Cancelled</strong> owing to restoration works. "
                "All ticket holders have been refunded.</p>",
            ),
            p(
                "webinar",
                "Webinar: Cyber security basics",
                2,
                slot=(16, 0, 17, 30),
                venue=None,
                status="Draft",
                ticketed=True,
            ),
            p(
                "lecture",
                "Stargazing night at Glenmore",
                8,
                slot=(20, 0, 1, 0),
                venue=_OUTDOOR[3],
                capacity=40,
                description="Meet at the visitor centre car park. "
                "We finish about 1am, weather permitting.",
                extra={"record_state": "active"},
            ),
            # the recent past
            p(
                "lecture",
                "-40°C and beyond: polar fieldwork lecture",
                -20,
                slot=(18, 30, 20, 0),
                venue=_VENUES[29],
                status="Closed",
            ),
            p("workshop", "@Risk modelling workshop", -9, slot=(9, 30, 16, 30), venue=_VENUES[22]),
            p(
                "webinar",
                "Webinar: Procurement Act 2023 — what changes",
                -4,
                venue=None,
                cancelled=True,
                status="Cancelled",
                ticketed=True,
            ),
            # later on
            p(
                "field_trip",
                "Llangollen Eisteddfod trip 🎶",
                200,
                venue=_LLANGOLLEN,
                capacity=45,
                base_price=68.0,
                extra={"record_state": "active"},
                currencies=("GBP", "EUR", "GBP"),
            ),
            p(
                "dinner",
                f"Annual Dinner {t.year + 1}",
                330,
                slot=(19, 0, 23, 30),
                venue=_HOTELS[5],
                tbc=True,
                status="Published",
                description="<p>Date to be confirmed: we are holding a provisional date.</p>",
            ),
            p(
                "field_trip",
                "Summer field trip: Big Pit",
                150,
                venue=_OUTDOOR[5],
                tbc=True,
                status="Provisional",
            ),
            p(
                "agm",
                "Annual General Meeting",
                130,
                venue=_HQ,
                member_only=True,
                fill=0.1,
                capacity=200,
            ),
            p(
                "agm",
                "Annual General Meeting",
                -235,
                venue=_HQ,
                member_only=True,
                fill=0.72,
                capacity=200,
                status="Closed",
                extra={"record_state": "active"},
            ),
            p(
                "agm",
                "Annual General Meeting",
                -600,
                venue=_HQ,
                member_only=True,
                fill=0.66,
                capacity=200,
                status="Closed",
            ),
            p(
                "conference",
                f"Annual Conference {t.year + 1}",
                362,
                days=2,
                venue=_VENUES[8],
                capacity=700,
                base_price=365.0,
                status="Draft",
            ),
            p(
                "conference",
                f"Annual Conference {t.year - 1}",
                -366,
                days=3,
                venue=_VENUES[18],
                capacity=600,
                base_price=325.0,
                fill=0.93,
                status="Closed",
                featured=True,
            ),
            p(
                "room_hire",
                f"Enquiry: {_COMPANIES[0]} — away day",
                45,
                venue=_HQ,
                enquiry=True,
                status="Provisional",
                ticketed=False,
                capacity=30,
                extra={
                    "catering": True,
                    "catering_notes": "Buffet lunch for 30; 2 vegan",
                    "layout_requirements": "Cabaret style, 5 tables",
                },
            ),
            p(
                "branch",
                "Cyfarfod Cangen Cymru — Welsh Branch meeting",
                19,
                slot=(19, 0, 21, 0),
                venue=_VENUES[14],
                ticketed=False,
            ),
            p(
                "networking",
                "Cèilidh & networking night",
                27,
                slot=(19, 0, 23, 0),
                venue=_VENUES[9],
            ),
            p("workshop", '"Plain English" report writing', 33, venue=_VENUES[2], lean=True),
        ]
        # a lean summary packet that carries hardly more than the essentials
        bare = p(
            "branch",
            "East of England Branch: quiz night",
            -48,
            slot=(19, 0, 21, 30),
            venue=_VENUES[30],
            lean=True,
        )
        bare.extra["__bare__"] = True
        plans.append(bare)
        return plans

    def series_plans(self) -> list[_Plan]:
        rng = self.rng
        plans: list[_Plan] = []
        modules = (
            "Self-awareness",
            "Leading teams",
            "Leading change",
            "Strategy",
            "Influence",
            "Capstone project",
        )
        series = self.new_uid()
        for n, subject in enumerate(modules, start=1):
            venue = (_VENUES[4], _VENUES[18], _VENUES[21])[n % 3]
            plans.append(
                self.plan(
                    "training",
                    f"Leadership Programme — Module {n}: {subject}",
                    -70 + 28 * (n - 1),
                    slot=(9, 30, 16, 30),
                    venue=venue,
                    series_id=series,
                    capacity=24,
                    base_price=0.0 if n > 1 else 1650.0,
                    member_only=True,
                    status="Draft" if n == len(modules) else "Published",
                )
            )
        series = self.new_uid()
        topics = list(_TOPICS)
        rng.shuffle(topics)
        for n in range(1, 11):
            plans.append(
                self.plan(
                    "webinar",
                    f"Lunch & Learn: {topics[n]} (episode {n})",
                    -84 + 14 * (n - 1),
                    slot=(12, 30, 13, 30),
                    venue=None,
                    series_id=series,
                    unlimited=n % 3 == 0,
                    extra={"record_state": "active"} if n == 4 else {},
                )
            )
        series = self.new_uid()
        for n in range(1, 5):
            plans.append(
                self.plan(
                    "webinar",
                    f"Regulation Update — Part {n}",
                    -400 + 7 * (n - 1),
                    slot=(10, 0, 11, 0),
                    venue=None,
                    series_id=series,
                    status="Closed",
                )
            )
        series = self.new_uid()
        for n in range(1, 6):
            plans.append(
                self.plan(
                    "workshop",
                    f"Mentoring Circle — Session {n}",
                    100 + 30 * (n - 1),
                    slot=(18, 0, 19, 30),
                    venue=_VENUES[2],
                    series_id=series,
                    capacity=16,
                    member_only=True,
                    tbc=n >= 4,
                )
            )
        return plans

    # -- records ------------------------------------------------------------------------------

    def build(self, plan: _Plan) -> dict[str, Any]:
        rng = self.rng
        kind = plan.kind
        uid = self.new_uid()
        start, end = plan.start, plan.end
        if end <= start:  # e.g. an overnight event: 20:00 to 01:00 next day
            end += timedelta(days=1)
        start_day, end_day = start.date(), end.date()
        days = (end_day - start_day).days + 1
        multi_day = days > 1 and (end - start) > timedelta(hours=24)
        hours = round((end - start).total_seconds() / 3600, 2)
        past = end_day < self.today
        draft = plan.status == "Draft"

        # tickets and stock ---------------------------------------------------------------
        capacity = None if plan.unlimited else plan.capacity
        fill = 0.0 if draft else plan.fill
        if plan.cancelled:
            fill = 0.0 if rng.random() < 0.5 else fill * 0.2  # refunds mostly done
        else:
            rng.random()
        ticket_types: dict[str, Any] = {}
        income: dict[str, float] = {}
        allocated_total = 0
        if plan.ticketed and kind.tickets:
            reference = capacity if capacity is not None else rng.randint(120, 380)
            allocated_total = min(reference, round(reference * fill))
            weights = [max(0.05, 1.0 - 0.28 * i) for i in range(len(kind.tickets))]
            shares = [int(allocated_total * w / sum(weights)) for w in weights]
            shares[0] += allocated_total - sum(shares)
            for order, ((name, factor), sold) in enumerate(zip(kind.tickets, shares, strict=True)):
                price = round(plan.base_price * factor, 2)
                if name.startswith("Speaker"):
                    price = 0.0
                ticket_types[name] = {
                    "name": name,
                    "price": price,
                    "currency": plan.currencies[order % len(plan.currencies)],
                    "allocated": sold,
                    "member_only": name.startswith("Member"),
                    "sort_order": order + 1,
                    "on_sale": not (past or plan.cancelled),
                }
                income[name] = round(price * sold, 2)
        stock_available = None if capacity is None else capacity - allocated_total

        # location ------------------------------------------------------------------------
        venue = plan.venue
        hybrid = kind.key == "agm"
        meeting_id = rng.randint(81_000_000_000, 89_999_999_999)
        zoom = f"https://zoom.us/j/{meeting_id}"
        teams = f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{uid[:16]}%40thread.v2/0"
        conferencing_url = rng.choice((zoom, zoom, teams))

        rec: dict[str, Any] = {
            "uid": uid,
            "uri": _uri("booking", uid),
            "resource_type": "booking",
            "title": plan.title,
            "display_value": plan.title,
            "formatted_title": f"{plan.title} ({self.date_range(start, end)})",
            "slug": _slugify(plan.title),
            "event_type": kind.event_type,
            "booking_type": kind.booking_type,
            "category": kind.category,
            "subcategory": rng.choice(kind.subcategories),
            "status": plan.status,
            "cancelled": plan.cancelled,
            "enquiry": plan.enquiry,
            "dates_to_be_confirmed": plan.tbc,
            "start_date": format_date(start_day),
            "start_time": format_time(start),
            "start_datetime": format_datetime(start),
            "end_date": format_date(end_day),
            "end_time": format_time(end),
            "end_datetime": format_datetime(end),
            "date_range": self.date_range(start, end),
            "multi_day": multi_day,
            "length_hours": hours if hours % 1 else int(hours),
            "length_display": self.length_display(start, end, multi_day),
        }
        if plan.enquiry:
            rec["enquiry_date"] = format_date(self.created_for(start).date())
        if venue is not None:
            rec.update(
                location=venue.name,
                location_address_string=venue.address_string,
                location_postal_code=venue.postcode,
                location_country=venue.country,
                show_map=True,
                map_zoom_level=rng.choice((13, 14, 15, 16)),
                venue_refs=[_uri("venue", venue.uid)],
                venues=[venue.name],
            )
            if hybrid:
                rec["conferencing_url"] = conferencing_url
                rec["conferencing_instructions"] = (
                    "Members joining online: the link opens 15 minutes before the start. "
                    "Voting is through the online poll."
                )
            elif rng.random() < 0.3:
                rec["conferencing_url"] = None
        else:
            rec.update(
                location="Online",
                location_address_string="",
                location_postal_code=None,
                show_map=False,
                venue_refs=[],
                conferencing_url=conferencing_url,
                conferencing_instructions=(
                    "Joining details are emailed the day before. "
                    "Please join with your full name so we can record your CPD."
                ),
            )
        rec.update(
            capacity=capacity,
            est_numbers=capacity if capacity is not None else allocated_total,
            ticketed_event=plan.ticketed,
            has_ticketed_event=plan.ticketed,
            member_only_event=plan.member_only,
            featured=plan.featured,
            hide_from_self_service=draft or plan.enquiry,
            invoice_currency="GBP",
        )
        if plan.ticketed:
            prices = [t["price"] for t in ticket_types.values()]
            rec.update(
                ticket_stock_control=capacity is not None,
                total_stock_allocated=allocated_total,
                ticket_types=ticket_types,
                ticket_type_income=income,
                minimum_ticket_price=min(prices) if prices else None,
                maximum_ticket_price=max(prices) if prices else None,
                waitlist_available=stock_available == 0,
                pay_later=kind.booking_type != "Online event" and rng.random() < 0.4,
            )
            if capacity is not None:
                assert stock_available is not None
                rec.update(
                    total_stock=capacity,
                    total_stock_available=stock_available,
                    is_sold_out=stock_available == 0,
                    has_available_tickets=stock_available > 0 and not past and not plan.cancelled,
                )
            else:
                rec.update(is_sold_out=False, has_available_tickets=not past)
        else:
            rec.update(minimum_ticket_price=None, maximum_ticket_price=None, is_sold_out=False)
        if kind.key == "room_hire":
            rec.update(
                booking_organisation=plan.title.split(" — ")[0].removeprefix("Enquiry: "),
                booking_contact=rng.choice(("Alex Morgan", "Priya Shah", "Ewan Grant")),
                catering=rng.random() < 0.6,
                layout_requirements=rng.choice(
                    ("Boardroom for 12", "Theatre style", "Cabaret style", "U-shape")
                ),
            )

        # people, text, media ---------------------------------------------------------------
        if kind.key in {"conference", "workshop", "webinar", "training", "lecture"}:
            rec["delivered_by"] = plan.speaker or rng.choice(_SPEAKERS)
        else:
            rng.random()
        rec["controller"] = rng.choice(_STAFF)
        rec["contacts"] = [_uri("person", _stable_uid(f"staff:{rec['controller']}"))]
        if plan.description:
            rec["description"] = plan.description
        elif kind.key == "room_hire":
            rec["description"] = (
                f"Private hire for {rec['booking_organisation']}. "
                "Room layout, catering and AV as agreed with the events team."
            )
        else:
            rec["description"] = self.description(plan, venue)
        tags = list(kind.tags)
        if venue is not None and venue.region in _BRANCH_NAMES:
            tags.append(_BRANCH_NAMES[venue.region])
        if venue is None:
            tags.append("Free" if not plan.base_price else "Paid")
        if plan.member_only:
            tags.append("Members only")
        rec["tags"] = sorted(set(tags))
        photo_slug = rec["slug"][:40]
        rec["photo"] = f"{_PHOTO_BASE}/{uid}/photo/{photo_slug}.jpg"
        rec["secondary_photos"] = [
            f"{_PHOTO_BASE}/{uid}/photo/gallery-{i}.jpg" for i in range(rng.randint(0, 3))
        ]
        rec["website"] = f"{_ORG_SITE}/events/{rec['slug']}/"
        if kind.key in {"conference", "training", "workshop", "dinner", "field_trip", "study_tour"}:
            questions = rng.sample(_ATTENDEE_QUESTIONS, k=rng.randint(1, 3))
            rec["attendee_questions"] = [{"question": q} for q in sorted(questions)]
        else:
            rng.random()
            rec["attendee_questions"] = []
        rec["order_questions"] = [{"question": rng.choice(_ORDER_QUESTIONS)}]
        rec["user_interface"] = {
            "can_cancel_event": not plan.cancelled and not past,
            "can_change_app_visibility": True,
            "can_change_dates": not past,
            "can_control_stock": plan.ticketed,
            "can_delete": allocated_total == 0,
            "can_disable_ticket_stock_control": plan.ticketed and capacity is not None,
            "can_duplicate": True,
            "can_edit_booking_details": not past,
            "can_edit_booking_group": True,
            "can_edit_images": True,
            "can_edit_location": not past,
            "can_edit_questions": allocated_total == 0,
            "can_enable_ticket_stock_control": plan.ticketed and capacity is None,
            "can_view_in_app": plan.status == "Published" and not plan.cancelled,
            "show_eventbrite_link": False,
        }
        if plan.series_id:
            rec["series_id"] = plan.series_id
        if kind.key in {"training", "workshop", "conference", "webinar"}:
            rec["cpd_hours"] = min(hours, 7.0 * days)
        created = self.created_for(start)
        span = max((min(self.now, end + timedelta(days=21)) - created).total_seconds(), 0.0)
        updated = created + timedelta(
            seconds=int(span * rng.random()), microseconds=rng.randint(0, 999_999)
        )
        rec["created"] = format_datetime(created)
        rec["last_updated"] = format_datetime(updated)

        # nulls and omissions, as summary packets have them -------------------------------
        null_roll, omit_roll = rng.random(), rng.random()
        if null_roll < 0.06:
            rec["photo"] = None
        elif null_roll < 0.10:
            rec["website"] = None
        elif null_roll < 0.14:
            rec["subcategory"] = None
        elif null_roll < 0.16:
            rec["description"] = None
        if plan.lean or omit_roll < 0.08:
            for name in (
                "formatted_title",
                "slug",
                "display_value",
                "secondary_photos",
                "order_questions",
                "user_interface",
                "map_zoom_level",
                "est_numbers",
                "controller",
                "contacts",
                "length_display",
                "date_range",
                "has_ticketed_event",
                "venues",
                "pay_later",
                "delivered_by",
                "conferencing_instructions",
            ):
                rec.pop(name, None)
            if omit_roll < 0.5:
                rec.pop("subcategory", None)
                rec.pop("tags", None)
        if plan.extra.pop("__bare__", False):
            keep = {
                "uid",
                "uri",
                "title",
                "status",
                "start_date",
                "start_time",
                "start_datetime",
                "end_date",
                "end_time",
                "end_datetime",
                "event_type",
                "cancelled",
                "location",
            }
            rec = {k: v for k, v in rec.items() if k in keep}
        rec.update(plan.extra)
        return rec

    def created_for(self, start: datetime) -> datetime:
        rng = self.rng
        lead = rng.randint(21, 240)
        created = datetime.combine(
            start.date() - timedelta(days=lead),
            time(
                rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999_999)
            ),
        )
        latest = self.now - timedelta(days=rng.randint(1, 20))
        return min(created, latest.replace(microsecond=created.microsecond))

    @staticmethod
    def date_range(start: datetime, end: datetime) -> str:
        if start.date() == end.date():
            return f"{start:%a} {start.day} {start:%b %Y}"
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}–{end.day} {start:%b %Y}"
        if start.year == end.year:
            return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
        return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"

    @staticmethod
    def length_display(start: datetime, end: datetime, multi_day: bool) -> str:
        if multi_day:
            return f"{(end.date() - start.date()).days + 1} days"
        minutes = int((end - start).total_seconds() // 60)
        hours, mins = divmod(minutes, 60)
        text = f"{hours} hour{'s' if hours != 1 else ''}"
        return f"{text} {mins} minutes" if mins else text

    def description(self, plan: _Plan, venue: _Venue | None) -> str:
        rng = self.rng
        where = venue.name if venue else "online"
        speaker = plan.speaker or "our speakers"
        style = rng.random()
        if style < 0.15:  # plain text with line breaks, as pasted from an email
            return (
                f"{plan.title}\n\nWith {speaker}.\nVenue: {where}.\n"
                "Refreshments provided. Please arrive 15 minutes early."
            )
        if style < 0.25:
            return f"{plan.kind.event_type} led by {speaker}."
        items = "".join(
            f"<li>{item}</li>"
            for item in rng.sample(
                (
                    "Practical examples you can use straight away",
                    "Time for questions & discussion",
                    "Certificate of attendance for CPD",
                    "Networking over refreshments",
                    "Slides shared after the event",
                    "Case studies from members' own organisations",
                ),
                k=3,
            )
        )
        noun = {
            "Networking": "networking evening",
            "AGM": "meeting",
            "Private hire": "booking",
        }.get(plan.kind.event_type, plan.kind.event_type.lower())
        return (
            f"<p>Join <strong>{speaker}</strong> for this {noun}"
            f" ({where}).</p><ul>{items}</ul>"
            f"<p>Members &amp; guests welcome. Questions? Email "
            f'<a href="mailto:events@example.org">events@example.org</a>.</p>'
        )


_CONFERENCE_HTML = (
    "<h2>Annual Conference</h2>"
    "<p>Three days of keynotes, workshops and <em>plenty</em> of networking.</p>"
    "<ul><li>Day 1: keynote &amp; awards</li><li>Day 2: parallel streams</li>"
    "<li>Day 3: site visits</li></ul>"
    "<p>Tickets from &pound;345 &ndash; book by the early-bird deadline.</p>"
    '<p><img src="https://s3-eu-west-1.amazonaws.com/sheepcrm/example/booking/banner.jpg" '
    'alt="Conference banner"></p>'
)

_CAFE_HTML = (
    "<p>Café Scientifique: an informal evening on the <strong>Ω (omega)</strong> point, "
    "entropy and the end of everything. Σ of all fears? Bring your questions.</p>"
    "<p>Doors 18:30 &middot; talk 19:00 &middot; bar open</p>"
)

_DINNER_HTML = (
    "<p>Our <strong>Members' Christmas Dinner</strong>: three courses, crackers and "
    "carols.</p><p>Dress code: <em>black tie optional</em>.<br>Please tell us about dietary "
    "requirements when you book.</p>"
)


def demo_events(today: date) -> list[dict[str, Any]]:
    """About 320 deterministic sample events around ``today`` (JSON-ready EventSingle dicts).

    Dates run from roughly two years before ``today`` to one year after it. The same ``today``
    always gives equal records; the records are sorted by ``start_datetime`` then ``uid``.
    """
    if isinstance(today, datetime):  # a datetime is a date too: use its calendar day
        today = today.date()
    builder = _Builder(today)
    plans = builder.special_plans() + builder.series_plans()
    plans += [builder.random_plan() for _ in range(_RANDOM_EVENTS)]
    records = [builder.build(plan) for plan in plans]
    records.sort(key=lambda r: (r["start_datetime"], r["uid"]))
    return records
