"""amity's deployments: one list, served by `amity serve` and written out as prefect.yaml.

Each deployment names a flow by module and function, its typed parameters (a pydantic
model: the defaults a run starts from, checked against the flow's signature by the tests,
which is what Prefect turns into the UI's form) and its schedule. The reminders run daily at
08:00 in the home city's time zone, the mailbox is read every 15 minutes; everything else
runs on demand.

Flow modules that do not import (not written yet, or a missing extra) are left out with a
note, so serving and `prefect.yaml` always cover exactly the flows that exist.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.json_schema import SkipJsonSchema

from flows.engine.forms import REPORT_LANGUAGE, ReportLanguage

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

REPO = Path(__file__).resolve().parents[2]
PREFECT_YAML = REPO / "prefect.yaml"
#: the process work pool the README creates and prefect.yaml deploys to
WORK_POOL = "amity"
TAGS = ("amity",)
DAILY_AT_8 = "0 8 * * *"
EVERY_15_MINUTES = "*/15 * * * *"
#: the schedules prefect.yaml defines once (an alias each) and deployments refer to
SCHEDULE_ALIASES = {DAILY_AT_8: "daily_at_8", EVERY_15_MINUTES: "every_15_minutes"}
STEP_PARTNERS = "step 1: partners"
#: a schedule in words, for the tag that shows it with its time zone in the deployment list
SCHEDULE_WORDS = {DAILY_AT_8: "08:00", EVERY_15_MINUTES: "every 15 minutes"}


class Parameters(BaseModel):
    """A deployment's parameters; unknown names are refused, like the flow would."""

    model_config = ConfigDict(extra="forbid")


class ImportParameters(Parameters):
    path: str
    skip_invalid: bool = False
    dry_run: bool = False


class RemindParameters(Parameters):
    #: the office day to decide reminders for; empty means today in the home time zone
    on: date | None = None


class InvitationParameters(Parameters):
    event: str
    #: partner cities (English names) to invite; empty means every contact the event invites
    only: list[str] | SkipJsonSchema[None] = None
    dry_run: bool = False
    remind_pending: bool = False
    strict_language: bool = False


class FetchParameters(Parameters):
    """The mailbox comes from the settings (AMITY_IMAP__*): nothing to give."""


class ScheduleParameters(Parameters):
    event: str
    #: folder for the .ics files; empty means amity's output folder
    out: str | SkipJsonSchema[None] = None
    #: a CalDAV collection URL; empty means the configured one (AMITY_CALDAV__URL), if any
    publish: str | SkipJsonSchema[None] = None


class ReportParameters(Parameters):
    event: str
    report_language: ReportLanguage = REPORT_LANGUAGE


class LifecycleParameters(Parameters):
    event: str
    #: the organizer says the event took place (else: once its end has passed)
    held: bool = False
    report_language: ReportLanguage = REPORT_LANGUAGE


class AttendanceParameters(Parameters):
    event: str
    path: str
    skip_invalid: bool = False


class SendReviewedParameters(Parameters):
    #: the review (its number in `amity approvals`) whose approved messages go out
    approval: str


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: which flow, with which parameters, on which schedule."""

    name: str
    module: str
    function: str
    params: type[Parameters]
    #: values for fields the model requires that have a sensible value in a deployment
    preset: Mapping[str, Any] = field(default_factory=dict)
    #: where it comes in the office's order of work (a tag the deployment list shows)
    step: str = ""
    #: cron in the home city's time zone; None runs on demand only
    cron: str | None = None
    #: preset values that are paths relative to the repository (shipped data)
    repo_paths: tuple[str, ...] = ()

    def tags(self, tz: str) -> list[str]:
        """Its step, and first the schedule's time zone: the list shows the first (short) tags."""
        tags = [self.step] if self.step else []
        if self.cron:
            tags.insert(0, f"{SCHEDULE_WORDS.get(self.cron, self.cron)} {tz}")
        return [*tags, *TAGS]

    @property
    def entrypoint(self) -> str:
        """The file-path entrypoint prefect.yaml uses (relative to the repository)."""
        return f"{self.module.replace('.', '/')}.py:{self.function}"

    def parameter_values(self) -> dict[str, Any]:
        """Every default plus the preset values, validated, JSON-ready.

        A required field without a preset stays out: each run must give it (the form asks).
        """
        values: dict[str, Any] = {}
        for name, info in self.params.model_fields.items():
            if name in self.preset:
                value = self.preset[name]
            elif info.is_required():
                continue
            else:
                value = info.get_default(call_default_factory=True)
            if value is None:
                # the flow's own default; the form shows an empty field (null may not be
                # a value its schema allows: `X | SkipJsonSchema[None]`)
                continue
            assert info.annotation is not None  # every model field is annotated
            adapter: TypeAdapter[Any] = TypeAdapter(info.annotation)
            values[name] = adapter.dump_python(adapter.validate_python(value), mode="json")
        unknown = set(self.preset) - set(self.params.model_fields)
        if unknown:
            raise ValueError(f"{self.name}: unknown parameters {sorted(unknown)}")
        return values

    def required_at_run(self) -> list[str]:
        fields = self.params.model_fields
        return [n for n, f in fields.items() if f.is_required() and n not in self.preset]


