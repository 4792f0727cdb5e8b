"""Every import command against a corpus of bad files, one file per mistake a person makes
(tests/data/bad_inputs/<command>/<mistake>.*): exit 2, one line per problem, no traceback,
the database unchanged. What each prints is a golden file (tests/golden/bad_inputs/).

The commands run in this process: every check happens before a flow run, so no Prefect API
is needed (one test runs the real `amity` process to show no traceback reaches stderr).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.goldens import golden

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "tests" / "data" / "bad_inputs"
EVENT = "bad-inputs-forum"
#: the command line of each import, before the file
COMMANDS = {
    "partners": ["partners", "import"],
    "contacts": ["contacts", "import"],
    "attendance": ["attendance", "import", EVENT],
    "events": ["events", "apply"],
    "names": ["partners", "names"],
    "rsvp": ["rsvp", "import"],
}
#: mistakes made of the file system rather than of a file's content
MADE = {
    "a_folder": lambda tmp: _folder(tmp),
    "no_such_file": lambda tmp: tmp / "no-such-file.csv",
    "under_a_file": lambda tmp: _under_a_file(tmp),
}
CASES = [
    pytest.param(command, path.name, id=f"{command}/{path.name}")
    for command in ("partners", "contacts", "attendance", "events")
    for path in sorted((CORPUS / command).iterdir())
] + [
    pytest.param(command, made, id=f"{command}/{made}")
    for command in COMMANDS
    for made in MADE
    if (command, made) != ("rsvp", "a_folder")  # a folder of replies is what rsvp reads
]
_SUMMARY = re.compile(r"^\S+: nothing imported, \d+ problem\(s\):$")


def _folder(tmp: Path) -> Path:
    folder = tmp / "sheet.csv"
    folder.mkdir()
    return folder


def _under_a_file(tmp: Path) -> Path:
    (tmp / "plain").write_text("x", encoding="utf-8")
    return tmp / "plain" / "sheet.csv"


def _seed(home: Path) -> None:
    """Beijing, one partner (Tokyo) with one contact, and one held event that invited her."""
    from config.settings import get_settings
    from db.events import apply_spec, find_event, invitation_uid
    from db.models import Contact, Invitation
    from db.reference import init_database
    from db.session import session_scope
    from flows.domain.events import parse_event_spec
    from flows.partners import _run_import

    init_database()
    partners = home / "partners.csv"
    partners.write_text(
        "city,native_name,country_code,timezone,language,established_on,precision,source,note\n"
        "Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03-14,day,FAO,first\n",
        encoding="utf-8",
    )
    contacts = home / "contacts.csv"
    contacts.write_text(
        "city,country_code,name_native,name_latin,email,language\n"
        "Tokyo,JP,佐藤 花子,Hanako Sato,sato@tokyo.example,ja\n",
        encoding="utf-8",
    )
    for path, kind in ((partners, "partners"), (contacts, "contacts")):
        assert _run_import(path, kind, skip_invalid=False, dry_run=False).imported
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    spec = {
        "slug": EVENT,
        "title": "Friendship Forum",
        "kind": "conference",
        "host_city": "Beijing",
        "timezone": "Asia/Shanghai",
        "start": "2026-09-01T09:00",
        "end": "2026-09-01T17:00",
        "invite": {"ties": "all"},
    }
    with session_scope() as session:
        parsed = parse_event_spec("spec", spec, known_cities=["Beijing", "Tokyo"])
        apply_spec(session, parsed, get_settings(), now=now, force=True)
        event = find_event(session, EVENT)
        event.status = "held"
        contact = session.scalars(select(Contact)).one()
        session.add(
            Invitation(
                event_id=event.id,
                contact_id=contact.id,
                uid=invitation_uid(EVENT, contact.id, "example.org"),
                created_dt=now,
            )
        )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A seeded SQLite database, made once; each test works on a copy."""
    from config.settings import get_settings

    home = tmp_path_factory.mktemp("seed")
    saved = {k: os.environ.get(k) for k in ("AMITY_HOME", "AMITY_DATABASE_URL")}
    os.environ["AMITY_HOME"] = str(home)
    os.environ["AMITY_DATABASE_URL"] = f"sqlite:///{home / 'amity.db'}"
    get_settings.cache_clear()
    try:
        _seed(home)
        from db.session import get_engine

        # the last connection closing writes SQLite's WAL into the file that is copied
        get_engine(os.environ["AMITY_DATABASE_URL"]).dispose()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
    yield home / "amity.db"


@pytest.fixture
def database(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from config.settings import get_settings

    copy = tmp_path / "home" / "amity.db"
    copy.parent.mkdir()
    shutil.copyfile(seeded, copy)
    monkeypatch.setenv("AMITY_HOME", str(copy.parent))
    monkeypatch.setenv("AMITY_DATABASE_URL", f"sqlite:///{copy}")
    get_settings.cache_clear()
    yield str(copy)
    get_settings.cache_clear()


def _rows() -> dict[str, list[Any]]:
    """Every row of every table, to show that nothing changed."""
    from db.models import Base
    from db.session import session_scope

    with session_scope() as session:
        return {
            table.name: sorted(map(repr, session.execute(select(table)).all()))
            for table in Base.metadata.sorted_tables
        }


def _problem_lines(out: str, err: str, where: Path) -> list[str]:
    lines = []
    for line in (out + err).splitlines():
        line = line.removeprefix("amity: ").strip()
        if not _SUMMARY.match(line):
            lines.append(line.replace(str(where), "{dir}"))
    return lines


@pytest.mark.parametrize(("command", "mistake"), CASES)
def test_bad_input_exits_2_one_line_per_problem_database_unchanged(
    command: str,
    mistake: str,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flows.cli import main

    path = MADE[mistake](tmp_path) if mistake in MADE else CORPUS / command / mistake
    before = _rows()

    code = main([*COMMANDS[command], str(path)])

    out, err = capsys.readouterr()
    lines = _problem_lines(out, err, path.parent)
    assert (code, "Traceback" in out + err) == (2, False)
    golden(f"bad_inputs/{command}/{mistake}.txt", "\n".join(lines) + "\n")
    assert _rows() == before


def test_bad_partner_file_in_a_real_process_prints_one_line_and_no_traceback(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "AMITY_HOME": str(tmp_path)}
    env.pop("AMITY_DATABASE_URL", None)
    env.pop("PREFECT_API_URL", None)  # the ephemeral API: what printed two tracebacks
    path = CORPUS / "partners" / "missing_column.csv"

    out = subprocess.run(
        [sys.executable, "-m", "flows", "partners", "import", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert (out.returncode, out.stdout, out.stderr) == (
        2,
        "",
        "amity: missing_column.csv: missing column(s): timezone\n",
    )
