"""Invitation e-mails: build and Maildir delivery per message, against bare baselines.

    .venv/bin/python bench/bench_mail.py [--n 10000] [--compare 1000]

Prints per-message milliseconds and ratios, all measured in this process:
  * build with flows.domain.mail vs the same bytes built straight with the legacy email
    API (compat32 Message objects, no checks: the fastest plain-stdlib way; the modern
    EmailMessage API is ~3x slower still, so it would flatter amity); both are run on
    --compare messages, and must give byte-identical messages;
  * Maildir delivery (MaildirTransport, each durability mode) vs a bare open()/write();
  * the whole build + deliver loop over --n messages.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.utils import format_datetime
from pathlib import Path

from flows.domain.mail import build_imip_message, make_message_id
from flows.outbound.transport import Durability, MaildirTransport

DATE = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
SENDER = "fao@beijing.example.org"
# A letter-sized body, an .ics with a VTIMEZONE and a PDF the size of a subset-font letter.
TEXT = (
    "尊敬的田中太郎先生：\n\n"
    + "谨代表北京市人民政府外事办公室，诚挚邀请您出席第十二届北京—东京城市论坛。\n" * 12
    + "Dear Mr Tanaka, we are honoured to invite you to the 12th Beijing–Tokyo Urban Symposium.\n"
    * 8
)
HTML = (
    '<!doctype html>\n<html lang="zh"><body>\n'
    + "".join(f"<p>{line}</p>\n" for line in TEXT.splitlines() if line)
    + "</body></html>\n"
)
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//amity//invitations//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\nBEGIN:STANDARD\r\nDTSTART:19910915T010000\r\n"
    "TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0800\r\nTZNAME:CST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:inv-12-tokyo-0001@beijing.example.org\r\nDTSTAMP:20250301T093000Z\r\n"
    "SEQUENCE:0\r\nDTSTART;TZID=Asia/Shanghai:20250916T090000\r\n"
    "DTEND;TZID=Asia/Shanghai:20250918T170000\r\nSUMMARY:第十二届北京—东京城市论坛\r\n"
    "LOCATION:Beijing Hotel\\, 33 East Chang'an Avenue\\, Dongcheng District\r\n"
    + "DESCRIPTION:"
    + "Urban construction\\, administration and population management. " * 6
    + "\r\nORGANIZER;CN=Foreign Affairs Office:mailto:fao@beijing.example.org\r\n"
    "ATTENDEE;CN=Tanaka Taro;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:\r\n"
    " tanaka@metro.tokyo.example.jp\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
PDF = random.Random(3).randbytes(30_000)
_QP_UTF8 = charset.Charset("utf-8")
_QP_UTF8.body_encoding = charset.QP
_POLICY = compat32


def amity_build(n: int) -> tuple[bytes, str]:
    message_id = make_message_id("event-12", n, "invitation", domain="beijing.example.org")
    return (
        build_imip_message(
            from_addr=SENDER,
            from_name="北京市人民政府外事办公室",
            to_addr=f"contact{n}@metro.tokyo.example.jp",
            to_name="田中 太郎",
            subject="邀请函：第十二届北京—东京城市论坛",
            text=TEXT,
            html=HTML,
            ics=ICS,
            method="REQUEST",
            attachments=[("invitation-tanaka-taro.pdf", "application/pdf", PDF)],
            message_id=message_id,
            date=DATE,
        ),
        message_id,
    )


def _boundary(message_id: str, level: str) -> str:
    # the same boundaries as amity's (derived from the Message-ID): the bytes are compared
    digest = hashlib.sha256(f"{message_id}|{level}".encode()).hexdigest()[:32]
    return f"=_amity_{level[:3]}_{digest}"


def _qp_text(text: str, subtype: str) -> Message:
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(_QP_UTF8.body_encode(text))
    return part


def _base64(content_type: str, data: bytes, disposition: str | None = None) -> Message:
    part = Message()
    part["Content-Type"] = content_type
    part["Content-Transfer-Encoding"] = "base64"
    if disposition:
        part["Content-Disposition"] = disposition
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    return part


def mime_build(n: int) -> bytes:
    """The same bytes built straight with the legacy email API (compat32 Message objects,
    headers in their final order, no checks): the fastest plain-stdlib way to them."""
    message_id = make_message_id("event-12", n, "invitation", domain="beijing.example.org")
    alternative = Message()
    alternative["Content-Type"] = "multipart/alternative"
    alternative.set_boundary(_boundary(message_id, "alternative"))
    alternative.set_payload(
        [
            _qp_text(TEXT, "plain"),
            _qp_text(HTML, "html"),
            _base64('text/calendar; method="REQUEST"; charset="UTF-8"', ICS),
        ]
    )
    pdf = _base64(
        'application/pdf; name="invitation-tanaka-taro.pdf"',
        PDF,
        'attachment; filename="invitation-tanaka-taro.pdf"',
    )
    sender = Header("北京市人民政府外事办公室", "utf-8", header_name="From")
    sender.append(f"<{SENDER}>", "us-ascii")
    to = Header("田中 太郎", "utf-8", header_name="To")
    to.append(f"<contact{n}@metro.tokyo.example.jp>", "us-ascii")
    subject = Header("邀请函：第十二届北京—东京城市论坛", "utf-8", header_name="Subject")
    message = Message()
    # compat32 folds Header objects itself; typeshed only knows the str form
    message["From"] = sender  # type: ignore[assignment]
    message["To"] = to  # type: ignore[assignment]
    message["Subject"] = subject  # type: ignore[assignment]
    message["Date"] = format_datetime(DATE)
    message["Message-ID"] = message_id
    message["MIME-Version"] = "1.0"
    message["Content-Type"] = "multipart/mixed"
    message.set_boundary(_boundary(message_id, "mixed"))
    message.set_payload([alternative, pdf])
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=_POLICY).flatten(message, linesep="\r\n")
    return buffer.getvalue()


def per_message_ms(count: int, action: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for n in range(count):
        action(n)
    return (time.perf_counter() - start) * 1000 / count


def interleaved_ms(
    count: int, first: Callable[[int], object], second: Callable[[int], object]
) -> tuple[float, float]:
    """Per-message ms of two builders run in alternating rounds of 50, so that load from
    other processes on the machine falls on both alike."""
    totals = [0.0, 0.0]
    for start in range(0, count, 50):
        for slot, action in enumerate((first, second)):
            began = time.perf_counter()
            for n in range(start, min(start + 50, count)):
                action(n)
            totals[slot] += time.perf_counter() - began
    return totals[0] * 1000 / count, totals[1] * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages built and delivered")
    parser.add_argument("--compare", type=int, default=1_000, help="messages for EmailMessage")
    args = parser.parse_args()

    compare = min(args.compare, args.n)
    for n in range(compare):
        if amity_build(n)[0] != mime_build(n):
            raise SystemExit(f"message {n}: the baseline's bytes differ from amity's")
    print(f"message size: {len(mime_build(0)):,} B, the same bytes from both builders")

    legacy, amity = interleaved_ms(compare, mime_build, amity_build)
    print(f"build, {compare:,} messages:")
    print(f"  legacy email API (baseline) {legacy:7.3f} ms/message")
    print(f"  build_imip_message          {amity:7.3f} ms/message   ratio {amity / legacy:.2f}")

    messages = [amity_build(n) for n in range(min(args.n, 2_000))]
    root = Path(tempfile.mkdtemp(prefix="amity-bench-mail-"))
    try:
        # Delivery of already built messages; the bare baseline writes the same bytes once.
        count = len(messages)
        bare_dir = root / "bare"
        bare_dir.mkdir()

        def bare_write(n: int) -> None:
            with open(bare_dir / str(n), "wb") as handle:
                handle.write(messages[n][0])

        bare = per_message_ms(count, bare_write)
        print(f"deliver, {count:,} messages:")
        print(f"  open()+write() (baseline)  {bare:7.3f} ms/message")
        modes: tuple[Durability, ...] = ("off", "batch", "each")
        for durability in modes:
            transport = MaildirTransport(root / f"maildir-{durability}", durability=durability)
            transport.open()

            def deliver(n: int, transport: MaildirTransport = transport) -> None:
                raw, message_id = messages[n]
                transport.send(
                    raw, sender=SENDER, recipients=["x@x.example"], message_id=message_id
                )
                if n % 100 == 99:  # a chunk of 100, as the flow would confirm it
                    transport.sync()

            ms = per_message_ms(count, deliver)
            label = f"Maildir durability={durability}"
            print(f"  {label:<26} {ms:7.3f} ms/message   ratio {ms / bare:.2f}")

        # The whole loop, as the invitation flow runs it: chunks of 100 synced at the end.
        for durability in modes[1:]:
            outbox = MaildirTransport(root / f"loop-{durability}", durability=durability)
            outbox.open()

            def loop(n: int, outbox: MaildirTransport = outbox) -> None:
                raw, message_id = amity_build(n)
                outbox.send(raw, sender=SENDER, recipients=["x@x.example"], message_id=message_id)
                if n % 100 == 99:
                    outbox.sync()

            total = per_message_ms(args.n, loop)
            outbox.close()
            files = len(os.listdir(root / f"loop-{durability}" / "new"))
            print(f"build + Maildir ({durability}), {args.n:,} messages: ", end="")
            print(f"{total:.3f} ms/message, {1000 / total:,.0f} messages/s, {files:,} files")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
