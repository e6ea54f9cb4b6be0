"""Skipping runs of a part's bytes without decompressing them: deflate sync points.

Refreshing a table that shrinks from 50,000 rows to 5,000 spent most of its time reading the old
rows only to drop them: 55 MB of sheet XML inflated (0.12 s) and scanned (0.31 s), and 50,000
hyperlinks and their relationships read (0.22 s), against 0.19 s for writing the 5,000 rows to
a new workbook. When we write a run of a part that the next refresh drops whole (a table's body
rows, its hyperlinks, their relationships), we therefore mark it in the deflate stream:

* a *full flush* (``Z_FULL_FLUSH``) just before the run and just after it. After a full flush
  the compressed stream is byte-aligned and refers to nothing before it, so inflating can start
  there; each costs a few bytes.
* a *record* (`record_ext`), the sheet's last element: an ``<ext>`` of its ``<extLst>`` with a
  uri of ours, which Excel ignores as it ignores any extension it does not know. It lists each
  run: where it starts and ends in the part's bytes and in the compressed stream, and the
  CRC-32 of the part up to each end. A sheet's record also lists the runs of its
  relationships part (which has no place for a record; it is written before the sheet).
  The record is put behind one more full flush, so that it is found from the end.

`skip_runs` reads a part so recorded as the pieces between its runs, never the runs. It trusts
the record only when each piece inflates to its recorded length and the pieces' CRC-32s chained
through the recorded ones (`crc32_combine`) come to the part's CRC in the ZIP directory, so a
part changed in any way since we wrote it (saved anew by Excel, say) is read the ordinary way.
What a run held is its writer's business, told by its label (`table_runs`: rows and links).

Writing a sync point needs the compressor of ``zipfile``'s entry writer, which is not public:
`SyncWriter` uses it when it is there, and otherwise writes no sync points and no record (the
next refresh then reads the part whole, as before)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

_RUN = re.compile(
    r"(?P<label>[!-~]+) (?P<start>\d+):(?P<start_crc>[0-9a-f]{8})"
    r" (?P<end>\d+):(?P<end_crc>[0-9a-f]{8})@(?P<end_at>\d+)"
)
_FLUSH_TAIL = b"\x00\x00\xff\xff"  # the empty stored block a full flush ends with
_RECORD_SEARCH = 4096  # compressed bytes searched from the end for the record's sync point


class SyncPoint:
    """Yielded among a streamed part's chunks: the writer flushes the compressor there and
    fills in where the part stands (`SyncWriter.sync`)."""

    def __init__(self) -> None:
        self.offset = -1  # bytes of the part before this point
        self.crc = 0  # CRC-32 of those bytes
        self.compressed = -1  # compressed bytes before the stream resumes


@dataclass
class Run:
    """A run of a part between two sync points, named by ``label`` (printable, no spaces)
    for its reader."""

    label: str
    start: SyncPoint = field(default_factory=SyncPoint)
    end: SyncPoint = field(default_factory=SyncPoint)

    @property
    def written(self) -> bool:
        return min(self.start.offset, self.end.offset, self.end.compressed) >= 0


class LateChunk:
    """A chunk made only when the writer reaches it, from sync points written before it (the
    chunks are made ahead of the compressor, on another thread, see `ahead.Ahead`)."""

    def __init__(self, make: Callable[[], bytes]) -> None:
        self.make = make


StreamItem = bytes | SyncPoint | LateChunk


def describe_runs(runs: Sequence[Run]) -> str:
    """The runs as a record's text (`parse_runs` reads it); empty when any is not written
    (the writer could not write sync points, `SyncWriter.supported`)."""
    if not runs or not all(run.written for run in runs):
        return ""
    return " ".join(
        f"{r.label} {r.start.offset}:{r.start.crc:08x} {r.end.offset}:{r.end.crc:08x}"
        f"@{r.end.compressed}"
        for r in runs
    )


@dataclass(frozen=True)
class RecordedRun:
    """A run as a record describes it: its part's bytes ``start`` to ``end``, the CRC-32 of
    the part up to each, and where the compressed stream resumes after it (``end_at``)."""

    label: str
    start: int
    start_crc: int
    end: int
    end_crc: int
    end_at: int


def parse_runs(text: str) -> list[RecordedRun] | None:
    words = text.split(" ")
    if not text or len(words) % 3:
        return None
    runs = []
    for index in range(0, len(words), 3):
        match = _RUN.fullmatch(" ".join(words[index : index + 3]))
        if match is None:
            return None
        runs.append(
            RecordedRun(
                match["label"],
                int(match["start"]),
                int(match["start_crc"], 16),
                int(match["end"]),
                int(match["end_crc"], 16),
                int(match["end_at"]),
            )
        )
    return runs


class SyncWriter:
    """Writes a part's stream items to an open ``zipfile`` entry (``ZipFile.open(..., "w")``)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        # zipfile's entry writer keeps its compressor and counts here (CPython 3.8 to 3.14);
        # each sync point checks they still describe the file (`sync`)
        names = ("_compressor", "_compress_size", "_file_size", "_crc", "_fileobj")
        self.supported = all(hasattr(handle, name) for name in names) and isinstance(
            getattr(handle, "_compressor", None), type(zlib.compressobj())
        )
        self._data_start = -1
        if self.supported:
            any_handle: Any = handle
            self._data_start = any_handle._fileobj.tell() - any_handle._compress_size

    def write(self, item: StreamItem) -> None:
        if isinstance(item, bytes):
            self.handle.write(item)
        elif isinstance(item, SyncPoint):
            self.sync(item)
        else:
            self.handle.write(item.make())

    def sync(self, point: SyncPoint) -> None:
        if not self.supported:
            return
        handle: Any = self.handle
        if handle._fileobj.tell() != self._data_start + handle._compress_size:
            self.supported = False  # the writer buffers or counts otherwise: no sync points
            return
        flushed = handle._compressor.flush(zlib.Z_FULL_FLUSH)
        handle._fileobj.write(flushed)
        handle._compress_size += len(flushed)
        point.offset, point.crc, point.compressed = (
            handle._file_size,
            handle._crc,
            handle._compress_size,
        )


