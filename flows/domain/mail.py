"""iMIP invitation e-mails (RFC 6047) and plain digest e-mails, built as bytes.

Written by a small MIME writer for the few shapes amity sends (:class:`_Part`): the bytes
``email.generator.BytesGenerator`` writes for the same ``email.mime`` objects under the
``compat32`` policy (the test suite compares them on hundreds of random messages), with
headers folded by that policy and bodies encoded by ``email.quoprimime`` and ``base64``, at
about half the cost of building and walking the objects (bench/bench_mail.py). compat32 does
not protect headers by itself, so every header value passes through :func:`_header_text` or
:func:`_address`, which drop line breaks and control characters and RFC 2047-encode
non-ASCII text: a name or subject typed with a CR/LF or a colon can never add a header.

Output is deterministic: the date and Message-ID are passed in and the MIME boundaries are
derived from the Message-ID, so the same inputs give the same bytes (golden-file tested).

An HTML body given as a fragment (the letter's ``<article>``, a notice's paragraphs) goes out
as a complete document for mail clients (:func:`mail_document`): CSS inline on each element
(Gmail and Outlook drop ``<style>`` blocks or parts of them), a 640 px container, the
fragment's ``lang``/``dir`` on ``<html>``. :func:`render_notice` renders the update and
cancellation notices from templates/mail/*.j2 through the gettext catalogs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email import quoprimime
from email.header import Header
from email.message import Message
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

from flows.domain import i18n

__all__ = [
    "Attachment",
    "MailError",
    "build_imip_message",
    "build_plain_message",
    "mail_document",
    "make_message_id",
    "render_notice",
    "sanitize_header_text",
    "strip_bidi_controls",
]

#: (file name, MIME type, content); the type may carry parameters: "text/calendar; method=PUBLISH"
Attachment = tuple[str, str, bytes]

IMIP_METHODS = frozenset(
    {"PUBLISH", "REQUEST", "REPLY", "ADD", "CANCEL", "REFRESH", "COUNTER", "DECLINECOUNTER"}
)
LINESEP = "\r\n"

# C0/C1 controls, DEL and the Unicode line/paragraph separators: any of them could end a
# header line in some parser.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# Directional marks, embeddings, overrides and isolates (and the Arabic letter mark): invisible
# in a subject line, they reorder or hide text in clients' message lists.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Headers the builders own; letting ``headers=`` set them would allow a second From or a
# Content-Type that contradicts the structure.
_RESERVED = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
    }
)


class MailError(ValueError):
    """An input that cannot become a valid e-mail; ``field`` names the offending argument."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def make_message_id(*parts: object, domain: str) -> str:
    """Return ``<amity.HASH@domain>``, the same for the same parts.

    Pass what identifies the message (event UID, contact id, purpose, sequence…), so that
    a re-run produces the same Message-ID and the Maildir transport can recognise it.
    """
    domain = _check_domain(domain, "domain")
    joined = "\x1f".join(str(part) for part in parts)
    digest = hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]
    return f"<amity.{digest}@{domain}>"


def strip_bidi_controls(value: str) -> str:
    """``value`` without bidi control characters (U+200E/F, U+202A–E, U+2066–9, U+061C)."""
    return _BIDI_CONTROLS.sub("", value)


def sanitize_header_text(value: str) -> str:
    """Collapse line breaks, control characters and runs of white space to single spaces."""
    return " ".join(_CONTROLS.sub(" ", value).split())


