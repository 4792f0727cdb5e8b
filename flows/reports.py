"""Post-event report and attendance import: fetch from the database, call the domain, write.

``report_event`` gathers the event's facts in a handful of queries, lets
``flows.domain.report`` compute and render them, writes HTML, PDF, Markdown and CSV to
``<home>/out/<event>/report/<lang>/``, publishes the Markdown as a Prefect artifact, records
the Report row and moves the event to ``reported``. ``import_attendance`` reads an attendance
sheet with ``flows.domain.attendance`` and upserts it: all rows or none.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from config.settings import get_settings
from db import events
from db.invitees import partner_ties
from db.mailbox import event_bounces
from db.models import (
    Attendance,
    City,
    Contact,
    Event,
    EventTransition,
    Invitation,
    Report,
)
from db.outbox import invitation_sent_times
from db.session import session_scope
from flows.domain.attendance import AttendanceSheet, WalkInRecord, parse_attendance_csv
from flows.domain.clock import zone
from flows.domain.registry import CLEAR, ImportFileError, read_text_file
from flows.domain.report import (
    LANGUAGES,
    AttendanceFact,
    EditionFigures,
    EventFacts,
    InvitationFact,
    PlaceNames,
    ReportData,
    ReportInput,
    SessionFact,
    WalkIn,
    compute_report,
    headline_figures,
    parse_outcomes,
    render_pdf,
    render_report,
)
from flows.domain.slug import slugify
from flows.domain.states import TAKEN_PLACE, not_taken_place
from flows.engine.console import refuse_unknown_event, run_logger, update_event_page
from flows.engine.forms import REPORT_LANGUAGE, Clock, ReportLanguage
from flows.outbound.artifacts import output_link
from flows.outbound.atomic import write_atomically

OUTPUT_FILES = {
    "html": "report.html",
    "pdf": "report.pdf",
    "md": "report.md",
    "csv": "contacts.csv",
}


class ReportRefused(ValueError):
    """The event cannot be reported on (not held yet, or in an unsupported language)."""


def refuse_unless_taken_place(session: Session, event: Event, now: datetime, *, what: str) -> None:
    """Refuse an event that has not taken place; one that is over becomes ``held`` first."""
    reason = not_taken_place(event.slug, event.status, event.end_dt, event.timezone, now, what=what)
    if reason is not None:
        raise ReportRefused(reason)
    if event.status not in TAKEN_PLACE:
        events.record_transition(session, event, "held", now, "the event is over")


def check_report(event: str, now: datetime | None = None) -> None:
    """ReportRefused when the event has not taken place; outside any flow run, writes nothing."""
    with session_scope() as session:
        ev = events.find_event(session, event)
        refuse_unless_taken_place(session, ev, now or datetime.now(UTC), what="a report")
        session.rollback()


# --- reading ---------------------------------------------------------------------------------


def load_report_input(session: Session, event: Event, lang: str) -> ReportInput:
    """Everything the report needs about ``event``, as plain data: a few bulk queries, none per row."""
    invitations, invited_city_ids = _invitation_facts(session, event.id)
    attendance, walk_ins, walk_in_city_ids = _attendance_facts(session, event.id)
    agreements, follow_ups = parse_outcomes(event.outcomes or {})
    city_names = _city_names(session, invited_city_ids | walk_in_city_ids)
    return ReportInput(
        event=_event_facts(event, lang),
        city_names=city_names,
        invitations=invitations,
        attendance=attendance,
        walk_ins=walk_ins,
        sessions=[
            SessionFact(s.title, s.start_dt, s.end_dt, s.room or None)
            for s in event.sessions
            if not s.is_cancelled
        ],
        agreements=agreements,
        follow_ups=follow_ups,
        earlier_editions=earlier_editions(session, event),
    )


def _event_facts(event: Event, lang: str) -> EventFacts:
    return EventFacts(
        slug=event.slug,
        # the bare title: the report words the edition itself
        title=event.titles.get(lang) or event.titles.get("en") or event.slug,
        kind=event.kind,
        series=event.series,
        edition=event.edition,
        host_city=event.host_city.name,
        venue=event.venue or None,
        timezone=event.timezone,
        start_dt=event.start_dt,
        end_dt=event.end_dt,
        host_city_names=place_names(event.host_city),
    )


def _invitation_facts(session: Session, event_id: int) -> tuple[list[InvitationFact], set[int]]:
    """The event's invitations by contact, and the ids of the invitees' cities."""
    rows = session.execute(
        select(
            Invitation.id.label("invitation_id"),
            Invitation.contact_id,
            Invitation.rsvp_state,
            Invitation.rsvp_dt,
            Invitation.sequence,
            Invitation.created_dt,
            Contact.name_latin,
            Contact.name_native,
            Contact.email,
            Contact.language,
            City.id,
            City.name,
            City.country_code,
        )
        .join(Contact, Invitation.contact_id == Contact.id)
        .join(City, Contact.city_id == City.id)
        .where(Invitation.event_id == event_id)
        .order_by(Invitation.contact_id)
    ).all()
    # the tie of a partner: the rule letters and reminders use too
    ties = {city: tie.precision for city, tie in partner_ties(session).items()}
    sent = invitation_sent_times(session, event_id)
    bounced = {b.invitation_id for b in event_bounces(session, event_id)}
    invitations = [
        InvitationFact(
            contact_id=r.contact_id,
            name=r.name_latin or r.name_native,
            email=r.email or None,
            city=r.name,
            country=r.country_code,
            language=r.language or None,
            rsvp=r.rsvp_state,
            # Without ledger rows for this event (invitations recorded by hand, or imported),
            # the invitation row's creation is the best known sending time.
            sent_dt=sent.get((r.email or "").casefold()) if sent else r.created_dt,
            rsvp_dt=r.rsvp_dt,
            sequence=r.sequence,
            tie_precision=ties.get(r.id),
            is_bounced=r.invitation_id in bounced,
        )
        for r in rows
    ]
    return invitations, {r.id for r in rows}


def _attendance_facts(
    session: Session, event_id: int
) -> tuple[list[AttendanceFact], list[WalkIn], set[int]]:
    """Invitees' attendance, the walk-ins who came, and the ids of the walk-ins' known cities."""
    attendance: list[AttendanceFact] = []
    walk_ins: list[WalkIn] = []
    walk_in_city_ids: set[int] = set()
    for a, city_name, country in session.execute(
        select(Attendance, City.name, City.country_code)
        .outerjoin(City, Attendance.city_id == City.id)
        .where(Attendance.event_id == event_id)
        .order_by(Attendance.id)
    ).all():
        if a.contact_id is not None:
            size = a.delegation_size if a.is_attended else 0
            attendance.append(
                AttendanceFact(a.contact_id, a.is_attended, size, a.notes, a.is_simulated)
            )
        elif a.is_attended:
            if a.city_id is not None:
                walk_in_city_ids.add(a.city_id)
            walk_ins.append(
                WalkIn(
                    name=a.walk_in_name or "",
                    city=city_name or a.walk_in_city,
                    country=country or a.walk_in_country,
                    delegation_size=a.delegation_size,
                    notes=a.notes,
                    is_simulated=a.is_simulated,
                )
            )
    return attendance, walk_ins, walk_in_city_ids


def place_names(city: City) -> PlaceNames:
    """A city's names as the report wants them; ``City.names`` ({lang: name}) where it exists."""
    return PlaceNames(city.name, city.native_name or None, dict(city.names or {}))


