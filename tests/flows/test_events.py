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
from tests.conftest import reference_data
from tests.goldens import golden

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
    reference_data()


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
    # another room is a minor change: the session keeps its SEQUENCE (RFC 5546 §2.1.4)
    assert result.kinds == ["minor", "significant"]
    assert after["urban-construction"][1:] == (0, False)
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
        # whole local days: 2000-09-26 00:00 to 2000-09-30 00:00 in Beijing (4 days)
        assert conference.start_dt == dt.datetime(2000, 9, 25, 16, 0, tzinfo=dt.UTC)
        assert conference.end_dt - conference.start_dt == dt.timedelta(days=4)


# --- historical events: dates as precise as their source ------------------------------------

WEEK = "music-week-friendship-cities-1997"
CONFERENCE_2000 = "china-international-friendship-cities-conference-2000"


@pytest.fixture
def history(amity_db: str) -> None:
    """The home city and the dated historical events only (no flow runs)."""
    from db.reference import init_database, load_reference_events

    init_database()
    load_reference_events()


def test_reference_event_loaded_with_invented_times_is_corrected(history: None) -> None:
    from db.reference import load_reference_events

    with session_scope() as session:
        old = find_event(session, CONFERENCE_2000)
        # as earlier versions stored it: 09:00 local, end 08:00 local four days later
        old.start_dt = dt.datetime(2000, 9, 26, 1, 0, tzinfo=dt.UTC)
        old.end_dt = dt.datetime(2000, 9, 30, 0, 0, tzinfo=dt.UTC)

    load_reference_events()

    with session_scope() as session:
        fixed = find_event(session, CONFERENCE_2000)
        assert (fixed.start_dt, fixed.end_dt) == (
            dt.datetime(2000, 9, 25, 16, 0, tzinfo=dt.UTC),
            dt.datetime(2000, 9, 29, 16, 0, tzinfo=dt.UTC),
        )


def test_day_precision_historical_event_is_all_day_in_its_feed(history: None) -> None:
    from flows.outbound.calendar_files import write_feeds
    from tests.ics_rules import ics_problems, parser_disagreements

    with session_scope() as session:
        files = write_feeds(session, find_event(session, CONFERENCE_2000), get_settings())

    feed = Path(files.feed).read_bytes()
    assert b"DTSTART;VALUE=DATE:20000926\r\n" in feed
    assert b"DTEND;VALUE=DATE:20000930\r\n" in feed  # exclusive: the 29th is the last day
    assert b"TZID" not in feed and b"T080000" not in feed
    assert (ics_problems(feed), parser_disagreements(feed)) == ([], [])


def test_month_precision_event_is_left_out_of_calendars(
    history: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    code = main(["calendar", WEEK])

    out = capsys.readouterr().out
    assert code == 0
    assert out == (
        f"calendar of {WEEK}: 1997-09 (known to the month): not put in calendars "
        "(an entry needs a day; no days or hours are invented)\n"
    )
    assert list((get_settings().out_dir).rglob("*.ics")) == []


@pytest.mark.parametrize(
    ("slug", "dates"),
    [
        (WEEK, "1997-09 (known to the month)"),
        (CONFERENCE_2000, "2000-09-26 – 2000-09-29 (all day)"),
    ],
)
def test_events_show_prints_fields_at_the_dates_precision(
    history: None, capsys: pytest.CaptureFixture[str], slug: str, dates: str
) -> None:
    from flows.cli import main

    code = main(["events", "show", slug])

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[1] == f"  {dates}"
    assert "{" not in out and "None" not in out
    assert ":00" not in out.split("UID")[0]  # no invented hours
    golden(f"events/show-{slug}.txt", out)
