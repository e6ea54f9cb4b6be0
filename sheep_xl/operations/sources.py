"""Where a stored query's data comes from: your sheepCRM, or sheep-xl's built-in demo.

A workbook built from the demo data (``sheep-xl demo``, ``templates build --demo``) records
``demo`` as its queries' source, so refreshing it later, from the command line, the ribbon or
refresh on open, starts the in-process demo server and needs no key. A query whose source is
``sheepCRM`` always goes to the real API (with the key from ``SHEEP_API_KEY`` or the credential
store): nothing ever falls back to the demo silently.

`Connections` opens each source only when a query needs it and closes what it opened.
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from typing import TYPE_CHECKING

from sheep_xl.tables.queries import SOURCE_DEMO, StoredQuery

if TYPE_CHECKING:  # imported when a client is made: a ribbon click loads requests only then
    from sheep_xl.api.client import ProgressCallback, SheepClient
    from sheep_xl.api.pacing import WaitCallback
    from sheep_xl.api.per_event import EventProgress
    from sheep_xl.frames.fetch_parts import PartFrame


class Connections:
    """One client per data source, opened on first use.

    ``sheepcrm`` is a client to use for sheepCRM queries (tests and the CLI's ``--api-url`` pass
    one); without it a default `SheepClient` is made when the first sheepCRM query runs.
    """

    def __init__(
        self,
        sheepcrm: SheepClient | None = None,
        *,
        api_url: str | None = None,
        demo_today: dt.date | None = None,
    ) -> None:
        self._sheepcrm = sheepcrm
        self._api_url = api_url
        self._demo: SheepClient | None = None
        self._demo_today = demo_today
        self._stack = ExitStack()

    def client_for(self, query: StoredQuery) -> SheepClient:
        return self.demo() if query.source == SOURCE_DEMO else self.sheepcrm()

    def fetch(
        self,
        query: StoredQuery,
        *,
        pages: ProgressCallback | None = None,
        progress: EventProgress | None = None,
        on_wait: WaitCallback | None = None,
    ) -> PartFrame:
        """One stored query's data from its source, whatever its kind and target (the
        headless refresh, the live one and the reports all fetch through here)."""
        from sheep_xl.frames.query_kinds import fetch_query_frame

        return fetch_query_frame(
            self.client_for(query),
            query.query_kind,
            query.bucket,
            state=query.state,
            uid=query.event_uid,
            columns=query.columns or None,
            sort=query.sort,
            pages=pages,
            progress=progress,
            on_wait=on_wait,
        )

    def sheepcrm(self) -> SheepClient:
        if self._sheepcrm is None:
            from sheep_xl.api.client import SheepClient

            self._sheepcrm = self._stack.enter_context(SheepClient(base_url=self._api_url))
        return self._sheepcrm

    def demo(self) -> SheepClient:
        if self._demo is None:
            # Imported here: the demo data is only loaded when a demo query runs.
            from sheep_xl.api.client import SheepClient
            from sheep_xl.demo.server import DEMO_API_KEY, DemoServer

            server = self._stack.enter_context(DemoServer(today=self._demo_today))
            self._demo = self._stack.enter_context(
                SheepClient(api_key=DEMO_API_KEY, base_url=server.url)
            )
        return self._demo

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def as_connections(source: SheepClient | Connections) -> Connections:
    """Callers may hand a single client (used for every sheepCRM query) or `Connections`."""
    return source if isinstance(source, Connections) else Connections(source)


def describe_source(query: StoredQuery) -> str:
    """How progress messages name where a query's data comes from (and what it fetches)."""
    what = f"{query.bucket}, {query.target}"
    if query.kind and query.kind != "events":
        what = f"{query.kind} of {'event ' if query.event_uid else ''}{what}"
    if query.source == SOURCE_DEMO:
        return f"built-in demo data, {what}"
    return what
