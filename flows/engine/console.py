"""The Prefect UI as the organizer's console: the run's story, the event's page, a wrong slug.

- `run_logger()`: Prefect's run logger inside a run (its lines show in the UI), a plain logger
  outside one (a task called as a function in a test). Problems are logged at INFO too: the
  CLI keeps Prefect's level at WARNING, so its console shows none of these lines (a WARNING
  would print next to the CLI's own summary, which says it once).
- `refuse_unknown_event(ref)`: a flow returns it first thing; a wrong slug ends the run in one
  line naming the closest known events (no traceback), and a caller of the flow function
  (the CLI) gets the same `EventNotFound` as before.
- `update_event_page(slug)`: rewrites the `event-<slug>` artifact and the list of events
  (`set_variable`: two runs at once may both create it).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from config.settings import get_settings
from db.events import EventNotFound, find_event
from db.invitees import Invitee
from db.models import Event
from db.session import session_scope
from flows.outbound.artifacts import (
    RecipientRow,
    artifact_key,
    event_key,
    event_page_markdown,
    event_title,
    heading,
    output_link,
    publish_markdown,
    recipients_markdown,
)

#: the Prefect Variable (UI: Variables) that lists every event's slug, name and status
EVENTS_VARIABLE = "amity_events"


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The logger whose lines the Prefect UI shows under the run."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("amity")


def closest_events(ref: str, known: Sequence[str], *, n: int = 3) -> list[str]:
    """The known slugs most like ``ref`` (difflib), or else the last few known."""
    close = difflib.get_close_matches(ref.lower(), list(known), n=n, cutoff=0.5)
    return close or list(known)[-n:]


def unknown_event_line(ref: str, known: Sequence[str]) -> str:
    """One line for the run's state: what was asked, what exists, where slugs are listed."""
    if not known:
        return f"no event {ref!r}: there are no events yet (`amity events apply` adds one)"
    return (
        f"no event {ref!r}; closest known: {', '.join(closest_events(ref, known))} "
        f"(every event: Variables, {EVENTS_VARIABLE})"
    )


def refuse_unknown_event(ref: str) -> Any:
    """None if ``ref`` names an event (slug or id); else a Failed state for the flow to return.

    Typed Any: a flow returns it in place of its result.
    """
    from prefect.states import Failed

    with session_scope() as session:
        try:
            find_event(session, ref)
            return None
        except EventNotFound as exc:
            known = list(session.scalars(select(Event.slug).order_by(Event.start_dt)))
            # the state's message is the one line the UI shows (an ERROR log line would also
            # print on the CLI's console, next to the CLI's own `amity:` line)
            return Failed(message=unknown_event_line(ref, known), data=exc)


def update_event_page(slug: str, latest: str = "") -> None:
    """Rewrite the event's page (artifact `event-<slug>`) and the list of events from the database."""
    settings = get_settings()
    with session_scope() as session:
        event = find_event(session, slug)
        markdown = event_page_markdown(session, event, settings, latest=latest)
        description = f"{event_title(event)}: {event.status}" + (f" — {latest}" if latest else "")
        key = event_key(event.slug)
        events = {
            e.slug: f"{event_title(e)} ({e.status}, {e.start_dt:%Y-%m-%d})"
            for e in session.scalars(select(Event).order_by(Event.start_dt))
        }
    publish_markdown(key, markdown, description)
    # the run forms' event field sends organizers here: every slug with its name and status
    set_variable(EVENTS_VARIABLE, events)


def set_variable(name: str, value: Any) -> None:
    """Set a Prefect Variable, created or overwritten, whoever else sets it at the same time.

    `Variable.set` reads, then creates: two runs that both find no variable both create it,
    and the second gets 409 (`ObjectAlreadyExists`). The variable is there then, so a second
    call overwrites it. Both runs write the whole list from the database: the last one wins.
    """
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.variables import Variable

    try:
        Variable.set(name, value, overwrite=True)
    except ObjectAlreadyExists:
        Variable.set(name, value, overwrite=True)


# --- a mailing's story: log lines and the per-recipient artifact ------------------------------


def preview(items: Sequence[str], n: int = 5) -> str:
    """The first ``n`` items and how many more: a log line stays one line at 10,000."""
    shown = ", ".join(items[:n])
    return shown + (f" … and {len(items) - n:,} more" if len(items) > n else "")


def contact_label(name: str, email: str) -> str:
    # not "<e-mail>": Markdown would take it for a tag
    return f"{name} ({email})" if name else email


def mailing_rows(
    recipients: Sequence[Invitee],
    manifests: Sequence[Sequence[Mapping[str, Any]]],
    *,
    sent_to: set[str],
    failed: Mapping[str, str],
    dry_run: bool,
) -> list[RecipientRow]:
    """One row per recipient: opted out, or the letter written and what became of it."""
    settings = get_settings()
    names = {r.contact_id: r.name_latin or r.name_native for r in recipients}
    rows = [
        RecipientRow(
            contact_label(r.name_latin or r.name_native, r.email),
            r.city,
            r.language,
            "opted out",
            "asked not to receive mail",
        )
        for r in recipients
        if r.is_opted_out
    ]
    for manifest in manifests:
        for m in manifest:
            email_ = m["email"]
            reason = ""
            if dry_run:
                state = "not sent (dry run)"
            elif email_.lower() in failed:
                state, reason = "failed", failed[email_.lower()]
            elif email_.lower() in sent_to:
                state = "sent"
            else:
                state, reason = "sent before", "an earlier run sent it (the ledger)"
            if m.get("is_fallback"):
                wanted = m.get("requested_language")
                reason = "; ".join(filter(None, [reason, f"no letter in {wanted}: in English"]))
            rows.append(
                RecipientRow(
                    contact_label(names.get(m["contact_id"], ""), email_),
                    m["city"],
                    m["language"],
                    state,
                    reason,
                    output_link(m.get("letter"), settings),
                )
            )
    return rows


def sample_per_language(
    recipients: Sequence[Invitee], manifests: Sequence[Sequence[Mapping[str, Any]]]
) -> dict[str, tuple[str, str | bytes | None]]:
    """The first written letter of each language: {language: (who, .eml path or bytes)}.

    A real send keeps the message in memory only (the Maildir or the relay has it); a dry run
    and a review write the .eml.
    """
    names = {r.contact_id: r.name_latin or r.name_native for r in recipients}
    samples: dict[str, tuple[str, str | bytes | None]] = {}
    for manifest in manifests:
        for m in manifest:
            who = f"{names.get(m['contact_id']) or m['email']} ({m['city']})"
            samples.setdefault(m["language"], (who, m["eml"] or m.get("message")))
    return samples


def publish_mailing(
    what: str,
    slug: str,
    rows: Sequence[RecipientRow],
    *,
    dry_run: bool = False,
    notes: Sequence[str] = (),
    samples: Mapping[str, tuple[str, str | bytes | None]] | None = None,
    next_step: str = "",
) -> None:
    """The mailing's artifact (key `<what>-<slug>`): counts, a row per recipient, samples."""
    with session_scope() as session:
        title = event_title(find_event(session, slug))
    markdown = recipients_markdown(
        what, title, rows, dry_run=dry_run, notes=notes, samples=samples, next_step=next_step
    )
    publish_markdown(
        artifact_key(f"{what}-{slug}"), markdown, heading(what, title, dry_run=dry_run)
    )
