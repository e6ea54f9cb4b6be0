"""Just enough of the Office Open XML package format to edit an ``.xlsx`` surgically.

``XlsxPackage`` holds every part of a workbook; parts we change are parsed with lxml and written
back, every other part keeps its exact bytes. That is what lets an in-place refresh leave charts,
pivot tables, shapes, slicers and anything else we do not understand untouched.

Big parts (a sheet of 50,000 rows is 55 MB of XML) stay compressed in memory until they are
read, and are read a chunk at a time where that is enough (`XlsxPackage.chunks`). A part can
also be *streamed* (`StreamedPart`): held as a small tree of everything but its long runs of
rows or links, which are written chunk by chunk when the package is saved. That is how a
refresh writes 50,000 rows without holding them, or the old ones, whole.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, cast

from lxml import etree

from sheep_xl.exceptions import WorkbookError
from sheep_xl.frames.excel_text import unescape_ooxml
from sheep_xl.writers.ahead import RENDERED_AHEAD, Ahead
from sheep_xl.writers.sync_points import (
    RECORD_URI,
    RecordedRun,
    StreamItem,
    SyncWriter,
    read_record,
    skip_runs,
)

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_XM = "http://schemas.microsoft.com/office/excel/2006/main"
NS_CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
NS_DCTERMS = "http://purl.org/dc/terms/"

REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
REL_WORKSHEET = REL_BASE + "worksheet"
REL_TABLE = REL_BASE + "table"
REL_HYPERLINK = REL_BASE + "hyperlink"
REL_CALC_CHAIN = REL_BASE + "calcChain"
REL_SHARED_STRINGS = REL_BASE + "sharedStrings"
REL_STYLES = REL_BASE + "styles"
REL_OFFICE_DOCUMENT = REL_BASE + "officeDocument"

M = f"{{{NS_MAIN}}}"
R = f"{{{NS_R}}}"

# A workbook to refresh is input from anywhere: no entity is expanded (no "billion laughs"), no
# DTD or anything else is fetched, and libxml2's limits on depth and node size stay on. Parts
# of a real workbook never declare a DTD, so one that does is refused (`parse_xml`).
_PARSER = etree.XMLParser(
    remove_blank_text=False,
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
)

# A zip bomb: parts are read whole into memory, so their declared sizes are checked first. The
# limits are far above a full sheet (1,048,576 rows of 20 columns is about 1 GB of XML).
MAX_PART_BYTES = 2 * 1024**3
MAX_PACKAGE_BYTES = 4 * 1024**3
MAX_RATIO = 1000  # expansion of a part over 10 MB; real worksheet XML compresses 5-50 times
_RATIO_FLOOR = 10 * 1024**2


# zlib's level for every part of every package sheep-xl saves, new workbooks and refreshed ones
# alike. Measured on the benchmark's 20k x 21 events (22 MB of sheet XML, case 3 of
# `benchmarks/bench_perf_goals.py`, interleaved on a busy 2-core machine), whole writes:
# level 6 (zlib's default, near Excel's own files) 0.88 s for 2.71 MB, level 5 0.77 s for 2.78 MB,
# level 3 0.64 s for 3.19 MB (+18%), level 1 0.50 s for 3.54 MB (+31%); rustpy-xlsxwriter 0.54 s.
HYPERLINK_RUN = "links"  # a run of hyperlink relationships only (`table_runs.links_run`)
DEFLATE_LEVEL = 3

# Parts bigger than this stay compressed until read (see `XlsxPackage.chunks`).
LAZY_PART_BYTES = 1024**2
READ_CHUNK = 256 * 1024


def parse_xml(data: bytes) -> etree._Element:
    """Parse one part (``etree.XMLSyntaxError`` when it is not well-formed XML, ``ValueError``
    when it declares a DTD); `XlsxPackage.xml` turns both into a `WorkbookError`."""
    root = etree.fromstring(data, _PARSER)
    if root.getroottree().docinfo.doctype:
        raise ValueError("the part declares a DTD, which Office Open XML parts never do")
    return root


def to_xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


class _WellFormed:
    """A parser target that builds nothing: libxml2 checks the XML at C speed (no tree, no
    Python call per element). A DTD is refused as `parse_xml` refuses it."""

    def doctype(self, *_args: Any) -> None:
        raise ValueError("the part declares a DTD, which Office Open XML parts never do")

    def close(self) -> None:
        return None


def check_xml(chunks: Iterable[bytes]) -> None:
    """Raise as `parse_xml` would (``etree.XMLSyntaxError``, ``ValueError`` for a DTD) when the
    XML fed in ``chunks`` is not a well-formed part; memory stays flat however big it is."""
    parser = etree.XMLParser(
        target=_WellFormed(),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()


# What a formula cell's ``<f>`` (of any prefix) is written with: a part holding none of these
# has no formula to compute (text may hold one, which only costs a look).
FORMULA_TAG = (b"<f", b":f>", b":f ", b":f/")


# --- cell references ------------------------------------------------------------------------

_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - 64
    return value


def parse_cell(ref: str) -> tuple[int, int]:
    """``"B12"`` -> ``(12, 2)`` (row, column)."""
    match = _CELL.fullmatch(ref.strip())
    if not match:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)), column_index(match.group(1))


@dataclass(frozen=True)
class Box:
    """A rectangular area: rows and columns are 1-based and inclusive."""

    top: int
    left: int
    bottom: int
    right: int

    @classmethod
    def parse(cls, ref: str) -> Box:
        first, _, last = ref.partition(":")
        r1, c1 = parse_cell(first)
        r2, c2 = parse_cell(last) if last else (r1, c1)
        return cls(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    @property
    def ref(self) -> str:
        first = f"{column_letter(self.left)}{self.top}"
        last = f"{column_letter(self.right)}{self.bottom}"
        return first if first == last else f"{first}:{last}"

    def contains(self, row: int, col: int) -> bool:
        return self.top <= row <= self.bottom and self.left <= col <= self.right

    @property
    def width(self) -> int:
        return self.right - self.left + 1


# --- Excel serial dates ---------------------------------------------------------------------

EPOCH_1900 = dt.datetime(1899, 12, 30)
EPOCH_1904 = dt.datetime(1904, 1, 1)


def from_serial(serial: float, date1904: bool = False) -> dt.datetime:
    """The date-time of an Excel serial: the inverse of ``sheet_xml.serial``. In the 1900
    system serials 1 to 59 (1900-01-01 to 1900-02-28) are one day early counted from
    1899-12-30, because Excel counts a 29 February 1900 (60, read as 1900-02-28 here); a
    serial below 1 is a time of day on 1899-12-30, as openpyxl reads it too."""
    base = EPOCH_1904 if date1904 else EPOCH_1900
    if not date1904 and 1 <= serial < 60:
        serial += 1
    return base + dt.timedelta(days=serial)


# --- the package ------------------------------------------------------------------------------


_OF_TYPE = etree.XPath("*[@Type=$type]")


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str  # as written in the rels part
    external: bool
    part: str  # resolved part name for internal targets ("" for external)


class StreamedPart:
    """A part written chunk by chunk at save time instead of held whole.

    ``tree`` is the part without its streamed runs (a sheet without the rows a refresh
    renders): code that edits what is around the runs (conditional formats, links, names)
    edits it. Reading the whole part (`XlsxPackage.read` or ``xml``) joins the chunks."""

    def __init__(self, tree: etree._Element) -> None:
        self.tree = tree

    def chunks(self) -> Iterator[bytes]:
        """The part's bytes; may be called more than once (each call starts again)."""
        raise NotImplementedError

    def items(self) -> Iterator[StreamItem]:
        """What `XlsxPackage.save` writes: the chunks, with any sync points and records
        (`sync_points`) among them."""
        return self.chunks()

    def has_formula_cells(self) -> bool:
        return True  # unless the part knows better: a reader of formulas has to look

    def extra_relationships(self) -> Iterator[tuple[str, str, str]]:
        """(id, type, target) of external relationships streamed into a relationships part,
        beside those of ``tree``."""
        return iter(())


