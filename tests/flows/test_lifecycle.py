"""The lifecycle flow and event series, with a real Prefect API on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import get_settings
from db.events import apply_spec, find_event, read_spec
from db.models import EventTransition
from db.series import create_next_edition
from db.session import session_scope
from flows.lifecycle import event_lifecycle
from tests.conftest import reference_data

pytestmark = pytest.mark.usefixtures("prefect_api")
EVENTS = Path(__file__).resolve().parents[2] / "config" / "events"
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"


@pytest.fixture
def symposium(amity_db: str) -> None:
    reference_data()
    with session_scope() as session:
        apply_spec(
            session, read_spec(EVENTS / f"{SYMPOSIUM}.yaml", session), get_settings(), now=NOW
        )


def _transitions() -> list[tuple[str | None, str]]:
    with session_scope() as session:
        rows = session.scalars(select(EventTransition).order_by(EventTransition.id)).all()
        return [(t.from_status, t.to_status) for t in rows]


def test_lifecycle_stops_before_the_event_and_resumes_to_reported(symposium: None) -> None:
    first = event_lifecycle(SYMPOSIUM, now=NOW)
    assert first["status"] == "scheduled"
    assert [s["step"] for s in first["steps"]] == ["invitations", "schedule", "held"]

    again = event_lifecycle(SYMPOSIUM, now=NOW)
    assert [s["step"] for s in again["steps"]] == ["held"]  # nothing redone, still waiting

    after = event_lifecycle(SYMPOSIUM, now=dt.datetime(2027, 4, 23, tzinfo=dt.UTC))
    assert after["status"] == "reported"
    assert [s["step"] for s in after["steps"]] == ["report"]
    assert _transitions() == [
        ("draft", "inviting"),
        ("inviting", "scheduled"),
        ("scheduled", "held"),
        ("held", "reported"),
    ]


def test_create_next_edition_makes_a_draft_thirteenth(symposium: None) -> None:
    result = create_next_edition("Beijing–Tokyo Urban Symposium", get_settings(), now=NOW)
    assert (result["slug"], result["host_city"]) == ("beijing-tokyo-urban-symposium-13", "Tokyo")
    with session_scope() as session:
        event = find_event(session, result["slug"])
        assert (event.status, event.edition, len(event.sessions)) == ("draft", 13, 5)
    assert Path(result["spec"]).read_text("utf-8").startswith("# The 13th edition")
