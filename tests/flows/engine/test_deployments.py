"""The deployment list: in step with the flows' signatures, with prefect.yaml, and the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.utilities.callables import parameter_schema
from pydantic import TypeAdapter

from flows.cli import main
from flows.engine.deployments import (
    PREFECT_YAML,
    SPECS,
    DeploymentSpec,
    ImportParameters,
    current_prefect_yaml,
    listed_flows,
    load_flows,
    to_runner_deployment,
)

#: what Prefect adds to a parameter's schema for its form, beside the type
FORM_KEYS = {"title", "position", "default", "description"}


def _by_name(name: str) -> Any:
    return next(item for item in load_flows()[0] if item.spec.name == name)


@pytest.mark.usefixtures("amity_home")
def test_prefect_yaml_is_current() -> None:
    # a failure here: run `amity deployments --write-yaml` and commit prefect.yaml
    assert PREFECT_YAML.read_text(encoding="utf-8") == current_prefect_yaml()


@pytest.mark.usefixtures("amity_home")
def test_prefect_yaml_parameters_validate_against_the_models() -> None:
    config = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    specs = {spec.name: spec for spec in SPECS}

    for deployment in config["deployments"]:
        spec = specs[deployment["name"]]
        required = dict.fromkeys(spec.required_at_run(), "x")
        spec.params.model_validate({**deployment["parameters"], **required})
        assert deployment["entrypoint"] == spec.entrypoint
        assert deployment["work_pool"]["name"] == "amity"


@pytest.mark.parametrize("item", load_flows()[0], ids=lambda item: item.spec.name)
def test_parameter_model_matches_the_flow_signature(item: Any) -> None:
    # the flow's signature is what Prefect turns into the UI's form: same names, types, defaults
    schema = parameter_schema(item.flow).model_dump_for_openapi()
    model = item.spec.params

    assert set(schema.get("required", [])) <= set(model.model_fields)
    for name, info in model.model_fields.items():
        form = schema["properties"][name]
        assert {k: v for k, v in form.items() if k not in FORM_KEYS} == TypeAdapter(
            info.annotation
        ).json_schema()
        if not info.is_required():
            assert form["default"] == info.get_default()


def test_load_flows_loads_every_spec() -> None:
    loaded, notes = load_flows()

    assert notes == []
    assert [item.spec.name for item in loaded] == [spec.name for spec in SPECS]


def test_load_flows_skips_a_module_that_does_not_import() -> None:
    missing = DeploymentSpec("ghost", "flows.no_such_module", "ghost", ImportParameters)

    loaded, notes = load_flows((missing,))

    assert loaded == []
    assert notes == [
        "ghost: skipped, flows.no_such_module does not import "
        "(No module named 'flows.no_such_module')"
    ]


def test_listed_flows_reads_the_names_load_flows_imports() -> None:
    listed, notes = listed_flows()

    assert notes == []
    assert [(spec.name, name) for spec, name in listed] == [
        (item.spec.name, item.flow.name) for item in load_flows()[0]
    ]


def test_listed_flows_skips_a_missing_module_and_a_function_that_is_no_flow() -> None:
    missing = DeploymentSpec("ghost", "flows.no_such_module", "ghost", ImportParameters)
    no_flow = DeploymentSpec("plain", "flows.partners", "load_reference_data", ImportParameters)

    listed, notes = listed_flows((missing, no_flow))

    assert listed == []
    assert notes == [
        "ghost: skipped, flows.no_such_module does not exist",
        "plain: skipped, flows.partners.load_reference_data is not a flow",
    ]


def test_parameter_values_refuses_an_unknown_preset() -> None:
    spec = DeploymentSpec(
        "bad", "flows.partners", "import_partners", ImportParameters, {"pth": "x"}
    )

    with pytest.raises(ValueError, match=r"bad: unknown parameters \['pth'\]"):
        spec.parameter_values()


def test_served_reminders_run_daily_at_8_in_the_home_time_zone(
    amity_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("AMITY_HOME_CITY__TIMEZONE", "Europe/Paris")
    get_settings.cache_clear()

    deployment = to_runner_deployment(_by_name("daily-reminders"))

    assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
        ("0 8 * * *", "Europe/Paris")
    ]
    assert deployment.entrypoint == "flows.reminders.remind"
    assert deployment.parameters == {}  # empty: today, the flow's own default


@pytest.mark.usefixtures("amity_home")
def test_served_mailbox_is_read_every_15_minutes() -> None:
    deployment = to_runner_deployment(_by_name("fetch-mailbox"))

    assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
        ("*/15 * * * *", "Asia/Shanghai")
    ]
    assert (deployment.entrypoint, deployment.parameters) == ("flows.mailbox.fetch_mailbox", {})


@pytest.mark.usefixtures("amity_home")
def test_served_import_reads_the_shipped_file_from_any_folder() -> None:
    deployment = to_runner_deployment(_by_name("import-partners"))

    assert deployment.schedules == []
    assert Path(deployment.parameters["path"]).is_file()
    assert deployment.parameters["path"] == str(
        PREFECT_YAML.parent / "config/data/beijing_partners.csv"
    )


@pytest.mark.usefixtures("amity_home")
def test_deployments_check_passes_for_the_committed_yaml(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["deployments", "--check"])

    assert (code, capsys.readouterr().out) == (0, f"{PREFECT_YAML} is current\n")
