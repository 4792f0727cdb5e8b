"""The `amity` command line: one sub-command per job; read-only commands run no flow.

Exit codes: 0 success, 1 a run failed, 2 bad input or usage. User mistakes print one
readable line each, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from flows.engine.runtime import apply_prefect_defaults

#: modules that add sub-commands: each has `register(subparsers)`
COMMAND_MODULES = [
    "flows.cli.partners",
    "flows.cli.reminders",
    "flows.cli.demo",
    "flows.cli.events",
    "flows.cli.invitations",
    "flows.cli.approvals",
    "flows.cli.schedule",
    "flows.cli.reports",
    "flows.cli.serve",
    "flows.cli.server",
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UserError(Exception):
    """A mistake in what the user gave us; printed as lines, exit 2."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class RunFailed(Exception):
    """The job ran and failed; exit 1."""


Handler = Callable[[argparse.Namespace], int]


def add_command(
    sub: Any, name: str, handler: Handler, help: str, *, description: str | None = None
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description or help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def need_action(args: argparse.Namespace) -> int:
    """Handler of a command group called without its ACTION."""
    raise UserError("missing ACTION; see --help")


def require_event(ref: str) -> None:
    """An unknown event is a one-line mistake, caught before any flow run logs a traceback."""
    from db.events import EventNotFound, find_event
    from db.session import session_scope

    try:
        with session_scope() as session:
            find_event(session, ref)
    except EventNotFound as exc:
        raise UserError(str(exc)) from None


def spec_error_lines(exc: Any) -> list[str]:
    """A SpecError as one line per problem, each naming the spec and the field."""
    return [f"{exc.source}: {p}" for p in exc.problems]


def _missing_database(exc: Exception) -> bool:
    text = str(exc)
    return type(exc).__module__.startswith("sqlalchemy") and (
        "no such table" in text or "UndefinedTable" in text or "does not exist" in text
    )


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")


def emit_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table; widths count East Asian wide characters as two columns."""
    import unicodedata

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths, strict=True)).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amity",
        description=(
            "amity: the workflow engine of a city's international-relations office.\n"
            "Partner records, invitations, calendars, anniversary reminders and reports."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def _bad_settings(exc: Exception) -> bool:
    """Settings that do not validate (amity.toml, AMITY_*): one `amity:` line each, no traceback.

    Checked by name so that `amity --help` does not pay for importing pydantic.
    """
    if type(exc).__name__ != "ValidationError" or not type(exc).__module__.startswith("pydantic"):
        return False
    for error in exc.errors():  # type: ignore[attr-defined]
        where = ".".join(str(part) for part in error["loc"])
        print(f"amity: settings: {where}: {error['msg']}", file=sys.stderr)
    return True


def _quiet_stdout() -> None:
    """The reader of our output has gone (`amity … | head`): drop what is left, quietly.

    Python flushes stdout again at exit; pointing it at /dev/null keeps that flush from
    printing a second BrokenPipeError.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    apply_prefect_defaults()
    try:
        return _main(argv)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the handling below
        return code
    except UserError as exc:
        for line in exc.lines:
            print(f"amity: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunFailed as exc:
        print(f"amity: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        raise
    except Exception as exc:
        if _bad_settings(exc):
            return EXIT_BAD_INPUT
        if not _missing_database(exc):
            raise
        print("amity: no database yet (or an old one): run `amity init`", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("amity: interrupted", file=sys.stderr)
        return 130
