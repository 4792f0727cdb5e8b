"""End to end, as the README's "Beyond one machine" section runs it: a Prefect server, the
app database on PostgreSQL, a process work pool, `prefect deploy --all` from prefect.yaml
and a worker; runs are triggered through the API with an idempotency key, the way an
office's other systems would, and a second trigger with the same key runs nothing.

The browser test opens the same server's UI in headless Chromium and finds the
deployments, the reminders' date form and the import's artifact.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from db.models import Event, OutboxMessage, Tie
from flows.engine.deployments import load_flows
from tests.clock import spec_ahead
from tests.conftest import _PG, REPO, _drop_postgres_database, _fresh_postgres_database
from tests.e2e.approving import approve, wait_for
from tests.e2e.conftest import (
    BIN,
    PrefectServer,
    api_of,
    clear_server,
    run_cli,
    start_group,
    stop_group,
    tail,
)

#: on one xdist worker: they share one Prefect server (the session fixture is per worker)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

AMITY = [sys.executable, "-m", "flows"]
PREFECT = str(BIN / "prefect")
IMPORT = "import partners/import-partners"
INVITE = "send invitations/send-invitations"
EVENT = "beijing-tokyo-urban-symposium-12"
#: the idempotency keys another system would derive from its own request ids
IMPORT_KEY = "e2e-import-partners-1"
INVITE_KEY = "e2e-invitations-symposium-12"
LIFECYCLE = "event lifecycle/event-lifecycle"
LIFECYCLE_KEY = "e2e-lifecycle-symposium-12"
REPORT_KEY = f"report-{EVENT}-en"
#: generous: a flow run through a worker starts a Python process (prefect + amity + PDFs)
RUN_TIMEOUT = 300
#: the office's file server, as the worker knows it (AMITY_OUTPUTS__BASE_URL)
FILES_URL = "https://files.office.example/amity/out"
WAIT_KEY = "e2e-lifecycle-wait-symposium-12"


@dataclass(frozen=True)
class Office:
    server: PrefectServer
    env: dict[str, str]
    home: Path
    database_url: str
    worker_log: Path


@pytest.fixture(scope="module")
def office(
    prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Office]:
    """The README's steps: database, work pool, `prefect deploy --all`, a worker."""
    if _PG is None:
        pytest.skip("no PostgreSQL server (run `bash .ci/postgres start`)")
    clear_server(prefect_server)
    root = tmp_path_factory.mktemp("office")
    url, name = _fresh_postgres_database()
    home = root / "home"
    env = prefect_server.env(
        root / "prefect-client", {"AMITY_DATABASE_URL": url, "AMITY_HOME": str(home)}
    )
    worker_log = root / "worker.log"
    worker = None
    try:
        env["AMITY_OUTPUTS__BASE_URL"] = FILES_URL
        # a worker as the README starts it logs at INFO (the tests' own default is WARNING)
        env["PREFECT_LOGGING_LEVEL"] = "INFO"
        run_cli([*AMITY, "db", "upgrade"], env=env)
        run_cli([PREFECT, "work-pool", "create", "amity", "--type", "process"], env=env)
        # deployed without AMITY_REPO: the pull step keeps its placeholder for the workers
        run_cli([PREFECT, "--no-prompt", "deploy", "--all"], env=env, cwd=REPO)
        worker = start_group(
            [PREFECT, "worker", "start", "--pool", "amity"],
            # asks for scheduled runs every 2 s instead of 10: each run here starts sooner
            env={**env, "AMITY_REPO": str(REPO), "PREFECT_WORKER_QUERY_SECONDS": "2"},
            log=worker_log,
            cwd=root,
        )
        yield Office(prefect_server, env, home, url, worker_log)
    finally:
        if worker is not None:
            # a process worker may sit on SIGTERM for 30 s (DESIGN.md) and on SIGINT for 10;
            # nothing of it is tested after the module, and its database goes next
            stop_group(worker, first=signal.SIGKILL)
        _drop_postgres_database(name)


