"""`amity demo`: the whole life of two events on embedded defaults, in one process.

Loads Beijing's partners and the fictitious contacts, applies the two example events, runs
each through its lifecycle (invitations → schedule), simulates replies and attendance
(labelled as simulated in every output), finishes the lifecycle (held → report) and sends
the anniversary digest for a day with milestones due. A second run continues or repeats
without sending anything twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.settings import EVENTS_DIR, get_settings

EVENT_SPECS = ("beijing-tokyo-urban-symposium-12", "friendship-cities-conference-2027")
#: 365 days before the 50th anniversary of the Beijing–Tokyo tie (1979-03-14)
DIGEST_DAY = dt.date(2028, 3, 14)
#: the demo's clock once the real one is past it: three months before the first example event
#: (2027-04-20). Its lifecycle must find the events still ahead, or it would report on them
#: before the simulated replies and attendance are in.
LATEST_CLOCK = dt.datetime(2027, 1, 20, 1, 0, tzinfo=dt.UTC)


def demo_clock(real: dt.datetime) -> dt.datetime:
    """The demo's "now": the real time, but never past `LATEST_CLOCK`."""
    return min(real, LATEST_CLOCK)


def run_demo(
    progress: Callable[[str], None] = print, real_now: dt.datetime | None = None
) -> dict[str, Any]:
    """Run the demo; ``real_now`` stands in for the real time (a test runs it as if later)."""
    from db.events import apply_spec, find_event, mark_held, read_spec
    from db.reference import init_database, list_partners
    from db.session import session_scope
    from flows.cli.simulate import (
        mark_attendance_simulated,
        simulated_dir,
        write_simulated_attendance,
        write_simulated_replies,
    )
    from flows.lifecycle import event_lifecycle
    from flows.outbound.outputs import calendar_dir, invitation_dir
    from flows.partners import load_reference_data
    from flows.reminders import remind
    from flows.reports import import_attendance, report_dir, report_event
    from flows.review import ApproveAs, deciding
    from flows.rsvp import import_replies

    settings = get_settings()
    timings: dict[str, float] = {}

    def step(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        progress(f"… {name}")
        start = time.perf_counter()
        value = fn(*args, **kwargs)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        return value

    now = demo_clock(real_now or dt.datetime.now(dt.UTC))
    database = step("database", init_database)
    step("partners and contacts (Prefect start-up included)", load_reference_data)
    with session_scope() as session:
        for name in EVENT_SPECS:
            apply_spec(session, read_spec(EVENTS_DIR / f"{name}.yaml", session), settings, now=now)
    events = []
    for slug in EVENT_SPECS:
        # the demo signs off its own letters, explicitly and on the record (`amity approvals
        # --all`), through the same path as a person's approval
        with deciding(ApproveAs("amity demo", "the demo approves its own letters")):
            first = step(f"{slug}: invitations and schedule", event_lifecycle, slug, now=now)
        replies = write_simulated_replies(slug, now=now)
        rsvp = step(
            f"{slug}: simulated replies", import_replies, [str(simulated_dir(slug) / "replies")]
        )
        # the demo treats the event as held: in real use an organizer says so, or it ends
        with session_scope() as session:
            mark_held(session, find_event(session, slug), now, "the demo treats it as held")
        sheet = write_simulated_attendance(slug)
        step(f"{slug}: simulated attendance", import_attendance, slug, str(sheet))
        mark_attendance_simulated(slug)
        # the demo treats the event as held: in real use the lifecycle waits for its end
        final = step(
            f"{slug}: report", event_lifecycle, slug, held=True, report_language="en", now=now
        )
        step(f"{slug}: report in Chinese", report_event, slug, "zh", now=now)
        # None when the letters went out on an earlier run (the lifecycle skips done steps)
        invited = next((s["result"] for s in first["steps"] if s["step"] == "invitations"), None)
        events.append(
            {
                "slug": slug,
                "status": final["status"],
                "letters": _letter_counts(invited),
                "steps": [s["step"] for s in first["steps"] + final["steps"]],
                "replies_written": len(replies),
                "replies_recorded": rsvp["recorded"],
                "invitations": str(invitation_dir(settings, slug)),
                "calendar": str(calendar_dir(settings, slug)),
                "report_en": str(report_dir(slug, "en")),
                "report_zh": str(report_dir(slug, "zh")),
                "simulated": str(simulated_dir(slug)),
            }
        )
    digest = step(f"anniversary digest for {DIGEST_DAY}", remind, on=DIGEST_DAY)
    return {
        "database": database,
        "partners": len(list_partners()),
        "partners_by_2000": len(list_partners(until=2000)),
        "events": events,
        "digest": digest,
        "outbox": str(settings.outbox_dir),
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }


def _letter_counts(invited: dict[str, Any] | None) -> dict[str, Any] | None:
    if invited is None:
        return None
    return {
        "letters": invited["invited"],
        "mixed": invited["counts"]["mixed"],
        "address_problems": invited["counts"]["address_problems"],
        "in_english": invited["fallback_languages"],
    }


def print_outputs(result: dict[str, Any]) -> None:
    from db.reference import list_partners
    from flows.cli.partners import print_registry

    home = Path(result["outbox"]).parent
    print("Beijing's friendship cities as of 2000 (People's Daily, 2000-09-19):\n")
    print_registry(list_partners(until=2000), until=2000)
    print(f"\namity demo: done. Everything is under {home}\n")
    print(f"  database      {result['database']}")
    print(
        f"  partners      {result['partners']} ties ({result['partners_by_2000']} as of 2000): "
        "amity partners list"
    )
    for e in result["events"]:
        print(f"\n  {e['slug']}  [{e['status']}]")
        print(f"    letters (HTML, PDF), .ics         {e['invitations']}/<city>/")
        n = e["letters"]
        if n is None:
            print("      letters written on an earlier run (not sent again)")
        else:
            english = ", ".join(n["in_english"]) or "none"
            print(
                f"      {n['letters']} letters: {n['mixed']} mixing languages, "
                f"{n['address_problems']} with a form of address the data cannot make, "
                f"in English for want of a letter language: {english}"
            )
        print(f"    calendar feeds                   {e['calendar']}/")
        print(f"    report (HTML, PDF, Markdown, CSV) {e['report_en']}/  and  {e['report_zh']}/")
        print(f"    simulated replies and attendance  {e['simulated']}/  (labelled simulated)")
    digest = result["digest"]
    print(
        f"\n  anniversary digest for {digest['day']}: {len(digest['emails'])} e-mail(s) sent now "
        "(none on a repeat run)"
    )
    print(f"  every e-mail sent (Maildir)        {result['outbox']}/new/")
    print("\n  Open: the .pdf and .html files in any viewer; the Maildir with a mail client")
    print(
        f"  (e.g. `mutt -f {result['outbox']}`); .eml and .ics files with a mail or calendar app."
    )
    print("\n  time per step (s): " + ", ".join(f"{k} {v}" for k, v in result["timings_s"].items()))
