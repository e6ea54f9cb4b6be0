"""The sheepCRM API client layer."""

from sheep_xl.api.client import SheepClient
from sheep_xl.api.states import ACCEPTED, API_STATES, CLASSIFICATIONS, Selection, resolve_state

__all__ = ["ACCEPTED", "API_STATES", "CLASSIFICATIONS", "Selection", "SheepClient", "resolve_state"]
