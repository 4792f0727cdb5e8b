"""The schedule: the event's calendar feeds and its copy on a CalDAV server.

``publish_schedule`` writes the event's feed (the event and each session), a feed per partner
city and one per invited contact, then optionally puts one resource per VEVENT on a CalDAV
server. The updates and cancellations invitees receive are :mod:`flows.changes`.

The calendar as it stood at each SEQUENCE published is kept (CalendarSnapshot), so that an
update can say what changed since the version a contact holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from db.calendars import (
    cal_session,
    calendar_event,
    dates_of,
    live_sessions,
    published_resources,
    record_published,
    record_snapshot,
)
from db.changes import invitations_went_out
from db.events import find_event, record_transition
from db.models import Event
from db.session import session_scope
from flows.domain.ical import caldav_objects
from flows.domain.notices import primary_language
from flows.domain.slug import slugify
from flows.engine.console import refuse_unknown_event, run_logger, update_event_page
from flows.engine.forms import Clock
from flows.outbound.artifacts import output_link
from flows.outbound.caldav import CalDavClient, CalDavError, Published, PublishResult
from flows.outbound.calendar_files import FeedFiles, write_feeds


class ScheduleError(Exception):
    """Publishing failed; the feed files were written and nothing local was lost."""


@dataclass(frozen=True)
class CaldavSummary:
    """What one publish did to the collection at ``url`` (UIDs, sorted)."""

    url: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: of ``created``: written before, missing on the server, created again
    restored: list[str] = field(default_factory=list)
    #: someone else's version replaced or deleted (``--force``)
    overwritten: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, url: str, result: PublishResult) -> CaldavSummary:
        return cls(
            url=url,
            created=sorted(result.created),
            updated=sorted(result.updated),
            unchanged=sorted(result.unchanged),
            deleted=sorted(result.deleted),
            restored=sorted(result.restored),
            overwritten=sorted(result.overwritten),
        )

    def counts_text(self) -> str:
        """'2 created (1 re-created: missing on the server), 1 updated, …' for people."""
        created = f"{len(self.created)} created"
        if self.restored:
            created += f" ({len(self.restored)} re-created: missing on the server)"
        text = (
            f"{created}, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.deleted)} deleted"
        )
        if self.overwritten:
            text += f", {len(self.overwritten)} edited on the server overwritten (--force)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ensure_calendar(client: CalDavClient) -> None:
    try:
        client.ensure_calendar()
    except CalDavError as exc:
        raise ScheduleError(f"CalDAV {client.url}: {exc}") from exc
    except Exception as exc:  # connection refused, DNS, TLS: say where, keep the files
        raise ScheduleError(f"CalDAV {client.url}: {type(exc).__name__}: {exc}") from exc


def publish_caldav(
    session: Session,
    event: Event,
    url: str,
    settings: Settings,
    now: dt.datetime,
    *,
    force: bool = False,
) -> CaldavSummary:
    """Make the collection at ``url`` hold the event and its live sessions; remember the etags.

    A resource edited on the server by someone else is left alone (and reported) unless
    ``force``. What reached the server is recorded even when some resources fail, then
    ScheduleError.
    """
    home_lang = primary_language(settings.home_city.language)
    objects = caldav_objects(
        calendar_event(event, home_lang),
        [cal_session(s) for s in live_sessions(event)],
        event.updated_dt,
    )
    caldav = settings.caldav
    password = caldav.password.get_secret_value() if caldav.password else None
    with CalDavClient(url, caldav.username, password, timeout=caldav.timeout_seconds) as client:
        known = {
            uid: Published(etag, digest)
            for uid, (etag, digest) in published_resources(session, event.id, client.url).items()
        }
        error: CalDavError | None = None
        _ensure_calendar(client)
        try:
            result = client.publish(objects, known=known, force=force)
        except CalDavError as exc:
            result, error = exc.result, exc
        record_published(
            session,
            event_id=event.id,
            url=client.url,
            published={uid: (p.etag, p.digest) for uid, p in result.published.items()},
            hrefs={uid: client.resource_url(uid) for uid in result.published},
            now=now,
        )
        summary = CaldavSummary.of(client.url, result)
    if error is not None:
        # commit what did reach the server before failing, so the next run knows it
        session.commit()
        raise ScheduleError(
            f"{error}\nThe feed files are written; run again once the server is fixed."
        )
    return summary


@dataclass(frozen=True)
class ScheduleFiles:
    """What ``write_schedule`` wrote, and the event's state."""

    slug: str
    status: str
    files: FeedFiles
    #: why nothing was put in calendars (an event known only to the month or year)
    left_out: str = ""


@dataclass
class ScheduleSummary:
    event: str
    status: str
    feed: str
    partners: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    sessions: int = 0
    caldav: CaldavSummary | None = None
    #: why nothing was put in calendars (an event known only to the month or year)
    left_out: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@task
