"""Build ``xl/vbaProject.bin`` from VBA source text, without Excel ([MS-OVBA]).

The project is *source only*: ``VBA/_VBA_PROJECT`` is the 7-byte stream MS-OVBA prescribes for
writers other than Office (``CC 61 FF FF 00 01 00``: version 0xFFFF, no performance cache), every
module stream holds only its compressed source at offset 0, and no ``__SRP_*`` cache streams are
written. Office sees that the caches are missing and compiles the project from source on load.

The output was compared record by record with Excel-made files shipped in the xlwings package
(``quickstart_addin_ribbon.xlam``, ``quickstart.xlsm`` and ``addin/xlwings.xlam``). Deliberate
differences from those files:

* ``PROJECTSYSKIND`` is 3 (64-bit Windows). Windows Excel writes the kind of its own build:
  64-bit Office, the default install of Microsoft 365 and Office 2019 and later, writes 3, as in
  ``xlwings.xlam`` and ``quickstart.xlsm``; the older 32-bit ``quickstart_addin*.xlam`` say 1.
  Without a performance cache the value only describes the platform: Office compiles the source
  for whatever it runs on. ``VbaProject.sys_kind`` changes it.
* ``PROJECTCOMPATVERSION`` (0x004A) is left out by default. It is optional in MS-OVBA; current
  Excel writes it (5 in ``quickstart.xlsm``, 6 in newer files), but ``xlwings.xlam`` - the
  cache-less, widely deployed file closest to ours - has none, and Office versions older than the
  record do not expect it. ``VbaProject.compat_version`` writes it, in Excel's place (after
  ``PROJECTSYSKIND``).
* ``PROJECTCOOKIE`` and ``MODULECOOKIE`` are 0xFFFF as MS-OVBA requires of writers (Excel writes
  arbitrary values); ``MODULEOFFSET`` is 0 (no per-module cache); ``PROJECTVERSION`` is derived
  from a hash of the project's names and sources (Excel writes an opaque stamp that changes on
  edit) so that the bytes are deterministic.
* ``MODULEDOCSTRING`` is empty even when the source has a ``VB_Description`` attribute (Excel
  copies the description there; the attribute stays in the source, which is what Office reads).
* The project ``ID`` is a UUID derived from the project name, and ``CMG``/``DPB``/``GC`` (the
  "unprotected, no password, visible" states) are obfuscated with the MS-OVBA data-encryption
  algorithm using a fixed seed instead of a random one.
* ``[Workspace]`` lists every module as a closed window (``0, 0, 0, 0, C``), as Excel does for
  windows that were never opened.
* Compressed bytes differ from Excel's: Excel's compressor does not always take the longest
  match, ours does (it reproduces the examples of MS-OVBA 3.2 exactly); both decompress to the
  same text.
* ``PROJECT`` ends right after the last ``[Workspace]`` line, as in Excel-saved files; the
  xlwings add-ins (post-processed by a tool) carry one more empty line.
* Reference ``libid`` strings are the Windows ones Excel writes (``xlwings.xlam``, used on both
  Windows and Mac, carries exactly these); Office resolves registered references by GUID and
  version, the path is only a hint.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sheep_xl.addin.cfb import build_compound_file

__all__ = [
    "OFFICE_REFERENCE",
    "STDOLE_REFERENCE",
    "VBA_PROJECT_STREAM",
    "VbaModule",
    "VbaProject",
    "VbaReference",
    "build_dir_stream",
    "build_project_stream",
    "build_projectwm_stream",
    "build_vba_project_bin",
    "compress",
    "decompress",
    "encrypt_project_data",
    "prepare_module_source",
    "project_guid",
]

ModuleKind = Literal["standard", "class", "document"]

#: ``_VBA_PROJECT`` as MS-OVBA 2.3.4.1 requires of writers: version 0xFFFF, no cache.
VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000100")

SYSKIND_WIN32 = 1
SYSKIND_MAC = 2
SYSKIND_WIN64 = 3

_CHUNK_SIZE = 4096
_MAX_CHUNK_DATA = 4096  # CompressedChunkSize field is 12 bits: at most 4098 bytes incl. header
_MAX_CANDIDATES = 256  # earlier positions tried per match: bounds the time on repetitive input
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "sheep_xl.addin.ovba.project-id")
_OBFUSCATION_SEED = 0x5A  # fixed instead of random: deterministic output
_VISIBLE = bytes([0xFF])  # ProjectVisibilityState: the project is visible
_RESERVED_MODULE_NAMES = frozenset({"dir"})  # would clash with the VBA/dir stream

_WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
_WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
_CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

# Module-level attributes in the order Excel stores them, with the values Excel writes for a
# new module of each kind.
_HEADER_ORDER = (
    "VB_Name",
    "VB_Base",
    "VB_GlobalNameSpace",
    "VB_Creatable",
    "VB_PredeclaredId",
    "VB_Exposed",
    "VB_TemplateDerived",
    "VB_Customizable",
)
_CLASS_DEFAULTS = {
    "VB_Base": f'"{_CLASS_BASE}"',
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "False",
    "VB_Exposed": "False",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "False",
}
_DOCUMENT_DEFAULTS = {
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "True",
    "VB_Exposed": "True",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "True",
}

_ATTRIBUTE_LINE = re.compile(r"^Attribute\s+(VB_\w+)\s*=\s*(.*?)\s*$", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[^\W\d_]\w*$")
_RIBBON_CONTROL = re.compile(r"\bIRibbonControl\b", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# MS-OVBA 2.4.1 compression
# --------------------------------------------------------------------------------------------


def _copy_token_bits(decompressed_in_chunk: int) -> int:
    """Number of offset bits of a CopyToken at this position in its chunk (2.4.1.3.19.1)."""
    return max((decompressed_in_chunk - 1).bit_length(), 4)


def _common_prefix(data: bytes, a: int, b: int, limit: int) -> int:
    """Length of the common prefix of data[a:] and data[b:], at most ``limit``."""
    if data[a : a + limit] == data[b : b + limit]:
        return limit
    lo, hi = 0, limit  # data[a:a+lo] == data[b:b+lo], data[a:a+hi] != data[b:b+hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if data[a : a + mid] == data[b : b + mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _compress_tokens(data: bytes, start: int, end: int) -> bytes:
    """Token sequences for one chunk: greedy longest match (among the nearest candidates), the
    nearest one on ties - the matching rule of MS-OVBA 2.4.1.3.19.4."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = start
    indexed = start  # positions before this are in ``heads``

    def remember(upto: int) -> None:
        nonlocal indexed
        while indexed < upto:
            if indexed + 3 <= end:
                heads.setdefault(data[indexed : indexed + 3], []).append(indexed)
            indexed += 1

    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            remember(pos)
            best_len = 0
            best_off = 0
            if pos + 3 <= end and pos > start:
                bits = _copy_token_bits(pos - start)
                max_len = min((0xFFFF >> bits) + 3, end - pos)
                candidates = heads.get(data[pos : pos + 3], [])
                for cand in candidates[: -_MAX_CANDIDATES - 1 : -1]:  # nearest first
                    length = _common_prefix(data, cand, pos, max_len)
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == max_len:
                            break
            if best_len >= 3:
                bits = _copy_token_bits(pos - start)
                token = ((best_off - 1) << (16 - bits)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                pos += best_len
            else:
                out.append(data[pos])
                pos += 1
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer (2.4.1.1.1).

    Each 4096-byte chunk is LZ77-compressed; a chunk whose compressed form would not fit the
    chunk format is stored raw (4096 bytes, the last one padded with zeros as the algorithm in
    2.4.1.3.10 requires - that only happens for high-entropy input, never for VBA source text).
    """
    data = bytes(data)
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK_SIZE):
        end = min(start + _CHUNK_SIZE, len(data))
        tokens = _compress_tokens(data, start, end)
        if len(tokens) <= _MAX_CHUNK_DATA:
            out += struct.pack("<H", 0xB000 | (len(tokens) + 2 - 3))
            out += tokens
        else:
            raw = data[start:end]
            out += struct.pack("<H", 0x3000 | (_CHUNK_SIZE + 2 - 3))
            out += raw + bytes(_CHUNK_SIZE - len(raw))
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer (2.4.1.3.1); raise ValueError if malformed."""
    data = bytes(data)
    if not data or data[0] != 0x01:
        raise ValueError("not an MS-OVBA compressed container (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError(f"truncated chunk header at offset {pos}")
        (header,) = struct.unpack_from("<H", data, pos)
        if (header >> 12) & 0b111 != 0b011:
            raise ValueError(f"bad chunk signature at offset {pos}")
        chunk_end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += data[pos : pos + _CHUNK_SIZE]
            pos += _CHUNK_SIZE
            continue
        while pos < chunk_end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                    continue
                if pos + 2 > chunk_end:
                    raise ValueError(f"truncated copy token at offset {pos}")
                (token,) = struct.unpack_from("<H", data, pos)
                pos += 2
                bits = _copy_token_bits(len(out) - chunk_start)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                if offset > len(out) - chunk_start:
                    raise ValueError(f"copy token reaches before its chunk at offset {pos - 2}")
                source = len(out) - offset
                if offset >= length:
                    out += out[source : source + length]
                else:
                    pattern = bytes(out[source:])
                    out += (pattern * (length // offset + 1))[:length]
    return bytes(out)


# --------------------------------------------------------------------------------------------
# MS-OVBA 2.4.3 data "encryption" (obfuscation of CMG, DPB and GC)
# --------------------------------------------------------------------------------------------


def encrypt_project_data(data: bytes, project_id: str, seed: int = _OBFUSCATION_SEED) -> str:
    """Obfuscate ``data`` as MS-OVBA 2.4.3.2 describes; return the upper-case hex text.

    ``project_id`` is the ``{GUID}`` text of the ``ID=`` line. ``seed`` replaces the random byte
    of the algorithm so that the result is deterministic; the ignored bytes are zeros.
    """
    if not 0 <= seed <= 0xFF:
        raise ValueError("seed must be a byte")
    version = 2
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ proj_key])
    state = {"unencrypted1": proj_key, "encrypted1": seed ^ proj_key, "encrypted2": seed ^ version}

    def emit(byte: int) -> None:
        encrypted = byte ^ ((state["encrypted2"] + state["unencrypted1"]) & 0xFF)
        out.append(encrypted)
        state["encrypted2"] = state["encrypted1"]
        state["encrypted1"] = encrypted
        state["unencrypted1"] = byte

    for _ in range((seed & 6) >> 1):
        emit(0)
    for byte in struct.pack("<I", len(data)):
        emit(byte)
    for byte in data:
        emit(byte)
    return out.hex().upper()


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VbaReference:
    """A registered type-library reference (REFERENCEREGISTERED, MS-OVBA 2.3.4.2.2.5)."""

    name: str
    libid: str

    @property
    def guid(self) -> str:
        match = re.search(r"\{[0-9A-Fa-f-]{36}\}", self.libid)
        return match.group(0).upper() if match else self.libid


#: OLE Automation, referenced by every project Excel creates.
STDOLE_REFERENCE = VbaReference(
    "stdole",
    r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb"
    r"#OLE Automation",
)
#: Microsoft Office Object Library: needed for ``IRibbonControl`` in ribbon callbacks.
OFFICE_REFERENCE = VbaReference(
    "Office",
    r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files"
    r"\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library",
)


@dataclass(frozen=True)
class VbaModule:
    """One VBA module: ``standard`` (.bas), ``class`` (.cls) or ``document`` (ThisWorkbook or a
    sheet). ``source`` is the module text, as exported by the VBE or written by hand."""

    name: str
    kind: ModuleKind
    source: str


@dataclass(frozen=True)
class VbaProject:
    """A source-only VBA project.

    ``references=None`` means: stdole, plus the Office library when a module mentions
    ``IRibbonControl`` or ``include_office_library`` is set. An explicit sequence is used as
    given, with stdole put first when missing.
    """

    name: str = "VBAProject"
    modules: Sequence[VbaModule] = field(default_factory=tuple)
    references: Sequence[VbaReference] | None = None
    code_page: int = 1252
    lcid: int = 0x409
    sys_kind: int = SYSKIND_WIN64
    compat_version: int | None = None
    include_office_library: bool = False

    def effective_references(self) -> list[VbaReference]:
        if self.references is None:
            refs = [STDOLE_REFERENCE]
            wants_office = self.include_office_library or any(
                _RIBBON_CONTROL.search(m.source) for m in self.modules
            )
            if wants_office:
                refs.append(OFFICE_REFERENCE)
            return refs
        refs = list(self.references)
        if all(r.guid != STDOLE_REFERENCE.guid for r in refs):
            refs.insert(0, STDOLE_REFERENCE)
        return refs


# --------------------------------------------------------------------------------------------
# Module source preparation
# --------------------------------------------------------------------------------------------


def _codec(code_page: int) -> str:
    name = f"cp{code_page}"
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"code page {code_page} is not supported by Python's codecs") from None
    return name


def _encode(text: str, code_page: int, what: str) -> bytes:
    codec = _codec(code_page)
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start]
        line = exc.object.count("\n", 0, exc.start) + 1
        raise ValueError(
            f"{what}: character {char!r} (U+{ord(char):04X}) on line {line} cannot be encoded "
            f"in code page {code_page}"
        ) from None


