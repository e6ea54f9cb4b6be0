"""Typed frames: dtypes per kind, column selection, and robustness to real-world data."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from sheep_xl.exceptions import UnknownColumnsError
from sheep_xl.frames import CATALOGUE, DEFAULT_COLUMNS, events_frame, frame_warnings
from sheep_xl.frames.catalogue import BY_NAME
from sheep_xl.frames.columns import resolve_columns
from sheep_xl.frames.excel_text import EXCEL_CELL_LIMIT

KIND_DTYPES = {
    "datetime": "datetime64[us]",
    "date": "datetime64[us]",
    "time": "object",
    "bool": "boolean",
    "number": "Float64",
    "text": "string",
    "url": "string",
    "uri": "string",
    "list": "string",
    "map": "string",
    "object": "string",
}


def check_dtypes(frame: pd.DataFrame) -> None:
    kinds = frame.attrs["sheep_xl"]["kinds"]
    for column, kind in zip(frame.columns, kinds, strict=True):
        assert str(frame[column].dtype) == KIND_DTYPES[kind], (column, kind)


def test_every_kind_on_the_demo_data(demo_client) -> None:
    records = demo_client.events("example", "all")
    frame = events_frame(records, "all")
    check_dtypes(frame)
    assert len(frame) == len(records)
    assert list(frame.columns[:158]) == [f.title for f in CATALOGUE]
    assert "record_state" in frame.columns, "unknown fields the server sent are kept with 'all'"
    times = frame["Start time"].dropna()
    assert len(times) and all(isinstance(t, dt.time) for t in times)
    assert frame["Start date"].notna().sum() > 0.9 * len(frame)
    assert (frame["Start date"].dropna() == frame["Start date"].dropna().dt.normalize()).all()
    assert frame_warnings(frame) == [], "the demo data is clean"


def test_default_columns_on_the_demo_data(demo_client) -> None:
    frame = events_frame(demo_client.events("example", "future"))
    assert list(frame.columns) == [BY_NAME[n].title for n in DEFAULT_COLUMNS]
    check_dtypes(frame)


EDGE = [
    {
        "uid": "a1",
        "title": '=HYPERLINK("http://evil","click")',
        "description": "bell\x07 and \x00null and \ud800 lone surrogate",
        "notes": "x" * (EXCEL_CELL_LIMIT + 10),
        "start_date": "2023-13-45",
        "end_date": "2024-02-29",
        "start_time": "9:5",
        "end_time": "17:30",
        "start_datetime": "2024-03-31T01:30:00.000000",
        "end_datetime": "2024-03-31T02:30:00+01:00",
        "created": "not a date",
        "capacity": "lots",
        "total_stock": "1,250",
        "balance": 12.5,
        "cancelled": "true",
        "enquiry": None,
        "featured": "maybe",
        "tags": ["members", "-minus", {"odd": 1}],
        "ticket_type_income": {"Standard": 120.0, "Member": 80},
        "user_interface": {"can_delete": False},
        "attendee_questions": [{"question": "Dietary needs?"}],
        "venue_refs": ["/example/venue/1/", "/example/venue/2/"],
        "record_state": "active",
        "mystery_number": 7,
    },
    {"uid": "a2", "title": "+44 20 7946 0000", "start_time": "25:00", "capacity": True},
    {"uid": "a3"},
]


def test_edge_records_become_empty_cells_and_warnings() -> None:
    frame = events_frame(EDGE, "all")
    check_dtypes(frame)
    row = frame.iloc[0]
    assert pd.isna(row["Start date"]) and row["End date"] == pd.Timestamp("2024-02-29")
    assert pd.isna(frame.loc[0, "Start time"]) and frame.loc[0, "End time"] == dt.time(17, 30)
    assert pd.isna(frame.loc[1, "Start time"]), "25:00 is not a time"
    assert pd.isna(row["Capacity"]) and row["Tickets"] == 1250
    assert pd.isna(frame.loc[1, "Capacity"]), "a boolean is not a number"
    assert bool(row["Cancelled"]) and pd.isna(row["Enquiry"]) and pd.isna(row["Featured"])
    # datetimes are wall-clock: an offset is ignored, never converted
    assert row["End"] == pd.Timestamp("2024-03-31 02:30:00")
    assert row["Start"] == pd.Timestamp("2024-03-31 01:30:00")
    assert row["Title"].startswith("=HYPERLINK"), "formula-like text is kept as text"
    assert row["Description"] == "bell and null and  lone surrogate"
    assert len(row["Notes"]) == EXCEL_CELL_LIMIT
    assert row["Tags"] == 'members; -minus; {"odd":1}'
    assert json.loads(row["Ticket type income"]) == {"Standard": 120.0, "Member": 80}
    assert row["User interface"] == '{"can_delete":false}'
    assert row["Attendee questions"] == '{"question":"Dietary needs?"}'
    assert row["Venue URIs"] == "/example/venue/1/; /example/venue/2/"
    assert row["record_state"] == "active"
    assert row["mystery_number"] == 7 and str(frame["mystery_number"].dtype) == "Float64"
    # missing fields are empty, not errors
    assert frame.iloc[2].drop("UID").isna().all()

    warnings = " ".join(frame_warnings(frame))
    assert "could not be read and were left empty" in warnings
    for name in ("start_date", "start_time", "created", "capacity", "featured"):
        assert name in warnings
    assert "cut" in warnings and "notes 1" in warnings
    assert "removed from 1 cell(s): description 1" in warnings
    assert "UTC offset" in warnings


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (None, [BY_NAME[n].title for n in DEFAULT_COLUMNS]),
        ("default", [BY_NAME[n].title for n in DEFAULT_COLUMNS]),
        ("TITLE, start date ; Event Type", ["Title", "Start date", "Event type"]),
        (["uid", "Sold out", "is_sold_out"], ["UID", "Sold out"]),
    ],
)
def test_column_choices(columns, expected) -> None:
    assert list(events_frame(EDGE, columns).columns) == expected


def test_unknown_columns_name_them_and_suggest() -> None:
    with pytest.raises(UnknownColumnsError) as info:
        resolve_columns("titel, start_date, capcity, zzz")
    message = str(info.value)
    assert "'titel' (did you mean 'title'?)" in message
    assert "'capcity' (did you mean 'capacity'?)" in message
    assert "'zzz'" in message
    assert info.value.unknown == ["titel", "capcity", "zzz"]


def test_empty_input_gives_typed_empty_frame() -> None:
    frame = events_frame([])
    assert len(frame) == 0
    assert list(frame.columns) == [BY_NAME[n].title for n in DEFAULT_COLUMNS]
    check_dtypes(frame)


def test_ticket_income_never_adds_up_different_currencies() -> None:
    one = {
        "ticket_types": {"A": {"currency": "GBP"}, "B": {"currency": "gbp"}},
        "ticket_type_income": {"A": 10.1, "B": "5.2"},
    }
    mixed = {
        "ticket_types": {"A": {"currency": "CHF"}, "B": {"currency": "EUR"}, "C": {}},
        "ticket_type_income": {"A": 1295.0, "B": 300.0, "C": 1.0},
    }
    unsold = {  # a second currency with no income yet: still one currency of income
        "ticket_types": {"A": {"currency": "GBP"}, "B": {"currency": "EUR"}},
        "ticket_type_income": {"A": 20.0, "B": 0},
    }
    frame = events_frame([one, mixed, unsold, {}], "ticket income, income currency")
    assert frame["Ticket income"].tolist()[:1] == [15.3]
    assert pd.isna(frame["Ticket income"][1]) and frame["Ticket income"][2] == 20.0
    assert frame["Income currency"].tolist()[:3] == ["GBP", "mixed", "GBP"]
    assert pd.isna(frame["Income currency"][3])
    (warning,) = frame_warnings(frame)
    assert warning.startswith("Ticket income was left empty for 1 event(s)")
