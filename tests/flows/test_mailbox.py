"""The office's mailbox read over IMAP (a real Dovecot), on both databases.

Messages are built the way their senders build them (stdlib email + icalendar for the
calendar client, a multipart/report for the mail server's bounce) and delivered with IMAP
APPEND; amity's own builders are not used.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import select

from config.settings import get_settings
from db.events import apply_spec, find_event, read_spec
from db.mailbox import event_mailbox, failing_addresses, failing_contacts
from db.models import Bounce, Contact, Invitation, MailboxMessage, OutboxMessage
from db.session import session_scope
from flows.domain.anniversaries import FailingAddress
from flows.mailbox import FaultInjected, fetch_new_messages
from tests.conftest import reference_data
from tests.flows.conftest import invite_tokyo
from tests.imap_server import ImapFolder

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
SENT = NOW - dt.timedelta(days=2)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
OFFICE = "fao@beijing.example.org"
KEN = "ken.sato@tokyo.example.org"
HANAKO = "hanako.yamada@tokyo.example.org"
KEYWORD = "$AmityProcessed"


@pytest.fixture
def invited(amity_db: str) -> dict[str, dict[str, str]]:
    """Ken and Hanako invited to the symposium, each invitation sent (a ledger row)."""
    sent: dict[str, dict[str, str]] = {}
    rows = invite_tokyo(created=SENT, applied=NOW)
    with session_scope() as session:
        for contact_id, email, uid, event_id in rows:
            message_id = f"<amity.{contact_id}.invite@beijing.example.org>"
            session.add(
                OutboxMessage(
                    purpose="invitation",
                    recipient=email,
                    occurrence=f"{uid}:1:invite",
                    message_id=message_id,
                    state="sent",
                    claim_token="test",
                    claimed_dt=SENT,
                    sent_dt=SENT,
                    attempts=1,
                    event_id=event_id,
                )
            )
            sent[email] = {"uid": uid, "message_id": message_id}
    return sent


# ----------------------------------------------------------------- what senders send


def calendar_reply(
    *, uid: str, attendee: str, partstat: str, sender: str, message_id: str, minutes: int = 0
) -> bytes:
    """A METHOD:REPLY e-mail as a calendar client writes it (text + text/calendar)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Example Corp.//Calendar Client 16.0//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", NOW + dt.timedelta(minutes=minutes))
    event.add("sequence", 1)
    event.add("organizer", vCalAddress(f"mailto:{OFFICE}"))
    who = vCalAddress(f"mailto:{attendee}")
    who.params["PARTSTAT"] = partstat.upper()
    event.add("attendee", who)
    calendar.add_component(event)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = OFFICE
    msg["Subject"] = f"{partstat.capitalize()}: 12th Beijing–Tokyo Urban Symposium"
    msg["Date"] = format_datetime(NOW + dt.timedelta(minutes=minutes))
    msg["Message-ID"] = message_id
    msg.set_content(f"{attendee} has {partstat} this invitation.")
    msg.add_alternative(
        calendar.to_ical(), maintype="text", subtype="calendar", params={"method": "REPLY"}
    )
    return msg.as_bytes()