def _strip_class_export_block(lines: list[str]) -> list[str]:
    """Drop the ``VERSION 1.0 CLASS`` / ``BEGIN`` ... ``END`` header of an exported .cls file."""
    if not lines or not lines[0].strip().upper().startswith("VERSION "):
        return lines
    index = 1
    if index < len(lines) and lines[index].strip().upper() == "BEGIN":
        depth = 0
        while index < len(lines):
            word = lines[index].strip().upper()
            if word == "BEGIN" or word.startswith("BEGIN "):
                depth += 1
            elif word == "END":
                depth -= 1
                if depth == 0:
                    index += 1
                    break
            index += 1
        else:
            raise ValueError("unterminated BEGIN ... END block in exported class module")
    return lines[index:]


def _check_identifier(name: str, what: str) -> None:
    if not _IDENTIFIER.match(name) or len(name) > 31:
        raise ValueError(
            f"{what} {name!r} is not a valid VBA name (a letter, then letters, digits or _; "
            "at most 31 characters)"
        )


def prepare_module_source(module: VbaModule, code_page: int = 1252) -> bytes:
    """Return the module text as Excel stores it, encoded in ``code_page``.

    Line endings become CRLF and the text ends with one; an exported class's ``VERSION 1.0
    CLASS`` / ``BEGIN``...``END`` block is removed; the module-level ``Attribute`` header is
    completed in Excel's order with Excel's defaults (``VB_Name``; for class and document modules
    also ``VB_Base``, ``VB_GlobalNameSpace``, ``VB_Creatable``, ``VB_PredeclaredId``,
    ``VB_Exposed``, ``VB_TemplateDerived``, ``VB_Customizable``), keeping any values the source
    sets and any further attributes after them. A document module named ``ThisWorkbook`` gets the
    workbook's ``VB_Base``, any other document module a worksheet's; a source that sets
    ``VB_Base`` itself (a chart sheet, a localised workbook code name) keeps its own. Raises
    ValueError for a character the code page cannot encode (naming the module, the character and
    its line) or a ``VB_Name`` that differs from the module name.
    """
    _check_identifier(module.name, "module name")
    if module.kind not in ("standard", "class", "document"):
        raise ValueError(f"module {module.name!r}: unknown kind {module.kind!r}")
    text = module.source.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    _encode(text, code_page, f"module {module.name!r}")  # line numbers as the author sees them
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if module.kind != "standard":
        try:
            lines = _strip_class_export_block(lines)
        except ValueError as exc:
            raise ValueError(f"module {module.name!r}: {exc}") from None

    given: dict[str, tuple[str, str]] = {}  # lower-case name -> (spelling, value)
    order: list[str] = []
    index = 0
    while index < len(lines):
        match = _ATTRIBUTE_LINE.match(lines[index])
        if not match:
            break
        key = match.group(1).lower()
        if key not in given:
            order.append(key)
        given[key] = (match.group(1), match.group(2))
        index += 1
    body = lines[index:]

    name_value = f'"{module.name}"'
    if "vb_name" in given and given["vb_name"][1] != name_value:
        raise ValueError(
            f"module {module.name!r}: its source says Attribute VB_Name = {given['vb_name'][1]}"
        )

    header: list[tuple[str, str]] = [("VB_Name", name_value)]
    if module.kind != "standard":
        if module.kind == "class":
            defaults = _CLASS_DEFAULTS
        else:
            base = _WORKBOOK_BASE if module.name.lower() == "thisworkbook" else _WORKSHEET_BASE
            defaults = {"VB_Base": f'"{base}"', **_DOCUMENT_DEFAULTS}
        for attr in _HEADER_ORDER[1:]:
            value = given[attr.lower()][1] if attr.lower() in given else defaults[attr]
            header.append((attr, value))
    known = {attr.lower() for attr, _ in header}
    header += [given[key] for key in order if key not in known]

    out_lines = [f"Attribute {attr} = {value}" for attr, value in header] + body
    result = "\r\n".join(out_lines) + "\r\n"
    return _encode(result, code_page, f"module {module.name!r}")


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------


