"""iMIP e-mails: MIME structure, header safety, determinism and one golden message."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message

import pytest

from flows.domain.i18n import format_span
from flows.domain.mail import (
    MailError,
    build_imip_message,
    build_plain_message,
    mail_document,
    make_message_id,
    render_notice,
    sanitize_header_text,
    strip_bidi_controls,
)
from tests.goldens import golden

DATE = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
MESSAGE_ID = "<amity.0f1e2d3c4b5a69788796a5b4c3d2e1f0@beijing.example.org>"
FAKE_PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ICS = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//amity//invitations//EN\r\n"
    "METHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:inv-12-tokyo-0001@beijing.example.org\r\n"
    "DTSTAMP:20250301T093000Z\r\n"
    "SEQUENCE:0\r\n"
    "DTSTART:20250916T010000Z\r\n"
    "DTEND:20250918T090000Z\r\n"
    "SUMMARY:第12回北京・東京都市シンポジウム\r\n"
    "LOCATION:Beijing Hotel\\, Dongcheng District\r\n"
    "ORGANIZER;CN=Foreign Affairs Office:mailto:fao@beijing.example.org\r\n"
    "ATTENDEE;CN=Tanaka Taro;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:\r\n"
    " mailto:tanaka@metro.tokyo.example.jp\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
).encode()
TEXT = (
    "田中太郎様\n\n"
    "第12回北京・東京都市シンポジウムにご招待申し上げます。\n"
    "Dear Mr Tanaka, please find the invitation letter attached.\n"
    ".a line starting with a dot, and one long enough that quoted-printable has to wrap it\n"
)
HTML = (
    '<!doctype html>\n<html lang="ja"><body>\n'
    "<p>田中太郎様</p>\n<p>第12回北京・東京都市シンポジウムにご招待申し上げます。</p>\n"
    "</body></html>\n"
)


def build(**overrides: object) -> bytes:
    args: dict[str, object] = {
        "from_addr": "fao@beijing.example.org",
        "from_name": "北京市人民政府外事办公室",
        "to_addr": "tanaka@metro.tokyo.example.jp",
        "to_name": "田中 太郎",
        "subject": "ご招待：第12回北京・東京都市シンポジウム",
        "text": TEXT,
        "html": HTML,
        "ics": ICS,
        "method": "REQUEST",
        "attachments": [("invitation-tanaka-taro.pdf", "application/pdf", FAKE_PDF)],
        "message_id": MESSAGE_ID,
        "date": DATE,
    }
    args.update(overrides)
    return build_imip_message(**args)  # type: ignore[arg-type]


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def decoded(value: str) -> str:
    # The legacy decoder: CPython's modern address parser adds spaces between adjacent
    # encoded-words in display names (gh-128110), which RFC 2047 says to ignore.
    return str(make_header(decode_header(value)))


def structure(message: Message) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def head(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_imip_message_golden() -> None:
    golden("mail/invitation.eml", build(headers={"Auto-Submitted": "auto-generated"}))


def test_imip_message_structure_is_rfc6047() -> None:
    message = parse(build())

    assert structure(message) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/pdf",
    ]
    calendar = list(message.walk())[4]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_param("charset") == "UTF-8"
    assert calendar.get_payload(decode=True) == ICS


def test_imip_message_parts_round_trip() -> None:
    parts = list(email.message_from_bytes(build(), policy=email.policy.default).walk())

    # Text travels in its canonical form, CRLF line ends (RFC 2046 §4.1.1).
    assert parts[2].get_content() == TEXT.replace("\n", "\r\n")
    assert parts[3].get_content() == HTML.replace("\n", "\r\n")
    assert parts[5].get_content() == FAKE_PDF
    assert parts[5].get_filename() == "invitation-tanaka-taro.pdf"
    assert parts[5].get_content_disposition() == "attachment"


def test_imip_message_headers_decode_to_inputs() -> None:
    message = parse(build())

    assert decoded(message["From"]) == "北京市人民政府外事办公室 <fao@beijing.example.org>"
    assert decoded(message["To"]) == "田中 太郎 <tanaka@metro.tokyo.example.jp>"
    assert decoded(message["Subject"]) == "ご招待：第12回北京・東京都市シンポジウム"
    assert message["Date"] == "Sat, 01 Mar 2025 09:30:00 +0000"
    assert message["Message-ID"] == MESSAGE_ID


def test_imip_message_header_block_is_ascii_and_crlf() -> None:
    raw = build()

    assert head(raw).isascii()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_imip_message_same_inputs_same_bytes() -> None:
    assert build() == build()


def test_imip_message_boundaries_follow_message_id() -> None:
    other = "<amity.ffff@beijing.example.org>"

    first = parse(build()).get_boundary()
    second = parse(build(message_id=other)).get_boundary()

    assert first != second
    assert parse(build(message_id=other)).get_boundary() == second


@pytest.mark.parametrize(
    ("field", "hostile"),
    [
        ("to_name", "Tanaka\r\nBcc: victim@evil.example"),
        ("to_name", "Tanaka\nBcc: victim@evil.example"),
        ("to_name", "Mayor: of Tokyo\r\n\r\n<script>body</script>"),
        ("to_name", "田中\r\nBcc: victim@evil.example"),
        ("from_name", "Office\rReply-To: evil@evil.example"),
        ("subject", "Invitation\r\nBcc: victim@evil.example"),
        ("subject", "Invitation\u2028Bcc: victim@evil.example"),
        ("subject", "招待\nContent-Type: text/html"),
        ("subject", "Invitation\x00\x0bBcc: victim@evil.example"),
    ],
)
def test_imip_message_hostile_text_adds_no_header(field: str, hostile: str) -> None:
    message = parse(build(**{field: hostile}))

    assert message.keys() == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
    ]
    header = {"to_name": "To", "from_name": "From", "subject": "Subject"}[field]
    assert sanitize_header_text(hostile) in decoded(message[header])


def test_imip_message_name_with_colon_and_quotes_is_quoted() -> None:
    message = parse(build(to_name='Smith, John "Jack": Mayor'))

    assert message["To"] == '"Smith, John \\"Jack\\": Mayor" <tanaka@metro.tokyo.example.jp>'
    assert email.utils.parseaddr(message["To"]) == (
        'Smith, John "Jack": Mayor',
        "tanaka@metro.tokyo.example.jp",
    )


def test_imip_message_long_arabic_name_round_trips() -> None:
    name = "محمد بن عبد الله بن عبد العزيز آل سعود، رئيس بلدية منطقة الرياض الكبرى"

    raw = build(to_name=name, to_addr="mayor@riyadh.example.sa")

    assert decoded(parse(raw)["To"]) == f"{name} <mayor@riyadh.example.sa>"
    assert max(len(line) for line in head(raw).split(b"\r\n")) <= 78


def test_sanitize_header_text_collapses_breaks_and_controls() -> None:
    assert sanitize_header_text(" A\r\n\tB\u2028C\x00D\x85E  ") == "A B C D E"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to_addr", "tanaka@metro.tokyo.example.jp\r\nBcc: victim@evil.example"),
        ("to_addr", "Tanaka <tanaka@metro.tokyo.example.jp>"),
        ("to_addr", "no-at-sign"),
        ("to_addr", " tanaka@metro.tokyo.example.jp"),
        ("to_addr", "tanaka@-bad-.example"),
        ("from_addr", "fao@beijing..example.org"),
    ],
)
def test_imip_message_invalid_address_names_field(field: str, value: str) -> None:
    with pytest.raises(MailError) as caught:
        build(**{field: value})

    assert caught.value.field == field


def test_imip_message_idn_domain_is_punycoded() -> None:
    message = parse(build(to_addr="info@münchen.example"))

    assert message["To"].endswith("<info@xn--mnchen-3ya.example>")


def test_imip_message_method_must_match_calendar() -> None:
    with pytest.raises(MailError) as caught:
        build(method="CANCEL")

    assert caught.value.field == "ics"


def test_imip_message_unknown_method_is_refused() -> None:
    with pytest.raises(MailError) as caught:
        build(method="INVITE")

    assert caught.value.field == "method"


def test_imip_message_naive_date_is_refused() -> None:
    with pytest.raises(MailError) as caught:
        build(date=datetime(2025, 3, 1, 9, 30))

    assert caught.value.field == "date"


def test_imip_message_bad_message_id_is_refused() -> None:
    with pytest.raises(MailError) as caught:
        build(message_id="<a\r\nBcc: x@y>")

    assert caught.value.field == "message_id"


def test_imip_message_extra_headers_are_sanitized() -> None:
    message = parse(build(headers={"X-Amity-Event": "12th\r\nBcc: victim@evil.example"}))

    assert message["X-Amity-Event"] == "12th Bcc: victim@evil.example"
    assert message["Bcc"] is None


@pytest.mark.parametrize("name", ["Bcc", "content-type", "From", "X Bad", "X:Bad"])
def test_imip_message_reserved_or_bad_header_name_is_refused(name: str) -> None:
    with pytest.raises(MailError) as caught:
        build(headers={name: "x"})

    assert caught.value.field == "headers"


def test_imip_message_attachment_filename_keeps_no_path() -> None:
    raw = build(attachments=[("../../etc/passwd\r\n.pdf", "application/pdf", FAKE_PDF)])

    assert list(parse(raw).walk())[5].get_filename() == "passwd .pdf"


@pytest.mark.parametrize("mimetype", ["message/rfc822", "multipart/mixed; boundary=x"])
def test_imip_message_refuses_a_message_or_multipart_attachment(mimetype: str) -> None:
    # RFC 2046 allows neither type a base64 body, which is how attachments are written
    with pytest.raises(MailError) as caught:
        build(attachments=[("forwarded.eml", mimetype, b"Subject: x\r\n\r\nbody\r\n")])

    assert caught.value.field == "attachments[0]"


def test_imip_message_non_ascii_attachment_name_round_trips() -> None:
    raw = build(attachments=[("招待状-東京都.pdf", "application/pdf", FAKE_PDF)])

    part = list(email.message_from_bytes(raw, policy=email.policy.default).walk())[5]
    assert part.get_filename() == "招待状-東京都.pdf"


def test_imip_message_without_attachments_is_alternative() -> None:
    message = parse(build(attachments=[], html=None))

    assert structure(message) == ["multipart/alternative", "text/plain", "text/calendar"]


def test_plain_message_carries_ics_attachments() -> None:
    anniversary = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"

    raw = build_plain_message(
        from_addr="fao@beijing.example.org",
        from_name="Foreign Affairs Office",
        to_addr="protocol@beijing.example.org",
        to_name="Protocol Department",
        subject="Coming anniversaries: Tokyo 45th, Paris 10th",
        text="Two anniversaries are coming.\n",
        html="<p>Two anniversaries are coming.</p>\n",
        attachments=[
            ("tokyo-45.ics", "text/calendar", anniversary),
            ("paris-10.ics", "text/calendar; method=PUBLISH", anniversary),
        ],
        message_id="<amity.digest@beijing.example.org>",
        date=DATE,
    )

    message = parse(raw)
    parts = list(message.walk())
    assert structure(message) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "text/calendar",
    ]
    assert [p.get_filename() for p in parts[4:]] == ["tokyo-45.ics", "paris-10.ics"]
    assert [p.get_param("charset") for p in parts[4:]] == ["UTF-8", "UTF-8"]
    assert parts[5].get_param("method") == "PUBLISH"
    assert parts[4].get_payload(decode=True) == anniversary


def test_make_message_id_is_stable_and_distinct() -> None:
    first = make_message_id("event-12", 7, "invitation", domain="beijing.example.org")

    assert first == make_message_id("event-12", 7, "invitation", domain="beijing.example.org")
    assert first != make_message_id("event-12", 7, "reminder", domain="beijing.example.org")
    assert first.startswith("<amity.")
    assert first.endswith("@beijing.example.org>")


def test_make_message_id_parts_do_not_run_together() -> None:
    assert make_message_id("ab", "c", domain="x.example") != make_message_id(
        "a", "bc", domain="x.example"
    )


@pytest.mark.parametrize(
    "value",
    ["a  b", " lead", "trail ", "a\tb", "", "a;b,c", 'text/plain; charset="utf-8"']
    + ["x" * n for n in range(60, 80)]
    + [("word " * 20).strip()],
)
def test_fast_fold_policy_matches_compat32(value: str) -> None:
    # The builder skips compat32's Header round trip for short ASCII lines; the bytes
    # must not change.
    from email.policy import compat32

    from flows.domain.mail import _POLICY

    slow = compat32.clone(max_line_length=78, linesep="\r\n")
    fast = _POLICY.clone(linesep="\r\n")

    assert fast.fold_binary("Subject", value) == slow.fold_binary("Subject", value)


# --- the HTML part, subjects, notices ------------------------------------------------------

FRAGMENT = (
    '<article class="letter" lang="ar" dir="rtl">\n'
    '<header class="letterhead">\n<p class="office">مكتب الشؤون الخارجية</p>\n'
    '<p class="address">2 Zhengyi Road, Beijing</p>\n</header>\n'
    '<p class="date">١٤ مارس ٢٠٢٩</p>\n<h1>دعوة</h1>\n'
    '<p class="salutation">سعادة العمدة،</p>\n<p>يسرّنا دعوتكم إلى <bdi>Beijing Hotel</bdi>.</p>\n'
    '<table class="schedule">\n<thead><tr><th>التاريخ</th><th>الوقت</th></tr></thead>\n'
    '<tbody><tr><td class="nowrap">١٤ مارس</td><td class="time">09:00–11:00</td></tr></tbody>\n'
    "</table>\n"
    '<p class="closing"><span class="line">مع أطيب التحيات،</span></p>\n'
    '<p class="signature">المدير العام</p>\n'
    "</article>"
)


def _html_part(raw: bytes) -> str:
    part = next(p for p in parse(raw).walk() if p.get_content_type() == "text/html")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def test_html_fragment_goes_out_as_a_styled_document_golden() -> None:
    html = _html_part(build(html=FRAGMENT, subject="دعوة: المؤتمر"))

    golden("mail/letter.ar.html", html)


def test_html_fragment_document_keeps_language_and_direction() -> None:
    html = mail_document(FRAGMENT, title="دعوة")

    assert html.startswith('<!DOCTYPE html>\n<html lang="ar" dir="rtl">')
    assert "<style" not in html and "max-width:640px" in html
    # every element of the letter carries its style inline; text starts on the right in RTL
    assert '<p class="signature" style="text-align:right;' in html
    assert (
        '<td class="time" style="border-bottom:1px solid #d1d5db;padding:6px 8px;text-align:right;'
        in html
    )
    assert "<bdi>Beijing Hotel</bdi>" in html


def test_html_document_is_sent_as_given() -> None:
    assert _html_part(build()).replace("\r\n", "\n") == HTML


@pytest.mark.parametrize(
    "mark",
    [
        "\u200e",
        "\u200f",
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u061c",
    ],
)
def test_subject_loses_bidi_controls(mark: str) -> None:
    raw = build(subject=f"{mark}دعوة: {mark}Beijing{mark} 2029")

    assert decoded(parse(raw)["Subject"]) == "دعوة: Beijing 2029"
    assert strip_bidi_controls(f"a{mark}b") == "ab"


NOTICE = {
    "name": "田中 太郎",
    "title": "第12回北京・東京都市シンポジウム",
    "lines": ["会場：北京飯店 → 北京国際会議センター"],
    "place": "北京国際会議センター",
    "office": "北京市人民政府外事弁公室",
}


@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
@pytest.mark.parametrize("kind", ["update", "cancel"])
def test_render_notice_matches_golden(kind: str, lang: str) -> None:
    start = datetime(2029, 9, 16, 1, 0, tzinfo=UTC)
    when = format_span(start, start.replace(hour=9), lang, tz="Asia/Tokyo")

    subject, text, html = render_notice(kind, lang, {**NOTICE, "when": when})

    golden(f"mail/{kind}.{lang}.txt", f"Subject: {subject}\n\n{text}")
    golden(f"mail/{kind}.{lang}.html", html)
    assert ":00:00" not in subject + text + html  # times without seconds


def test_render_notice_unknown_language_gets_english() -> None:
    subject, _, html = render_notice("cancel", "fr", {**NOTICE, "when": "x"})

    assert subject.startswith("Cancelled: ") and '<div lang="en" dir="ltr">' in html


# --- the writer against the standard library's --------------------------------------------


def _stdlib_bytes(*, ics: bytes | None, method: str = "REQUEST", **kw: object) -> bytes:
    """The same message built with email.mime objects and written by BytesGenerator
    (compat32, CRLF): the reference the builder's own MIME writer must match byte for byte."""
    import base64
    import io
    from email import charset
    from email.generator import BytesGenerator
    from email.header import Header
    from email.mime.base import MIMEBase
    from email.mime.multipart import MIMEMultipart
    from email.mime.nonmultipart import MIMENonMultipart
    from email.utils import format_datetime, formataddr

    from flows.domain import mail

    qp = charset.Charset("utf-8")
    qp.body_encoding = charset.QP
    binaries: list[bytes] = []

    def base64_part(part: MIMEBase, data: bytes) -> MIMEBase:
        part["Content-Transfer-Encoding"] = "base64"
        part.set_payload(f"\x00slot{len(binaries)}\x00\n")
        binaries.append(data)
        return part

    def text_part(text: str, subtype: str) -> MIMEBase:
        part = MIMENonMultipart("text", subtype, charset="utf-8")
        part.set_payload(text, qp)
        return part

    def address(name: str, addr: str, header: str) -> str | Header:
        addr = mail._check_address(addr, header)
        display = sanitize_header_text(name)
        if not display:
            return addr
        if display.isascii():
            return formataddr((display, addr))
        encoded = Header(display, "utf-8", header_name=header)
        encoded.append(f"<{addr}>", "us-ascii")
        return encoded

    def header_text(value: str, name: str) -> str | Header:
        clean = sanitize_header_text(value)
        return clean if clean.isascii() else Header(clean, "utf-8", header_name=name)

    message_id = str(kw["message_id"])
    subject = str(kw["subject"])
    html = kw["html"]
    parts: list[MIMEBase] = [text_part(str(kw["text"]), "plain")]
    if html is not None:
        parts.append(text_part(mail._as_document(str(html), subject) or "", "html"))
    if ics is not None:
        calendar = MIMENonMultipart("text", "calendar", method=method, charset="UTF-8")
        parts.append(base64_part(calendar, ics))
    body: MIMEBase = parts[0]
    if len(parts) > 1:
        body = MIMEMultipart("alternative", boundary=mail._boundary(message_id, "alternative"))
        for part in parts:
            body.attach(part)
    attachments = list(kw["attachments"])  # type: ignore[call-overload]
    message = body
    if attachments:
        message = MIMEMultipart("mixed", boundary=mail._boundary(message_id, "mixed"))
        message.attach(body)
        for filename, mimetype, data in attachments:
            maintype, subtype, params = mail._parse_mimetype(mimetype, "attachment")
            if maintype == "text" and "charset" not in params:
                params["charset"] = "UTF-8"
            name = mail._attachment_filename(filename)
            name_charset = None if name.isascii() else "utf-8"
            part = MIMEBase(maintype, subtype)
            for key, value in params.items():
                part.set_param(key, value)
            part.set_param("name", name, charset=name_charset)
            base64_part(part, data)
            part.add_header(
                "Content-Disposition",
                "attachment",
                filename=name if name_charset is None else (name_charset, "", name),
            )
            message.attach(part)
    for part in message.walk():
        del part["MIME-Version"]
    content_type = message["Content-Type"]
    del message["Content-Type"]
    message["From"] = address(str(kw["from_name"]), str(kw["from_addr"]), "From")  # type: ignore[assignment]
    message["To"] = address(str(kw["to_name"]), str(kw["to_addr"]), "To")  # type: ignore[assignment]
    message["Subject"] = header_text(strip_bidi_controls(subject), "Subject")  # type: ignore[assignment]
    message["Date"] = format_datetime(kw["date"])  # type: ignore[arg-type]
    message["Message-ID"] = message_id
    for name, value in dict(kw.get("headers") or {}).items():  # type: ignore[call-overload]
        message[name] = header_text(value, name)  # type: ignore[assignment]
    message["MIME-Version"] = "1.0"
    message["Content-Type"] = content_type
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=mail._POLICY).flatten(message, linesep="\r\n")
    raw = buffer.getvalue()
    for index, data in enumerate(binaries):
        encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
        raw = raw.replace(f"\x00slot{index}\x00\r\n".encode(), encoded, 1)
    return raw


