"""Which runs of a table's sheet the next refresh skips unread, and reading them back.

A table of `SKIP_FROM` rows or more is written with its body rows after the first, its
``<hyperlink>`` elements and their relationships as runs between deflate sync points, recorded
in the sheet (`sync_points`). The runs' labels say what they hold: ``rows:3-50001:A1:U50001``
(body rows 3 to 50,001 of the table at ``A1:U50001``), ``hyperlinks:rIdL1-rIdL48283:A1:U50001``
(the table's links, all in it), ``links:rIdL1-rIdL48283`` (their relationships, `HYPERLINK_RUN`).
A refresh skips them only when the labels name the table it refreshes as it is now
(`skipped_sheet`, `skipped_links`); the bytes are checked by `XlsxPackage.without_runs`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sheep_xl.writers.ooxml import HYPERLINK_RUN, XlsxPackage
from sheep_xl.writers.sync_points import Run

SKIP_FROM_BYTES = 1 << 20  # smaller sheets are scanned: skipping would save next to nothing

SKIP_FROM = 1000  # rows or links: fewer are read and scanned, as cheaply as skipped


def rows_run(body_top: int, body_bottom: int, ref: str) -> Run | None:
    """The run of a table's body rows after its first (the first is kept: its styles are
    read), to write between sync points (`sync_points`) so that the next refresh drops them
    without inflating them (`skipped_sheet`); None for a small table. ``ref`` is the table's:
    the record holds only while the table is where it was."""
    if body_bottom - body_top < SKIP_FROM:
        return None
    return Run(f"rows:{body_top + 1}-{body_bottom}:{ref}")


def links_run(kind: str, ids: Sequence[str], ref: str = "") -> Run | None:
    """The run of a table's hyperlinks (``kind`` ``hyperlinks``: the sheet's elements, all in
    the table ``ref``) or of their relationships (`HYPERLINK_RUN`, in the sheet's
    relationships part), when their ids are ``rIdL{a}`` to ``rIdL{b}`` in order and there are
    enough of them to be worth skipping."""
    if len(ids) < SKIP_FROM or not (ids[0].startswith("rIdL") and ids[0][4:].isdigit()):
        return None
    first = int(ids[0][4:])
    if any(rel_id != f"rIdL{n}" for n, rel_id in enumerate(ids, first)):
        return None
    label = f"{kind}:rIdL{first}-rIdL{first + len(ids) - 1}"
    return Run(f"{label}:{ref}" if ref else label)


_ROWS = re.compile(r"rows:(\d+)-(\d+):([A-Z]+\d+:[A-Z]+\d+)")
_LINKS = re.compile(r"(\w+):rIdL(\d+)-rIdL(\d+)(?::([A-Z]+\d+:[A-Z]+\d+))?")


@functools.lru_cache(maxsize=4)  # a sheet's links and their relationships: the same ids
def _ids(first: str, last: str) -> frozenset[str]:
    return frozenset(f"rIdL{n}" for n in range(int(first), int(last) + 1))


@dataclass(frozen=True)
class SkippedSheet:
    """A sheet without the runs of its table a refresh of ours recorded: the ``chunks``
    around them (for `split_sheet`) and the relationship ids of the hyperlinks skipped."""

    chunks: list[bytes]
    link_ids: frozenset[str]


def skipped_sheet(
    package: XlsxPackage, part: str, ref: str, body_top: int, body_bottom: int
) -> SkippedSheet | None:
    """The sheet ``part`` as it was read, without the body rows and hyperlinks of table
    ``ref`` its record names (`XlsxPackage.recorded_runs`); None when it has no record, the
    record does not hold, or it names anything else (the caller scans the whole sheet)."""
    raw = package.original_deflate(part)
    if raw is None or raw[1].file_size < SKIP_FROM_BYTES:
        return None
    skipped = package.without_runs(part)
    if skipped is None:
        return None
    runs, pieces = skipped
    link_ids: frozenset[str] = frozenset()
    for run in runs:
        rows, links = _ROWS.fullmatch(run.label), _LINKS.fullmatch(run.label)
        if rows is not None:
            if (int(rows[1]), int(rows[2]), rows[3]) != (body_top + 1, body_bottom, ref):
                return None
        elif links is not None and links[1] == "hyperlinks" and links[4] == ref:
            link_ids = _ids(links[2], links[3])
        else:
            return None
    return SkippedSheet(pieces, link_ids)


def skipped_links(package: XlsxPackage, part: str) -> tuple[list[bytes], frozenset[str]] | None:
    """The relationships part of sheet ``part`` as it was read, without the hyperlink
    relationships the sheet's record names, as chunks, and their ids; None when there are
    none or the record does not hold."""
    skipped = package.without_runs(package.rels_part(part))
    if skipped is None:
        return None
    runs, pieces = skipped
    ids: frozenset[str] = frozenset()
    for run in runs:
        links = _LINKS.fullmatch(run.label)
        if links is None or links[1] != HYPERLINK_RUN:
            return None
        ids = ids | _ids(links[2], links[3])
    return pieces, ids
