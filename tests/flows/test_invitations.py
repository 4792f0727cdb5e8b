"""The invitation flow end to end: real Prefect API, both databases, Maildir and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import mailbox
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from config.settings import get_settings
from db.events import apply_spec, read_spec
from db.models import Contact, Invitation, OutboxMessage
from db.session import session_scope
from flows.invitations import PreflightError, send_invitations
from tests.conftest import reference_data
from tests.ics_rules import ics_problems, parser_disagreements
from tests.smtp_sink import ScriptedHandler

pytestmark = pytest.mark.usefixtures("prefect_api")
REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "config" / "events"
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
CONFERENCE = "friendship-cities-conference-2027"


def _apply(name: str) -> None:
    with session_scope() as session:
        apply_spec(session, read_spec(EVENTS / f"{name}.yaml", session), get_settings(), now=NOW)


@pytest.fixture
def registry(amity_db: str) -> None:
    reference_data()
    _apply(SYMPOSIUM)
    _apply(CONFERENCE)


def _outbox() -> list[email.message.Message]:
    if not get_settings().outbox_dir.exists():
        return []
    box = mailbox.Maildir(get_settings().outbox_dir, create=False)
    return [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]


def _calendar_part(message: email.message.Message) -> bytes:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True)
    raise AssertionError("no text/calendar part")


def test_invite_sends_one_imip_message_per_contact(registry: None) -> None:
    summary = send_invitations(SYMPOSIUM, now=NOW)
    assert (summary["invited"], summary["sent"], summary["failed"]) == (2, 2, [])
    messages = _outbox()
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        "hanako.yamada@tokyo.example.org",
        "ken.sato@tokyo.example.org",
    ]
    # the organizer's copies: letters and calendars; what was sent is in the Maildir
    files = sorted(p.suffix for p in Path(summary["out_dir"]).rglob("*.*"))
    assert files == [".html", ".html", ".ics", ".ics", ".pdf", ".pdf"]
    for message in messages:
        assert [p.get_content_type() for p in message.walk()] == [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/calendar",
            "application/pdf",
        ]
        assert message["From"].addresses[0].addr_spec == "fao@beijing.example.org"
        ics = _calendar_part(message)
        assert ics_problems(ics) == []
        assert parser_disagreements(ics) == []
        assert b"METHOD:REQUEST" in ics and b"RSVP=TRUE" in ics and b"X-WR-CALNAME" not in ics
    with session_scope() as session:
        invitations = session.scalars(select(Invitation)).all()
        assert sorted((i.letter_language, i.sequence) for i in invitations) == [
            ("ja", 0),
            ("ja", 0),
        ]


def test_invite_twice_sends_nothing_the_second_time(registry: None) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    again = send_invitations(SYMPOSIUM, now=NOW + dt.timedelta(hours=1))
    assert (again["sent"], again["already_sent"]) == (0, 2)
    assert len(_outbox()) == 2


def test_invite_dry_run_writes_files_and_sends_nothing(registry: None) -> None:
    summary = send_invitations(SYMPOSIUM, dry_run=True, now=NOW)
    assert summary["sent"] == 0
    assert _outbox() == []
    files = sorted(p.suffix for p in Path(summary["out_dir"]).rglob("*.*"))
    assert files == [".eml", ".eml", ".html", ".html", ".ics", ".ics", ".pdf", ".pdf"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_invite_skips_opted_out_and_reports_fallback(registry: None) -> None:
    summary = send_invitations(CONFERENCE, only=["Canberra", "Athens", "Cairo"], now=NOW)
    assert summary["skipped_opted_out"] == ["olivia.brown@canberra.example.org"]
    assert summary["fallbacks"] == [
        {
            "email": "nikos.papadopoulos@athens.example.org",
            "city": "Athens",
            "wanted": "el",
            "got": "en",
        }
    ]
    assert summary["sent"] == 2


def test_invite_invalid_address_stops_before_sending_and_names_contact(registry: None) -> None:
    with session_scope() as session:
        session.execute(
            update(Contact)
            .where(Contact.email == "ken.sato@tokyo.example.org")
            .values(email="ken@@tokyo")
        )
    with pytest.raises(PreflightError, match=r"e-mail to ken@@tokyo \(Tokyo\): to_addr"):
        send_invitations(SYMPOSIUM, now=NOW)
    assert _outbox() == []
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_invite_hostile_name_adds_no_header_and_shows_html_as_text(registry: None) -> None:
    with session_scope() as session:
        session.execute(
            update(Contact)
            .where(Contact.email == "jane.doe@nyc.example.org")
            .values(name_latin="Jane\r\nBcc: spy@evil.example", title="<script>alert(1)</script>")
        )
    summary = send_invitations(CONFERENCE, only=["New York City"], now=NOW)
    assert summary["sent"] == 1
    (message,) = _outbox()
    assert message["Bcc"] is None
    html = next(Path(summary["out_dir"]).rglob("*.html")).read_text("utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_invite_over_smtp_records_permanent_refusal_and_sends_the_rest(
    registry: None, smtp_server: tuple[ScriptedHandler, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = smtp_server
    handler.rcpt_replies = ["250 OK", "550 5.1.1 mailbox unavailable"]
    monkeypatch.setenv("AMITY_MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("AMITY_SMTP__PORT", str(port))
    monkeypatch.setenv("AMITY_SMTP__SECURITY", "none")
    monkeypatch.setenv("AMITY_SMTP__BACKOFF_SECONDS", "0.01")
    get_settings.cache_clear()
    summary = send_invitations(SYMPOSIUM, now=NOW)
    assert summary["sent"] == 1
    assert len(summary["failed"]) == 1 and "550" in summary["failed"][0]["reason"]
    assert len(handler.received) == 1
    with session_scope() as session:
        states = sorted(session.scalars(select(OutboxMessage.state)))
    assert states == ["failed", "sent"]


# --- crash and concurrency, with real processes ------------------------------------------
#
# The processes talk to the session's Prefect API (no temporary server each) and stop or
# meet at chosen points through flows/outbound/faults.py, so no test sleeps or polls for a
# moment to kill in. PDFs are off: what is checked is the ledger, not the letters.

#: small chunks (rendered and sent), so that a run is killed or meets the other one with work
#: still to do
CRASH_ENV = {"AMITY_BATCH_SIZE": "4", "AMITY_SEND_BATCH_SIZE": "4", "AMITY_ATTACH_PDF": "false"}


def _amity_process(
    home: Path, db_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    from prefect.settings import PREFECT_API_URL

    full_env = {
        **os.environ,
        "AMITY_HOME": str(home),
        "AMITY_DATABASE_URL": db_url,
        # the session's API: a process of its own would spend seconds starting one
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flows", *args],
        cwd=REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _ledger_states() -> dict[str, int]:
    with session_scope() as session:
        rows = session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return {state: n for state, n in rows}


def _sent_ledger() -> list[str]:
    with session_scope() as session:
        return sorted(
            session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.state == "sent"))
        )


def _smtp_env(port: int) -> dict[str, str]:
    return {
        "AMITY_MAIL_TRANSPORT": "smtp",
        "AMITY_SMTP__PORT": str(port),
        "AMITY_SMTP__SECURITY": "none",
    }


def test_invite_killed_midway_and_rerun_sends_each_exactly_once(
    registry: None, amity_db: str
) -> None:
    home = get_settings().home
    # killed (SIGKILL) once the 5th message is confirmed: the Maildir confirms a chunk of 4
    # at a time, so after the second chunk, with the other chunks not yet sent or in flight
    killed = _amity_process(
        home, amity_db, "invite", CONFERENCE, env={**CRASH_ENV, "AMITY_FAULT_KILL_AFTER": "5"}
    )
    output, _ = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, output
    partial = len(_sent_ledger())
    assert 5 <= partial < 38
    rerun = _amity_process(home, amity_db, "invite", CONFERENCE, env=CRASH_ENV)
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output
    recipients = [m["To"].addresses[0].addr_spec for m in _outbox()]
    assert len(recipients) == len(set(recipients)) == 38
    assert len(_sent_ledger()) == 38


def test_invite_killed_over_smtp_rerun_takes_over_its_claims_and_sends_each_once(
    registry: None, amity_db: str, smtp_server: tuple[ScriptedHandler, int]
) -> None:
    handler, port = smtp_server
    home = get_settings().home
    env = {**CRASH_ENV, **_smtp_env(port)}
    # SMTP confirms each message: killed right after the 5th, it leaves the rest of its
    # second chunk claimed by a process that is gone
    killed = _amity_process(
        home, amity_db, "invite", CONFERENCE, env={**env, "AMITY_FAULT_KILL_AFTER": "5"}
    )
    output, _ = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, output
    states = _ledger_states()
    # armed, the sending threads take turns from send to confirm: exactly 5 went out
    assert states["sent"] == 5 and states["claimed"] >= 2, states
    rerun = _amity_process(home, amity_db, "invite", CONFERENCE, env=env)
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output
    recipients = [rcpt for _, rcpts, _ in handler.received for rcpt in rcpts]
    assert len(recipients) == len(set(recipients)) == 38
    assert _ledger_states() == {"sent": 38}


def test_invite_two_runs_at_once_never_send_twice(
    registry: None, amity_db: str, smtp_server: tuple[ScriptedHandler, int], tmp_path: Path
) -> None:
    handler, port = smtp_server
    home = get_settings().home
    meet = tmp_path / "meet"
    # each run, after its first confirmed message, waits until the other has sent one too:
    # from there on both are certainly sending at once, claiming from the same chunks
    env = {
        **CRASH_ENV,
        **_smtp_env(port),
        "AMITY_FAULT_MEET_DIR": str(meet),
        "AMITY_FAULT_MEET_COUNT": "2",
    }
    procs = [
        _amity_process(home, amity_db, "invite", CONFERENCE, "--json", env=env) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=400)[0] for p in procs]
    # whole, not as a list's repr (pytest cuts that short, traceback and all)
    assert [p.returncode for p in procs] == [0, 0], "\n=====\n".join(outputs)
    assert len(list(meet.iterdir())) == 2  # both were sending when they met
    recipients = [rcpt for _, rcpts, _ in handler.received for rcpt in rcpts]
    assert len(recipients) == len(set(recipients)) == 38
    assert _ledger_states() == {"sent": 38}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_invite_on_dask_runner_writes_byte_identical_outputs(registry: None) -> None:
    import shutil

    from flows.engine.runners import task_runner_for

    threads = send_invitations(SYMPOSIUM, dry_run=True, now=NOW)
    folder = Path(threads["out_dir"])
    expected = _files(folder)
    shutil.rmtree(folder)
    on_dask = send_invitations.with_options(task_runner=task_runner_for("dask", 2, processes=True))
    dask = on_dask(SYMPOSIUM, dry_run=True, now=NOW)
    assert dask["letters"] == threads["letters"] == 2
    assert _files(folder) == expected
    assert sorted(Path(k).suffix for k in expected) == [
        ".eml",
        ".eml",
        ".html",
        ".html",
        ".ics",
        ".ics",
        ".pdf",
        ".pdf",
    ]


def test_invite_remind_pending_resends_same_calendar_in_a_new_message(registry: None) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    with session_scope() as session:
        session.execute(
            update(Invitation)
            .where(
                Invitation.contact_id
                == select(Contact.id)
                .where(Contact.email == "ken.sato@tokyo.example.org")
                .scalar_subquery()
            )
            .values(rsvp_state="accepted")
        )
    reminded = send_invitations(SYMPOSIUM, remind_pending=True, now=NOW + dt.timedelta(days=7))
    assert (reminded["invited"], reminded["sent"]) == (1, 1)
    again = send_invitations(
        SYMPOSIUM, remind_pending=True, now=NOW + dt.timedelta(days=7, hours=2)
    )
    assert (again["sent"], again["already_sent"]) == (0, 1)
    messages = _outbox()
    to_hanako = [
        m for m in messages if m["To"].addresses[0].addr_spec == "hanako.yamada@tokyo.example.org"
    ]
    assert len(messages) == 3 and len(to_hanako) == 2
    assert to_hanako[0]["Message-ID"] != to_hanako[1]["Message-ID"]
    first, second = (
        [
            line
            for line in _calendar_part(m).splitlines()
            if line.startswith((b"UID:", b"SEQUENCE:"))
        ]
        for m in to_hanako
    )
    assert first == second  # the same calendar object: same UID and SEQUENCE


def test_invite_remind_pending_skips_a_contact_never_invited(registry: None) -> None:
    """A contact added after the invitations went out gets an invitation from the next
    ordinary run, not a reminder of one they never had (dry run or not)."""
    send_invitations(SYMPOSIUM, now=NOW)
    with session_scope() as session:
        sato = session.scalars(
            select(Contact).where(Contact.email == "ken.sato@tokyo.example.org")
        ).one()
        session.add(
            Contact(
                city_id=sato.city_id,
                name_native="新人 太郎",
                name_latin="Taro Shinjin",
                email="taro.shinjin@tokyo.example.org",
                language="ja",
            )
        )
    preview = send_invitations(
        SYMPOSIUM, remind_pending=True, dry_run=True, now=NOW + dt.timedelta(days=7)
    )
    reminded = send_invitations(SYMPOSIUM, remind_pending=True, now=NOW + dt.timedelta(days=7))
    after_reminders = [m["To"].addresses[0].addr_spec for m in _outbox()]
    invited = send_invitations(SYMPOSIUM, now=NOW + dt.timedelta(days=7, hours=1))

    assert preview["invited"] == reminded["invited"] == reminded["sent"] == 2
    assert "taro.shinjin@tokyo.example.org" not in after_reminders
    assert (invited["sent"], invited["already_sent"]) == (1, 2)
    to_taro = [m for m in _outbox() if m["To"].addresses[0].addr_spec.startswith("taro.")]
    assert len(to_taro) == 1 and _calendar_part(to_taro[0]).count(b"METHOD:REQUEST") == 1


def _references() -> dict[str, tuple[int | None, int | None]]:
    with session_scope() as session:
        rows = session.execute(
            select(Contact.email, Invitation.reference_year, Invitation.reference_number).join(
                Contact, Contact.id == Invitation.contact_id
            )
        )
        return {email: (year, number) for email, year, number in rows}


def test_invite_numbers_each_letter_once_from_the_yearly_counter(registry: None) -> None:
    preview = send_invitations(SYMPOSIUM, dry_run=True, now=NOW)
    assert _references() == {}  # a dry run takes no numbers
    first = send_invitations(SYMPOSIUM, now=NOW)
    numbers = _references()
    assert sorted(numbers.values()) == [(2026, 1), (2026, 2)]
    send_invitations(SYMPOSIUM, now=NOW)  # a re-run keeps the numbers
    send_invitations(CONFERENCE, only=["Lima"], now=NOW)  # the next event goes on counting
    assert _references() == {**numbers, "lucia.torres@lima.example.org": (2026, 3)}
    letters = sorted(Path(first["out_dir"]).rglob("*.html"))
    texts = [p.read_text(encoding="utf-8") for p in letters]
    assert [("京外办函〔2026〕1号" in t or "京外办函〔2026〕2号" in t) for t in texts] == [
        True,
        True,
    ]
    assert preview["invited"] == 2


def test_invite_demo_letters_mix_no_languages_and_address_everyone(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMITY_ATTACH_PDF", "false")  # the words are checked, not 38 PDFs
    get_settings.cache_clear()
    summary = send_invitations(CONFERENCE, dry_run=True, now=NOW)
    assert summary["invited"] == 38
    assert (summary["mixed"], summary["address_problems"]) == ([], [])


def test_invite_strict_language_refuses_a_letter_missing_a_translation(
    registry: None, tmp_path: Path
) -> None:
    spec = (EVENTS / f"{CONFERENCE}.yaml").read_text(encoding="utf-8")
    venue_fr = "  fr: Centre national des congrès de Chine\n"
    assert venue_fr in spec
    (tmp_path / "conference.yaml").write_text(spec.replace(venue_fr, "", 1), encoding="utf-8")
    with session_scope() as session:
        apply_spec(
            session, read_spec(tmp_path / "conference.yaml", session), get_settings(), now=NOW
        )
    preview = send_invitations(CONFERENCE, only=["Paris"], dry_run=True, now=NOW)
    assert [
        (m["email"], [(v["field"], v["language"], v["used"]) for v in m["values"]])
        for m in preview["mixed"]
    ] == [("julien.bernard@paris.example.org", [("event.venue", "fr", "en")])]
    with pytest.raises(PreflightError, match=r"event\.venue in en \(letter in fr\)"):
        send_invitations(CONFERENCE, only=["Paris"], strict_language=True, now=NOW)
    assert _outbox() == []
    # the refused run rendered its messages for a review it never recorded: none are left
    assert list(get_settings().out_dir.glob("*/reviews/*")) == []
