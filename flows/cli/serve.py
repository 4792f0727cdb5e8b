"""`amity serve` (every deployment, served from this process) and `amity deployments`."""

from __future__ import annotations

import argparse
from typing import Any

from flows.cli import EXIT_FAILED, EXIT_OK, add_command, add_json_flag, emit_json, table

SERVE_HELP = """\
Registers amity's deployments with the Prefect API and runs their flow runs in this
process until interrupted (Ctrl-C or SIGTERM): the anniversary reminders every day at
08:00 in the home city's time zone, the office's mailbox every 15 minutes (replies and
bounces; it does nothing until AMITY_IMAP__HOST is set), everything else when triggered
from the Prefect UI (each deployment has a parameter form), `prefect deployment run`, or
the API.

Start `amity server` first (it uses it), or point PREFECT_API_URL at a Prefect server;
otherwise the deployments live only as long as this process's temporary API:
    amity server start
Stopping it does not pause the schedules (pause_on_shutdown=False).
For several machines use prefect.yaml and workers instead (README, "Beyond one machine")."""


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "serve",
        cmd_serve,
        "serve every deployment from this process (schedules included)",
        description=SERVE_HELP,
    )
    p.add_argument(
        "--limit", type=int, metavar="N", help="at most N flow runs at a time (default: no limit)"
    )

    p = add_command(
        sub,
        "deployments",
        cmd_deployments,
        "list the deployments, or rewrite prefect.yaml from them",
        description="List amity's deployments (flow, schedule, parameters each run must give).\n"
        "Flows whose module does not import yet are listed as skipped.\n"
        "--write-yaml rewrites prefect.yaml; --check exits 1 when prefect.yaml is stale.",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--write-yaml", action="store_true", help="rewrite prefect.yaml")
    group.add_argument("--check", action="store_true", help="exit 1 if prefect.yaml is stale")
    add_json_flag(p)


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.engine.deployments import serve_all
    from flows.engine.runtime import amity_server_api

    with amity_server_api():
        serve_all(limit=args.limit)
    return EXIT_OK


def cmd_deployments(args: argparse.Namespace) -> int:
    from flows.engine.deployments import PREFECT_YAML, current_prefect_yaml, listed_flows, timezone

    if args.write_yaml or args.check:
        wanted = current_prefect_yaml()
        on_disk = PREFECT_YAML.read_text(encoding="utf-8") if PREFECT_YAML.exists() else ""
        if args.check:
            if on_disk != wanted:
                print(f"{PREFECT_YAML} is stale: run `amity deployments --write-yaml`")
                return EXIT_FAILED
            print(f"{PREFECT_YAML} is current")
            return EXIT_OK
        PREFECT_YAML.write_text(wanted, encoding="utf-8")
        print(f"wrote {PREFECT_YAML}")
        return EXIT_OK

    listed, notes = listed_flows()  # from the source: listing imports no flow, nor Prefect
    tz = timezone()
    rows = [
        {
            "deployment": f"{flow_name}/{spec.name}",
            "entrypoint": spec.entrypoint,
            "schedule": f"{spec.cron} ({tz})" if spec.cron else "on demand",
            "required": spec.required_at_run(),
            "parameters": spec.parameter_values(),
        }
        for spec, flow_name in listed
    ]
    if args.json:
        emit_json({"deployments": rows, "skipped": notes})
        return EXIT_OK
    print(
        table(
            ["deployment", "schedule", "each run gives"],
            [[r["deployment"], r["schedule"], ", ".join(r["required"])] for r in rows],
        )
    )
    for note in notes:
        print(note)
    return EXIT_OK