class XlsxPackage:
    """All parts of an ``.xlsx``; edited parts are replaced, the rest keep their bytes."""

    def __init__(self, source: Path | str | BinaryIO) -> None:
        self.path = Path(source) if isinstance(source, (str, Path)) else Path("workbook.xlsx")
        self._data: dict[str, bytes] = {}
        self._lazy: set[str] = set()  # big parts, still compressed in ``_zip``
        try:
            if isinstance(source, (str, Path)):
                blob = Path(source).read_bytes()
            else:
                source.seek(0)
                blob = source.read()
            # The file's bytes are held (compressed); the package never reads the file again.
            self._blob = blob
            self._zip = zipfile.ZipFile(io.BytesIO(blob))
            self._infos = {i.filename: i for i in self._zip.infolist()}
            _check_sizes(self.path.name, self._infos.values())
            for name, info in self._infos.items():
                if info.file_size > LAZY_PART_BYTES and not info.is_dir():
                    self._lazy.add(name)
                else:
                    self._data[name] = self._zip.read(name)
        except FileNotFoundError:
            raise WorkbookError(f"{self.path} does not exist: check the path.") from None
        except IsADirectoryError:
            raise WorkbookError(
                f"{self.path} is a folder, not a workbook: check the path."
            ) from None
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            zlib.error,
            KeyError,
            EOFError,
            ValueError,
        ) as exc:
            # ValueError: e.g. a part with an unknown compression method or a bad header.
            raise WorkbookError(
                f"{self.path.name} is not a readable .xlsx workbook ({exc}): check the file."
            ) from None
        except NotImplementedError as exc:  # a compression method zipfile cannot read
            raise WorkbookError(
                f"{self.path.name} cannot be read ({exc}): open it in Excel and save it again."
            ) from None
        self._order = list(self._infos)
        self._replaced: set[str] = set()  # parts written or streamed anew since reading
        self._records: dict[str, list[RecordedRun]] = {}  # `recorded_runs`, read once
        self._without_runs: dict[str, tuple[list[RecordedRun], list[bytes]] | None] = {}
        self._trees: dict[str, etree._Element] = {}
        self._dirty: set[str] = set()
        self._streamed: dict[str, StreamedPart] = {}
        # relationships of one type found in a big relationships part (`relationships`)
        self._typed: dict[tuple[str, str], list[etree._Element] | None] = {}
        if not self.has("[Content_Types].xml"):
            raise WorkbookError(f"{self.path.name} is not an Office Open XML workbook.")

    # parts ----------------------------------------------------------------------------------

    def has(self, part: str) -> bool:
        return part in self._data or part in self._lazy or part in self._streamed

    def parts(self) -> list[str]:
        return list(self._order)

    def read(self, part: str) -> bytes:
        if part in self._dirty:
            return to_xml(self._trees[part])
        if part in self._streamed:
            return b"".join(self._streamed[part].chunks())
        if part in self._lazy:
            return b"".join(self.chunks(part))
        if part not in self._data:
            raise self.missing(part)
        return self._data[part]

    def chunks(self, part: str) -> Iterator[bytes]:
        """The part's bytes a chunk at a time: a big part is decompressed as it is read, so
        it is never held whole (a damaged compressed part is a `WorkbookError`)."""
        if part in self._streamed and part not in self._dirty:
            yield from self._streamed[part].chunks()
            return
        if part not in self._lazy or part in self._dirty:
            yield self.read(part)
            return
        try:
            with self._zip.open(part) as fh:
                while chunk := fh.read(READ_CHUNK):
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
            raise WorkbookError(
                f"{self.path.name} is damaged: its part {part} cannot be read ({exc}); open and "
                "repair it in Excel, or rebuild it."
            ) from None

    def contains(self, part: str, needles: Sequence[bytes]) -> bool:
        """Whether any of ``needles`` occurs in the part, read a chunk at a time."""
        overlap = max(map(len, needles)) - 1
        carry = b""
        for chunk in self.chunks(part):
            data = carry + chunk
            if any(needle in data for needle in needles):
                return True
            carry = data[len(data) - overlap :] if overlap else b""
        return False

    def has_formula_cells(self, part: str) -> bool:
        """Whether a worksheet part may hold a formula cell (False: it certainly holds none)."""
        if part in self._streamed:
            return self._streamed[part].has_formula_cells()
        if part in self._trees:
            return next(self._trees[part].iter(f"{M}f"), None) is not None
        return self.has(part) and self.contains(part, FORMULA_TAG)

    def check(self, part: str, pieces: Iterable[bytes] | None = None) -> None:
        """Check that a part is well-formed XML without building its tree (memory stays flat);
        the same `WorkbookError` as ``xml`` when it is not. ``pieces``: the part's bytes
        without runs that are never read (`without_runs`), checked instead of the whole."""
        if part in self._trees or part in self._streamed:
            return
        if not self.has(part):
            raise self.missing(part)
        try:
            check_xml(self.chunks(part) if pieces is None else pieces)
        except (etree.XMLSyntaxError, ValueError) as exc:
            raise self._damaged(part, exc) from None

    def xml(self, part: str) -> etree._Element:
        """The parsed part, for reading; call ``edit`` (or ``mark_changed``) to save changes.

        A missing or damaged part (not well-formed XML, a DTD) is a `WorkbookError` naming it:
        the workbook is input, and this is where its XML is first read. A streamed part is
        joined and parsed: from then on the tree is the part."""
        if part not in self._trees:
            streamed = self._streamed.pop(part, None)
            if streamed is not None:
                self._trees[part] = parse_xml(b"".join(streamed.chunks()))
                self._dirty.add(part)
                return self._trees[part]
            if not self.has(part):
                raise self.missing(part)
            try:
                self._trees[part] = parse_xml(self.read(part))
            except (etree.XMLSyntaxError, ValueError) as exc:
                raise self._damaged(part, exc) from None
        return self._trees[part]

    def _damaged(self, part: str, exc: Exception) -> WorkbookError:
        return WorkbookError(
            f"{self.path.name} is damaged: its part {part} is not valid XML "
            f"({_first_line(exc)}); open and repair it in Excel, or rebuild it."
        )

    def original_deflate(self, part: str) -> tuple[memoryview, zipfile.ZipInfo] | None:
        """The raw deflate stream of a part as the file holds it, with its ZIP entry; None
        when the part is new, replaced or edited since reading, or not deflated. (The local
        header is read as the ZIP format lays it out: 30 bytes, then the name and extra field,
        whose lengths are at bytes 26 and 28.)"""
        info = self._infos.get(part)
        if (
            info is None
            or part in self._replaced
            or part in self._dirty
            or part in self._streamed
            or info.compress_type != zipfile.ZIP_DEFLATED
            or info.flag_bits & 0x1  # encrypted
        ):
            return None
        header = self._blob[info.header_offset : info.header_offset + 30]
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            return None
        start = info.header_offset + 30 + int.from_bytes(header[26:28], "little")
        start += int.from_bytes(header[28:30], "little")
        end = start + info.compress_size
        if end > len(self._blob):
            return None
        return memoryview(self._blob)[start:end], info

    def stream(self, part: str, streamed: StreamedPart) -> None:
        """From now on the part is ``streamed``: written from its chunks at save time."""
        self._replaced.add(part)
        self._drop(part)
        if part not in self._order:
            self._order.append(part)
        self._streamed[part] = streamed

    def streamed(self, part: str) -> StreamedPart | None:
        return self._streamed.get(part)

    def tree(self, part: str) -> etree._Element:
        """The tree to read around a streamed part's runs (its ``tree``), else `xml`."""
        streamed = self._streamed.get(part)
        return streamed.tree if streamed is not None else self.xml(part)

    def flatten(self, part: str) -> None:
        """Hold an edited or streamed part as plain bytes again (e.g. to splice it anew)."""
        if part in self._dirty or part in self._streamed:
            self.write(part, self.read(part))
        else:
            self._trees.pop(part, None)

    def _drop(self, part: str) -> None:
        self._typed = {key: rels for key, rels in self._typed.items() if key[0] != part}
        self._trees.pop(part, None)
        self._dirty.discard(part)
        self._streamed.pop(part, None)
        self._data.pop(part, None)
        self._lazy.discard(part)

    def missing(self, part: str) -> WorkbookError:
        """The error for a part the workbook should have but does not."""
        return WorkbookError(
            f"{self.path.name} is damaged: it has no {part} part; open and repair it in Excel, "
            "or rebuild it."
        )

    def edit(self, part: str) -> etree._Element:
        """The parsed part; it will be saved. Parts never edited keep their exact bytes."""
        tree = self.xml(part)
        self._dirty.add(part)
        return tree

    def mark_changed(self, part: str) -> None:
        if part not in self._streamed:  # a streamed part is written from its tree anyway
            self._dirty.add(part)

    @property
    def changed_parts(self) -> set[str]:
        return self._dirty | set(self._streamed)

    def write(self, part: str, data: bytes) -> None:
        self._replaced.add(part)
        self._drop(part)
        if part not in self._order:
            self._order.append(part)
        self._data[part] = data

    def delete(self, part: str) -> None:
        self._drop(part)
        if part in self._order:
            self._order.remove(part)

    def save(
        self,
        path: Path | str | BinaryIO,
        *,
        date_time: tuple[int, int, int, int, int, int] | None = None,
        streams: Mapping[str, Iterable[StreamItem]] | None = None,
    ) -> None:
        """Write every part in the original order with stable timestamps; ``streams`` gives
        parts whose content is produced chunk by chunk (written without holding it whole)."""
        streams = streams or {}
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as zf:
            for name in self._save_order(streams):
                info = self._infos.get(name)
                stamp = date_time or (info.date_time if info else (1980, 1, 1, 0, 0, 0))
                zinfo = zipfile.ZipInfo(name, date_time=stamp)
                zinfo.compress_type = zipfile.ZIP_DEFLATED
                # (``zf.open`` takes the level from the info; ``compress_level`` from 3.13)
                zinfo._compresslevel = DEFLATE_LEVEL  # type: ignore[attr-defined]
                zinfo.external_attr = info.external_attr if info else 0o600 << 16
                chunks: Iterable[StreamItem] | None = streams.get(name)
                ahead: Ahead[StreamItem] | None = None
                if chunks is None and name in self._streamed:
                    # made on a second thread while the chunks before deflate (`ahead`)
                    chunks = ahead = Ahead(self._streamed[name].items(), RENDERED_AHEAD)
                if chunks is None and name in self._lazy and name not in self._dirty:
                    chunks = self.chunks(name)
                if chunks is not None:
                    try:
                        with zf.open(zinfo, "w", force_zip64=True) as fh:
                            writer = SyncWriter(fh)
                            for chunk in chunks:
                                writer.write(chunk)
                    finally:
                        if ahead is not None:
                            ahead.close()
                else:
                    zf.writestr(zinfo, self.read(name))

    def _save_order(self, streams: Mapping[str, object]) -> list[str]:
        """The parts in their order, except that a relationships part written anew comes
        before its source part: a sheet's record names runs of its relationships part, so
        those are written first (the order of a package's parts means nothing to readers)."""
        order = list(self._order)
        changed = set(streams) | self._replaced | self.changed_parts
        for name in list(order):
            if name not in changed:
                continue
            source = self.source_of_rels(name)
            if source in order and order.index(source) < order.index(name):
                order.remove(name)
                order.insert(order.index(source), name)
        return order

    # relationships --------------------------------------------------------------------------

    @staticmethod
    def rels_part(part: str) -> str:
        folder, name = posixpath.split(part)
        return posixpath.join(folder, "_rels", name + ".rels")

    @staticmethod
    def source_of_rels(rels_name: str) -> str | None:
        """The part a relationships part belongs to (`rels_part` the other way); None for a
        part that is not one (or for the package's own, ``_rels/.rels``)."""
        folder, name = posixpath.split(rels_name)
        if posixpath.basename(folder) != "_rels" or not name.endswith(".rels") or name == ".rels":
            return None
        return posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])

    def relationships(self, part: str, of_type: str | None = None) -> list[Relationship]:
        """The part's relationships (only those of type ``of_type`` when given)."""
        rels_name = self.rels_part(part)
        if not self.has(rels_name):
            return []
        folder = posixpath.dirname(part)
        if of_type is not None and rels_name in self._lazy and rels_name not in self._trees:
            # a sheet's 65,530 links: its table's relationship is found without parsing them
            found = self._typed.get((rels_name, of_type))
            if found is None:
                chunks: Iterable[bytes] = self.chunks(rels_name)
                skipped = self.without_runs(rels_name) if of_type != REL_HYPERLINK else None
                if skipped is not None:  # runs of hyperlinks only: not read
                    chunks = skipped[1]
                found = self._typed[rels_name, of_type] = _typed(chunks, of_type)
            if found is not None:
                return [_relationship(folder, rel) for rel in found]
        tree = self.tree(rels_name)
        # picked in C: a sheet's relationships can be 65,530 links
        rels = tree if of_type is None else cast(list[etree._Element], _OF_TYPE(tree, type=of_type))
        out = [_relationship(folder, rel) for rel in rels]
        streamed = self._streamed.get(rels_name)
        if streamed is not None:
            for rel_id, rel_type, target in streamed.extra_relationships():
                if of_type is None or rel_type == of_type:
                    out.append(Relationship(rel_id, rel_type, target, True, ""))
        return out

    def recorded_runs(self, part: str) -> list[RecordedRun]:
        """The runs the record at the end of a part names (`sync_points.record_ext`): its
        own and its relationships part's; none when the part has no record or has changed
        since it was read. The runs are only claims: `skip_runs` checks them."""
        raw = self.original_deflate(part)
        if raw is None:
            return []
        if part not in self._records:
            self._records[part] = read_record(raw[0]) or []
        return self._records[part]

    def without_runs(self, part: str) -> tuple[list[RecordedRun], list[bytes]] | None:
        """A part as it was read, as the pieces around its recorded runs (`sync_points`),
        with the runs; None when it has none, or they do not hold (read it whole). A sheet's
        runs are in its own record; a relationships part's, runs of hyperlink relationships
        only (`HYPERLINK_RUN`), in its source sheet's."""
        raw = self.original_deflate(part)
        if raw is None:
            return None
        if part not in self._without_runs:  # the preflight, the refresh and a lookup ask
            source = self.source_of_rels(part)
            if source is not None:
                runs = [r for r in self.recorded_runs(source) if _in_relationships(r)]
            else:
                runs = [r for r in self.recorded_runs(part) if not _in_relationships(r)]
            data, info = raw
            pieces = skip_runs(data, info.file_size, info.CRC, runs) if runs else None
            self._without_runs[part] = None if pieces is None else (runs, pieces)
        return self._without_runs[part]

    def rels_root(self, part: str) -> etree._Element:
        name = self.rels_part(part)
        if not self.has(name):
            self.write(
                name,
                to_xml(etree.Element(f"{{{NS_PKG_REL}}}Relationships", nsmap={None: NS_PKG_REL})),
            )
        return self.edit(name)

    def add_relationship(
        self, part: str, rel_type: str, target: str, external: bool, prefix: str = "rId"
    ) -> str:
        root = self.rels_root(part)
        used = {r.get("Id") for r in root}
        n = len(used) + 1
        while f"{prefix}{n}" in used:
            n += 1
        rel_id = f"{prefix}{n}"
        attrs = {"Id": rel_id, "Type": rel_type, "Target": target}
        if external:
            attrs["TargetMode"] = "External"
        etree.SubElement(root, f"{{{NS_PKG_REL}}}Relationship", attrs)
        return rel_id

    def remove_relationships(self, part: str, ids: set[str]) -> None:
        if not ids:
            return
        root = self.rels_root(part)
        for rel in list(root):
            if rel.get("Id") in ids:
                root.remove(rel)

    def content_types(self) -> etree._Element:
        return self.edit("[Content_Types].xml")

    def remove_override(self, part: str) -> None:
        root = self.content_types()
        for node in list(root):
            if node.get("PartName") == "/" + part:
                root.remove(node)

    # workbook -------------------------------------------------------------------------------

    @property
    def workbook_part(self) -> str:
        for rel in self.relationships(""):
            if rel.type == REL_OFFICE_DOCUMENT:
                return rel.part
        return "xl/workbook.xml"

    def sheets(self) -> Iterator[tuple[str, str]]:
        """(sheet name, worksheet part) in workbook order (chart sheets are skipped)."""
        rels = {r.id: r for r in self.relationships(self.workbook_part)}
        for sheet in self.xml(self.workbook_part).iter(f"{M}sheet"):
            rel = rels.get(sheet.get(f"{R}id", ""))
            if rel is not None and rel.type == REL_WORKSHEET:
                yield sheet.get("name", ""), rel.part

    @property
    def date1904(self) -> bool:
        pr = self.xml(self.workbook_part).find(f"{M}workbookPr")
        return pr is not None and pr.get("date1904") in ("1", "true")

    def related_part(self, part: str, rel_type: str) -> str | None:
        for rel in self.relationships(part):
            if rel.type == rel_type and not rel.external:
                return rel.part
        return None

    def shared_strings(self) -> list[str]:
        part = self.related_part(self.workbook_part, REL_SHARED_STRINGS)
        if part is None or not self.has(part):
            return []
        return [_rich_text(si) for si in self.xml(part).iter(f"{M}si")]


