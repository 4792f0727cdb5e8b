"""Event states that cannot be skipped, through the `amity` command (in-process), on both
databases: report and attendance only once an event took place, `events held`,
`events reopen`, and invitations refused for a draft edition's placeholders and for an
edition a partner hosts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.settings import DATA_DIR, EVENTS_DIR, get_settings
from db.events import apply_spec, find_event, invited_contacts, read_spec
from db.models import Attendance, EventTransition, Report
from db.reference import CITY_NAMES, DEMO_CONTACTS, REFERENCE_PARTNERS
from db.series import create_next_edition
from db.session import session_scope
from flows.cli import main
from flows.partners import _run_import
from tests.clock import spec_ahead

SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
SERIES = "Beijing–Tokyo Urban Symposium"
APPLIED = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)


def _registry() -> None:
    """The shipped partners, city names and demo contacts, without a flow run."""
    for name in REFERENCE_PARTNERS:
        _run_import(DATA_DIR / name, "partners", skip_invalid=False, dry_run=False)
    _run_import(DATA_DIR / CITY_NAMES, "names", skip_invalid=False, dry_run=False)
    _run_import(DATA_DIR / DEMO_CONTACTS, "contacts", skip_invalid=False, dry_run=False)


@pytest.fixture
def scheduled(amity_db: str) -> str:
    """The 12th symposium (2027-04-20 – 22 in Beijing), invitations out, calendar published."""
    _registry()
    with session_scope() as session:
        apply_spec(
            session,
            read_spec(EVENTS_DIR / f"{SYMPOSIUM}.yaml", session),
            get_settings(),
            now=APPLIED,
        )
        find_event(session, SYMPOSIUM).status = "scheduled"
    return SYMPOSIUM


@pytest.fixture
def upcoming(amity_db: str, tmp_path: Path) -> tuple[str, int]:
    """The 12th symposium, scheduled and still ahead of the real clock: (slug, its year)."""
    _registry()
    spec, years = spec_ahead(EVENTS_DIR / f"{SYMPOSIUM}.yaml", tmp_path / "ahead")
    with session_scope() as session:
        apply_spec(session, read_spec(spec, session), get_settings(), now=APPLIED)
        find_event(session, SYMPOSIUM).status = "scheduled"
    return SYMPOSIUM, 2027 + years


def _status() -> str:
    with session_scope() as session:
        return find_event(session, SYMPOSIUM).status


def _transitions() -> list[tuple[str | None, str]]:
    with session_scope() as session:
        rows = session.scalars(select(EventTransition).order_by(EventTransition.id)).all()
        return [(t.from_status, t.to_status) for t in rows]


def _count(model: type) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_report_of_an_event_not_yet_held_is_refused(
    upcoming: tuple[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    scheduled, year = upcoming
    code = main(["report", scheduled, "--lang", "en"])

    out = capsys.readouterr()
    assert (code, out.out, out.err.splitlines()) == (
        2,
        "",
        [
            f"amity: event '{scheduled}' has not ended yet (it ends {year}-04-22 17:00 "
            "Asia/Shanghai): record a report once it is over, or if it took place, mark it "
            f"with `amity events held {scheduled}`"
        ],
    )
    assert (_status(), _count(Report)) == ("scheduled", 0)


def test_attendance_import_for_an_event_not_yet_held_is_refused(
    upcoming: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scheduled, year = upcoming
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("contact,attended\n,yes\n", encoding="utf-8")

    code = main(["attendance", "import", scheduled, str(sheet)])

    assert (code, capsys.readouterr().err) == (
        2,
        f"amity: event '{scheduled}' has not ended yet (it ends {year}-04-22 17:00 Asia/Shanghai): "
        f"record attendance once it is over, or if it took place, mark it with "
        f"`amity events held {scheduled}`\n",
    )
    assert _count(Attendance) == 0


@pytest.mark.usefixtures("prefect_api")
def test_events_held_then_attendance_is_taken(
    scheduled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("contact,attended,walk_in_name,walk_in_city\n,yes,Guest,Incheon\n")

    held = main(["events", "held", scheduled, "--note", "took place as planned"])
    again = main(["events", "held", scheduled])
    out = capsys.readouterr().out.splitlines()
    checked = main(["attendance", "import", scheduled, str(sheet), "--json"])

    assert (held, again, checked) == (0, 0, 0)
    assert out == [f"{scheduled}: held", f"{scheduled}: was held"]
    assert _transitions() == [("scheduled", "held")]


def test_events_held_refuses_a_draft_and_a_cancelled_event(
    scheduled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope() as session:
        find_event(session, scheduled).status = "draft"

    code = main(["events", "held", scheduled])

    assert (code, capsys.readouterr().err) == (
        2,
        f"amity: event '{scheduled}' is a draft: nobody was invited to it\n",
    )


@pytest.mark.usefixtures("prefect_api")
def test_events_reopen_undoes_reported_and_the_report_can_be_redone(
    scheduled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "held", scheduled]) == 0
    assert main(["report", scheduled, "--lang", "en"]) == 0
    refused = main(["events", "reopen", "no-such-event"])
    capsys.readouterr()

    reopened = main(["events", "reopen", scheduled])
    status_after_reopen = _status()
    twice = main(["events", "reopen", scheduled])

    assert (refused, reopened, status_after_reopen, twice) == (2, 0, "held", 2)
    assert capsys.readouterr().err == (
        f"amity: event '{scheduled}' is held, not reported: there is nothing to reopen\n"
    )
    assert main(["report", scheduled, "--lang", "en"]) == 0
    assert _transitions() == [
        ("scheduled", "held"),
        ("held", "reported"),
        ("reported", "held"),
        ("held", "reported"),
    ]


@pytest.mark.usefixtures("prefect_api")
def test_report_of_an_ended_event_records_held_before_reported(scheduled: str) -> None:
    from flows.reports import report_event

    report_event(scheduled, "en", now=dt.datetime(2027, 4, 23, tzinfo=dt.UTC))

    assert _transitions() == [("scheduled", "held"), ("held", "reported")]


def test_invite_edition_hosted_by_a_partner_is_refused_and_the_host_not_invited(
    scheduled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    thirteenth = create_next_edition(SERIES, get_settings(), now=APPLIED)["slug"]

    code = main(["invite", thirteenth, "--dry-run"])

    assert (code, capsys.readouterr().err) == (
        2,
        f"amity: event '{thirteenth}' is hosted by Tokyo: the office is its guest, and Tokyo "
        "sends the invitations; nothing was sent\n",
    )
    with session_scope() as session:
        cities = {c.city.name for c in invited_contacts(session, find_event(session, thirteenth))}
    assert "Tokyo" not in cities
    assert main(["lifecycle", thirteenth]) == 2  # its first step would invite


def test_invite_draft_edition_names_each_placeholder(
    scheduled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_next_edition(SERIES, get_settings(), now=APPLIED)  # the 13th, in Tokyo
    fourteenth = create_next_edition(SERIES, get_settings(), now=APPLIED)["slug"]  # Beijing

    code = main(["invite", fourteenth, "--dry-run"])

    err = capsys.readouterr().err.splitlines()
    assert (code, err[0]) == (
        2,
        f"amity: event '{fourteenth}' holds 6 placeholder(s) to decide before inviting (edit "
        "its spec and `amity events apply` it); nothing was sent:",
    )
    assert err[1:3] == [
        "amity:   venue: '(to be decided)': to be decided",
        "amity:   sessions.opening.room: 'Juyuan Hall': a room of Tokyo (edition 13)",
    ]
