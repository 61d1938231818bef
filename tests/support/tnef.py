"""Write a minimal, valid TNEF stream (winmail.dat) by the [MS-OXTNEF] spec, for tests.

No Python library writes TNEF, so the tests build their own: a TNEF version, an OEM code page,
a message class and subject, the body as attBody and/or in attMAPIProps (PR_BODY as Unicode,
PR_BODY_HTML, PR_RTF_COMPRESSED), and each attached file as attAttachRendData,
attAttachTitle, attAttachData and attAttachment (PR_ATTACH_LONG_FILENAME). Every attribute
carries the spec's checksum, so a strict reader accepts it too.
"""

from __future__ import annotations

import struct

SIGNATURE = 0x223E9F78
LEVEL_MESSAGE = 0x01
LEVEL_ATTACHMENT = 0x02

# Attribute ids: the high word is the attribute type (atpString 1, atpText 2, atpByte 6,
# atpWord 7, atpDword 8), the low word the attribute.
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_SUBJECT = 0x00018004
ATT_BODY = 0x0002800C
ATT_MAPI_PROPS = 0x00069003
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005

PT_UNICODE = 0x001F
PT_BINARY = 0x0102
PR_BODY = 0x1000
PR_RTF_COMPRESSED = 0x1009
PR_BODY_HTML = 0x1013
PR_ATTACH_LONG_FILENAME = 0x3707


def _attribute(level: int, attribute_id: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attribute_id, len(data)) + data + struct.pack("<H", checksum)


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _mapi_props(props: list[tuple[int, int, bytes]]) -> bytes:
    """Encode MAPI properties (type, id, value bytes) of variable-length types."""
    out = [struct.pack("<I", len(props))]
    for prop_type, prop_id, value in props:
        out.append(struct.pack("<HHII", prop_type, prop_id, 1, len(value)))
        out.append(_padded(value))
    return b"".join(out)


def compressed_rtf_uncompressed(rtf: bytes) -> bytes:
    """RTF wrapped as [MS-OXRTFCP] "MELA" (stored, not compressed), which readers must accept."""
    return struct.pack("<IIII", len(rtf) + 12, len(rtf), 0x414C454D, 0) + rtf


def build_tnef(
    *,
    subject: str,
    body: str | None = None,
    unicode_body: str | None = None,
    html: str | None = None,
    rtf: bytes | None = None,
    files: list[tuple[str, bytes]] | None = None,
    codepage: int = 1252,
) -> bytes:
    """A winmail.dat holding the given body forms and files."""
    encoding = f"cp{codepage}"
    parts = [
        struct.pack("<IH", SIGNATURE, 0x0001),
        _attribute(LEVEL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000)),
        _attribute(LEVEL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", codepage, 0)),
        _attribute(LEVEL_MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\x00"),
        _attribute(LEVEL_MESSAGE, ATT_SUBJECT, subject.encode(encoding) + b"\x00"),
    ]
    if body is not None:
        parts.append(_attribute(LEVEL_MESSAGE, ATT_BODY, body.encode(encoding)))
    props: list[tuple[int, int, bytes]] = []
    if unicode_body is not None:
        props.append((PT_UNICODE, PR_BODY, (unicode_body + "\x00").encode("utf-16-le")))
    if html is not None:
        props.append((PT_BINARY, PR_BODY_HTML, html.encode("utf-8")))
    if rtf is not None:
        props.append((PT_BINARY, PR_RTF_COMPRESSED, compressed_rtf_uncompressed(rtf)))
    if props:
        parts.append(_attribute(LEVEL_MESSAGE, ATT_MAPI_PROPS, _mapi_props(props)))
    for name, data in files or []:
        render = struct.pack("<HIHHI", 0x0001, 0xFFFFFFFF, 0xFFFF, 0xFFFF, 0)
        short_name = name if len(name) <= 12 else name[:8] + name[name.rfind("."):][:4]
        parts.append(_attribute(LEVEL_ATTACHMENT, ATT_ATTACH_REND_DATA, render))
        parts.append(_attribute(LEVEL_ATTACHMENT, ATT_ATTACH_TITLE, short_name.encode("ascii", "replace") + b"\x00"))
        parts.append(_attribute(LEVEL_ATTACHMENT, ATT_ATTACH_DATA, data))
        long_name = (name + "\x00").encode("utf-16-le")
        parts.append(_attribute(LEVEL_ATTACHMENT, ATT_ATTACHMENT,
                                _mapi_props([(PT_UNICODE, PR_ATTACH_LONG_FILENAME, long_name)])))
    return b"".join(parts)