def build_imip_message(
    *,
    from_addr: str,
    from_name: str,
    to_addr: str,
    to_name: str,
    subject: str,
    text: str,
    html: str | None,
    ics: bytes,
    method: str,
    attachments: Sequence[Attachment],
    message_id: str,
    date: datetime,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """Return an RFC 6047 iMIP message as CRLF bytes.

    Structure: multipart/mixed → [multipart/alternative → text/plain, text/html,
    text/calendar; method=…; charset=UTF-8] followed by ``attachments`` (the PDF letter).
    Without attachments the multipart/alternative is the whole message. ``html=None``
    leaves the HTML part out (a reply, for instance). The calendar's METHOD must match
    ``method``, as RFC 6047 §2.4 requires.
    """
    method = method.upper()
    if method not in IMIP_METHODS:
        raise MailError("method", f"{method!r} is not an iTIP method")
    if f"{LINESEP}METHOD:{method}{LINESEP}".encode("ascii") not in ics:
        raise MailError("ics", f"the calendar has no METHOD:{method} line")
    message_id = _check_message_id(message_id)

    calendar = _base64_part(f'text/calendar; method="{method}"; charset="UTF-8"', ics)
    body = _alternative(message_id, text, _as_document(html, subject), calendar)
    return _finish(
        body,
        attachments,
        from_addr=from_addr,
        from_name=from_name,
        to_addr=to_addr,
        to_name=to_name,
        subject=subject,
        message_id=message_id,
        date=date,
        headers=headers,
    )


def build_plain_message(
    *,
    from_addr: str,
    from_name: str,
    to_addr: str,
    to_name: str,
    subject: str,
    text: str,
    html: str | None,
    attachments: Sequence[Attachment],
    message_id: str,
    date: datetime,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """Return an ordinary e-mail (a digest, a notice) as CRLF bytes.

    multipart/mixed → [multipart/alternative → text/plain, text/html] then ``attachments``
    (e.g. anniversary .ics files as ``("tokyo-45.ics", "text/calendar", data)``). No
    text/calendar body part, so calendar clients offer the files rather than an RSVP.
    """
    message_id = _check_message_id(message_id)
    body = _alternative(message_id, text, _as_document(html, subject), None)
    return _finish(
        body,
        attachments,
        from_addr=from_addr,
        from_name=from_name,
        to_addr=to_addr,
        to_name=to_name,
        subject=subject,
        message_id=message_id,
        date=date,
        headers=headers,
    )


def _as_document(html: str | None, subject: str) -> str | None:
    if html is None or _DOCUMENT.match(html):
        return html
    return mail_document(html, title=strip_bidi_controls(sanitize_header_text(subject)))


_DOCUMENT = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype|html)[\s>]", re.IGNORECASE | re.DOTALL)
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)((?:\s[^<>]*?)?)(\s*/?)>")
_ATTR = re.compile(r'\s([a-zA-Z-]+)="([^"]*)"')

_FONTS = {
    "zh": "'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif",
    "ja": "'Noto Sans CJK JP','Hiragino Sans','Yu Gothic','Meiryo',sans-serif",
    "ko": "'Noto Sans CJK KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif",
    "ar": "'Noto Naskh Arabic','Noto Sans Arabic',Tahoma,Arial,sans-serif",
}
_DEFAULT_FONT = "Arial,Helvetica,sans-serif"
_INK, _MUTED, _ACCENT, _RULE = "#1f2937", "#555555", "#7a1f1f", "#d1d5db"


