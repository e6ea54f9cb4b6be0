"""Tests for the source-only vbaProject.bin writer (sheep_xl.addin.ovba).

Readers used as independent judges:

* olefile in strict mode (container), oletools' ``decompress_stream`` (compression) and olevba's
  ``VBA_Parser`` (finds the modules through the dir stream and decodes their source);
* pyOpenVBA's parser when it is installed (a second full reader: dir, PROJECT, PROJECTwm);
* a minimal dir-stream parser and a CMG/DPB/GC de-obfuscator written here from [MS-OVBA].

Excel-made reference files are the ``.xlam``/``.xlsm`` files shipped inside the xlwings package.
"""

from __future__ import annotations

import importlib.util
import io
import random
import re
import struct
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from sheep_xl.addin.ovba import (
    OFFICE_REFERENCE,
    STDOLE_REFERENCE,
    VbaModule,
    VbaProject,
    VbaReference,
    build_dir_stream,
    build_vba_project_bin,
    compress,
    decompress,
    encrypt_project_data,
    prepare_module_source,
    project_guid,
)

# ----------------------------------------------------------------------------------------------
# Independent helpers written from [MS-OVBA]
# ----------------------------------------------------------------------------------------------

DIR_TERMINATOR = 0x0010
REFERENCE_IDS = {0x0016, 0x003E, 0x000D, 0x000E, 0x002F, 0x0030, 0x0033}


def parse_dir(raw: bytes) -> list[tuple[int, bytes]]:
    """Split a decompressed dir stream into (record id, payload) up to the dir terminator."""
    records: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(raw):
        rid, size = struct.unpack_from("<HI", raw, pos)
        if rid == 0x0009:  # PROJECTVERSION: Reserved=4, then VersionMajor u32 + VersionMinor u16
            assert size == 4
            body, pos = raw[pos + 6 : pos + 12], pos + 12
        else:
            body, pos = raw[pos + 6 : pos + 6 + size], pos + 6 + size
            assert len(body) == size, f"record {rid:#06x} runs past the end"
        records.append((rid, body))
        if rid == DIR_TERMINATOR:
            return records
    raise AssertionError("dir stream has no terminator")


def ids(records: list[tuple[int, bytes]]) -> list[int]:
    return [rid for rid, _ in records]


@dataclass
class DirInfo:
    sys_kind: int
    lcid: int
    code_page: int
    name: str
    references: list[tuple[str, str]]  # (name, libid) of registered references
    modules: list[tuple[str, str, int, int]]  # (name, stream name, type id, offset)


def interpret_dir(records: list[tuple[int, bytes]]) -> DirInfo:
    values: dict[int, bytes] = {}
    references: list[tuple[str, str]] = []
    modules: list[tuple[str, str, int, int]] = []
    ref_name = ""
    current: dict[str, object] = {}
    code_page = 1252
    for rid, body in records:
        if rid == 0x0003:
            code_page = struct.unpack("<H", body)[0]
        enc = f"cp{code_page}"
        if rid == 0x0016:
            ref_name = body.decode(enc)
        elif rid == 0x000D:
            (size_of_libid,) = struct.unpack_from("<I", body)
            libid = body[4 : 4 + size_of_libid].decode(enc)
            assert body[4 + size_of_libid :] == bytes(6)
            references.append((ref_name, libid))
        elif rid == 0x0019:
            current = {"name": body.decode(enc)}
        elif rid == 0x0047:
            assert body.decode("utf-16-le") == current["name"]
        elif rid == 0x001A:
            current["stream"] = body.decode(enc)
        elif rid == 0x0031:
            current["offset"] = struct.unpack("<I", body)[0]
        elif rid in (0x0021, 0x0022):
            assert body == b""
            current["type"] = rid
        elif rid == 0x002B:
            modules.append(
                (
                    str(current["name"]),
                    str(current["stream"]),
                    int(current["type"]),
                    int(current["offset"]),
                )
            )
        else:
            values.setdefault(rid, body)
    assert struct.unpack("<H", values[0x000F])[0] == len(modules)
    return DirInfo(
        sys_kind=struct.unpack("<I", values[0x0001])[0],
        lcid=struct.unpack("<I", values[0x0002])[0],
        code_page=code_page,
        name=values[0x0004].decode(f"cp{code_page}"),
        references=references,
        modules=modules,
    )


