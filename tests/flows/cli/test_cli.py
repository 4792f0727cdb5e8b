"""The `amity` command as a user runs it: a real process, real exit codes, real output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def api(prefect_api: None) -> str:
    """The session's Prefect API: the import commands run a flow, and need not start one."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def _amity(home: Path, *args: str, api: str | None = None) -> subprocess.CompletedProcess[str]:
    """``api``: the Prefect API a command that runs a flow uses (else it starts its own)."""
    env = {**os.environ, "AMITY_HOME": str(home)}
    env.pop("AMITY_DATABASE_URL", None)
    if api:
        env["PREFECT_API_URL"] = api
    return subprocess.run(
        [sys.executable, "-m", "flows", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_help_explains_every_command(tmp_path: Path) -> None:
    out = _amity(tmp_path, "--help")
    assert out.returncode == 0
    for command in ("init", "partners", "contacts", "db"):
        assert command in out.stdout


def test_cli_unknown_command_exits_2(tmp_path: Path) -> None:
    assert _amity(tmp_path, "frobnicate").returncode == 2


def test_cli_import_bad_file_exits_2_with_precise_lines_and_no_traceback(
    tmp_path: Path, api: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "city,native_name,country_code,timezone,language,established_on,precision,source,note\n"
        "Tokyo,東京都,JP,Asia/Tokyo,ja,1979-03-14,day,,\n"
        "Lima,Lima,PE,America/Lima,es,1983-11-31,day,,\n",
        encoding="utf-8",
    )
    out = _amity(tmp_path / "home", "partners", "import", str(bad), api=api)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert (
        "bad.csv:3: established_on='1983-11-31': not a real date: day is out of range for month"
        in out.stdout
    )
    listed = _amity(tmp_path / "home", "partners", "list", "--json")
    assert (listed.returncode, json.loads(listed.stdout)) == (0, [])


def test_cli_import_missing_file_exits_2(tmp_path: Path) -> None:
    out = _amity(tmp_path, "partners", "import", str(tmp_path / "nope.csv"))
    assert (out.returncode, out.stderr.strip()) == (
        2,
        f"amity: {tmp_path / 'nope.csv'}: no such file",
    )


def test_cli_bad_setting_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    env_before = os.environ.copy()
    try:
        os.environ["AMITY_OFFICE__REFERENCE_PATTERNS"] = '{"en": "FAO/{foo}"}'
        os.environ["AMITY_BATCH_SIZE"] = "many"
        out = _amity(tmp_path, "events", "list")
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    assert (out.returncode, out.stdout, out.stderr.splitlines()) == (
        2,
        "",
        [
            "amity: settings: office: Value error, office.reference_patterns.en='FAO/{foo}': "
            "only {year} and {n} may appear ('foo')",
            "amity: settings: batch_size: Input should be a valid integer, unable to parse "
            "string as an integer",
        ],
    )


def test_cli_city_names_file_that_is_not_yaml_says_where_in_one_line(
    tmp_path: Path, api: str
) -> None:
    broken = tmp_path / "names.yaml"
    broken.write_text("cities: [1, 2\n", encoding="utf-8")
    assert _amity(tmp_path / "home", "init").returncode == 0
    out = _amity(tmp_path / "home", "partners", "names", str(broken), api=api)
    assert (out.returncode, out.stdout.splitlines()) == (
        2,
        [
            "names.yaml: nothing imported, 1 problem(s):",
            f"  {broken}:2:1: not valid YAML: expected ',' or ']', but got '<stream end>'",
        ],
    )
