"""CalDAV publishing against a real Radicale server started on 127.0.0.1 for these tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from flows.domain.ical import CalEvent, CalSession, caldav_objects
from flows.outbound.caldav import (
    CalDavClient,
    CalDavError,
    Published,
    resource_name,
    same_etag,
)
from tests.ics_rules import ics_problems
from tests.radicale_server import PASSWORD, USER
from tests.radicale_server import free_port as _free_port

STAMP = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def client(radicale: str, request: pytest.FixtureRequest) -> Iterator[CalDavClient]:
    with CalDavClient(f"{radicale}{request.node.name}/", USER, PASSWORD, timeout=10) as made:
        made.ensure_calendar()
        yield made


def _event(**changes: object) -> CalEvent:
    base = CalEvent(
        uid="event-7@amity.example",
        sequence=0,
        summary="Friendship Cities Conference",
        start=datetime(2026, 9, 14, 1, 0, tzinfo=UTC),
        end=datetime(2026, 9, 16, 9, 0, tzinfo=UTC),
        tzid="Asia/Shanghai",
        location="Beijing International Hotel, Room 3, Building B",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _sessions() -> list[CalSession]:
    return [
        CalSession(
            uid=f"session-{n}@amity.example",
            sequence=0,
            summary=f"Panel {n}",
            start=datetime(2026, 9, 14, n, 0, tzinfo=UTC),
            end=datetime(2026, 9, 14, n + 1, 0, tzinfo=UTC),
            room=f"Hall {n}",
        )
        for n in (2, 4, 6)
    ]


def _server_uids(client: CalDavClient) -> set[str]:
    """The resource names in the collection, read back from the server."""
    response = httpx.request(
        "PROPFIND", client.url, headers={"Depth": "1"}, auth=(USER, PASSWORD), timeout=10
    )
    assert response.status_code == 207
    names = set()
    for part in response.text.split("<D:href>")[1:] or response.text.split("<href>")[1:]:
        href = part.split("<", 1)[0]
        if href.endswith(".ics"):
            names.add(href.rsplit("/", 1)[1])
    return names


def test_publish_new_objects_creates_one_resource_each(client: CalDavClient) -> None:
    objects = caldav_objects(_event(), _sessions(), STAMP)

    result = client.publish(objects, known={})

    assert sorted(result.created) == sorted(objects)
    assert _server_uids(client) == {resource_name(uid) for uid in objects}
    stored = httpx.get(client.resource_url("event-7@amity.example"), auth=(USER, PASSWORD))
    assert ics_problems(objects["event-7@amity.example"]) == []
    assert b"METHOD" not in stored.content
    assert stored.headers["ETag"] == result.published["event-7@amity.example"].etag


def test_publish_unchanged_sends_nothing(client: CalDavClient) -> None:
    objects = caldav_objects(_event(), _sessions(), STAMP)
    first = client.publish(objects, known={})

    second = client.publish(caldav_objects(_event(), _sessions(), STAMP), known=first.published)

    assert (second.created, second.updated, second.deleted) == ([], [], [])
    assert sorted(second.unchanged) == sorted(objects)
    assert second.published == first.published


def test_publish_changed_event_updates_same_resource(client: CalDavClient) -> None:
    first = client.publish(caldav_objects(_event(), _sessions(), STAMP), known={})
    moved = _event(sequence=1, start=datetime(2026, 9, 15, 1, 0, tzinfo=UTC))

    second = client.publish(
        caldav_objects(moved, _sessions(), STAMP + timedelta(days=1)), known=first.published
    )

    assert second.created == []
    assert sorted(second.updated) == sorted(first.published)
    stored = httpx.get(client.resource_url(moved.uid), auth=(USER, PASSWORD))
    assert b"DTSTART;TZID=Asia/Shanghai:20260915T090000" in stored.content
    assert b"SEQUENCE:1" in stored.content
    assert len(_server_uids(client)) == 4


def test_publish_removed_session_deletes_its_resource(client: CalDavClient) -> None:
    sessions = _sessions()
    first = client.publish(caldav_objects(_event(), sessions, STAMP), known={})

    second = client.publish(caldav_objects(_event(), sessions[:2], STAMP), known=first.published)

    assert second.deleted == ["session-6@amity.example"]
    assert "session-6@amity.example" not in second.published
    assert resource_name("session-6@amity.example") not in _server_uids(client)
    assert len(_server_uids(client)) == 3


def test_publish_after_concurrent_change_reports_412(client: CalDavClient) -> None:
    first = client.publish(caldav_objects(_event(), [], STAMP), known={})
    url = client.resource_url("event-7@amity.example")
    someone_else = caldav_objects(_event(summary="Edited on the server"), [], STAMP)
    edited = httpx.put(
        url,
        content=someone_else["event-7@amity.example"],
        headers={"Content-Type": "text/calendar"},
        auth=(USER, PASSWORD),
    )
    assert edited.status_code in (201, 204)

    ours = caldav_objects(_event(summary="Our change"), [], STAMP + timedelta(hours=1))
    with pytest.raises(CalDavError) as raised:
        client.publish(ours, known=first.published)

    failure = raised.value.result.failures[0]
    assert (failure.method, failure.status, failure.url) == ("PUT", 412, url)
    assert "412" in str(raised.value) and url in str(raised.value)
    # nothing overwritten, and what we knew is kept for the next attempt
    assert b"Edited on the server" in httpx.get(url, auth=(USER, PASSWORD)).content
    assert raised.value.result.published == first.published


def test_publish_twice_as_new_reports_412_instead_of_overwriting(client: CalDavClient) -> None:
    objects = caldav_objects(_event(), [], STAMP)
    client.publish(objects, known={})

    with pytest.raises(CalDavError) as raised:
        client.publish(caldav_objects(_event(summary="Other"), [], STAMP), known={})

    assert [f.status for f in raised.value.result.failures] == [412]


def test_publish_into_missing_collection_reports_409(radicale: str) -> None:
    with (
        CalDavClient(f"{radicale}missing/", USER, PASSWORD, timeout=10) as lost,
        pytest.raises(CalDavError) as raised,
    ):
        lost.publish(caldav_objects(_event(), [], STAMP), known={})

    assert [f.status for f in raised.value.result.failures] == [409]
    assert f"{radicale}missing/event-7-amity-example" in str(raised.value)


class _Unavailable(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        self.send_response(503, "Service Unavailable")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_publish_to_failing_server_reports_5xx() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/amity/cal/"
        with (
            CalDavClient(url, USER, PASSWORD, timeout=5) as failing,
            pytest.raises(CalDavError) as raised,
        ):
            failing.publish(caldav_objects(_event(), _sessions()[:1], STAMP), known={})
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    failures = raised.value.result.failures
    assert [(f.method, f.status) for f in failures] == [("PUT", 503), ("PUT", 503)]
    assert "HTTP 503" in str(raised.value) and "try again later" in str(raised.value)


def test_publish_to_unreachable_server_names_resource() -> None:
    url = f"http://127.0.0.1:{_free_port()}/amity/cal/"
    with (
        CalDavClient(url, USER, PASSWORD, timeout=2) as offline,
        pytest.raises(CalDavError) as raised,
    ):
        offline.publish(caldav_objects(_event(), [], STAMP), known={})

    failure = raised.value.result.failures[0]
    assert (failure.status, failure.url) == (None, offline.resource_url("event-7@amity.example"))
    assert raised.value.result.published == {}


def test_publish_known_etag_kept_when_delete_fails(client: CalDavClient) -> None:
    sessions = _sessions()
    first = client.publish(caldav_objects(_event(), sessions, STAMP), known={})
    stale = dict(first.published)
    stale["session-6@amity.example"] = Published('"stale-etag"', "x")

    with pytest.raises(CalDavError) as raised:
        client.publish(caldav_objects(_event(), sessions[:2], STAMP), known=stale)

    assert [(f.method, f.status) for f in raised.value.result.failures] == [("DELETE", 412)]
    assert (
        raised.value.result.published["session-6@amity.example"] == stale["session-6@amity.example"]
    )


# --- healing: what the server holds is compared with what amity last wrote -------------------


def _delete_on_server(url: str) -> None:
    assert httpx.delete(url, auth=(USER, PASSWORD)).status_code in (200, 204)


def _edit_on_server(url: str, data: bytes) -> str:
    edited = httpx.put(
        url, content=data, headers={"Content-Type": "text/calendar"}, auth=(USER, PASSWORD)
    )
    assert edited.status_code in (201, 204)
    return edited.headers["ETag"]


def test_publish_unchanged_recreates_resource_deleted_on_server(client: CalDavClient) -> None:
    objects = caldav_objects(_event(), _sessions(), STAMP)
    first = client.publish(objects, known={})
    _delete_on_server(client.resource_url("session-4@amity.example"))

    second = client.publish(objects, known=first.published)

    assert (second.created, second.restored) == (
        ["session-4@amity.example"],
        ["session-4@amity.example"],
    )
    assert "session-4@amity.example" not in second.unchanged
    assert _server_uids(client) == {resource_name(uid) for uid in objects}
    stored = httpx.get(client.resource_url("session-4@amity.example"), auth=(USER, PASSWORD))
    assert b"SUMMARY:Panel 4" in stored.content
    assert second.published["session-4@amity.example"].etag == stored.headers["ETag"]


def test_publish_change_after_server_delete_creates_instead_of_412(client: CalDavClient) -> None:
    first = client.publish(caldav_objects(_event(), [], STAMP), known={})
    _delete_on_server(client.resource_url("event-7@amity.example"))
    moved = caldav_objects(_event(sequence=1, summary="Moved"), [], STAMP + timedelta(days=1))

    second = client.publish(moved, known=first.published)
    third = client.publish(moved, known=second.published)

    assert (second.created, second.updated, second.failures) == (["event-7@amity.example"], [], [])
    assert (
        b"SUMMARY:Moved"
        in httpx.get(client.resource_url("event-7@amity.example"), auth=(USER, PASSWORD)).content
    )
    assert third.unchanged == ["event-7@amity.example"]


class _NoListing(CalDavClient):
    """A server that answers no Depth-1 PROPFIND: only the conditional requests are left."""

    def server_etags(self) -> dict[str, str] | None:
        return None


def test_publish_412_on_vanished_resource_retries_as_create(radicale: str) -> None:
    with _NoListing(f"{radicale}no-listing/", USER, PASSWORD, timeout=10) as blind:
        blind.ensure_calendar()
        first = blind.publish(caldav_objects(_event(), [], STAMP), known={})
        _delete_on_server(blind.resource_url("event-7@amity.example"))
        changed = caldav_objects(_event(summary="Changed"), [], STAMP + timedelta(hours=1))

        second = blind.publish(changed, known=first.published)

        assert (second.created, second.restored, second.failures) == (
            ["event-7@amity.example"],
            ["event-7@amity.example"],
            [],
        )
        stored = httpx.get(blind.resource_url("event-7@amity.example"), auth=(USER, PASSWORD))
        assert b"SUMMARY:Changed" in stored.content


def test_publish_after_server_edit_reports_both_etags_and_leaves_it(client: CalDavClient) -> None:
    objects = caldav_objects(_event(), [], STAMP)
    first = client.publish(objects, known={})
    url = client.resource_url("event-7@amity.example")
    theirs = _edit_on_server(
        url, caldav_objects(_event(summary="Edited there"), [], STAMP)["event-7@amity.example"]
    )

    # even with nothing changed on amity's side, the edit is found and reported
    with pytest.raises(CalDavError) as raised:
        client.publish(objects, known=first.published)

    ours = first.published["event-7@amity.example"].etag
    conflict = raised.value.result.conflicts[0]
    assert (conflict.uid, conflict.ours, conflict.theirs) == ("event-7@amity.example", ours, theirs)
    assert ours in str(raised.value) and theirs in str(raised.value)
    assert "--force" in str(raised.value)
    assert b"Edited there" in httpx.get(url, auth=(USER, PASSWORD)).content
    assert raised.value.result.published == first.published


def test_publish_force_overwrites_server_edit(client: CalDavClient) -> None:
    objects = caldav_objects(_event(), [], STAMP)
    first = client.publish(objects, known={})
    url = client.resource_url("event-7@amity.example")
    _edit_on_server(
        url, caldav_objects(_event(summary="Edited there"), [], STAMP)["event-7@amity.example"]
    )

    forced = client.publish(objects, known=first.published, force=True)

    assert (forced.updated, forced.overwritten) == (
        ["event-7@amity.example"],
        ["event-7@amity.example"],
    )
    stored = httpx.get(url, auth=(USER, PASSWORD))
    assert b"SUMMARY:Friendship Cities Conference" in stored.content
    assert forced.published["event-7@amity.example"].etag == stored.headers["ETag"]


def test_publish_removed_session_edited_on_server_is_left_alone(client: CalDavClient) -> None:
    sessions = _sessions()
    first = client.publish(caldav_objects(_event(), sessions, STAMP), known={})
    url = client.resource_url("session-6@amity.example")
    theirs = _edit_on_server(
        url,
        caldav_objects(_event(), [replace(sessions[2], summary="Kept")], STAMP)[
            "session-6@amity.example"
        ],
    )

    with pytest.raises(CalDavError) as raised:
        client.publish(caldav_objects(_event(), sessions[:2], STAMP), known=first.published)

    conflict = raised.value.result.conflicts[0]
    assert (conflict.method, conflict.theirs) == ("DELETE", theirs)
    assert resource_name("session-6@amity.example") in _server_uids(client)


def test_publish_removed_session_already_deleted_on_server(client: CalDavClient) -> None:
    sessions = _sessions()
    first = client.publish(caldav_objects(_event(), sessions, STAMP), known={})
    _delete_on_server(client.resource_url("session-6@amity.example"))

    second = client.publish(caldav_objects(_event(), sessions[:2], STAMP), known=first.published)

    assert (second.deleted, second.failures) == (["session-6@amity.example"], [])
    assert "session-6@amity.example" not in second.published


def test_same_etag_ignores_a_weak_marker_only() -> None:
    assert (same_etag('W/"abc"', '"abc"'), same_etag('"abc"', '"abd"')) == (True, False)
