"""The client against the built-in demo server, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections import Counter

import pytest

from sheep_xl.api.client import SheepClient
from sheep_xl.api.states import API_STATES, CLASSIFICATIONS, flag
from sheep_xl.demo.server import DEMO_API_KEY
from sheep_xl.exceptions import ApiKeyRejectedError, BucketNotFoundError, SheepError


@pytest.mark.parametrize("state", API_STATES)
def test_every_api_state_returns_events(demo_client: SheepClient, demo, state: str) -> None:
    rows = demo_client.events("example", state)
    assert rows, f"the demo data has events in state {state}"
    assert all(isinstance(r.get("uid"), str) for r in rows)
    assert len({r["uid"] for r in rows}) == len(rows), "no duplicated rows"
    assert {r.path for r in demo.requests} == {f"/events/v2/example/bookings/{state}"}


def test_states_are_case_insensitive(demo_client: SheepClient, demo) -> None:
    assert demo_client.events("example", "FUTURE") == demo_client.events("example", "future")
    assert {r.path for r in demo.requests} == {"/events/v2/example/bookings/future"}


def test_paging_with_small_pages_matches_one_big_page(demo_client: SheepClient, demo) -> None:
    small = demo_client.events("example", "all", page_size=7)
    pages_small = len(demo.requests)
    demo.requests.clear()
    big = demo_client.events("example", "all", page_size=5000)
    assert len(demo.requests) == 2, "one page, then an empty one confirms the end"
    assert len(small) >= 250
    assert small == big
    # every page of events, then one empty page (a short page alone does not end a listing)
    assert pages_small == -(-len(big) // 7) + 1


def test_progress_reports_pages_and_rows(demo_client: SheepClient) -> None:
    seen: list[tuple[int, int]] = []
    rows = demo_client.events(
        "example", "all", page_size=100, progress=lambda p, r: seen.append((p, r))
    )
    assert [p for p, _ in seen] == list(range(1, len(seen) + 1))
    assert seen[-1][1] == len(rows)


def test_classifications_are_computed_from_all(demo_client: SheepClient, demo) -> None:
    everything = demo_client.events("example", "all")
    counts = Counter()
    for name in CLASSIFICATIONS:
        demo.requests.clear()
        rows = demo_client.events("example", name)
        # a classification is one 'all' listing, filtered on the client
        assert {r.path for r in demo.requests} == {"/events/v2/example/bookings/all"}
        counts[name] = len(rows)
        assert rows == [r for r in everything if CLASSIFICATIONS[name](r)]
    assert all(counts[n] > 0 for n in CLASSIFICATIONS), counts
    confirmed = demo_client.events("example", "confirmed")
    for row in confirmed:
        assert not (
            flag(row, "cancelled") or flag(row, "enquiry") or flag(row, "dates_to_be_confirmed")
        )
    unconfirmed = [r for r in everything if r not in confirmed]
    assert all(
        flag(r, "cancelled") or flag(r, "enquiry") or flag(r, "dates_to_be_confirmed")
        for r in unconfirmed
    )


def test_single_event_by_uid(demo_client: SheepClient) -> None:
    first = demo_client.events("example", "future")[0]
    full = demo_client.event("example", first["uid"])
    assert full["uid"] == first["uid"]
    assert full["title"] == first["title"]


def test_rejected_key(demo) -> None:
    with SheepClient(api_key="wrong-key-123", base_url=demo.url) as client:
        with pytest.raises(ApiKeyRejectedError) as info:
            client.events("example", "all")
    assert "HTTP 401" in str(info.value)
    assert "sheep-xl login" in str(info.value)
    assert "wrong-key-123" not in str(info.value)
    assert len(demo.requests) == 1, "a rejected key is not retried"


def test_unknown_bucket(demo) -> None:
    with SheepClient(api_key=DEMO_API_KEY, base_url=demo.url) as client:
        with pytest.raises(BucketNotFoundError) as info:
            client.events("nosuchbucket", "all")
    assert "'nosuchbucket'" in str(info.value)
    assert info.value.exit_code == 2
    assert len(demo.requests) == 1


def test_key_comes_from_environment_then_credential_store(
    demo, monkeypatch, isolated_settings
) -> None:
    from sheep_xl.credentials import describe_key_source, store_key

    with SheepClient(base_url=demo.url) as client:
        with pytest.raises(SheepError, match="sheep-xl login"):
            client.events("example", "running")
    assert len(demo.requests) == 0, "no request without a key"
    store_key(demo.url, DEMO_API_KEY)
    with SheepClient(base_url=demo.url) as client:
        assert client.events("example", "running")
    assert describe_key_source(demo.url).startswith("OS credential store")
    monkeypatch.setenv("SHEEP_API_KEY", DEMO_API_KEY)
    assert describe_key_source(demo.url) == "environment (SHEEP_API_KEY)"
    with SheepClient(base_url=demo.url) as client:
        assert client.events("example", "running")
