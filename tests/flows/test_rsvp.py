"""Recording iMIP replies against the invitations they answer, on both databases."""

from __future__ import annotations

import datetime as dt
import mailbox
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Invitation
from db.session import session_scope
from flows.domain.replies import build_reply_email, build_reply_ics
from flows.rsvp import import_replies, record_replies, reply_files

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
OFFICE = "fao@beijing.example.org"
KEN = "ken.sato@tokyo.example.org"
HANAKO = "hanako.yamada@tokyo.example.org"


def _reply(
    folder: Path,
    name: str,
    uid: str,
    attendee: str,
    partstat: str,
    *,
    sequence: int = 1,
    minutes: int = 0,
    delegated_to: tuple[str, ...] = (),
) -> str:
    path = folder / name
    ics = build_reply_ics(
        uid=uid,
        organizer_email=OFFICE,
        attendee_email=attendee,
        attendee_name=None,
        partstat=partstat,
        sequence=sequence,
        dtstamp=NOW + dt.timedelta(minutes=minutes),
        delegated_to=delegated_to,
    )
    # a reply counts only from the attendee's own address: sent as the attendee's client does
    path.write_bytes(
        build_reply_email(
            ics=ics,
            attendee_email=attendee,
            attendee_name=attendee,
            organizer_email=OFFICE,
            organizer_name="Foreign Affairs Office",
            subject=f"{partstat.title()}: symposium",
            text=partstat,
            message_id=f"<{name}@tokyo.example.org>",
            date=NOW,
        )
    )
    return str(path)


def _answers() -> dict[str, tuple[str, dt.datetime | None, int | None, str | None]]:
    with session_scope() as session:
        rows = session.scalars(select(Invitation)).all()
        return {
            inv.contact.email: (inv.rsvp_state, inv.rsvp_dt, inv.rsvp_sequence, inv.delegated_to)
            for inv in rows
        }


def test_record_replies_records_each_answer(invited: dict[str, str], tmp_path: Path) -> None:
    paths = [
        _reply(tmp_path, "ken.ics", invited[KEN], KEN, "accepted"),
        _reply(tmp_path, "hanako.ics", invited[HANAKO], HANAKO, "tentative", minutes=5),
    ]

    summary = record_replies.fn(paths)

    assert summary == {"files": 2, "recorded": 2, "refused": [], "ignored": [], "invalid": []}
    assert _answers() == {
        KEN: ("accepted", NOW, 1, None),
        HANAKO: ("tentative", NOW + dt.timedelta(minutes=5), 1, None),
    }


def test_record_replies_same_file_twice_is_stale(invited: dict[str, str], tmp_path: Path) -> None:
    path = _reply(tmp_path, "ken.ics", invited[KEN], KEN, "accepted")
    record_replies.fn([path])

    again = record_replies.fn([path])

    assert (again["recorded"], [i["why"] for i in again["ignored"]]) == (0, ["duplicate"])
    assert _answers()[KEN] == ("accepted", NOW, 1, None)


def test_record_replies_later_answer_supersedes(invited: dict[str, str], tmp_path: Path) -> None:
    first = _reply(tmp_path, "1.ics", invited[KEN], KEN, "accepted")
    later = _reply(tmp_path, "2.ics", invited[KEN], KEN, "declined", minutes=30)

    summary = record_replies.fn([later, first])

    # the older answer, read second, does not undo the newer one
    assert (summary["recorded"], [i["why"] for i in summary["ignored"]]) == (1, ["superseded"])
    assert _answers()[KEN] == ("declined", NOW + dt.timedelta(minutes=30), 1, None)


def test_record_replies_answer_to_an_older_sequence_is_stale(
    invited: dict[str, str], tmp_path: Path
) -> None:
    path = _reply(tmp_path, "old.ics", invited[KEN], KEN, "accepted", sequence=0)

    summary = record_replies.fn([path])

    assert (summary["recorded"], [i["why"] for i in summary["ignored"]]) == (0, ["outdated"])
    assert _answers()[KEN] == ("needs-action", None, None, None)


def test_record_replies_delegation_names_the_delegate(
    invited: dict[str, str], tmp_path: Path
) -> None:
    path = _reply(
        tmp_path, "d.ics", invited[KEN], KEN, "delegated", delegated_to=("aide@tokyo.example.org",)
    )

    record_replies.fn([path])

    assert _answers()[KEN] == ("delegated", NOW, 1, "aide@tokyo.example.org")


def test_record_replies_unknown_uid_or_attendee_and_invalid_file_are_reported(
    invited: dict[str, str], tmp_path: Path
) -> None:
    stranger = _reply(tmp_path, "s.ics", invited[KEN], "someone@else.example", "accepted")
    ghost = _reply(tmp_path, "g.ics", "no-such-uid@x", KEN, "accepted")
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"Subject: hello\r\n\r\nno calendar here\r\n")

    summary = record_replies.fn([stranger, ghost, str(junk)])

    assert (summary["files"], summary["recorded"], summary["ignored"]) == (3, 0, [])
    assert [(r["file"], r["why"], r["reason"]) for r in summary["refused"]] == [
        (
            stranger,
            "unknown-invitation",
            f"unknown invitation: {invited[KEN]} was sent to {KEN}, not someone@else.example",
        ),
        (ghost, "unknown-invitation", "unknown invitation: no invitation has UID no-such-uid@x"),
    ]
    assert summary["invalid"] == [f"{junk}: no text/calendar part and not an .ics file"]
    assert {state for state, *_ in _answers().values()} == {"needs-action"}


def test_reply_files_reads_a_maildir_and_refuses_a_missing_path(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    key = box.add(b"Subject: x\r\n\r\nbody\r\n")
    single = tmp_path / "one.ics"
    single.write_bytes(b"")

    found = reply_files([str(tmp_path / "inbox"), str(single)])

    assert [p.name for p in found] == [key, "one.ics"]
    with pytest.raises(FileNotFoundError, match="nope: no such file or folder"):
        reply_files([str(tmp_path / "nope")])


@pytest.mark.usefixtures("prefect_api")
def test_import_replies_flow_records_a_reply_e_mail(
    invited: dict[str, str], tmp_path: Path
) -> None:
    ics = build_reply_ics(
        uid=invited[HANAKO],
        organizer_email=OFFICE,
        attendee_email=HANAKO,
        attendee_name="山田 花子",
        partstat="accepted",
        sequence=1,
        dtstamp=NOW,
    )
    message = build_reply_email(
        ics=ics,
        attendee_email=HANAKO,
        attendee_name="山田 花子",
        organizer_email=OFFICE,
        organizer_name="Foreign Affairs Office",
        subject="Accepted: 12th Beijing–Tokyo Urban Symposium",
        text="Accepted",
        message_id="<reply-1@tokyo.example.org>",
        date=NOW,
    )
    box = mailbox.Maildir(tmp_path / "replies", create=True)
    box.add(message)

    summary = import_replies([str(tmp_path / "replies")])

    assert summary == {"files": 1, "recorded": 1, "refused": [], "ignored": [], "invalid": []}
    assert _answers()[HANAKO] == ("accepted", NOW, 1, None)
