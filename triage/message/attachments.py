"""Readable text out of attached files: PDF, DOCX, iCalendar, plain text, HTML and TNEF.

Each reader takes the file's bytes and returns its text (and, for iCalendar, the event) or an
error string; none raises. A broken or encrypted file is an attachment with an `error`, never a
failed message. Attached mails (message/rfc822) are parsed by parse.py, which owns the recursion.
"""

from __future__ import annotations

import io
import logging
import mimetypes
from dataclasses import dataclass, field
from datetime import date, datetime, time

from triage.message.charset import decode_bytes
from triage.message.dates import MAILBOX_TZ
from triage.message.envelope import CalendarEvent
from triage.message.html_text import html_to_text, meta_charset
from triage.message.text import clean_text

# pypdf and tnefparse log every oddity of a broken file as a warning; the attachment's `error`
# already says what failed, so without a handler of the application's own they stay quiet
# (a NullHandler stops logging's last-resort printing to stderr; configured handlers still see them).
for _name in ("pypdf", "tnefparse"):
    logging.getLogger(_name).addHandler(logging.NullHandler())

#: PDF pages read at most: the text limit is usually reached long before.
MAX_PDF_PAGES = 300

_KIND_BY_TYPE = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/calendar": "ics",
    "application/ics": "ics",
    "text/x-vcalendar": "ics",
    "application/ms-tnef": "tnef",
    "application/vnd.ms-tnef": "tnef",
    "message/rfc822": "message",
    "message/global": "message",
    "text/plain": "text",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/rfc822-headers": "text",
    "message/delivery-status": "text",
    "message/disposition-notification": "text",
}
_KIND_BY_EXTENSION = {
    ".pdf": "pdf", ".docx": "docx", ".ics": "ics", ".ical": "ics", ".ifb": "ics", ".vcs": "ics",
    ".eml": "message", ".txt": "text", ".csv": "text", ".htm": "html", ".html": "html",
}
#: Generic types a client sends when it does not know better; the file name then decides.
_GENERIC_TYPES = {"application/octet-stream", "application/x-download", "application/download",
                  "application/unknown", "binary/octet-stream", "application/force-download"}


def kind_of(content_type: str, filename: str, data: bytes) -> str:
    """pdf, docx, ics, tnef, message, text, html or other: by type, then name, then magic bytes."""
    content_type = content_type.lower()
    name = filename.lower()
    if name == "winmail.dat" or content_type in ("application/ms-tnef", "application/vnd.ms-tnef"):
        return "tnef"
    by_type = _KIND_BY_TYPE.get(content_type)
    by_name = next((kind for extension, kind in _KIND_BY_EXTENSION.items() if name.endswith(extension)), None)
    if by_type is not None and not (by_type == "text" and by_name not in (None, "text")):
        return by_type
    if by_name is not None and (by_type == "text" or content_type in _GENERIC_TYPES
                                or not content_type.startswith(("image/", "audio/", "video/"))):
        return by_name
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:4] == b"\x78\x9f\x3e\x22":
        return "tnef"
    return "other"


def default_filename(content_type: str, index: int) -> str:
    """A name for a part that has none, like "part-3.pdf" or "invite.ics"."""
    if content_type.lower() == "text/calendar":
        return "invite.ics"
    extension = mimetypes.guess_extension(content_type.lower(), strict=False) or ".bin"
    return f"part-{index}{extension}"


def guess_type(filename: str) -> str:
    """The content type a file name suggests (for files unpacked from winmail.dat)."""
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if filename.lower().endswith(".docx"):
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return guessed or "application/octet-stream"


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


