"""Turn the bytes of a mail part into text whatever its charset label says, and say what was guessed.

Labels are resolved the way the WHATWG Encoding Standard does (browsers agree on it, and mail
clients send the same labels): iso-8859-1, latin-1 and us-ascii all mean windows-1252, because
text labelled Latin-1 very often holds cp1252 characters such as €, ’ and –. A label Python knows
but the table does not (cp850, koi8-u…) is used as is. A label nobody knows, or none at all on
8-bit text, is decoded as UTF-8 when the bytes are valid UTF-8 and as windows-1252 otherwise;
the guess is returned as a defect so the message records it. Decoding never raises.
"""

from __future__ import annotations

import codecs
import re

#: WHATWG labels (lower case) that mail really uses, mapped to Python codec names.
_WHATWG_LABELS: dict[str, str] = {
    **dict.fromkeys(
        ("utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"), "utf-8"
    ),
    **dict.fromkeys(
        (
            "windows-1252", "cp1252", "x-cp1252", "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1",
            "iso_8859-1:1987", "iso-ir-100", "latin1", "latin-1", "l1", "cp819", "ibm819", "csisolatin1",
            "us-ascii", "ascii", "ansi_x3.4-1968", "iso-ir-6", "iso646-us", "us", "csascii",
        ),
        "windows-1252",
    ),
    **dict.fromkeys(
        ("iso-8859-15", "iso8859-15", "iso_8859-15", "latin9", "latin-9", "l9", "csisolatin9"), "iso-8859-15"
    ),
    **dict.fromkeys(("iso-8859-2", "iso8859-2", "iso_8859-2", "latin2", "l2"), "iso-8859-2"),
    **dict.fromkeys(("iso-8859-4", "iso8859-4", "latin4", "l4"), "iso-8859-4"),
    **dict.fromkeys(("iso-8859-5", "iso8859-5", "cyrillic"), "iso-8859-5"),
    **dict.fromkeys(("iso-8859-7", "iso8859-7", "greek"), "iso-8859-7"),
    **dict.fromkeys(("iso-8859-8", "iso-8859-8-i", "iso8859-8", "hebrew"), "iso-8859-8"),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5", "windows-1254", "cp1254"), "cp1254"),
    **dict.fromkeys(("iso-8859-10", "iso8859-10", "latin6", "l6"), "iso-8859-10"),
    **dict.fromkeys(("iso-8859-13", "iso8859-13"), "iso-8859-13"),
    **{f"windows-125{n}": f"cp125{n}" for n in (0, 1, 3, 5, 6, 7, 8)},
    **{f"cp125{n}": f"cp125{n}" for n in (0, 1, 3, 5, 6, 7, 8)},
    **dict.fromkeys(("windows-874", "dos-874", "tis-620", "iso-8859-11"), "cp874"),
    **dict.fromkeys(("koi8-r", "koi8_r", "koi"), "koi8-r"),
    **dict.fromkeys(("koi8-u", "koi8-ru"), "koi8-u"),
    **dict.fromkeys(("macintosh", "mac", "x-mac-roman", "csmacintosh"), "mac-roman"),
    **dict.fromkeys(("gbk", "gb2312", "gb_2312-80", "chinese", "csgb2312", "x-gbk", "gb18030"), "gb18030"),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("euc-jp", "x-euc-jp", "cseucpkdfmtjapanese"), "euc-jp"),
    **dict.fromkeys(("iso-2022-jp", "csiso2022jp"), "iso-2022-jp"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "ms_kanji", "windows-31j", "x-sjis", "csshiftjis"), "cp932"),
    **dict.fromkeys(
        ("euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "korean", "windows-949", "cseuckr"), "cp949"
    ),
    **dict.fromkeys(("utf-16le", "utf-16"), "utf-16-le"),
    **dict.fromkeys(("utf-16be",), "utf-16-be"),
}

#: Labels that name something other than a text encoding, or that Python cannot decode safely.
_REFUSED = {"undefined", "unicode_escape", "raw_unicode_escape", "unicode_internal", "idna", "punycode", "mbcs", "oem"}

#: The bytes windows-1252 leaves undefined map to the C1 control of the same value (WHATWG).
_C1_FALLBACK = "triage-c1-fallback"


