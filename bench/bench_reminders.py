"""The daily reminder query: the month-day index vs loading every tie and filtering in Python.

    .venv/bin/python bench/bench_reminders.py [--sizes 100000 1000000] [--days 7]
    AMITY_BENCH_POSTGRES_URL=postgresql+psycopg://amity@127.0.0.1:55432/postgres \\
        .venv/bin/python bench/bench_reminders.py

Builds synthetic registries (ties made between 1900 and 2025; 80 % known to the day, 10 %
to the month, 5 % to the year, 5 % unknown) on SQLite and, when AMITY_BENCH_POSTGRES_URL
names a server, on PostgreSQL (a scratch database is created and dropped). For each of
--days consecutive office days, both ways decide the day's reminders (since = the day
before) with the same domain function, and must agree:

* indexed: ``db.reminders.load_candidates`` (``Tie.anniversary_md IN (...)`` and the exact
  establishment dates) + ``load_done`` + ``due_reminders`` — what the flow runs;
* baseline: every active tie loaded, then the same candidate keys checked in Python before
  ``due_reminders`` (the cheapest Python filter, so the ratio measures the query, not the
  domain code).

Targets (issue 7): indexed ≥ 20x faster than the baseline; from 100,000 to 1,000,000 ties,
the indexed time per due reminder grows ≤ 1.5x. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from config.settings import Settings
from db.models import Base, Tie
from db.reminders import load_candidates, load_done
from flows.domain import anniversaries as dom

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


def indexed(session: Session, day: date, settings: Settings) -> list[dom.DueReminder]:
    rules = settings.reminders
    since = day - timedelta(days=1)
    ties = load_candidates(session, today=day, since=since, settings=settings)
    done = load_done(session, (t.tie_id for t in ties))
    due, _ = dom.due_reminders(
        ties,
        today=day,
        milestones=rules.milestones,
        lead_days=rules.lead_days,
        already_done=done,
        since=since,
        feb29=rules.feb29_policy,
    )
    return due


def baseline(session: Session, day: date, settings: Settings) -> list[dom.DueReminder]:
    rules = settings.reminders
    since = day - timedelta(days=1)
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
    due, _ = dom.due_reminders(
        ties,
        today=day,
        milestones=rules.milestones,
        lead_days=rules.lead_days,
        already_done=set(),
        since=since,
        feb29=rules.feb29_policy,
    )
    return due


def timed(fn: Callable[[], list[dom.DueReminder]], repeat: int) -> tuple[float, list[Any]]:
    best, result = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(engine: Engine, days: list[date], settings: Settings) -> dict[str, float]:
    fast, slow, due_total = [], [], 0
    with Session(engine) as session:
        indexed(session, days[0], settings)  # warm the page cache and the plan cache
        for day in days:
            t_fast, due_fast = timed(partial(indexed, session, day, settings), 5)
            t_slow, due_slow = timed(partial(baseline, session, day, settings), 2)
            if due_fast != due_slow:
                raise SystemExit(f"{day}: indexed and baseline disagree")
            fast.append(t_fast)
            slow.append(t_slow)
            due_total += len(due_fast)
    return {
        "indexed_ms": statistics.fmean(fast) * 1000,
        "baseline_ms": statistics.fmean(slow) * 1000,
        "due_per_day": due_total / len(days),
        "us_per_due": sum(fast) / max(due_total, 1) * 1e6,
    }


def run_backend(
    name: str, build: Callable[[list[tuple[Any, ...]]], Engine], sizes: list[int], days: list[date]
) -> list[str]:
    settings = Settings()
    failures: list[str] = []
    per_due: dict[int, float] = {}
    print(f"\n== {name} ==")
    print(
        f"{'ties':>10} {'indexed ms/day':>15} {'baseline ms/day':>16} {'ratio':>7} "
        f"{'due/day':>8} {'µs/due':>8}"
    )
    for n in sizes:
        t0 = time.perf_counter()
        engine = build(synthetic_ties(n))
        built = time.perf_counter() - t0
        m = measure(engine, days, settings)
        engine.dispose()
        ratio = m["baseline_ms"] / m["indexed_ms"]
        per_due[n] = m["us_per_due"]
        print(
            f"{n:>10,} {m['indexed_ms']:>15.2f} {m['baseline_ms']:>16.1f} {ratio:>6.1f}x "
            f"{m['due_per_day']:>8.0f} {m['us_per_due']:>8.1f}   (built in {built:.0f} s)"
        )
        if ratio < 20:
            failures.append(f"{name} {n:,}: indexed only {ratio:.1f}x faster than the baseline")
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
        f"days {days[0]} .. {days[-1]}; times are the mean over days of the best of 5 (indexed) "
        "or 2 (baseline) runs"
    )
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(100))

        def sqlite_build(ties: list[tuple[Any, ...]]) -> Engine:
            return build_sqlite(Path(tmp) / f"bench{next(counter)}.db", ties)

        failures += run_backend("SQLite", sqlite_build, args.sizes, days)
    if args.postgres:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        created: list[str] = []

        def pg_build(ties: list[tuple[Any, ...]]) -> Engine:
            name = f"amity_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as con:
                con.execute(text(f'CREATE DATABASE "{name}"'))
            created.append(name)
            return build_postgres(
                make_url(args.postgres).set(database=name).render_as_string(hide_password=False),
                ties,
            )

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