def plain_chunks(items: Iterable[StreamItem]) -> Iterator[bytes]:
    """The bytes of a part's stream items, without sync points (reading a part that has not
    been written yet: a late chunk, a record of sync points, is left out too)."""
    return (item for item in items if isinstance(item, bytes))


# --- the record: a SpreadsheetML extension -----------------------------------------------------

# Excel ignores an ``<ext>`` whose ``uri`` it does not know (LibreOffice's own, in files Excel
# opens, are such); the uri is ours, made for this record.
RECORD_URI = "{5B0C9E3A-7F42-4C1D-9A8E-3D6B2F1C7E54}"
RECORD_NS = "urn:sheep-xl:sync-points"
_RECORD_START = f'<ext uri="{RECORD_URI}" xmlns:sx="{RECORD_NS}"><sx:runs v="'.encode()
_RECORD_END = b'"/></ext>'


def record_ext(runs: Sequence[Run]) -> list[StreamItem]:
    """The runs' record as the last ``<ext>`` of a worksheet's ``<extLst>``, behind a sync
    point of its own (so it is found from the end); nothing when the runs were not written.
    A sheet's record may name runs of its relationships part too (written before it)."""

    def make() -> bytes:
        text = describe_runs(runs)
        return _RECORD_START + text.encode("ascii") + _RECORD_END if text else b""

    return [SyncPoint(), LateChunk(make)]


def read_record(compressed: bytes | memoryview) -> list[RecordedRun] | None:
    """The runs recorded at the end of a part (`record_ext`), if it has a record."""
    text = after_last_sync(compressed)
    if text is None or not text.startswith(_RECORD_START):
        return None
    end = text.find(_RECORD_END)
    if end < 0:
        return None
    return parse_runs(text[len(_RECORD_START) : end].decode("ascii", "replace"))


# --- reading ----------------------------------------------------------------------------------