def trigger(office: Office, name: str, key: str, parameters: dict[str, Any] | None = None) -> Any:
    """Run a deployment through the API and wait for it to finish (or the timeout)."""
    from prefect.deployments import run_deployment

    with api_of(office.server):
        run = run_deployment(name, parameters=parameters or {}, idempotency_key=key, timeout=0)
    # a run that sends to partners waits for the sign-off: approve it as the office would
    run = wait_for(office.server, run.id, ("PAUSED", "COMPLETED", "FAILED", "CRASHED"), RUN_TIMEOUT)
    if run.state.type.value == "PAUSED":
        approve(office.env, run.id)
        run = wait_for(office.server, run.id, ("COMPLETED", "FAILED", "CRASHED"), RUN_TIMEOUT)
    assert run.state is not None
    assert run.state.type.value == "COMPLETED", (
        f"{name}: {run.state.type.value} {run.state.message}\n{tail(office.worker_log)}"
    )
    return run


def runs_of(office: Office, name: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with api_of(office.server), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
        )
    return sorted(str(r.id) for r in runs)


def artifact_of(office: Office, flow_run_id: Any, key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )

    with api_of(office.server), get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
            )
        )
    assert len(artifacts) == 1
    return artifacts[0]


def scalar(office: Office, query: Any) -> Any:
    engine = create_engine(office.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar()
    finally:
        engine.dispose()


def test_prefect_yaml_deploys_every_available_flow(office: Office) -> None:
    from prefect.client.orchestration import get_client

    loaded, notes = load_flows()
    with api_of(office.server), get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
    reminders = deployments["daily-reminders"]

    assert notes == []  # a flow module that stops importing fails here, never skips
    assert sorted(deployments) == sorted(item.spec.name for item in loaded)
    assert {d.work_pool_name for d in deployments.values()} == {"amity"}
    assert [(s.schedule.cron, s.schedule.timezone) for s in reminders.schedules] == [  # type: ignore[union-attr]
        ("0 8 * * *", "Asia/Shanghai")
    ]
    assert reminders.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $AMITY_REPO }}"}}
    ]


def test_import_deployment_runs_once_per_idempotency_key(office: Office) -> None:
    first = trigger(office, IMPORT, IMPORT_KEY)

    again = trigger(office, IMPORT, IMPORT_KEY)

    assert again.id == first.id
    assert runs_of(office, IMPORT) == [str(first.id)]
    assert scalar(office, select(func.count()).select_from(Tie)) >= 27  # (38 with later ones)
    markdown = str(artifact_of(office, first.id, "import-partners").data)
    assert markdown.splitlines()[0] == "# Import of `beijing_partners.csv` (partners)"
    assert "| 27 | 27 | 0 | 0 | 0 | yes |" in markdown.splitlines()


def prepare_symposium(office: Office) -> None:
    """Partners, contacts and the 12th symposium in the app database (idempotent)."""
    trigger(office, IMPORT, IMPORT_KEY)  # the same run if it ran already
    # the later ties too: the demo contacts include people there
    run_cli(
        [*AMITY, "partners", "import", "config/data/beijing_partners_later.csv"], env=office.env
    )
    run_cli([*AMITY, "contacts", "import", "config/data/demo_contacts.csv"], env=office.env)
    apply_ahead(office, EVENT)


def apply_ahead(office: Office, slug: str) -> None:
    """`amity events apply` the example event, moved whole years ahead of the real clock.

    The worker's runs use the real clock: an event that is over would be reported, not waited
    for, and `events apply` refuses one (`tests/clock.py`).
    """
    spec, _ = spec_ahead(REPO / "config" / "events" / f"{slug}.yaml", office.home / "specs")
    run_cli([*AMITY, "events", "apply", str(spec)], env=office.env)


@pytest.fixture(scope="module")
def symposium(office: Office) -> Office:
    prepare_symposium(office)
    return office


def reported_symposium(office: Office) -> Any:
    """The lifecycle run that took the symposium to its report (run once per key)."""
    trigger(office, INVITE, INVITE_KEY, {"event": EVENT})
    return trigger(office, LIFECYCLE, LIFECYCLE_KEY, {"event": EVENT, "held": True})


def test_invitation_deployment_sends_once_per_idempotency_key(symposium: Office) -> None:
    office = symposium

    first = trigger(office, INVITE, INVITE_KEY, {"event": EVENT})
    sent_first = sorted(mailbox.Maildir(office.home / "outbox", create=False).keys())
    again = trigger(office, INVITE, INVITE_KEY, {"event": EVENT})
    sent_again = sorted(mailbox.Maildir(office.home / "outbox", create=False).keys())

    assert again.id == first.id
    assert runs_of(office, INVITE) == [str(first.id)]
    # the symposium invites Tokyo: two fictitious contacts, one e-mail each
    assert len(sent_first) == 2
    assert sent_again == sent_first
    recipients = select(func.string_agg(OutboxMessage.recipient, ",")).where(
        OutboxMessage.purpose == "invitation", OutboxMessage.state == "sent"
    )
    assert sorted(scalar(office, recipients).split(",")) == [
        "hanako.yamada@tokyo.example.org",
        "ken.sato@tokyo.example.org",
    ]


