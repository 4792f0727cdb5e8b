"""`amity demo` end to end in one process: every output is where it says, and it runs twice."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Approval
from db.session import session_scope
from flows.cli.demo_run import print_outputs, run_demo

pytestmark = [pytest.mark.usefixtures("prefect_api"), pytest.mark.slow]


def test_demo_writes_every_output_and_a_second_run_sends_nothing_new(
    amity_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_demo(progress=lambda _: None)
    assert (first["partners"], first["partners_by_2000"]) == (38, 27)
    assert [e["status"] for e in first["events"]] == ["reported", "reported"]
    for event in first["events"]:
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

    second = run_demo(progress=lambda _: None)
    assert [e["status"] for e in second["events"]] == ["reported", "reported"]
    assert second["digest"]["emails"] == []
    assert [e["letters"] for e in second["events"]] == [None, None]
    assert len(mailbox.Maildir(first["outbox"], create=False)) == sent
    print_outputs(second)
    assert "27 partners in 24 countries by 2000 (2 with unknown dates)" in capsys.readouterr().out


def test_the_demo_clock_stays_before_its_example_events() -> None:
    """Past them, the first lifecycle would report before the simulated replies are in."""
    import datetime as dt

    import yaml

    from config.settings import EVENTS_DIR
    from flows.cli.demo_run import EVENT_SPECS, LATEST_CLOCK, demo_clock

    today = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    starts = [
        dt.datetime.fromisoformat(
            yaml.safe_load((EVENTS_DIR / f"{slug}.yaml").read_text("utf-8"))["start"]
        )
        for slug in EVENT_SPECS
    ]

    assert demo_clock(today) == today
    assert demo_clock(dt.datetime(2027, 9, 20, tzinfo=dt.UTC)) == LATEST_CLOCK
    assert all(LATEST_CLOCK.replace(tzinfo=None) < start for start in starts), starts