def _c1_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start:error.end]
    return "".join(chr(byte) for byte in chunk), error.end


codecs.register_error(_C1_FALLBACK, _c1_fallback)

_LABEL_JUNK = re.compile(r"""^[\s"']+|[\s"';]+$""")


def normalize_label(label: str | None) -> str:
    """The label as sent, without quotes, spaces or an RFC 2231 language suffix, in lower case."""
    if not label:
        return ""
    cleaned = _LABEL_JUNK.sub("", str(label)[:100]).lower()
    return cleaned.split("*", 1)[0]


def resolve(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when the label is unknown or empty."""
    name = normalize_label(label)
    if not name:
        return None
    if name in _WHATWG_LABELS:
        return _WHATWG_LABELS[name]
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return info.name


def decode_windows_1252(data: bytes) -> str:
    """windows-1252 as WHATWG defines it: every byte decodes, none is lost."""
    return data.decode("cp1252", errors=_C1_FALLBACK)


def _strict_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_guess(data: bytes) -> tuple[str, str]:
    """Decode bytes with no usable label: UTF-8 if they are valid UTF-8, else windows-1252."""
    text = _strict_utf8(data)
    if text is not None:
        return text.removeprefix("\ufeff"), "utf-8"
    return decode_windows_1252(data), "windows-1252"


def decode_bytes(data: bytes, label: str | None, *, what: str = "text") -> tuple[str, list[str]]:
    """Decode `data` labelled `label`; return the text and the defects to record (never raises).

    `label` is None when the part had no charset parameter, "" when it had an empty one.
    `what` names the part in defect messages ("body", "attachment 'x.txt'", "header Subject").
    """
    defects: list[str] = []
    if not data:
        return "", defects
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        label = "utf-8"
    name = normalize_label(label)
    codec = resolve(name)
    if codec is None:
        if data.isascii():
            return data.decode("ascii"), defects
        text, used = decode_guess(data)
        if label is None:
            defects.append(f"8-bit text without a charset, decoded as {used} ({what})")
        else:
            defects.append(f"unknown charset {name!r}, decoded as {used} ({what})")
        return text, defects
    if codec == "windows-1252":
        if data.isascii():
            return data.decode("ascii"), defects
        if name not in ("windows-1252", "cp1252", "x-cp1252"):
            # A Latin-1 or ASCII label on bytes that are valid multi-byte UTF-8 is a mislabel:
            # real windows-1252 text practically never forms valid UTF-8 sequences.
            text = _strict_utf8(data)
            if text is not None:
                defects.append(f"charset {name!r} holds utf-8, decoded as utf-8 ({what})")
                return text, defects
        return decode_windows_1252(data), defects
    if codec == "utf-8":
        text = _strict_utf8(data)
        if text is not None:
            return text, defects
        lenient = data.decode("utf-8", errors="replace")
        non_ascii_ok = sum(1 for ch in lenient if ord(ch) > 127 and ch != "\ufffd")
        if non_ascii_ok == 0:
            defects.append(f"invalid utf-8, decoded as windows-1252 ({what})")
            return decode_windows_1252(data), defects
        defects.append(f"invalid utf-8, bad bytes replaced ({what})")
        return lenient, defects
    try:
        return data.decode(codec), defects
    except UnicodeDecodeError:
        defects.append(f"bytes not valid {name!r}, bad bytes replaced ({what})")
        return data.decode(codec, errors="replace"), defects
    except Exception:  # noqa: BLE001 - a broken codec must never stop the message
        text, used = decode_guess(data)
        defects.append(f"charset {name!r} failed, decoded as {used} ({what})")
        return text, defects


def fix_surrogates(value: str, *, what: str = "header") -> tuple[str, list[str]]:
    """Undo surrogate escapes (raw 8-bit bytes in a header): UTF-8 if valid, else windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value, []
    try:
        data = value.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", errors="replace").decode("utf-8"), [f"undecodable bytes ({what})"]
    text = _strict_utf8(data)
    if text is not None:
        return text, []
    return decode_windows_1252(data), [f"raw 8-bit bytes, decoded as windows-1252 ({what})"]