def _relationship(folder: str, rel: etree._Element) -> Relationship:
    external = rel.get("TargetMode") == "External"
    target = rel.get("Target", "")
    if external:
        resolved = ""
    elif target.startswith("/"):
        resolved = target.lstrip("/")
    else:
        resolved = posixpath.normpath(posixpath.join(folder, target))
    return Relationship(rel.get("Id", ""), rel.get("Type", ""), target, external, resolved)


def _typed(chunks: Iterable[bytes], of_type: str) -> list[etree._Element] | None:
    """The ``<Relationship>`` elements of type ``of_type`` in a relationships part read from
    ``chunks``, each found by its ``Type="..."`` and parsed alone; None when the part writes
    its types otherwise (the caller parses it whole)."""
    needle = f'Type="{of_type}"'.encode()
    found: list[etree._Element] = []
    carry = b""
    for chunk in chain(chunks, [b"<"]):  # the "<" ends the last element
        data = carry + chunk
        cut = data.rfind(b"<")  # the elements before the last "<" are whole
        done, carry = data[:cut], data[cut:]
        if done.count(b"Type") != done.count(b'Type="'):
            return None
        position = 0
        while (hit := done.find(needle, position)) >= 0:
            start, stop = done.rfind(b"<", 0, hit), done.find(b">", hit)
            element = done[start : stop + 1]
            if start < 0 or stop < 0 or not element.startswith(b"<Relationship "):
                return None
            try:
                found.append(parse_xml(element))
            except (etree.XMLSyntaxError, ValueError):
                return None
            position = stop
    return found