def delivery_report(*, recipient: str, returned_message_id: str, message_id: str) -> bytes:
    """An RFC 3464 bounce as a mail server sends it: text, delivery-status, the headers."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.tokyo.example.org (Mail Delivery System)"
    report["To"] = OFFICE
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(NOW)
    report["Message-ID"] = message_id
    report["Auto-Submitted"] = "auto-replied"
    report.attach(
        MIMEText(
            f"I'm sorry to have to inform you that your message could not be delivered\n"
            f"to {recipient}: the mailbox does not exist.\n"
        )
    )
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.tokyo.example.org"
    per_message["Arrival-Date"] = format_datetime(SENT)
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = "5.1.1"
    per_recipient["Remote-MTA"] = "dns; mail.tokyo.example.org"
    per_recipient["Diagnostic-Code"] = (
        f"smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown"
    )
    status = MIMEBase("message", "delivery-status")
    status.set_payload([per_message, per_recipient])
    report.attach(status)
    returned = Message()
    returned["From"] = OFFICE
    returned["To"] = recipient
    returned["Subject"] = "Invitation: 12th Beijing–Tokyo Urban Symposium"
    returned["Message-ID"] = returned_message_id
    returned.set_payload("(body not returned)")
    report.attach(MIMEMessage(returned))
    return report.as_bytes()


def plain_answer(*, sender: str, in_reply_to: str, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ken Sato <{sender}>"
    msg["To"] = OFFICE
    msg["Subject"] = "Re: Invitation: 12th Beijing–Tokyo Urban Symposium"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = message_id
    msg["In-Reply-To"] = in_reply_to
    msg["References"] = in_reply_to
    msg.set_content("Thank you for the invitation. We will attend, with a delegation of four.\n")
    return msg.as_bytes()


def unrelated(message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "newsletter@conference-venues.example.com"
    msg["To"] = OFFICE
    msg["Subject"] = "Venues for your 2027 events"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = message_id
    msg.set_content("Our halls seat 2,000.\n")
    return msg.as_bytes()


def deliver_all(box: ImapFolder, invited: dict[str, dict[str, str]]) -> dict[str, int]:
    """The five messages of the issue, in arrival order; name -> UID."""
    return {
        "reply": box.deliver(
            calendar_reply(
                uid=invited[KEN]["uid"],
                attendee=KEN,
                partstat="accepted",
                sender=f"Ken Sato <{KEN}>",
                message_id="<reply-1@tokyo.example.org>",
            )
        ),
        "forged": box.deliver(
            calendar_reply(
                uid=invited[HANAKO]["uid"],
                attendee=HANAKO,
                partstat="declined",
                sender="Mallory <mallory@evil.example.net>",
                message_id="<forged-1@evil.example.net>",
                minutes=5,
            )
        ),
        "bounce": box.deliver(
            delivery_report(
                recipient=HANAKO,
                returned_message_id=invited[HANAKO]["message_id"],
                message_id="<dsn-1@mx.tokyo.example.org>",
            )
        ),
        "plain": box.deliver(
            plain_answer(
                sender=KEN,
                in_reply_to=invited[KEN]["message_id"],
                message_id="<plain-1@tokyo.example.org>",
            )
        ),
        "unrelated": box.deliver(unrelated("<news-1@conference-venues.example.com>")),
    }


def database_state() -> dict[str, Any]:
    with session_scope() as session:
        return {
            "answers": {
                inv.contact.email: (inv.rsvp_state, inv.rsvp_dt)
                for inv in session.scalars(select(Invitation))
            },
            "messages": sorted(
                (m.uid, m.kind, m.message_id, m.outcome, m.is_marked)
                for m in session.scalars(select(MailboxMessage))
            ),
            "bounces": sorted(
                (b.address, b.status, b.reason) for b in session.scalars(select(Bounce))
            ),
        }


# ----------------------------------------------------------------- tests


def test_fetch_handles_each_kind_of_message(
    invited: dict[str, dict[str, str]], imap_mailbox: ImapFolder
) -> None:
    uids = deliver_all(imap_mailbox, invited)

    summary = fetch_new_messages.fn(NOW)

    assert summary["read"] == 5
    state = database_state()
    assert state["answers"][KEN] == ("accepted", NOW)
    kinds = {uid: kind for uid, kind, *_ in state["messages"]}
    assert kinds == {
        uids["reply"]: "reply",
        uids["forged"]: "reply",
        uids["bounce"]: "bounce",
        uids["plain"]: "needs-person",
        uids["unrelated"]: "ignored",
    }
    assert state["bounces"] == [
        (HANAKO, "5.1.1", f"550 5.1.1 <{HANAKO}>: Recipient address rejected: User unknown")
    ]
    with session_scope() as session:
        assert failing_addresses(session) == {HANAKO}
        assert failing_contacts(session) == [FailingAddress("Hanako Yamada", "Tokyo", HANAKO)]
        event_id = find_event(session, SYMPOSIUM).id
        shown = event_mailbox(session, event_id)
    assert [(b["email"], b["status"]) for b in shown["bounced"]] == [(HANAKO, "5.1.1")]
    assert [
        (n["folder"], n["uid"], n["message_id"], n["sender"], n["subject"])
        for n in shown["needs_person"]
    ] == [
        (
            imap_mailbox.folder,
            uids["plain"],
            "<plain-1@tokyo.example.org>",
            KEN,
            "Re: Invitation: 12th Beijing–Tokyo Urban Symposium",
        )
    ]
    # handled messages carry the keyword; the plain answer is starred for a person; the
    # unrelated message is left as it came (and not marked \Seen)
    assert imap_mailbox.flags() == {
        uids["reply"]: {KEYWORD},
        uids["forged"]: {KEYWORD},
        uids["bounce"]: {KEYWORD},
        uids["plain"]: {KEYWORD, "\\Flagged"},
        uids["unrelated"]: set(),
    }


def test_fetch_refuses_a_forged_reply(
    invited: dict[str, dict[str, str]], imap_mailbox: ImapFolder
) -> None:
    deliver_all(imap_mailbox, invited)

    summary = fetch_new_messages.fn(NOW)

    assert database_state()["answers"][HANAKO] == ("needs-action", None)
    forged = [r for r in summary["replies"] if r["message"]["sender"] != KEN]
    assert [r["outcome"] != "recorded" for r in forged] == [True]


def test_second_fetch_changes_nothing(
    invited: dict[str, dict[str, str]], imap_mailbox: ImapFolder
) -> None:
    deliver_all(imap_mailbox, invited)
    fetch_new_messages.fn(NOW)
    before = (database_state(), imap_mailbox.flags())

    again = fetch_new_messages.fn(NOW + dt.timedelta(minutes=15))

    assert (again["read"], again["replies"], again["bounces"], again["needs_person"]) == (
        0,
        [],
        [],
        [],
    )
    assert (database_state(), imap_mailbox.flags()) == before


def test_crash_between_commit_and_flagging_handles_nothing_twice(
    invited: dict[str, dict[str, str]], imap_mailbox: ImapFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    uids = deliver_all(imap_mailbox, invited)
    monkeypatch.setenv("AMITY_FAULT", "mailbox-after-commit")
    with pytest.raises(FaultInjected):
        fetch_new_messages.fn(NOW)
    # the reply is recorded and its row committed, but the message carries no keyword
    assert imap_mailbox.flags()[uids["reply"]] == set()
    monkeypatch.delenv("AMITY_FAULT")

    summary = fetch_new_messages.fn(NOW + dt.timedelta(minutes=15))

    assert (summary["marked_from_before"], summary["read"]) == (1, 4)
    assert [r["message"]["uid"] for r in summary["replies"]] == [uids["forged"]]
    state = database_state()
    assert [(uid, kind) for uid, kind, *_ in state["messages"]] == [
        (uids["reply"], "reply"),
        (uids["forged"], "reply"),
        (uids["bounce"], "bounce"),
        (uids["plain"], "needs-person"),
        (uids["unrelated"], "ignored"),
    ]
    assert state["messages"][0][3] == "recorded"  # recorded once, not "stale" from a second try
    assert len(state["bounces"]) == 1
    assert imap_mailbox.flags()[uids["reply"]] == {KEYWORD}


@pytest.fixture
def move_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handled mail is moved to the processed folder (`AMITY_IMAP__MARK=move`)."""
    monkeypatch.setenv("AMITY_IMAP__MARK", "move")
    get_settings.cache_clear()


