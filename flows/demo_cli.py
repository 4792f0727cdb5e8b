"""`amity demo`: the main job on embedded defaults, start to finish, no questions asked."""

from __future__ import annotations

import argparse
from typing import Any

from flows.cli import EXIT_OK, add_command, add_json_flag, emit_json


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "demo",
        cmd_demo,
        "run the whole demo on embedded defaults",
        description="Initialise the database under AMITY_HOME (default ./var), load Beijing's\n"
        "reference partners and fictitious contacts, and print the registry.\n"
        "Safe to run again.",
    )
    add_json_flag(p)


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.partners_cli import print_registry
    from flows.setup import init_database, list_partners, load_reference_data

    url = init_database()
    imports = load_reference_data()
    as_of_2000 = list_partners(until=2000)
    everyone = list_partners()
    if args.json:
        emit_json({"database": url, "imports": imports, "partners": everyone})
        return EXIT_OK
    print(f"database: {url}\n")
    print("Beijing's friendship cities as of 2000 (People's Daily, 2000-09-19):\n")
    print_registry(as_of_2000, until=2000)
    print(f"\n{len(everyone) - len(as_of_2000)} later ties are loaded too: `amity partners list`.")
    return EXIT_OK