def _check_sizes(name: str, infos: Iterable[zipfile.ZipInfo]) -> None:
    """Refuse a package whose parts would unpack to more than memory should hold (a zip bomb),
    before reading any of it; zipfile stops at the declared size, so it cannot be exceeded."""
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        too_big = info.file_size > MAX_PART_BYTES or total > MAX_PACKAGE_BYTES
        if too_big or (info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO):
            raise WorkbookError(
                f"{name} is not a workbook sheep-xl will open: its part {info.filename} would "
                f"unpack to {info.file_size:,} bytes, far more than any real workbook."
            )


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _rich_text(node: Any) -> str:
    """Text of an ``si``/``is`` element: plain ``t`` or the runs of rich text (no phonetics)."""
    texts = []
    for child in node:
        if child.tag == f"{M}t":
            texts.append(child.text or "")
        elif child.tag == f"{M}r":
            t = child.find(f"{M}t")
            texts.append(t.text or "" if t is not None else "")
    return unescape_ooxml("".join(texts))


def cell_text(node: Any) -> str:
    return _rich_text(node)


# --- the parts of a worksheet and a workbook, and reading cells ----------------------------

# CT_Worksheet's child order: where to insert an element the sheet does not have yet.
WORKSHEET_ORDER = (
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)
WORKBOOK_ORDER = (
    "fileVersion",
    "fileSharing",
    "workbookPr",
    "workbookProtection",
    "bookViews",
    "sheets",
    "functionGroups",
    "externalReferences",
    "definedNames",
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


def _in_relationships(run: RecordedRun) -> bool:
    """Whether a sheet's record names the run in its relationships part (`HYPERLINK_RUN`)."""
    return run.label.startswith(HYPERLINK_RUN + ":")


def drop_run_record(sheet_root: etree._Element) -> None:
    """Remove a worksheet's record of runs (`sync_points.record_ext`), and its ``extLst`` if
    nothing else is in it: whoever writes the sheet anew records its runs anew, if any."""
    extensions = sheet_root.find(f"{M}extLst")
    if extensions is None:
        return
    ours = [ext for ext in extensions.findall(f"{M}ext") if ext.get("uri") == RECORD_URI]
    for ext in ours:
        extensions.remove(ext)
    if ours and len(extensions) == 0:
        sheet_root.remove(extensions)


def insert_in_order(parent: etree._Element, child: etree._Element, order: Sequence[str]) -> None:
    """Insert ``child`` after the last sibling that comes before it in the schema's order."""
    name = etree.QName(child).localname
    position = order.index(name)
    later = set(order[position + 1 :])
    for index, sibling in enumerate(parent):
        if etree.QName(sibling).localname in later:
            parent.insert(index, child)
            return
    parent.append(child)


@dataclass
class TableInfo:
    name: str
    sheet_name: str
    sheet_part: str
    table_part: str
    box: Box
    header_rows: int
    totals_rows: int

    @property
    def body_top(self) -> int:
        return self.box.top + self.header_rows

    @property
    def body_bottom(self) -> int:
        return self.box.bottom - self.totals_rows


def rows_with_numbers(sheet_data: etree._Element) -> Iterator[tuple[int, etree._Element]]:
    previous = 0
    for row in sheet_data.iterchildren(f"{M}row"):
        number = int(row.get("r") or previous + 1)
        previous = number
        yield number, row


def cells_with_columns(row: etree._Element) -> Iterator[tuple[int, etree._Element]]:
    previous = 0
    for cell in row.iterchildren(f"{M}c"):
        ref = cell.get("r")
        col = parse_cell(ref)[1] if ref else previous + 1
        previous = col
        yield col, cell


class CellReader:
    """Values of a package's cells as Python reads them: str, float, bool, datetime (numbers
    with a date format) or None. ``is_date`` tells whether a style index has a date format (the
    styles part is the style sheet's business, see ``xlsx_styles.StyleSheet``)."""

    def __init__(self, package: XlsxPackage, is_date: Callable[[int], bool]) -> None:
        self.package = package
        self.is_date = is_date
        self.date1904 = package.date1904
        self._shared: list[str] | None = None

    def shared_strings(self) -> list[str]:
        if self._shared is None:
            self._shared = self.package.shared_strings()
        return self._shared

    def read_box(self, sheet_part: str, box: Box) -> list[list[Any]]:
        """Cell values of an area: str, float, bool, datetime (date-formatted numbers) or None."""
        grid: list[list[Any]] = [[None] * box.width for _ in range(box.bottom - box.top + 1)]
        sheet_data = self.package.xml(sheet_part).find(f"{M}sheetData")
        if sheet_data is None:
            return grid
        for row_number, row in rows_with_numbers(sheet_data):
            if not box.top <= row_number <= box.bottom:
                continue
            for col, cell in cells_with_columns(row):
                if box.left <= col <= box.right:
                    grid[row_number - box.top][col - box.left] = self.value(cell)
        return grid

    def value(self, cell: etree._Element) -> Any:
        kind = cell.get("t", "n")
        v = cell.find(f"{M}v")
        text = v.text if v is not None else None
        if kind == "inlineStr":
            node = cell.find(f"{M}is")
            return cell_text(node) if node is not None else None
        if text is None:
            return None
        if kind == "s":
            strings = self.shared_strings()
            index = int(text)
            return strings[index] if 0 <= index < len(strings) else None
        if kind in ("str", "e"):
            return text
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return dt.datetime.fromisoformat(text)
        number = float(text)
        if self.is_date(int(cell.get("s", "0"))):
            return from_serial(number, self.date1904)
        return number