def test_lifecycle_waits_for_a_future_event_and_schedules_its_next_run(symposium: Office) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
    )
    from prefect.client.schemas.filters import FlowRunFilterStateType as StateType
    from prefect.client.schemas.objects import StateType as Type

    office = symposium
    trigger(office, INVITE, INVITE_KEY, {"event": EVENT})  # the same run if it ran already
    # as `apply_ahead` moved it: 2027 until a month before the example's end
    year = scalar(office, select(Event.end_dt).where(Event.slug == EVENT)).year

    # the symposium ends on {year}-04-22 in Beijing; today is before that
    run = trigger(office, LIFECYCLE, WAIT_KEY, {"event": EVENT})

    with api_of(office.server), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(LIFECYCLE)
        scheduled = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=StateType(any_=[Type.SCHEDULED]))
            ),
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
        )
    assert run.state.name == "Waiting"
    assert run.state.message == (
        f"Waiting for {EVENT} to take place (it ends {year}-04-22 17:00 Asia/Shanghai); "
        f"next lifecycle run scheduled for {year}-04-23 08:00 Asia/Shanghai"
    )
    assert [(r.deployment_id, r.parameters["event"], r.expected_start_time) for r in scheduled] == [
        (deployment.id, EVENT, dt.datetime(year, 4, 23, 0, 0, tzinfo=dt.UTC))
    ]


