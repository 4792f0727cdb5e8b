"""Post-event report at conference scale: the Prefect flow against a bare baseline.

Workload (issue 5): an event with N invitations (RSVPs, attendance rows, ledger rows) and 10
earlier editions of its series (1,000 invitations each), on SQLite under a private home.

- "flow": ``report_event`` — a Prefect flow run with one task: a handful of bulk queries,
  ``compute_report``, the four outputs (HTML, PDF, Markdown, CSV) written, the Report row,
  the Markdown artifact.
- "bare" (timed baseline): the same work with no Prefect — the task's own function
  (``build_report.fn``) called directly: the same queries, report, files and Report row.
- a hand-built check (untimed): one SQL query per figure (COUNTs and SUMs, one GROUP BY per
  table, four queries per earlier edition), the ``ReportData`` assembled by hand; its
  figures must equal the flow's. Above ``PDF_CONTACT_ROWS`` contacts the PDF (and the
Markdown artifact) summarise: long lists stop at ``PRINT_LIST_ROWS`` rows, the per-contact
table is left to the HTML and the CSV, so the PDF's cost does not grow with N. The Prefect
server start is paid once before timing. Then the event is made 10x bigger.

Runs alternate bare/flow; each prints wall and CPU seconds (this process, all threads). On a
shared machine the wall times swing several-fold with other jobs' load; CPU time does not.

Run: .venv/bin/python bench/bench_report.py [--invitations 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2024, 10, 20, 9, 0, tzinfo=UTC)
START = datetime(2024, 9, 26, 1, 0, tzinfo=UTC)
SENT = datetime(2024, 8, 1, 2, 0, tzinfo=UTC)
SERIES = "Friendship Cities Conference"
EARLIER, EARLIER_SIZE = 10, 1000
COUNTRIES = [
    "JP",
    "KR",
    "DE",
    "FR",
    "US",
    "RU",
    "UA",
    "EG",
    "AR",
    "BR",
    "VN",
    "TH",
    "ID",
    "PK",
    "TR",
    "IT",
    "ES",
    "GB",
    "CA",
    "AU",
    "MX",
    "CL",
    "PE",
    "ZA",
    "NL",
    "BE",
    "PL",
    "CZ",
    "HU",
    "RS",
]


def seed(url: str, invitations: int, rng: random.Random) -> str:
    """Cities, ties, contacts, the current edition and 10 earlier ones; returns its slug."""
    from sqlalchemy import insert

    from db.models import (
        Attendance,
        City,
        Contact,
        Event,
        EventSession,
        Invitation,
        OutboxMessage,
        Tie,
    )
    from db.session import session_scope

    with session_scope(url) as s:
        home = City(
            name="Beijing",
            native_name="北京",
            country_code="CN",
            timezone="Asia/Shanghai",
            language="zh",
            is_home=True,
        )
        s.add(home)
        s.flush()
        city_rows = [
            {
                "name": f"City {i:03}",
                "native_name": f"City {i:03}",
                "country_code": COUNTRIES[i % 30],
                "timezone": "UTC",
                "language": "en",
                "kind": "municipality",
                "is_home": False,
            }
            for i in range(90)
        ]
        city_ids = list(s.scalars(insert(City).returning(City.id), city_rows))
        s.execute(
            insert(Tie),
            [
                {
                    "home_city_id": home.id,
                    "partner_city_id": cid,
                    "kind": "sister_city",
                    "established_on": None if i % 15 == 0 else START.date().replace(year=1990),
                    "precision": "unknown" if i % 15 == 0 else "day",
                    "anniversary_md": None if i % 15 == 0 else 926,
                    "status": "active",
                    "source": "",
                    "note": "",
                }
                for i, cid in enumerate(city_ids)
            ],
        )
        contact_ids = list(
            s.scalars(
                insert(Contact).returning(Contact.id),
                [
                    {
                        "city_id": city_ids[i % len(city_ids)],
                        "name_native": f"Contact {i}",
                        "name_latin": f"Contact {i}",
                        "title": "",
                        "honorific": "",
                        "office": "",
                        "email": f"c{i}@partner.example",
                        "language": "" if i % 97 == 0 else "en",
                        "is_opted_out": False,
                        "note": "",
                    }
                    for i in range(invitations)
                ],
            )
        )

        def event(slug: str, edition: int, start: datetime) -> int:
            e = Event(
                slug=slug,
                titles={"en": f"{SERIES} {start.year}", "zh": f"{start.year}年友好城市大会"},
                kind="conference",
                series=SERIES,
                edition=edition,
                host_city_id=home.id,
                venue="Friendship Hotel",
                timezone="Asia/Shanghai",
                start_dt=start,
                end_dt=start + timedelta(days=3),
                status="held",
                uid=f"{slug}@bench",
                created_dt=SENT,
                updated_dt=SENT,
            )
            s.add(e)
            s.flush()
            return e.id

        def fill(event_id: int, slug: str, contacts: list[int], ledger: bool) -> None:
            inv, att, out = [], [], []
            for cid in contacts:
                rsvp = rng.choices(
                    ["accepted", "declined", "tentative", "delegated", "needs-action"],
                    [55, 15, 5, 2, 23],
                )[0]
                answered = SENT + timedelta(hours=rng.uniform(1, 900))
                inv.append(
                    {
                        "event_id": event_id,
                        "contact_id": cid,
                        "uid": f"{slug}-{cid}",
                        "sequence": 0,
                        "is_fallback": False,
                        "rsvp_state": rsvp,
                        "rsvp_dt": None if rsvp == "needs-action" else answered,
                        "created_dt": SENT,
                    }
                )
                if ledger:
                    out.append(
                        {
                            "purpose": "invitation",
                            "recipient": f"c{cid}@partner.example",
                            "occurrence": f"{slug}:{cid}",
                            "message_id": f"<{slug}.{cid}@b>",
                            "state": "sent",
                            "claim_token": "t",
                            "claimed_dt": SENT,
                            "sent_dt": SENT,
                            "attempts": 1,
                            "event_id": event_id,
                        }
                    )
                came = (rsvp == "accepted" and rng.random() < 0.85) or rng.random() < 0.03
                if came or rsvp == "accepted":
                    att.append(
                        {
                            "event_id": event_id,
                            "contact_id": cid,
                            "is_attended": came,
                            "delegation_size": rng.randint(1, 6) if came else 0,
                            "notes": "",
                            "is_simulated": True,
                        }
                    )
            s.execute(insert(Invitation), inv)
            s.execute(insert(Attendance), att)
            if out:
                s.execute(insert(OutboxMessage), out)

        for n in range(1, EARLIER + 1):
            eid = event(f"fcc-{2002 + 2 * n}", n, START.replace(year=2002 + 2 * n))
            fill(
                eid,
                f"fcc-{2002 + 2 * n}",
                rng.sample(contact_ids, min(EARLIER_SIZE, len(contact_ids))),
                False,
            )
        slug = "fcc-2024"
        current = event(slug, EARLIER + 1, START)
        fill(current, slug, contact_ids, True)
        s.execute(
            insert(Attendance),
            [
                {
                    "event_id": current,
                    "walk_in_name": f"Guest {i}",
                    "walk_in_city": "Ulaanbaatar",
                    "walk_in_country": "MN",
                    "is_attended": True,
                    "delegation_size": 2,
                    "notes": "",
                    "is_simulated": True,
                }
                for i in range(max(1, invitations // 200))
            ],
        )
        s.execute(
            insert(EventSession),
            [
                {
                    "event_id": current,
                    "key": f"s{i}",
                    "title": f"Session {i}",
                    "start_dt": START + timedelta(hours=3 * i),
                    "end_dt": START + timedelta(hours=3 * i + 2),
                    "room": "Hall 1",
                    "topic": "",
                    "speakers": [],
                    "cities": [],
                    "uid": f"s{i}@bench",
                    "sequence": 0,
                    "is_cancelled": False,
                }
                for i in range(12)
            ],
        )
    return slug


def bare_report(url: str, slug: str, lang: str) -> dict[str, int]:
    """The baseline: one SQL query per figure, the ReportData built by hand, same templates."""
    from sqlalchemy import case, func, select

    from db.models import (
        Attendance,
        City,
        Contact,
        Event,
        EventSession,
        Invitation,
        OutboxMessage,
        Tie,
    )
    from db.session import session_scope
    from flows.domain import report as R
    from flows.reports import report_dir

    with session_scope(url) as s:
        ev = s.scalars(select(Event).where(Event.slug == slug)).one()
        inv = Invitation.__table__.c
        att = Attendance.__table__.c

        def count(*where: Any) -> int:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(Invitation)
                    .where(inv.event_id == ev.id, *where)
                )
                or 0
            )

        attended_ids = select(att.contact_id).where(
            att.event_id == ev.id, att.is_attended.is_(True), att.contact_id.is_not(None)
        )
        states = {st: count(inv.rsvp_state == st) for st in R.RSVP_STATES}
        invited = count()
        attended = count(inv.contact_id.in_(attended_ids))
        unannounced = count(inv.contact_id.in_(attended_ids), inv.rsvp_state != "accepted")
        people = int(
            s.scalar(
                select(func.coalesce(func.sum(att.delegation_size), 0)).where(
                    att.event_id == ev.id, att.is_attended.is_(True), att.contact_id.is_not(None)
                )
            )
            or 0
        )
        funnel = R.Funnel(
            "",
            None,
            invited,
            states["accepted"],
            states["declined"],
            states["tentative"],
            states["delegated"],
            states["needs-action"],
            attended,
            unannounced,
            people,
        )

        def grouped(*keys: Any) -> tuple[R.Funnel, ...]:
            came = case((Attendance.is_attended.is_(True), 1), else_=0)
            q = (
                select(
                    *keys,
                    City.country_code,
                    *[
                        func.sum(case((Invitation.rsvp_state == st, 1), else_=0))
                        for st in R.RSVP_STATES
                    ],
                    func.sum(func.coalesce(came, 0)),
                    func.sum(
                        case(
                            (
                                Attendance.is_attended.is_(True)
                                & (Invitation.rsvp_state != "accepted"),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    func.sum(
                        case(
                            (Attendance.is_attended.is_(True), Attendance.delegation_size), else_=0
                        )
                    ),
                )
                .select_from(Invitation)
                .join(Contact, Invitation.contact_id == Contact.id)
                .join(City, Contact.city_id == City.id)
                .outerjoin(
                    Attendance,
                    (Attendance.event_id == ev.id)
                    & (Attendance.contact_id == Invitation.contact_id),
                )
                .where(Invitation.event_id == ev.id)
                .group_by(*keys, City.country_code)
            )
            out = []
            for row in s.execute(q):
                label = row[0]
                na, acc, dec, ten, dlg, came_n, unann, ppl = (int(x or 0) for x in row[-8:])
                out.append(
                    R.Funnel(
                        label,
                        row[-9],
                        acc + dec + ten + dlg + na,
                        acc,
                        dec,
                        ten,
                        dlg,
                        na,
                        came_n,
                        unann,
                        ppl,
                    )
                )
            return tuple(
                sorted(out, key=lambda f: (-f.attended, -f.invited, f.country or "", f.label))
            )

        by_city = grouped(City.name)
        by_country = grouped(City.country_code)
        sent = (
            select(OutboxMessage.recipient, func.min(OutboxMessage.sent_dt).label("sent"))
            .where(OutboxMessage.event_id == ev.id, OutboxMessage.purpose == "invitation")
            .group_by(OutboxMessage.recipient)
            .subquery()
        )
        ties = {p: pr for p, pr in s.execute(select(Tie.partner_city_id, Tie.precision))}
        rows = s.execute(
            select(
                Invitation.contact_id,
                Contact.name_latin,
                Contact.email,
                City.name,
                City.country_code,
                City.id,
                Contact.language,
                Invitation.rsvp_state,
                sent.c.sent,
                Invitation.rsvp_dt,
                Invitation.sequence,
                Attendance.is_attended,
                Attendance.delegation_size,
                Attendance.notes,
                Attendance.is_simulated,
            )
            .join(Contact, Invitation.contact_id == Contact.id)
            .join(City, Contact.city_id == City.id)
            .outerjoin(sent, sent.c.recipient == Contact.email)
            .outerjoin(
                Attendance,
                (Attendance.event_id == ev.id) & (Attendance.contact_id == Invitation.contact_id),
            )
            .where(Invitation.event_id == ev.id)
            .order_by(City.country_code, City.name, Contact.name_latin, Invitation.contact_id)
        ).all()
        contacts = tuple(
            R.ContactRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[6] or None,
                r[7],
                r[8],
                r[9],
                None
                if r[7] == "needs-action" or r[8] is None or r[9] is None
                else round((r[9] - r[8]) / timedelta(hours=1), 2),
                r[10],
                r[11],
                None if r[11] is None else (r[12] if r[11] else 0),
                r[13] or "",
                bool(r[14]),
            )
            for r in rows
        )
        walk_ins = tuple(
            R.WalkIn(
                a.walk_in_name or "",
                a.walk_in_city,
                a.walk_in_country,
                a.delegation_size,
                a.notes,
                a.is_simulated,
            )
            for a in s.scalars(
                select(Attendance).where(
                    Attendance.event_id == ev.id, Attendance.contact_id.is_(None)
                )
            )
        )
        hours = sorted(
            c.response_h for c in contacts if c.response_h is not None and c.response_h >= 0
        )
        buckets = [0] * (len(R.RESPONSE_BUCKETS_H) + 1)
        for h in hours:
            buckets[next((i for i, b in enumerate(R.RESPONSE_BUCKETS_H) if h <= b), -1)] += 1
        response = R.ResponseTimes(
            len(hours),
            round(statistics.median(hours), 2) if hours else None,
            hours[-(-len(hours) * 9 // 10) - 1] if hours else None,
            hours[0] if hours else None,
            hours[-1] if hours else None,
            tuple(buckets),
        )
        editions = []
        for e in s.scalars(select(Event).where(Event.series == ev.series, Event.id != ev.id)):
            e_inv = int(
                s.scalar(
                    select(func.count()).select_from(Invitation).where(Invitation.event_id == e.id)
                )
                or 0
            )
            e_acc = int(
                s.scalar(
                    select(func.count())
                    .select_from(Invitation)
                    .where(Invitation.event_id == e.id, Invitation.rsvp_state == "accepted")
                )
                or 0
            )
            e_att = int(
                s.scalar(
                    select(func.count())
                    .select_from(Attendance)
                    .where(
                        Attendance.event_id == e.id,
                        Attendance.is_attended.is_(True),
                        Attendance.contact_id.is_not(None),
                    )
                )
                or 0
            )
            e_par = int(
                s.scalar(
                    select(func.count(func.distinct(Contact.city_id)))
                    .join(Attendance, Attendance.contact_id == Contact.id)
                    .where(Attendance.event_id == e.id, Attendance.is_attended.is_(True))
                )
                or 0
            )
            editions.append(
                R.EditionFigures(e.edition, e.start_dt.date(), e_inv, e_acc, e_att, e_par)
            )
        present = {(c.country, c.city) for c in contacts if c.attended}
        editions.append(
            R.EditionFigures(
                ev.edition,
                ev.start_dt.date(),
                invited,
                states["accepted"],
                attended,
                len(present),
                is_current=True,
            )
        )
        quality = [
            R.QualityItem("tie_date_unknown", f"{c} ({cc})")
            for cc, c in sorted({(r[4], r[3]) for r in rows if ties.get(r[5]) == "unknown"})
        ]
        quality += [
            R.QualityItem("contact_no_language", f"{c.name} ({c.city})")
            for c in contacts
            if not c.language
        ]
        quality += [
            R.QualityItem("attended_without_accepting", f"{c.name} ({c.city})", c.rsvp)
            for c in contacts
            if c.attended and c.rsvp != "accepted"
        ]
        quality += [
            R.QualityItem("accepted_no_attendance", f"{c.name} ({c.city})")
            for c in contacts
            if c.rsvp == "accepted" and c.attended is None
        ]
        agreements, follow_ups = R.parse_outcomes(ev.outcomes or {})
        data = R.ReportData(
            event=R.EventFacts(
                ev.slug,
                ev.titles.get(lang) or ev.titles["en"],
                ev.kind,
                ev.series,
                ev.edition,
                "Beijing",
                ev.venue,
                ev.timezone,
                ev.start_dt,
                ev.end_dt,
            ),
            funnel=funnel,
            by_city=by_city,
            by_country=by_country,
            delegations=tuple(
                sorted(
                    [
                        R.Delegation(c.name, c.city, c.country, c.delegation_size or 0, False)
                        for c in contacts
                        if c.attended
                    ]
                    + [
                        R.Delegation(w.name, w.city, w.country, w.delegation_size, True)
                        for w in walk_ins
                    ],
                    key=lambda d: (-d.size, d.country or "", d.city or "", d.name),
                )
            ),
            response=response,
            to_chase=tuple(
                R.ChaseItem(
                    c.contact_id,
                    c.name,
                    c.email,
                    c.city,
                    c.country,
                    c.sent_dt,
                    None if c.sent_dt is None else (NOW - c.sent_dt).days,
                )
                for c in contacts
                if c.rsvp == "needs-action"
            ),
            no_shows=tuple(c for c in contacts if c.rsvp == "accepted" and c.attended is False),
            walk_ins=walk_ins,
            sessions=tuple(
                R.SessionFact(x.title, x.start_dt, x.end_dt, x.room)
                for x in s.scalars(
                    select(EventSession)
                    .where(EventSession.event_id == ev.id)
                    .order_by(EventSession.start_dt)
                )
            ),
            agreements=agreements,
            follow_ups=follow_ups,
            editions=tuple(sorted(editions, key=lambda e: (e.edition or 0, e.is_current))),
            quality=tuple(sorted(quality, key=lambda q: (q.code, q.subject, q.detail))),
            contacts=contacts,
            partners_present=len(present),
            countries_present=len({c for c, _ in present}),
            simulated=int(
                s.scalar(
                    select(func.count())
                    .select_from(Attendance)
                    .where(Attendance.event_id == ev.id, Attendance.is_simulated.is_(True))
                )
                or 0
            ),
        )
    rendered = R.render_report(data, lang=lang, generated_dt=NOW)
    folder = report_dir(slug, lang).with_name(f"{lang}-bare")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.html").write_text(rendered.html, encoding="utf-8")
    (folder / "report.pdf").write_bytes(R.render_pdf(rendered))
    (folder / "report.md").write_text(rendered.markdown, encoding="utf-8")
    (folder / "contacts.csv").write_text(rendered.csv, encoding="utf-8")
    return R.headline_figures(data)


def interleaved(
    a: Callable[[], Any], b: Callable[[], Any], repeat: int
) -> tuple[list[tuple[float, float]], Any, list[tuple[float, float]], Any]:
    """Run a, b, a, b, ...: (wall, CPU) seconds of each run, and the last results.

    Alternating keeps a busy machine's load from favouring one side; CPU time (this
    process, all threads) does not depend on what else the machine runs.
    """
    times_a: list[tuple[float, float]] = []
    times_b: list[tuple[float, float]] = []
    result_a = result_b = None
    for _ in range(repeat):
        for fn, times in ((a, times_a), (b, times_b)):
            wall, cpu = time.perf_counter(), time.process_time()
            result = fn()
            times.append((time.perf_counter() - wall, time.process_time() - cpu))
            if fn is a:
                result_a = result
            else:
                result_b = result
    return times_a, result_a, times_b, result_b


def run(invitations: int, repeat: int, lang: str) -> tuple[float, float, float, float]:
    from config.settings import get_settings
    from db import migrate
    from flows.reports import build_report, report_event

    home = Path(tempfile.mkdtemp(prefix=f"amity-bench-report-{invitations}-"))
    os.environ["AMITY_HOME"] = str(home)
    os.environ.pop("AMITY_DATABASE_URL", None)
    get_settings.cache_clear()
    url = get_settings().resolved_database_url
    migrate.upgrade(url)
    t = time.perf_counter()
    slug = seed(url, invitations, random.Random(5))
    took = time.perf_counter() - t
    print(
        f"  seeded {invitations:,} invitations, {EARLIER} x {EARLIER_SIZE:,} earlier ({took:.1f} s)"
    )
    # an independent check of the figures: one SQL query per figure, assembled by hand (untimed)
    bare_fig = bare_report(url, slug, lang)
    # timed baseline: the same project code (queries, compute, render, files) with no Prefect
    bare_t, _, flow_t, result = interleaved(
        lambda: build_report.fn(slug, lang, NOW), lambda: report_event(slug, lang, now=NOW), repeat
    )
    if {k: result["figures"][k] for k in bare_fig} != bare_fig:
        raise SystemExit(f"figures differ: flow {result['figures']} vs hand-built {bare_fig}")
    sizes = {k: Path(p).stat().st_size for k, p in result["files"].items()}
    print(f"  figures agree: {bare_fig}")
    print("  outputs: " + ", ".join(f"{k} {v / 1024:,.0f} KiB" for k, v in sizes.items()))
    for name, runs in (("bare", bare_t), ("flow", flow_t)):
        print(f"  {name} runs (wall/cpu s): " + "  ".join(f"{w:.2f}/{c:.2f}" for w, c in runs))
    bare_s, flow_s = min(w for w, _ in bare_t), min(w for w, _ in flow_t)
    bare_c, flow_c = min(c for _, c in bare_t), min(c for _, c in flow_t)
    print(
        f"  best wall: bare {bare_s:.2f} s, flow {flow_s:.2f} s, ratio {flow_s / bare_s:.2f}; "
        f"best CPU: bare {bare_c:.2f} s, flow {flow_c:.2f} s, ratio {flow_c / bare_c:.2f}"
    )
    return bare_s, flow_s, bare_c, flow_c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", default="zh", choices=["zh", "en"])
    parser.add_argument("--no-scale", action="store_true", help="skip the 10x bigger event")
    args = parser.parse_args()

    from flows.engine.runtime import apply_prefect_defaults

    apply_prefect_defaults()
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="amity-bench-prefect-"))
    from prefect import flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    @flow
    def warm_up() -> None:
        """Starts the local API."""

    # the first flow call starts Prefect's local server (8-17 s); it is not part of a report
    t = time.perf_counter()
    warm_up()
    print(f"Prefect local server started in {time.perf_counter() - t:.1f} s (not counted)")
    # DESIGN.md: a sync flow waits ~1 s for its heartbeat thread otherwise
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        print(f"event of {args.invitations:,} invitations ({args.lang}):")
        bare1, flow1, bare1_c, flow1_c = run(args.invitations, args.repeat, args.lang)
        if not args.no_scale:
            print(f"event of {10 * args.invitations:,} invitations ({args.lang}):")
            bare10, flow10, bare10_c, flow10_c = run(10 * args.invitations, args.repeat, args.lang)
            print(
                f"10x event: flow costs {flow10 / flow1:.1f}x wall, {flow10_c / flow1_c:.1f}x CPU "
                f"(limit 10x); bare {bare10 / bare1:.1f}x wall, {bare10_c / bare1_c:.1f}x CPU"
            )
    print(
        f"ratio flow/bare at {args.invitations:,}: {flow1 / bare1:.2f} wall, "
        f"{flow1_c / bare1_c:.2f} CPU (limit 1.5)"
    )


if __name__ == "__main__":
    main()
