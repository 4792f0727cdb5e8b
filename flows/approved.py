"""Send what was approved: exactly the reviewed messages, once, and only if nothing changed.

The flow behind `amity approve RUN` for a review the CLI recorded, and behind a send at a
chosen hour (a scheduled run of the send-reviewed deployment). It renders nothing: it
checks that the data the messages came from is unchanged and that the kept files are the
bytes that were reviewed, then hands them to the delivery ledger.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from prefect import flow
from prefect.context import FlowRunContext

from config.settings import get_settings
from db.models import Approval, Event
from db.session import session_scope
from flows.changes import CHANGES, send_reviewed_changes
from flows.invitations import send_batches
from flows.review import release

#: a worker's prefetch (PREFECT_WORKER_PREFETCH_SECONDS, 10 by default) and some margin
MAX_EARLY_SECONDS = 120.0


@flow(name="send reviewed", flow_run_name="send reviewed: {approval}")
def send_reviewed(approval: str) -> dict[str, Any]:
    """Send the messages of an approved review, exactly as reviewed (nothing is re-rendered).

    Invitations and reminders go as the invitation run would send them; updates and
    cancellations as the change run would, the feeds and CalDAV following.
    """
    with session_scope() as session:
        row = session.get(Approval, int(approval)) if str(approval).isdigit() else None
        if row is None:
            raise LookupError(f"no review {approval}")
        event = session.get(Event, row.event_id)
        assert event is not None
        slug = event.slug
        session.expunge(row)
    ctx = FlowRunContext.get()
    this_run = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    due = this_run == row.scheduled_run_id
    if due and row.send_at_dt is not None:
        # a worker starts a scheduled run up to its prefetch window early: wait for the hour
        early = (row.send_at_dt - dt.datetime.now(dt.UTC)).total_seconds()
        if 0 < early <= MAX_EARLY_SECONDS:
            time.sleep(early)
    batches, info = release(row, get_settings(), due=due)
    result: dict[str, Any] = {
        "event": slug,
        "review": info,
        "sent": 0,
        "already_sent": 0,
        "failed": [],
    }
    if row.purpose == CHANGES:
        return send_reviewed_changes(row.event_id, batches, result)
    for r in send_batches(row.event_id, batches, row.purpose, row.occurrence):
        result["sent"] += r["sent"]
        result["already_sent"] += r["already_sent"]
        result["failed"] += r["failed"]
    return result