def _city_names(session: Session, city_ids: set[int]) -> dict[tuple[str, str], PlaceNames]:
    """(country, English name) -> names, for the given cities, in one query."""
    if not city_ids:
        return {}
    cities = session.scalars(select(City).where(City.id.in_(city_ids))).all()
    return {(c.country_code, c.name): place_names(c) for c in cities}


def earlier_editions(session: Session, event: Event) -> list[EditionFigures]:
    """Figures of the series' earlier editions, from their invitations and attendance."""
    if not event.series:
        return []
    earlier = select(Event).where(
        Event.series == event.series, Event.id != event.id, Event.status != "cancelled"
    )
    if event.edition is not None:
        earlier = earlier.where(
            or_(Event.edition < event.edition, Event.edition.is_(None)),
            Event.start_dt < event.start_dt,
        )
    else:
        earlier = earlier.where(Event.start_dt < event.start_dt)
    events = session.scalars(earlier).all()
    if not events:
        return []
    ids = [e.id for e in events]
    invited = {
        event_id: (n, accepted)
        for event_id, n, accepted in session.execute(
            select(
                Invitation.event_id,
                func.count(),
                func.sum(case((Invitation.rsvp_state == "accepted", 1), else_=0)),
            )
            .where(Invitation.event_id.in_(ids))
            .group_by(Invitation.event_id)
        )
    }
    present = {
        event_id: (n, cities)
        for event_id, n, cities in session.execute(
            select(Attendance.event_id, func.count(), func.count(func.distinct(Contact.city_id)))
            .join(Contact, Attendance.contact_id == Contact.id)
            .where(Attendance.event_id.in_(ids), Attendance.is_attended.is_(True))
            .group_by(Attendance.event_id)
        )
    }
    stored = {
        r.event_id: r.figures
        for r in session.scalars(select(Report).where(Report.event_id.in_(ids)).order_by(Report.id))
    }
    out = []
    for e in events:
        n_invited, n_accepted = invited.get(e.id, (0, 0))
        n_attended, n_cities = present.get(e.id, (0, 0))
        if not n_invited and e.id in stored:
            # editions held before amity kept only their headline figures
            fig = stored[e.id]
            n_invited, n_accepted = fig.get("invited", 0), fig.get("accepted", 0)
            n_attended, n_cities = fig.get("attended", 0), fig.get("partners_present", 0)
        start = e.start_dt.astimezone(zone(e.timezone)).date()
        out.append(
            EditionFigures(e.edition, start, n_invited, int(n_accepted or 0), n_attended, n_cities)
        )
    return out