_PIECES = [
    "a", "Z", " ", "  ", "\t", "=", ":", ",", '"', "\\", "é", "—", "北京", "東京", "서울",
    "مرحبا", "Здравствуйте", "\n", "\r\n", "\r", ".", "\u200f", "\x00", "=?utf-8?q?", "x" * 80,
    " \n", "\t\n", "😀", "From ", "--=_amity",
]  # fmt: skip


def test_message_writer_matches_the_standard_library_byte_for_byte() -> None:
    """400 messages of random text (line ends of every kind, long lines, trailing white
    space, every script, controls), names, subjects, HTML or none, attachments or none."""
    import random

    rnd = random.Random(20261129)

    def text(most: int) -> str:
        return "".join(rnd.choice(_PIECES) for _ in range(rnd.randint(0, most)))

    for n in range(400):
        kw: dict[str, object] = {
            "from_addr": "fao@beijing.example.org",
            "from_name": text(8),
            "to_addr": rnd.choice(
                ["a@b.example", "x.y+z@例え.jp", "tanaka@metro.tokyo.example.jp"]
            ),
            "to_name": text(10),
            "subject": text(15),
            "text": text(60),
            "html": rnd.choice([None, text(60), FRAGMENT, "<!DOCTYPE html><html><p>x</p></html>"]),
            "attachments": rnd.choice(
                [
                    [],
                    [("letter.pdf", "application/pdf", rnd.randbytes(rnd.randint(0, 300)))],
                    [
                        (
                            text(12) + ".ics",
                            "text/calendar; method=PUBLISH",
                            b"BEGIN:VCALENDAR\r\n",
                        ),
                        ("a/b\\" + text(5), "application/octet-stream", b""),
                    ],
                ]
            ),
            "message_id": f"<amity.{n}@beijing.example.org>",
            "date": DATE,
            "headers": rnd.choice([None, {"X-Amity-Event": text(10)}, {"X-Long": "y" * 100}]),
        }
        if n % 2:
            built = build_imip_message(ics=ICS, method="REQUEST", **kw)  # type: ignore[arg-type]
            assert built == _stdlib_bytes(ics=ICS, **kw), f"message {n}: {kw}"
        else:
            built = build_plain_message(**kw)  # type: ignore[arg-type]
            assert built == _stdlib_bytes(ics=None, **kw), f"message {n}: {kw}"


def test_quoted_printable_by_line_equals_the_standard_encoder() -> None:
    """Bodies are encoded a line at a time with a cache; the bytes are the encoder's, for
    every kind of line end, long lines, '=' at the fold, trailing white space and controls
    (which end no line), and for a line met again after its first encoding."""
    import random
    from email import quoprimime

    from flows.domain.mail import _quoted_printable

    rnd = random.Random(29112026)
    pieces = [*_PIECES, "\x0b", "\x0c", "\x85", "\x1c", "\u2028", "=" * 3, "a" * 74 + "="]
    seen: list[str] = []
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))
        if seen and rnd.random() < 0.3:  # lines of an earlier body (hits of the cache)
            text = rnd.choice(seen) + rnd.choice(["\n", "\r\n", ""]) + text
        seen.append(text)
        expected = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"))
        assert _quoted_printable(text) == expected, repr(text)
