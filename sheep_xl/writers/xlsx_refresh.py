"""Refresh Excel tables in place inside an existing ``.xlsx``, touching nothing else.

For each table the plan replaces the header and body cells, resizes the table under the same name
and keeps what a report builder hung on it working:

* formulas with structured references (``Events[Event type]``) need nothing: the table keeps its
  name and column titles; calculated columns are filled down to the new last row;
* every A1 reference into the table (charts, defined names, conditional formatting, data
  validation, links, formulas) follows its columns and rows: ``writers.references``;
* pivot caches are marked to refresh when the file is opened, and the workbook asks for a full
  recalculation on load (the stale ``calcChain`` part is removed, Excel rebuilds it).

Every part we do not edit keeps its exact bytes. The caller writes the package to a temporary
file and replaces the original only when everything succeeded.

The table's sheet is edited without its old rows (``writers.sheet_splice``): only the XML around
them is parsed, and the new rows are rendered into the part as it is saved, as a new workbook's
are. A sheet that is not in the shape that needs (see `sheet_splice.split_sheet`) is edited as
a whole tree instead; both make the same sheet.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from lxml import etree

from sheep_xl.exceptions import WorkbookError
from sheep_xl.frames.excel_text import escape_ooxml, unescape_ooxml
from sheep_xl.tables.layout import refresh_layout
from sheep_xl.tables.plan import (
    EARLIEST_DATE_1904,
    MAX_HYPERLINKS,
    TablePlan,
    cap_links,
    check_excel_limits,
    keeps_user_format,
)
from sheep_xl.tables.queries import QUERIES_TABLE, StoredQuery, parse_queries
from sheep_xl.writers.ooxml import (
    NS_DCTERMS,
    NS_MAIN,
    NS_PKG_REL,
    REL_CALC_CHAIN,
    REL_HYPERLINK,
    REL_TABLE,
    WORKBOOK_ORDER,
    WORKSHEET_ORDER,
    Box,
    CellReader,
    M,
    R,
    TableInfo,
    XlsxPackage,
    cells_with_columns,
    column_letter,
    drop_run_record,
    insert_in_order,
    parse_cell,
    parse_xml,
    rows_with_numbers,
)
from sheep_xl.writers.references import ReferenceMover, TableMove
from sheep_xl.writers.sheet_splice import (
    Body,
    DroppedLinks,
    Region,
    SplicedSheet,
    StreamedRelationships,
    drop_links,
    header_cells,
    link_ids,
    new_mark,
    place_body,
    place_links,
    prune_relationships,
    split_sheet,
)
from sheep_xl.writers.sheet_xml import hyperlinks, plan_hyperlinks
from sheep_xl.writers.sync_points import Run
from sheep_xl.writers.table_runs import skipped_links, skipped_sheet
from sheep_xl.writers.xlsx_styles import StyleSheet

# False: every refresh edits the whole sheet as a tree (tests compare the two ways).
SPLICE = True


@dataclass
class TableWrite:
    """What a refresh did to one table (for status and tests)."""

    table: str
    sheet: str
    ref: str
    rows: int
    warnings: list[str] = field(default_factory=list)
    spliced: bool = False  # the rows were spliced into the sheet (`sheet_splice`), not a tree


P = ParamSpec("P")
T = TypeVar("T")

# What malformed content raises inside the editor (a bad cell reference or number in an
# attribute, a missing element, a part that is not XML): the workbook is input, so each of these
# is the user's file, not a bug, and ends as a one-sentence `WorkbookError`.
_CONTENT_FAULTS = (ValueError, KeyError, IndexError, etree.LxmlError)


def _workbook_faults(method: Callable[P, T]) -> Callable[P, T]:
    """The editor's boundary: malformed content met by ``method`` becomes a `WorkbookError`."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except _CONTENT_FAULTS as exc:
            editor = args[0]
            name = editor.package.path.name if isinstance(editor, WorkbookEditor) else "workbook"
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise WorkbookError(
                f"{name} has content sheep-xl cannot read ({detail}): open and repair it in "
                "Excel, or rebuild it."
            ) from None

    return guarded


