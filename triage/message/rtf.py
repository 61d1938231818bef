"""Outlook's compressed RTF body (TNEF PR_RTF_COMPRESSED) as plain text.

Many winmail.dat files carry their body only as compressed RTF. Decompression follows
[MS-OXRTFCP] (an LZ77 variant with a fixed 207-byte starting dictionary); the RTF is then read
as text: paragraphs, tabs, table cells, \\'hh and \\uN escapes, with font tables, pictures and
other non-text destinations skipped. Enough to read the words, not to render the layout.
"""

from __future__ import annotations

import re
import struct

from triage.message.charset import resolve

_PREBUF = (
    b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript "
    b"\\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par "
    b"\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
)
_COMPRESSED = 0x75465A4C  # "LZFu"
_UNCOMPRESSED = 0x414C454D  # "MELA"
#: Decompressed RTF larger than this is cut: the text limit is far below it anyway.
MAX_RTF_BYTES = 8 * 1024 * 1024


def decompress(data: bytes) -> bytes:
    """The RTF bytes of a compressed-RTF stream; raises ValueError when it is not one."""
    if len(data) < 16:
        raise ValueError("compressed RTF shorter than its header")
    _size, raw_size, kind, _crc = struct.unpack_from("<IIII", data, 0)
    body = data[16:]
    if kind == _UNCOMPRESSED:
        return body[:raw_size]
    if kind != _COMPRESSED:
        raise ValueError("not compressed RTF")
    window = bytearray(4096)
    window[: len(_PREBUF)] = _PREBUF
    write = len(_PREBUF)
    out = bytearray()
    position = 0
    limit = min(raw_size or MAX_RTF_BYTES, MAX_RTF_BYTES)
    while position < len(body) and len(out) < limit:
        control = body[position]
        position += 1
        for bit in range(8):
            if position >= len(body):
                break
            if not control & (1 << bit):
                byte = body[position]
                position += 1
                out.append(byte)
                window[write] = byte
                write = (write + 1) % 4096
                continue
            if position + 1 >= len(body):
                position = len(body)
                break
            reference = (body[position] << 8) | body[position + 1]
            position += 2
            offset, length = reference >> 4, (reference & 0xF) + 2
            if offset == write:
                return bytes(out)
            for step in range(length):
                byte = window[(offset + step) % 4096]
                out.append(byte)
                window[write] = byte
                write = (write + 1) % 4096
    return bytes(out[:limit])


_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}\r\n]+)|[\r\n]+", re.DOTALL
)
_SKIP = {
    b"fonttbl", b"colortbl", b"stylesheet", b"info", b"pict", b"object", b"header", b"footer", b"headerl",
    b"headerr", b"footerl", b"footerr", b"themedata", b"colorschememapping", b"latentstyles", b"datastore",
    b"xmlnstbl", b"listtable", b"listoverridetable", b"rsidtbl", b"generator", b"mmathPr", b"fldinst",
    b"htmltag", b"mhtmltag", b"bkmkstart", b"bkmkend", b"filetbl", b"revtbl", b"pgdsctbl",
}
_BREAKS = {b"par": "\n", b"line": "\n", b"row": "\n", b"sect": "\n\n", b"page": "\n\n", b"tab": "\t", b"cell": " | "}


def _text_of_rtf(rtf: bytes) -> str:
    codec = "cp1252"
    out: list[str] = []
    stack: list[tuple[bool, int]] = []
    skipping = False
    skip_after_unicode = 1
    pending_skip = 0
    ignorable_next = False
    pending_bytes = bytearray()

    def flush_bytes() -> None:
        if pending_bytes:
            out.append(pending_bytes.decode(codec, errors="replace"))
            pending_bytes.clear()

    for match in _TOKEN.finditer(rtf):
        word, argument, hex_byte, symbol, brace, text = match.groups()
        if brace == b"{":
            stack.append((skipping, skip_after_unicode))
            ignorable_next = False
            continue
        if brace == b"}":
            flush_bytes()
            skipping, skip_after_unicode = stack.pop() if stack else (False, 1)
            continue
        if pending_skip and (text or hex_byte or symbol):
            if text:
                dropped = min(pending_skip, len(text))
                text = text[dropped:]
                pending_skip -= dropped
                if not text:
                    continue
            else:
                pending_skip -= 1
                continue
        if word is not None:
            if word in _SKIP or ignorable_next:
                skipping = True
            ignorable_next = False
            if skipping:
                continue
            if word == b"ansicpg" and argument:
                codec = resolve(f"cp{int(argument)}") or codec
            elif word == b"uc" and argument:
                skip_after_unicode = max(0, int(argument))
            elif word == b"u" and argument:
                flush_bytes()
                value = int(argument)
                out.append(chr(value + 65536 if value < 0 else value) if -32768 <= value < 65536 else "")
                pending_skip = skip_after_unicode
            elif word in _BREAKS:
                flush_bytes()
                out.append(_BREAKS[word])
            continue
        if symbol is not None:
            if symbol == b"*":
                ignorable_next = True
            elif not skipping:
                flush_bytes()
                out.append({b"~": "\u00a0", b"-": "", b"_": "-", b"\\": "\\", b"{": "{", b"}": "}"}.get(symbol, ""))
            continue
        if skipping:
            continue
        if hex_byte is not None:
            pending_bytes.append(int(hex_byte, 16))
            continue
        if text:
            flush_bytes()
            out.append(text.decode(codec, errors="replace"))
    flush_bytes()
    return "".join(out)


def rtf_to_text(data: bytes) -> tuple[str, list[str]]:
    """Text of compressed (or plain) RTF; never raises, returns defects instead."""
    try:
        rtf = decompress(data) if not data.lstrip().startswith(b"{\\rtf") else data
    except Exception as exc:  # noqa: BLE001 - a broken stream loses only the RTF body
        return "", [f"RTF body unreadable ({type(exc).__name__}: {exc})"]
    try:
        return _text_of_rtf(rtf[:MAX_RTF_BYTES]), []
    except Exception as exc:  # noqa: BLE001
        return "", [f"RTF body unreadable ({type(exc).__name__})"]
