"""Send what was approved: exactly the reviewed messages, once, and only if nothing changed.

The flow behind `amity approve RUN` for a review the CLI recorded, and behind a send at a
chosen hour (a scheduled run of the send-reviewed deployment). It renders nothing: it
checks that the data the messages came from is unchanged and that the kept files are the
bytes that were reviewed, then hands them to the delivery ledger.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.context import FlowRunContext

from config.settings import get_settings
from db.models import Approval, Event
from db.session import session_scope
from flows.invitations import send_chunk
from flows.review import release


@flow(name="send reviewed", flow_run_name="send reviewed: {approval}")
def send_reviewed(approval: str) -> dict[str, Any]:
    """Send the messages of an approved review, exactly as reviewed (nothing is re-rendered)."""
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
    # the run scheduled for the chosen hour sends, even if its worker started it early
    batches, info = release(row, get_settings(), due=this_run == row.scheduled_run_id)
    result: dict[str, Any] = {
        "event": slug,
        "review": info,
        "sent": 0,
        "already_sent": 0,
        "failed": [],
    }
    futures = [
        send_chunk.submit(row.event_id, batch, row.purpose, row.occurrence) for batch in batches
    ]
    for future in futures:
        r = future.result()
        result["sent"] += r["sent"]
        result["already_sent"] += r["already_sent"]
        result["failed"] += r["failed"]
    return result