# --- writing ---------------------------------------------------------------------------------


def report_dir(event_slug: str, lang: str) -> Path:
    return get_settings().out_dir / slugify(event_slug) / "report" / lang


def write_outputs(report: ReportData, lang: str, generated_dt: datetime) -> dict[str, str]:
    """Render the four outputs of ``report`` and write them; returns kind -> path."""
    rendered = render_report(report, lang=lang, generated_dt=generated_dt)
    folder = report_dir(report.event.slug, lang)
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "html": rendered.html.encode("utf-8"),
        "pdf": render_pdf(rendered),
        "md": rendered.markdown.encode("utf-8"),
        "csv": rendered.csv.encode("utf-8"),
    }
    paths = {}
    for kind, name in OUTPUT_FILES.items():
        write_atomically(folder / name, data[kind])
        paths[kind] = str(folder / name)
    return paths


def record_report(
    session: Session, event: Event, lang: str, folder: str, figures: dict[str, int], now: datetime
) -> None:
    """Upsert the Report row and move the event to ``reported`` (logged as a transition)."""
    row = session.scalars(
        select(Report).where(Report.event_id == event.id, Report.language == lang)
    ).one_or_none()
    if row is None:
        session.add(
            Report(event_id=event.id, language=lang, generated_dt=now, path=folder, figures=figures)
        )
    else:
        row.generated_dt, row.path, row.figures = now, folder, figures
    if event.status != "reported":
        session.add(
            EventTransition(
                event_id=event.id,
                from_status=event.status,
                to_status="reported",
                at_dt=now,
                note=f"report ({lang}) written to {folder}",
            )
        )
        event.status = "reported"
        event.updated_dt = now


# --- the report flow -------------------------------------------------------------------------


@task
def build_report(event: str, lang: str, now: datetime) -> dict[str, Any]:
    """Fetch the event's facts, compute the report, write its four files, record it."""
    with session_scope() as session:
        ev = events.find_event(session, event)
        refuse_unless_taken_place(session, ev, now, what="a report")
        data = load_report_input(session, ev, lang)
        report = compute_report(data, now=now)
        paths = write_outputs(report, lang, now)
        figures = headline_figures(report)
        folder = str(Path(paths["html"]).parent)
        record_report(session, ev, lang, folder, figures, now)
        markdown = Path(paths["md"]).read_text(encoding="utf-8")
        return {
            "event": ev.slug,
            "language": lang,
            "status": ev.status,
            "folder": folder,
            "files": paths,
            "figures": figures,
            "markdown": markdown,
        }


@flow(
    name="post-event report", flow_run_name="report: {event} ({report_language})", log_prints=False
)
def report_event(
    event: str, report_language: ReportLanguage = REPORT_LANGUAGE, now: Clock = None
) -> dict[str, Any]:
    """Write the post-event report (HTML, PDF, Markdown, CSV) and mark the event reported.

    Args:
        event: The event's short name (slug), e.g. beijing-tokyo-urban-symposium-12. Every event
            is listed under Variables, `amity_events`; `amity events list` lists them too.
        report_language: The language the post-event report is written in.
    """
    if (refused := refuse_unknown_event(event)) is not None:
        return refused  # a Failed state: one line in the UI
    lang = report_language
    if lang not in LANGUAGES:
        raise ReportRefused(f"unsupported language {lang!r}; use one of {', '.join(LANGUAGES)}")
    result = build_report(event, lang, now or datetime.now(UTC))
    create_markdown_artifact(
        markdown=result.pop("markdown") + sign_off_section(result["event"]),
        key=_artifact_key(f"report-{result['event']}-{lang}"),
        description=f"Post-event report: {result['event']} ({lang})",
    )
    link = output_link(result["files"].get("pdf") or result["files"]["html"], get_settings())
    run_logger().info(
        "Wrote the %s report of %s to %s%s",
        lang,
        result["event"],
        result["folder"],
        f" ({link})" if link else "",
    )
    update_event_page(result["event"], f"report written in {lang}")
    return result