def write_schedule(event_ref: str, out: str | None, now: dt.datetime) -> ScheduleFiles:
    """Write the feeds and keep the calendar's state at this SEQUENCE."""
    settings = get_settings()
    with session_scope() as session:
        event = find_event(session, event_ref)
        left_out = calendar_left_out(event)
        if left_out:
            return ScheduleFiles(event.slug, event.status, FeedFiles(feed=""), left_out)
        files = write_feeds(session, event, settings, Path(out) if out else None)
        record_snapshot(session, event, now, replace_existing=False)
        return ScheduleFiles(slug=event.slug, status=event.status, files=files)


@task
def publish_schedule_caldav(
    event_ref: str, url: str, now: dt.datetime, force: bool = False
) -> CaldavSummary:
    """PUT/DELETE the event's resources on the CalDAV collection at ``url``."""
    settings = get_settings()
    with session_scope() as session:
        event = find_event(session, event_ref)
        return publish_caldav(session, event, url, settings, now, force=force)


@task
def mark_scheduled(event_ref: str, now: dt.datetime) -> str:
    """draft/inviting -> scheduled once invitations went out and the schedule is published."""
    with session_scope() as session:
        event = find_event(session, event_ref)
        if event.status in ("draft", "inviting") and invitations_went_out(session, event):
            record_transition(session, event, "scheduled", now, "schedule published")
        return event.status


@flow(name="publish schedule", flow_run_name="schedule: {event}")
def publish_schedule(
    event: str,
    out: str | SkipJsonSchema[None] = None,
    publish: str | SkipJsonSchema[None] = None,
    now: Clock = None,
    force: bool = False,
) -> dict[str, Any]:
    """Write the event's calendar feeds (event, partners, contacts) and publish them by CalDAV.

    Args:
        event: The event's short name (slug), e.g. beijing-tokyo-urban-symposium-12. Every event
            is listed under Variables, `amity_events`; `amity events list` lists them too.
        out: The folder for the .ics files on the worker. Leave empty for amity's output folder.
        publish: A CalDAV collection to publish to (its URL). Leave empty for the office's
            configured one (AMITY_CALDAV__URL), if any.
        force: Overwrite calendar entries someone else edited on the CalDAV server since
            amity last published them (without it they are left alone and reported).
    """
    if (refused := refuse_unknown_event(event)) is not None:
        return refused  # a Failed state: one line in the UI
    now = now or dt.datetime.now(dt.UTC)
    written = write_schedule(event, out, now)
    summary = ScheduleSummary(
        event=written.slug,
        status=written.status,
        feed=written.files.feed,
        partners=written.files.partners,
        contacts=written.files.contacts,
        sessions=written.files.sessions,
        left_out=written.left_out,
    )
    url = publish or get_settings().caldav.url
    if url and not written.left_out:
        summary.caldav = publish_schedule_caldav(event, url, now, force)
    summary.status = mark_scheduled(event, now)
    _schedule_artifact(summary)
    run_logger().info(
        "Wrote the calendar of %s (%d sessions, %d partner and %d contact feeds) to %s%s",
        summary.event,
        summary.sessions,
        len(summary.partners),
        len(summary.contacts),
        Path(summary.feed).parent,
        f"; published to {url}" if url else "",
    )
    update_event_page(summary.event, f"calendar written ({summary.sessions} sessions)")
    return summary.to_dict()


def calendar_left_out(event: Event) -> str:
    """Why the event is not put in calendars ('' when it is): its dates are known only to
    the month or year, and a calendar entry needs a day."""
    dates = dates_of(event)
    if dates.in_calendars:
        return ""
    return (
        f"{dates.text()}: not put in calendars (an entry needs a day; "
        f"no days or hours are invented)"
    )


def _file(path: str) -> str:
    """A file in an artifact: a link on the office's file server, else its name."""
    link = output_link(path, get_settings())
    return f"[{Path(path).name}]({link})" if link else f"`{Path(path).name}`"


def _schedule_artifact(summary: ScheduleSummary) -> None:
    if summary.left_out:
        create_markdown_artifact(
            markdown=f"# Calendar of {summary.event}\n\n{summary.left_out}\n",
            key=f"schedule-{slugify(summary.event)}"[:60].lower().replace("_", "-"),
            description=f"Calendar files of {summary.event}",
        )
        return
    lines = [
        f"# Calendar of {summary.event}",
        "",
        f"- feed ({summary.sessions} sessions): {_file(summary.feed)}",
    ]
    lines += [f"- partner {name}: {_file(p)}" for name, p in summary.partners.items()]
    lines.append(
        f"- {len(summary.contacts)} contact feeds under `{Path(summary.feed).parent / 'contacts'}`"
    )
    if summary.caldav:
        c = summary.caldav
        lines.append(f"- CalDAV {c.url}: {c.counts_text()}")
    create_markdown_artifact(
        markdown="\n".join(lines) + "\n",
        key=f"schedule-{slugify(summary.event)}"[:60].lower().replace("_", "-"),
        description=f"Calendar files of {summary.event}",
    )
