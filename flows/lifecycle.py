"""The event lifecycle: draft → inviting → scheduled → held → reported, each step once.

Each step is a subflow that runs only when the event has not got past it yet, so a re-run
after a failure continues where the last one stopped. Every status change is recorded in
`event_transition`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task

from db.events import find_event, record_transition
from db.session import session_scope

ORDER = ["draft", "inviting", "scheduled", "held", "reported"]


@task
def event_status(event: str) -> dict[str, Any]:
    with session_scope() as session:
        e = find_event(session, event)
        return {"slug": e.slug, "status": e.status, "end_dt": e.end_dt}


@task
def mark(event: str, status: str, note: str, now: dt.datetime) -> None:
    with session_scope() as session:
        record_transition(session, find_event(session, event), status, now, note)


def _stopped(slug: str, steps: list[dict[str, Any]], why: str) -> dict[str, Any]:
    steps.append({"step": "stopped", "result": why})
    return {"event": slug, "status": event_status(slug)["status"], "steps": steps}


def _past(current: str, step: str) -> bool:
    return ORDER.index(current) >= ORDER.index(step)


@flow(name="event lifecycle", flow_run_name="lifecycle: {event}")
def event_lifecycle(
    event: str,
    held: bool = False,
    report_language: str = "en",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Drive an event through invitations, schedule, held and report; skip what is done.

    The event counts as held once its end has passed, or when ``held`` says the organizer
    confirms it took place.
    """
    now = now or dt.datetime.now(dt.UTC)
    state = event_status(event)
    slug = state["slug"]
    steps: list[dict[str, Any]] = []
    if state["status"] == "cancelled":
        return {"event": slug, "status": "cancelled", "steps": []}

    if state["status"] in ("draft", "inviting"):
        # also while "inviting": a run that failed part-way sends what is missing (the
        # ledger skips what went out)
        from flows.invitations import send_invitations

        invited = send_invitations(slug, now=now)
        steps.append({"step": "invitations", "result": invited})
        if invited["failed"]:
            return _stopped(slug, steps, "some invitations failed: fix them and run again")
    if not _past(event_status(slug)["status"], "scheduled"):
        from flows.schedule import publish_schedule

        steps.append({"step": "schedule", "result": publish_schedule(slug)})
        if event_status(slug)["status"] != "scheduled":
            return _stopped(slug, steps, "no invitation has gone out yet, so nothing is scheduled")
    state = event_status(slug)
    if not _past(state["status"], "held"):
        if held or state["end_dt"] <= now:
            mark(slug, "held", "confirmed by the organizer" if held else "the event is over", now)
        else:
            steps.append({"step": "held", "result": "waiting: the event has not ended yet"})
            return {"event": slug, "status": state["status"], "steps": steps}
    if not _past(event_status(slug)["status"], "reported"):
        from flows.reports import report_event

        steps.append({"step": "report", "result": report_event(slug, report_language)})
        mark(slug, "reported", "report written", now)
    return {"event": slug, "status": event_status(slug)["status"], "steps": steps}