def sign_off_section(slug: str) -> str:
    """Who approved or rejected the event's messages, with the digests (the approvals)."""
    from db.approvals import list_approvals
    from flows.domain.clock import zone
    from flows.domain.review import sign_off_markdown

    with session_scope() as session:
        ev = events.find_event(session, slug)
        rows = list_approvals(session, now=datetime.now(UTC), everything=True, event_id=ev.id)
    text = sign_off_markdown(rows, zone(get_settings().home_city.timezone))
    return "\n" + text if text else ""


def _artifact_key(text: str) -> str:
    # Prefect artifact keys allow lower-case letters, digits and dashes only
    return re.sub(r"[^a-z0-9-]+", "-", slugify(text).lower()).strip("-") or "report"


# --- attendance import -----------------------------------------------------------------------


@dataclass
class AttendanceImport:
    event: str
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    walk_ins: int = 0
    rejected: int = 0
    imported: bool = False
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_attendance(
    session: Session, event: Event, sheet: AttendanceSheet
) -> tuple[int, int, int]:
    """Upsert the sheet's rows for ``event``; returns (created, updated, unchanged).

    Rows absent from the sheet are kept: a sheet completes what is recorded, it does not
    replace it.
    """
    existing = {
        a.contact_id: a
        for a in session.scalars(
            select(Attendance).where(
                Attendance.event_id == event.id, Attendance.contact_id.is_not(None)
            )
        )
    }
    walk_ins = {
        ((a.walk_in_name or "").casefold(), (a.walk_in_city or "").casefold()): a
        for a in session.scalars(
            select(Attendance).where(
                Attendance.event_id == event.id, Attendance.contact_id.is_(None)
            )
        )
    }
    cities = {
        (name.casefold(), country): city_id
        for city_id, name, country in session.execute(select(City.id, City.name, City.country_code))
    }
    outcomes: Counter[str] = Counter()
    for r in sheet.records:
        values = {"is_attended": r.attended, "delegation_size": r.delegation_size, "notes": r.notes}
        found = existing.get(r.contact_id)
        _keep_or_clear_notes(values, found)
        new: dict[str, Any] = {"event_id": event.id, "contact_id": r.contact_id}
        outcomes[_upsert_attendance(session, found, new, values)] += 1
    for w in sheet.walk_ins:
        values = _walk_in_values(w, cities)
        found = walk_ins.get((w.name.casefold(), w.city.casefold()))
        _keep_or_clear_notes(values, found)
        new = {"event_id": event.id, "walk_in_name": w.name}
        outcomes[_upsert_attendance(session, found, new, values)] += 1
    return outcomes["created"], outcomes["updated"], outcomes["unchanged"]


def _keep_or_clear_notes(values: dict[str, Any], found: Attendance | None) -> None:
    """Empty notes keep what a row has (a re-import of a sheet without them); "-" clears."""
    if values["notes"] == CLEAR:
        values["notes"] = ""
    elif not values["notes"] and found is not None:
        del values["notes"]


def _walk_in_values(w: WalkInRecord, cities: dict[tuple[str, str], int]) -> dict[str, Any]:
    """A walk-in's row, tied to a registry city by name and country (or by a name alone, if unique)."""
    city_id = cities.get((w.city.casefold(), w.country)) if w.country else None
    if city_id is None and w.country is None:
        matches = [cid for (name, _), cid in cities.items() if name == w.city.casefold()]
        city_id = matches[0] if len(matches) == 1 else None
    return {
        "is_attended": True,
        "delegation_size": w.delegation_size,
        "notes": w.notes,
        "city_id": city_id,
        "walk_in_city": w.city,
        "walk_in_country": w.country,
    }


