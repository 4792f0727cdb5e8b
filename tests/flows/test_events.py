import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from config.settings import get_settings
from db.events import apply_spec, cancel_event, find_event, invited_contacts
from db.models import Event
from db.session import session_scope
from flows.domain.events import SpecError, parse_event_spec
from flows.partners import load_reference_data

pytestmark = pytest.mark.usefixtures("prefect_api")
EVENTS = Path(__file__).resolve().parents[2] / "config" / "events"
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)


def _apply(name: str, **changes):
    data = yaml.safe_load((EVENTS / name).read_text("utf-8"))
    data.update(changes)
    with session_scope() as session:
        spec = parse_event_spec(name, data, known_cities=["Beijing", "Tokyo"])
        return apply_spec(session, spec, get_settings(), now=NOW)


@pytest.fixture
def registry(amity_db: str) -> None:
    load_reference_data()


def test_apply_spec_creates_then_reapply_changes_nothing(registry: None) -> None:
    first = _apply("beijing-tokyo-urban-symposium-12.yaml")
    again = _apply("beijing-tokyo-urban-symposium-12.yaml")
    assert (first.created, again.created, again.changes, again.is_significant) == (
        True,
        False,
        [],
        False,
    )
    with session_scope() as session:
        event = find_event(session, "beijing-tokyo-urban-symposium-12")
        assert (event.sequence, len(event.sessions)) == (0, 5)


def test_apply_spec_moved_session_bumps_sequences_and_keeps_uids(registry: None) -> None:
    _apply("beijing-tokyo-urban-symposium-12.yaml")
    data = yaml.safe_load((EVENTS / "beijing-tokyo-urban-symposium-12.yaml").read_text("utf-8"))
    sessions = data["sessions"][:-1]  # site visit dropped
    sessions[1] = {**sessions[1], "room": "Room 5"}
    with session_scope() as session:
        before = {s.key: s.uid for s in find_event(session, "1").sessions}
    result = _apply("beijing-tokyo-urban-symposium-12.yaml", sessions=sessions)
    assert result.changes == [
        "session urban-construction room: 'Juyuan Hall' -> 'Room 5'",
        "session removed: Site visit to the Beijing Municipal Administrative Centre (Tongzhou)",
    ]
    with session_scope() as session:
        event = find_event(session, "beijing-tokyo-urban-symposium-12")
        after = {s.key: (s.uid, s.sequence, s.is_cancelled) for s in event.sessions}
        assert event.sequence == 1
    assert {k: v[0] for k, v in after.items()} == before
    assert after["urban-construction"][1:] == (1, False)
    assert after["site-visit"][1:] == (1, True)


def test_apply_spec_refuses_change_to_past_event_unless_forced(registry: None) -> None:
    _apply("beijing-tokyo-urban-symposium-12.yaml")
    data = yaml.safe_load((EVENTS / "beijing-tokyo-urban-symposium-12.yaml").read_text("utf-8"))
    later = NOW.replace(year=2028)
    with session_scope() as session:
        spec = parse_event_spec(
            "s", {**data, "venue": "Elsewhere"}, known_cities=["Beijing", "Tokyo"]
        )
        with pytest.raises(SpecError, match="needs --force"):
            apply_spec(session, spec, get_settings(), now=later)
        assert apply_spec(session, spec, get_settings(), now=later, force=True).changes


def test_invited_contacts_all_ties_and_named_cities(registry: None) -> None:
    _apply("beijing-tokyo-urban-symposium-12.yaml")
    _apply("friendship-cities-conference-2027.yaml")
    with session_scope() as session:
        tokyo = invited_contacts(session, find_event(session, "beijing-tokyo-urban-symposium-12"))
        everyone = invited_contacts(
            session, find_event(session, "friendship-cities-conference-2027")
        )
    assert sorted(c.email for c in tokyo) == [
        "hanako.yamada@tokyo.example.org",
        "ken.sato@tokyo.example.org",
    ]
    assert len(everyone) == 39


def test_cancel_event_records_transition_once(registry: None) -> None:
    _apply("beijing-tokyo-urban-symposium-12.yaml")
    with session_scope() as session:
        event = session.scalars(select(Event)).one()
        assert cancel_event(session, event, now=NOW) is True
        assert cancel_event(session, event, now=NOW) is False
        assert (event.status, event.sequence) == ("cancelled", 1)


def test_reference_events_load_the_dated_ones_as_held_once(registry: None) -> None:
    from db.reference import load_reference_events

    first = load_reference_events()
    again = load_reference_events()
    assert (
        first["loaded"]
        == again["loaded"]
        == [
            "music-week-friendship-cities-1997",
            "china-international-friendship-cities-conference-2000",
        ]
    )
    assert [s["id"] for s in first["skipped"]] == ["beijing-tokyo-urban-symposium"]
    with session_scope() as session:
        week = find_event(session, "music-week-friendship-cities-1997")
        conference = find_event(session, "china-international-friendship-cities-conference-2000")
        assert (week.status, week.date_precision, week.audience["cities"][0]) == (
            "held",
            "month",
            "Berlin",
        )
        assert conference.start_dt == dt.datetime(2000, 9, 26, 1, 0, tzinfo=dt.UTC)
        assert (conference.end_dt - conference.start_dt).days == 3