#: every deployment amity knows of, whether or not its module exists yet
SPECS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "import-partners",
        "flows.partners",
        "import_partners",
        ImportParameters,
        preset={"path": "config/data/beijing_partners.csv"},
        step=STEP_PARTNERS,
        repo_paths=("path",),
    ),
    DeploymentSpec(
        "import-contacts",
        "flows.partners",
        "import_contacts",
        ImportParameters,
        preset={"path": "config/data/demo_contacts.csv"},
        step=STEP_PARTNERS,
        repo_paths=("path",),
    ),
    DeploymentSpec(
        "daily-reminders",
        "flows.reminders",
        "remind",
        RemindParameters,
        step="anniversaries",
        cron=DAILY_AT_8,
    ),
    DeploymentSpec(
        "send-invitations",
        "flows.invitations",
        "send_invitations",
        InvitationParameters,
        step="step 2: invitations",
    ),
    DeploymentSpec(
        "publish-schedule",
        "flows.schedule",
        "publish_schedule",
        ScheduleParameters,
        step="step 3: calendar",
    ),
    DeploymentSpec(
        "import-attendance",
        "flows.reports",
        "import_attendance",
        AttendanceParameters,
        step="step 4: attendance",
    ),
    DeploymentSpec(
        "report-event", "flows.reports", "report_event", ReportParameters, step="step 5: report"
    ),
    DeploymentSpec(
        "event-lifecycle",
        "flows.lifecycle",
        "event_lifecycle",
        LifecycleParameters,
        step="steps 2-5 in one",
    ),
    DeploymentSpec(
        "fetch-mailbox",
        "flows.mailbox",
        "fetch_mailbox",
        FetchParameters,
        step="answers: the office's mailbox",
        cron=EVERY_15_MINUTES,
    ),
    DeploymentSpec(
        "send-reviewed",
        "flows.approved",
        "send_reviewed",
        SendReviewedParameters,
        step="step 2: invitations (after sign-off)",
    ),
)


@dataclass(frozen=True)
class Loaded:
    spec: DeploymentSpec
    flow: Flow[Any, Any]


def load_flows(specs: tuple[DeploymentSpec, ...] = SPECS) -> tuple[list[Loaded], list[str]]:
    """The specs whose flow imports, and one note per spec left out (and why)."""
    from prefect import Flow

    loaded: list[Loaded] = []
    notes: list[str] = []
    for spec in specs:
        try:
            module = importlib.import_module(spec.module)
        except ImportError as exc:
            notes.append(f"{spec.name}: skipped, {spec.module} does not import ({exc})")
            continue
        flow = getattr(module, spec.function, None)
        if not isinstance(flow, Flow):
            notes.append(f"{spec.name}: skipped, {spec.module}.{spec.function} is not a flow")
            continue
        loaded.append(Loaded(spec, flow))
    return loaded, notes


def listed_flows(
    specs: tuple[DeploymentSpec, ...] = SPECS,
) -> tuple[list[tuple[DeploymentSpec, str]], list[str]]:
    """(spec, flow name) of each spec whose module defines its flow, and one note per other.

    Read from the modules' source, without importing them (nor Prefect): `amity deployments`
    only lists. The flow's name is its decorator's ``name=``, else Prefect's default (the
    function's name with hyphens). `load_flows` imports them, for serving and prefect.yaml.
    """
    import ast
    import importlib.util

    listed: list[tuple[DeploymentSpec, str]] = []
    notes: list[str] = []
    for spec in specs:
        try:
            found = importlib.util.find_spec(spec.module)
        except ImportError:
            found = None
        if found is None or found.origin is None:
            notes.append(f"{spec.name}: skipped, {spec.module} does not exist")
            continue
        tree = ast.parse(Path(found.origin).read_text(encoding="utf-8"))
        name = next(
            (
                _flow_decorator_name(node)
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == spec.function
            ),
            None,
        )
        if not name:
            notes.append(f"{spec.name}: skipped, {spec.module}.{spec.function} is not a flow")
            continue
        listed.append((spec, name))
    return listed, notes


def _flow_decorator_name(node: Any) -> str:
    """The flow name a ``@flow`` / ``@flow(name=...)`` decorator gives, or "" if none."""
    import ast

    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if not (
            (isinstance(target, ast.Name) and target.id == "flow")
            or (isinstance(target, ast.Attribute) and target.attr == "flow")
        ):
            continue
        for keyword in call.keywords if call else []:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        return node.name.replace("_", "-")
    return ""