def after_last_sync(compressed: bytes | memoryview) -> bytes | None:
    """What follows the last sync point of a raw deflate stream, inflated (where a record
    is put); None when the stream's end has no sync point."""
    data = memoryview(compressed)
    window = bytes(data[max(0, len(data) - _RECORD_SEARCH) :])
    base = len(data) - len(window)
    position = len(window)
    while (position := window.rfind(_FLUSH_TAIL, 0, position)) >= 0:
        text = _inflate(data[base + position + len(_FLUSH_TAIL) :], None)
        if text is not None:
            return text
    return None


def skip_runs(
    compressed: bytes | memoryview, size: int, crc: int, runs: Sequence[RecordedRun]
) -> list[bytes] | None:
    """The part whose raw deflate stream is ``compressed`` (``size`` bytes and CRC-32 ``crc``
    by the ZIP directory) as the pieces around ``runs`` (one more piece than runs), never
    inflating the runs; None when the runs do not hold for these bytes: each piece must
    inflate to its recorded length, and the pieces' CRCs chained through the recorded ones
    must come to ``crc``."""
    data = memoryview(compressed)
    pieces: list[bytes] = []
    position, offset, running = 0, 0, 0  # compressed and part offsets, CRC so far
    for run in sorted(runs, key=lambda r: r.start):
        if not offset <= run.start <= run.end <= size or not position <= run.end_at <= len(data):
            return None
        piece = _inflate(data[position : run.end_at], run.start - offset)
        if piece is None or crc32_combine(running, zlib.crc32(piece), len(piece)) != run.start_crc:
            return None
        pieces.append(piece)
        position, offset, running = run.end_at, run.end, run.end_crc
    tail = _inflate(data[position:], None)
    if tail is None or offset + len(tail) != size:
        return None
    if crc32_combine(running, zlib.crc32(tail), len(tail)) != crc:
        return None
    pieces.append(tail)
    return pieces


def _inflate(data: memoryview, limit: int | None) -> bytes | None:
    """Raw deflate data inflated: its first ``limit`` bytes, or all of it to the stream's end
    (None when it is not a whole, valid stream: it must end where ``data`` ends)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        if limit is not None:  # fed a little at a time: zlib would copy what it does not use
            pieces, wanted = [], limit
            for start in range(0, len(data), _INFLATE_CHUNK):
                if not wanted:
                    break
                piece = inflater.decompress(data[start : start + _INFLATE_CHUNK], wanted)
                pieces.append(piece)
                wanted -= len(piece)
            return b"".join(pieces) if not wanted else None
        out = inflater.decompress(data) + inflater.flush()
    except zlib.error:
        return None
    return out if inflater.eof and not inflater.unused_data else None


_INFLATE_CHUNK = 1 << 16


# --- CRC-32 of joined bytes, from the CRCs of the parts --------------------------------------

_POLY = 0xEDB88320  # CRC-32 (ISO-HDLC, zlib's), reflected


def _times_matrix(matrix: list[int], vector: int) -> int:
    total, index = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _squared(matrix: list[int]) -> list[int]:
    return [_times_matrix(matrix, column) for column in matrix]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of ``a + b`` from ``crc32(a)``, ``crc32(b)`` and ``len(b)``.

    A CRC is linear over GF(2): appending ``n`` zero bytes to ``a`` multiplies its register by
    a fixed 32x32 matrix to the ``8n``-th power, and the CRC of the joined bytes is that
    product plus ``crc32(b)``. The power is made by squaring, one matrix per bit of ``n``, so
    it costs about 32 x 32 x log2(n) bit operations (zlib has this as ``crc32_combine``;
    Python's ``zlib`` module does not offer it)."""
    if length2 <= 0:
        return crc1 ^ crc2  # crc2 is 0 then: the CRC of no bytes
    odd = [_POLY] + [1 << bit for bit in range(31)]  # the register after one zero bit
    even = _squared(odd)  # two zero bits
    odd = _squared(even)  # four
    result = crc1
    while True:
        even = _squared(odd)  # one zero byte the first time round, then 4, 16...
        if length2 & 1:
            result = _times_matrix(even, result)
        length2 >>= 1
        if not length2:
            break
        odd = _squared(even)
        if length2 & 1:
            result = _times_matrix(odd, result)
        length2 >>= 1
        if not length2:
            break
    return result ^ crc2
