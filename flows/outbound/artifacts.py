"""What the Prefect UI shows an organizer: a table per recipient, sample letters, a page per event.

Artifacts are Markdown in the office's words: a heading with the event's name ("Invitations —
12th Beijing–Tokyo Urban Symposium", a dry run says so in the heading), the counts, one row
per recipient (problems first) and the next step. Links start with `outputs.base_url` (the
office's file server); without one there are no links at all — a file:// link to a worker's
disk opens nothing on an office PC — and a sample letter per language stands in for them.

Every flow that touches an event also rewrites the event's own page (key `event-<slug>`), so
that page's history in the UI is the event's story.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.settings import Settings
from db.models import Event, EventTransition, Invitation, OutboxMessage, Report
from flows.domain.clock import zone
from flows.domain.letters import en_ordinal
from flows.domain.slug import slugify
from flows.outbound.outputs import calendar_dir

#: rows of a recipient table in the UI; the rest is counted (problems are listed first)
MAX_ROWS = 200
#: the order a recipient table lists states in: what needs the organizer first
STATE_ORDER = ("failed", "opted out", "not sent (dry run)", "sent", "sent before")
#: what an organizer does next, by the event's status
NEXT_STEP = {
    "draft": "send the invitations (deployment send-invitations, or event-lifecycle)",
    "inviting": "publish the calendar (publish-schedule, or event-lifecycle)",
    "scheduled": "wait for the event to take place; event-lifecycle then writes the report",
    "held": "import the attendance sheet (import-attendance), then report-event",
    "reported": "nothing: the report is written",
    "cancelled": "nothing: the event is cancelled",
}


@dataclass(frozen=True)
class RecipientRow:
    """One recipient as the organizer reads it."""

    contact: str
    city: str
    language: str
    #: sent | sent before | failed | opted out | not sent (dry run)
    state: str
    reason: str = ""
    #: the letter on the office's file server, if there is one
    link: str | None = None


def artifact_key(text: str) -> str:
    """A Prefect artifact key (lower-case letters, digits and dashes) made from ``text``."""
    key = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not key.isascii() or not key:
        key = re.sub(r"[^a-z0-9-]+", "-", slugify(text).lower()).strip("-")
    return key[:100] or "amity"


def event_key(slug: str) -> str:
    """The key of an event's page: ``event-<slug>``."""
    return artifact_key(f"event-{slug}")


def plain_title(titles: Mapping[str, str], edition: int | None, slug: str) -> str:
    """The event's name in English words: "12th Beijing–Tokyo Urban Symposium"."""
    title = titles.get("en") or next(iter(titles.values()), "") or slug
    return f"{en_ordinal(edition)} {title}" if edition else title


def event_title(event: Event) -> str:
    return plain_title(event.titles or {}, event.edition, event.slug)


def heading(what: str, title: str, *, dry_run: bool = False) -> str:
    """An artifact's title: "Invitations — 12th Beijing–Tokyo Urban Symposium (dry run)"."""
    return f"{what} — {title}" + (" (dry run: nothing sent)" if dry_run else "")


def output_link(path: str | Path | None, settings: Settings) -> str | None:
    """``path`` (below the output folder) on the office's file server; None without one."""
    base = settings.outputs.base_url
    if not base or not path:
        return None
    try:
        relative = Path(path).resolve().relative_to(settings.out_dir.resolve())
    except ValueError:
        return None
    return f"{base.rstrip('/')}/{quote(relative.as_posix())}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip() or "—"


def recipients_table(rows: Sequence[RecipientRow], *, limit: int = MAX_ROWS) -> list[str]:
    """Markdown lines: one table row per recipient, problems first, at most ``limit`` rows."""
    if not rows:
        return ["No recipients."]
    rank = {state: i for i, state in enumerate(STATE_ORDER)}
    ordered = sorted(rows, key=lambda r: (rank.get(r.state, len(rank)), r.city, r.contact))
    has_links = any(r.link for r in rows)
    header = "| contact | city | language | state | reason |" + (" letter |" if has_links else "")
    lines = [header, "|---|---|---|---|---|" + ("---|" if has_links else "")]
    for row in ordered[:limit]:
        cells = [row.contact, row.city, row.language, row.state, row.reason]
        if has_links:
            cells.append(f"[open]({row.link})" if row.link else "")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    rest = ordered[limit:]
    if rest:
        counts = Counter(r.state for r in rest)
        more = ", ".join(f"{n:,} {state}" for state, n in sorted(counts.items()))
        lines += ["", f"… and {len(rest):,} more ({more}); every recipient is in the run's log."]
    return lines


def counts_line(rows: Iterable[RecipientRow]) -> str:
    counts = Counter(r.state for r in rows)
    ordered = [s for s in STATE_ORDER if s in counts] + sorted(set(counts) - set(STATE_ORDER))
    return " · ".join(f"**{counts[s]:,}** {s}" for s in ordered) or "nobody"


