"""The sign-off end to end, on a real Prefect server with a worker (the README's office set-up).

A deployment run of the invitations suspends with its review artifact and form; `amity
approve` resumes it through the API and it finishes on a worker, sending each message once.
The Prefect UI shows a waiting run's form beside its review, and submitting it (Chromium,
driven by Playwright) resumes the run. A send at a chosen hour is a
scheduled run that fires at its time; a cancelled one sends nothing.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text

from db.models import OutboxMessage
from tests.e2e.approving import AMITY, approve, read_run, wait_for
from tests.e2e.conftest import api_of, run_cli
from tests.e2e.test_deployments import (
    CHROMIUM_ARGS,
    EVENT,
    INVITE,
    RUN_TIMEOUT,
    Office,
    apply_ahead,
    prepare_symposium,
)
from tests.e2e.test_deployments import office as office_setup  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

CONFERENCE = "friendship-cities-conference-2027"
#: how far ahead the test schedules a send: past the time `amity invite` takes to render
SOON = dt.timedelta(seconds=30)


@pytest.fixture(scope="module")
def events(office_setup: Office) -> Iterator[Office]:  # noqa: F811
    """The README's office (server, worker, deployments) with both example events."""
    prepare_symposium(office_setup)
    apply_ahead(office_setup, CONFERENCE)
    yield office_setup


