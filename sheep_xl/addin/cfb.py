"""A small, deterministic writer for Compound File Binary files ([MS-CFB], version 3).

Only what ``xl/vbaProject.bin`` needs is supported: a tree of storages and streams, written in
one go. The layout follows MS-CFB version 3:

* 512-byte sectors, 64-byte mini sectors, mini stream cutoff 4096: a stream shorter than 4096
  bytes lives in the mini stream (held by the root entry), a longer one in regular sectors;
* the FAT is addressed only from the 109 DIFAT slots in the header, so a file may use at most
  109 FAT sectors (about 6.8 MiB of sectors); beyond that :class:`CompoundFileError` is raised;
* sector order: FAT, directory, mini FAT, mini stream, then the large streams in directory order;
* every directory sibling list is stored as a balanced binary search tree ordered by the CFB rule
  (shorter UTF-16 name first, then code-unit comparison of the upper-cased names), coloured as a
  valid red-black tree: all nodes black except those on an incomplete last level, which are red;
* CLSIDs, state bits and timestamps are zero; unused directory slots are free entries; chains end
  with ENDOFCHAIN, FAT sectors are marked FATSECT and the rest of the FAT is FREESECT; an empty
  stream has start sector ENDOFCHAIN.

The same input always gives the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["CompoundFileError", "build_compound_file"]

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096
HEADER_DIFAT_SLOTS = 109
DIR_ENTRY_SIZE = 128
MAX_NAME_UNITS = 31

MAXREGSECT = 0xFFFFFFFA
FATSECT = 0xFFFFFFFD
ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
NOSTREAM = 0xFFFFFFFF

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_ENTRIES_PER_SECTOR = SECTOR_SIZE // DIR_ENTRY_SIZE
_IDS_PER_SECTOR = SECTOR_SIZE // 4

_TYPE_EMPTY = 0
_TYPE_STORAGE = 1
_TYPE_STREAM = 2
_TYPE_ROOT = 5
_RED = 0
_BLACK = 1

_ILLEGAL_NAME_CHARS = frozenset("/\\:!")


_NameKey = tuple[int, tuple[int, ...]]


class CompoundFileError(ValueError):
    """The requested compound file cannot be written (bad names, too large, ...)."""


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    children: dict[_NameKey, _Node] = field(default_factory=dict)  # keyed by CFB sort key
    sid: int = -1
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN
    size: int = 0


def _utf16_units(name: str) -> list[int]:
    raw = name.encode("utf-16-le", "surrogatepass")
    return [raw[i] | (raw[i + 1] << 8) for i in range(0, len(raw), 2)]


def _upper_unit(unit: int) -> int:
    upper = chr(unit).upper()
    return ord(upper) if len(upper) == 1 and ord(upper) <= 0xFFFF else unit


def cfb_name_key(name: str) -> _NameKey:
    """Sort key of a directory entry name among its siblings ([MS-CFB] 2.6.4)."""
    units = _utf16_units(name)
    return (len(units), tuple(_upper_unit(u) for u in units))


def _check_name(name: str, path: str) -> None:
    if not name:
        raise CompoundFileError(f"empty name part in stream path {path!r}")
    bad = sorted(set(name) & _ILLEGAL_NAME_CHARS)
    if bad or "\x00" in name:
        raise CompoundFileError(f"illegal character in name {name!r} of stream path {path!r}")
    if len(_utf16_units(name)) > MAX_NAME_UNITS:
        raise CompoundFileError(
            f"name {name!r} in stream path {path!r} is longer than {MAX_NAME_UNITS} UTF-16 units"
        )


def _build_tree(entries: Mapping[str, bytes]) -> _Node:
    root = _Node("Root Entry", _TYPE_ROOT)
    for path in sorted(entries):
        data = entries[path]
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CompoundFileError(f"stream {path!r} must be bytes, not {type(data).__name__}")
        parts = path.split("/")
        for part in parts:
            _check_name(part, path)
        node = root
        for part in parts[:-1]:
            key = cfb_name_key(part)
            sub = node.children.get(key)
            if sub is None:
                sub = _Node(part, _TYPE_STORAGE)
                node.children[key] = sub
            elif sub.kind != _TYPE_STORAGE:
                raise CompoundFileError(f"{part!r} in {path!r} is both a stream and a storage")
            elif sub.name != part:
                raise CompoundFileError(
                    f"storage names {sub.name!r} and {part!r} differ only by case ({path!r})"
                )
            node = sub
        leaf = parts[-1]
        key = cfb_name_key(leaf)
        if key in node.children:
            other = node.children[key]
            raise CompoundFileError(
                f"stream {path!r} clashes with sibling {other.name!r} (CFB names ignore case)"
            )
        node.children[key] = _Node(leaf, _TYPE_STREAM, bytes(data))
    return root


def _sorted_children(node: _Node) -> list[_Node]:
    return sorted(node.children.values(), key=lambda n: cfb_name_key(n.name))


def _assign_sids(root: _Node) -> list[_Node]:
    """Depth-first, siblings in CFB order: a deterministic numbering with the root at 0."""
    order: list[_Node] = []

    def visit(node: _Node) -> None:
        node.sid = len(order)
        order.append(node)
        for child in _sorted_children(node):
            visit(child)

    visit(root)
    return order


def _link_siblings(parent: _Node) -> None:
    """Make ``parent.child`` the root of a balanced red-black tree of its children."""
    kids = _sorted_children(parent)
    count = len(kids)
    full_levels = (count + 1).bit_length() - 1  # levels that are complete

    def build(lo: int, hi: int, depth: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = kids[mid]
        node.color = _RED if depth >= full_levels else _BLACK
        node.left = build(lo, mid, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        return node.sid

    parent.child = build(0, count, 0)
    for kid in kids:
        if kid.kind == _TYPE_STORAGE:
            _link_siblings(kid)


def _sectors_for(size: int, unit: int) -> int:
    return (size + unit - 1) // unit


def _dir_entry(node: _Node | None) -> bytes:
    if node is None:
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            b"",
            0,
            _TYPE_EMPTY,
            _RED,
            NOSTREAM,
            NOSTREAM,
            NOSTREAM,
            bytes(16),
            0,
            0,
            0,
            0,
            0,
        )
    encoded = node.name.encode("utf-16-le", "surrogatepass")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded,
        len(encoded) + 2,
        node.kind,
        node.color,
        node.left,
        node.right,
        node.child,
        bytes(16),
        0,
        0,
        0,
        node.start if node.kind != _TYPE_STORAGE else 0,
        node.size,
    )


def build_compound_file(entries: Mapping[str, bytes]) -> bytes:
    """Return a compound file holding ``entries``.

    ``entries`` maps stream paths such as ``"PROJECT"`` or ``"VBA/dir"`` to their bytes; the
    storages along a path are created as needed. Names are case-preserving but must be unique
    case-insensitively among siblings, at most 31 UTF-16 units, without ``/ \\ : !``.
    """
    root = _build_tree(entries)
    nodes = _assign_sids(root)
    _link_siblings(root)
    streams = [n for n in nodes if n.kind == _TYPE_STREAM]

    # --- mini stream: streams under the cutoff, each padded to whole mini sectors -------------
    minifat: list[int] = []
    mini_stream = bytearray()
    for node in streams:
        node.size = len(node.data)
        if node.size == 0 or node.size >= MINI_STREAM_CUTOFF:
            continue
        count = _sectors_for(node.size, MINI_SECTOR_SIZE)
        first = len(minifat)
        node.start = first
        minifat.extend(range(first + 1, first + count))
        minifat.append(ENDOFCHAIN)
        mini_stream += node.data
        mini_stream += bytes(count * MINI_SECTOR_SIZE - node.size)
    big = [n for n in streams if n.size >= MINI_STREAM_CUTOFF]

    # --- sector budget --------------------------------------------------------------------
    n_dir = _sectors_for(len(nodes), _ENTRIES_PER_SECTOR)
    n_minifat = _sectors_for(len(minifat), _IDS_PER_SECTOR)
    n_mini_stream = _sectors_for(len(mini_stream), SECTOR_SIZE)
    n_big = sum(_sectors_for(n.size, SECTOR_SIZE) for n in big)
    others = n_dir + n_minifat + n_mini_stream + n_big
    n_fat = 1
    while n_fat * _IDS_PER_SECTOR < others + n_fat:
        n_fat += 1
    if n_fat > HEADER_DIFAT_SLOTS:
        raise CompoundFileError(
            f"compound file would need {n_fat} FAT sectors; this writer supports at most "
            f"{HEADER_DIFAT_SLOTS} (no DIFAT sectors), i.e. about "
            f"{HEADER_DIFAT_SLOTS * _IDS_PER_SECTOR * SECTOR_SIZE // (1024 * 1024)} MiB"
        )
    total = n_fat + others
    if total > MAXREGSECT:  # pragma: no cover - unreachable with 109 FAT sectors
        raise CompoundFileError("too many sectors")

    fat = [FREESECT] * (n_fat * _IDS_PER_SECTOR)
    for i in range(n_fat):
        fat[i] = FATSECT
    cursor = n_fat

    def allocate(count: int) -> int:
        nonlocal cursor
        if count == 0:
            return ENDOFCHAIN
        first = cursor
        for i in range(first, first + count - 1):
            fat[i] = i + 1
        fat[first + count - 1] = ENDOFCHAIN
        cursor += count
        return first

    dir_start = allocate(n_dir)
    minifat_start = allocate(n_minifat)
    root.start = allocate(n_mini_stream)
    root.size = len(mini_stream)
    for node in big:
        node.start = allocate(_sectors_for(node.size, SECTOR_SIZE))
    assert cursor == total

    # --- serialise ------------------------------------------------------------------------
    header = bytearray()
    header += _SIGNATURE
    header += bytes(16)  # header CLSID
    header += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
    header += bytes(6)  # reserved
    header += struct.pack(
        "<IIIIIIIII",
        0,  # number of directory sectors: MUST be 0 for version 3
        n_fat,
        dir_start,
        0,  # transaction signature
        MINI_STREAM_CUTOFF,
        minifat_start,
        n_minifat,
        ENDOFCHAIN,  # first DIFAT sector: none
        0,  # number of DIFAT sectors
    )
    difat = list(range(n_fat)) + [FREESECT] * (HEADER_DIFAT_SLOTS - n_fat)
    header += struct.pack(f"<{HEADER_DIFAT_SLOTS}I", *difat)
    assert len(header) == SECTOR_SIZE

    body = bytearray()
    body += struct.pack(f"<{len(fat)}I", *fat)
    directory = bytearray()
    for node in nodes:
        directory += _dir_entry(node)
    for _ in range(n_dir * _ENTRIES_PER_SECTOR - len(nodes)):
        directory += _dir_entry(None)
    body += directory
    if n_minifat:
        padded = minifat + [FREESECT] * (n_minifat * _IDS_PER_SECTOR - len(minifat))
        body += struct.pack(f"<{len(padded)}I", *padded)
    body += mini_stream
    body += bytes(n_mini_stream * SECTOR_SIZE - len(mini_stream))
    for node in big:
        body += node.data
        body += bytes(_sectors_for(node.size, SECTOR_SIZE) * SECTOR_SIZE - node.size)
    assert len(body) == total * SECTOR_SIZE
    return bytes(header + body)