def sections(record_ids: list[int]) -> tuple[list[int], list[list[int]], list[int]]:
    """(project information ids, one id list per reference, module section ids)."""
    first_ref = next(i for i, r in enumerate(record_ids) if r in REFERENCE_IDS | {0x000F})
    modules_at = record_ids.index(0x000F)
    groups: list[list[int]] = []
    for rid in record_ids[first_ref:modules_at]:
        # a REFERENCENAME starts a new reference once the previous one is complete (a control
        # reference carries a second name record before its REFERENCECONTROL part)
        if not groups or (rid == 0x0016 and groups[-1][-1] in (0x000D, 0x000E, 0x0030)):
            groups.append([])
        groups[-1].append(rid)
    return record_ids[:first_ref], groups, record_ids[modules_at:]


def deobfuscate(hex_text: str) -> tuple[int, int, bytes]:
    """Reverse MS-OVBA 2.4.3 data encryption: (version, project key, data)."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[0], raw[1], raw[2]
    previous_plain, enc1, enc2 = seed ^ key_enc, key_enc, version_enc
    plain = bytearray()
    for byte in raw[3:]:
        value = byte ^ ((enc2 + previous_plain) & 0xFF)
        plain.append(value)
        enc2, enc1, previous_plain = enc1, byte, value
    skip = (seed & 6) >> 1
    length = int.from_bytes(plain[skip : skip + 4], "little")
    data = bytes(plain[skip + 4 :])
    assert len(data) == length
    return seed ^ version_enc, seed ^ key_enc, data


def olevba_modules(data: bytes) -> dict[str, str]:
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        return {path.split("/")[-1]: code for _, path, _, code in parser.extract_macros()}
    finally:
        parser.close()


def streams_of(data: bytes) -> dict[str, bytes]:
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)
    try:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    finally:
        ole.close()


def expected_body(source: str) -> str:
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return "".join(line + "\r\n" for line in lines)


def strip_header(text: str) -> str:
    lines = text.split("\r\n")
    index = 0
    while index < len(lines) and re.match(r"Attribute VB_\w+ = ", lines[index]):
        index += 1
    return "\r\n".join(lines[index:])


# ----------------------------------------------------------------------------------------------
# Sample projects
# ----------------------------------------------------------------------------------------------

EXPORTED_CLASS = (
    "VERSION 1.0 CLASS\n"
    "BEGIN\n"
    "  MultiUse = -1  'True\n"
    "END\n"
    'Attribute VB_Name = "EventRow"\n'
    "Attribute VB_GlobalNameSpace = False\n"
    "Attribute VB_Creatable = False\n"
    "Attribute VB_PredeclaredId = False\n"
    "Attribute VB_Exposed = True\n"
    "Option Explicit\n"
    "Public Title As String\n"
    "Public Property Get Label() As String\n"
    "Attribute Label.VB_UserMemId = 0\n"
    "    Label = Title\n"
    "End Property\n"
)
BIG_MODULE = "".join(
    f"Public Function F{i}(ByVal x As Long) As Long\r\n    F{i} = x * {i} + {i * i % 97}\r\n"
    f"End Function\r\n\r\n"
    for i in range(400)
)


def sample_project(**overrides: object) -> VbaProject:
    modules = [
        VbaModule("ThisWorkbook", "document", "Private Sub Workbook_Open()\n    Init\nEnd Sub\n"),
        VbaModule("Sheet1", "document", ""),
        VbaModule(
            "Ribbon",
            "standard",
            "Option Explicit\r\n\r\nSub OnRefresh(control As IRibbonControl)\r\n"
            '    MsgBox "Refreshed – café"\r\nEnd Sub\r\n\r\n',
        ),
        VbaModule("EventRow", "class", EXPORTED_CLASS),
        VbaModule("Generated", "standard", BIG_MODULE),
        VbaModule("Init", "standard", "Sub Init()\rEnd Sub"),
    ]
    fields: dict[str, object] = {"name": "SheepXL", "modules": modules}
    fields.update(overrides)
    return VbaProject(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sample_bin() -> bytes:
    return build_vba_project_bin(sample_project())


# ----------------------------------------------------------------------------------------------
# Excel-made references (shipped with xlwings)
# ----------------------------------------------------------------------------------------------

REFERENCE_FILES = {
    "xlwings.xlam": "addin/xlwings.xlam",
    "quickstart_addin_ribbon.xlam": "quickstart_addin_ribbon.xlam",
    "quickstart.xlsm": "quickstart.xlsm",
}


def reference_bin(name: str) -> bytes:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("xlwings is not installed: its Excel-made reference files are unavailable")
    path = Path(next(iter(spec.submodule_search_locations))) / REFERENCE_FILES[name]
    if not path.is_file():
        pytest.skip(f"Excel-made reference file {path} is not shipped by this xlwings version")
    with zipfile.ZipFile(path) as package:
        return package.read("xl/vbaProject.bin")


def reference_project(data: bytes) -> tuple[VbaProject, dict[str, str], list[tuple[int, bytes]]]:
    """Rebuild a VbaProject from an Excel-made vbaProject.bin (names, kinds, sources)."""
    streams = streams_of(data)
    records = parse_dir(decompress(streams["VBA/dir"]))
    info = interpret_dir(records)
    kinds: dict[str, str] = {}
    for line in streams["PROJECT"].decode("cp1252").split("\r\n"):
        key, _, value = line.partition("=")
        if key == "Document":
            kinds[value.split("/")[0]] = "document"
        elif key == "Class":
            kinds[value] = "class"
        elif key == "Module":
            kinds[value] = "standard"
    sources = olevba_modules(data)
    modules = [
        VbaModule(name, kinds[name], sources[stream])  # type: ignore[arg-type]
        for name, stream, _, _ in info.modules
    ]
    compat = next((struct.unpack("<I", b)[0] for r, b in records if r == 0x004A), None)
    project = VbaProject(
        name=info.name, modules=modules, sys_kind=info.sys_kind, compat_version=compat
    )
    return project, sources, records


# ----------------------------------------------------------------------------------------------
# Compression
# ----------------------------------------------------------------------------------------------

SPEC_EXAMPLES = [
    # [MS-OVBA] 3.2.1 No Compression, 3.2.2 Normal Compression, 3.2.3 Maximum Compression
    (
        b"abcdefghijklmnopqrstuv.",
        "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E",
    ),
    (
        b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
        "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 "
        "6D 6E 6F 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C",
    ),
    (b"a" * 73, "01 03 B0 02 61 45 00"),
]


@pytest.mark.parametrize(("plain", "packed"), SPEC_EXAMPLES)
def test_spec_compression_examples(plain: bytes, packed: str) -> None:
    assert compress(plain) == bytes.fromhex(packed)
    assert decompress(bytes.fromhex(packed)) == plain


vba_like_text = st.lists(
    st.sampled_from([*"abcdefgXYZ0123456789 \t\r\n\"'()=.,_&", "End Sub", "Dim "]),
    max_size=3000,
).map(lambda parts: "".join(parts).encode("cp1252"))


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        vba_like_text,
        st.binary(max_size=3640),
        st.binary(max_size=200).map(lambda b: b * 40),
    )
)
def test_round_trip_is_exact_and_oletools_agrees(data: bytes) -> None:
    packed = compress(data)
    assert decompress(packed) == data
    assert bytes(decompress_stream(bytearray(packed))) == data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=3000, max_size=13000))
def test_round_trip_of_incompressible_data(data: bytes) -> None:
    packed = compress(data)
    out = decompress(packed)
    assert bytes(decompress_stream(bytearray(packed))) == out
    # a raw final chunk is padded to 4096 bytes with zeros (MS-OVBA 2.4.1.3.10); otherwise exact
    assert out[: len(data)] == data
    assert out[len(data) :] == bytes(len(out) - len(data))
    if len(data) % 4096 == 0 or len(data) % 4096 <= 3640:
        assert out == data


def test_chunks_are_at_most_4098_bytes_and_raw_when_compression_does_not_help() -> None:
    noise = random.Random(0).randbytes(4096)
    packed = compress(noise + b"A" * 5000)
    header = struct.unpack_from("<H", packed, 1)[0]
    assert header == 0x3FFF  # raw chunk: size field 4095, signature 0b011, flag 0
    assert packed[3 : 3 + 4096] == noise
    second = struct.unpack_from("<H", packed, 3 + 4096)[0]
    assert second & 0x8000 and (second >> 12) & 7 == 3


@pytest.mark.parametrize(
    "bad", [b"", b"\x02", b"\x01\x00", b"\x01\x03\xb0\x01\x61", b"\x01\x03\xb0\x01\x00\x00"]
)
def test_decompress_rejects_malformed_input(bad: bytes) -> None:
    with pytest.raises(ValueError):
        decompress(bad)


@pytest.mark.parametrize("name", sorted(REFERENCE_FILES))
def test_decompress_agrees_with_oletools_on_excel_streams(name: str) -> None:
    data = reference_bin(name)
    streams = streams_of(data)
    info = interpret_dir(parse_dir(decompress(streams["VBA/dir"])))
    assert decompress(streams["VBA/dir"]) == bytes(decompress_stream(bytearray(streams["VBA/dir"])))
    for _, stream, _, offset in info.modules:
        packed = streams[f"VBA/{stream}"][offset:]
        ours = decompress(packed)
        assert ours == bytes(decompress_stream(bytearray(packed)))
        assert decompress(compress(ours)) == ours


# ----------------------------------------------------------------------------------------------
# The compound file and its streams
# ----------------------------------------------------------------------------------------------


def test_olefile_strict_and_exact_stream_set(sample_bin: bytes) -> None:
    streams = streams_of(sample_bin)
    names = [m.name for m in sample_project().modules]
    assert set(streams) == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"} | {
        f"VBA/{n}" for n in names
    }
    assert not [s for s in streams if "__SRP_" in s.upper()]
    assert streams["VBA/_VBA_PROJECT"] == bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x01, 0x00])


def test_module_streams_hold_compressed_source_at_offset_zero(sample_bin: bytes) -> None:
    streams = streams_of(sample_bin)
    info = interpret_dir(parse_dir(decompress(streams["VBA/dir"])))
    project = sample_project()
    for module, (name, stream, type_id, offset) in zip(project.modules, info.modules, strict=True):
        assert (name, stream, offset) == (module.name, module.name, 0)
        assert type_id == (0x0021 if module.kind == "standard" else 0x0022)
        assert decompress(streams[f"VBA/{stream}"]) == prepare_module_source(module)
    assert len(streams["VBA/Generated"]) > 4096  # a multi-chunk module in regular sectors


def test_same_input_same_bytes(sample_bin: bytes) -> None:
    assert build_vba_project_bin(sample_project()) == sample_bin
    other = build_vba_project_bin(sample_project(name="Other"))
    assert other != sample_bin


def test_olevba_lists_every_module_with_identical_source(sample_bin: bytes) -> None:
    found = olevba_modules(sample_bin)
    project = sample_project()
    assert list(found) == [m.name for m in project.modules]
    for module in project.modules:
        # olevba returns the stored text including the Attribute header: compare all of it ...
        assert found[module.name] == prepare_module_source(module).decode("cp1252")
        # ... and, below the header, the author's text with CRLF line endings
        body = expected_body(module.source)
        if module.kind == "class":
            body = expected_body(module.source.split("Attribute VB_Exposed = True\n", 1)[1])
        assert strip_header(found[module.name]) == body


def test_pyopenvba_agrees(sample_bin: bytes) -> None:
    cfb_mod = pytest.importorskip("pyopenvba.cfb", reason="pyOpenVBA is not installed")
    vba_mod = pytest.importorskip("pyopenvba.vba", reason="pyOpenVBA is not installed")
    cfb = cfb_mod.CFB.from_bytes(sample_bin)
    parsed = vba_mod.parse_vba_project(cfb)
    project = sample_project()
    assert parsed.name == "SheepXL" and parsed.code_page == 1252 and parsed.sys_kind == 3
    assert parsed.validate(cfb) == []
    assert [m.name for m in parsed.modules] == [m.name for m in project.modules]
    for theirs, ours in zip(parsed.modules, project.modules, strict=True):
        assert theirs.kind.value == (0x21 if ours.kind == "standard" else 0x22)
        assert theirs.text_offset == 0
        assert theirs.source == prepare_module_source(ours).decode("cp1252")
    assert [(r.name, r.kind, r.libid) for r in parsed.references] == [
        ("stdole", "registered", STDOLE_REFERENCE.libid),
        ("Office", "registered", OFFICE_REFERENCE.libid),
    ]
    text = vba_mod.parse_project_stream(cfb.get_stream("PROJECT"))
    assert text.name == "SheepXL" and text.id == project_guid("SheepXL")
    assert not text.protection.has_password
    assert [n for n, _ in text.document_modules] == ["ThisWorkbook", "Sheet1"]
    assert text.class_modules == ["EventRow"]
    assert text.standard_modules == ["Ribbon", "Generated", "Init"]
    wm = vba_mod.parse_projectwm(cfb.get_stream("PROJECTwm"))
    assert wm == [(m.name, m.name) for m in project.modules]


def test_dir_stream_records_and_values(sample_bin: bytes) -> None:
    records = parse_dir(decompress(streams_of(sample_bin)["VBA/dir"]))
    module_ids = [0x0019, 0x0047, 0x001A, 0x0032, 0x001C, 0x0048, 0x0031, 0x001E, 0x002C]
    expected = [
        0x0001,
        0x0002,
        0x0014,
        0x0003,
        0x0004,
        0x0005,
        0x0040,
        0x0006,
        0x003D,
        0x0007,
        0x0008,
        0x0009,
        0x000C,
        0x003C,
    ]
    expected += [0x0016, 0x003E, 0x000D] * 2 + [0x000F, 0x0013]
    for module in sample_project().modules:
        expected += [*module_ids, 0x0021 if module.kind == "standard" else 0x0022, 0x002B]
    expected.append(DIR_TERMINATOR)
    assert ids(records) == expected
    info = interpret_dir(records)
    assert (info.sys_kind, info.lcid, info.code_page, info.name) == (3, 0x409, 1252, "SheepXL")
    assert dict(records)[0x0014] == struct.pack("<I", 0x409)
    assert dict(records)[0x0013] == b"\xff\xff"  # PROJECTCOOKIE
    assert all(body == b"\xff\xff" for rid, body in records if rid == 0x002C)  # MODULECOOKIE
    assert info.references == [
        ("stdole", STDOLE_REFERENCE.libid),
        ("Office", OFFICE_REFERENCE.libid),
    ]


def test_project_stream(sample_bin: bytes) -> None:
    text = streams_of(sample_bin)["PROJECT"].decode("cp1252")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    guid = project_guid("SheepXL")
    assert uuid.UUID(guid) and guid == guid.upper() and guid != project_guid("VBAProject")
    assert lines[:12] == [
        f'ID="{guid}"',
        "Document=ThisWorkbook/&H00000000",
        "Document=Sheet1/&H00000000",
        "Module=Ribbon",
        "Class=EventRow",
        "Module=Generated",
        "Module=Init",
        'Name="SheepXL"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        lines[10],
        lines[11],
    ]
    assert lines[13:] == [
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
        "ThisWorkbook=0, 0, 0, 0, C",
        "Sheet1=0, 0, 0, 0, C",
        "Ribbon=0, 0, 0, 0, C",
        "EventRow=0, 0, 0, 0, C",
        "Generated=0, 0, 0, 0, C",
        "Init=0, 0, 0, 0, C",
        "",
    ]
    values = dict(line.split("=", 1) for line in lines[10:13])
    key = sum(guid.encode()) & 0xFF
    assert deobfuscate(values["CMG"].strip('"')) == (2, key, bytes(4))  # not protected
    assert deobfuscate(values["DPB"].strip('"')) == (2, key, b"\x00")  # no password
    assert deobfuscate(values["GC"].strip('"')) == (2, key, b"\xff")  # visible


def test_the_deobfuscator_reads_excel_values() -> None:
    """Checks the helper above on Excel's own unprotected CMG/DPB/GC values."""
    text = streams_of(reference_bin("quickstart_addin_ribbon.xlam"))["PROJECT"].decode("cp1252")
    values = dict(line.split("=", 1) for line in text.split("\r\n") if "=" in line)
    key = sum(values["ID"].strip('"').encode()) & 0xFF
    assert deobfuscate(values["CMG"].strip('"')) == (2, key, bytes(4))
    assert deobfuscate(values["DPB"].strip('"')) == (2, key, b"\x00")
    assert deobfuscate(values["GC"].strip('"')) == (2, key, b"\xff")


