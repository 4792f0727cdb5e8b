"""Invitations for 10,000 contacts: (a) a bare loop over the domain functions vs (b) the Prefect flow.

    .venv/bin/python bench/bench_invitations.py [--contacts 10000] [--rounds 3]

(a) renders each letter (HTML), .ics and e-mail with the functions the flow's tasks call and
writes the same files (letter, .ics, the message in a Maildir) in a plain loop; (b) runs
`send_invitations` (plan, render in chunks, ledger claim/confirm, Maildir) on a local Prefect
API. The two runs' files are compared byte for byte, so (b)/(a) measures orchestration and
the ledger only. Both without PDF attachments (PDF speed is bench_pdf.py's subject).
Each of `--rounds` (3) rounds runs in a process of its own, as amity runs a flow run (a
command, or a worker's run): the bare loop, the flow on an event of its own, the bare loop
again; the flow is compared with the mean of the two (this machine's speed drifts by more than
the target's margin within minutes) and the medians of the rounds are the result. (The bare
loop after the flow plans an event already invited, if anything a little faster: the ratio
errs against the flow.) The disk is synced before each timed part, so no part pays for the
files of the one before, and nothing is deleted before the end (about 0.7 GB a round, in
$TMPDIR).
Targets: (a) >= 500 invitations/s on one core, (b)/(a) <= 1.15, peak RSS <= 400 MB.
`--profile FILE` writes a cProfile of the first flow run (read it with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
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
    from flows.engine.runtime import long_lived_objects_frozen
    from flows.invitations import _build_message, home_city_names, host_from_settings, render_one
    from flows.outbound.outputs import Folders
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
    # as the flow: what the process holds before the run stays out of full collections
    with session_scope(url) as session, long_lived_objects_frozen():
        start = time.perf_counter()
        event = find_event(session, slug)
        contacts = invited_contacts(session, event)
        # a dry run's plan: the UIDs and the letter numbers the flow's run will take
        rows = plan_invitees(session, event, contacts, year=NOW.year, now=NOW, dry_run=True)
        host = host_from_settings(settings, home_city_names(session))
        info = event_info(event)
        # synced once at the end, as the flow syncs once per chunk
        folders = Folders()  # each folder made once, as the flow does
        with MaildirTransport(maildir, durability="batch") as transport:
            for row in rows:
                item = render_one(event, info, row, host, settings, NOW)
                message = _build_message(item, None, settings, NOW)
                base = out / item["base"]
                folders.make(base.parent)
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


def _environment(folder: Path) -> str:
    """The settings of a run in ``folder`` (this process and its rounds' processes); the URL."""
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
    return url


def one_round(folder: Path, k: int, contacts: int, profile: str | None) -> dict[str, object]:
    """Round k in this process: the bare loop, the flow on event k, the bare loop again."""
    url = _environment(folder)
    from config.settings import get_settings

    settings = get_settings()
    slug = f"bench-{k}"

    def bare(tag: str) -> float:
        os.sync()
        seconds, _ = bare_loop(url, slug, folder / f"bare-maildir-{tag}", folder / f"bare-{tag}")
        return seconds

    before = bare(f"{k}")
    from prefect.testing.utilities import prefect_test_harness

    from flows.engine.runtime import run_flow
    from flows.invitations import send_invitations

    with prefect_test_harness(server_startup_timeout=180):
        warm = run_flow(send_invitations, slug, only=["City 0"], dry_run=True, now=NOW)
        shutil.rmtree(warm["out_dir"])  # the warm-up's dry-run files are not the run's
        os.sync()
        start = time.perf_counter()
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        summary = run_flow(send_invitations, slug, now=NOW)
        flow_s = time.perf_counter() - start
        if profile:
            profiler.disable()
            profiler.dump_stats(profile)
    assert summary["sent"] == contacts, summary["sent"]
    rss = peak_rss_mb()  # before the comparison reads the files
    flow_maildir = folder / f"flow-maildir-{k}"
    settings.outbox_dir.rename(flow_maildir)  # the next round starts with an empty outbox
    after = bare(f"{k}-again")  # the event is invited now: its plan reads what the flow wrote
    same = compare_outputs(
        folder / f"bare-{k}", folder / f"bare-maildir-{k}", Path(summary["out_dir"]), flow_maildir
    )
    # the files stay until the end: deleting 60,000 files made the next round's first bare
    # loop a quarter to a half slower (the file system still at work on them), which
    # flattered the flow
    return {"before": before, "flow": flow_s, "after": after, "rss": rss, "outputs": same}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of bare loop, flow, bare loop"
    )
    parser.add_argument("--bare-only", action="store_true", help="time the bare loop only")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the first flow run into FILE")
    parser.add_argument("--round", nargs=2, metavar=("FOLDER", "K"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    if args.round:  # one round, in a process of its own: its figures as JSON on stdout
        folder, k = Path(args.round[0]), int(args.round[1])
        print(json.dumps(one_round(folder, k, args.contacts, args.profile if k == 1 else None)))
        return
    rounds = args.rounds
    n = args.contacts
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = _environment(folder)
        setup(url, n)
        from config.settings import get_settings
        from db.events import apply_spec
        from db.session import session_scope
        from flows.domain.events import parse_event_spec

        # one event per round: each flow run invites its own event's contacts
        with session_scope(url) as s:
            for k in range(1, rounds + 1):
                spec = parse_event_spec(
                    f"bench-{k}", _event(f"bench-{k}"), known_cities=["Beijing"]
                )
                apply_spec(s, spec, get_settings(), now=NOW)
        if args.bare_only:
            os.sync()
            seconds, _ = bare_loop(url, "bench-1", folder / "bare-maildir", folder / "bare")
            print(f"(a) bare loop: {seconds:.1f} s  {n / seconds:.0f} invitations/s")
            print(f"peak RSS after (a): {peak_rss_mb():.0f} MB")
            return
        results = []
        for k in range(1, rounds + 1):
            command = [
                sys.executable,
                __file__,
                "--round",
                str(folder),
                str(k),
                "--contacts",
                str(n),
            ]
            if args.profile:
                command += ["--profile", args.profile]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"round {k} failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"contacts: {n}, rounds: {rounds} (each in a process of its own: bare, flow, bare)")
    ratios, bares = [], []
    for k, r in enumerate(results, start=1):
        bare_mean = (r["before"] + r["after"]) / 2
        ratios.append(r["flow"] / bare_mean)
        bares += [r["before"], r["after"]]
        print(
            f"  round {k}: (a) {r['before']:.1f} s / {r['after']:.1f} s ({n / bare_mean:.0f}/s), "
            f"(b) {r['flow']:.1f} s ({n / r['flow']:.0f}/s): (b)/(a) = {ratios[-1]:.2f}; "
            f"peak RSS {r['rss']:.0f} MB; outputs: {r['outputs']}"
        )
    print(
        f"(a) bare loop, median: {n / statistics.median(bares):.0f} invitations/s (target >= 500)"
    )
    print(f"(b)/(a), median: {statistics.median(ratios):.2f} (target <= 1.15)")
    print(
        f"peak RSS, highest of the rounds: {max(r['rss'] for r in results):.0f} MB (target <= 400)"
    )
    if not all(str(r["outputs"]).startswith("identical") for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
