"""Invitations for 10,000 contacts: (a) a bare loop over the domain functions vs (b) the Prefect flow.

    .venv/bin/python bench/bench_invitations.py [--contacts 10000] [--rounds 3]

(a) renders each letter (HTML), .ics and e-mail with the functions the flow's tasks call and
writes the same files (letter, .ics, the message in a Maildir) in a plain loop; (b) runs
`send_invitations` (plan, render in chunks, ledger claim/confirm, Maildir) on a local Prefect
API. The two runs' files are compared byte for byte, so (b)/(a) measures orchestration and
the ledger only. Both without PDF attachments (PDF speed is bench_pdf.py's subject).
The bare loop and the flow take turns (bare, flow, bare, flow, ..., bare), each flow run on an
event of its own, and each flow run is compared with the mean of the bare loops either side:
this machine's speed drifts by more than the target's margin within minutes; the medians of
`--rounds` (3) rounds are the result. (The last bare loop plans an event already invited, if
anything a little faster: the ratio errs against the flow.) The disk is synced before each
timed part, so no part pays for the files of the one before.
Targets: (a) >= 500 invitations/s on one core, (b)/(a) <= 1.15, peak RSS <= 400 MB.
`--profile FILE` writes a cProfile of the first flow run (read it with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import resource
import shutil
import statistics
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


def bare_loop(url: str, slug: str, maildir: Path, out: Path) -> tuple[float, int]:
    """The flow's domain work in a plain loop on this core, writing the very same files.

    The same functions the flow's tasks call (`render_one`, `_build_message`), the same plan
    (UIDs, SEQUENCE, the letter numbers the run takes), the same outputs: the letter (HTML),
    the .ics and the message delivered into a Maildir. What it leaves out is what the flow
    adds: Prefect's flow and task runs, and the delivery ledger's claim and confirm.
    """
    from config.settings import get_settings
    from db.calendars import event_info
    from db.events import find_event, invited_contacts
    from db.invitees import plan_invitees
    from db.session import session_scope
    from flows.invitations import _build_message, home_city_names, host_from_settings, render_one
    from flows.outbound.transport import MaildirTransport

    settings = get_settings()
    with session_scope(url) as session:
        # warmed up as the flow is (its untimed dry run): templates compiled, caches filled
        event = find_event(session, slug)
        first = invited_contacts(session, event)[:1]
        warm = plan_invitees(session, event, first, year=NOW.year, now=NOW, dry_run=True)[0]
        host = host_from_settings(settings, home_city_names(session))
        warm_item = render_one(event, event_info(event), warm, host, settings, NOW)
        _build_message(warm_item, None, settings, NOW)
    with session_scope(url) as session:
        start = time.perf_counter()
        event = find_event(session, slug)
        contacts = invited_contacts(session, event)
        # a dry run's plan: the UIDs and the letter numbers the flow's run will take
        rows = plan_invitees(session, event, contacts, year=NOW.year, now=NOW, dry_run=True)
        host = host_from_settings(settings, home_city_names(session))
        info = event_info(event)
        # synced once at the end, as the flow syncs once per chunk
        with MaildirTransport(maildir, durability="batch") as transport:
            for row in rows:
                item = render_one(event, info, row, host, settings, NOW)
                message = _build_message(item, None, settings, NOW)
                base = out / item["base"]
                base.parent.mkdir(parents=True, exist_ok=True)
                base.with_suffix(".html").write_text(item["letter"].html, encoding="utf-8")
                base.with_suffix(".ics").write_bytes(item["ics"])
                transport.send(
                    message,
                    sender=settings.office.email,
                    recipients=[row.email],
                    message_id=item["message_id"],
                )
        return time.perf_counter() - start, len(rows)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(folder: Path) -> dict[str, str]:
    """Each file's sha256 by name (digests: 20,000 files held whole would weigh the RSS)."""
    return {
        str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def maildir_messages(folder: Path) -> list[str]:
    return sorted(_digest(p) for p in (folder / "new").iterdir())


def compare_outputs(bare_out: Path, bare_maildir: Path, flow_out: Path, flow_maildir: Path) -> str:
    """'identical', or what differs between the two runs' files."""
    bare, flow = files_of(bare_out), files_of(flow_out)
    problems = []
    if sorted(bare) != sorted(flow):
        problems.append(f"file names differ: {sorted(set(bare) ^ set(flow))[:5]}")
    else:
        differ = [name for name in bare if bare[name] != flow[name]]
        if differ:
            problems.append(f"{len(differ)} file(s) differ, e.g. {differ[:3]}")
    if maildir_messages(bare_maildir) != maildir_messages(flow_maildir):
        problems.append("the Maildir messages differ")
    return "; ".join(problems) or f"identical ({len(bare)} files, {len(bare) // 2} messages)"


def _event(slug: str) -> dict[str, object]:
    return {
        "slug": slug,
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
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="flow runs, each between two bare loops"
    )
    parser.add_argument("--bare-only", action="store_true", help="time the bare loop only")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the first flow run into FILE")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    rounds = 1 if args.bare_only else args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'amity.db'}"
        os.environ.update(
            {
                "AMITY_HOME": str(folder / "home"),
                "AMITY_DATABASE_URL": url,
                "AMITY_ATTACH_PDF": "false",
                # the sign-off is part of a real send: approved at once, on the record
                "AMITY_APPROVAL__AUTO_APPROVE_BY": "bench",
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
        # one event per round: each flow run invites its own event's 10,000 contacts
        slugs = [f"bench-{k}" for k in range(1, rounds + 1)]
        with session_scope(url) as s:
            for slug in slugs:
                spec = parse_event_spec(slug, _event(slug), known_cities=["Beijing"])
                apply_spec(s, spec, settings, now=NOW)

        def bare(k: int) -> float:
            """The bare loop for round k's event (its files are kept for the comparison), or
            with k past the last round, the last event once more (its files are not)."""
            os.sync()
            slug = slugs[min(k, rounds - 1)]
            seconds, _ = bare_loop(url, slug, folder / f"bare-maildir-{k}", folder / f"bare-{k}")
            if k == rounds:
                shutil.rmtree(folder / f"bare-maildir-{k}")
                shutil.rmtree(folder / f"bare-{k}")
            return seconds

        bare_s = [bare(0)]
        bare_rss_mb = peak_rss_mb()
        if args.bare_only:
            print(
                f"(a) bare loop: {bare_s[0]:.1f} s  {args.contacts / bare_s[0]:.0f} invitations/s"
            )
            print(f"peak RSS after (a): {bare_rss_mb:.0f} MB")
            return

        from prefect.testing.utilities import prefect_test_harness

        from flows.engine.runtime import run_flow
        from flows.invitations import send_invitations

        flow_s: list[float] = []
        rss_mb: list[float] = []  # the peak after each flow run
        outputs: list[str] = []
        with prefect_test_harness(server_startup_timeout=180):
            warm = run_flow(send_invitations, slugs[0], only=["City 0"], dry_run=True, now=NOW)
            shutil.rmtree(warm["out_dir"])  # the warm-up's dry-run files are not the run's
            for k, slug in enumerate(slugs):
                os.sync()
                start = time.perf_counter()
                if args.profile and k == 0:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                summary = run_flow(send_invitations, slug, now=NOW)
                flow_s.append(time.perf_counter() - start)
                if args.profile and k == 0:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                assert summary["sent"] == args.contacts, summary["sent"]
                # this round's messages, apart: the next run starts with an empty outbox
                flow_maildir = folder / f"flow-maildir-{k}"
                settings.outbox_dir.rename(flow_maildir)
                rss_mb.append(peak_rss_mb())  # before the comparison reads the files
                bare_s.append(bare(k + 1))  # the next round's; after the last, the same event
                outputs.append(
                    compare_outputs(
                        folder / f"bare-{k}",
                        folder / f"bare-maildir-{k}",
                        Path(summary["out_dir"]),
                        flow_maildir,
                    )
                )
                for done in (f"bare-{k}", f"bare-maildir-{k}", f"flow-maildir-{k}"):
                    shutil.rmtree(folder / done)
                shutil.rmtree(Path(summary["out_dir"]).parent)
    n = args.contacts
    ratios = [f / ((bare_s[k] + bare_s[k + 1]) / 2) for k, f in enumerate(flow_s)]
    print(f"contacts: {n}, rounds: {rounds} (bare, flow, bare, flow, ..., bare)")
    for k, (f, ratio) in enumerate(zip(flow_s, ratios, strict=True)):
        print(
            f"  round {k + 1}: (a) {bare_s[k]:.1f} s / {bare_s[k + 1]:.1f} s "
            f"({2 * n / (bare_s[k] + bare_s[k + 1]):.0f}/s), (b) {f:.1f} s "
            f"({n / f:.0f}/s): (b)/(a) = {ratio:.2f}; outputs: {outputs[k]}"
        )
    print(
        f"(a) bare loop, median: {n / statistics.median(bare_s):.0f} invitations/s (target >= 500)"
    )
    print(f"(b)/(a), median: {statistics.median(ratios):.2f} (target <= 1.15)")
    print(
        f"peak RSS of this process after the first flow run: {rss_mb[0]:.0f} MB (target <= 400), "
        f"after the last: {rss_mb[-1]:.0f} MB; after the first bare loop: {bare_rss_mb:.0f} MB"
    )
    if not all(o.startswith("identical") for o in outputs):
        sys.exit(1)


if __name__ == "__main__":
    main()