def _rows(office: Office, query: Any) -> list[Any]:
    engine = create_engine(office.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()


def _sent(office: Office, purpose: str) -> list[str]:
    query = (
        select(OutboxMessage.recipient)
        .where(OutboxMessage.purpose == purpose, OutboxMessage.state == "sent")
        .order_by(OutboxMessage.recipient)
    )
    return [r[0] for r in _rows(office, query)]


def _start(office: Office, parameters: dict[str, Any]) -> Any:
    from prefect.deployments import run_deployment

    with api_of(office.server):
        run = run_deployment(INVITE, parameters=parameters, timeout=0)
    return wait_for(office.server, run.id, ("PAUSED",), RUN_TIMEOUT)


def test_suspended_invitation_run_resumes_on_a_worker_and_sends_each_message_once(
    events: Office,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    office = events
    run = _start(office, {"event": EVENT})
    waiting = run_cli([*AMITY, "approvals"], env=office.env)
    with api_of(office.server), get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
        keyset = run.state.state_details.run_input_keyset
        description = client.read_flow_run_input(run.id, keyset["description"])
    sent_while_waiting = _sent(office, "invitation")

    out = approve(office.env, str(run.id)[:8])
    done = wait_for(office.server, run.id, ("COMPLETED",), RUN_TIMEOUT)
    listed = run_cli([*AMITY, "approvals", "--all"], env=office.env)

    assert run.state.name == "Suspended"
    assert sent_while_waiting == []
    assert str(run.id)[:8] in waiting and "waiting" in waiting
    review = [a for a in artifacts if (a.key or "").startswith("review-")]
    assert len(review) == 1
    assert "## Recipients" in str(review[0].data)
    assert f"Review: invitations for {EVENT}" in description
    assert "resumes and sends exactly the reviewed messages" in out
    assert done.state.type.value == "COMPLETED"
    assert _sent(office, "invitation") == [
        "hanako.yamada@tokyo.example.org",
        "ken.sato@tokyo.example.org",
    ]
    assert "sent" in listed and "Wang Fang" in listed


def _local(moment: dt.datetime) -> str:
    """A wall-clock time in the home city, as an office would type it (no offset)."""
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M:%S")


def _scheduled_run(office: Office) -> str:
    """The Prefect run of the latest send at a chosen hour."""
    rows = _rows(
        office,
        text(
            "SELECT a.scheduled_run_id FROM approval a WHERE a.scheduled_run_id IS NOT NULL "
            "ORDER BY a.id DESC LIMIT 1"
        ),
    )
    return str(rows[0][0])


def test_send_at_a_chosen_hour_fires_then_and_a_cancelled_send_sends_nothing(
    events: Office,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    office = events
    invite = [*AMITY, "invite", CONFERENCE, "--approve", "--by", "Li Hua"]
    # a send next week, then cancelled in Prefect
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    run_cli([*invite, "--only", "Rome", "--send-at", _local(later)], env=office.env)
    cancelled = _scheduled_run(office)
    with api_of(office.server), get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(cancelled), Cancelled(), force=True)
    # a send shortly ahead (the command itself takes a while to start on a busy machine)
    soon = (dt.datetime.now(dt.UTC) + SOON).replace(microsecond=0)
    printed = run_cli([*invite, "--only", "Prague", "--send-at", _local(soon)], env=office.env)
    scheduled = _scheduled_run(office)
    listed = run_cli([*AMITY, "approvals"], env=office.env)

    fired = wait_for(office.server, scheduled, ("COMPLETED",), RUN_TIMEOUT)

    assert "scheduled for" in printed
    assert "scheduled" in listed
    assert "cancelled: nothing sent" in listed
    assert read_run(office.server, cancelled).state.type.value == "CANCELLED"
    assert fired.expected_start_time == soon
    # the worker may start the run a little early (its prefetch): the message waits
    sent_at = _rows(
        office,
        select(OutboxMessage.sent_dt).where(
            OutboxMessage.recipient == "jana.novakova@praha.example.org"
        ),
    )
    assert [r[0] >= soon for r in sent_at] == [True]
    sent = _sent(office, "invitation")
    assert sent.count("jana.novakova@praha.example.org") == 1
    assert "giulia.rossi@roma.example.org" not in sent


def _closed(modal: Any, timeout_ms: float) -> bool:
    """True once the modal is gone, False if it is still there after ``timeout_ms``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        modal.wait_for(state="hidden", timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def test_prefect_ui_shows_the_waiting_runs_form_and_its_submit_sends(
    events: Office, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    office = events
    run = _start(office, {"event": CONFERENCE, "only": ["Seoul"]})
    ui = office.server.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # generous: on a busy 2-core machine the UI's first render is slow
            page.set_default_timeout(120_000)
            page.goto(f"{ui}/runs/flow-run/{run.id}")
            page.get_by_text("Suspended").first.wait_for()
            page.get_by_role("button", name="Resume").first.click()
            page.get_by_text(f"Review: invitations for {CONFERENCE}").wait_for()
            form = page.inner_text("body")
            # the reviewer fills the form as a person would: the decision from its list
            # (the list opens from the keyboard), the name typed, then Submit
            modal = page.locator(".p-modal")
            choice = modal.locator(".schema-form-property", has_text="Decision")
            choice.locator(".p-select-button__control").press("ArrowDown")
            page.locator(".p-select-option", has_text="approve").first.click()
            # the choice shows in the form before anything else is typed (a slow page may
            # still be applying it, and a form without a decision is not submitted)
            expect(choice.locator(".p-select-button__control")).to_contain_text(
                "approve", timeout=60_000
            )
            approver = modal.locator(".schema-form-property", has_text="Approver")
            approver.locator("textarea").fill("Kim Minjun")
            page.screenshot(path=tmp_path / "form.png", full_page=True)
            submit = modal.get_by_role("button", name="Submit")
            submit.click()
            # the form closes once the server took the input (an invalid one stays open). In
            # CI under load it once stayed open with the run still waiting (2 of ~10 full
            # runs; never alone): a person would click again, so the test does, once, and says
            # what the page showed
            if not _closed(modal, 60_000):
                page.screenshot(path=tmp_path / "after-submit.png", full_page=True)
                shown = page.inner_text("body", timeout=5_000)
                state = read_run(office.server, run.id).state
                warnings.warn(
                    f"the review form stayed open after Submit (run {state.type.value}); "
                    f"{tmp_path}/after-submit.png; the page:\n{shown[-2000:]}",
                    stacklevel=1,
                )
                if state.type.value == "PAUSED":  # Suspended: the input did not reach it
                    submit.click()
                    assert _closed(modal, 120_000), f"the form stayed open again:\n{shown}"
            done = wait_for(office.server, run.id, ("COMPLETED",), RUN_TIMEOUT)
        finally:
            browser.close()

    assert "1 message(s)" in form
    assert "Approver" in form and "Decision" in form
    assert done.state.type.value == "COMPLETED"
    assert "minjun.kim@seoul.example.org" in _sent(office, "invitation")
    decided = _rows(office, text("SELECT decided_by, decision FROM approval ORDER BY id DESC"))
    assert tuple(decided[0]) == ("Kim Minjun", "approved")
