"""`amity demo` end to end in one process: every output is where it says, and it runs twice."""

from __future__ import annotations

import datetime as dt
import mailbox
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from config.settings import EVENTS_DIR
from db.models import Approval, Event, EventTransition
from db.session import session_scope
from flows.cli.demo_run import EVENT_SPECS, LATEST_CLOCK, demo_clock, print_outputs, run_demo

pytestmark = [pytest.mark.usefixtures("prefect_api"), pytest.mark.slow]

#: a run after both example events (the symposium ends 2027-04-22, the conference 2027-09-17)
AFTER = dt.datetime(2027, 10, 1, 8, 0, tzinfo=dt.UTC)


def _transitions(slug: str) -> list[str]:
    """The event's states in the order of their times (the event page's history)."""
    with session_scope() as session:
        rows = session.execute(
            select(EventTransition.to_status)
            .join(Event, Event.id == EventTransition.event_id)
            .where(Event.slug == slug)
            .order_by(EventTransition.at_dt, EventTransition.id)
        )
        return list(rows.scalars())


def test_demo_writes_every_output_and_a_second_run_sends_nothing_new(
    amity_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # run as if after its events: the demo's clock stays before them, so the first lifecycle
    # waits, and the report comes after the simulated replies and attendance
    assert demo_clock(AFTER) == LATEST_CLOCK
    for slug in EVENT_SPECS:
        spec = yaml.safe_load((EVENTS_DIR / f"{slug}.yaml").read_text("utf-8"))
        assert LATEST_CLOCK.replace(tzinfo=None) < dt.datetime.fromisoformat(spec["start"])
    first = run_demo(progress=lambda _: None, real_now=AFTER)
    assert (first["partners"], first["partners_by_2000"]) == (38, 27)
    assert [e["status"] for e in first["events"]] == ["reported", "reported"]
    for event in first["events"]:
        report = (Path(event["report_en"]) / "report.md").read_text("utf-8")
        assert event["replies_recorded"] > 0
        assert f"Answers with a time: {event['replies_recorded']} ·" in report
        assert _transitions(event["slug"]) == ["inviting", "scheduled", "held", "reported"]
        assert list(Path(event["invitations"]).rglob("*.pdf"))
        assert list(Path(event["calendar"]).rglob("*.ics"))
        for lang in ("report_en", "report_zh"):
            files = sorted(p.name for p in Path(event[lang]).iterdir())
            assert files == ["contacts.csv", "report.html", "report.md", "report.pdf"]
        assert "simulated" in (Path(event["report_en"]) / "report.md").read_text("utf-8").lower()
    assert [e["letters"] for e in first["events"]] == [
        {"letters": 2, "mixed": 0, "address_problems": 0, "in_english": []},
        {
            "letters": 38,
            "mixed": 0,
            "address_problems": 0,
            "in_english": ["cs", "el", "hu", "ro", "sr"],
        },
    ]
    sent = len(mailbox.Maildir(first["outbox"], create=False))
    assert sent == 2 + 38 + 1  # symposium, conference (one contact opted out of 39), digest
    # the demo signed off its own letters, explicitly and on the record
    with session_scope() as session:
        decisions = session.execute(
            select(Approval.decision, Approval.decided_by, Approval.message_count)
        ).all()
    assert sorted(decisions) == [("approved", "amity demo", 2), ("approved", "amity demo", 38)]

    second = run_demo(progress=lambda _: None, real_now=AFTER)
    assert [e["status"] for e in second["events"]] == ["reported", "reported"]
    assert second["digest"]["emails"] == []
    assert [e["letters"] for e in second["events"]] == [None, None]
    assert len(mailbox.Maildir(first["outbox"], create=False)) == sent
    print_outputs(second)
    assert "27 partners in 24 countries by 2000 (2 with unknown dates)" in capsys.readouterr().out


def test_a_simulated_reply_comes_after_the_send_when_the_letters_carry_an_earlier_date(
    amity_db: str,
) -> None:
    """Held back, the demo's clock dates the letters before the ledger sends them: a simulated
    reply is stamped after the send all the same, or the report drops its response time."""
    import email
    from email.utils import parseaddr, parsedate_to_datetime

    from config.settings import get_settings
    from db.events import apply_spec, find_event, read_spec
    from db.outbox import invitation_sent_times
    from flows.cli.simulate import write_simulated_replies
    from flows.invitations import send_invitations
    from tests.conftest import reference_data

    symposium = EVENT_SPECS[0]
    letters = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)  # long before the real send
    reference_data()
    with session_scope() as session:
        spec = read_spec(EVENTS_DIR / f"{symposium}.yaml", session)
        apply_spec(session, spec, get_settings(), now=letters)
    send_invitations(symposium, now=letters)

    written = write_simulated_replies(symposium, now=letters)

    with session_scope() as session:
        sent = invitation_sent_times(session, find_event(session, symposium).id)
    replies = [email.message_from_bytes(Path(p).read_bytes()) for p in written]
    stamps = {parseaddr(m["From"])[1].casefold(): parsedate_to_datetime(m["Date"]) for m in replies}
    assert stamps and stamps.keys() <= sent.keys()
    assert all(sent[who] < stamp for who, stamp in stamps.items()), (sent, stamps)
