"""Tests for the compound-file writer (sheep_xl.addin.cfb).

Three readers check every file: olefile in strict mode (any defect raises), pyOpenVBA's CFB
reader when installed, and a small strict reader written here from [MS-CFB] that also checks what
the other two do not look at: the red-black sibling trees, FAT/mini FAT bookkeeping, free entries.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheep_xl.addin.cfb import CompoundFileError, build_compound_file

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


# ----------------------------------------------------------------------------------------------
# An independent strict reader, written from [MS-CFB] for these tests
# ----------------------------------------------------------------------------------------------


@dataclass
class Entry:
    sid: int
    name: str
    kind: int
    color: int
    left: int
    right: int
    child: int
    start: int
    size: int


def _spec_less(a: str, b: str) -> bool:
    """[MS-CFB] 2.6.4: shorter names first, then upper-cased names compared character-wise."""
    if len(a) != len(b):
        return len(a) < len(b)
    return a.upper() < b.upper()


def read_cfb(data: bytes) -> dict[str, bytes]:
    """Parse ``data`` strictly and return {path: bytes} of every stream; assert on any oddity."""
    assert len(data) % 512 == 0
    (
        sig,
        clsid,
        minor,
        major,
        order,
        sshift,
        mshift,
        reserved,
        n_dir,
        n_fat,
        dir_start,
        txn,
        cutoff,
        minifat_start,
        n_minifat,
        difat_start,
        n_difat,
    ) = struct.unpack_from("<8s16sHHHHH6sIIIIIIIII", data, 0)
    assert sig == bytes.fromhex("D0CF11E0A1B11AE1")
    assert clsid == bytes(16) and reserved == bytes(6)
    assert (minor, major, order, sshift, mshift) == (0x3E, 3, 0xFFFE, 9, 6)
    assert n_dir == 0 and txn == 0 and cutoff == 4096
    assert difat_start == ENDOFCHAIN and n_difat == 0
    difat = struct.unpack_from("<109I", data, 76)
    assert all(s != FREESECT for s in difat[:n_fat])
    assert all(s == FREESECT for s in difat[n_fat:])
    n_sectors = len(data) // 512 - 1

    def sector(i: int) -> bytes:
        assert 0 <= i < n_sectors
        return data[512 + i * 512 : 1024 + i * 512]

    fat: list[int] = []
    for s in difat[:n_fat]:
        fat += struct.unpack("<128I", sector(s))
    assert len(fat) >= n_sectors
    assert all(v == FREESECT for v in fat[n_sectors:]), "FAT entries past the end must be free"
    for s in difat[:n_fat]:
        assert fat[s] == FATSECT
    assert sum(1 for v in fat if v == FATSECT) == n_fat
    used: set[int] = set(difat[:n_fat])

    def chain(start: int, table: list[int], seen: set[int]) -> list[int]:
        out = []
        cur = start
        while cur != ENDOFCHAIN:
            assert 0 <= cur < len(table), f"sector index {cur:#x} out of range"
            assert cur not in seen, f"sector {cur} used twice"
            seen.add(cur)
            out.append(cur)
            cur = table[cur]
        return out

    dir_sectors = chain(dir_start, fat, used)
    raw_dir = b"".join(sector(s) for s in dir_sectors)
    entries: list[Entry] = []
    for sid in range(len(raw_dir) // 128):
        chunk = raw_dir[sid * 128 : sid * 128 + 128]
        (
            name_raw,
            name_len,
            kind,
            color,
            left,
            right,
            child,
            e_clsid,
            state,
            ctime,
            mtime,
            start,
            size,
        ) = struct.unpack("<64sHBBIII16sIQQIQ", chunk)
        assert e_clsid == bytes(16) and state == 0 and ctime == 0 and mtime == 0
        if kind == 0:
            assert chunk[:66] == bytes(66) and (left, right, child) == (NOSTREAM,) * 3
            assert start == 0 and size == 0 and color == 0
            entries.append(Entry(sid, "", 0, color, left, right, child, start, size))
            continue
        assert kind in (1, 2, 5)
        assert (kind == 5) == (sid == 0)
        assert 2 <= name_len <= 64 and name_len % 2 == 0
        assert name_raw[name_len - 2 : name_len] == b"\x00\x00"
        assert name_raw[name_len:] == bytes(64 - name_len)
        name = name_raw[: name_len - 2].decode("utf-16-le")
        assert not set(name) & set("/\\:!")
        if kind == 1:
            assert start == 0 and size == 0
        entries.append(Entry(sid, name, kind, color, left, right, child, start, size))
    root = entries[0]
    assert root.name == "Root Entry" and root.color == 1
    assert root.left == NOSTREAM and root.right == NOSTREAM

    minifat: list[int] = []
    minifat_sectors = chain(minifat_start, fat, used)
    assert len(minifat_sectors) == n_minifat
    for s in minifat_sectors:
        minifat += struct.unpack("<128I", sector(s))
    mini_stream = b"".join(sector(s) for s in chain(root.start, fat, used))
    assert len(mini_stream) >= root.size
    n_mini = root.size // 64
    assert root.size % 64 == 0
    assert all(v == FREESECT for v in minifat[n_mini:])
    mini_used: set[int] = set()

    streams: dict[str, bytes] = {}
    reached: set[int] = {0}

    def check_tree(top: int) -> list[Entry]:
        """Walk a sibling tree, checking the BST order and the red-black properties."""
        members: list[Entry] = []

        def walk(sid: int, lo: str | None, hi: str | None, parent_red: bool) -> int:
            if sid == NOSTREAM:
                return 1
            assert 0 < sid < len(entries) and sid not in reached
            reached.add(sid)
            node = entries[sid]
            assert node.kind in (1, 2)
            assert lo is None or _spec_less(lo, node.name)
            assert hi is None or _spec_less(node.name, hi)
            red = node.color == 0
            assert not (red and parent_red), "red node with a red parent"
            left = walk(node.left, lo, node.name, red)
            members.append(node)
            right = walk(node.right, node.name, hi, red)
            assert left == right, "unequal black heights"
            return left + (0 if red else 1)

        if top != NOSTREAM:
            assert entries[top].color == 1, "tree root must be black"
        walk(top, None, None, False)
        return members

    def visit(storage: Entry, prefix: str) -> None:
        for node in check_tree(storage.child):
            path = prefix + node.name
            if node.kind == 1:
                assert node.left != node.sid
                visit(node, path + "/")
                continue
            assert node.child == NOSTREAM
            if node.size == 0:
                assert node.start == ENDOFCHAIN
                streams[path] = b""
            elif node.size < 4096:
                sectors = chain(node.start, minifat, mini_used)
                assert len(sectors) == (node.size + 63) // 64
                streams[path] = b"".join(mini_stream[s * 64 : s * 64 + 64] for s in sectors)[
                    : node.size
                ]
            else:
                sectors = chain(node.start, fat, used)
                assert len(sectors) == (node.size + 511) // 512
                streams[path] = b"".join(sector(s) for s in sectors)[: node.size]

    visit(root, "")
    allocated = {e.sid for e in entries if e.kind != 0}
    assert reached == allocated, "every allocated entry is reachable exactly once"
    assert mini_used == set(range(n_mini)), "mini sectors: no leak, no gap"
    assert used == set(range(n_sectors)), "every sector belongs to exactly one chain"
    assert all(fat[s] == FREESECT for s in range(n_sectors) if s not in used)
    return streams


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def check_with_all_readers(entries: dict[str, bytes]) -> bytes:
    data = build_compound_file(entries)
    # 1. olefile, strict: every defect from DEFECT_INCORRECT up raises
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    try:
        listed = {"/".join(p) for p in ole.listdir(streams=True, storages=False)}
        assert listed == set(entries)
        for path, payload in entries.items():
            assert ole.get_type(path) == olefile.STGTY_STREAM
            assert ole.openstream(path).read() == payload, path
    finally:
        ole.close()
    # 2. the strict reader above
    assert read_cfb(data) == entries
    # 3. determinism
    assert build_compound_file(dict(reversed(list(entries.items())))) == data
    return data


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


_NAME_CHARS = "abcXYZ019_-. é" + "ÉωΩ"
names = st.text(alphabet=_NAME_CHARS, min_size=1, max_size=31)
sizes = st.one_of(
    st.sampled_from([0, 1, 63, 64, 65, 511, 512, 513, 4095, 4096, 4097, 8192, 8193]),
    st.integers(0, 600),
    st.integers(0, 12000),
)


@st.composite
def stream_sets(draw: st.DrawFn) -> dict[str, bytes]:
    """Random {path: bytes} without CFB name clashes (names compare case-insensitively)."""
    items = draw(
        st.lists(
            st.tuples(st.lists(names, min_size=1, max_size=4), sizes, st.integers(0, 2**32)),
            max_size=40,
        )
    )
    kinds: dict[tuple[str, ...], str] = {}  # upper-cased path prefix -> "storage" | "stream"
    spelling: dict[tuple[str, ...], tuple[str, ...]] = {}
    out: dict[str, bytes] = {}
    for parts_list, size, seed in items:
        parts = tuple(parts_list)
        prefixes = [parts[:i] for i in range(1, len(parts) + 1)]
        clash = False
        for prefix in prefixes:
            key = tuple(p.upper() for p in prefix)
            kind = "stream" if prefix == parts else "storage"
            if key in kinds and (kind == "stream" or kinds[key] != kind or spelling[key] != prefix):
                clash = True
                break
        if clash:
            continue
        for prefix in prefixes:
            key = tuple(p.upper() for p in prefix)
            kinds[key] = "stream" if prefix == parts else "storage"
            spelling[key] = prefix
        out["/".join(parts)] = payload(size, seed)
    return out


# ----------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream_sets())
def test_random_stream_sets_read_back_identically(entries: dict[str, bytes]) -> None:
    check_with_all_readers(entries)


@pytest.mark.parametrize("size", [0, 1, 63, 64, 4095, 4096, 4097, 512 * 130])
def test_sizes_around_the_mini_stream_cutoff(size: int) -> None:
    entries = {"PROJECT": payload(size, size), "VBA/dir": payload(size // 2, 1), "VBA/x": b""}
    data = check_with_all_readers(entries)
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    # olefile's own view of which store holds the stream
    assert ole.direntries[ole._find("PROJECT")].is_minifat == (0 < size < 4096)


def test_empty_file_and_single_empty_stream() -> None:
    check_with_all_readers({})
    check_with_all_readers({"empty": b""})


def test_nested_storages() -> None:
    entries = {
        "a/b/c/d/e": b"deep",
        "a/b/c/f": payload(5000, 2),
        "a/g": b"",
        "A2/b": b"x" * 4096,
        "z": b"top",
    }
    check_with_all_readers(entries)


def test_many_streams_span_several_directory_and_mini_fat_sectors() -> None:
    entries = {f"VBA/Module{i}": payload(i * 7 % 3000, i) for i in range(300)}
    entries |= {f"Other/S{i}": payload(4096 + i, i) for i in range(5)}
    data = check_with_all_readers(entries)
    (n_minifat,) = struct.unpack_from("<I", data, 0x40)
    assert n_minifat > 1


def test_multiple_fat_sectors() -> None:
    entries = {"big": payload(200 * 512, 7), "small": b"abc"}
    data = check_with_all_readers(entries)
    (n_fat,) = struct.unpack_from("<I", data, 0x2C)
    assert n_fat == 2


def test_header_fields_and_zero_metadata() -> None:
    data = build_compound_file({"VBA/dir": b"1", "PROJECT": b"2"})
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert struct.unpack_from("<HH", data, 0x18) == (0x003E, 0x0003)
    assert struct.unpack_from("<I", data, 0x38) == (4096,)
    assert len(data) % 512 == 0


def test_sibling_order_follows_the_cfb_rule() -> None:
    # shorter names sort first even when alphabetically later; case is ignored
    entries = {"zz": b"1", "AAA": b"2", "b": b"3", "Ab": b"4", "aC": b"5"}
    data = check_with_all_readers(entries)
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    root = ole.root
    order: list[str] = []

    def inorder(sid: int) -> None:
        if sid == NOSTREAM:
            return
        entry = ole.direntries[sid] or ole._load_direntry(sid)
        inorder(entry.sid_left)
        order.append(entry.name)
        inorder(entry.sid_right)

    inorder(root.sid_child)
    assert order == ["b", "Ab", "aC", "zz", "AAA"]


def test_too_many_fat_sectors_is_a_clear_error() -> None:
    # 109 FAT sectors address 109 * 128 sectors including themselves
    with pytest.raises(CompoundFileError, match="109"):
        build_compound_file({"huge": bytes(109 * 128 * 512)})
    # just under the limit still works
    data = build_compound_file({"big": bytes((109 * 127 - 8) * 512)})
    (n_fat,) = struct.unpack_from("<I", data, 0x2C)
    assert n_fat == 109


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"a/b": b"", "A/c": b""}, "differ only by case"),
        ({"dir": b"", "DIR": b""}, "clashes"),
        ({"VBA": b"", "VBA/dir": b""}, "both a stream and a storage"),
        ({"VBA/dir": b"", "VBA": b""}, "both a stream and a storage"),
        ({"a:b": b""}, "illegal character"),
        ({"a!b": b""}, "illegal character"),
        ({"a\\b": b""}, "illegal character"),
        ({"a//b": b""}, "empty name"),
        ({"x" * 32: b""}, "31"),
    ],
)
def test_bad_names_are_rejected(entries: dict[str, bytes], message: str) -> None:
    with pytest.raises(CompoundFileError, match=message):
        build_compound_file(entries)


def test_thirty_one_character_name_is_fine() -> None:
    check_with_all_readers({"x" * 31: b"ok", "é" * 31: b"ok too"})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream_sets())
def test_pyopenvba_reads_the_same_streams(entries: dict[str, bytes]) -> None:
    cfb_mod = pytest.importorskip("pyopenvba.cfb", reason="pyOpenVBA is not installed")
    data = build_compound_file(entries)
    cfb = cfb_mod.CFB.from_bytes(data)
    for path, payload_bytes in entries.items():
        *storages, name = path.split("/")
        assert cfb.get_stream_at(storages, name) == payload_bytes, path


def test_the_strict_reader_notices_damage() -> None:
    """The hand-written reader is only worth something if it rejects broken files."""
    entries = {f"s{i}": payload(100 + i, i) for i in range(6)} | {"big": payload(5000, 1)}
    data = bytearray(build_compound_file(entries))
    read_cfb(bytes(data))
    (dir_start,) = struct.unpack_from("<I", data, 0x30)
    dir_offset = 512 + dir_start * 512

    recoloured = bytearray(data)
    # find a black non-root entry that has a child in its tree and make it red
    for sid in range(1, 8):
        at = dir_offset + sid * 128
        left, right = struct.unpack_from("<II", recoloured, at + 68)
        if recoloured[at + 67] == 1 and (left != NOSTREAM or right != NOSTREAM):
            recoloured[at + 67] = 0
            break
    with pytest.raises(AssertionError):
        read_cfb(bytes(recoloured))

    leaked = bytearray(data)
    (first_fat,) = struct.unpack_from("<I", leaked, 76)
    n_sectors = len(leaked) // 512 - 1
    struct.pack_into("<I", leaked, 512 + first_fat * 512 + 4 * (n_sectors - 1), FREESECT)
    with pytest.raises(AssertionError):
        read_cfb(bytes(leaked))
