"""Invitation e-mails: build and Maildir delivery per message, against bare baselines.

    .venv/bin/python bench/bench_mail.py [--n 10000] [--compare 1000]

Prints per-message milliseconds and ratios, all measured in this process:
  * build with flows.domain.mail (email.mime + compat32) vs the same message built with
    email.message.EmailMessage (the modern API; run on --compare messages, it is slower);
  * Maildir delivery (MaildirTransport, each durability mode) vs a bare open()/write();
  * the whole build + deliver loop over --n messages.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
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


def modern_build(n: int) -> bytes:
    """The same message with EmailMessage, the way its documentation builds one."""
    message = EmailMessage(policy=SMTP)
    message["From"] = Address("北京市人民政府外事办公室", addr_spec=SENDER)
    message["To"] = Address("田中 太郎", addr_spec=f"contact{n}@metro.tokyo.example.jp")
    message["Subject"] = "邀请函：第十二届北京—东京城市论坛"
    message["Date"] = DATE
    message["Message-ID"] = make_message_id(
        "event-12", n, "invitation", domain="beijing.example.org"
    )
    message.set_content(TEXT, cte="quoted-printable")
    message.add_alternative(HTML, subtype="html", cte="quoted-printable")
    message.add_alternative(
        ICS, maintype="text", subtype="calendar", params={"method": "REQUEST", "charset": "UTF-8"}
    )
    message.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="invitation-tanaka-taro.pdf"
    )
    return message.as_bytes()


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

    sample, _ = amity_build(0)
    print(f"message size: amity {len(sample):,} B, EmailMessage {len(modern_build(0)):,} B")

    # Build: the modern API is the baseline the design note quotes (~7 ms per message).
    compare = min(args.compare, args.n)
    modern, amity = interleaved_ms(compare, modern_build, amity_build)
    print(f"build, {compare:,} messages:")
    print(f"  EmailMessage (baseline)    {modern:7.3f} ms/message")
    print(f"  build_imip_message         {amity:7.3f} ms/message   ratio {amity / modern:.2f}")

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
