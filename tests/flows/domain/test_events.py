import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.domain.clock import LocalTimeError, local_to_utc, office_today
from flows.domain.events import SpecError, parse_event_spec

EVENTS = Path(__file__).resolve().parents[3] / "config" / "events"
CITIES = {"Beijing", "Tokyo", "New York City"}


def _spec(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((EVENTS / "beijing-tokyo-urban-symposium-12.yaml").read_text("utf-8"))
    data.update(changes)
    return data


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_event_spec("spec.yaml", data, known_cities=CITIES)
    return info.value.problems


def test_shipped_symposium_spec_is_valid_with_utc_times() -> None:
    spec = parse_event_spec("s", _spec(), known_cities=CITIES)
    assert (spec.slug, spec.edition, spec.is_bilingual) == (
        "beijing-tokyo-urban-symposium-12",
        12,
        True,
    )
    assert spec.start_dt == dt.datetime(2027, 4, 20, 1, 0, tzinfo=dt.UTC)
    assert [s.key for s in spec.sessions][:2] == ["opening", "urban-construction"]


def test_parse_event_spec_refuses_end_before_start() -> None:
    assert _problems(_spec(end="2027-04-19T09:00")) == [
        "end: must be after start",
        "sessions[0]: 'Opening ceremony and keynote addresses' lies outside the event's start and end",
        "sessions[1]: 'Urban construction: renewing old neighbourhoods' lies outside the event's start and end",
        "sessions[2]: 'Urban administration: services for residents' lies outside the event's start and end",
        "sessions[3]: 'Population management: an ageing metropolis' lies outside the event's start and end",
        "sessions[4]: 'Site visit to the Beijing Municipal Administrative Centre (Tongzhou)' "
        "lies outside the event's start and end",
    ]


def test_parse_event_spec_refuses_unknown_city_and_names_the_field() -> None:
    assert _problems(_spec(host_city="Atlantis", invite={"cities": ["Tokyo", "Osaka"]})) == [
        "host_city: unknown city 'Atlantis'",
        "invite.cities[1]: unknown city 'Osaka'",
    ]


def test_parse_event_spec_refuses_nonexistent_local_time() -> None:
    data = _spec(
        timezone="America/New_York",
        start="2027-03-14T01:00",
        end="2027-03-14T05:00",
        sessions=[
            {"key": "a", "title": "A", "start": "2027-03-14T02:30", "end": "2027-03-14T04:00"}
        ],
    )
    assert _problems(data) == [
        "sessions[0].start: 2027-03-14T02:30 does not exist in America/New_York (clocks jump forward)"
    ]


def test_parse_event_spec_reports_sessions_overlapping_in_one_room() -> None:
    data = _spec(
        sessions=[
            {
                "key": "a",
                "title": "A",
                "start": "2027-04-20T09:00",
                "end": "2027-04-20T11:00",
                "room": "Hall",
            },
            {
                "key": "b",
                "title": "B",
                "start": "2027-04-20T10:00",
                "end": "2027-04-20T12:00",
                "room": "Hall",
            },
        ]
    )
    spec = parse_event_spec("s", data, known_cities=CITIES)
    assert spec.warnings == ("sessions 'a' and 'b' overlap in room 'Hall'",)


def test_local_to_utc_refuses_ambiguous_time() -> None:
    with pytest.raises(LocalTimeError, match="happens twice in America/New_York"):
        local_to_utc(dt.datetime(2027, 11, 7, 1, 30), "America/New_York")


def test_office_today_is_the_home_zone_date_at_the_date_line() -> None:
    now = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)
    assert office_today(now, "Asia/Shanghai") == dt.date(2027, 1, 1)
    assert office_today(now, "UTC") == dt.date(2026, 12, 31)
