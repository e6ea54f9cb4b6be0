"""The states the API knows, and the classifications sheep-xl computes from the ``all`` listing.

sheepCRM's list endpoint takes one of six states. People also ask for "confirmed" events, which
the API has no state for, so sheep-xl fetches ``all`` and keeps the records whose flags match:

==============  ===========================================================================
``confirmed``   not cancelled, not an enquiry and dates not "to be confirmed"
``cancelled``   ``cancelled`` is true
``enquiry``     ``enquiry`` is true
``tbc``         ``dates_to_be_confirmed`` is true
==============  ===========================================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sheep_xl.exceptions import InvalidStateError

API_STATES: tuple[str, ...] = ("all", "current", "draft", "future", "past", "running")

Record = Mapping[str, Any]


def flag(record: Record, field: str) -> bool:
    """A boolean flag as sent by the API; a missing or null flag is false."""
    value = record.get(field)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1"}
    return value is True or (isinstance(value, (int, float)) and value == 1)


def _is_confirmed(record: Record) -> bool:
    return not (
        flag(record, "cancelled")
        or flag(record, "enquiry")
        or flag(record, "dates_to_be_confirmed")
    )


CLASSIFICATION_FIELDS = ("cancelled", "enquiry", "dates_to_be_confirmed")  # what they read

CLASSIFICATIONS: dict[str, Callable[[Record], bool]] = {
    "confirmed": _is_confirmed,
    "cancelled": lambda r: flag(r, "cancelled"),
    "enquiry": lambda r: flag(r, "enquiry"),
    "tbc": lambda r: flag(r, "dates_to_be_confirmed"),
}

CLASSIFICATION_DESCRIPTIONS: dict[str, str] = {
    "confirmed": "not cancelled, not an enquiry, dates confirmed (computed from 'all')",
    "cancelled": "cancelled events (computed from 'all')",
    "enquiry": "enquiries (computed from 'all')",
    "tbc": "dates to be confirmed (computed from 'all')",
}

STATE_DESCRIPTIONS: dict[str, str] = {
    "all": "every event",
    "current": "the past two weeks to the next three months (sheepCRM's definition)",
    "draft": "draft events",
    "future": "events that have not started",
    "past": "events that have finished",
    "running": "events happening now",
    **CLASSIFICATION_DESCRIPTIONS,
}

ACCEPTED: tuple[str, ...] = API_STATES + tuple(CLASSIFICATIONS)


@dataclass(frozen=True)
class Selection:
    """What to ask the API for, and which records to keep."""

    name: str  # what the user asked for, normalised ("confirmed", "future", ...)
    api_state: str  # the state sent in the URL
    keep: Callable[[Record], bool] | None = None  # None: keep every record


def resolve_state(state: object) -> Selection:
    """Match a state or classification case-insensitively; raise a clear error otherwise.

    A state and a classification combine with ``+``: ``future+confirmed`` fetches ``future``
    and keeps the confirmed events."""
    name = str(state if state is not None else "").strip().lower().replace(" ", "")
    if name in API_STATES:
        return Selection(name, name)
    if name in CLASSIFICATIONS:
        return Selection(name, "all", CLASSIFICATIONS[name])
    api_state, plus, classification = name.partition("+")
    if plus and api_state in API_STATES and classification in CLASSIFICATIONS:
        return Selection(name, api_state, CLASSIFICATIONS[classification])
    close = difflib.get_close_matches(name, ACCEPTED, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    shown = f"'{state}'" if name else "an empty state"
    raise InvalidStateError(
        f"Unknown event state {shown}{hint}: use one of {', '.join(ACCEPTED)}, or a state and a "
        "classification such as future+confirmed."
    )
