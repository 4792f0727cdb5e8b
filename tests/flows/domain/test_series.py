"""The next edition of an event series: host in turn, dates 52 weeks on, programme kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from flows.domain.events import parse_event_spec
from flows.domain.series import next_edition_spec, next_host

EVENTS = Path(__file__).resolve().parents[3] / "config" / "events"
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"


def _spec() -> dict[str, Any]:
    data = yaml.safe_load((EVENTS / f"{SYMPOSIUM}.yaml").read_text("utf-8"))
    return parse_event_spec("s", data, known_cities=["Beijing", "Tokyo"]).to_json()


def test_next_edition_spec_alternates_host_and_keeps_weekday_and_wall_clock() -> None:
    spec = _spec()
    nxt = next_edition_spec(spec, host="Tokyo", host_timezone="Asia/Tokyo")
    assert (nxt["slug"], nxt["edition"], nxt["host_city"], nxt["timezone"]) == (
        "beijing-tokyo-urban-symposium-13",
        13,
        "Tokyo",
        "Asia/Tokyo",
    )
    assert (nxt["start"], nxt["end"], nxt["venue"]) == (
        "2028-04-18T09:00",
        "2028-04-20T17:00",
        "(to be decided)",
    )
    assert dt.date.fromisoformat(nxt["start"][:10]).weekday() == dt.date(2027, 4, 20).weekday()
    assert [s["key"] for s in nxt["sessions"]] == [s["key"] for s in spec["sessions"]]


def test_next_edition_spec_same_host_keeps_the_venue_and_zone() -> None:
    spec = _spec()

    nxt = next_edition_spec(spec, host=spec["host_city"], host_timezone=spec["timezone"])

    assert (nxt["venue"], nxt["venue_address"], nxt["timezone"]) == (
        spec["venue"],
        spec["venue_address"],
        spec["timezone"],
    )


def test_next_edition_spec_rsvp_by_moves_52_weeks() -> None:
    spec = {**_spec(), "rsvp_by": "2027-03-01"}

    nxt = next_edition_spec(spec, host="Tokyo", host_timezone="Asia/Tokyo")

    assert nxt["rsvp_by"] == "2028-02-28"


def test_next_edition_spec_session_times_shift_with_the_event() -> None:
    spec = _spec()

    nxt = next_edition_spec(spec, host="Tokyo", host_timezone="Asia/Tokyo")

    assert nxt["sessions"][0]["start"] == "2028-04-18T09:00"


def test_next_host_alternates_between_series_hosts() -> None:
    spec = {"host_city": "Beijing", "series_hosts": ["Beijing", "Tokyo"]}

    assert (next_host(spec), next_host({**spec, "host_city": "Tokyo"})) == ("Tokyo", "Beijing")


def test_next_host_without_series_hosts_stays() -> None:
    assert next_host({"host_city": "Paris", "series_hosts": []}) == "Paris"


def test_next_host_not_among_series_hosts_stays() -> None:
    spec = {"host_city": "Seoul", "series_hosts": ["Beijing", "Tokyo"]}

    assert next_host(spec) == "Seoul"
