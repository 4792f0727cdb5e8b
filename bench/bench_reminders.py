"""The daily reminder decision: the flow's `decide` task vs loading every tie in Python.

    .venv/bin/python bench/bench_reminders.py [--sizes 100000 1000000] [--days 7]
    AMITY_BENCH_POSTGRES_URL=postgresql+psycopg://amity@127.0.0.1:55432/postgres \\
        .venv/bin/python bench/bench_reminders.py

Builds synthetic registries (ties made between 1900 and 2025; 80 % known to the day, 10 %
to the month, 5 % to the year, 5 % unknown) on SQLite and, when AMITY_BENCH_POSTGRES_URL
names a server, on PostgreSQL (a scratch database is created and dropped). For each of
--days consecutive office days (after a first run, which looks a whole lead time ahead and
is timed on its own), each way decides the day's reminders on its own copy of the registry
and records them; the day's due counts and, at the end, the two reminder ledgers must agree:

* decide: ``flows.reminders.decide.fn(day, now)``, the task the flow runs (the month-day
  index ``Tie.anniversary_md IN (...)`` and the exact establishment dates, the done rows,
  ``due_reminders``, the inserts);
* baseline: every active tie loaded, the same candidate keys checked in Python, the same
  ``due_reminders``, a plain insert (the cheapest Python filter, so the ratio measures the
  query, not the domain code).

Between two days the digest step's stamp (``digest_date``) is set on both copies, untimed,
so each day's window starts after the day before, as in daily use.

Targets (issue 7): indexed ≥ 20x faster than the baseline; from 100,000 to 1,000,000 ties,
the indexed time per due reminder grows ≤ 1.5x. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from db.models import Base, Reminder, Tie
from db.session import session_scope
from flows.domain import anniversaries as dom
from flows.reminders import decide

FIRST = date(1900, 1, 1)
SPAN_DAYS = (date(2025, 12, 31) - FIRST).days
START_DAY = date(2026, 6, 10)


def synthetic_ties(n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    """(id, established_on, precision, anniversary_md) rows."""
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        made = FIRST + timedelta(days=rng.randrange(SPAN_DAYS))
        roll = rng.random()
        if roll < 0.80:
            precision: str = "day"
        elif roll < 0.90:
            precision, made = "month", made.replace(day=1)
        elif roll < 0.95:
            precision, made = "year", date(made.year, 1, 1)
        else:
            precision = "unknown"
        on = None if precision == "unknown" else made
        rows.append((i + 1, on, precision, dom.month_day_key(on, precision)))
    return rows


def _city_rows(n: int) -> list[tuple[Any, ...]]:
    home = [(1, "Home", "Home", "CN", "Asia/Shanghai", "zh", "municipality", None, True)]
    return home + [
        (i + 1, f"City {i}", f"City {i}", "ZZ", "UTC", "en", "municipality", None, False)
        for i in range(1, n + 1)
    ]


def _tie_rows(ties: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [
        (tid - 1, 1, tid, "sister_city", on, precision, md, "active", "", "")
        for tid, on, precision, md in ties
    ]


CITY_COLS = "id, name, native_name, country_code, timezone, language, kind, parent_id, is_home"
TIE_COLS = (
    "id, home_city_id, partner_city_id, kind, established_on, precision, anniversary_md, "
    "status, source, note"
)


def build_sqlite(path: Path, ties: list[tuple[Any, ...]]) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    con = sqlite3.connect(path)
    con.executemany(
        f"INSERT INTO city ({CITY_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",  # noqa: S608 (constant columns)
        _city_rows(len(ties)),
    )
    con.executemany(
        f"INSERT INTO tie ({TIE_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608 (constant columns)
        [(*r[:4], r[4].isoformat() if r[4] else None, *r[5:]) for r in _tie_rows(ties)],
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return engine


def build_postgres(url: str, ties: list[tuple[Any, ...]]) -> Engine:
    import psycopg

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as con, con.cursor() as cur:
        with cur.copy(f"COPY city ({CITY_COLS}) FROM STDIN") as copy:
            for row in _city_rows(len(ties)):
                copy.write_row(row)
        with cur.copy(f"COPY tie ({TIE_COLS}) FROM STDIN") as copy:
            for row in _tie_rows(ties):
                copy.write_row(row)
        con.commit()
        cur.execute("ANALYZE")
        con.commit()
    return engine


def baseline(session: Session, day: date, settings: Settings, now: datetime) -> int:
    """The decide step without the month-day index: every active tie loaded, the candidate
    keys checked in Python, the same domain decision, the rows inserted. Returns the due count."""
    rules = settings.reminders
    last = session.scalar(select(func.max(Reminder.digest_date)))
    since = None if last is None else min(last, day - timedelta(days=1))
    keys, years = dom.candidate_keys(
        today=day,
        since=since,
        lead_days=rules.lead_days,
        milestones=rules.milestones,
        feb29=rules.feb29_policy,
    )
    rows = session.execute(
        select(Tie.id, Tie.established_on, Tie.precision).where(Tie.status == "active")
    )
    ties = [
        dom.TieRecord(tid, "", on, precision)
        for tid, on, precision in rows
        if on is not None and dom.month_day_key(on, precision) in keys and on.year in years
    ]
    done = {
        (t, m, lead)
        for t, m, lead in session.execute(
            select(Reminder.tie_id, Reminder.milestone, Reminder.lead_days)
        )
    }
    due, skipped = dom.due_reminders(
        ties,
        today=day,
        milestones=rules.milestones,
        lead_days=rules.lead_days,
        already_done=done,
        since=since,
        feb29=rules.feb29_policy,
    )
    decided = [(r, "claimed") for r in due] + [(s, s.reason) for s in skipped]
    if decided:
        session.execute(
            insert(Reminder),
            [
                {
                    "tie_id": r.tie_id,
                    "milestone": r.milestone,
                    "lead_days": r.lead_days,
                    "anniversary_date": r.anniversary,
                    "due_date": r.lead_date,
                    "state": state,
                    "created_dt": now,
                }
                for r, state in decided
            ],
        )
    return len(due)


def project_decide(day: date, now: datetime) -> int:
    """What the flow runs: the `decide` task of flows/reminders.py, against AMITY_DATABASE_URL."""
    return int(decide.fn(day, now)["due"])


def _digest_done(url: str, day: date) -> None:
    # what the digest step leaves behind (untimed): the next day's window starts after `day`
    with session_scope(url) as session:
        session.execute(
            update(Reminder).where(Reminder.digest_date.is_(None)).values(digest_date=day)
        )


def _ledger(url: str) -> list[tuple[Any, ...]]:
    with session_scope(url) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    Reminder.tie_id,
                    Reminder.milestone,
                    Reminder.lead_days,
                    Reminder.anniversary_date,
                    Reminder.due_date,
                    Reminder.state,
                ).order_by(Reminder.tie_id, Reminder.milestone, Reminder.lead_days)
            )
        ]


def measure(project_url: str, bare_url: str, days: list[date]) -> dict[str, float]:
    """Day by day, the project's decide on one copy of the registry and the baseline on the
    other; the two ledgers must end up the same."""
    os.environ["AMITY_DATABASE_URL"] = project_url
    get_settings.cache_clear()
    settings = get_settings()
    now = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    first_day = days[0] - timedelta(days=1)  # a first run looks a whole lead time ahead
    t0 = time.perf_counter()
    project_decide(first_day, now)
    first_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    with session_scope(bare_url) as session:
        baseline(session, first_day, settings, now)
    first_slow = time.perf_counter() - t0
    fast, slow, due_total = [], [], 0
    for url in (project_url, bare_url):
        _digest_done(url, first_day)
    for n, day in enumerate(days):
        # alternate which goes first, so that load from other processes falls on both alike
        for which in (0, 1) if n % 2 == 0 else (1, 0):
            t0 = time.perf_counter()
            if which == 0:
                due_fast = project_decide(day, now)
                fast.append(time.perf_counter() - t0)
            else:
                with session_scope(bare_url) as session:
                    due_slow = baseline(session, day, settings, now)
                slow.append(time.perf_counter() - t0)
        if due_fast != due_slow:
            raise SystemExit(f"{day}: decide found {due_fast} due, the baseline {due_slow}")
        due_total += due_fast
        for url in (project_url, bare_url):
            _digest_done(url, day)
    if _ledger(project_url) != _ledger(bare_url):
        raise SystemExit("decide and the baseline recorded different reminder rows")
    return {
        "first_ms": first_fast * 1000,
        "first_baseline_ms": first_slow * 1000,
        "indexed_ms": statistics.fmean(fast) * 1000,
        "baseline_ms": statistics.fmean(slow) * 1000,
        "due_per_day": due_total / len(days),
        "us_per_due": sum(fast) / max(due_total, 1) * 1e6,
    }


def run_backend(
    name: str,
    build: Callable[[list[tuple[Any, ...]]], tuple[str, str]],
    sizes: list[int],
    days: list[date],
) -> list[str]:
    failures: list[str] = []
    per_due: dict[int, float] = {}
    print(f"\n== {name} ==")
    print(
        f"{'ties':>10} {'decide ms/day':>14} {'baseline ms/day':>16} {'ratio':>7} "
        f"{'due/day':>8} {'µs/due':>8} {'first run ms (baseline)':>24}"
    )
    for n in sizes:
        t0 = time.perf_counter()
        project_url, bare_url = build(synthetic_ties(n))
        built = time.perf_counter() - t0
        m = measure(project_url, bare_url, days)
        ratio = m["baseline_ms"] / m["indexed_ms"]
        per_due[n] = m["us_per_due"]
        print(
            f"{n:>10,} {m['indexed_ms']:>14.2f} {m['baseline_ms']:>16.1f} {ratio:>6.1f}x "
            f"{m['due_per_day']:>8.0f} {m['us_per_due']:>8.1f} "
            f"{m['first_ms']:>12.0f} ({m['first_baseline_ms']:.0f})   (built in {built:.0f} s)"
        )
        if ratio < 20:
            failures.append(f"{name} {n:,}: decide only {ratio:.1f}x faster than the baseline")
    if len(sizes) >= 2:
        small, large = min(sizes), max(sizes)
        growth = per_due[large] / per_due[small]
        print(f"time per due reminder, {small:,} -> {large:,} ties: {growth:.2f}x (target <= 1.5x)")
        if growth > 1.5:
            failures.append(f"{name}: time per due reminder grew {growth:.2f}x")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=7, help="consecutive office days measured")
    parser.add_argument("--postgres", default=os.environ.get("AMITY_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    days = [START_DAY + timedelta(days=i) for i in range(args.days)]
    print(
        f"days {days[0]} .. {days[-1]}, one run each (a run records its decisions); times are "
        "the mean over days"
    )
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AMITY_HOME"] = tmp
        counter = iter(range(100))

        def sqlite_build(ties: list[tuple[Any, ...]]) -> tuple[str, str]:
            # two copies of one registry: one for decide, one for the baseline
            first = Path(tmp) / f"bench{next(counter)}.db"
            build_sqlite(first, ties).dispose()
            second = first.with_suffix(".baseline.db")
            shutil.copyfile(first, second)
            return f"sqlite:///{first}", f"sqlite:///{second}"

        failures += run_backend("SQLite", sqlite_build, args.sizes, days)
    if args.postgres:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        created: list[str] = []

        def pg_build(ties: list[tuple[Any, ...]]) -> tuple[str, str]:
            name = f"amity_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as con:
                con.execute(text(f'CREATE DATABASE "{name}"'))
            created.append(name)
            urls = [
                make_url(args.postgres).set(database=db).render_as_string(hide_password=False)
                for db in (name, f"{name}_b")
            ]
            build_postgres(urls[0], ties).dispose()
            with admin.connect() as con:
                con.execute(text(f'CREATE DATABASE "{name}_b" TEMPLATE "{name}"'))
            created.append(f"{name}_b")
            return urls[0], urls[1]

        try:
            failures += run_backend("PostgreSQL", pg_build, args.sizes, days)
        finally:
            with admin.connect() as con:
                for name in created:
                    con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        print("\nPostgreSQL skipped (set AMITY_BENCH_POSTGRES_URL)")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