@pytest.mark.usefixtures("move_mode")
def test_move_mode_moves_replies_and_bounces_and_keeps_plain_answers(
    invited: dict[str, dict[str, str]], imap_mailbox: ImapFolder
) -> None:
    uids = deliver_all(imap_mailbox, invited)

    fetch_new_messages.fn(NOW)

    assert imap_mailbox.flags() == {
        uids["plain"]: {KEYWORD, "\\Flagged"},
        uids["unrelated"]: set(),
    }
    assert (
        sorted(imap_mailbox.flags(imap_mailbox.processed_folder).values(), key=len)
        == [{KEYWORD}] * 3
    )
    assert fetch_new_messages.fn(NOW)["read"] == 0


@pytest.mark.usefixtures("move_mode")
def test_move_mode_when_another_fetch_creates_the_folder_at_the_same_moment(
    invited: dict[str, dict[str, str]], imap_mailbox: ImapFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two fetches at once both find no folder for handled mail; the second's CREATE fails."""
    from imapclient import IMAPClient

    uids = deliver_all(imap_mailbox, invited)
    exists = IMAPClient.folder_exists
    raced = []

    def looks_then_other_fetch_creates(self: IMAPClient, folder: str) -> bool:
        found = exists(self, folder)
        if folder == imap_mailbox.processed_folder and not raced:
            raced.append(folder)
            imap_mailbox.client.create_folder(folder)  # the other fetch, just after our look
        return bool(found)

    monkeypatch.setattr(IMAPClient, "folder_exists", looks_then_other_fetch_creates)
    summary = fetch_new_messages.fn(NOW)

    assert raced == [imap_mailbox.processed_folder]
    assert summary["read"] == len(uids)
    assert len(imap_mailbox.flags(imap_mailbox.processed_folder)) == 3


def test_a_copy_of_a_handled_message_is_not_handled_again(
    invited: dict[str, dict[str, str]], imap_mailbox: ImapFolder
) -> None:
    report = delivery_report(
        recipient=HANAKO,
        returned_message_id=invited[HANAKO]["message_id"],
        message_id="<dsn-2@mx.tokyo.example.org>",
    )
    imap_mailbox.deliver(report)
    fetch_new_messages.fn(NOW)
    imap_mailbox.deliver(report)  # the same message again (a copy, a re-delivery)

    summary = fetch_new_messages.fn(NOW)

    assert (summary["duplicates"], summary["bounces"]) == (1, [])
    assert len(database_state()["bounces"]) == 1


def test_fetch_without_a_mailbox_does_nothing(amity_db: str) -> None:
    assert fetch_new_messages.fn(NOW)["configured"] is False


# ----------------------------------------------------------------- end to end


def _ledger_ids() -> dict[str, str]:
    with session_scope() as session:
        rows = session.execute(select(OutboxMessage.recipient, OutboxMessage.message_id))
        return {recipient: message_id for recipient, message_id in rows}


@pytest.mark.usefixtures("prefect_api")
def test_bounce_of_a_sent_invitation_shows_and_stops_reminders(
    amity_db: str, imap_mailbox: ImapFolder, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main
    from flows.invitations import send_invitations
    from flows.reports import load_report_input

    reference_data()
    with session_scope() as session:
        spec = read_spec(REPO / "config" / "events" / f"{SYMPOSIUM}.yaml", session)
        apply_spec(session, spec, get_settings(), now=NOW)
    send_invitations(SYMPOSIUM, now=NOW)
    sent = _ledger_ids()
    bounce_uid = imap_mailbox.deliver(
        delivery_report(
            recipient=HANAKO,
            returned_message_id=sent[HANAKO],
            message_id="<dsn-9@mx.tokyo.example.org>",
        )
    )
    plain_uid = imap_mailbox.deliver(
        plain_answer(sender=KEN, in_reply_to=sent[KEN], message_id="<plain-9@tokyo.example.org>")
    )
    capsys.readouterr()

    assert main(["rsvp", "fetch"]) == 0
    folder = imap_mailbox.folder
    assert capsys.readouterr().out.splitlines() == [
        f"mailbox amity@127.0.0.1 {folder}: 2 new message(s)",
        "  replies recorded 0, refused 0, bounced 1, for a person 1, left alone 0",
        f"  bounced: {HANAKO} ({SYMPOSIUM}): 5.1.1 550 5.1.1 <{HANAKO}>: Recipient address "
        "rejected: User unknown",
        f"  for a person ({SYMPOSIUM}): {folder}/{plain_uid} <plain-9@tokyo.example.org> "
        f"from {KEN}: 'Re: Invitation: 12th Beijing–Tokyo Urban Symposium'",
    ]
    assert main(["events", "show", SYMPOSIUM]) == 0
    shown = capsys.readouterr().out.splitlines()
    bounced = shown.index("bounced (1): the address fails until it is changed")
    assert shown[bounced - 1 : bounced + 2] == [
        "",
        "bounced (1): the address fails until it is changed",
        f"  {HANAKO} (Tokyo): 5.1.1 550 5.1.1 <{HANAKO}>: Recipient address rejected: User unknown",
    ]
    plain = shown.index("plain answers for a person (1):")
    assert shown[plain - 1 : plain + 2] == [
        "",
        "plain answers for a person (1):",
        f"  {folder}/{plain_uid} <plain-9@tokyo.example.org> from {KEN}: "
        "'Re: Invitation: 12th Beijing–Tokyo Urban Symposium'",
    ]
    assert bounce_uid in imap_mailbox.flags()
    with session_scope() as session:
        facts = load_report_input(session, find_event(session, SYMPOSIUM), "en").invitations
        assert {f.email: f.is_bounced for f in facts} == {HANAKO: True, KEN: False}

    reminded = send_invitations(SYMPOSIUM, remind_pending=True, now=NOW + dt.timedelta(days=7))

    assert (reminded["skipped_bounced"], reminded["invited"], reminded["bounced"]) == (
        [HANAKO],
        1,
        1,
    )
    # a corrected address is no longer failing: the next reminder reaches it
    with session_scope() as session:
        contact = session.scalar(select(Contact).where(Contact.email == HANAKO))
        assert contact is not None
        contact.email = "h.yamada@tokyo.example.org"
    again = send_invitations(SYMPOSIUM, remind_pending=True, now=NOW + dt.timedelta(days=8))
    assert (again["skipped_bounced"], again["sent"], again["bounced"]) == ([], 2, 0)


def test_rsvp_fetch_refused_login_is_one_line_and_exit_1(
    amity_db: str,
    imap_mailbox: ImapFolder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flows.cli import main

    monkeypatch.setenv("AMITY_IMAP__PASSWORD", "wrong")
    get_settings.cache_clear()

    assert main(["rsvp", "fetch"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"amity: failed: imap {imap_mailbox.client.host}:{get_settings().imap.port}: login as "
        "amity refused (b'[AUTHENTICATIONFAILED] Authentication failed.')"
    ]


def test_rsvp_fetch_without_a_mailbox_is_a_usage_error(
    amity_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    assert main(["rsvp", "fetch"]) == 2
    assert capsys.readouterr().err == (
        "amity: no mailbox configured: set AMITY_IMAP__HOST and AMITY_IMAP__USERNAME\n"
    )