class WorkbookEditor:
    """Edits tables, names and dependents of one workbook package.

    Its public methods are its boundary (`_workbook_faults`): whatever a damaged workbook makes
    them meet is a `WorkbookError`, never a ``ValueError`` or an lxml error."""

    def __init__(self, package: XlsxPackage) -> None:
        self.package = package
        try:
            self.styles = StyleSheet(package)
        except _CONTENT_FAULTS as exc:
            raise WorkbookError(
                f"{package.path.name} is damaged: its styles cannot be read ({exc}); open and "
                "repair it in Excel, or rebuild it."
            ) from None
        self.date1904 = package.date1904
        self.cells = CellReader(package, self.styles.is_date)
        self.references = ReferenceMover(package)
        self._changed_sheets: set[str] = set()

    # --- finding and reading tables ---------------------------------------------------------

    @_workbook_faults
    def tables(self) -> list[TableInfo]:
        found = []
        for sheet_name, sheet_part in self.package.sheets():
            for rel in self.package.relationships(sheet_part, REL_TABLE):
                if not self.package.has(rel.part):
                    continue
                root = self.package.xml(rel.part)
                found.append(
                    TableInfo(
                        name=root.get("displayName") or root.get("name", ""),
                        sheet_name=sheet_name,
                        sheet_part=sheet_part,
                        table_part=rel.part,
                        box=Box.parse(root.get("ref", "A1")),
                        header_rows=int(root.get("headerRowCount", "1")),
                        totals_rows=int(root.get("totalsRowCount", "0")),
                    )
                )
        return found

    @_workbook_faults
    def preflight(self, refreshed: Iterable[str] = ()) -> None:
        """Check every part a refresh edits (the workbook, its sheets and tables) now, so a
        damaged one is reported before anything is fetched. Sheets are checked as they are
        read, without their trees (memory stays flat, however big a sheet is). A sheet whose
        one table is among the ``refreshed`` and whose old rows the refresh will skip unread
        (`skipped_sheet`) is checked without them: they are dropped, damaged or not."""
        names = {name.lower() for name in refreshed}
        infos = self.tables()
        for _name, sheet_part in self.package.sheets():
            on_sheet = [info for info in infos if info.sheet_part == sheet_part]
            skipped = None
            if len(on_sheet) == 1 and on_sheet[0].name.lower() in names:
                info = on_sheet[0]
                bottom = info.box.bottom - info.totals_rows
                skipped = skipped_sheet(
                    self.package, sheet_part, info.box.ref, info.body_top, bottom
                )
            self.package.check(sheet_part, None if skipped is None else skipped.chunks)
        for info in infos:
            Box.parse(self.package.xml(info.table_part).get("ref", "A1"))

    @_workbook_faults
    def find_table(self, name: str) -> TableInfo | None:
        for info in self.tables():
            if info.name.lower() == name.lower():
                return info
        return None

    @_workbook_faults
    def read_queries(self) -> list[StoredQuery]:
        """The stored queries of this workbook (none when it has no SheepCRM_Queries table);
        the live writer's `read_queries(book)` is the same reader for a workbook in Excel."""
        if self.find_table(QUERIES_TABLE) is None:
            return []
        header, rows = self.read_table(QUERIES_TABLE)
        return parse_queries(header, rows)

    def shared_strings(self) -> list[str]:
        return self.cells.shared_strings()

    @_workbook_faults
    def read_box(self, sheet_part: str, box: Box) -> list[list[Any]]:
        """Cell values of an area (see `CellReader.read_box`)."""
        return self.cells.read_box(sheet_part, box)

    @_workbook_faults
    def read_table(self, name: str) -> tuple[list[Any], list[list[Any]]]:
        info = self.find_table(name)
        if info is None:
            raise WorkbookError(f"The workbook has no table named '{name}'.")
        grid = self.read_box(info.sheet_part, info.box)
        header = grid[0] if info.header_rows else []
        body = grid[info.header_rows : len(grid) - info.totals_rows]
        return header, body

    # --- replacing a table ------------------------------------------------------------------

    @_workbook_faults
    def replace_table(self, plan: TablePlan, sheet_name: str | None = None) -> TableWrite:
        info = self.find_table(plan.name)
        if info is None:
            raise WorkbookError(
                f"The workbook has no table named '{plan.name}'"
                f"{' on sheet ' + repr(sheet_name) if sheet_name else ''}: restore it, or let "
                "the Excel add-in create it (Refresh on the SheepCRM ribbon)."
            )
        if info.header_rows != 1:
            raise WorkbookError(
                f"Table '{info.name}' has its header row turned off: turn it back on (Table "
                "Design > Header Row) so sheep-xl can match columns by title."
            )
        table_root = self.package.edit(info.table_part)
        columns_node = table_root.find(f"{M}tableColumns")
        old_columns = [] if columns_node is None else columns_node.findall(f"{M}tableColumn")
        layout = _column_layout(old_columns, plan)
        warnings = list(layout.warnings)

        check_excel_limits(
            plan, info.box.top, info.box.left, len(layout.titles), extra_rows=info.totals_rows
        )
        if self.date1904:  # a 1904 workbook cannot hold 1900-1903: empty and counted, too
            plan.blank_dates_before(EARLIEST_DATE_1904)

        n_body = max(plan.n_rows, 1)  # an Excel table always has at least one body row
        new_right = info.box.left + len(layout.titles) - 1
        new_body_bottom = info.box.top + n_body
        new_bottom = new_body_bottom + info.totals_rows
        new_box = Box(info.box.top, info.box.left, new_bottom, new_right)
        clear = Box(
            info.box.top,
            info.box.left,
            max(info.box.bottom, new_bottom),
            max(info.box.right, new_right),
        )

        split = self._split_sheet(info, clear) if SPLICE else None
        if split is None:
            sheet_root = self.package.edit(info.sheet_part)
        else:
            sheet_root, dropped_links, skipped_ids = split
        drop_run_record(sheet_root)  # the sheet is written anew: its runs, if any, anew too
        self._check_room(info, new_box, sheet_root)
        sheet_data = sheet_root.find(f"{M}sheetData")
        if sheet_data is None:
            sheet_data = etree.Element(f"{M}sheetData")
            insert_in_order(sheet_root, sheet_data, WORKSHEET_ORDER)

        old_styles = self._column_styles(sheet_data, info, old_columns, info.body_top)
        layout.header_styles = self._column_styles(sheet_data, info, old_columns, info.box.top)
        totals_cells = self._take_totals_row(sheet_data, info, old_columns)
        _clear_area(sheet_data, clear)

        styles = self._new_column_styles(plan, layout, old_styles)
        if split is None:
            rows_xml, links = self._render_rows(plan, layout, info, styles)
            _merge_rows(sheet_data, rows_xml, info.box.top)
        else:
            mark = new_mark()
            place_body(sheet_data, info.box.top, new_body_bottom, info.box.left, mark)
        if totals_cells:
            _put_cells(sheet_data, new_bottom, totals_cells, layout.old_to_new_column(info))
        if split is None:
            self._replace_hyperlinks(info, sheet_root, clear, links, warnings)
        else:
            streamed = self._stream_hyperlinks(
                info, sheet_root, clear, dropped_links, plan, layout, warnings, skipped_ids
            )
        _update_dimension(sheet_root, sheet_data, new_box)

        _update_table_xml(table_root, new_box, info, layout)
        move = TableMove(
            info.sheet_name, info, new_bottom, layout.old_to_new_column(info), new_right
        )
        self._changed_sheets.add(info.sheet_name)
        self.references.add(move, sheet_root)
        if split is not None:
            body = self._body(plan, layout, info, styles)
            links, ids, rels_run = streamed
            spliced = SplicedSheet(sheet_root, mark, body, links, ids, new_box.ref, rels_run)
            self.package.stream(info.sheet_part, spliced)
        return TableWrite(
            info.name, info.sheet_name, new_box.ref, plan.n_rows, warnings, split is not None
        )

    def _split_sheet(
        self, info: TableInfo, area: Box
    ) -> tuple[etree._Element, DroppedLinks | None, frozenset[str]] | None:
        """The table's sheet without the old rows a refresh can drop unread (`split_sheet`),
        parsed, with the hyperlinks in ``area`` dropped from its bytes (None: they were not,
        `_stream_hyperlinks` removes them) and the relationship ids of those skipped unread
        (`skipped_sheet`); None when the whole sheet has to be a tree."""
        package = self.package
        part = info.sheet_part
        package.flatten(part)  # a sheet already edited or spliced: spliced again from its bytes
        package.flatten(package.rels_part(part))
        keep = {info.box.top, info.body_top}
        if info.totals_rows:
            keep.add(info.box.bottom)
        region = Region(
            top=info.box.top,
            droppable=info.box.bottom,
            bottom=area.bottom,
            left=info.box.left,
            right=info.box.right,
            keep=frozenset(keep),
        )
        # rows a refresh of ours recorded are skipped unread; any others are scanned
        ref, body_bottom = info.box.ref, info.box.bottom - info.totals_rows
        skipped = skipped_sheet(package, part, ref, info.body_top, body_bottom)
        split = split_sheet(package.chunks(part) if skipped is None else skipped.chunks, region)
        if split is None:
            return None
        dropped = drop_links(split.head, split.tail, area)
        root = split.parse(None if dropped is None else dropped[0])
        if root is None:
            return None
        skipped_ids = frozenset() if skipped is None else skipped.link_ids
        return root, None if dropped is None else dropped[1], skipped_ids

    def _check_room(self, info: TableInfo, new_box: Box, sheet_root: etree._Element) -> None:
        """The area a table grows into must be empty: nothing of the user's is overwritten."""
        for other in self.tables():
            if other.table_part == info.table_part or other.sheet_part != info.sheet_part:
                continue
            if _overlaps(other.box, new_box):
                raise WorkbookError(
                    f"Table '{info.name}' needs {new_box.ref} on sheet '{info.sheet_name}', but "
                    f"table '{other.name}' is in the way: move one of them."
                )
        merges = sheet_root.find(f"{M}mergeCells")
        if merges is not None:
            for merge in merges:
                if _overlaps(Box.parse(merge.get("ref", "A1")), new_box):
                    raise WorkbookError(
                        f"Table '{info.name}' needs {new_box.ref} on sheet '{info.sheet_name}', "
                        f"but merged cells {merge.get('ref')} are in the way: unmerge or move them."
                    )
        sheet_data = sheet_root.find(f"{M}sheetData")
        if sheet_data is None:
            return
        for row_number, row in rows_with_numbers(sheet_data):
            if not new_box.top <= row_number <= new_box.bottom:
                continue
            for col, cell in cells_with_columns(row):
                outside_old = not info.box.contains(row_number, col)
                if new_box.contains(row_number, col) and outside_old and _has_content(cell):
                    raise WorkbookError(
                        f"Table '{info.name}' needs to grow to {new_box.ref} on sheet "
                        f"'{info.sheet_name}', but {column_letter(col)}{row_number} holds "
                        "data: move what is below or beside the table and refresh again."
                    )

    def _column_styles(
        self,
        sheet_data: etree._Element,
        info: TableInfo,
        old_columns: list[etree._Element],
        row_wanted: int,
    ) -> dict[str, int]:
        """Style index of each existing column's cell in one row, by column title."""
        styles: dict[str, int] = {}
        for row_number, row in rows_with_numbers(sheet_data):
            if row_number != row_wanted:
                continue
            for col, cell in cells_with_columns(row):
                index = col - info.box.left
                if 0 <= index < len(old_columns) and cell.get("s"):
                    styles[_column_name(old_columns[index])] = int(cell.get("s", "0"))
        return styles

    def _take_totals_row(
        self, sheet_data: etree._Element, info: TableInfo, old_columns: list[etree._Element]
    ) -> list[tuple[int, etree._Element]]:
        if not info.totals_rows:
            return []
        taken = []
        for row_number, row in rows_with_numbers(sheet_data):
            if row_number != info.box.bottom:
                continue
            for col, cell in cells_with_columns(row):
                if info.box.left <= col <= info.box.right:
                    row.remove(cell)
                    taken.append((col, cell))
        return taken

    def _new_column_styles(
        self, plan: TablePlan, layout: _Layout, old_styles: dict[str, int]
    ) -> list[int]:
        """Per final column: keep a user's own compatible number format, else the plan's."""
        by_title = {c.title: c for c in plan.columns}
        styles = []
        for title in layout.titles:
            column = by_title.get(title)
            old = old_styles.get(title)
            if column is None:
                styles.append(old or 0)
                continue
            wanted = self.styles.xf_for(column.number_format, column.hyperlink)
            if (
                old is not None
                and old != wanted
                and keeps_user_format(self.styles.number_format(old), column.kind)
            ):
                styles.append(old)
            else:
                styles.append(wanted)
        return styles

    def _body(self, plan: TablePlan, layout: _Layout, info: TableInfo, styles: list[int]) -> Body:
        """What the header and body rows are rendered from (both ways, the same cells)."""
        header_styles = [layout.header_styles.get(t, 0) for t in layout.titles]
        return Body(
            plan,
            layout.sources,
            styles,
            header_cells(layout.titles, header_styles, info.box.top, info.box.left),
            info.box.top,
            info.box.left,
            self.date1904,
        )

    def _render_rows(
        self, plan: TablePlan, layout: _Layout, info: TableInfo, styles: list[int]
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """XML text of the header and body rows, and (cell, url) hyperlinks."""
        rows = [
            row.encode("latin-1").decode()  # the renderers' text is UTF-8 bytes, one a character
            for chunk in self._body(plan, layout, info, styles).rows()
            for row in chunk
        ]
        link_columns = [
            (source, info.box.left + i)
            for i, source in enumerate(layout.sources)
            if isinstance(source, int) and plan.columns[source].hyperlink
        ]
        return rows, hyperlinks(plan.rows, link_columns, info.body_top)

    def _replace_hyperlinks(
        self,
        info: TableInfo,
        sheet_root: etree._Element,
        area: Box,
        links: list[tuple[str, str]],
        warnings: list[str],
    ) -> None:
        """The table's links replace the old ones in ``area``; the sheet's other links count
        against Excel's hyperlinks per sheet (`cap_links`: the rest stay plain text)."""
        package = self.package
        node = sheet_root.find(f"{M}hyperlinks")
        dropped = _remove_links(node, area)
        package.remove_relationships(info.sheet_part, dropped.removed - dropped.kept)
        links = cap_links(links, MAX_HYPERLINKS - (0 if node is None else len(node)), warnings)
        if not links:
            if node is not None and len(node) == 0:
                sheet_root.remove(node)
            return
        if node is None:
            node = etree.Element(f"{M}hyperlinks")
            insert_in_order(sheet_root, node, WORKSHEET_ORDER)
        rels = package.rels_root(info.sheet_part)
        rel_tag = f"{{{rels.nsmap.get(None)}}}Relationship"
        ids = link_ids((r.get("Id") for r in rels), len(links))
        for (ref, url), rel_id in zip(links, ids, strict=True):
            etree.SubElement(
                rels, rel_tag, Id=rel_id, Type=REL_HYPERLINK, Target=url, TargetMode="External"
            )
            etree.SubElement(node, f"{M}hyperlink", {"ref": ref, f"{R}id": rel_id})

    def _stream_hyperlinks(
        self,
        info: TableInfo,
        sheet_root: etree._Element,
        area: Box,
        dropped: DroppedLinks | None,
        plan: TablePlan,
        layout: _Layout,
        warnings: list[str],
        skipped: Iterable[str] = (),
    ) -> tuple[list[tuple[str, str]], list[str], Run | None]:
        """`_replace_hyperlinks` for a spliced sheet: the new links and their relationships
        are streamed when the package is saved (never an element per link). Returns the links
        and their relationship ids (none when they are elements of ``sheet_root``), and the
        run of the relationships (`StreamedRelationships.run`).
        ``skipped``: ids of links in ``area`` dropped unread with the rows."""
        package = self.package
        node = sheet_root.find(f"{M}hyperlinks")
        if dropped is None:  # not dropped from the bytes: from the tree, as the tree path does
            dropped = _remove_links(node, area)
        dropped.removed.update(skipped)
        budget = MAX_HYPERLINKS - (0 if node is None else len(node))
        left = info.box.left
        link_columns = [
            (source, left + i)
            for i, source in enumerate(layout.sources)
            if isinstance(source, int) and plan.columns[source].hyperlink
        ]
        links, total = plan_hyperlinks(plan, link_columns, info.body_top, max(budget, 0))
        links = cap_links(links, budget, warnings, total)
        gone = dropped.removed - dropped.kept if dropped.kept else dropped.removed
        rels_name = package.rels_part(info.sheet_part)
        if gone:
            self._remove_relationships(info.sheet_part, gone)
        if not links:
            if node is not None and len(node) == 0:
                sheet_root.remove(node)
            return [], [], None
        if not place_links(sheet_root):
            self._replace_hyperlinks(info, sheet_root, area, links, warnings)
            return [], [], None
        if package.has(rels_name):
            rels = package.xml(rels_name)
        else:
            rels = etree.Element(f"{{{NS_PKG_REL}}}Relationships", nsmap={None: NS_PKG_REL})
        ids = link_ids((r.get("Id") for r in rels), len(links))
        relationships = StreamedRelationships(rels, links, ids)
        package.stream(rels_name, relationships)
        return links, ids, relationships.run

    def _remove_relationships(self, part: str, ids: set[str]) -> None:
        """`XlsxPackage.remove_relationships`, from the bytes while the relationships part
        has its stored bytes (they can be 65,530 links)."""
        package = self.package
        rels_name = package.rels_part(part)
        if package.has(rels_name) and rels_name not in package.changed_parts:
            chunks: Iterable[bytes] = package.chunks(rels_name)
            skipped = skipped_links(package, part)
            if skipped is not None and skipped[1] <= ids:  # links of ours: dropped unread
                chunks, ids = skipped[0], ids - skipped[1]
            pruned = prune_relationships(chunks, ids)
            if pruned is not None:
                package.write(rels_name, pruned)
                return
        package.remove_relationships(part, ids)

    # --- workbook-level -----------------------------------------------------------------------

    @_workbook_faults
    def set_defined_name(self, name: str, value: str) -> None:
        workbook = self.package.edit(self.package.workbook_part)
        names = workbook.find(f"{M}definedNames")
        if names is None:
            names = etree.Element(f"{M}definedNames")
            insert_in_order(workbook, names, WORKBOOK_ORDER)
        for node in names.findall(f"{M}definedName"):
            if node.get("name", "").lower() == name.lower() and node.get("localSheetId") is None:
                node.text = value
                return
        node = etree.SubElement(names, f"{M}definedName", name=name)
        node.text = value

    @_workbook_faults
    def defined_name(self, name: str) -> str | None:
        names = self.package.xml(self.package.workbook_part).find(f"{M}definedNames")
        if names is None:
            return None
        for node in names.findall(f"{M}definedName"):
            if node.get("name", "").lower() == name.lower() and node.get("localSheetId") is None:
                return node.text
        return None

    @_workbook_faults
    def finish(self, modified: dt.datetime | None = None, today: dt.date | None = None) -> None:
        """Follow-ups after all tables changed: names, charts, pivots, recalculation, metadata,
        and every formula's cached value (for viewers that never recalculate; ``today`` is
        what ``TODAY()`` gives, None leaves formulas using it without a value)."""
        from sheep_xl.writers.formula_values import write_cached_values  # (imports this module)

        package = self.package
        self.references.follow()
        workbook = package.edit(package.workbook_part)
        calc = workbook.find(f"{M}calcPr")
        if calc is None:
            calc = etree.Element(f"{M}calcPr")
            insert_in_order(workbook, calc, WORKBOOK_ORDER)
        calc.set("fullCalcOnLoad", "1")
        self._drop_calc_chain()
        write_cached_values(package, today, editor=self)
        if modified is not None and package.has("docProps/core.xml"):
            node = package.edit("docProps/core.xml").find(f"{{{NS_DCTERMS}}}modified")
            if node is not None:
                node.text = modified.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _drop_calc_chain(self) -> None:
        package = self.package
        for rel in package.relationships(package.workbook_part):
            if rel.type == REL_CALC_CHAIN:
                package.remove_relationships(package.workbook_part, {rel.id})
                package.delete(rel.part)
                package.remove_override(rel.part)


# --- column layout ----------------------------------------------------------------------------


@dataclass
class _Layout:
    titles: list[str]
    sources: list[int | str | None]  # plan column index, calculated formula, or None (cleared)
    old_positions: dict[str, int]  # title -> old column offset
    header_styles: dict[str, int]
    ids: list[int | None]  # existing tableColumn id per final column
    calculated: dict[str, etree._Element]  # title -> calculatedColumnFormula node
    warnings: list[str]

    def old_to_new_column(self, info: TableInfo) -> dict[int, int]:
        mapping = {}
        for new_offset, title in enumerate(self.titles):
            old_offset = self.old_positions.get(title)
            if old_offset is not None:
                mapping[info.box.left + old_offset] = info.box.left + new_offset
        return mapping


def _column_layout(old_columns: list[etree._Element], plan: TablePlan) -> _Layout:
    """The table's columns after the refresh (decided by `refresh_layout`, as in live Excel),
    with where each one's cells come from."""
    plan_index = {t: i for i, t in enumerate(plan.titles)}
    old_titles = [_column_name(c) for c in old_columns]
    formulas = {
        _column_name(column): formula
        for column in old_columns
        if (formula := column.find(f"{M}calculatedColumnFormula")) is not None
    }
    decided = refresh_layout(old_titles, formulas, plan.titles)
    calculated = {title: formulas[title] for title in decided.calculated}
    titles = list(decided.titles)
    sources: list[int | str | None] = []
    for title in titles:
        if title in plan_index:
            sources.append(plan_index[title])
        elif title in calculated:
            sources.append(calculated[title].text or "")
        else:
            sources.append(None)
    old_positions = {t: i for i, t in enumerate(old_titles)}
    ids: list[int | None] = []
    for title in titles:
        pos = old_positions.get(title)
        ids.append(int(old_columns[pos].get("id", "0")) if pos is not None else None)
    return _Layout(titles, sources, old_positions, {}, ids, calculated, list(decided.warnings))


def _column_name(column: etree._Element) -> str:
    """A table column's name as Excel shows it (``_xHHHH_`` decoded, `escape_ooxml`)."""
    return unescape_ooxml(column.get("name", ""))


def _update_table_xml(root: etree._Element, box: Box, info: TableInfo, layout: _Layout) -> None:
    root.set("ref", box.ref)
    auto_filter = root.find(f"{M}autoFilter")
    filter_box = Box(box.top, box.left, box.bottom - info.totals_rows, box.right)
    if auto_filter is not None:
        auto_filter.set("ref", filter_box.ref)
        for column in list(auto_filter.findall(f"{M}filterColumn")):
            if int(column.get("colId", "0")) >= len(layout.titles):
                auto_filter.remove(column)
    sort_state = root.find(f"{M}sortState")
    if sort_state is not None:
        root.remove(sort_state)  # rows come back in the API's order: the old sort is stale
    columns = root.find(f"{M}tableColumns")
    if columns is None:
        columns = etree.SubElement(root, f"{M}tableColumns")
    old = {_column_name(c): c for c in columns.findall(f"{M}tableColumn")}
    next_id = max([0, *[i for i in layout.ids if i is not None]]) + 1
    new_nodes = []
    for title, column_id in zip(layout.titles, layout.ids, strict=True):
        node = old.get(title)
        if node is None:
            node = etree.Element(f"{M}tableColumn", id=str(next_id), name=escape_ooxml(title))
            next_id += 1
        elif column_id is None:
            node.set("id", str(next_id))
            next_id += 1
        new_nodes.append(node)
    columns[:] = new_nodes
    columns.set("count", str(len(new_nodes)))


def _remove_links(node: etree._Element | None, area: Box) -> DroppedLinks:
    """Remove the links whose top-left cell is in ``area``: the relationship ids of those
    removed and of those kept."""
    dropped = DroppedLinks()
    if node is None:
        return dropped
    for link in list(node):
        top_left = Box.parse(link.get("ref", "A1"))
        if area.contains(top_left.top, top_left.left):
            node.remove(link)
            if link.get(f"{R}id"):
                dropped.removed.add(link.get(f"{R}id", ""))
        elif link.get(f"{R}id"):
            dropped.kept.add(link.get(f"{R}id", ""))
    return dropped


def _has_content(cell: etree._Element) -> bool:
    return any(child.tag in (f"{M}v", f"{M}f", f"{M}is") for child in cell)


def _overlaps(a: Box, b: Box) -> bool:
    return not (a.right < b.left or b.right < a.left or a.bottom < b.top or b.bottom < a.top)


def _clear_area(sheet_data: etree._Element, area: Box) -> None:
    """Remove every cell in ``area``; rows left empty without formatting of their own go too."""
    for row_number, row in list(rows_with_numbers(sheet_data)):
        if not area.top <= row_number <= area.bottom:
            continue
        for col, cell in list(cells_with_columns(row)):
            if area.left <= col <= area.right:
                row.remove(cell)
        row.set("r", str(row_number))
        if "spans" in row.attrib:
            del row.attrib["spans"]
        if len(row) == 0 and not any(
            row.get(a) for a in ("customHeight", "customFormat", "hidden", "outlineLevel")
        ):
            sheet_data.remove(row)


def _merge_rows(sheet_data: etree._Element, rows_xml: list[str], first_row: int) -> None:
    """Put the new rows' cells into sheetData, merging with rows that keep other cells."""
    fragment = parse_xml(f'<sheetData xmlns="{NS_MAIN}">{"".join(rows_xml)}</sheetData>'.encode())
    existing = {number: row for number, row in rows_with_numbers(sheet_data)}
    for new_row in list(fragment):
        number = int(new_row.get("r", "0"))
        old_row = existing.get(number)
        if old_row is None:
            existing[number] = new_row
            continue
        _insert_cells(old_row, list(new_row))
    sheet_data[:] = [existing[n] for n in sorted(existing)]


def _insert_cells(row: etree._Element, cells: list[etree._Element]) -> None:
    """Insert cells into a row, keeping the row's cells in column order."""
    if not cells:
        return
    first_col = parse_cell(cells[0].get("r", "A1"))[1]
    position = 0
    for index, (col, _cell) in enumerate(cells_with_columns(row)):
        if col < first_col:
            position = index + 1
    for offset, cell in enumerate(cells):
        row.insert(position + offset, cell)


def _put_cells(
    sheet_data: etree._Element,
    row_number: int,
    cells: list[tuple[int, etree._Element]],
    column_map: dict[int, int],
) -> None:
    placed = []
    for col, cell in cells:
        new_col = column_map.get(col)
        if new_col is None:
            continue
        cell.set("r", f"{column_letter(new_col)}{row_number}")
        placed.append((new_col, cell))
    placed.sort(key=lambda item: item[0])
    xml = "".join(etree.tostring(c, encoding="unicode") for _, c in placed)
    _merge_rows(sheet_data, [f'<row r="{row_number}">{_strip_ns(xml)}</row>'], row_number)


def _strip_ns(xml: str) -> str:
    return xml.replace(f' xmlns="{NS_MAIN}"', "")


def _update_dimension(sheet_root: etree._Element, sheet_data: etree._Element, box: Box) -> None:
    node = sheet_root.find(f"{M}dimension")
    if node is None:
        return
    old = Box.parse(node.get("ref", "A1"))
    last_row = box.bottom
    rows = sheet_data.findall(f"{M}row")
    if rows:
        last_row = max(last_row, int(rows[-1].get("r", str(box.bottom))))
    dim = Box(min(old.top, box.top), min(old.left, box.left), last_row, max(old.right, box.right))
    node.set("ref", dim.ref)