@pytest.mark.parametrize("seed", [0, 1, 2, 6, 0x5A, 0xFF])
def test_encryption_round_trips_for_any_seed(seed: int) -> None:
    guid = project_guid("X")
    for data in (b"", b"\x00", bytes(4), b"\xff", bytes(range(29))):
        encrypted = encrypt_project_data(data, guid, seed=seed)
        assert deobfuscate(encrypted) == (2, sum(guid.encode()) & 0xFF, data)
        assert len(bytes.fromhex(encrypted)) == 3 + ((seed & 6) >> 1) + 4 + len(data)


def test_projectwm(sample_bin: bytes) -> None:
    expected = b"".join(
        m.name.encode("cp1252") + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
        for m in sample_project().modules
    )
    assert streams_of(sample_bin)["PROJECTwm"] == expected + b"\x00\x00"


# ----------------------------------------------------------------------------------------------
# References
# ----------------------------------------------------------------------------------------------


def test_office_library_only_when_needed() -> None:
    plain = VbaProject(modules=[VbaModule("M", "standard", "Sub A()\nEnd Sub")])
    assert plain.effective_references() == [STDOLE_REFERENCE]
    ribbon = VbaProject(modules=[VbaModule("M", "standard", "Sub A(c As iribboncontrol)\nEnd Sub")])
    assert ribbon.effective_references() == [STDOLE_REFERENCE, OFFICE_REFERENCE]
    asked = VbaProject(include_office_library=True)
    assert asked.effective_references() == [STDOLE_REFERENCE, OFFICE_REFERENCE]
    extra = VbaReference("Scripting", r"*\G{420B2830-E718-11CF-893D-00A0C9054228}#1.0#0#x#y")
    assert VbaProject(references=[extra]).effective_references() == [STDOLE_REFERENCE, extra]
    records = parse_dir(build_dir_stream(plain))
    assert interpret_dir(records).references == [("stdole", STDOLE_REFERENCE.libid)]


