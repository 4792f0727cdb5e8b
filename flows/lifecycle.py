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
from flows.domain.clock import zone
from flows.engine.console import refuse_unknown_event, run_logger, update_event_page
from flows.engine.forms import REPORT_LANGUAGE, Clock, ReportLanguage

#: the lifecycle's next run after an event, in the event's time zone: the next morning
NEXT_RUN_AT = dt.time(8, 0)

ORDER = ["draft", "inviting", "scheduled", "held", "reported"]


@task
def event_status(event: str) -> dict[str, Any]:
    with session_scope() as session:
        e = find_event(session, event)
        return {"slug": e.slug, "status": e.status, "end_dt": e.end_dt, "timezone": e.timezone}


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
    report_language: ReportLanguage = REPORT_LANGUAGE,
    now: Clock = None,
) -> dict[str, Any]:
    """Drive an event through invitations, schedule, held and report; skip what is done.

    The event counts as held once its end has passed, or when ``held`` says the organizer
    confirms it took place. Before that the run ends "Waiting" and, run from a deployment,
    schedules its own next run for the morning after the event ends.

    Args:
        event: The event's short name (slug), e.g. beijing-tokyo-urban-symposium-12. Every event
            is listed under Variables, `amity_events`; `amity events list` lists them too.
        held: Tick to confirm the event took place, to write its report before its end
            time has passed.
        report_language: The language the post-event report is written in.
    """
    if (refused := refuse_unknown_event(event)) is not None:
        return refused  # a Failed state: one line in the UI
    now = now or dt.datetime.now(dt.UTC)
    log = run_logger()
    state = event_status(event)
    slug = state["slug"]
    steps: list[dict[str, Any]] = []
    if state["status"] == "cancelled":
        return {"event": slug, "status": "cancelled", "steps": []}

    if state["status"] in ("draft", "inviting"):
        # also while "inviting": a run that failed part-way sends what is missing (the
        # ledger skips what went out)
        from flows.invitations import send_invitations

        log.info("%s is %s: sending the invitations", slug, state["status"])
        invited = send_invitations(slug, now=now)
        steps.append({"step": "invitations", "result": invited})
        if invited["failed"]:
            return _stopped(slug, steps, "some invitations failed: fix them and run again")
    if not _past(event_status(slug)["status"], "scheduled"):
        from flows.schedule import publish_schedule

        log.info("Publishing the calendar of %s", slug)
        steps.append({"step": "schedule", "result": publish_schedule(slug, now=now)})
        if event_status(slug)["status"] != "scheduled":
            return _stopped(slug, steps, "no invitation has gone out yet, so nothing is scheduled")
    state = event_status(slug)
    if not _past(state["status"], "held"):
        if held or state["end_dt"] <= now:
            why = "confirmed by the organizer" if held else "the event is over"
            log.info("%s is held: %s", slug, why)
            mark(slug, "held", why, now)
        else:
            steps.append({"step": "held", "result": "waiting: the event has not ended yet"})
            result = {"event": slug, "status": state["status"], "steps": steps}
            return _waiting(slug, state["end_dt"], state["timezone"], result, report_language)
    if not _past(event_status(slug)["status"], "reported"):
        from flows.reports import report_event

        log.info("Writing the report of %s in %s", slug, report_language)
        steps.append({"step": "report", "result": report_event(slug, report_language, now=now)})
        mark(slug, "reported", "report written", now)
    status = event_status(slug)["status"]
    log.info("%s is %s", slug, status)
    update_event_page(slug, f"lifecycle: {status}")
    return {"event": slug, "status": status, "steps": steps}


def next_run_after(end_dt: dt.datetime, timezone: str) -> dt.datetime:
    """The morning after the event's last day, in its time zone (as UTC)."""
    tz = zone(timezone)
    day = end_dt.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, NEXT_RUN_AT, tzinfo=tz).astimezone(dt.UTC)


def _waiting(
    slug: str,
    end_dt: dt.datetime,
    timezone: str,
    result: dict[str, Any],
    report_language: str,
) -> Any:
    """End the run "Waiting" with why; from a deployment, schedule the run after the event."""
    from prefect.context import FlowRunContext
    from prefect.states import Completed

    tz = zone(timezone)
    ends = f"{end_dt.astimezone(tz):%Y-%m-%d %H:%M} {timezone}"
    next_dt = next_run_after(end_dt, timezone)
    context = FlowRunContext.get()
    deployment_id = context.flow_run.deployment_id if context and context.flow_run else None
    if deployment_id:
        from prefect.deployments import run_deployment

        run_deployment(
            deployment_id,
            parameters={"event": slug, "report_language": report_language},
            scheduled_time=next_dt,
            timeout=0,
            as_subflow=False,
            # one scheduled run per event end, however often the lifecycle runs before it
            idempotency_key=f"lifecycle-{slug}-after-{next_dt:%Y-%m-%d}",
        )
        then = (
            f"next lifecycle run scheduled for {next_dt.astimezone(tz):%Y-%m-%d %H:%M} {timezone}"
        )
    else:
        then = "run the lifecycle again after it ends (or tick held) to write the report"
    message = f"Waiting for {slug} to take place (it ends {ends}); {then}"
    run_logger().info(message)
    update_event_page(slug, message)
    return Completed(name="Waiting", message=message, data=result)
