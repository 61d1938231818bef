"""Attachments: PDF, DOCX, iCalendar, TNEF (winmail.dat), text; each keeps its name and its text."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support.mail import lines, parsed
from tests.support.tnef import build_tnef
from triage.message.attachments import kind_of, read_ics, read_tnef
from triage.message.dates import MAILBOX_TZ
from triage.message.envelope import Address
from triage.message.parse import ParseLimits, parse_message
from triage.message.rtf import decompress, rtf_to_text


def test_pdf_attachment_text_is_extracted_with_its_rfc2231_name() -> None:
    message = parsed("pdf_attachment.eml")
    assert message.sender == Address("Erik Holm", "erik.holm@kardiomed.se")
    assert message.new_text == "Hej,\n\nVälkommen till vårt satellitsymposium om förmaksflimmer. Programmet finns i bilagan."
    [pdf] = message.attachments
    assert pdf.filename == "Program förmaksflimmer.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.kind == "pdf"
    assert pdf.error is None
    assert pdf.size > 1000
    # Both pages, in order, with cp1252 characters intact.
    assert lines(pdf.text) == [
        "Program: Satellitsymposium om förmaksflimmer",
        "17.30 Registrering och enklare förtäring",
        "17.45 Nya data om antikoagulation – prof. Maria Olsson",
        "18.30 Diskussion och frågor",
        "19.00 Avslutning",
        "Arrangör: Kardiomed AB. Kostnad för deltagare: 0 €.",
    ]
    assert message.language == "sv"
    assert [s.label for s in message.sections] == [
        "subject", "body", "attachment:Program förmaksflimmer.pdf", "signature",
    ]


def test_encrypted_and_broken_pdfs_are_errors_on_the_attachment_only() -> None:
    message = parsed("pdf_broken.eml")
    assert message.new_text == "Hej,\n\nHär kommer inbjudan till utbildningsdagen om förmaksflimmer i två bilagor."
    encrypted, broken = message.attachments
    assert (encrypted.filename, encrypted.kind, encrypted.text) == ("skyddad.pdf", "pdf", "")
    assert encrypted.error == "encrypted PDF: needs a password"
    # application/octet-stream with a .pdf name is still read as a PDF, and fails as one.
    assert (broken.filename, broken.content_type, broken.kind, broken.text) == (
        "trasig.pdf", "application/octet-stream", "pdf", "")
    assert broken.error is not None and broken.error.startswith("PDF unreadable")
    assert message.language == "sv"


def test_docx_paragraphs_and_table_rows() -> None:
    message = parsed("docx_attachment.eml")
    assert message.sender == Address("Kari Nordmann", "kari.nordmann@nordmed.no")
    assert message.language == "nb"
    assert message.new_text.startswith("Hei,\n\nVedlagt finner dere programmet for fagdagen om hjertesvikt.")
    [document] = message.attachments
    assert document.filename == "Program fagdag.docx"
    assert document.kind == "docx"
    assert document.error is None
    assert lines(document.text) == [
        "Program for fagdag om hjertesvikt",
        "Arrangør: Nordmed AS i samarbeid med medisinsk avdeling.",
        "Målgruppe: leger og sykepleiere ved hjerteposten.",
        "Tid | Innhold",
        "09.00 | Velkommen og innledning",
        "09.15 | Ny behandling av hjertesvikt",
        "Nordmed AS dekker lunsj. Reise og overnatting dekkes ikke.",
    ]


def test_ics_attachment_gives_the_event_and_a_readable_text() -> None:
    message = parsed("ics_attachment.eml")
    assert message.language == "sv"
    [invite] = message.attachments
    assert (invite.filename, invite.content_type, invite.kind, invite.error) == (
        "inbjudan.ics", "application/ics", "ics", None)
    event = invite.calendar
    assert event is not None
    assert event.summary == "Satellitsymposium om förmaksflimmer"
    assert event.start == datetime(2026, 4, 23, 17, 30, tzinfo=MAILBOX_TZ)
    assert event.end == datetime(2026, 4, 23, 19, 0, tzinfo=MAILBOX_TZ)
    assert event.start is not None and event.start.utcoffset() == timedelta(hours=2)
    assert event.location == "Malmö Live, sal C, Malmö"
    assert event.organizer == "Erik Holm <erik.holm@kardiomed.se>"
    assert event.description == "Nya data om antikoagulation med professor Maria Olsson.\nEnklare middag efter symposiet."
    assert lines(invite.text)[:5] == [
        "Summary: Satellitsymposium om förmaksflimmer",
        "Start: 2026-04-23 17:30+02:00",
        "End: 2026-04-23 19:00+02:00",
        "Location: Malmö Live, sal C, Malmö",
        "Organizer: Erik Holm <erik.holm@kardiomed.se>",
    ]


def test_outlook_meeting_request_calendar_alternative_is_an_attachment() -> None:
    message = parsed("ics_outlook_request.eml")
    assert message.new_text.startswith("When: Tuesday, 12 May 2026 13:00-17:00")
    assert message.language == "en"
    [invite] = message.attachments
    assert (invite.filename, invite.content_type, invite.kind) == ("invite.ics", "text/calendar", "ics")
    assert invite.calendar is not None
    assert invite.calendar.summary == "Advisory board on heart failure care"
    assert invite.calendar.start == datetime(2026, 5, 12, 13, 0, tzinfo=MAILBOX_TZ)
    assert invite.calendar.organizer == "Sarah Jones <sarah.jones@cardiogen.com>"


def test_ics_edge_cases() -> None:
    all_day = (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Kongress\r\nDTSTART;VALUE=DATE:20260505\r\n"
               b"DURATION:P2D\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    text, event, error = read_ics(all_day, 1000)
    assert error is None and event is not None
    assert event.start == datetime(2026, 5, 5, tzinfo=MAILBOX_TZ) and event.end == datetime(2026, 5, 7, tzinfo=MAILBOX_TZ)
    assert lines(text) == ["Summary: Kongress", "Start: 2026-05-05", "End: 2026-05-07"]
    assert read_ics(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 1000) == ("", None, "no VEVENT in calendar")
    text, event, error = read_ics(b"not a calendar", 1000)
    assert (text, event) == ("", None) and error is not None


def test_winmail_dat_gives_its_body_and_its_files() -> None:
    message = parsed("tnef_winmail.eml")
    assert message.sender == Address("Lars Ström", "lars.strom@medtechnorden.se")
    assert message.new_text.startswith("Hej,\n\nVälkommen till en utbildningsdag om diabetesteknik")
    assert "Plats: MedTech Norden AB, Hyllie, Malmö" in lines(message.new_text)
    assert lines(message.signature) == ["Med vänlig hälsning", "Lars Ström", "MedTech Norden AB"]
    assert "body taken from winmail.dat" in message.defects
    assert message.language == "sv"
    winmail, program, registration = message.attachments
    assert (winmail.filename, winmail.kind, winmail.error) == ("winmail.dat", "tnef", None)
    assert (program.filename, program.kind, program.error) == ("Program utbildningsdag.pdf", "pdf", None)
    assert lines(program.text) == ["Program: utbildningsdag om diabetesteknik", "09.00 Välkommen", "10.00 Sensorer och pumpar"]
    assert (registration.filename, registration.kind) == ("Anmälan.txt", "text")
    assert registration.text == "Anmälan senast 14 april till lars.strom@medtechnorden.se"


def _mail_with_parts(*parts: tuple[str, str, bytes]) -> bytes:
    """A multipart/mixed mail with a short text body and the given (content type, file name, bytes)."""
    import base64

    out = [b"From: a@b.se\nTo: fb@region.se\nSubject: Test\nDate: Tue, 3 Mar 2026 10:00:00 +0100\n"
           b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"]
    for ctype, name, data in parts:
        out.append(f"--XX\nContent-Type: {ctype}\nContent-Disposition: attachment; filename=\"{name}\"\n"
                   f"Content-Transfer-Encoding: base64\n\n".encode() + base64.encodebytes(data))
    out.append(b"--XX--\n")
    return b"".join(out)


def test_tnef_next_to_a_body_keeps_its_text_on_the_attachment() -> None:
    tnef = build_tnef(subject="x", unicode_body="Text i winmail.dat")
    raw = _mail_with_parts(("application/ms-tnef", "winmail.dat", tnef)).replace(
        b"--XX\n", b"--XX\nContent-Type: text/plain; charset=utf-8\n\nKroppen.\n--XX\n", 1)
    message = parse_message(raw)
    assert message.new_text == "Kroppen."
    [winmail] = message.attachments
    assert winmail.text == "Text i winmail.dat"


def test_tnef_body_forms_and_broken_streams() -> None:
    assert read_tnef(build_tnef(subject="x", body="Gammal attBody, cp1252: åäö")).body == "Gammal attBody, cp1252: åäö"
    html = read_tnef(build_tnef(subject="x", html="<p>Hej <b>från</b> HTML</p>"))
    assert html.body == "Hej från HTML" and html.html == "<p>Hej <b>från</b> HTML</p>"
    rtf = read_tnef(build_tnef(subject="x", rtf=rb"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}\pard V\'e4lkommen\par Rad 2}"))
    assert rtf.body == "Välkommen\nRad 2"
    broken = read_tnef(b"not tnef at all")
    assert broken.error is not None and broken.error.startswith("TNEF unreadable")
    message = parse_message(_mail_with_parts(("application/ms-tnef", "winmail.dat", b"\x78\x9f\x3e\x22\x01\x00garbage")))
    assert message.attachments[0].kind == "tnef"


def test_compressed_rtf_from_the_spec() -> None:
    # The example stream of [MS-OXRTFCP] section 4.1.
    stream = bytes.fromhex("2d0000002b0000004c5a4675f1c5c7a703000a007263706731323542320af32068656c090020627705b06c647d0a800fa0")
    assert decompress(stream) == b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
    assert rtf_to_text(stream) == ("hello world", [])
    text, defects = rtf_to_text(b"\x00" * 20)
    assert text == "" and defects


def test_text_html_and_unknown_attachments() -> None:
    raw = _mail_with_parts(
        ("text/plain; charset=iso-8859-1", "agenda.txt", "Agenda – kl. 12".encode("cp1252")),
        ("text/html", "program.html", b"<h1>Program</h1><ul><li>Lunch</li></ul>"),
        ("application/octet-stream", "bild.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
        ("application/octet-stream", "program.docx", b"PK\x03\x04 broken zip"),
    )
    message = parse_message(raw)
    agenda, program, image, docx = message.attachments
    assert (agenda.kind, agenda.text) == ("text", "Agenda – kl. 12")
    assert (program.kind, lines(program.text)) == ("html", ["Program", "* Lunch"])
    assert (image.kind, image.text, image.error, image.size) == ("other", "", None, 28)
    assert docx.kind == "docx" and docx.error is not None and docx.error.startswith("DOCX unreadable")


def test_rfc2047_file_names_bounces_and_signed_mail() -> None:
    raw = (b"From: a@b.se\nSubject: Test\nMIME-Version: 1.0\nContent-Type: multipart/signed; boundary=S;"
           b" protocol=\"application/pkcs7-signature\"\n\n--S\nContent-Type: multipart/mixed; boundary=M\n\n"
           b"--M\nContent-Type: text/plain; charset=utf-8\n\nSe bilagan.\n"
           b"--M\nContent-Type: text/plain; name=\"=?utf-8?Q?Anm=C3=A4lan.txt?=\"\n"
           b"Content-Disposition: attachment; filename=\"=?utf-8?Q?Anm=C3=A4lan.txt?=\"\n\nSenast 7 april.\n--M--\n"
           b"--S\nContent-Type: application/pkcs7-signature; name=smime.p7s\n\nMIIB\n--S--\n")
    message = parse_message(raw)
    assert message.new_text == "Se bilagan."
    assert [(a.filename, a.text) for a in message.attachments] == [("Anmälan.txt", "Senast 7 april.")]
    bounce = (b"From: MAILER-DAEMON@region.se\nSubject: Undelivered\nMIME-Version: 1.0\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\n\n"
              b"--R\nContent-Type: text/plain\n\nDelivery failed.\n"
              b"--R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.region.se\n\n"
              b"Final-Recipient: rfc822; x@y.se\nStatus: 5.1.1\n--R--\n")
    message = parse_message(bounce)
    assert message.new_text == "Delivery failed."
    [status] = message.attachments
    assert status.kind == "text" and "Status: 5.1.1" in status.text


def test_attachment_text_is_capped() -> None:
    raw = _mail_with_parts(("text/plain", "lang.txt", b"abc " * 5000))
    message = parse_message(raw, limits=ParseLimits(max_attachment_text_chars=100))
    [long_file] = message.attachments
    assert len(long_file.text) == 100
    assert "text of attachment 'lang.txt' cut at 100 characters" in message.defects


def test_kind_of() -> None:
    assert kind_of("application/octet-stream", "Inbjudan.PDF", b"") == "pdf"
    assert kind_of("application/octet-stream", "x.bin", b"%PDF-1.7") == "pdf"
    assert kind_of("text/plain", "möte.ics", b"") == "ics"
    assert kind_of("application/vnd.ms-tnef", "x", b"") == "tnef"
    assert kind_of("application/octet-stream", "winmail.dat", b"") == "tnef"
    assert kind_of("image/jpeg", "logo.jpg", b"") == "other"


# --- zip-based attachments are unpacked within the limits ---------------------------------------

def _docx(paragraphs: list[str], *, picture: bool = False) -> bytes:
    import io
    import struct
    import zlib

    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if picture:  # a real 64x64 PNG: the image part is kept in the package but never unpacked
        row = b"\x00" + b"\xff\x00\x00" * 64
        chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                    + struct.pack(">I", zlib.crc32(kind + data)))
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
               + chunk(b"IDAT", zlib.compress(row * 64)) + chunk(b"IEND", b""))
        document.add_picture(io.BytesIO(png))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_docx_with_a_picture_is_read_within_the_limits() -> None:
    data = _docx(["Program", "Lunch kl. 12.00"], picture=True)
    [document] = parse_message(_mail_with_parts((DOCX_TYPE, "program.docx", data))).attachments
    assert (document.text, document.error) == ("Program\nLunch kl. 12.00", None)


def test_a_docx_over_the_unpacked_size_is_refused_before_it_is_inflated() -> None:
    data = _docx(["Rad " * 50_000])  # document.xml is about 200 kB
    [document] = parse_message(_mail_with_parts((DOCX_TYPE, "stor.docx", data)),
                               limits=ParseLimits(max_unpacked_bytes=100_000)).attachments
    assert document.text == ""
    assert document.error is not None and document.error.startswith(
        "DOCX not read: DOCX: unpacks to more than 100000 bytes (max_unpacked_bytes); 'word/document.xml' alone declares")


def test_a_docx_member_compressed_beyond_the_ratio_is_refused() -> None:
    data = _docx(["A" * 3_000_000])  # 3 MB of one letter: far beyond 100:1
    [document] = parse_message(_mail_with_parts((DOCX_TYPE, "a.docx", data))).attachments
    assert document.text == ""
    assert document.error is not None and document.error.startswith("DOCX not read: DOCX: 'word/document.xml' compresses")
    assert document.error.endswith("more than 100:1 (max_compression_ratio)")


def test_a_docx_that_understates_its_sizes_is_stopped_at_the_declared_size() -> None:
    """Declared sizes are not trusted: the member is read in chunks, and past what it declared
    the zip reader stops and the checksum fails; nothing beyond is inflated."""
    import struct

    data = bytearray(_docx(["Inbjudan " * 400_000]))  # document.xml about 3.6 MB, 1.3 MB when declared small
    name = b"word/document.xml"
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_length = struct.unpack_from("<H", data, at + (26 if signature == b"PK\x03\x04" else 28))[0]
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at:name_at + name_length] == name:
                struct.pack_into("<I", data, at + size_at, 1000)
            at += 4
    [document] = parse_message(_mail_with_parts((DOCX_TYPE, "liten.docx", bytes(data)))).attachments
    assert document.text == ""
    assert document.error is not None and "Bad CRC-32" in document.error