def test_compat_version_is_written_where_excel_writes_it() -> None:
    records = parse_dir(build_dir_stream(VbaProject(compat_version=6)))
    assert ids(records)[:3] == [0x0001, 0x004A, 0x0002]
    assert records[1][1] == struct.pack("<I", 6)
    assert 0x004A not in ids(parse_dir(build_dir_stream(VbaProject())))


def test_win32_sys_kind() -> None:
    records = parse_dir(build_dir_stream(VbaProject(sys_kind=1)))
    assert records[0] == (0x0001, struct.pack("<I", 1))


# ----------------------------------------------------------------------------------------------
# Source preparation
# ----------------------------------------------------------------------------------------------

DOCUMENT_TAIL = [
    "Attribute VB_GlobalNameSpace = False",
    "Attribute VB_Creatable = False",
    "Attribute VB_PredeclaredId = True",
    "Attribute VB_Exposed = True",
    "Attribute VB_TemplateDerived = False",
    "Attribute VB_Customizable = True",
]


def prepared(module: VbaModule, code_page: int = 1252) -> list[str]:
    text = prepare_module_source(module, code_page).decode(f"cp{code_page}")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return text.split("\r\n")[:-1]


def test_standard_module_gets_vb_name_and_crlf() -> None:
    assert prepared(VbaModule("M", "standard", "Sub A()\n  x\rEnd Sub")) == [
        'Attribute VB_Name = "M"',
        "Sub A()",
        "  x",
        "End Sub",
    ]
    assert prepared(VbaModule("M", "standard", "")) == ['Attribute VB_Name = "M"']
    same = VbaModule("M", "standard", 'Attribute VB_Name = "M"\r\nSub A()\r\nEnd Sub\r\n')
    assert prepared(same) == ['Attribute VB_Name = "M"', "Sub A()", "End Sub"]


