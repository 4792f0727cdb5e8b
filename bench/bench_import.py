"""Partner import: 50,000 rows validated and upserted vs a bare Core executemany of the same rows.

    .venv/bin/python bench/bench_import.py [--rows 50000]

Prints the seconds and the ratios (targets: first import <= 4x the bare insert, a re-import
of the same file, all no-ops, <= 2x). SQLite files in a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

COUNTRIES = [
    ("JP", "Asia/Tokyo", "ja"),
    ("FR", "Europe/Paris", "fr"),
    ("DE", "Europe/Berlin", "de"),
    ("US", "America/New_York", "en"),
    ("EG", "Africa/Cairo", "ar"),
    ("RU", "Europe/Moscow", "ru"),
    ("BR", "America/Sao_Paulo", "pt"),
    ("KR", "Asia/Seoul", "ko"),
    ("ES", "Europe/Madrid", "es"),
]


def write_csv(path: Path, rows: int) -> list[dict[str, str]]:
    rng = random.Random(7)
    records = []
    for n in range(rows):
        country, tz, lang = COUNTRIES[n % len(COUNTRIES)]
        precision = rng.choice(["day", "month", "year", "unknown"])
        year = rng.randint(1950, 2025)
        date = {
            "day": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "month": f"{year}-{rng.randint(1, 12):02d}",
            "year": str(year),
            "unknown": "",
        }[precision]
        records.append(
            {
                "city": f"City {n:06d}",
                "native_name": f"都市 {n}",
                "country_code": country,
                "timezone": tz,
                "language": lang,
                "established_on": date,
                "precision": "" if precision == "unknown" else precision,
                "source": "synthetic",
                "note": "",
            }
        )
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return records


def bare_insert(url: str, records: list[dict[str, str]]) -> float:
    """Core executemany of the same rows into city and tie, no validation, one transaction."""
    import datetime as dt

    from sqlalchemy import insert, select

    from db.models import City, Tie
    from db.session import get_engine

    engine = get_engine(url)
    start = time.perf_counter()
    with engine.begin() as conn:
        home = conn.execute(select(City.id).where(City.is_home.is_(True))).scalar_one()
        conn.execute(
            insert(City),
            [
                {
                    "name": r["city"],
                    "native_name": r["native_name"],
                    "country_code": r["country_code"],
                    "timezone": r["timezone"],
                    "language": r["language"],
                    "kind": "municipality",
                    "is_home": False,
                }
                for r in records
            ],
        )
        ids = dict(conn.execute(select(City.name, City.id)).all())
        rows = []
        for r in records:
            parts = (
                [int(p) for p in r["established_on"].split("-")] + [1, 1]
                if r["established_on"]
                else None
            )
            day = dt.date(parts[0], parts[1], parts[2]) if parts else None
            rows.append(
                {
                    "home_city_id": home,
                    "partner_city_id": ids[r["city"]],
                    "kind": "friendship_city",
                    "established_on": day,
                    "precision": r["precision"] or "unknown",
                    "anniversary_md": day.month * 100 + day.day if day else None,
                    "status": "active",
                    "source": r["source"],
                    "note": r["note"],
                }
            )
        conn.execute(insert(Tie), rows)
    return time.perf_counter() - start


def fresh_db(folder: Path, name: str) -> str:
    from db import migrate
    from db.models import City
    from db.session import session_scope

    url = f"sqlite:///{folder / name}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        session.add(
            City(
                name="Beijing",
                native_name="北京",
                country_code="CN",
                timezone="Asia/Shanghai",
                language="zh",
                kind="municipality",
                is_home=True,
            )
        )
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "partners.csv"
        records = write_csv(path, args.rows)
        bare = bare_insert(fresh_db(folder, "bare.db"), records)

        os.environ["AMITY_HOME"] = str(folder / "home")
        os.environ["AMITY_DATABASE_URL"] = fresh_db(folder, "amity.db")
        from config.settings import get_settings
        from flows.partners import _run_import

        get_settings.cache_clear()
        start = time.perf_counter()
        first = _run_import(path, "partners", skip_invalid=False, dry_run=False)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        again = _run_import(path, "partners", skip_invalid=False, dry_run=False)
        again_s = time.perf_counter() - start
        assert first.created == args.rows and first.problems == [], first.problems[:3]
        assert again.unchanged == args.rows and again.created == again.updated == 0
    print(f"rows: {args.rows}")
    print(f"bare Core executemany (no validation): {bare:.2f} s")
    print(
        f"amity import (validate + upsert):     {first_s:.2f} s   ratio {first_s / bare:.2f} (target <= 4)"
    )
    print(
        f"amity re-import (all no-ops):         {again_s:.2f} s   ratio {again_s / bare:.2f} (target <= 2)"
    )


if __name__ == "__main__":
    main()