def _styles(tag: str, classes: set[str], *, start: str, end: str, cjk: bool = False) -> str:
    """Inline CSS for one element of a mail body (the letter's classes, then plain tags)."""
    if tag == "article":
        if "translation" in classes:
            return f"display:block;margin:32px 0 0;padding:24px 0 0;border-top:1px solid {_RULE};"
        return "display:block;margin:0;"
    if tag == "header":
        return (
            f"display:block;text-align:center;border-bottom:2px solid {_ACCENT};"
            "padding:0 0 12px;margin:0 0 20px;"
        )
    if tag == "h1":
        return f"font-size:19px;line-height:1.35;font-weight:bold;text-align:center;margin:20px 0;color:{_INK};"
    if tag == "p":
        if "office" in classes:
            return f"font-size:18px;font-weight:bold;text-align:center;margin:0;color:{_INK};"
        if "address" in classes:
            return f"font-size:13px;text-align:center;margin:4px 0 0;color:{_MUTED};"
        if "version" in classes:
            return f"font-size:12px;letter-spacing:2px;text-align:center;margin:0 0 16px;color:{_MUTED};"
        if "reference" in classes:
            return f"font-size:14px;text-align:{start};margin:0;color:{_MUTED};"
        if "date" in classes:
            return f"font-size:14px;text-align:{end};margin:0 0 16px;color:{_MUTED};"
        if "addressee" in classes:
            return f"text-align:{start};margin:16px 0 20px;"
        if "signature" in classes:  # Chinese, Japanese, Korean letters sign at the right
            return f"text-align:{end if cjk else start};margin:28px 0 0;"
        return "margin:0 0 14px;"
    if tag == "span" and "line" in classes:
        align = end if "right" in classes else start
        indent = "text-indent:2em;" if "indent" in classes else ""
        return f"display:block;text-align:{align};{indent}"
    if tag == "table":
        return "width:100%;border-collapse:collapse;font-size:14px;margin:0 0 16px;"
    if tag in ("th", "td"):
        nowrap = "white-space:nowrap;" if classes & {"time", "nowrap"} else ""
        weight = "font-weight:bold;background-color:#f3f4f6;" if tag == "th" else ""
        return (
            f"border-bottom:1px solid {_RULE};padding:6px 8px;text-align:{start};"
            f"vertical-align:top;{weight}{nowrap}"
        )
    if tag in ("ul", "ol"):
        return f"margin:0 0 14px;padding-{start}:24px;"
    if tag == "li":
        return "margin:0 0 4px;"
    if tag == "a":
        return "color:#1f5f8b;"
    return ""


def _inline_css(fragment: str, *, start: str, end: str, cjk: bool) -> str:
    return _START_TAG.sub(
        lambda m: _restyled(m.group(0), m.group(1), m.group(2), m.group(3), start, end, cjk),
        fragment,
    )


@lru_cache(maxsize=4096)
def _restyled(tag: str, name: str, attrs: str, close: str, start: str, end: str, cjk: bool) -> str:
    """One start tag with its inline style (the same tags recur in every letter of a run)."""
    found = dict(_ATTR.findall(attrs))
    classes = set(found.get("class", "").split())
    style = _styles(name.lower(), classes, start=start, end=end, cjk=cjk)
    if not style:
        return tag
    if "style" in found:  # the template's own style wins: it comes after ours
        attrs = attrs.replace(f'style="{found["style"]}"', f'style="{style}{found["style"]}"', 1)
    else:
        attrs = f'{attrs} style="{style}"'
    return f"<{name}{attrs}{close}>"


def mail_document(fragment: str, *, title: str) -> str:
    """A complete HTML e-mail around an HTML fragment, styled inline for mail clients.

    The fragment's first ``lang`` and ``dir`` attributes (the letter's language) become the
    document's; text aligns to the start of that direction. Outlook for Windows ignores
    ``max-width``: a fixed-width table in a conditional comment holds the column there.
    """
    lang_m = re.search(r'\slang="([^"]*)"', fragment)
    dir_m = re.search(r'\sdir="(ltr|rtl)"', fragment)
    lang = lang_m.group(1) if lang_m else "en"
    direction = dir_m.group(1) if dir_m else i18n.text_direction(lang)
    start, end = ("right", "left") if direction == "rtl" else ("left", "right")
    font = _FONTS.get(i18n.primary(lang), _DEFAULT_FONT)
    cjk = i18n.primary(lang) in ("zh", "ja", "ko")
    body = _inline_css(fragment.strip("\n"), start=start, end=end, cjk=cjk)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}" dir="{direction}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light">\n'
        f"<title>{escape(title)}</title>\n"
        "</head>\n"
        '<body style="margin:0;padding:0;background-color:#f3f4f6;">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="border-collapse:collapse;background-color:#f3f4f6;">\n'
        '<tr><td align="center" style="padding:24px 12px;">\n'
        '<!--[if mso]><table role="presentation" width="640" cellpadding="0" cellspacing="0" '
        'border="0"><tr><td><![endif]-->\n'
        f'<div dir="{direction}" style="max-width:640px;margin:0 auto;background-color:#ffffff;'
        f"border:1px solid #e5e7eb;border-radius:6px;padding:32px 36px;font-family:{font};"
        f'font-size:15px;line-height:1.6;color:{_INK};text-align:{start};">\n'
        f"{body}\n"
        "</div>\n"
        "<!--[if mso]></td></tr></table><![endif]-->\n"
        "</td></tr>\n"
        "</table>\n"
        "</body>\n"
        "</html>\n"
    )