def read_pdf(data: bytes, limit: int) -> tuple[str, str | None]:
    """Text of a PDF with pypdf, page by page until `limit` characters; or an error."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError  # noqa: F401 - imported to fail early if pypdf is broken

        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - missing crypto backend or bad key
                return "", f"encrypted PDF ({type(exc).__name__})"
            if not opened:
                return "", "encrypted PDF: needs a password"
        pages: list[str] = []
        total = 0
        for number, page in enumerate(reader.pages):
            if number >= MAX_PDF_PAGES or total >= limit:
                break
            page_text = page.extract_text() or ""
            pages.append(page_text)
            total += len(page_text)
        return _capped(clean_text("\n\n".join(pages)), limit), None
    except Exception as exc:  # noqa: BLE001 - a broken PDF is the attachment's problem, not the mail's
        return "", f"PDF unreadable: {type(exc).__name__}: {str(exc)[:200]}"


def _docx_table_lines(table) -> list[str]:  # noqa: ANN001 - python-docx Table
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return lines


def read_docx(data: bytes, limit: int) -> tuple[str, str | None]:
    """Text of a Word document: paragraphs and table rows (cells joined by " | ") in order."""
    try:
        import docx
        from docx.table import Table

        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        total = 0
        for block in document.iter_inner_content():
            found = _docx_table_lines(block) if isinstance(block, Table) else [block.text]
            lines.extend(found)
            total += sum(len(line) + 1 for line in found)
            if total >= limit:
                break
        return _capped(clean_text("\n".join(lines)), limit), None
    except Exception as exc:  # noqa: BLE001 - a broken document is the attachment's problem
        return "", f"DOCX unreadable: {type(exc).__name__}: {str(exc)[:200]}"


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=MAILBOX_TZ)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=MAILBOX_TZ)
    return None


def _text_of(component, name: str) -> str | None:  # noqa: ANN001 - icalendar component
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


def _organizer(component) -> str | None:  # noqa: ANN001 - icalendar component
    value = component.get("ORGANIZER")
    if value is None:
        return None
    email = str(value).strip()
    if email.lower().startswith("mailto:"):
        email = email[7:]
    common_name = getattr(value, "params", {}).get("CN") if hasattr(value, "params") else None
    common_name = str(common_name).strip().strip('"') if common_name else ""
    if common_name and email:
        return f"{common_name} <{email.lower()}>"
    return common_name or email.lower() or None


def _render_when(value: datetime, all_day: bool) -> str:
    return value.date().isoformat() if all_day else value.isoformat(sep=" ", timespec="minutes")


def read_ics(data: bytes, limit: int) -> tuple[str, CalendarEvent | None, str | None]:
    """The first VEVENT of an iCalendar file as a CalendarEvent and as "Summary: …" lines."""
    try:
        from icalendar import Calendar

        calendar = Calendar.from_ical(data)
        events = calendar.walk("VEVENT")
        if not events:
            return "", None, "no VEVENT in calendar"
        event = events[0]
        start_raw = event.decoded("DTSTART") if "DTSTART" in event else None
        start = _as_datetime(start_raw)
        end = _as_datetime(event.decoded("DTEND")) if "DTEND" in event else None
        if end is None and start is not None and "DURATION" in event:
            try:
                end = start + event.decoded("DURATION")
            except (TypeError, ValueError, OverflowError):
                end = None
        all_day = isinstance(start_raw, date) and not isinstance(start_raw, datetime)
        found = CalendarEvent(
            summary=_text_of(event, "SUMMARY"),
            start=start,
            end=end,
            location=_text_of(event, "LOCATION"),
            organizer=_organizer(event),
            description=_text_of(event, "DESCRIPTION"),
        )
    except Exception as exc:  # noqa: BLE001 - a broken calendar is the attachment's problem
        return "", None, f"calendar unreadable: {type(exc).__name__}: {str(exc)[:200]}"
    lines = []
    if found.summary:
        lines.append(f"Summary: {found.summary}")
    if found.start:
        lines.append(f"Start: {_render_when(found.start, all_day)}")
    if found.end:
        lines.append(f"End: {_render_when(found.end, all_day)}")
    if found.location:
        lines.append(f"Location: {found.location}")
    if found.organizer:
        lines.append(f"Organizer: {found.organizer}")
    if found.description:
        lines.append(f"Description: {found.description}")
    if len(events) > 1:
        lines.append(f"({len(events) - 1} more events in the calendar)")
    return _capped(clean_text("\n".join(lines)), limit), found, None


def read_text(data: bytes, charset: str | None, limit: int, *, what: str) -> tuple[str, list[str]]:
    """A text/plain file decoded (see charset.py) and cleaned."""
    text, defects = decode_bytes(data, charset, what=what)
    return _capped(clean_text(text), limit), defects


def read_html(data: bytes, charset: str | None, limit: int, *, what: str) -> tuple[str, list[str]]:
    """An HTML file as readable text."""
    text, defects = decode_bytes(data, charset if charset is not None else meta_charset(data), what=what)
    readable, found = html_to_text(text[: limit * 4])
    return _capped(readable, limit), defects + found


@dataclass
class TnefContent:
    """What a winmail.dat holds: the body (as text), its HTML, and the files in it."""

    body: str = ""
    html: str | None = None
    files: list[tuple[str, bytes]] = field(default_factory=list)
    error: str | None = None
    defects: list[str] = field(default_factory=list)


def _tnef_text(value: object, codepage: str | None, what: str, defects: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        text, found = decode_bytes(bytes(value).rstrip(b"\x00"), codepage, what=what)
        defects.extend(found)
        return text
    return str(value)


def read_tnef(data: bytes) -> TnefContent:
    """Unpack Outlook's TNEF (winmail.dat) with tnefparse: body text, HTML or RTF body, files."""
    content = TnefContent()
    try:
        from tnefparse import TNEF

        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # noqa: BLE001 - any broken stream is only this attachment's error
        content.error = f"TNEF unreadable: {type(exc).__name__}: {str(exc)[:200]}"
        return content
    codepage = getattr(tnef, "codepage", None)
    body = _tnef_text(tnef.body, codepage, "winmail.dat body", content.defects)
    raw_html = tnef.htmlbody
    # PR_BODY_HTML is in the message's Internet code page (tnefparse decodes it when the stream
    # names one); otherwise trust a <meta> charset, else UTF-8 if valid, else windows-1252.
    html_charset = meta_charset(raw_html) if isinstance(raw_html, bytes | bytearray) else None
    html = _tnef_text(raw_html, html_charset, "winmail.dat HTML", content.defects) or None
    if not body.strip() and html:
        body, found = html_to_text(html)
        content.defects.extend(found)
    if not body.strip() and getattr(tnef, "_rtfbody", None):
        from triage.message.rtf import rtf_to_text

        body, found = rtf_to_text(bytes(tnef._rtfbody))
        content.defects.extend(found)
    content.body = clean_text(body)
    content.html = html
    for index, attachment in enumerate(tnef.attachments, start=1):
        try:
            name = attachment.long_filename()
            if isinstance(name, bytes):
                name, _ = decode_bytes(name.rstrip(b"\x00"), codepage)
            name = str(name or "").strip("\x00").strip() or f"winmail-part-{index}.bin"
            content.files.append((name, bytes(attachment.data or b"")))
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not lose the others
            content.defects.append(f"file {index} in winmail.dat unreadable ({type(exc).__name__})")
    return content
