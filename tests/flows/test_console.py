"""What an organizer sees of a run: one line for a wrong slug, the lifecycle's "Waiting", the
per-recipient artifact and the event's page (a real Prefect API, the test harness)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from config.settings import get_settings
from db.events import EventNotFound, apply_spec, read_spec
from db.session import session_scope
from flows.engine.console import closest_events, unknown_event_line
from flows.invitations import send_invitations
from flows.lifecycle import event_lifecycle, next_run_after
from tests.conftest import reference_data

EVENTS = Path(__file__).resolve().parents[2] / "config" / "events"
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
KNOWN = ["friendship-cities-conference-2027", "beijing-tokyo-urban-symposium-12"]


def test_closest_events_are_the_likest_slugs() -> None:
    assert closest_events("beijing-tokyo-urban-symposium-21", KNOWN) == [
        "beijing-tokyo-urban-symposium-12"
    ]
    assert closest_events("zzz", KNOWN) == KNOWN  # nothing alike: the known ones


def test_unknown_event_line_is_one_line_that_says_where_slugs_are() -> None:
    assert unknown_event_line("symposium", []) == (
        "no event 'symposium': there are no events yet (`amity events apply` adds one)"
    )
    assert "\n" not in unknown_event_line("x" * 200, KNOWN)


def test_next_run_is_the_morning_after_the_event_in_its_zone() -> None:
    end = dt.datetime(2027, 4, 22, 9, 0, tzinfo=dt.UTC)  # 17:00 in Beijing

    assert next_run_after(end, "Asia/Shanghai") == dt.datetime(2027, 4, 23, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def symposium(amity_db: str) -> None:
    reference_data()
    with session_scope() as session:
        apply_spec(
            session, read_spec(EVENTS / f"{SYMPOSIUM}.yaml", session), get_settings(), now=NOW
        )


def _artifact(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        (latest,) = client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    return latest


@pytest.mark.usefixtures("prefect_api", "symposium")
def test_a_misspelt_event_fails_in_one_line_naming_the_closest() -> None:
    state = send_invitations("beijing-tokyo-urban-symposium-21", return_state=True)

    assert state.is_failed()
    assert state.message == (
        "no event 'beijing-tokyo-urban-symposium-21'; closest known: "
        "beijing-tokyo-urban-symposium-12 (every event: Variables, amity_events)"
    )
    with pytest.raises(EventNotFound, match="see `amity events list`"):
        send_invitations("beijing-tokyo-urban-symposium-21")  # the CLI's error, as before


@pytest.mark.usefixtures("prefect_api", "symposium")
def test_lifecycle_before_the_event_ends_waiting_and_says_why() -> None:
    state = event_lifecycle(SYMPOSIUM, now=NOW, return_state=True)

    invitations = _artifact(f"invitations-{SYMPOSIUM}").data
    page = _artifact(f"event-{SYMPOSIUM}").data
    assert (state.type.value, state.name) == ("COMPLETED", "Waiting")
    assert state.message == (
        f"Waiting for {SYMPOSIUM} to take place (it ends 2027-04-22 17:00 Asia/Shanghai); "
        "run the lifecycle again after it ends (or tick held) to write the report"
    )
    assert state.result()["status"] == "scheduled"
    assert invitations.splitlines()[0] == "# Invitations — 12th Beijing–Tokyo Urban Symposium"
    assert (
        "| Hanako Yamada (hanako.yamada@tokyo.example.org) | Tokyo | ja | sent | — |"
        in invitations.splitlines()
    )
    assert "file://" not in invitations
    assert "## A sample letter per language" in invitations
    assert page.splitlines()[:1] == ["# 12th Beijing–Tokyo Urban Symposium"]
    assert "**Status:** scheduled" in page.splitlines()
    assert f"**Latest:** {state.message}" in page.splitlines()


@pytest.mark.usefixtures("prefect_api", "symposium")
@pytest.mark.filterwarnings("ignore:Artifact creation outside:FutureWarning")  # called bare here
def test_the_events_variable_is_set_when_another_run_creates_it_at_the_same_moment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two runs at once both find no variable and both create it: the second overwrites it."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import VariableCreate
    from prefect.variables import Variable

    from flows.engine.console import EVENTS_VARIABLE, update_event_page

    Variable.unset(EVENTS_VARIABLE)
    read = SyncPrefectClient.read_variable_by_name
    raced = []

    def read_then_other_run_creates(self: SyncPrefectClient, name: str) -> Any:
        found = read(self, name)
        if name == EVENTS_VARIABLE and not raced:  # the other run creates it just after our read
            raced.append(name)
            self.create_variable(VariableCreate(name=name, value={"other": "run"}, tags=[]))
        return found

    monkeypatch.setattr(SyncPrefectClient, "read_variable_by_name", read_then_other_run_creates)
    update_event_page(SYMPOSIUM)

    assert raced == [EVENTS_VARIABLE]
    assert list(Variable.get(EVENTS_VARIABLE)) == [SYMPOSIUM]