def test_document_module_headers() -> None:
    assert prepared(VbaModule("ThisWorkbook", "document", "")) == [
        'Attribute VB_Name = "ThisWorkbook"',
        'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"',
        *DOCUMENT_TAIL,
    ]
    sheet = VbaModule("Sheet3", "document", "Private Sub Worksheet_Activate()\nEnd Sub")
    assert prepared(sheet) == [
        'Attribute VB_Name = "Sheet3"',
        'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"',
        *DOCUMENT_TAIL,
        "Private Sub Worksheet_Activate()",
        "End Sub",
    ]


def test_exported_class_keeps_attributes_and_loses_the_version_block() -> None:
    assert prepared(VbaModule("EventRow", "class", EXPORTED_CLASS)) == [
        'Attribute VB_Name = "EventRow"',
        'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = False",
        "Attribute VB_Exposed = True",  # kept from the source
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = False",
        "Option Explicit",
        "Public Title As String",
        "Public Property Get Label() As String",
        "Attribute Label.VB_UserMemId = 0",  # procedure attributes stay where they are
        "    Label = Title",
        "End Property",
    ]
    new_class = prepared(VbaModule("C", "class", "Private x As Long"))
    assert new_class[5] == "Attribute VB_Exposed = False"


def test_extra_module_attributes_follow_the_standard_ones() -> None:
    lines = prepared(VbaModule("C", "class", 'Attribute VB_Description = "Hi"\nOption Explicit'))
    assert lines[8:] == ['Attribute VB_Description = "Hi"', "Option Explicit"]


