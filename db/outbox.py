"""Reading the delivery ledger (``outbox_message``): by message key, and when an event's
invitations went out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from db.models import OutboxMessage

#: recipients in one SQL IN list (SQLite before 3.32 allows 999 bound parameters a
#: statement, later ones 32,766; PostgreSQL 65,535)
IN_LIMIT = 900


def rows_by_key(
    session: Session,
    keys: Collection[tuple[str, str, str]],
    *columns: Any,
    where: ColumnElement[bool] | None = None,
) -> Iterator[Any]:
    """The ledger rows of these (purpose, lower-case recipient, occurrence) keys: ``columns``
    after purpose, recipient and occurrence, which every row starts with.

    Rows are found through the unique index's (purpose, recipient) prefix, 900
    recipients a statement, and picked out by key here: an invitation's occurrence names its
    UID, so a run has as many occurrences as messages, and filtering on them in SQL would
    probe recipients x occurrences index entries (or, without recipients, read every row of
    the purpose, those of earlier runs and batches included).
    """
    wanted = set(keys)
    purposes = {k[0] for k in wanted}
    recipients = sorted({k[1] for k in wanted})
    for start in range(0, len(recipients), IN_LIMIT):
        query = select(
            OutboxMessage.purpose, OutboxMessage.recipient, OutboxMessage.occurrence, *columns
        ).where(
            OutboxMessage.purpose.in_(purposes),
            OutboxMessage.recipient.in_(recipients[start : start + IN_LIMIT]),
        )
        if where is not None:
            query = query.where(where)
        for row in session.execute(query):
            if (row.purpose, row.recipient, row.occurrence) in wanted:
                yield row


#: outbox purposes that carry an event's invitation to a contact
INVITATION_PURPOSES = ("invitation",)


def invitation_sent_times(session: Session, event_id: int) -> dict[str, dt.datetime]:
    """Lower-cased recipient -> when the event's first invitation to them went out."""
    return {
        recipient: sent
        for recipient, sent in session.execute(
            select(OutboxMessage.recipient, func.min(OutboxMessage.sent_dt))
            .where(
                OutboxMessage.event_id == event_id,
                OutboxMessage.purpose.in_(INVITATION_PURPOSES),
                OutboxMessage.sent_dt.is_not(None),
            )
            .group_by(OutboxMessage.recipient)
        )
        if sent is not None
    }
