"""A real Prefect API for the flow tests (one per test session: it costs ~10 s), and data
several flow test modules share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

#: the symposium whose two Tokyo contacts the reply tests invite
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
INVITED_AT = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    from flows.engine.runtime import local_run_settings

    # generous: with xdist each worker starts one, beside the e2e server, on a busy machine
    with prefect_test_harness(server_startup_timeout=300), local_run_settings():
        yield


def invite_tokyo(created: dt.datetime, applied: dt.datetime = INVITED_AT) -> list[Any]:
    """The symposium applied and its two Tokyo contacts invited at SEQUENCE 1.

    One (contact id, e-mail, invitation UID, event id) per contact.
    """
    from config.settings import get_settings
    from db.events import apply_spec, find_event, invitation_uid, invited_contacts, read_spec
    from db.models import Invitation
    from db.session import session_scope
    from tests.conftest import REPO, reference_data

    reference_data()
    settings = get_settings()
    invited = []
    with session_scope() as session:
        spec = read_spec(REPO / "config" / "events" / f"{SYMPOSIUM}.yaml", session)
        apply_spec(session, spec, settings, now=applied)
        event = find_event(session, SYMPOSIUM)
        for contact in invited_contacts(session, event):
            uid = invitation_uid(event.slug, contact.id, settings.office.mail_domain)
            session.add(
                Invitation(
                    event_id=event.id,
                    contact_id=contact.id,
                    uid=uid,
                    sequence=1,
                    created_dt=created,
                )
            )
            invited.append((contact.id, contact.email, uid, event.id))
    return invited


@pytest.fixture
def invited(amity_db: str) -> dict[str, str]:
    """The symposium's two Tokyo contacts invited at SEQUENCE 1: e-mail -> invitation UID."""
    return {email: uid for _, email, uid, _ in invite_tokyo(INVITED_AT)}
