"""Where each column goes when a table that already exists is refreshed (both writers).

A refreshed table keeps what a person did to it: columns they added with a formula (Excel's
calculated columns) stay and are filled down, and when the same sheepCRM columns come back in the
same order every column stays where it is, the person's among them. Otherwise the columns asked
for come first, in the order asked, then the person's own. A column that is neither from sheepCRM
nor a formula cannot be filled, so its cells are cleared, with a warning that says why.

The headless refresh (``writers.xlsx_refresh``) and the live writer (``writers.live``) both call
`refresh_layout`, so a workbook refreshed in Excel and one refreshed by ``sheep-xl refresh`` end
with the same columns in the same order and the same warning.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnLayout:
    titles: tuple[str, ...]  # the table's columns after the refresh, in order
    calculated: tuple[str, ...]  # old columns kept with their formula (filled down)
    cleared: tuple[str, ...]  # old columns with neither data nor a formula: emptied
    warnings: tuple[str, ...]

    def position(self, title: str) -> int:
        return self.titles.index(title)


def refresh_layout(
    old_titles: Sequence[str], with_formula: Collection[str], plan_titles: Sequence[str]
) -> ColumnLayout:
    """The layout of a table whose columns are ``old_titles`` (``with_formula`` naming those
    that hold a calculated-column formula) refreshed with a plan whose columns are
    ``plan_titles``."""
    from_plan = set(plan_titles)
    calculated = tuple(t for t in old_titles if t not in from_plan and t in with_formula)
    cleared = tuple(t for t in old_titles if t not in from_plan and t not in with_formula)
    kept = [t for t in old_titles if t in from_plan]
    if kept == list(plan_titles):
        titles = tuple(old_titles)  # the same data columns: keep the person's layout
    else:
        titles = tuple(plan_titles) + tuple(t for t in old_titles if t not in from_plan)
    warnings: tuple[str, ...] = ()
    if cleared:
        warnings = (
            f"Column(s) {', '.join(repr(t) for t in cleared)} are not from sheepCRM and have no "
            "formula, so their cells were cleared: give them a formula to keep them filled.",
        )
    return ColumnLayout(titles, calculated, cleared, warnings)
