"""Fixtures shared by every test: an isolated AMITY_HOME and a migrated database.

The `database_url` fixture runs each test that uses it on SQLite and on PostgreSQL. The
PostgreSQL server is the one `.ci/setup --test` starts (127.0.0.1:55432), or the one
named by AMITY_TEST_POSTGRES_URL; without either, the PostgreSQL variants are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flows.engine.runtime import apply_prefect_defaults

apply_prefect_defaults()

#: the tests' default sign-off: every review is approved at once, in this name, through the
#: same path as a person's approval (recorded, digest-checked); tests of the sign-off itself
#: remove it (tests/flows/test_review.py), and the demo approves explicitly
AUTO_APPROVER = "tests (approval.auto_approve_by)"
os.environ.setdefault("AMITY_APPROVAL__AUTO_APPROVE_BY", AUTO_APPROVER)
#: PDFs in the process that renders them: pytest-xdist runs a test process per core already,
#: and a pool per test would start and warm up its fonts each time (~1-2 s a test); the pool
#: itself is tested in tests/flows/domain/test_pdf.py
os.environ.setdefault("AMITY_PDF_WORKERS", "1")

#: the SMTP sink fixture (`smtp_server`) for any test that sends mail, and a Radicale
#: CalDAV server (`radicale`) for the tests that publish calendars, and a Dovecot IMAP server
#: (`imap_mailbox`) for the tests that read the office's mailbox
pytest_plugins = ["tests.smtp_sink", "tests.radicale_server", "tests.imap_server"]

REPO = Path(__file__).resolve().parents[1]

DEFAULT_PG = "postgresql+psycopg://amity@127.0.0.1:55432/postgres"


def postgres_admin_url() -> str | None:
    url = os.environ.get("AMITY_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        engine = create_engine(DEFAULT_PG, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return None
    return DEFAULT_PG


_PG = postgres_admin_url()


def _fresh_postgres_database(template: str | None = None) -> tuple[str, str]:
    assert _PG is not None
    name = f"amity_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return make_url(_PG).set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(_PG or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database each test that needs one runs on: SQLite, then PostgreSQL."""
    if request.param == "postgres" and _PG is None:
        pytest.skip("no PostgreSQL server (run `bash .ci/postgres start`)")
    return str(request.param)


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) on each backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'amity.db'}"
        return
    url, name = _fresh_postgres_database()
    try:
        yield url
    finally:
        _forget_engines()
        _drop_postgres_database(name)


def _close_connections(url: str) -> None:
    from db.session import get_engine

    get_engine(url).dispose()
    _forget_engines()


def _forget_engines() -> None:
    from db.session import get_engine

    get_engine.cache_clear()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database per backend migrated once per test process, which each test copies.

    Migrating costs ~0.2 s per database; a copy (a file, or PostgreSQL's CREATE DATABASE
    ... TEMPLATE) a few milliseconds. The migrations themselves are tested on empty
    databases (tests/db/test_migrations.py).
    """
    made: dict[str, str] = {}
    yield made
    if "postgres" in made:
        _drop_postgres_database(made["postgres"])
    if "postgres" in _LOADED:
        _drop_postgres_database(_LOADED.pop("postgres"))


def _template(backend: str, made: dict[str, str], factory: pytest.TempPathFactory) -> str:
    from db import migrate

    if backend not in made:
        if backend == "sqlite":
            path = factory.mktemp("template") / "amity.db"
            migrate.upgrade(f"sqlite:///{path}")
            made[backend] = str(path)
        else:
            url, name = _fresh_postgres_database()
            migrate.upgrade(url)
            _forget_engines()  # no connection may stay open on a template
            made[backend] = name
    return made[backend]


#: per backend, a database of this test process with the shipped reference data imported
_LOADED: dict[str, str] = {}


def reference_data() -> None:
    """The shipped partners, city names and demo contacts in this test's new database.

    The first call of a test process imports them for real (three Prefect flow runs, ~1.2 s
    a test) and keeps the result as a template; later calls put a copy of that template in
    place of the test's own new database (same URL). The import is tested on its own
    (tests/flows/test_partners.py); call this before anything else writes to the database.
    """
    import shutil

    from config.settings import get_settings
    from flows.partners import load_reference_data

    url_text = get_settings().resolved_database_url  # as the engines are cached by
    url = make_url(url_text)
    backend = "sqlite" if url.get_backend_name() == "sqlite" else "postgres"
    here = url.database or ""
    if backend not in _LOADED:
        load_reference_data()
        _close_connections(url_text)  # none may stay open on a template (nor in a WAL)
        if backend == "sqlite":
            template = Path(here).with_name("reference-template.db")
            shutil.copyfile(here, template)
            _LOADED[backend] = str(template)
        else:
            _LOADED[backend] = _fresh_postgres_database(here)[1]
        return
    _close_connections(url_text)
    if backend == "sqlite":
        shutil.copyfile(_LOADED[backend], here)
        return
    admin = create_engine(_PG or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{here}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{here}" TEMPLATE "{_LOADED[backend]}"'))
    admin.dispose()


@pytest.fixture
def database_url(
    backend: str,
    tmp_path: Path,
    migrated_templates: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A migrated database on each backend (a copy of one migrated once)."""
    import shutil

    template = _template(backend, migrated_templates, tmp_path_factory)
    if backend == "sqlite":
        path = tmp_path / "amity.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url, name = _fresh_postgres_database(template)
    try:
        yield url
    finally:
        _forget_engines()
        _drop_postgres_database(name)


@pytest.fixture
def amity_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private AMITY_HOME (SQLite database, outbox, outputs) for one test."""
    from config.settings import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("AMITY_HOME", str(home))
    monkeypatch.delenv("AMITY_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def amity_db(amity_home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """AMITY_HOME plus a migrated database (SQLite and PostgreSQL variants), set in the env."""
    from config.settings import get_settings

    monkeypatch.setenv("AMITY_DATABASE_URL", database_url)
    get_settings.cache_clear()
    return database_url