def project_guid(name: str) -> str:
    """The deterministic ``{GUID}`` used as the project ID for a project name."""
    return "{" + str(uuid.uuid5(_GUID_NAMESPACE, name)).upper() + "}"


def _validate(project: VbaProject) -> None:
    _check_identifier(project.name, "project name")
    seen: dict[str, str] = {}
    for module in project.modules:
        _check_identifier(module.name, "module name")
        key = module.name.lower()
        if key in _RESERVED_MODULE_NAMES:
            raise ValueError(f"module name {module.name!r} clashes with the VBA/dir stream")
        if key in seen:
            raise ValueError(f"module names {seen[key]!r} and {module.name!r} clash")
        seen[key] = module.name
    if not 0 < project.code_page < 0x10000:
        raise ValueError(f"bad code page {project.code_page}")
    _codec(project.code_page)


def build_project_stream(project: VbaProject) -> bytes:
    """The ``PROJECT`` stream (MS-OVBA 2.3.1): the project's text properties, CRLF lines."""
    _validate(project)
    project_id = project_guid(project.name)
    lines = [f'ID="{project_id}"']
    for module in project.modules:
        if module.kind == "document":
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == "class":
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{project.name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{encrypt_project_data(bytes(4), project_id)}"',  # not protected
        f'DPB="{encrypt_project_data(bytes(1), project_id)}"',  # no password
        f'GC="{encrypt_project_data(_VISIBLE, project_id)}"',  # visible
        "",
        "[Host Extender Info]",
        _HOST_EXTENDER,
        "",
        "[Workspace]",
    ]
    lines += [f"{module.name}=0, 0, 0, 0, C" for module in project.modules]
    text = "\r\n".join(lines) + "\r\n"
    return _encode(text, project.code_page, "PROJECT stream")