def test_prepare_is_idempotent_on_stored_text() -> None:
    for module in sample_project().modules:
        once = prepare_module_source(module).decode("cp1252")
        assert (
            prepare_module_source(VbaModule(module.name, module.kind, once)).decode("cp1252")
            == once
        )


def test_unencodable_character_is_a_clear_error() -> None:
    module = VbaModule("Greeting", "standard", 'Sub A()\n    MsgBox "ok ✓"\nEnd Sub')
    with pytest.raises(ValueError, match=r"Greeting.*'✓'.*U\+2713.*line 2.*1252"):
        prepare_module_source(module)
    with pytest.raises(ValueError, match="Greeting"):
        build_vba_project_bin(VbaProject(modules=[module]))


def test_other_code_page() -> None:
    module = VbaModule("Privet", "standard", 'Sub A()\n    MsgBox "Привет"\nEnd Sub\n')
    data = build_vba_project_bin(VbaProject(modules=[module], code_page=1251))
    records = parse_dir(decompress(streams_of(data)["VBA/dir"]))
    assert interpret_dir(records).code_page == 1251
    assert olevba_modules(data)["Privet"] == prepare_module_source(module, 1251).decode("cp1251")
    assert "Привет" in olevba_modules(data)["Privet"]


@pytest.mark.parametrize(
    ("project", "message"),
    [
        (VbaProject(modules=[VbaModule("1abc", "standard", "")]), "not a valid VBA name"),
        (VbaProject(modules=[VbaModule("a b", "standard", "")]), "not a valid VBA name"),
        (VbaProject(modules=[VbaModule("x" * 32, "standard", "")]), "not a valid VBA name"),
        (
            VbaProject(modules=[VbaModule("A", "standard", ""), VbaModule("a", "class", "")]),
            "clash",
        ),
        (VbaProject(modules=[VbaModule("Dir", "standard", "")]), "VBA/dir"),
        (VbaProject(name="my project"), "project name"),
        (VbaProject(modules=[VbaModule("M", "standard", 'Attribute VB_Name = "N"')]), "VB_Name"),
        (VbaProject(modules=[VbaModule("C", "class", "VERSION 1.0 CLASS\nBEGIN\n")]), "BEGIN"),
    ],
)
def test_invalid_projects_are_rejected(project: VbaProject, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_vba_project_bin(project)


# ----------------------------------------------------------------------------------------------
# Random projects
# ----------------------------------------------------------------------------------------------

identifiers = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True).filter(
    lambda n: n.lower() != "dir"
)
source_text = st.lists(
    st.sampled_from([*"abcXYZ019 \t\r\n\"'()=.,_&äöüéß€–", "End Sub", "Dim "]),
    max_size=2500,
).map(lambda parts: "' generated\n" + "".join(parts))


