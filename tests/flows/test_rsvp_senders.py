"""A reply counts only from the attendee (or a delegate recorded for the contact).

The replies are built the way a calendar client builds them — the standard library's
`email` and `icalendar` — not with amity's own reply builder.
"""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import icalendar
import pytest

from db.models import Invitation
from db.session import session_scope
from flows.cli import main
from flows.engine.runtime import run_flow
from flows.partners import import_contacts
from flows.rsvp import record_replies

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
OFFICE = "fao@beijing.example.org"
KEN = "ken.sato@tokyo.example.org"
AIDE = "aide.sato@tokyo.example.org"
MALLORY = "mallory@evil.example.net"

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def client_calendar(
    *,
    attendee: str,
    uid: str,
    partstat: str,
    sequence: int = 1,
    stamp: dt.datetime = NOW,
    sent_by: str | None = None,
) -> bytes:
    """A METHOD:REPLY calendar as a calendar client writes it."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Example Corp.//Calendar Client 1.0//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("organizer", icalendar.vCalAddress(f"mailto:{OFFICE}"))
    who = icalendar.vCalAddress(f"mailto:{attendee}")
    who.params["PARTSTAT"] = partstat
    if sent_by:
        who.params["SENT-BY"] = f"mailto:{sent_by}"
    event.add("attendee", who)
    calendar.add_component(event)
    return calendar.to_ical()


def client_reply(
    folder: Path,
    name: str,
    *,
    sender: str,
    attendee: str,
    uid: str,
    partstat: str,
    sequence: int = 1,
    minutes: int = 0,
    sent_by: str | None = None,
) -> str:
    """An iMIP REPLY e-mail as a calendar client sends it; the path it was saved to."""
    stamp = NOW + dt.timedelta(minutes=minutes)
    ics = client_calendar(
        attendee=attendee,
        uid=uid,
        partstat=partstat,
        sequence=sequence,
        stamp=stamp,
        sent_by=sent_by,
    )
    message = EmailMessage()
    message["From"] = sender
    message["To"] = OFFICE
    message["Subject"] = f"{partstat.title()}: 12th Beijing–Tokyo Urban Symposium"
    message["Date"] = format_datetime(stamp)
    message["Message-ID"] = make_msgid(domain="client.example")
    message.set_content(f"{attendee} has answered {partstat}.")
    message.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REPLY"})
    path = folder / name
    path.write_bytes(bytes(message))
    return str(path)


def _answer(email: str) -> str:
    with session_scope() as session:
        return next(
            inv.rsvp_state for inv in session.query(Invitation).all() if inv.contact.email == email
        )


def test_a_reply_from_someone_else_for_the_contact_is_refused(
    invited: dict[str, str], tmp_path: Path
) -> None:
    accepted = client_reply(
        tmp_path, "ken.eml", sender=KEN, attendee=KEN, uid=invited[KEN], partstat="ACCEPTED"
    )
    forged = client_reply(
        tmp_path,
        "forged.eml",
        sender=f"Ken Sato <{MALLORY}>",
        attendee=KEN,
        uid=invited[KEN],
        partstat="DECLINED",
        minutes=30,
    )

    summary = record_replies.fn([accepted, forged])

    assert summary["recorded"] == 1
    assert summary["refused"] == [
        {
            "file": forged,
            "why": "sender-mismatch",
            "reason": f"sender {MALLORY} is not the attendee {KEN}",
            "sender": MALLORY,
            "attendee": KEN,
            "uid": invited[KEN],
        }
    ]
    assert _answer(KEN) == "accepted"


@pytest.mark.usefixtures("prefect_api")
def test_a_reply_sent_by_a_recorded_delegate_counts_and_an_unrecorded_one_does_not(
    invited: dict[str, str], tmp_path: Path
) -> None:
    by_aide = client_reply(
        tmp_path,
        "aide.eml",
        sender=AIDE,
        attendee=KEN,
        uid=invited[KEN],
        partstat="ACCEPTED",
        sent_by=AIDE,
    )
    before = record_replies.fn([by_aide])
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "city,country_code,name_native,name_latin,email,language,reply_delegates\n"
        f"Tokyo,JP,佐藤 健,Ken Sato,{KEN},ja,{AIDE.upper()}\n",
        encoding="utf-8",
    )
    imported = run_flow(import_contacts, str(contacts))

    after = record_replies.fn([by_aide])

    assert [r["reason"] for r in before["refused"]] == [
        f"sender {AIDE} is not the attendee {KEN} nor a delegate recorded for the contact"
    ]
    assert imported["problems"] == []
    assert (after["recorded"], after["refused"]) == (1, [])
    assert _answer(KEN) == "accepted"


def test_each_reply_not_recorded_says_why_with_its_file(
    invited: dict[str, str], tmp_path: Path
) -> None:
    first = client_reply(
        tmp_path, "yes.eml", sender=KEN, attendee=KEN, uid=invited[KEN], partstat="ACCEPTED"
    )
    old = client_reply(
        tmp_path,
        "old.eml",
        sender=KEN,
        attendee=KEN,
        uid=invited[KEN],
        partstat="DECLINED",
        sequence=0,
        minutes=60,
    )
    ghost = client_reply(
        tmp_path, "ghost.eml", sender=KEN, attendee=KEN, uid="no-such-uid@x", partstat="ACCEPTED"
    )
    bare = tmp_path / "saved.ics"
    bare.write_bytes(client_calendar(attendee=KEN, uid=invited[KEN], partstat="DECLINED"))
    record_replies.fn([first])

    summary = record_replies.fn([first, old, ghost, str(bare)])

    assert summary["recorded"] == 0
    assert [(i["file"], i["why"], i["reason"]) for i in summary["ignored"]] == [
        (first, "duplicate", "duplicate of the answer recorded (accepted, 2026-11-28 08:00 UTC)"),
        (old, "outdated", "outdated: answers version 0 < 1 of the invitation"),
    ]
    assert [(r["file"], r["why"]) for r in summary["refused"]] == [
        (ghost, "unknown-invitation"),
        (str(bare), "sender-mismatch"),
    ]
    assert (
        summary["refused"][0]["reason"] == "unknown invitation: no invitation has UID no-such-uid@x"
    )
    assert summary["refused"][1]["reason"].startswith(
        f"no sender to check against the attendee {KEN}"
    )
    assert _answer(KEN) == "accepted"


@pytest.mark.usefixtures("prefect_api")
def test_rsvp_import_names_refused_replies_and_the_answers_show_in_list_and_show(
    invited: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    client_reply(folder, "1.eml", sender=KEN, attendee=KEN, uid=invited[KEN], partstat="ACCEPTED")
    client_reply(
        folder, "2.eml", sender=MALLORY, attendee=KEN, uid=invited[KEN], partstat="DECLINED"
    )
    capsys.readouterr()
    assert main(["events", "show", SYMPOSIUM, "--json"]) == 0
    shown_before = json.loads(capsys.readouterr().out)

    assert main(["rsvp", "import", str(folder)]) == 0
    imported = capsys.readouterr().out.splitlines()
    assert main(["rsvp", "list", SYMPOSIUM, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["events", "show", SYMPOSIUM]) == 0
    shown = capsys.readouterr().out

    assert imported == [
        "2 file(s): 1 answer(s) recorded, 1 refused, 0 ignored, 0 not a reply",
        f"  refused: {folder / '2.eml'}: sender {MALLORY} is not the attendee {KEN} "
        f"(UID {invited[KEN]})",
    ]
    assert shown_before["answer_counts"]["accepted"] == 0
    assert listed["counts"] == {
        "accepted": 1,
        "declined": 0,
        "tentative": 0,
        "delegated": 0,
        "needs-action": 1,
    }
    assert [(a["email"], a["answer"]) for a in listed["answers"]] == [
        ("hanako.yamada@tokyo.example.org", "needs-action"),
        (KEN, "accepted"),
    ]
    assert "  answers: 1 accepted, 0 declined, 0 tentative, 0 delegated, 1 no answer yet" in shown
    assert f"{KEN}  accepted" in shown
