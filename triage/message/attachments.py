"""Readable text out of attached files: PDF, DOCX, iCalendar, plain text, HTML and TNEF.

Each reader takes the file's bytes and returns its text (and, for iCalendar, the event) or an
error string; none raises. A broken or encrypted file is an attachment with an `error`, never a
failed message. Attached mails (message/rfc822) are parsed by parse.py, which owns the recursion.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import zipfile
from contextlib import contextmanager
from contextvars import ContextVar
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
#: Defaults of the unpacking bounds; ParseLimits (config `[limits]`) passes the site's values.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
#: Members in one zip-based attachment at most: listing the archive costs memory per member.
MAX_ARCHIVE_MEMBERS = 5_000
#: Members smaller than this are not held to the compression ratio: a small file of blanks or
#: repeated markup compresses far better than 100:1 and costs nothing to unpack.
RATIO_FREE_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
#: Members python-docx parses as XML; the others (images, embedded files) are never read for text.
_XML_SUFFIXES = (".xml", ".rels")

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


#: The unpacking budget left for the PDF being read in this thread or task; None outside read_pdf.
_PDF_BUDGET: ContextVar[list[int] | None] = ContextVar("triage_pdf_budget", default=None)
#: pypdf's per-filter output limits, each lowered to the budget left before a stream is decoded.
_PYPDF_OUTPUT_LIMITS = ("zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length",
                        "brotli_maximum_output_length", "jbig2_maximum_output_length",
                        "array_based_stream_maximum_output_length", "stream_decoding_work_maximum_length")


def _install_pdf_budget() -> None:
    """Route pypdf's one stream decoder through the budget of the PDF being read.

    pypdf bounds each stream (75 MB by default) but not a document: a 700 kB PDF of ten pages,
    each a FlateDecode stream of 70 MB of blanks, costs gigabytes of work and keeps every page
    decoded. pypdf looks `filters.decode_stream_data` up on every decode, so wrapping it bounds
    the sum; outside read_pdf (no budget set) the wrapper only calls through.
    """
    from pypdf import apply_configuration, filters
    from pypdf.errors import LimitReachedError

    original = getattr(filters, "decode_stream_data", None)
    if original is None or getattr(original, "triage_budgeted", False):
        return

    def decode_stream_data(stream):  # noqa: ANN001, ANN202 - pypdf's own signature
        budget = _PDF_BUDGET.get()
        if budget is None:
            return original(stream)
        if budget[0] <= 0:
            raise LimitReachedError("unpacking budget of the PDF used up")
        with apply_configuration(**{name: budget[0] for name in _PYPDF_OUTPUT_LIMITS}):
            data = original(stream)
        budget[0] -= len(data)
        if budget[0] < 0:
            raise LimitReachedError("unpacking budget of the PDF used up")
        return data

    decode_stream_data.triage_budgeted = True  # type: ignore[attr-defined]
    filters.decode_stream_data = decode_stream_data


@contextmanager
def _pdf_budget(max_unpacked_bytes: int):  # noqa: ANN202 - a context manager
    from pypdf import apply_configuration

    _install_pdf_budget()
    token = _PDF_BUDGET.set([max_unpacked_bytes])
    try:
        # Also every single stream, should the wrapper ever be missing (a pypdf that renamed it).
        with apply_configuration(maximum_declared_stream_length=max_unpacked_bytes,
                                 image_maximum_buffer_size=max_unpacked_bytes,
                                 **{name: max_unpacked_bytes for name in _PYPDF_OUTPUT_LIMITS}):
            yield
    finally:
        _PDF_BUDGET.reset(token)


def read_pdf(data: bytes, limit: int, *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
             max_ratio: int = MAX_COMPRESSION_RATIO) -> tuple[str, str | None]:
    """Text of a PDF with pypdf, page by page until `limit` characters; or an error.

    All the streams of one PDF together unpack to `max_unpacked_bytes` at most; a PDF that needs
    more keeps the text of the pages read until then, and says so in its error. (`max_ratio` is
    not used: a PDF declares no unpacked sizes to compare, so the budget is the bound.)
    """
    del max_ratio
    pages: list[str] = []
    try:
        from pypdf import PdfReader
        from pypdf.errors import LimitReachedError

        with _pdf_budget(max_unpacked_bytes):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")
                except Exception as exc:  # noqa: BLE001 - missing crypto backend or bad key
                    return "", f"encrypted PDF ({type(exc).__name__})"
                if not opened:
                    return "", "encrypted PDF: needs a password"
            total = 0
            for number, page in enumerate(reader.pages):
                if number >= MAX_PDF_PAGES or total >= limit:
                    break
                try:
                    page_text = page.extract_text() or ""
                except LimitReachedError as exc:
                    read = f"{number} of {len(reader.pages)} pages read" if pages else "no page read"
                    return (_capped(clean_text("\n\n".join(pages)), limit),
                            f"PDF not read in full ({read}): unpacks to more than {max_unpacked_bytes} bytes "
                            f"(max_unpacked_bytes) [{str(exc)[:120]}]")
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


class ArchiveRefused(ValueError):
    """A zip-based attachment that would unpack to more than the limits allow."""


def _unpack_bounded(data: bytes, *, max_unpacked_bytes: int, max_ratio: int, what: str) -> bytes:
    """The archive repacked without compression, its XML members read within the bounds and its
    other members emptied; raises ArchiveRefused (or zipfile's errors) when it is not safe.

    The declared sizes are checked first, before anything is inflated; then every member that
    is read is read in chunks and counted, so an archive that lies about its sizes is stopped at
    the limit all the same. Nothing downstream inflates the untrusted data again.
    """
    if data.count(b"PK\x01\x02") > MAX_ARCHIVE_MEMBERS:  # central directory entries, at most
        raise ArchiveRefused(f"{what}: more than {MAX_ARCHIVE_MEMBERS} members")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        declared = 0
        for member in members:
            declared += member.file_size
            if declared > max_unpacked_bytes:
                raise ArchiveRefused(f"{what}: unpacks to more than {max_unpacked_bytes} bytes "
                                     f"(max_unpacked_bytes); {member.filename!r} alone declares {member.file_size}")
            if member.file_size > RATIO_FREE_BYTES and member.file_size > max_ratio * max(member.compress_size, 1):
                raise ArchiveRefused(f"{what}: {member.filename!r} compresses "
                                     f"{member.file_size // max(member.compress_size, 1)}:1, more than "
                                     f"{max_ratio}:1 (max_compression_ratio)")
        out = io.BytesIO()
        unpacked = 0
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as repacked:
            for member in members:
                if member.is_dir():
                    continue
                if not member.filename.lower().endswith(_XML_SUFFIXES):
                    repacked.writestr(member.filename, b"")
                    continue
                with archive.open(member) as stream, repacked.open(member.filename, "w") as target:
                    read = 0
                    while chunk := stream.read(_CHUNK):
                        read += len(chunk)
                        unpacked += len(chunk)
                        if unpacked > max_unpacked_bytes:
                            raise ArchiveRefused(f"{what}: unpacks to more than {max_unpacked_bytes} bytes "
                                                 f"(max_unpacked_bytes) at {member.filename!r}")
                        if read > RATIO_FREE_BYTES and read > max_ratio * max(member.compress_size, 1):
                            raise ArchiveRefused(f"{what}: {member.filename!r} compresses more than "
                                                 f"{max_ratio}:1 (max_compression_ratio)")
                        target.write(chunk)
        return out.getvalue()


def read_docx(data: bytes, limit: int, *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
              max_ratio: int = MAX_COMPRESSION_RATIO) -> tuple[str, str | None]:
    """Text of a Word document: paragraphs and table rows (cells joined by " | ") in order.

    A DOCX is a zip; python-docx would inflate every part whole, so the archive is first
    unpacked within `max_unpacked_bytes` and `max_ratio` (a zip bomb is this attachment's error).
    """
    try:
        package = _unpack_bounded(data, max_unpacked_bytes=max_unpacked_bytes, max_ratio=max_ratio, what="DOCX")
    except ArchiveRefused as exc:
        return "", f"DOCX not read: {exc}"
    except Exception as exc:  # noqa: BLE001 - a broken zip is the attachment's problem
        return "", f"DOCX unreadable: {type(exc).__name__}: {str(exc)[:200]}"
    try:
        import docx
        from docx.table import Table

        document = docx.Document(io.BytesIO(package))
        del package
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