@st.composite
def random_projects(draw: st.DrawFn) -> VbaProject:
    names = draw(st.lists(identifiers, min_size=0, max_size=8, unique_by=str.lower))
    modules = [
        VbaModule(n, draw(st.sampled_from(["standard", "class", "document"])), draw(source_text))
        for n in names
    ]
    return VbaProject(name=draw(identifiers), modules=modules)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_projects())
def test_random_projects_read_back(project: VbaProject) -> None:
    data = build_vba_project_bin(project)
    streams = streams_of(data)  # olefile, strict
    info = interpret_dir(parse_dir(decompress(streams["VBA/dir"])))
    assert info.name == project.name
    assert [m[0] for m in info.modules] == [m.name for m in project.modules]
    found = olevba_modules(data) if project.modules else {}
    for module in project.modules:
        text = prepare_module_source(module).decode("cp1252")
        assert found[module.name] == text
        assert strip_header(text) == expected_body(module.source)
    assert build_vba_project_bin(project) == data


# ----------------------------------------------------------------------------------------------
# Comparison with Excel-made files
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFERENCE_FILES))
def test_dir_record_order_matches_excel(name: str) -> None:
    project, _, theirs = reference_project(reference_bin(name))
    ours = parse_dir(decompress(streams_of(build_vba_project_bin(project))["VBA/dir"]))
    our_info, our_refs, our_modules = sections(ids(ours))
    their_info, their_refs, their_modules = sections(ids(theirs))
    assert our_info == their_info
    assert our_modules == their_modules
    # every reference we write has the shape of Excel's registered references
    assert all(group == [0x0016, 0x003E, 0x000D] for group in our_refs)
    assert [0x0016, 0x003E, 0x000D] in their_refs