def build_projectwm_stream(project: VbaProject) -> bytes:
    """The ``PROJECTwm`` stream (MS-OVBA 2.3.3): each module name in MBCS and in UTF-16."""
    _validate(project)
    out = bytearray()
    for module in project.modules:
        out += _encode(module.name, project.code_page, "module name") + b"\x00"
        out += module.name.encode("utf-16-le") + b"\x00\x00"
    out += b"\x00\x00"
    return bytes(out)


def _record(rid: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def _project_version(project: VbaProject, sources: Sequence[bytes]) -> tuple[int, int]:
    digest = hashlib.sha256()
    digest.update(project.name.encode("utf-8"))
    for module, source in zip(project.modules, sources, strict=True):
        digest.update(b"\x00" + module.name.encode("utf-8") + b"\x00" + module.kind.encode())
        digest.update(hashlib.sha256(source).digest())
    raw = digest.digest()
    return int.from_bytes(raw[:4], "little") & 0x7FFFFFFF, int.from_bytes(raw[4:6], "little")


def build_dir_stream(project: VbaProject, sources: Sequence[bytes] | None = None) -> bytes:
    """The *uncompressed* ``dir`` stream (MS-OVBA 2.3.4.2), records in Excel's order."""
    _validate(project)
    if sources is None:
        sources = [prepare_module_source(m, project.code_page) for m in project.modules]
    cp = project.code_page

    def mbcs(text: str) -> bytes:
        return _encode(text, cp, "dir stream")

    major, minor = _project_version(project, sources)
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", project.sys_kind))  # PROJECTSYSKIND
    if project.compat_version is not None:
        out += _record(0x004A, struct.pack("<I", project.compat_version))  # PROJECTCOMPATVERSION
    out += _record(0x0002, struct.pack("<I", project.lcid))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<I", project.lcid))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", cp))  # PROJECTCODEPAGE
    out += _record(0x0004, mbcs(project.name))  # PROJECTNAME
    out += _record(0x0005) + _record(0x0040)  # PROJECTDOCSTRING (+ unicode)
    out += _record(0x0006) + _record(0x003D)  # PROJECTHELPFILEPATH 1 and 2
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, major, minor)  # PROJECTVERSION
    out += _record(0x000C) + _record(0x003C)  # PROJECTCONSTANTS (+ unicode)
    for ref in project.effective_references():
        out += _record(0x0016, mbcs(ref.name))  # REFERENCENAME
        out += _record(0x003E, ref.name.encode("utf-16-le"))
        libid = mbcs(ref.libid)
        # REFERENCEREGISTERED: Size, SizeOfLibid, Libid, Reserved1 (u32 0), Reserved2 (u16 0)
        out += struct.pack("<HII", 0x000D, 4 + len(libid) + 6, len(libid))
        out += libid + struct.pack("<IH", 0, 0)
    out += _record(0x000F, struct.pack("<H", len(project.modules)))  # PROJECTMODULES
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for module in project.modules:
        name = mbcs(module.name)
        unicode_name = module.name.encode("utf-16-le")
        out += _record(0x0019, name)  # MODULENAME
        out += _record(0x0047, unicode_name)  # MODULENAMEUNICODE
        out += _record(0x001A, name) + _record(0x0032, unicode_name)  # MODULESTREAMNAME
        out += _record(0x001C) + _record(0x0048)  # MODULEDOCSTRING (+ unicode)
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += _record(0x0021 if module.kind == "standard" else 0x0022)  # MODULETYPE
        out += _record(0x002B)  # module terminator
    out += _record(0x0010)  # dir terminator
    return bytes(out)


def build_vba_project_bin(project: VbaProject) -> bytes:
    """Return the bytes of ``xl/vbaProject.bin`` for ``project``."""
    _validate(project)
    sources = [prepare_module_source(m, project.code_page) for m in project.modules]
    streams: dict[str, bytes] = {
        "PROJECT": build_project_stream(project),
        "PROJECTwm": build_projectwm_stream(project),
        "VBA/_VBA_PROJECT": VBA_PROJECT_STREAM,
        "VBA/dir": compress(build_dir_stream(project, sources)),
    }
    for module, source in zip(project.modules, sources, strict=True):
        packed = compress(source)
        if decompress(packed) != source:
            raise ValueError(
                f"module {module.name!r}: its source does not survive MS-OVBA compression "
                "(an incompressible final chunk would be zero-padded)"
            )
        streams[f"VBA/{module.name}"] = packed
    return build_compound_file(streams)