def _upsert_attendance(
    session: Session, found: Attendance | None, new: dict[str, Any], values: dict[str, Any]
) -> str:
    """Add a row of ``new`` and ``values``, or update ``found``: "created", "updated" or "unchanged"."""
    if found is None:
        session.add(Attendance(**new, **values))
        return "created"
    return "updated" if _update(found, values) else "unchanged"


def _update(row: Attendance, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def read_sheet(path: Path) -> str:
    """The sheet's text; ReportRefused saying in one line why it cannot be read."""
    try:
        return read_text_file(path)
    except ImportFileError as exc:
        raise ReportRefused(str(exc)) from None


def check_attendance(event: str, path: str, now: datetime | None = None) -> dict[str, Any]:
    """Every check of an attendance import, outside any flow run, writing nothing: the file,
    the event's state and every row against its invitees (ReportRefused for the first two)."""
    return _attendance(event, path, False, now, write=False)


@task
def import_attendance_file(
    event: str, path: str, skip_invalid: bool, now: datetime | None = None
) -> dict[str, Any]:
    """Check every row against the event's invitees, then upsert all of them (or none)."""
    return _attendance(event, path, skip_invalid, now, write=True)


def _attendance(
    event: str, path: str, skip_invalid: bool, now: datetime | None, *, write: bool
) -> dict[str, Any]:
    text = read_sheet(Path(path))
    with session_scope() as session:
        ev = events.find_event(session, event)
        refuse_unless_taken_place(session, ev, now or datetime.now(UTC), what="attendance")
        result = AttendanceImport(event=ev.slug, file=path)
        invitees = session.execute(
            select(Contact.id, Contact.email)
            .join(Invitation, Invitation.contact_id == Contact.id)
            .where(Invitation.event_id == ev.id)
        ).all()
        sheet = parse_attendance_csv(
            text,
            invitees_by_email={(email or "").casefold(): cid for cid, email in invitees if email},
            invitee_ids={cid for cid, _ in invitees},
        )
        result.rows = len(sheet.records) + len(sheet.walk_ins) + len({e.row for e in sheet.errors})
        result.rejected = len({e.row for e in sheet.errors})
        result.problems = [f"{Path(path).name}:{e}" for e in sheet.errors]
        result.walk_ins = len(sheet.walk_ins)
        if (sheet.errors and not skip_invalid) or not write:
            session.rollback()
            return result.to_dict()
        result.created, result.updated, result.unchanged = apply_attendance(session, ev, sheet)
        result.imported = True
    return result.to_dict()


@flow(name="import attendance", flow_run_name="attendance import: {event}", log_prints=False)
def import_attendance(
    event: str, path: str, skip_invalid: bool = False, now: Clock = None
) -> dict[str, Any]:
    """Import who attended an event (and walk-ins) from a CSV sheet.

    Args:
        event: The event's short name (slug), e.g. beijing-tokyo-urban-symposium-12. Every event
            is listed under Variables, `amity_events`; `amity events list` lists them too.
        path: The attendance sheet (CSV) on the worker, one row per person.
        skip_invalid: Import the good rows and list the bad ones, instead of importing none.
    """
    if (refused := refuse_unknown_event(event)) is not None:
        return refused  # a Failed state: one line in the UI
    result = import_attendance_file(event, path, skip_invalid, now)
    lines = [
        f"# Attendance of `{result['event']}` from `{Path(path).name}`",
        "",
        "| rows | created | updated | unchanged | walk-ins | rejected | imported |",
        "|---|---|---|---|---|---|---|",
        f"| {result['rows']} | {result['created']} | {result['updated']} "
        f"| {result['unchanged']} | {result['walk_ins']} | {result['rejected']} "
        f"| {'yes' if result['imported'] else 'no'} |",
    ]
    if result["problems"]:
        lines += ["", "## Problems", *(f"- `{p}`" for p in result["problems"])]
    create_markdown_artifact(
        markdown="\n".join(lines),
        key=_artifact_key(f"attendance-{result['event']}"),
        description="amity attendance import",
    )
    run_logger().info(
        "Attendance of %s from %s: %d rows, %d created, %d updated, %d rejected%s",
        result["event"],
        Path(path).name,
        result["rows"],
        result["created"],
        result["updated"],
        result["rejected"],
        "" if result["imported"] else " — nothing imported: fix the sheet and run again",
    )
    for problem in result["problems"]:
        run_logger().info("Attendance sheet: %s", problem)
    if result["imported"]:
        update_event_page(result["event"], f"attendance imported ({result['rows']} rows)")
    return result
