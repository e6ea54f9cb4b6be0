"""Listing pages decoded with only the fields a table needs (`sheep_xl.api.decoding`): the same
records and frames as reading every field, and for any page the fast reader does not take, the
same result or the same error as the ordinary reading."""

from __future__ import annotations

import json

import pytest
from support.faultserver import FaultServer, Reply, Seen

from sheep_xl.api.client import SheepClient
from sheep_xl.api.decoding import page_reader
from sheep_xl.frames.catalogue import EVENTS
from sheep_xl.frames.columns import resolve_columns
from sheep_xl.frames.convert import events_frame, record_fields
from sheep_xl.frames.fetch import fetch_events_frame


def test_only_the_fields_asked_for_are_kept_and_absent_stays_absent() -> None:
    read = page_reader({"uid", "title", "capacity"})
    body = {
        "bookings": [
            {"uid": "a", "title": "T", "capacity": None, "other": {"deep": [1, 2]}},
            {"uid": "b", "extra": 1},
            {"uid": "c", "title": "Ünïcode 🎶", "capacity": 123456789012345678901234567890},
        ],
        "meta": "ignored",
    }
    assert read(json.dumps(body).encode()) == {
        "bookings": [
            {"uid": "a", "title": "T", "capacity": None},
            {"uid": "b"},
            {"uid": "c", "title": "Ünïcode 🎶", "capacity": 123456789012345678901234567890},
        ]
    }


NOT_TAKEN = {
    "bad JSON": b'{"bookings": [{"uid": "a"',
    "NaN": b'{"bookings": [{"uid": "a", "capacity": NaN}]}',
    "a lone surrogate": b'{"bookings": [{"uid": "a", "title": "\\ud800"}]}',
    "UTF-16": json.dumps({"bookings": [{"uid": "a"}]}).encode("utf-16"),
    "no bookings": b'{"events": []}',
    "bookings not a list": b'{"bookings": {"uid": "a"}}',
    "an event not an object": b'{"bookings": [{"uid": "a"}, 7]}',
    "not an object": b"[1, 2]",
    "HTML": b"<html>Sign in</html>",
}


@pytest.mark.parametrize("content", NOT_TAKEN.values(), ids=NOT_TAKEN.keys())
def test_pages_the_fast_reader_does_not_take_are_read_the_ordinary_way(content: bytes) -> None:
    assert page_reader({"uid", "title"})(content) is None

    def script(_n: int, seen: Seen) -> Reply:
        page = int(seen.query.get("page", 1))
        return Reply(200, content if page == 1 else b'{"bookings": []}')

    outcomes = []
    with FaultServer(script) as server:
        for fields in (None, ["title", "capacity"]):
            client = SheepClient(api_key="k", base_url=server.url, retries=0)
            try:
                rows = client.events("example", "all", fields=fields)
                outcomes.append(("rows", [r.get("uid") for r in rows]))
            except Exception as exc:  # the same typed error and sentence, or the same rows
                outcomes.append((type(exc).__name__, str(exc)))
            finally:
                client.close()
    assert outcomes[0] == outcomes[1]


def test_a_key_that_cannot_be_a_struct_field_makes_pages_read_whole() -> None:
    assert page_reader({"uid", "not a name"})(b'{"bookings": []}') is None


@pytest.mark.parametrize(
    ("columns", "state"),
    [
        (None, "all"),
        (None, "confirmed"),  # a classification reads cancelled, enquiry, dates_to_be_confirmed
        ("title, ticket income, income currency, start date", "future+cancelled"),
        ("uid, start time, end time, capacity, tags", "current"),
    ],
)
def test_a_frame_from_the_chosen_fields_equals_one_from_every_field(
    demo_client: SheepClient, columns: str | None, state: str
) -> None:
    selection = resolve_columns(columns)
    assert record_fields(selection) is not None
    fast = fetch_events_frame(demo_client, "example", state, columns, page_size=7)
    whole = events_frame(demo_client.events("example", state, page_size=7), selection)
    assert len(fast) > 0
    assert fast.equals(whole)
    assert fast.attrs == whole.attrs


def test_every_column_of_the_catalogue_reads_from_its_fields(demo_client: SheepClient) -> None:
    """Each column on its own: a deriver reading a key `record_fields` does not list would
    come out empty here and differ."""
    records = demo_client.events("example", "all")
    for name in sorted(EVENTS.known):
        selection = resolve_columns([name])
        keep = record_fields(selection)
        assert keep is not None
        trimmed = [{k: v for k, v in r.items() if k in keep} for r in records]
        assert events_frame(trimmed, selection).equals(events_frame(records, selection)), name


def test_all_columns_read_every_field() -> None:
    assert record_fields(resolve_columns("all")) is None
