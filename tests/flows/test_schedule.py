"""The schedule flow: feeds, CalDAV publishing (real Radicale), updates and cancellations.

Real Prefect API, both databases, the Maildir outbox. Flow runs cost ~1 s each, so the
feed and CalDAV rules are checked through the plain functions the flows call, and the
flows themselves run in the few tests that follow an event through its changes.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import mailbox
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import delete, select

from config.settings import DATA_DIR, get_settings
from db.events import apply_spec, find_event, read_spec
from db.models import CaldavResource, CalendarSnapshot, Event, EventTransition, Invitation
from db.reference import DEMO_CONTACTS, REFERENCE_PARTNERS, init_database
from db.session import session_scope
from flows.changes import send_changes
from flows.cli import main
from flows.invitations import send_invitations
from flows.outbound.caldav import resource_name
from flows.outbound.calendar_files import write_feeds
from flows.partners import _run_import
from flows.schedule import publish_caldav, publish_schedule
from tests.goldens import golden
from tests.ics_rules import ics_problems, parse, parser_disagreements, update_problems
from tests.radicale_server import PASSWORD, USER
from tests.smtp_sink import ScriptedHandler

pytestmark = pytest.mark.usefixtures("prefect_api")
REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "config" / "events"
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=3)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
CONFERENCE = "friendship-cities-conference-2027"
TOKYO = ["hanako.yamada@tokyo.example.org", "ken.sato@tokyo.example.org"]


@pytest.fixture(autouse=True)
def office_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """`amity events apply` as on a day after the letters, not on the real clock: the example
    events are over from 2027-04-22, and a change to an event that is over is refused."""
    monkeypatch.setattr("flows.cli.events._now", lambda: NOW + dt.timedelta(days=2))


def _spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EVENTS / f"{name}.yaml").read_text("utf-8"))
    return loaded


def _apply(data: dict[str, Any], folder: Path, *, now: dt.datetime = NOW) -> Any:
    path = folder / f"{data['slug']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with session_scope() as session:
        return apply_spec(session, read_spec(path, session), get_settings(), now=now)


def _moved_and_trimmed() -> dict[str, Any]:
    """The symposium with one session an hour later and the site visit dropped."""
    data = _spec(SYMPOSIUM)
    for session in data["sessions"]:
        if session["key"] == "urban-administration":
            session["start"], session["end"] = "2027-04-21T10:00", "2027-04-21T18:00"
    data["sessions"] = [s for s in data["sessions"] if s["key"] != "site-visit"]
    return data


@pytest.fixture
def registry(amity_db: str, tmp_path: Path) -> Path:
    """Partners, demo contacts and both example events; no flow runs (they cost ~1 s each)."""
    init_database()
    for name in REFERENCE_PARTNERS:
        _run_import(DATA_DIR / name, "partners", skip_invalid=False, dry_run=False)
    _run_import(DATA_DIR / DEMO_CONTACTS, "contacts", skip_invalid=False, dry_run=False)
    specs = tmp_path / "specs"
    specs.mkdir()
    _apply(_spec(SYMPOSIUM), specs)
    conference = _spec(CONFERENCE)
    # the music evening is for two delegations only: partner feeds must differ
    conference["sessions"][3]["cities"] = ["Tokyo", "Seoul"]
    _apply(conference, specs)
    return specs


@pytest.fixture
def caldav_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMITY_CALDAV__USERNAME", USER)
    monkeypatch.setenv("AMITY_CALDAV__PASSWORD", PASSWORD)
    get_settings.cache_clear()


def _outbox() -> list[email.message.EmailMessage]:
    if not get_settings().outbox_dir.exists():
        return []
    box = mailbox.Maildir(get_settings().outbox_dir, create=False)
    return [
        email.message_from_bytes(m.as_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for m in box
    ]


def _calendar_parts(message: email.message.Message) -> list[bytes]:
    return [
        part.get_payload(decode=True)  # type: ignore[misc]
        for part in message.walk()
        if part.get_content_type() == "text/calendar"
    ]


def _text_part(message: email.message.EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def _by_recipient(messages: list[email.message.EmailMessage]) -> dict[str, Any]:
    return {m["To"].addresses[0].addr_spec: m for m in messages}


def _vevent_uids(data: bytes) -> list[str]:
    return [v.one("UID").value for root in parse(data) for v in root.walk("VEVENT")]  # type: ignore[union-attr]


# --- feeds -----------------------------------------------------------------------------------


def test_write_feeds_symposium_matches_golden_and_passes_the_rules(registry: Path) -> None:
    with session_scope() as session:
        files = write_feeds(session, find_event(session, SYMPOSIUM), get_settings()).to_dict()

    feed = Path(files["feed"]).read_bytes()
    golden("schedule/symposium.ics", feed)
    assert (ics_problems(feed), parser_disagreements(feed)) == ([], [])
    assert b"METHOD" not in feed and b"ATTENDEE" not in feed
    assert feed.count(b"X-WR-CALNAME:") == 1
    assert len(_vevent_uids(feed)) == 6
    assert list(files["partners"]) == ["Tokyo"]
    assert sorted(files["contacts"]) == TOKYO
    contact_feed = Path(files["contacts"][TOKYO[0]]).read_bytes()
    assert (ics_problems(contact_feed), parser_disagreements(contact_feed)) == ([], [])
    # the contact's feed is in Japanese, the office's in Chinese; the sessions are the same
    assert "X-WR-CALNAME:第12回北京・東京都市シンポジウム" in contact_feed.decode("utf-8")
    assert "X-WR-CALNAME:第十二届北京—东京城市研讨会" in feed.decode("utf-8")
    # the contact sees the event under their invitation's UID (one entry when both invited
    # and subscribed); the sessions are the same
    assert _vevent_uids(contact_feed)[0].startswith(f"invitation-{SYMPOSIUM}-")
    assert _vevent_uids(contact_feed)[1:] == _vevent_uids(feed)[1:]


def test_write_feeds_partner_feed_holds_only_its_delegation_sessions(registry: Path) -> None:
    with session_scope() as session:
        files = write_feeds(session, find_event(session, CONFERENCE), get_settings()).to_dict()

    seoul = Path(files["partners"]["Seoul"]).read_bytes()
    paris = Path(files["partners"]["Paris"]).read_bytes()
    music = f"session-{CONFERENCE}-culture@beijing.example.org"
    assert (ics_problems(seoul), parser_disagreements(seoul)) == ([], [])
    assert (ics_problems(paris), parser_disagreements(paris)) == ([], [])
    assert (music in _vevent_uids(seoul), music in _vevent_uids(paris)) == (True, False)
    assert (len(_vevent_uids(seoul)), len(_vevent_uids(paris))) == (6, 5)
    assert len(files["partners"]) == 38


def test_write_feeds_twice_unchanged_gives_the_same_bytes(registry: Path) -> None:
    with session_scope() as session:
        first = Path(write_feeds(session, find_event(session, SYMPOSIUM), get_settings()).feed)
        before = first.read_bytes()
        write_feeds(session, find_event(session, SYMPOSIUM), get_settings())

    assert first.read_bytes() == before


# --- CalDAV ----------------------------------------------------------------------------------


def _calendar_url(radicale: str, request: pytest.FixtureRequest) -> str:
    """A collection of its own per test and database (the server lives for the module)."""
    name = request.node.name.replace("[", "-").rstrip("]")
    return f"{radicale}{name[-50:]}/"


def _publish(url: str, now: dt.datetime) -> dict[str, Any]:
    with session_scope() as session:
        return publish_caldav(
            session, find_event(session, SYMPOSIUM), url, get_settings(), now
        ).to_dict()


def test_publish_caldav_unchanged_moved_and_removed_sessions(
    registry: Path, radicale: str, caldav_login: None, request: pytest.FixtureRequest
) -> None:
    url = _calendar_url(radicale, request)
    moved = f"session-{SYMPOSIUM}-urban-administration@beijing.example.org"
    removed = f"session-{SYMPOSIUM}-site-visit@beijing.example.org"
    event_uid = f"event-{SYMPOSIUM}@beijing.example.org"

    first = _publish(url, NOW)
    again = _publish(url, NOW)
    _apply(_moved_and_trimmed(), registry, now=LATER)
    changed = _publish(url, LATER)

    assert (len(first["created"]), first["updated"], first["deleted"]) == (6, [], [])
    assert (again["created"], again["updated"], again["deleted"]) == ([], [], [])
    assert len(again["unchanged"]) == 6
    # the event (SEQUENCE up, new DTSTAMP) and every session (new DTSTAMP) are rewritten in place
    assert (changed["created"], changed["deleted"]) == ([], [removed])
    assert {event_uid, moved} <= set(changed["updated"])
    stored = httpx.get(url + resource_name(moved), auth=(USER, PASSWORD), timeout=10)
    assert b"DTSTART;TZID=Asia/Shanghai:20270421T100000" in stored.content
    assert b"SEQUENCE:1" in stored.content
    assert (
        httpx.get(url + resource_name(removed), auth=(USER, PASSWORD), timeout=10).status_code
        == 404
    )
    with session_scope() as session:
        rows = session.scalars(
            select(CaldavResource).where(CaldavResource.calendar_url == url)
        ).all()
        assert sorted(r.uid for r in rows) == sorted(changed["updated"] + changed["unchanged"])
        assert {r.uid: r.etag for r in rows}[moved] == stored.headers["ETag"]


def test_calendar_cli_server_conflict_exits_1_and_keeps_the_feed(
    registry: Path,
    radicale: str,
    caldav_login: None,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _calendar_url(radicale, request)
    _publish(url, NOW)
    event_uid = f"event-{SYMPOSIUM}@beijing.example.org"
    target = url + resource_name(event_uid)
    # someone edits the event on the server; then our copy changes too
    edited = httpx.get(target, auth=(USER, PASSWORD), timeout=10).content.replace(
        b"SUMMARY:", b"SUMMARY:Edited - "
    )
    assert httpx.put(target, content=edited, auth=(USER, PASSWORD), timeout=10).is_success
    _apply(_moved_and_trimmed(), registry, now=LATER)

    code = main(["calendar", SYMPOSIUM, "--publish", url])

    err = capsys.readouterr().err
    assert code == 1
    assert "HTTP 412" in err and target in err and "feed files are written" in err
    feed = get_settings().out_dir / SYMPOSIUM / "calendar" / f"{SYMPOSIUM}.ics"
    assert b"20270421T100000" in feed.read_bytes()
    assert b"Edited - " in httpx.get(target, auth=(USER, PASSWORD), timeout=10).content
    with session_scope() as session:
        assert find_event(session, SYMPOSIUM).status == "draft"


def test_calendar_cli_heals_server_delete_reports_server_edit_until_force(
    registry: Path,
    radicale: str,
    caldav_login: None,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _calendar_url(radicale, request)
    first = _publish(url, NOW)
    gone = f"session-{SYMPOSIUM}-site-visit@beijing.example.org"
    event_uid = f"event-{SYMPOSIUM}@beijing.example.org"
    target = url + resource_name(event_uid)
    assert httpx.delete(url + resource_name(gone), auth=(USER, PASSWORD), timeout=10).is_success
    edited = httpx.get(target, auth=(USER, PASSWORD), timeout=10).content.replace(
        b"SUMMARY:", b"SUMMARY:Edited - "
    )
    theirs = httpx.put(target, content=edited, auth=(USER, PASSWORD), timeout=10)
    with session_scope() as session:
        ours = session.scalar(select(CaldavResource.etag).where(CaldavResource.uid == event_uid))
    capsys.readouterr()

    code = main(["calendar", SYMPOSIUM, "--publish", url])

    err = capsys.readouterr().err
    assert code == 1
    assert (theirs.headers["ETag"] in err, str(ours) in err, "--force" in err) == (True,) * 3
    assert httpx.get(url + resource_name(gone), auth=(USER, PASSWORD), timeout=10).is_success
    assert b"Edited - " in httpx.get(target, auth=(USER, PASSWORD), timeout=10).content

    forced = main(["calendar", SYMPOSIUM, "--publish", url, "--force"])

    out = capsys.readouterr().out
    assert forced == 0
    assert "5 unchanged, 0 deleted, 1 edited on the server overwritten (--force)" in out
    stored = httpx.get(target, auth=(USER, PASSWORD), timeout=10)
    assert b"Edited - " not in stored.content
    with session_scope() as session:
        rows = session.scalars(select(CaldavResource).where(CaldavResource.calendar_url == url))
        assert {r.uid: r.etag for r in rows}[event_uid] == stored.headers["ETag"]
    assert len(first["created"]) == 6


# --- updates and cancellations ---------------------------------------------------------------


def test_apply_after_invitations_sends_one_update_per_contact_then_nothing(
    registry: Path, radicale: str, caldav_login: None, request: pytest.FixtureRequest
) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    invitations = {m["To"].addresses[0].addr_spec: _calendar_parts(m)[0] for m in _outbox()}
    url = _calendar_url(radicale, request)
    published = publish_schedule(SYMPOSIUM, publish=url, now=NOW)
    assert published["status"] == "scheduled"
    assert len(published["caldav"]["created"]) == 6

    result = _apply(_moved_and_trimmed(), registry, now=LATER)
    assert result.is_significant
    summary = send_changes(SYMPOSIUM, now=LATER)
    again = send_changes(SYMPOSIUM, now=LATER + dt.timedelta(hours=1))

    assert (summary["method"], summary["sequence"], summary["sent"], summary["failed"]) == (
        "REQUEST",
        1,
        2,
        [],
    )
    assert (again["to_notify"], again["sent"]) == (0, 0)
    updates = _by_recipient([m for m in _outbox() if m["Subject"].startswith("変更")])
    assert sorted(updates) == TOKYO
    assert len(_outbox()) == 4
    for address, message in updates.items():
        request_ics, session_cancel = _calendar_parts(message)
        assert (ics_problems(request_ics), parser_disagreements(request_ics)) == ([], [])
        assert update_problems(invitations[address], request_ics) == []
        assert _vevent_uids(request_ics) == _vevent_uids(invitations[address])
        assert b"METHOD:REQUEST" in request_ics and b"SEQUENCE:1" in request_ics
        assert ics_problems(session_cancel) == []
        assert b"METHOD:CANCEL" in session_cancel and b"STATUS:CANCELLED" in session_cancel
    assert summary["lines"][TOKYO[0]] == [
        "都市行政：住民サービス：日時が 2027年4月21日 10:00 – 18:00 (Asia/Shanghai) に変更されました。",
        "セッション中止：北京城市副都心（通州）視察。",
    ]
    golden("schedule/update.ja.txt", _text_part(updates[TOKYO[0]]))
    with session_scope() as session:
        assert sorted(session.scalars(select(Invitation.sequence))) == [1, 1]
        event = find_event(session, SYMPOSIUM)
        transitions = session.scalars(
            select(EventTransition.to_status).where(EventTransition.event_id == event.id)
        ).all()
    assert list(transitions) == ["inviting", "scheduled"]
    feed = Path(summary["feed"]).read_bytes()
    assert b"site-visit" not in feed and b"20270421T100000" in feed
    # the CalDAV copy published earlier follows: same resources, the removed one deleted
    (caldav,) = summary["caldav"]
    assert (caldav["url"], caldav["created"]) == (url, [])
    assert caldav["deleted"] == [f"session-{SYMPOSIUM}-site-visit@beijing.example.org"]
    assert f"session-{SYMPOSIUM}-urban-administration@beijing.example.org" in caldav["updated"]


def _apply_cli(data: dict[str, Any], folder: Path) -> int:
    path = folder / f"{data['slug']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return main(["events", "apply", str(path)])


def test_room_change_sends_minor_update_keeping_answers_then_time_change_asks_again(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    invitations = {m["To"].addresses[0].addr_spec: _calendar_parts(m)[0] for m in _outbox()}
    with session_scope() as session:
        # Ken accepted the invitation (SEQUENCE 0); Hanako has not answered
        for row in session.scalars(select(Invitation)):
            if row.contact.email == TOKYO[1]:
                row.rsvp_state, row.rsvp_sequence = "accepted", 0
    data = _spec(SYMPOSIUM)
    data["sessions"][1]["room"] = "Room 5"
    capsys.readouterr()

    assert _apply_cli(data, registry) == 0
    out = capsys.readouterr().out

    assert "session urban-construction room: 'Juyuan Hall' -> 'Room 5'   [minor: " in out
    assert "(2 minor: same SEQUENCE, answers kept)" in out
    updates = _by_recipient([m for m in _outbox() if m["Subject"].startswith("変更")])
    assert sorted(updates) == TOKYO
    for address, message in updates.items():
        (ics,) = _calendar_parts(message)
        unfolded = ics.replace(b"\r\n ", b"")
        assert (ics_problems(ics), update_problems(invitations[address], ics)) == ([], [])
        assert _vevent_uids(ics) == _vevent_uids(invitations[address])
        assert b"SEQUENCE:0\r\n" in ics and b"RSVP=FALSE" in unfolded
        assert "Urban construction: renewing old neighbourhoods — Room 5" in unfolded.decode()
    accepted = updates[TOKYO[1]]
    assert b"PARTSTAT=ACCEPTED" in _calendar_parts(accepted)[0].replace(b"\r\n ", b"")
    assert b"PARTSTAT=NEEDS-ACTION" in _calendar_parts(updates[TOKYO[0]])[0].replace(b"\r\n ", b"")
    with session_scope() as session:
        assert session.scalar(select(Event.sequence).where(Event.slug == SYMPOSIUM)) == 0

    # the same spec again: nothing new to say
    assert _apply_cli(data, registry) == 0
    assert len(_outbox()) == 4

    data["sessions"][1]["start"] = "2027-04-20T11:30"
    assert _apply_cli(data, registry) == 0
    out = capsys.readouterr().out

    assert "session urban-construction start_dt:" in out and "[significant: " in out
    later = [m for m in _outbox() if m["Subject"].startswith("変更")]
    assert len(later) == 4
    for message in later:
        ics = _calendar_parts(message)[0].replace(b"\r\n ", b"")
        if b"SEQUENCE:1" in ics:
            assert b"RSVP=TRUE" in ics and b"PARTSTAT=NEEDS-ACTION" in ics
    assert sum(b"SEQUENCE:1" in _calendar_parts(m)[0] for m in later) == 2


def test_events_cancel_sends_each_contact_a_cancel(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    invitations = {m["To"].addresses[0].addr_spec: _calendar_parts(m)[0] for m in _outbox()}

    code = main(["events", "cancel", SYMPOSIUM, "--note", "venue closed"])

    out = capsys.readouterr().out
    assert code == 0
    assert "cancellations: CANCEL SEQUENCE 1: 2 sent, 0 sent before, 0 failed" in out
    cancels = _by_recipient([m for m in _outbox() if m["Subject"].startswith("中止")])
    assert sorted(cancels) == TOKYO
    for address, message in cancels.items():
        (ics,) = _calendar_parts(message)
        assert ics_problems(ics) == []
        assert update_problems(invitations[address], ics) == []
        assert b"METHOD:CANCEL" in ics and b"STATUS:CANCELLED" in ics and b"SEQUENCE:1" in ics
        assert b"VALARM" not in ics
        assert message.get_body(("plain",)) is not None
        assert "中止となりました" in _text_part(message)
    feed = get_settings().out_dir / SYMPOSIUM / "calendar" / f"{SYMPOSIUM}.ics"
    assert _vevent_uids(feed.read_bytes()) == [f"event-{SYMPOSIUM}@beijing.example.org"]
    assert b"STATUS:CANCELLED" in feed.read_bytes()
    # one UID per contact: invitation, cancellation and personal feed
    for address, message in cancels.items():
        (ics,) = _calendar_parts(message)
        assert _vevent_uids(ics) == _vevent_uids(invitations[address])
    contact_feeds = sorted((feed.parent / "contacts").rglob("*.ics"))
    assert sorted(_vevent_uids(f.read_bytes())[0] for f in contact_feeds) == sorted(
        _vevent_uids(ics)[0] for ics in invitations.values()
    )


def test_events_apply_to_past_event_is_refused_unless_forced(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    past = _spec(SYMPOSIUM) | {
        "slug": "old-symposium",
        "edition": 2,
        "start": "2020-04-20T09:00",
        "end": "2020-04-22T17:00",
        "sessions": [],
        "rsvp_by": None,
    }
    _apply(past, registry, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    moved = past | {"end": "2020-04-22T18:00"}
    path = registry / "old-symposium.yaml"
    path.write_text(yaml.safe_dump(moved, allow_unicode=True), encoding="utf-8")

    refused = main(["events", "apply", str(path)])
    refused_err = capsys.readouterr().err
    forced = main(["events", "apply", str(path), "--force"])

    assert (refused, forced) == (2, 0)
    assert "the event is over; changing it needs --force" in refused_err
    with session_scope() as session:
        assert find_event(session, "old-symposium").end_dt.hour == 10  # 18:00 in Beijing


def test_send_changes_without_invitations_sends_nothing(registry: Path) -> None:
    _apply(_moved_and_trimmed(), registry, now=LATER)

    summary = send_changes(SYMPOSIUM, now=LATER)

    assert (summary["to_notify"], summary["sent"]) == (0, 0)
    assert _outbox() == []
    with session_scope() as session:
        assert session.scalar(select(Event.sequence).where(Event.slug == SYMPOSIUM)) == 1


def test_postponed_event_update_over_smtp_resumes_without_duplicates(
    registry: Path,
    smtp_server: tuple[ScriptedHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    send_invitations(SYMPOSIUM, now=NOW)  # into the Maildir; no calendar run since
    with session_scope() as session:
        # as if the invitations went out before snapshots were kept: the read-back path
        session.execute(delete(CalendarSnapshot))
    handler, port = smtp_server
    handler.rcpt_replies = ["250 OK", "450 4.2.1 mailbox busy"]
    for name, value in {
        "AMITY_MAIL_TRANSPORT": "smtp",
        "AMITY_SMTP__PORT": str(port),
        "AMITY_SMTP__SECURITY": "none",
        "AMITY_SMTP__ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    postponed = _spec(SYMPOSIUM) | {"start": "2027-04-27T09:00", "end": "2027-04-29T17:00"}
    for session in postponed["sessions"]:
        for edge in ("start", "end"):
            day = int(session[edge][8:10]) + 7
            session[edge] = f"{session[edge][:8]}{day}{session[edge][10:]}"
    _apply(postponed, registry, now=LATER)

    first = send_changes(SYMPOSIUM, now=LATER)
    code = main(["calendar", SYMPOSIUM, "--send-changes"])

    out = capsys.readouterr().out
    assert (first["sent"], len(first["failed"])) == (1, 1)
    assert "450" in first["failed"][0]["reason"]
    assert code == 0
    assert "REQUEST SEQUENCE 1: 1 sent, 0 sent before, 0 failed" in out
    recipients = sorted(rcpt for _, rcpts, _ in handler.received for rcpt in rcpts)
    assert recipients == TOKYO
    # no snapshot of the invited version: the invitation's own .ics says what it showed,
    # the event itself but not each session (its programme text changed: "details")
    assert first["lines"][TOKYO[0]] == [
        "第12回北京・東京都市シンポジウムは延期となりました。新しい日時：2027年4月27日 09:00 – "
        "2027年4月29日 17:00 (Asia/Shanghai)。",
        "第12回北京・東京都市シンポジウム：詳細が更新されました。",
    ]
    with session_scope() as session:
        assert sorted(session.scalars(select(Invitation.sequence))) == [1, 1]


def test_minor_update_over_smtp_resumes_without_duplicates(
    registry: Path,
    smtp_server: tuple[ScriptedHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    send_invitations(SYMPOSIUM, now=NOW)  # into the Maildir
    handler, port = smtp_server
    handler.rcpt_replies = ["250 OK", "450 4.2.1 mailbox busy"]
    for name, value in {
        "AMITY_MAIL_TRANSPORT": "smtp",
        "AMITY_SMTP__PORT": str(port),
        "AMITY_SMTP__SECURITY": "none",
        "AMITY_SMTP__ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    other_hall = _spec(SYMPOSIUM)
    other_hall["sessions"][1]["room"] = "Room 5"
    assert _apply(other_hall, registry, now=LATER).kinds == ["minor"]

    first = send_changes(SYMPOSIUM, now=LATER)
    code = main(["calendar", SYMPOSIUM, "--send-changes"])
    again = send_changes(SYMPOSIUM, now=LATER + dt.timedelta(hours=1))

    out = capsys.readouterr().out
    assert (first["sent"], len(first["failed"]), first["minor"]) == (1, 1, TOKYO)
    assert code == 0
    assert "REQUEST SEQUENCE 0: 1 sent, 1 sent before, 0 failed (2 minor" in out
    assert (again["to_notify"], again["sent"]) == (0, 0)
    recipients = sorted(rcpt for _, rcpts, _ in handler.received for rcpt in rcpts)
    assert recipients == TOKYO  # each once
    for _, _, data in handler.received:
        message = email.message_from_bytes(data, policy=email.policy.default)
        ics = _calendar_parts(message)[0].replace(b"\r\n ", b"")
        assert b"SEQUENCE:0\r\n" in ics and b"RSVP=FALSE" in ics
    with session_scope() as session:
        assert sorted(session.scalars(select(Invitation.sequence))) == [0, 0]
