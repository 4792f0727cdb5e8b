"""The rule that decides whether a reply counts: plain data in, a typed outcome with a reason out."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import icalendar

from flows.domain.replies import Invited, Reply, judge_reply, message_sender, parse_replies

NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
KEN = "ken.sato@tokyo.example.org"
AIDE = "aide.sato@tokyo.example.org"
INVITED = Invited(contact_email=KEN, sequence=1)


def _reply(**changes: object) -> Reply:
    base = {
        "uid": "u1",
        "attendee_email": KEN,
        "partstat": "accepted",
        "sequence": 1,
        "dtstamp": NOW,
    }
    return Reply(**{**base, **changes})  # type: ignore[arg-type]


def test_judge_reply_from_the_attendee_is_recorded() -> None:
    outcome = judge_reply(_reply(), sender=KEN, invited=INVITED)

    assert (outcome.kind, outcome.reason) == ("recorded", f"accepted recorded for {KEN}")


def test_judge_reply_sent_by_is_a_delegate_only_when_recorded() -> None:
    reply = _reply(sent_by=AIDE)

    refused = judge_reply(reply, sender=AIDE, invited=INVITED)
    counted = judge_reply(
        reply, sender=AIDE, invited=Invited(contact_email=KEN, sequence=1, delegates=(AIDE,))
    )
    # naming yourself in SENT-BY is not enough, nor being recorded without saying SENT-BY
    unnamed = judge_reply(
        _reply(), sender=AIDE, invited=Invited(contact_email=KEN, sequence=1, delegates=(AIDE,))
    )

    assert (refused.kind, refused.reason) == (
        "sender-mismatch",
        f"sender {AIDE} is not the attendee {KEN} nor a delegate recorded for the contact",
    )
    assert counted.kind == "recorded"
    assert unnamed.kind == "sender-mismatch"


def test_judge_reply_says_why_it_is_not_counted() -> None:
    answered = Invited(
        contact_email=KEN, sequence=2, rsvp_state="accepted", rsvp_sequence=2, rsvp_dt=NOW
    )

    reasons = [
        judge_reply(_reply(sequence=1), sender=KEN, invited=answered).reason,
        judge_reply(_reply(sequence=2), sender=KEN, invited=answered).reason,
        judge_reply(
            _reply(sequence=2, partstat="declined", dtstamp=NOW - dt.timedelta(hours=1)),
            sender=KEN,
            invited=answered,
        ).reason,
        judge_reply(_reply(), sender=KEN, invited=None).reason,
        judge_reply(_reply(), sender=None, invited=INVITED).kind,
    ]

    assert reasons == [
        "outdated: answers version 1 < 2 of the invitation",
        "duplicate of the answer recorded (accepted, 2026-11-28 08:00 UTC)",
        "older than the answer recorded (accepted, 2026-11-28 08:00 UTC)",
        "unknown invitation: no invitation has UID u1",
        "sender-mismatch",
    ]


def test_a_parsed_message_gives_its_sender_and_the_sent_by_of_its_replies() -> None:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Example//Client//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    event = icalendar.Event()
    event.add("uid", "u1")
    event.add("dtstamp", NOW)
    attendee = icalendar.vCalAddress(f"mailto:{KEN}")
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["SENT-BY"] = f"mailto:{AIDE.upper()}"
    event.add("attendee", attendee)
    calendar.add_component(event)
    message = EmailMessage()
    message["From"] = f"Aide Sato <{AIDE.upper()}>"
    message["To"] = "fao@beijing.example.org"
    message.set_content("Accepted")
    message.add_alternative(
        calendar.to_ical(), maintype="text", subtype="calendar", params={"method": "REPLY"}
    )

    assert message_sender(message) == AIDE
    assert [r.sent_by for r in parse_replies(message)] == [AIDE]