def timezone() -> str:
    from config.settings import get_settings

    return get_settings().home_city.timezone


def to_runner_deployment(item: Loaded) -> RunnerDeployment:
    """The deployment `amity serve` serves (module entrypoint: works from any folder)."""
    from prefect.deployments.runner import EntrypointType, RunnerDeployment
    from prefect.schedules import Cron

    spec = item.spec
    schedule = Cron(spec.cron, timezone=timezone()) if spec.cron else None
    parameters = spec.parameter_values()
    # served from this checkout: the shipped files are found wherever the server was started
    for name in spec.repo_paths:
        if name in parameters:
            parameters[name] = str(REPO / parameters[name])
    deployment = item.flow.to_deployment(
        spec.name,
        description=_flow_description(item),
        schedule=schedule,
        parameters=parameters,
        tags=spec.tags(timezone()),
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    # sync-compatible: called outside an event loop it returns the deployment itself
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def serve_all(*, limit: int | None = None) -> None:
    """Serve every available deployment from this process until interrupted.

    `pause_on_shutdown=False`: stopping the server process (SIGTERM from systemd or a
    container) must not pause the daily schedule for whoever serves next.
    """
    from prefect import serve

    loaded, notes = load_flows()
    for note in notes:
        print(f"amity serve: {note}")
    serve(*[to_runner_deployment(item) for item in loaded], pause_on_shutdown=False, limit=limit)


# ------------------------------------------------------------------- prefect.yaml

YAML_HEADER = """\
# amity's deployments for a Prefect server with a process work pool (README: "Beyond one machine").
# Generated from flows/engine/deployments.py by `amity deployments --write-yaml`: edit that file, not
# this one (tests/flows/engine/test_deployments.py fails when the two differ).
#
#   prefect work-pool create {pool} --type process
#   prefect --no-prompt deploy --all   # from this folder, with PREFECT_API_URL set
#   AMITY_REPO=$PWD prefect worker start --pool {pool}   # on each machine, in its checkout
name: amity
prefect-version: "{prefect_version}"

# the code is already on each worker machine (a checkout with amity installed): nothing to build
build: null
push: null
pull:
  # AMITY_REPO is read on the worker when a run starts: the checkout whose relative paths
  # (the default ./var home, config/data/...) the run uses. Deploy from a shell without
  # AMITY_REPO: where it is set, `prefect deploy` writes its value into the deployments.
  - prefect.deployments.steps.set_working_directory:
      directory: "{{{{ $AMITY_REPO }}}}"

definitions:
  work_pools:
    amity: &amity_pool
      name: {pool}
      work_queue_name: default
      job_variables: {{}}
  schedules:
    daily_at_8: &daily_at_8
      cron: "{cron}"
      timezone: {timezone}
      active: true
    every_15_minutes: &every_15_minutes
      cron: "{cron_15}"
      timezone: {timezone}
      active: true

deployments:
"""


def _flow_description(item: Loaded) -> str:
    return (item.flow.description or "").strip().splitlines()[0] if item.flow.description else ""


def render_prefect_yaml(loaded: list[Loaded], *, tz: str, prefect_version: str) -> str:
    """prefect.yaml for these deployments; the reminders' schedule carries an explicit zone."""
    text = YAML_HEADER.format(
        pool=WORK_POOL,
        prefect_version=prefect_version,
        cron=DAILY_AT_8,
        cron_15=EVERY_15_MINUTES,
        timezone=json.dumps(tz),
    )
    for item in loaded:
        spec = item.spec
        schedules = (
            f"\n    schedules:\n      - *{SCHEDULE_ALIASES[spec.cron]}"
            if spec.cron
            else "\n    schedules: []"
        )
        params = "".join(
            f"\n      {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
            for key, value in spec.parameter_values().items()
        )
        required = spec.required_at_run()
        note = (
            f"\n    # given at each run (the UI's form asks): {', '.join(required)}"
            if required
            else ""
        )
        text += (
            f"  - name: {spec.name}\n"
            f"    description: {json.dumps(_flow_description(item), ensure_ascii=False)}\n"
            f"    entrypoint: {spec.entrypoint}\n"
            f"    tags: {json.dumps(spec.tags(tz), ensure_ascii=False)}\n"
            f"    work_pool: *amity_pool"
            f"{schedules}{note}\n"
            f"    parameters:{params or ' {}'}\n"
        )
    return text


def current_prefect_yaml() -> str:
    """prefect.yaml as it should read for the flows that import here and now."""
    import prefect

    loaded, _ = load_flows()
    version = ".".join(prefect.__version__.split(".")[:2])
    return render_prefect_yaml(loaded, tz=timezone(), prefect_version=version)
