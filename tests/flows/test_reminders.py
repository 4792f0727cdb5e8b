"""The reminder flow against a real Prefect API, both databases and a real Maildir."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlalchemy import select, text

from config.settings import get_settings
from db.models import City, OutboxMessage, Reminder, Tie
from db.registry import ensure_home_city
from db.reminders import candidate_ties_query
from db.session import session_scope
from flows.anniversaries import anniversaries_feed, list_anniversaries
from flows.domain.registry import anniversary_md
from flows.domain.reminder_digest import DIGEST_PURPOSE
from flows.reminders import remind
from tests.ics_rules import ics_problems

REPO = Path(__file__).resolve().parents[2]
RECIPIENT = "protocol@beijing.example.org"


def add_tie(name: str, established_on: date | None, precision: str, *, country: str = "JP") -> int:
    with session_scope() as session:
        home = ensure_home_city(session, get_settings().home_city)
        city = City(
            name=name,
            native_name=name,
            country_code=country,
            timezone="Asia/Tokyo",
            language="ja",
        )
        session.add(city)
        session.flush()
        tie = Tie(
            home_city_id=home.id,
            partner_city_id=city.id,
            established_on=established_on,
            precision=precision,
            anniversary_md=anniversary_md(established_on),
        )
        session.add(tie)
        session.flush()
        return tie.id


def ledger() -> list[tuple[int, int, int, str, date | None]]:
    with session_scope() as session:
        rows = session.execute(
            select(
                Reminder.tie_id,
                Reminder.milestone,
                Reminder.lead_days,
                Reminder.state,
                Reminder.digest_date,
            ).order_by(Reminder.tie_id, Reminder.milestone, Reminder.lead_days.desc())
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def outbox_files() -> list[Path]:
    return sorted((get_settings().outbox_dir / "new").glob("*"))


def read_mail(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


pytestmark = pytest.mark.usefixtures("prefect_api")


def test_remind_sends_one_digest_with_an_ics_per_anniversary(amity_db: str) -> None:
    tokyo = add_tie("Tokyo", date(1979, 3, 14), "day")
    add_tie("Kyiv", None, "unknown", country="UA")
    # Last run the day before, so only today's lead date is in play.
    remind(on=date(2029, 2, 11))
    result = remind(on=date(2029, 2, 12))
    files = outbox_files()
    message = read_mail(files[-1])
    attachments = [
        (part.get_filename(), part.get_payload(decode=True)) for part in message.iter_attachments()
    ]
    calendar = icalendar.Calendar.from_ical(attachments[0][1])
    assert (
        result["emails"][0]["state"],
        message["Subject"],
        [name for name, _ in attachments],
        str(calendar.walk("VEVENT")[0]["UID"]),
        ics_problems(attachments[0][1]),
        "Kyiv" in message.get_body(("plain",)).get_content(),
    ) == (
        "sent",
        "北京友好城市纪念日提醒：1项（2029年2月12日）",
        ["tokyo-50.ics"],
        f"anniversary-tie-{tokyo}@beijing.example.org",
        [],
        True,
    )


def test_remind_repeat_same_day_sends_nothing_more(amity_db: str) -> None:
    add_tie("Tokyo", date(1979, 3, 14), "day")
    first = remind(on=date(2029, 2, 12))
    again = remind(on=date(2029, 2, 12))
    assert (len(first["emails"]), again["emails"], again["inserted"], len(outbox_files())) == (
        1,
        [],
        0,
        1,
    )


def test_remind_nothing_due_sends_no_email(amity_db: str) -> None:
    add_tie("Tokyo", date(1979, 3, 14), "day")
    remind(on=date(2029, 2, 12))
    quiet = remind(on=date(2029, 2, 13))
    assert (quiet["due"], quiet["emails"], len(outbox_files())) == (0, [], 1)


def test_remind_catch_up_after_gap_sends_most_urgent_and_records_the_rest(amity_db: str) -> None:
    tokyo = add_tie("Tokyo", date(1979, 3, 14), "day")
    berlin = add_tie("Berlin", date(1994, 2, 20), "day", country="DE")
    remind(on=date(2028, 12, 1))
    # Down until 1 March: Tokyo's 90- and 30-day lead dates passed (one reminder, the
    # 90-day step superseded); Berlin's 35th anniversary (20 February) passed: missed.
    result = remind(on=date(2029, 3, 1))
    rows = [r for r in ledger() if r[4] == date(2029, 3, 1)]
    assert (result["due"], rows) == (
        1,
        [
            (tokyo, 50, 90, "superseded", date(2029, 3, 1)),
            (tokyo, 50, 30, "sent", date(2029, 3, 1)),
            (berlin, 35, 30, "missed", date(2029, 3, 1)),
            (berlin, 35, 7, "missed", date(2029, 3, 1)),
        ],
    )


def test_remind_stale_claim_of_a_dead_run_is_taken_over(amity_db: str) -> None:
    from flows.reminders import claim_digests, decide

    add_tie("Tokyo", date(1979, 3, 14), "day")
    remind(on=date(2029, 2, 11))
    # A run that decided and claimed the 12 February digest, then died before sending.
    now = datetime.now(UTC)
    decide.fn(date(2029, 2, 12), now)
    claim_digests.fn(date(2029, 2, 12), now)
    while_claimed = remind(on=date(2029, 2, 12))
    with session_scope() as session:
        session.execute(
            text("UPDATE outbox_message SET claimed_dt = :old WHERE state = 'claimed'"),
            {"old": now - timedelta(hours=1)},
        )
    resumed = remind(on=date(2029, 2, 12))
    assert (
        while_claimed["emails"],
        [(e["day"], e["state"]) for e in resumed["emails"]],
        [r[3] for r in ledger() if r[4] == date(2029, 2, 12)],
    ) == ([], [("2029-02-12", "sent")], ["sent"])


def test_candidate_query_uses_the_month_day_index(amity_db: str) -> None:
    add_tie("Tokyo", date(1979, 3, 14), "day")
    query = candidate_ties_query(
        today=date(2029, 2, 12),
        since=date(2029, 2, 11),
        lead_days=[365, 180, 90, 30, 7],
        milestones=[5, 10, 50],
        feb29="feb28",
    )
    with session_scope() as session:
        dialect = session.get_bind().dialect.name
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        if dialect == "sqlite":
            plan = " ".join(
                str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        else:
            # With a handful of rows any planner prefers a scan: forbid it to see the index works.
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(r[0]) for r in session.execute(text(f"EXPLAIN {compiled}")))
        found = session.execute(query).all()
    assert ("ix_tie_anniversary_md" in plan, len(found)) == (True, 1)


def test_list_anniversaries_year_lists_milestones_in_date_order(amity_db: str) -> None:
    add_tie("Tokyo", date(1979, 3, 14), "day")
    add_tie("Hanoi", date(1994, 10, 1), "month", country="VN")
    add_tie("Kyiv", None, "unknown", country="UA")
    rows = list_anniversaries(2029)
    assert [(r["partner"], r["milestone"], r["date"], r["when"]) for r in rows] == [
        ("Tokyo", 50, "2029-03-14", "2029年3月14日"),
        ("Hanoi", 35, "2029-10-01", "2029年10月"),
    ]


def test_anniversaries_feed_has_every_dated_tie(amity_db: str) -> None:
    tokyo = add_tie("Tokyo", date(1979, 3, 14), "day")
    leap = add_tie("Leapville", date(2008, 2, 29), "day", country="NZ")
    add_tie("Kyiv", None, "unknown", country="UA")
    data, count = anniversaries_feed(now=datetime(2029, 1, 1, tzinfo=UTC))
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert (
        count,
        [str(e["UID"]) for e in events],
        dict(events[1]["RRULE"]),
        ics_problems(data),
    ) == (
        2,
        [f"anniversary-tie-{i}@beijing.example.org" for i in (tokyo, leap)],
        {"FREQ": ["YEARLY"], "BYMONTH": [2], "BYMONTHDAY": [-1]},
        [],
    )


def test_cli_anniversaries_json_and_ics(amity_db: str, tmp_path: Path, capsys: Any) -> None:
    from flows.cli import main

    add_tie("Tokyo", date(1979, 3, 14), "day")
    code = main(["anniversaries", "--year", "2029", "--json", "--ics", str(tmp_path / "a.ics")])
    out = json.loads(capsys.readouterr().out)
    assert (code, [r["partner"] for r in out["anniversaries"]], out["ics"]["ties"]) == (
        0,
        ["Tokyo"],
        1,
    )


def test_cli_remind_on_date_prints_json(amity_db: str, capsys: Any) -> None:
    from flows.cli import main

    add_tie("Tokyo", date(1979, 3, 14), "day")
    code = main(["remind", "--on", "2029-02-12", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["day"], out["due"], [e["state"] for e in out["emails"]]) == (
        0,
        "2029-02-12",
        1,
        ["sent"],
    )


def test_cli_remind_bad_date_exits_2(amity_db: str, capsys: Any) -> None:
    from flows.cli import main

    code = main(["remind", "--on", "2029-02-30"])
    assert (code, capsys.readouterr().err.strip()) == (
        2,
        "amity: --on: '2029-02-30' is not a date (YYYY-MM-DD)",
    )


# ---------------------------------------------------------------------------- concurrency

RUNNER = """
import json, sys
from datetime import date
from flows.engine.runtime import apply_prefect_defaults
apply_prefect_defaults()
from flows.reminders import remind
for day in sys.argv[1:]:
    print(json.dumps(remind(on=date.fromisoformat(day))), flush=True)
