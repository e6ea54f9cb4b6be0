"""References that follow a refreshed table, wherever a workbook keeps them.

When a refresh moves, adds, drops or reorders a table's columns, or grows or shrinks its body,
everything that points into the table by A1 address must follow it, as Excel does when a table
resizes: defined names (print areas and titles included), chart series (names, categories and
values; their caches are dropped so Excel and LibreOffice redraw from the cells), pivot cache
sources (set to refresh on load), conditional formats and data validations (their ranges and
formulas), links to cells, and A1 formulas in any sheet. Structured references
(``Events[Event type]``) need nothing: the table keeps its name and column titles.

`TableMove` says how one table changed; `ReferenceMover` collects the moves of a refresh and
applies them once every table is written (``follow``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

from sheep_xl.writers.ooxml import (
    NS_CHART,
    NS_XM,
    REL_BASE,
    Box,
    M,
    TableInfo,
    XlsxPackage,
    cells_with_columns,
    column_index,
    column_letter,
    rows_with_numbers,
)

REL_PIVOT_CACHE = REL_BASE + "pivotCacheDefinition"

# The area of one reference token: cells (``$C$2:$C$31``, ``C2``) or whole columns (``$C:$C``).
_AREA = re.compile(r"(?P<first>\$?[A-Za-z]{1,3}\$?\d+)(?::(?P<last>\$?[A-Za-z]{1,3}\$?\d+))?")
_COLUMNS = re.compile(r"(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})")
_REF_PART = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)(\d+)")
# What a sheet's reference can be in: a formula (``<f>``, ``<formula>``), a link to a cell.
_MAY_REFER = (b"<f", b"formula", b"location=")


@dataclass
class TableMove:
    """How a table's columns and last row changed, for references that follow the table."""

    sheet_name: str
    old: TableInfo
    new_bottom: int  # new last row of the whole table (totals included)
    column_map: dict[int, int]  # old absolute column -> new absolute column
    new_right: int

    def map_box(self, box: Box, single: bool = False) -> Box | None:
        """Where an area inside the table is after the refresh, else None (leave it).

        Its columns follow their table columns (by title), so a reordered, added or dropped
        column takes its references along. Its rows: an area over whole table columns (body,
        or header/totals included) is stretched or shrunk with the table, as Excel does when a
        table resizes; the totals row goes to the new last row; any other rows (the header
        cell a chart names its series by, one cell of the body) stay where they are. A
        ``single`` cell stays one cell."""
        old = self.old
        if not (old.box.left <= box.left and box.right <= old.box.right):
            return None
        if not (old.box.top <= box.top and box.bottom <= old.box.bottom):
            return None
        columns = self._columns(box.left, box.right)
        if columns is None:
            return None
        left, right = columns
        new_body_bottom = self.new_bottom - old.totals_rows
        whole = (
            not single
            and box.top in (old.box.top, old.body_top)
            and box.bottom in (old.body_bottom, old.box.bottom)
            and not box.bottom < old.body_top  # the header row alone is not a column
        )
        if whole:
            bottom = self.new_bottom if box.bottom == old.box.bottom else new_body_bottom
            return Box(box.top, left, bottom, right)

        def row(number: int) -> int:
            in_totals = old.totals_rows and number > old.body_bottom
            return number - old.box.bottom + self.new_bottom if in_totals else number

        return Box(row(box.top), left, row(box.bottom), right)

    def map_columns(self, left: int, right: int) -> tuple[int, int] | None:
        """Where whole sheet columns (``$C:$C``) of the table are after the refresh."""
        old = self.old
        if not (old.box.left <= left and right <= old.box.right):
            return None
        return self._columns(left, right)

    def _columns(self, left: int, right: int) -> tuple[int, int] | None:
        """The new span of old columns ``left..right``: all the table's columns stay all of
        them (new ones included); otherwise the span of where each of them went."""
        old = self.old
        if left == old.box.left and right == old.box.right and right > left:
            return old.box.left, self.new_right
        moved = [self.column_map.get(col) for col in range(left, right + 1)]
        found = [col for col in moved if col is not None]
        if len(found) != len(moved):
            return None
        return min(found), max(found)

    @property
    def new_body(self) -> Box:
        """The rewritten body rows (their cells were just rendered in place)."""
        old = self.old
        return Box(old.body_top, old.box.left, self.new_bottom - old.totals_rows, self.new_right)