def test_lifecycle_deployment_takes_the_event_to_its_report(symposium: Office) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    office = symposium

    first = reported_symposium(office)
    runs = runs_of(office, LIFECYCLE)
    again = trigger(office, LIFECYCLE, LIFECYCLE_KEY, {"event": EVENT, "held": True})

    with api_of(office.server), get_client(sync_client=True) as client:
        reports = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[REPORT_KEY]))
        )
    assert again.id == first.id
    assert runs_of(office, LIFECYCLE) == runs
    assert str(first.id) in runs
    assert scalar(office, select(Event.status).where(Event.slug == EVENT)) == "reported"
    assert len(reports) == 1


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def test_prefect_ui_shows_deployments_form_and_artifacts(
    office: Office, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import sync_playwright
    from prefect.client.orchestration import get_client

    run = trigger(office, IMPORT, IMPORT_KEY)  # the import's finished run, whoever ran it
    artifact = artifact_of(office, run.id, "import-partners")
    # the same runs if the lifecycle test ran already
    reported_symposium(request.getfixturevalue("symposium"))
    invitations = trigger(office, INVITE, INVITE_KEY, {"event": EVENT})  # run already
    invitation_artifact = artifact_of(office, invitations.id, f"invitations-{EVENT}")
    with api_of(office.server), get_client(sync_client=True) as client:
        reminders_id = client.read_deployment_by_name("anniversary reminders/daily-reminders").id
        invite_id = client.read_deployment_by_name(INVITE).id
        lifecycle_id = client.read_deployment_by_name(LIFECYCLE).id
        events = client.read_variable_by_name("amity_events")
    ui = office.server.url
    shots = Path(os.environ.get("AMITY_E2E_SCREENSHOTS") or tmp_path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)

            page.goto(f"{ui}/deployments")
            for name in ("import-partners", "daily-reminders"):
                page.get_by_text(name, exact=True).first.wait_for()
            page.get_by_text("At 08:00 AM every day").wait_for()
            page.get_by_text("step 2: invitations").first.wait_for()
            page.screenshot(path=shots / "deployments.png", full_page=True)
            # the reminders' zone is a tag (the list may fold it into "+1": on hover)
            tags = page.locator(".p-tag").all_text_contents()

            # the custom-run form of the reminders offers a date for `on`
            page.goto(f"{ui}/deployments/deployment/{reminders_id}/run")
            page.get_by_text("on (Optional)").wait_for()
            page.get_by_role("button", name="date", exact=True).wait_for()
            page.screenshot(path=shots / "reminders-form.png", full_page=True)

            # the invitations' form explains its fields; the clock override is not offered
            page.goto(f"{ui}/deployments/deployment/{invite_id}/run")
            page.get_by_text("Invite only the contacts in these partner cities").wait_for()
            page.screenshot(path=shots / "invitations-form.png", full_page=True)
            invite_form = page.inner_text("body")

            # the lifecycle's report language is a choice of the report's languages
            page.goto(f"{ui}/deployments/deployment/{lifecycle_id}/run")
            page.get_by_text("The language the post-event report is written in").wait_for()
            page.locator(".p-select-button__control").filter(has_text="en").first.focus()
            page.keyboard.press(" ")  # opens the list (a click only focuses it)
            page.get_by_role("option", name="ja", exact=True).wait_for()
            page.screenshot(path=shots / "lifecycle-form.png", full_page=True)
            choices = page.get_by_role("option").all_inner_texts()
            page.keyboard.press("Escape")

            # the invitation run: its story in the log, a row per recipient in its artifact
            page.goto(f"{ui}/runs/flow-run/{invitations.id}")
            page.get_by_text("hanako.yamada@tokyo.example.org").first.wait_for()
            page.screenshot(path=shots / "invitation-run-logs.png", full_page=True)
            run_logs = page.inner_text("body")
            page.get_by_text("Artifacts", exact=True).first.click()  # the run's tab
            page.get_by_text(f"invitations-{EVENT}").first.wait_for()
            page.screenshot(path=shots / "invitation-run-artifacts.png", full_page=True)
            page.goto(f"{ui}/artifacts/artifact/{invitation_artifact.id}")
            page.get_by_text("Invitations — 12th Beijing–Tokyo Urban Symposium").first.wait_for()
            page.screenshot(path=shots / "invitation-artifact.png", full_page=True)
            table = page.locator("table").first.inner_text()
            letter_links = page.locator("table a").evaluate_all("els => els.map(e => e.href)")

            # the event's page
            page.goto(f"{ui}/artifacts/key/event-{EVENT}")
            page.get_by_text(f"event-{EVENT}").first.wait_for()
            page.locator("a[href*='/artifacts/artifact/']").first.click()
            page.get_by_text("Next step:").first.wait_for()
            page.screenshot(path=shots / "event-page.png", full_page=True)
            event_page = page.inner_text("body")

            page.goto(f"{ui}/artifacts/key/import-partners")
            # the key's history lists each artifact by the first characters of its id
            page.get_by_role("link", name=str(artifact.id)[:8]).click()
            page.get_by_text("Import of beijing_partners.csv (partners)").wait_for()
            page.screenshot(path=shots / "artifact.png", full_page=True)
            body = page.inner_text("body")

            page.goto(f"{ui}/artifacts/key/{REPORT_KEY}")
            page.get_by_text(REPORT_KEY).first.wait_for()
            page.locator("a[href*='/artifacts/artifact/']").first.click()
            page.get_by_text("Show raw data").wait_for()
            page.screenshot(path=shots / "report.png", full_page=True)
            report_body = page.inner_text("body")
        finally:
            browser.close()

    assert "Import of beijing_partners.csv (partners)" in body
    assert "Beijing–Tokyo Urban Symposium" in report_body
    assert "08:00 Asia/Shanghai" in tags
    assert "The event's short name (slug)" in invite_form
    assert "now" not in invite_form.split()
    assert [c.strip() for c in choices] == ["en", "zh", "ja"]
    assert "Chunk 1 of 1: sent 2" in run_logs
    assert "Yamada" in table and "Tokyo" in table and "sent" in table
    # the letters open from the office's file server; the e-mail addresses are mailto: links
    assert [link.startswith(FILES_URL) for link in letter_links if "mailto:" not in link] == [
        True,
        True,
    ]
    assert not [link for link in letter_links if link.startswith("file:")]
    assert "Status: reported" in event_page
    assert events is not None
    assert events.value[EVENT].startswith("12th Beijing–Tokyo Urban Symposium (reported")  # type: ignore[index,union-attr]
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "artifact.png",
        "deployments.png",
        "event-page.png",
        "invitation-artifact.png",
        "invitation-run-artifacts.png",
        "invitation-run-logs.png",
        "invitations-form.png",
        "lifecycle-form.png",
        "reminders-form.png",
        "report.png",
    ]