"""


def test_remind_two_processes_at_once_send_each_digest_once(amity_db: str) -> None:
    from prefect.settings import PREFECT_API_URL

    tokyo = add_tie("Tokyo", date(1979, 3, 14), "day")
    berlin = add_tie("Berlin", date(1994, 4, 5), "day", country="DE")
    # The first run, then each remaining lead date (one twice), so both processes race on
    # every step that sends.
    days = [date(2029, m, d) for m, d in ((2, 1), (2, 12), (2, 12), (3, 6), (3, 7), (3, 29))]
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER, *(d.isoformat() for d in days)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    sent = sorted(
        (e["day"], e["recipient"])
        for out, _ in outputs
        for line in out.splitlines()
        for e in json.loads(line)["emails"]
    )
    with session_scope() as session:
        outbox = session.execute(
            select(OutboxMessage.occurrence, OutboxMessage.state)
            .where(OutboxMessage.purpose == DIGEST_PURPOSE)
            .order_by(OutboxMessage.occurrence)
        ).all()
    sent_rows = sorted((r[0], r[1], r[2]) for r in ledger() if r[3] == "sent")
    assert (sent, [tuple(o) for o in outbox], sent_rows, len(outbox_files())) == (
        sorted(set(sent)),
        [(f"reminders:{day}", "sent") for day, _ in sorted(set(sent))],
        sorted(
            (tie, milestone, lead)
            for tie, milestone in ((tokyo, 50), (berlin, 35))
            for lead in (90, 30, 7)
        ),
        len(set(sent)),
    )