def test_rebuild_of_the_xlwings_addin_matches_it_record_for_record() -> None:
    data = reference_bin("xlwings.xlam")
    project, sources, theirs = reference_project(data)
    built = build_vba_project_bin(project)
    ours = parse_dir(decompress(streams_of(built)["VBA/dir"]))
    assert ids(ours) == ids(theirs)
    our_info, their_info = interpret_dir(ours), interpret_dir(theirs)
    assert our_info.references == their_info.references  # stdole + Office, same libids
    assert [m[:3] for m in our_info.modules] == [m[:3] for m in their_info.modules]
    assert (our_info.sys_kind, our_info.lcid, our_info.code_page, our_info.name) == (
        their_info.sys_kind,
        their_info.lcid,
        their_info.code_page,
        their_info.name,
    )
    # records whose values we deliberately do not copy (see sheep_xl.addin.ovba docstring)
    differing = {0x0009, 0x0013, 0x001C, 0x0048, 0x0031, 0x002C}
    for (rid, body), (their_rid, their_body) in zip(ours, theirs, strict=True):
        assert rid == their_rid
        if rid not in differing:
            assert body == their_body, f"record {rid:#06x}"
    # module text: Excel's stored sources come back byte for byte
    ref_streams, our_streams = streams_of(data), streams_of(built)
    for module in project.modules:
        assert decompress(our_streams[f"VBA/{module.name}"]) == sources[module.name].encode(
            "cp1252"
        )
    assert olevba_modules(built) == sources
    # PROJECTwm is identical; PROJECT has the same module lines in the same order
    assert our_streams["PROJECTwm"] == ref_streams["PROJECTwm"]

    def module_lines(stream: bytes) -> list[str]:
        return [
            line
            for line in stream.decode("cp1252").split("\r\n")
            if line.split("=")[0]
            in {"Document", "Module", "Class", "Name", "HelpContextID", "VersionCompatible32"}
        ]

    assert module_lines(our_streams["PROJECT"]) == module_lines(ref_streams["PROJECT"])


def test_project_stream_layout_matches_excel() -> None:
    """Same keys in the same order as Excel's PROJECT stream (values of ID/CMG/DPB/GC differ)."""
    data = reference_bin("quickstart.xlsm")
    project, _, _ = reference_project(data)
    theirs = streams_of(data)["PROJECT"].decode("cp1252").split("\r\n")
    ours = streams_of(build_vba_project_bin(project))["PROJECT"].decode("cp1252").split("\r\n")

    def shape(lines: list[str]) -> list[str]:
        return [re.sub(r"=.*", "=", line) for line in lines]

    assert shape(ours) == shape(theirs)


def test_module_headers_match_excel() -> None:
    """Headers we add for new modules equal the ones Excel stored for the same kind of module."""
    sources = olevba_modules(reference_bin("quickstart.xlsm"))
    for name in ("ThisWorkbook", "Sheet1", "Sheet2"):
        stored = sources[name]
        built = prepare_module_source(VbaModule(name, "document", strip_header(stored)))
        assert built.decode("cp1252") == stored
    sources = olevba_modules(reference_bin("xlwings.xlam"))
    header = [line for line in sources["WebResponse"].split("\r\n")[:8]]
    built = prepared(VbaModule("WebResponse", "class", "Option Explicit"))
    # Excel's WebResponse is PublicNotCreatable (VB_Exposed = True); the rest are new-class values
    assert built[:8] == [line.replace("VB_Exposed = True", "VB_Exposed = False") for line in header]


def test_reference_bytes_are_a_zip_member() -> None:
    """Guard: the reference helper really reads vbaProject.bin out of the Office package."""
    data = reference_bin("quickstart_addin_ribbon.xlam")
    assert olefile.isOleFile(io.BytesIO(data))
