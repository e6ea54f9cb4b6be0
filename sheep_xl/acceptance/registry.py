"""The kit's checks: each a small function with a name, a group, whether it needs real Excel
and the platforms it applies to, so that any check can be skipped with a reason instead of
failing on a machine where it cannot mean anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sheep_xl.acceptance.context import KitContext

Status = Literal["pass", "fail", "skip"]
Platform = Literal["windows", "mac", "other"]
ALL_PLATFORMS: frozenset[str] = frozenset({"windows", "mac", "other"})
DESKTOP: frozenset[str] = frozenset({"windows", "mac"})
WINDOWS: frozenset[str] = frozenset({"windows"})
MAC: frozenset[str] = frozenset({"mac"})

PLATFORM_NAMES = {"windows": "Windows", "mac": "macOS", "other": "this operating system"}


class CheckFailed(Exception):
    """A check saw something wrong: one sentence for the reader, then the details."""

    def __init__(self, sentence: str, details: list[str] | None = None) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.details = details or []


class CheckSkipped(Exception):
    """A check cannot run here; the reason says why and what would let it run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


CheckFunction = Callable[["KitContext"], "str | None"]


@dataclass(frozen=True)
class Check:
    """One check. ``func`` returns a sentence describing what passed (or None), raises
    `CheckFailed` with what it saw, or `CheckSkipped` with a reason. ``requires`` names checks
    that must pass first (the add-in must load before its macros can run)."""

    name: str
    group: str
    summary: str
    func: CheckFunction
    needs_real_excel: bool = False
    platforms: frozenset[str] = ALL_PLATFORMS
    requires: tuple[str, ...] = ()


@dataclass
class CheckResult:
    name: str
    group: str
    summary: str
    status: Status
    sentence: str  # what passed, what was seen, or why it was skipped
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    needs_real_excel: bool = False
    platforms: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "summary": self.summary,
            "status": self.status,
            "sentence": self.sentence,
            "details": self.details,
            "seconds": round(self.seconds, 3),
            "needs_real_excel": self.needs_real_excel,
            "platforms": list(self.platforms),
        }


CHECKS: list[Check] = []
# The order checks run and are reported in: what later groups need comes first.
GROUP_ORDER = (
    "add-in",
    "files",
    "worksheet functions",
    "ribbon and refresh",
    "dialogs",
    "installers",
    "report",
)


def ordered(checks: list[Check]) -> list[Check]:
    """``checks`` by group (`GROUP_ORDER`), in the order they were registered within one."""
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(checks, key=lambda c: rank.get(c.group, len(rank)))


def check(
    name: str,
    group: str,
    summary: str,
    *,
    real_excel: bool = False,
    platforms: frozenset[str] = ALL_PLATFORMS,
    requires: tuple[str, ...] = (),
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check; the order of registration is the order they run in."""

    def register(func: CheckFunction) -> CheckFunction:
        if any(c.name == name for c in CHECKS):
            raise ValueError(f"two checks are called {name}")
        CHECKS.append(Check(name, group, summary, func, real_excel, platforms, requires))
        return func

    return register