class ReferenceMover:
    """The moves of one refresh, and the references of the package they are applied to."""

    def __init__(self, package: XlsxPackage) -> None:
        self.package = package
        self.moves: list[TableMove] = []

    def add(self, move: TableMove, sheet_root: etree._Element) -> None:
        """Record a table's move; its own sheet's ranges follow at once."""
        self.moves.append(move)
        self.sheet_ranges(sheet_root, move)

    def follow(self) -> None:
        """After every table is written: names, charts, pivot caches and sheet formulas."""
        package = self.package
        workbook = package.edit(package.workbook_part)
        names = workbook.find(f"{M}definedNames")
        if names is not None:
            for node in names.findall(f"{M}definedName"):
                node.text = self.formula(node.text or "")
        for part in package.parts():
            if part.startswith("xl/charts/chart") and part.endswith(".xml"):
                self._chart(part)
        for rel in package.relationships(package.workbook_part):
            if rel.type == REL_PIVOT_CACHE and package.has(rel.part):
                self._pivot_cache(rel.part)
        for sheet_name, sheet_part in package.sheets():
            self._sheet_formulas(sheet_name, sheet_part)

    def sheet_ranges(self, sheet_root: etree._Element, move: TableMove) -> None:
        """Conditional formatting and data validation over whole table columns follow the table."""
        for tag in ("conditionalFormatting", "dataValidations/dataValidation"):
            for node in sheet_root.iterfind("/".join(f"{M}{t}" for t in tag.split("/"))):
                node.set("sqref", move_sqref(node.get("sqref", ""), move))
        for node in sheet_root.iter(f"{{{NS_XM}}}sqref"):
            node.text = move_sqref(node.text or "", move)

    def formula(self, text: str, sheet: str | None = None) -> str:
        """``text`` (a formula without ``=``, a defined name, a chart or hyperlink reference)
        with every A1 reference into a moved table moved with it; ``sheet`` is the sheet an
        unqualified reference (``C2``) means, None to leave those alone."""
        if not self.moves:
            return text
        try:
            tokens = Tokenizer("=" + text).items
        except TokenizerError:
            return text  # Excel could not read it either: leave it as it is
        if "".join(t.value for t in tokens) != text:
            return text
        changed = False
        for token in tokens:
            if token.type == Token.OPERAND and token.subtype == Token.RANGE:
                moved = self._reference(token.value, sheet)
                if moved != token.value:
                    token.value = moved
                    changed = True
        return "".join(t.value for t in tokens) if changed else text

    def _reference(self, reference: str, default_sheet: str | None) -> str:
        """One reference token (``'Events'!$C$2:$C$31``, ``C2``, ``Events!$C:$C``) moved."""
        prefix, bang, area = reference.rpartition("!")
        if bang:
            if prefix.startswith("[") or ":" in prefix.replace("''", ""):
                return reference  # another workbook, or a 3-D reference over several sheets
            plain = prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix
        elif default_sheet is None:
            return reference
        else:
            plain = default_sheet
        moves = [m for m in self.moves if m.sheet_name.lower() == plain.lower()]
        if not moves:
            return reference
        head = f"{prefix}!" if bang else ""
        cells = _AREA.fullmatch(area)
        if cells:
            first, last = cells.group("first"), cells.group("last") or cells.group("first")
            for move in moves:
                box = move.map_box(Box.parse(f"{first}:{last}"), single=not cells.group("last"))
                if box is not None:
                    return head + _with_dollars(first, last, box, bool(cells.group("last")))
            return reference
        columns = _COLUMNS.fullmatch(area)
        if columns:
            left = column_index(columns.group(2))
            right = column_index(columns.group(4))
            for move in moves:
                mapped = move.map_columns(min(left, right), max(left, right))
                if mapped is not None:
                    d1, d2 = columns.group(1), columns.group(3)
                    new = f"{d1}{column_letter(mapped[0])}:{d2}{column_letter(mapped[1])}"
                    return head + new
        return reference

    def _sheet_formulas(self, sheet_name: str, part: str) -> None:
        """A1 references into moved tables, in one sheet's cell formulas (outside the rewritten
        table bodies), conditional-format and validation formulas and links to cells."""
        if not self.moves:
            return
        package = self.package
        if part not in package.changed_parts and not package.contains(part, _MAY_REFER):
            return  # nothing that can hold a reference (and no need to parse the sheet)
        # a spliced sheet: its tree holds every cell but the table's new rows
        root = package.tree(part)
        bodies = [m.new_body for m in self.moves if m.sheet_name.lower() == sheet_name.lower()]
        changed = False

        def move(node: etree._Element) -> None:
            nonlocal changed
            if node.text:
                new = self.formula(node.text, sheet_name)
                if new != node.text:
                    node.text = new
                    changed = True

        sheet_data = root.find(f"{M}sheetData")
        if sheet_data is not None:
            for row_number, row in rows_with_numbers(sheet_data):
                in_rows = [b for b in bodies if b.top <= row_number <= b.bottom]
                for col, cell in cells_with_columns(row):
                    formula = cell.find(f"{M}f")
                    if formula is None or any(b.contains(row_number, col) for b in in_rows):
                        continue
                    move(formula)
        for tag in (
            f"{M}conditionalFormatting/{M}cfRule/{M}formula",
            f"{M}dataValidations/{M}dataValidation/{M}formula1",
            f"{M}dataValidations/{M}dataValidation/{M}formula2",
        ):
            for node in root.iterfind(tag):
                move(node)
        for node in root.iter(f"{{{NS_XM}}}f"):
            move(node)
        for link in root.iterfind(f"{M}hyperlinks/{M}hyperlink"):
            location = link.get("location")
            if location:
                new = self.formula(location, sheet_name)
                if new != location:
                    link.set("location", new)
                    changed = True
        if changed:
            package.mark_changed(part)

    def _chart(self, part: str) -> None:
        root = self.package.xml(part)
        touched = False
        for formula in root.iter(f"{{{NS_CHART}}}f"):
            new = self.formula(formula.text or "")
            if new != formula.text:
                formula.text = new
                touched = True
        for tag in ("numCache", "strCache", "multiLvlStrCache"):
            for cache in list(root.iter(f"{{{NS_CHART}}}{tag}")):
                parent = cache.getparent()
                if parent is not None and parent.find(f"{{{NS_CHART}}}f") is not None:
                    parent.remove(cache)  # Excel and LibreOffice redraw from the cells
                    touched = True
        if touched:
            self.package.mark_changed(part)

    def _pivot_cache(self, part: str) -> None:
        root = self.package.edit(part)
        root.set("refreshOnLoad", "1")
        source = root.find(f"{M}cacheSource/{M}worksheetSource")
        if source is not None and source.get("ref") and source.get("sheet"):
            sheet = source.get("sheet", "")
            quoted = "'" + sheet.replace("'", "''") + "'"
            moved = self.formula(f"{quoted}!{source.get('ref')}")
            source.set("ref", moved.split("!", 1)[1].replace("$", ""))


def move_sqref(sqref: str, move: TableMove) -> str:
    areas = []
    for area in sqref.split():
        moved = move.map_box(Box.parse(area))
        areas.append(moved.ref if moved is not None else area)
    return " ".join(areas)


def _with_dollars(first: str, last: str, box: Box, was_area: bool) -> str:
    """Write ``box`` in the same absolute/relative style as the reference it replaces."""

    def part(template: str, row: int, col: int) -> str:
        m = _REF_PART.fullmatch(template)
        col_dollar, row_dollar = (m.group(1), m.group(3)) if m else ("", "")
        return f"{col_dollar}{column_letter(col)}{row_dollar}{row}"

    start = part(first, box.top, box.left)
    if not was_area and box.top == box.bottom and box.left == box.right:
        return start
    return f"{start}:{part(last, box.bottom, box.right)}"