def letter_text(eml: str | Path | bytes | None) -> str | None:
    """The plain-text letter of an e-mail (its bytes, or its .eml file), or None if unreadable."""
    if eml is None:
        return None
    try:
        data = eml if isinstance(eml, bytes) else Path(eml).read_bytes()
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = message.get_body(("plain",))
        return str(body.get_content()) if body is not None else None
    except (OSError, LookupError, ValueError):
        return None


def sample_letters(samples: Mapping[str, tuple[str, str | Path | bytes | None]]) -> list[str]:
    """Markdown: one letter per language ({language: (who, .eml path or bytes)}), as read."""
    lines: list[str] = []
    for language, (who, eml) in sorted(samples.items()):
        text = letter_text(eml)
        if text is None:
            continue
        lines += ["", f"### In `{language}`, to {who}", ""]
        lines += [f"> {line}  " if line.strip() else ">" for line in text.strip().splitlines()]
    return (["", "## A sample letter per language", *lines]) if lines else []


def recipients_markdown(
    what: str,
    title: str,
    rows: Sequence[RecipientRow],
    *,
    dry_run: bool = False,
    notes: Sequence[str] = (),
    samples: Mapping[str, tuple[str, str | Path | bytes | None]] | None = None,
    next_step: str = "",
) -> str:
    """The whole artifact of a mailing: heading, counts, notes, next step, table, samples."""
    lines = [f"# {heading(what, title, dry_run=dry_run)}", "", counts_line(rows), ""]
    lines += [f"- {note}" for note in notes]
    if notes:
        lines.append("")
    if next_step:
        lines += [f"**Next step:** {next_step}", ""]
    lines += ["## Recipients", "", *recipients_table(rows)]
    lines += sample_letters(samples or {})
    return "\n".join(lines) + "\n"


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """Create the artifact (needs a Prefect API: a flow run, or PREFECT_API_URL)."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(markdown=markdown, key=key, description=description)


# --- the event's page ------------------------------------------------------------------------


def _counts(session: Session, column: object, *where: object) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count()).where(*where).group_by(column)  # type: ignore[call-overload]
    ).all()
    return {str(value): int(n) for value, n in rows}


def _when(event: Event) -> str:
    tz = zone(event.timezone)
    start, end = event.start_dt.astimezone(tz), event.end_dt.astimezone(tz)
    span = f"{start:%Y-%m-%d %H:%M}–" + (
        f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    )
    return f"{span} ({event.timezone})"


def event_page_markdown(
    session: Session, event: Event, settings: Settings, *, latest: str = ""
) -> str:
    """The event's page: status, invitations by state, answers, calendar, report, next step."""
    lines = [f"# {event_title(event)}", "", f"`{event.slug}` · {event.kind} · {_when(event)}", ""]
    lines += [f"**Status:** {event.status}", ""]
    if latest:
        lines += [f"**Latest:** {latest}", ""]
    lines += [f"**Next step:** {NEXT_STEP.get(event.status, '—')}", ""]
    invited = session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.event_id == event.id)
    )
    mail = _counts(
        session,
        OutboxMessage.state,
        OutboxMessage.event_id == event.id,
        OutboxMessage.purpose == "invitation",
    )
    answers = _counts(session, Invitation.rsvp_state, Invitation.event_id == event.id)
    lines += ["## Invitations", "", "| invited | sent | failed | being sent |", "|---|---|---|---|"]
    lines += [
        f"| {invited or 0} | {mail.get('sent', 0)} | {mail.get('failed', 0)} "
        f"| {mail.get('claimed', 0)} |",
        "",
    ]
    if answers:
        lines += ["## Answers", "", "| answer | contacts |", "|---|---|"]
        lines += [f"| {state} | {n} |" for state, n in sorted(answers.items())]
        lines.append("")
    folder = calendar_dir(settings, event.slug)
    feeds = sorted(folder.glob("*.ics")) if folder.is_dir() else []
    lines += ["## Calendar", ""]
    if feeds:
        for feed in feeds:
            link = output_link(feed, settings)
            lines.append(f"- [{feed.name}]({link})" if link else f"- {feed.name}")
    else:
        lines.append("Not published yet.")
    lines.append("")
    reports = session.scalars(
        select(Report).where(Report.event_id == event.id).order_by(Report.language)
    ).all()
    lines += ["## Report", ""]
    if reports:
        for report in reports:
            link = output_link(report.path, settings)
            when = f"{report.generated_dt:%Y-%m-%d %H:%M} UTC"
            where = f"[open]({link})" if link else f"`{Path(report.path).name}`"
            lines.append(f"- `{report.language}`, written {when}: {where}")
    else:
        lines.append("Not written yet.")
    lines.append("")
    history = session.scalars(
        select(EventTransition)
        .where(EventTransition.event_id == event.id)
        .order_by(EventTransition.at_dt, EventTransition.id)
    ).all()
    if history:
        lines += ["## History", "", "| when (UTC) | from | to | note |", "|---|---|---|---|"]
        lines += [
            f"| {t.at_dt:%Y-%m-%d %H:%M} | {t.from_status or '—'} | {t.to_status} "
            f"| {_cell(t.note)} |"
            for t in history
        ]
    return "\n".join(lines) + "\n"
