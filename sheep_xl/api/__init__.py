"""The sheepCRM API client layer.

``SheepClient`` is loaded on first use (module ``__getattr__``): importing ``sheep_xl.api.states``
or ``validation`` (every ribbon click does) then costs no HTTP stack (requests, urllib3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sheep_xl.api.states import ACCEPTED, API_STATES, CLASSIFICATIONS, Selection, resolve_state

if TYPE_CHECKING:
    from sheep_xl.api.client import SheepClient


def __getattr__(name: str) -> Any:
    if name == "SheepClient":
        from sheep_xl.api.client import SheepClient

        return SheepClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ACCEPTED", "API_STATES", "CLASSIFICATIONS", "Selection", "SheepClient", "resolve_state"]
