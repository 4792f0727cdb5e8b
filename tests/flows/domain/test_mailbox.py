"""Sorting the mailbox's messages from their bytes: replies, delivery reports, answers, the rest."""

from __future__ import annotations

from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from flows.domain.mailbox import (
    DsnRecipient,
    message_ids,
    normalize_message_id,
    read_message,
)

CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nMETHOD:{method}\r\n"
    "BEGIN:VEVENT\r\nUID:u-1@beijing.example.org\r\nDTSTAMP:20261128T080000Z\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _mail(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Ken Sato <Ken.Sato@Tokyo.example.org>")
    msg["Subject"] = headers.pop("Subject", "Re: Invitation")
    msg["Message-ID"] = headers.pop("Message_ID", "<m-1@tokyo.example.org>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def _report(
    status_blocks: list[dict[str, str]], returned: str | None, *, as_headers: bool
) -> bytes:
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.example.org"
    report["Subject"] = "Delivery Status Notification (Failure)"
    report["Message-ID"] = "<dsn@mx.example.org>"
    report.attach(MIMEText("Delivery to the following recipient failed permanently.\n"))
    status = MIMEBase("message", "delivery-status")
    blocks = []
    for fields in [{"Reporting-MTA": "dns; mx.example.org"}, *status_blocks]:
        block = Message()
        for name, value in fields.items():
            block[name] = value
        blocks.append(block)
    status.set_payload(blocks)
    report.attach(status)
    if returned is not None:
        headers = f"From: fao@beijing.example.org\r\nMessage-ID: {returned}\r\nSubject: x\r\n"
        if as_headers:
            report.attach(MIMEText(headers, "rfc822-headers"))
    return report.as_bytes()


def test_read_message_calendar_reply_is_a_reply() -> None:
    msg = _mail()
    msg.set_content("Accepted")
    msg.add_alternative(CALENDAR.format(method="REPLY"), subtype="calendar")

    incoming = read_message(msg.as_bytes())

    assert (incoming.kind, incoming.sender, incoming.message_id) == (
        "reply",
        "ken.sato@tokyo.example.org",
        "<m-1@tokyo.example.org>",
    )


def test_read_message_calendar_request_from_a_partner_is_text_not_a_reply() -> None:
    msg = _mail()
    msg.set_content("Please join our festival")
    msg.add_alternative(CALENDAR.format(method="REQUEST"), subtype="calendar")

    assert read_message(msg.as_bytes()).kind == "text"


def test_read_message_delivery_report_with_returned_headers() -> None:
    data = _report(
        [
            {
                "Original-Recipient": "rfc822;Hanako@Tokyo.example.org",
                "Final-Recipient": "rfc822; hanako@mail.tokyo.example.org",
                "Action": "failed",
                "Status": "5.1.1 (user unknown)",
                "Diagnostic-Code": "smtp; 550 5.1.1 user\r\n unknown",
            }
        ],
        "<amity.abc@beijing.example.org>",
        as_headers=True,
    )

    incoming = read_message(data)

    assert (incoming.kind, incoming.returned_message_id, incoming.recipients) == (
        "dsn",
        "<amity.abc@beijing.example.org>",
        (
            DsnRecipient(
                final_recipient="hanako@mail.tokyo.example.org",
                original_recipient="hanako@tokyo.example.org",
                action="failed",
                status="5.1.1",
                reason="550 5.1.1 user unknown",
            ),
        ),
    )
    assert incoming.recipients[0].addresses == (
        "hanako@tokyo.example.org",
        "hanako@mail.tokyo.example.org",
    )


def test_read_message_delivery_report_without_returned_message() -> None:
    data = _report(
        [{"Final-Recipient": "rfc822; a@b.example", "Action": "delayed", "Status": "4.4.1"}],
        None,
        as_headers=False,
    )

    incoming = read_message(data)

    assert (incoming.kind, incoming.returned_message_id) == ("dsn", None)
    assert [(r.action, r.status) for r in incoming.recipients] == [("delayed", "4.4.1")]


def test_read_message_out_of_office_is_other() -> None:
    msg = _mail(Auto_Submitted="auto-replied")
    msg.set_content("I am out of the office until Monday.")

    assert read_message(msg.as_bytes()).kind == "other"


def test_read_message_plain_answer_keeps_its_references() -> None:
    msg = _mail(In_Reply_To="<a@x>", References="<root@x> <a@x>")
    msg.set_content("We will attend.")

    incoming = read_message(msg.as_bytes())

    assert (incoming.kind, incoming.references) == ("text", ("<a@x>", "<root@x>"))


def test_normalize_message_id_forms() -> None:
    assert [
        normalize_message_id(" <a@b> "),
        normalize_message_id("a@b"),
        normalize_message_id(""),
        normalize_message_id(None),
    ] == ["<a@b>", "<a@b>", None, None]
    assert message_ids(None, "<a@b>, <c@d>", "<a@b>") == ("<a@b>", "<c@d>")