#: templates/mail: the notices' templates (``update.txt.j2`` …) and their catalogs' languages
MAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
NOTICE_KINDS = ("update", "cancel")
NOTICE_LANGUAGES = ("en", "zh", "ja")


def render_notice(kind: str, lang: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML fragment of an update or cancellation notice in ``lang``.

    ``context``: ``name``, ``title``, ``lines`` (what changed), ``when`` (see
    ``i18n.format_span``), ``place``, ``office``. A language without a notice catalog gets
    English (the calendar's own texts say what changed in any case).
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice {kind!r}; use one of {NOTICE_KINDS}")
    lang = i18n.primary(lang)
    lang = lang if lang in NOTICE_LANGUAGES else "en"
    env = i18n.make_environment(MAIL_TEMPLATES)
    values = {**context, "lang": lang, "dir": i18n.text_direction(lang)}
    return (
        env.get_template(f"{kind}.subject.txt.j2").render(values).strip(),
        env.get_template(f"{kind}.txt.j2").render(values),
        env.get_template(f"{kind}.html.j2").render(values),
    )


class _Encoded(NamedTuple):
    """A non-ASCII header value (with an address after it for From/To), folded at output."""

    text: str
    addr: str | None = None


#: a header value: ASCII text as is, or non-ASCII text to RFC 2047-encode
_Value = str | _Encoded


@dataclass(frozen=True)
class _Part:
    """One MIME entity: its headers (ASCII text, or `_Encoded` text folded at output) and
    either a body (wire bytes, CRLF) or sub-parts under a boundary."""

    headers: list[tuple[str, _Value]]
    body: bytes = b""
    parts: tuple[_Part, ...] = ()
    boundary: str = ""

    def to_bytes(self) -> bytes:
        """The entity as ``email.generator.BytesGenerator`` writes it (compat32, CRLF)."""
        head = b"".join(_fold(name, value) for name, value in self.headers) + b"\r\n"
        if not self.parts:
            return head + self.body
        dash = f"--{self.boundary}".encode("ascii")
        return b"".join(
            (
                head,
                dash + b"\r\n",
                (b"\r\n" + dash + b"\r\n").join(part.to_bytes() for part in self.parts),
                b"\r\n" + dash + b"--\r\n",
            )
        )


def _multipart(subtype: str, boundary: str, parts: Sequence[_Part]) -> _Part:
    return _Part(
        [("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')],
        parts=tuple(parts),
        boundary=boundary,
    )


def _alternative(message_id: str, text: str, html: str | None, calendar: _Part | None) -> _Part:
    parts = [_text_part(text, "plain")]
    if html is not None:
        parts.append(_text_part(html, "html"))
    if calendar is not None:
        parts.append(calendar)
    if len(parts) == 1:
        return parts[0]
    return _multipart("alternative", _boundary(message_id, "alternative"), parts)


#: what ends a line for the quoted-printable encoder: CR, LF and CRLF (every other control
#: character is encoded, so it ends no line)
_LINE_END = re.compile(r"\r\n|\r|\n")


def _quoted_printable(text: str) -> str:
    """``quoprimime.body_encode`` of the UTF-8 bytes (lines end with LF), a line at a time.

    The encoder treats each line on its own, so the same line encodes the same way in every
    message: the paragraphs letters in one language share are encoded once per run.
    """
    body = text.encode("utf-8").decode("latin-1")
    return "\n".join(_quoted_printable_line(line) for line in _LINE_END.split(body))


@lru_cache(maxsize=8192)
def _quoted_printable_line(line: str) -> str:
    return quoprimime.body_encode(line)


def _text_part(text: str, subtype: str) -> _Part:
    # Quoted-printable (of the UTF-8 bytes, as email.charset does) keeps text and HTML
    # bodies readable in .eml files and golden diffs.
    encoded = _quoted_printable(text)
    return _Part(
        [
            ("Content-Type", f'text/{subtype}; charset="utf-8"'),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ],
        # the encoder ends its lines with LF (CR, LF and CRLF in the text each end a line);
        # CRLF on the wire
        body=encoded.replace("\n", "\r\n").encode("ascii"),
    )


def _base64_part(content_type: str, data: bytes, disposition: str | None = None) -> _Part:
    # base64 keeps a calendar's CRLF line ends (and a PDF) byte-exact through any mail hop
    headers: list[tuple[str, _Value]] = [
        ("Content-Type", content_type),
        ("Content-Transfer-Encoding", "base64"),
    ]
    if disposition is not None:
        headers.append(("Content-Disposition", disposition))
    return _Part(headers, body=base64.encodebytes(data).replace(b"\n", b"\r\n"))


def _finish(
    body: _Part,
    attachments: Sequence[Attachment],
    *,
    from_addr: str,
    from_name: str,
    to_addr: str,
    to_name: str,
    subject: str,
    message_id: str,
    date: datetime,
    headers: Mapping[str, str] | None,
) -> bytes:
    if date.tzinfo is None or date.utcoffset() is None:
        raise MailError("date", "must be timezone-aware")
    if attachments:
        parts = [body]
        parts += [
            _attachment(attachment, f"attachments[{index}]")
            for index, attachment in enumerate(attachments)
        ]
        message = _multipart("mixed", _boundary(message_id, "mixed"), parts)
    else:
        message = body
    # The top reads From, To, Subject like any mail client's output; MIME-Version and
    # Content-Type come last (a lone text part keeps its transfer encoding first).
    content_type = [(n, v) for n, v in message.headers if n == "Content-Type"]
    top: list[tuple[str, _Value]] = [
        *((n, v) for n, v in message.headers if n != "Content-Type"),
        ("From", _address(from_name, from_addr, "from")),
        ("To", _address(to_name, to_addr, "to")),
        # The one place subjects are encoded: no direction marks, whichever template made them.
        ("Subject", _header_text(strip_bidi_controls(subject))),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
    ]
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(name):
            raise MailError("headers", f"{name!r} is not a valid header name")
        if name.lower() in _RESERVED:
            raise MailError("headers", f"{name} is set by the builder")
        top.append((name, _header_text(value)))
    top += [("MIME-Version", "1.0"), *content_type]
    return replace(message, headers=top).to_bytes()


class _FastFold(Compat32):
    """compat32, minus the Header round trip for a short ASCII line (the common case).

    Folding such a line is the identity, so the bytes are the same; it saves ~15 Header
    objects per message.
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= 78
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_POLICY = _FastFold(max_line_length=78, linesep=LINESEP)


def _fold(name: str, value: _Value) -> bytes:
    """One header line, folded as the compat32 generator folds it."""
    if isinstance(value, _Encoded):
        return _folded_header(name, value.text, value.addr)
    return _POLICY.fold_binary(name, value)


@lru_cache(maxsize=512)
def _folded_header(name: str, text: str, addr: str | None) -> bytes:
    # RFC 2047 words of a non-ASCII name or subject: the office's name and an event's
    # subject repeat in every message of a run, so each is encoded once.
    header = Header(text, "utf-8", header_name=name)
    if addr is not None:
        header.append(f"<{addr}>", "us-ascii")
    return _POLICY.fold_binary(name, header)  # type: ignore[arg-type]


def _attachment(attachment: Attachment, field: str) -> _Part:
    filename, mimetype, data = attachment
    maintype, subtype, params = _parse_mimetype(mimetype, field)
    if maintype == "text" and "charset" not in params:
        params["charset"] = "UTF-8"
    name = _attachment_filename(filename)
    # Non-ASCII names go out as RFC 2231 parameters (filename*=utf-8''…), which every
    # current mail client decodes; the email package writes the parameters.
    name_charset = None if name.isascii() else "utf-8"
    part = Message()
    part["Content-Type"] = f"{maintype}/{subtype}"
    for key, value in params.items():
        part.set_param(key, value)
    part.set_param("name", name, charset=name_charset)
    disposition_name: str | tuple[str, str, str] = (
        name if name_charset is None else (name_charset, "", name)
    )
    part.add_header("Content-Disposition", "attachment", filename=disposition_name)
    return _base64_part(part["Content-Type"], data, part["Content-Disposition"])


def _parse_mimetype(mimetype: str, field: str) -> tuple[str, str, dict[str, str]]:
    head, *raw_params = (piece.strip() for piece in mimetype.split(";"))
    maintype, _, subtype = head.lower().partition("/")
    if not _TOKEN.match(maintype) or not _TOKEN.match(subtype):
        raise MailError(field, f"{mimetype!r} is not a MIME type")
    if maintype in ("message", "multipart"):  # RFC 2046: never base64, as attachments go
        raise MailError(field, f"{mimetype!r} cannot be attached as a file")
    params: dict[str, str] = {}
    for raw in raw_params:
        key, sep, value = raw.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"')
        if not sep or not _TOKEN.match(key) or not _TOKEN.match(value):
            raise MailError(field, f"bad MIME parameter {raw!r}")
        params[key] = value
    return maintype, subtype, params


def _attachment_filename(filename: str) -> str:
    # Only the last path component, without controls: mail clients save under this name.
    name = sanitize_header_text(re.split(r"[\\/]", filename)[-1]).strip(". ")
    return name or "attachment"


def _header_text(value: str) -> _Value:
    clean = sanitize_header_text(value)
    if clean.isascii():
        return clean
    return _Encoded(clean)


def _address(name: str, addr: str, field: str) -> _Value:
    addr = _check_address(addr, f"{field}_addr")
    display = sanitize_header_text(name)
    if not display:
        return addr
    if display.isascii():
        # formataddr quotes a name holding specials such as ':' ',' '"' or '\'.
        return formataddr((display, addr))
    return _Encoded(display, addr)


def _check_address(addr: str, field: str) -> str:
    if addr != addr.strip() or _CONTROLS.search(addr):
        raise MailError(field, f"{addr!r} contains white space or control characters")
    local, at, domain = addr.rpartition("@")
    if not at or not _LOCAL_PART.match(local):
        raise MailError(field, f"{addr!r} is not an e-mail address amity can send to")
    return f"{local}@{_check_domain(domain, field)}"


def _check_domain(domain: str, field: str) -> str:
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError as exc:
        raise MailError(field, f"{domain!r} is not a valid domain") from exc
    if not _DOMAIN.match(ascii_domain):
        raise MailError(field, f"{domain!r} is not a valid domain")
    return ascii_domain


def _check_message_id(message_id: str) -> str:
    bare = message_id.strip()
    if bare.startswith("<") and bare.endswith(">"):
        bare = bare[1:-1]
    left, at, right = bare.partition("@")
    if (
        not at
        or not left
        or not right
        or not bare.isascii()
        or any(ch in bare for ch in ' <>"\\,;:()[]')
        or _CONTROLS.search(bare)
    ):
        raise MailError("message_id", f"{message_id!r} is not a Message-ID")
    return f"<{bare}>"


def _boundary(message_id: str, level: str) -> str:
    # "=_" cannot occur in base64 or quoted-printable text, so no body can contain it.
    digest = hashlib.sha256(f"{message_id}|{level}".encode()).hexdigest()[:32]
    return f"=_amity_{level[:3]}_{digest}"
