"""Invitations for 10,000 contacts: (a) a bare loop over the domain functions vs (b) the Prefect flow.

    .venv/bin/python bench/bench_invitations.py [--contacts 10000]

(a) renders the letter HTML, builds the .ics and the e-mail and writes it to a Maildir, in plain
Python with the same domain functions; (b) runs `send_invitations` (plan, render in chunks,
ledger claim/confirm, Maildir) on a local Prefect API. Both without PDF attachments (PDF speed
is bench_pdf.py's subject). Targets: (a) >= 150 invitations/s on one core, (b)/(a) <= 1.25,
peak RSS of this process <= 600 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LANGS = ["ja", "en", "fr", "de", "es", "ru", "ar", "ko", "zh", "pt"]
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)


def setup(url: str, contacts: int) -> None:
    from sqlalchemy import insert

    from db import migrate
    from db.models import City, Contact, Tie
    from db.session import session_scope

    migrate.upgrade(url)
    with session_scope(url) as s:
        home = City(
            name="Beijing",
            native_name="北京",
            country_code="CN",
            timezone="Asia/Shanghai",
            language="zh",
            kind="municipality",
            is_home=True,
        )
        s.add(home)
        s.flush()
        cities = [
            City(
                name=f"City {n}",
                native_name=f"City {n}",
                country_code="JP",
                timezone="Asia/Tokyo",
                language=LANGS[n % len(LANGS)],
                kind="municipality",
            )
            for n in range(contacts // 100)
        ]
        s.add_all(cities)
        s.flush()
        s.execute(
            insert(Tie),
            [
                {
                    "home_city_id": home.id,
                    "partner_city_id": c.id,
                    "kind": "friendship_city",
                    "established_on": dt.date(1979 + c.id % 40, 3, 14),
                    "precision": "day",
                    "anniversary_md": 314,
                    "status": "active",
                    "source": "",
                    "note": "",
                }
                for c in cities
            ],
        )
        s.execute(
            insert(Contact),
            [
                {
                    "city_id": c.id,
                    "name_native": f"Contact {c.id}-{k}",
                    "name_latin": f"Contact {c.id}-{k}",
                    "title": "Mayor",
                    "honorific": "",
                    "office": "City Hall",
                    "email": f"c{c.id}-{k}@example.org",
                    "language": c.language,
                    "is_opted_out": False,
                    "note": "",
                }
                for c in cities
                for k in range(100)
            ],
        )


def bare_loop(url: str, maildir: Path, out: Path) -> tuple[float, int]:
    """The same domain work as the flow, in a plain loop on this core, writing the same files.

    Like the flow it keeps the organizer's copy of each letter (HTML), .ics and .eml under
    ``out`` and delivers into a Maildir; it skips only what orchestration adds (the ledger,
    Prefect's task runs).
    """
    from config.settings import get_settings
    from db.calendars import cal_event, event_info
    from db.events import find_event, invitation_uid, invited_contacts
    from db.invitees import invitees, next_references
    from db.session import session_scope
    from flows.domain.ical import Person, invitation_ics
    from flows.domain.letters import make_environment, render_letter
    from flows.domain.mail import build_imip_message, make_message_id
    from flows.invitations import _letter_input, home_city_names, host_from_settings
    from flows.outbound.outputs import contact_file_stem
    from flows.outbound.transport import MaildirTransport

    settings = get_settings()
    with session_scope(url) as session:
        event = find_event(session, "bench")
        rows = invitees(session, invited_contacts(session, event))
        numbers = next_references(session, NOW.year, len(rows), reserve=False)
        rows = [
            row.with_invitation(reference_year=NOW.year, reference_number=n)
            for row, n in zip(rows, numbers, strict=True)
        ]
        start = time.perf_counter()
        env = make_environment()
        host = host_from_settings(settings, home_city_names(session))
        info = event_info(event)
        organizer = Person(settings.office.email, settings.office.name)
        # synced once at the end, as the flow syncs once per chunk
        with MaildirTransport(maildir, durability="batch") as transport:
            for row in rows:
                uid = invitation_uid(event.slug, row.contact_id, settings.office.mail_domain)
                inp = _letter_input(event, info, row, host, NOW)
                letter = render_letter(inp, env=env)
                ics = invitation_ics(
                    cal_event(event, uid=uid, sequence=0, lang=letter.language, info=info),
                    organizer=organizer,
                    attendee=Person(row.email, row.name_latin),
                    stamp=NOW,
                )
                message_id = make_message_id(
                    uid, 0, "invitation", domain=settings.office.mail_domain
                )
                message = build_imip_message(
                    from_addr=settings.office.email,
                    from_name=settings.office.name,
                    to_addr=row.email,
                    to_name=row.name_latin,
                    subject=letter.subject,
                    text=letter.text,
                    html=letter.html_fragment,
                    ics=ics,
                    method="REQUEST",
                    attachments=[],
                    message_id=message_id,
                    date=NOW,
                )
                base = out / contact_file_stem(row.city, row.name_latin, row.email, row.contact_id)
                base.parent.mkdir(parents=True, exist_ok=True)
                base.with_suffix(".html").write_text(letter.html, encoding="utf-8")
                base.with_suffix(".ics").write_bytes(ics)
                base.with_suffix(".eml").write_bytes(message)
                transport.send(
                    message,
                    sender=settings.office.email,
                    recipients=[row.email],
                    message_id=message_id,
                )
        return time.perf_counter() - start, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'amity.db'}"
        os.environ.update(
            {
                "AMITY_HOME": str(folder / "home"),
                "AMITY_DATABASE_URL": url,
                "AMITY_ATTACH_PDF": "false",
            }
        )
        from flows.engine.runtime import apply_prefect_defaults

        apply_prefect_defaults()
        setup(url, args.contacts)
        from config.settings import get_settings
        from db.events import apply_spec
        from db.session import session_scope
        from flows.domain.events import parse_event_spec

        settings = get_settings()
        spec = parse_event_spec(
            "bench",
            {
                "slug": "bench",
                "title": {"en": "Benchmark Conference"},
                "kind": "conference",
                "host_city": "Beijing",
                "venue": "Hall",
                "venue_address": "Street 1",
                "timezone": "Asia/Shanghai",
                "start": "2027-09-14T09:00",
                "end": "2027-09-15T17:00",
                "invite": {"ties": "all"},
                "sessions": [
                    {
                        "key": "a",
                        "title": "Plenary",
                        "start": "2027-09-14T09:00",
                        "end": "2027-09-14T12:00",
                        "room": "A",
                    }
                ],
            },
            known_cities=["Beijing"],
        )
        with session_scope(url) as s:
            apply_spec(s, spec, settings, now=NOW)

        bare_s, n = bare_loop(url, folder / "bare-maildir", folder / "bare-out")

        from prefect.testing.utilities import prefect_test_harness

        from flows.engine.runtime import run_flow
        from flows.invitations import send_invitations

        with prefect_test_harness(server_startup_timeout=180):
            run_flow(send_invitations, "bench", only=["City 0"], dry_run=True, now=NOW)  # warm-up
            start = time.perf_counter()
            summary = run_flow(send_invitations, "bench", now=NOW)
            flow_s = time.perf_counter() - start
        assert summary["sent"] == n, summary["sent"]
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"contacts: {n}")
    print(f"(a) bare loop:    {bare_s:.1f} s  {n / bare_s:.0f} invitations/s (target >= 150)")
    print(f"(b) Prefect flow: {flow_s:.1f} s  {n / flow_s:.0f} invitations/s")
    print(f"(b)/(a) = {flow_s / bare_s:.2f} (target <= 1.25)")
    print(f"peak RSS of this process: {rss_mb:.0f} MB (target <= 600)")


if __name__ == "__main__":
    main()
