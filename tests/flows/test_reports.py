"""The report and attendance-import flows against a real Prefect API and both databases."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    Attendance,
    City,
    Contact,
    Event,
    EventSession,
    EventTransition,
    Invitation,
    OutboxMessage,
    Report,
    Tie,
)
from db.session import session_scope
from flows.cli import main
from flows.reports import ReportRefused, import_attendance, report_event

pytestmark = pytest.mark.usefixtures("prefect_api")

NOW = datetime(2024, 10, 20, 9, 0, tzinfo=UTC)
SENT = datetime(2024, 8, 1, 2, 0, tzinfo=UTC)
SLUG = "fcc-2024"

# contact key -> (city, name, e-mail, rsvp, attended, delegation size); None = no record
CURRENT = {
    "sato": ("Tokyo", "Sato Hanako", "sato@tokyo.example", "accepted", True, 3),
    "suzuki": ("Tokyo", "Suzuki Ichiro", "suzuki@tokyo.example", "accepted", False, 0),
    "schmidt": ("Berlin", "Anna Schmidt", "schmidt@berlin.example", "declined", None, 0),
    "weber": ("Berlin", "Jonas Weber", "weber@berlin.example", "needs-action", None, 0),
    "olena": ("Kyiv", "Olena Kovalenko", "olena@kyiv.example", "tentative", True, 2),
    "kim": ("Seoul", "Kim Min-jun", "kim@seoul.example", "accepted", True, 1),
}
EARLIER = {  # the first edition, in 2022
    "sato": ("accepted", True),
    "suzuki": ("accepted", False),
    "schmidt": ("declined", None),
    "kim": ("accepted", True),
}


def _seed() -> None:
    """Beijing, four partners (Kyiv's tie undated), six contacts, two editions of a series."""
    with session_scope() as s:
        beijing = City(
            name="Beijing",
            native_name="北京",
            country_code="CN",
            timezone="Asia/Shanghai",
            language="zh",
            is_home=True,
        )
        cities = {
            name: City(name=name, native_name=native, country_code=cc, timezone=tz, language=lang)
            for name, native, cc, tz, lang in [
                ("Tokyo", "東京都", "JP", "Asia/Tokyo", "ja"),
                ("Berlin", "Berlin", "DE", "Europe/Berlin", "de"),
                ("Kyiv", "Київ", "UA", "Europe/Kyiv", "uk"),
                ("Seoul", "서울", "KR", "Asia/Seoul", "ko"),
            ]
        }
        s.add_all([beijing, *cities.values()])
        s.flush()
        for name, city in cities.items():
            known = name != "Kyiv"
            s.add(
                Tie(
                    home_city_id=beijing.id,
                    partner_city_id=city.id,
                    established_on=date(1990, 5, 1) if known else None,
                    precision="day" if known else "unknown",
                    anniversary_md=501 if known else None,
                )
            )
        contacts = {
            key: Contact(
                city_id=cities[city].id,
                name_native=name,
                name_latin=name,
                email=email,
                language=cities[city].language,
            )
            for key, (city, name, email, *_) in CURRENT.items()
        }
        s.add_all(contacts.values())
        earlier = _event(s, beijing, "fcc-2022", 1, datetime(2022, 9, 22, 1, tzinfo=UTC))
        current = _event(s, beijing, SLUG, 2, datetime(2024, 9, 26, 1, tzinfo=UTC))
        current.outcomes = {
            "agreements": [
                {
                    "title": "MoU on urban data",
                    "partner": "Tokyo",
                    "kind": "memorandum",
                    "signed_on": "2024-09-28",
                },
            ],
            "follow_ups": [
                {
                    "action": "Send the photos",
                    "owner": "Li Wei",
                    "due": "2024-10-31",
                    "partner": "Tokyo",
                },
            ],
        }
        s.add(
            EventSession(
                event_id=current.id,
                key="opening",
                title="Opening plenary",
                start_dt=current.start_dt,
                end_dt=current.start_dt + timedelta(hours=2),
                uid="opening@test",
            )
        )
        s.flush()
        for key, (_, _, email, rsvp, attended, size) in CURRENT.items():
            c = contacts[key]
            _invite(s, current, c, rsvp, SENT + timedelta(hours=10 * len(key)))
            s.add(
                OutboxMessage(
                    purpose="invitation",
                    recipient=email,
                    occurrence=f"{SLUG}:{key}",
                    message_id=f"<{key}@test>",
                    state="sent",
                    claim_token="t",
                    claimed_dt=SENT,
                    sent_dt=SENT,
                    event_id=current.id,
                )
            )
            if attended is not None:
                s.add(
                    Attendance(
                        event_id=current.id,
                        contact_id=c.id,
                        is_attended=attended,
                        delegation_size=size,
                    )
                )
        for key, (rsvp, attended) in EARLIER.items():
            _invite(s, earlier, contacts[key], rsvp, None)
            if attended is not None:
                s.add(
                    Attendance(
                        event_id=earlier.id,
                        contact_id=contacts[key].id,
                        is_attended=attended,
                        delegation_size=1 if attended else 0,
                    )
                )
        s.add(
            Attendance(
                event_id=current.id,
                walk_in_name="Bat-Erdene Dorj",
                walk_in_city="Ulaanbaatar",
                walk_in_country="MN",
                is_attended=True,
                delegation_size=2,
            )
        )


def _event(s: Session, host: City, slug: str, edition: int, start: datetime) -> Event:
    event = Event(
        slug=slug,
        titles={
            "en": f"Friendship Cities Conference {start.year}",
            "zh": f"{start.year}年友好城市大会",
        },
        kind="conference",
        series="Friendship Cities Conference",
        edition=edition,
        host_city_id=host.id,
        venue="Friendship Hotel",
        timezone="Asia/Shanghai",
        start_dt=start,
        end_dt=start + timedelta(days=3),
        status="held",
        uid=f"{slug}@test",
        created_dt=SENT,
        updated_dt=SENT,
    )
    s.add(event)
    s.flush()
    return event


def _invite(
    s: Session, event: Event, contact: Contact, rsvp: str, answered: datetime | None
) -> None:
    s.add(
        Invitation(
            event_id=event.id,
            contact_id=contact.id,
            uid=f"{event.slug}-{contact.email}",
            rsvp_state=rsvp,
            rsvp_dt=None if rsvp == "needs-action" else (answered or SENT),
            created_dt=SENT,
        )
    )


def _files(result: dict[str, Any]) -> dict[str, bytes]:
    return {kind: Path(path).read_bytes() for kind, path in result["files"].items()}


def test_report_event_figures_match_database(amity_db: str) -> None:
    _seed()

    result = report_event(SLUG, "en", now=NOW)

    with session_scope() as s:
        event_id = s.scalar(select(Event.id).where(Event.slug == SLUG))

        def count(*where: Any) -> int:
            query = (
                select(func.count())
                .select_from(Invitation)
                .where(Invitation.event_id == event_id, *where)
            )
            return int(s.scalar(query) or 0)

        attended = select(Attendance.contact_id).where(
            Attendance.event_id == event_id,
            Attendance.is_attended.is_(True),
            Attendance.contact_id.is_not(None),
        )
        expected = {
            "invited": count(),
            "answered": count(Invitation.rsvp_state != "needs-action"),
            "accepted": count(Invitation.rsvp_state == "accepted"),
            "attended": count(Invitation.contact_id.in_(attended)),
            "people": int(
                s.scalar(
                    select(func.sum(Attendance.delegation_size)).where(
                        Attendance.event_id == event_id, Attendance.is_attended.is_(True)
                    )
                )
                or 0
            ),
            "walk_ins": int(
                s.scalar(
                    select(func.count())
                    .select_from(Attendance)
                    .where(Attendance.event_id == event_id, Attendance.contact_id.is_(None))
                )
                or 0
            ),
            "partners_present": int(
                s.scalar(
                    select(func.count(func.distinct(Contact.city_id))).where(
                        Contact.id.in_(attended)
                    )
                )
                or 0
            ),
        }
        stored = s.scalars(select(Report).where(Report.event_id == event_id)).one()
        assert {k: stored.figures[k] for k in expected} == expected
    assert expected == {
        "invited": 6,
        "answered": 5,
        "accepted": 3,
        "attended": 3,
        "people": 8,
        "walk_ins": 1,
        "partners_present": 3,
    }
    assert result["figures"] == stored.figures

    rows = list(csv.DictReader(io.StringIO(_files(result)["csv"].decode("utf-8"))))
    assert (len(rows), sum(r["attended"] == "yes" for r in rows)) == (6 + 1, 3 + 1)
    md = _files(result)["md"].decode("utf-8")
    assert "| Japan | 2 | 2 | 2 | 1 | 3 |" in md
    assert "- The date the tie was established is unknown: Kyiv (Ukraine)" in md
    assert "- Bat-Erdene Dorj (Ulaanbaatar, Mongolia): 2" in md
    assert "- MoU on urban data (memorandum, Tokyo, 28 September 2024)" in md


def test_report_event_compares_with_earlier_edition(amity_db: str) -> None:
    _seed()

    md = _files(report_event(SLUG, "en", now=NOW))["md"].decode("utf-8")

    assert "| Edition 1 | 22 September 2022 | 4 | 3 | 2 | 2 |" in md
    assert "| **Edition 2** (this edition) | 26 September 2024 | 6 | 3 | 3 | 3 |" in md


def test_report_event_marks_event_reported_and_writes_files(
    amity_db: str, amity_home: Path
) -> None:
    _seed()

    result = report_event(SLUG, "zh", now=NOW)

    folder = amity_home / "out" / SLUG / "report" / "zh"
    assert sorted(p.name for p in folder.iterdir()) == [
        "contacts.csv",
        "report.html",
        "report.md",
        "report.pdf",
    ]
    assert (result["folder"], result["status"]) == (str(folder), "reported")
    assert _files(result)["pdf"][:5] == b"%PDF-"
    with session_scope() as s:
        event = s.scalars(select(Event).where(Event.slug == SLUG)).one()
        transitions = s.scalars(
            select(EventTransition.from_status, EventTransition.to_status).where(
                EventTransition.event_id == event.id
            )
        ).all()
        assert (event.status, len(transitions)) == ("reported", 1)


def test_report_event_rerun_replaces_with_same_bytes(amity_db: str) -> None:
    _seed()
    first = _files(report_event(SLUG, "en", now=NOW))

    again = _files(report_event(SLUG, "en", now=NOW))
    later = _files(report_event(SLUG, "en", now=NOW + timedelta(hours=1)))

    assert again == first
    assert (later["csv"] == first["csv"], later["md"] == first["md"]) == (True, False)
    assert later["md"].replace(b"18:00", b"17:00") == first["md"]  # Asia/Shanghai
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 1
        assert s.scalar(select(func.count()).select_from(EventTransition)) == 1


def test_report_event_draft_event_is_refused(amity_db: str) -> None:
    _seed()
    with session_scope() as s:
        s.scalars(select(Event).where(Event.slug == SLUG)).one().status = "draft"

    with pytest.raises(ReportRefused, match="is draft: nothing to report yet"):
        report_event(SLUG, "en", now=NOW)


def _sheet(tmp_path: Path, body: str) -> str:
    path = tmp_path / "attendance.csv"
    path.write_text("contact,attended,delegation_size,notes,walk_in_name,walk_in_city\n" + body)
    return str(path)


def _attendance() -> list[tuple[str | None, str | None, bool, int]]:
    with session_scope() as s:
        event_id = s.scalar(select(Event.id).where(Event.slug == SLUG))
        rows = s.execute(
            select(
                Contact.email,
                Attendance.walk_in_name,
                Attendance.is_attended,
                Attendance.delegation_size,
            )
            .outerjoin(Contact, Attendance.contact_id == Contact.id)
            .where(Attendance.event_id == event_id)
            .order_by(Contact.email, Attendance.walk_in_name)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_import_attendance_unknown_contact_imports_nothing(amity_db: str, tmp_path: Path) -> None:
    _seed()
    before = _attendance()

    result = import_attendance(
        SLUG, _sheet(tmp_path, "weber@berlin.example,yes,2,,,\nghost@nowhere.example,yes,1,,,\n")
    )

    assert (result["imported"], result["problems"]) == (
        False,
        [
            "attendance.csv:3: contact='ghost@nowhere.example': "
            "unknown contact: not invited to this event"
        ],
    )
    assert _attendance() == before


def test_import_attendance_skip_invalid_imports_the_rest(amity_db: str, tmp_path: Path) -> None:
    _seed()

    result = import_attendance(
        SLUG,
        _sheet(
            tmp_path,
            "weber@berlin.example,yes,2,,,\nghost@nowhere.example,yes,1,,,\n"
            ",yes,4,,Guest of Seoul,Incheon\n",
        ),
        skip_invalid=True,
    )

    assert (result["imported"], result["created"], result["rejected"]) == (True, 2, 1)
    rows = _attendance()
    assert ("weber@berlin.example", None, True, 2) in rows
    assert (None, "Guest of Seoul", True, 4) in rows


def test_import_attendance_same_file_twice_changes_nothing(amity_db: str, tmp_path: Path) -> None:
    _seed()
    sheet = _sheet(tmp_path, "weber@berlin.example,yes,2,late,,\n,yes,4,,Guest of Seoul,Incheon\n")
    import_attendance(SLUG, sheet)
    after_first = _attendance()

    again = import_attendance(SLUG, sheet)

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert _attendance() == after_first


def test_import_attendance_again_empty_notes_keep_them_and_dash_clears(
    amity_db: str, tmp_path: Path
) -> None:
    _seed()

    def notes() -> str | None:
        with session_scope() as s:
            return s.scalar(
                select(Attendance.notes)
                .join(Contact, Attendance.contact_id == Contact.id)
                .where(Contact.email == "weber@berlin.example")
            )

    import_attendance(SLUG, _sheet(tmp_path, "weber@berlin.example,yes,2,came late,,\n"))
    kept = import_attendance(SLUG, _sheet(tmp_path, "weber@berlin.example,yes,2,,,\n"))
    after_empty = notes()
    import_attendance(SLUG, _sheet(tmp_path, "weber@berlin.example,yes,2,-,,\n"))

    assert (kept["unchanged"], after_empty, notes()) == (1, "came late", "")


def test_cli_report_json_prints_figures(amity_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed()

    code = main(["report", SLUG, "--lang", "en", "--json"])

    out = json.loads(capsys.readouterr().out)
    assert (code, out["event"], out["figures"]["attended"]) == (0, SLUG, 3)


def test_cli_attendance_import_bad_sheet_exits_2(
    amity_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed()

    code = main(["attendance", "import", SLUG, _sheet(tmp_path, "99,yes,1,,,\n")])

    assert code == 2
    assert capsys.readouterr().out.splitlines() == [
        "attendance.csv: nothing imported, 1 problem(s):",
        "  attendance.csv:2: contact='99': unknown contact: not invited to this event",
    ]


def test_report_event_zh_names_places_in_chinese(amity_db: str) -> None:
    _seed()

    md = _files(report_event(SLUG, "zh", now=NOW))["md"].decode("utf-8")

    summary = md.split("## 概要\n\n", 1)[1].split("\n", 1)[0]
    # the home city's native name is Chinese; Tokyo's native name is written in Han characters;
    # Seoul's is Hangul, which a Chinese reader does not read: the English name stands in
    assert "在北京举行" in summary and "Beijing" not in md
    assert ("| 東京都 | 日本 |" in md, "| Seoul | 韩国 |" in md) == (True, True)
