"""The sign-off on a real Prefect API: nothing goes out before approval, then exactly what was read.

These tests switch off the test set-up's automatic approval (tests/conftest.py) and decide
the way an office does: `amity approve` / `amity reject`, and the paused run's form filled
in through the API.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from config.settings import get_settings
from db.events import apply_spec, read_spec
from db.models import Approval, Contact, OutboxMessage
from db.session import session_scope
from flows.approved import send_reviewed
from flows.cli import main
from flows.invitations import send_invitations
from flows.review import ReviewOutdated, deciding
from tests.conftest import reference_data

pytestmark = pytest.mark.usefixtures("prefect_api")
REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
TOKYO = ["hanako.yamada@tokyo.example.org", "ken.sato@tokyo.example.org"]


@pytest.fixture
def symposium(amity_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The symposium (two Tokyo contacts), with approval required and nobody approving."""
    monkeypatch.delenv("AMITY_APPROVAL__AUTO_APPROVE_BY", raising=False)
    get_settings.cache_clear()
    reference_data()
    with session_scope() as session:
        spec = read_spec(REPO / "config" / "events" / f"{SYMPOSIUM}.yaml", session)
        apply_spec(session, spec, get_settings(), now=NOW)


def _outbox() -> list[bytes]:
    """The files of the Maildir outbox, byte for byte."""
    box = get_settings().outbox_dir
    return [p.read_bytes() for d in ("new", "cur") for p in sorted((box / d).glob("*"))]


def _approval() -> Approval:
    with session_scope() as session:
        row = session.scalars(select(Approval).order_by(Approval.id.desc())).first()
        assert row is not None
        session.expunge(row)
        return row


def _sent_ledger() -> list[str]:
    with session_scope() as session:
        return sorted(
            session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.state == "sent"))
        )


def test_invite_renders_and_records_the_review_but_sends_nothing(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = dt.datetime.now(dt.UTC)
    summary = send_invitations(SYMPOSIUM, now=NOW)
    listed = main(["approvals"])

    review = summary["review"]
    approval = _approval()
    assert (summary["invited"], summary["sent"], _outbox()) == (2, 0, [])
    assert (review["status"], review["messages"], review["languages"]) == ("waiting", 2, {"ja": 2})
    assert (approval.decision, approval.mode, approval.message_count) == ("pending", "record", 2)
    assert before <= approval.requested_dt <= dt.datetime.now(dt.UTC)
    assert approval.expires_dt == approval.requested_dt + dt.timedelta(days=7)
    assert sorted(m["email"] for m in approval.messages) == TOKYO
    assert all(Path(m["eml"]).is_relative_to(get_settings().out_dir) for m in approval.messages)
    line = [x for x in capsys.readouterr().out.splitlines() if approval.flow_run_id[:8] in x]
    assert listed == 0
    # waiting (not expired: it was recorded just now, a week after which it expires)
    assert len(line) == 1 and SYMPOSIUM in line[0] and "2 (1 lang.)  " in line[0]
    assert "waiting" in line[0]


def test_approve_sends_exactly_the_reviewed_bytes_once(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    approval = _approval()
    reviewed = sorted(Path(m["eml"]).read_bytes() for m in approval.messages)
    # a later dry run rewrites the output folder; the reviewed copies stay as they were
    send_invitations(SYMPOSIUM, dry_run=True, now=NOW + dt.timedelta(hours=1))

    code = main(["approve", approval.flow_run_id[:8], "--by", "Wang Fang", "--comment", "ok"])
    again = send_reviewed(str(approval.id))
    listed = main(["approvals", "--all"])
    shown = main(["events", "show", SYMPOSIUM])

    out = capsys.readouterr().out
    decided = _approval()
    assert (code, listed, shown) == (0, 0, 0)
    assert "sign-off before sending:" in out
    assert "invitation: 2 message(s), sent by Wang Fang" in out
    assert "sent now 2, sent before 0, failed 0" in out
    assert (decided.decision, decided.decided_by, decided.comment) == (
        "approved",
        "Wang Fang",
        "ok",
    )
    assert decided.sent_dt is not None
    assert again["sent"] == 0  # the review was sent; nothing goes out twice
    assert _sent_ledger() == TOKYO
    # the Maildir holds the reviewed bytes: the reviewed files themselves (hard links; the
    # review keeps its copies with the Maildir's LF line ends)
    assert sorted(_outbox()) == reviewed
    box = get_settings().outbox_dir / "new"
    assert sorted(os.stat(p).st_ino for p in box.iterdir()) == sorted(
        os.stat(m["eml"]).st_ino for m in approval.messages
    )


def test_reject_sends_nothing_and_keeps_the_reason(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    approval = _approval()

    code = main(["reject", str(approval.id), "--by", "Li Hua", "--comment", "wrong venue"])
    late = main(["approve", str(approval.id), "--by", "Wang Fang"])

    decided = _approval()
    assert (code, late) == (0, 2)
    assert (decided.decision, decided.decided_by, decided.comment) == (
        "rejected",
        "Li Hua",
        "wrong venue",
    )
    assert (_outbox(), _sent_ledger()) == ([], [])
    assert "is rejected (wrong venue): nothing to decide" in capsys.readouterr().err


def test_contact_edited_after_review_blocks_the_send(symposium: None) -> None:
    send_invitations(SYMPOSIUM, now=NOW)
    approval = _approval()
    with session_scope() as session:
        session.execute(
            update(Contact).where(Contact.email == TOKYO[0]).values(title="Deputy Governor")
        )

    with deciding(), session_scope() as session:
        from db.approvals import decide

        row = session.get(Approval, approval.id)
        assert row is not None
        decide(session, row, "approved", by="Wang Fang", comment="", now=NOW)
    with pytest.raises(ReviewOutdated, match="the data changed after the review"):
        send_reviewed(str(approval.id))

    assert (_outbox(), _sent_ledger()) == ([], [])
    # a new run reviews the new letters and supersedes the old review
    send_invitations(SYMPOSIUM, now=NOW)
    with session_scope() as session:
        decisions = session.scalars(select(Approval.decision).order_by(Approval.id)).all()
    assert decisions == ["approved", "pending"]


def _resume_when_paused(run_input: dict[str, Any], timeout: float = 60) -> threading.Thread:
    """From another thread, like a person at the UI: wait for the paused run, submit the form."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    def resume() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with session_scope() as session:
                run_id = session.scalar(select(Approval.flow_run_id))
            if run_id:
                with get_client(sync_client=True) as client:
                    state = client.read_flow_run(UUID(run_id)).state
                if state is not None and state.is_paused():
                    resume_flow_run(UUID(run_id), run_input=run_input)
                    return
            time.sleep(0.5)

    thread = threading.Thread(target=resume, daemon=True)
    thread.start()
    return thread


def test_paused_run_resumes_with_the_form_input_and_sends_once(symposium: None) -> None:
    thread = _resume_when_paused(
        {"decision": "approve", "approver": "Wang Fang", "comment": "read all of it"}
    )

    with deciding(wait="pause"):
        summary = send_invitations(SYMPOSIUM, now=NOW)
    thread.join(timeout=5)

    approval = _approval()
    assert (summary["sent"], summary["review"]["status"]) == (2, "sent")
    assert (approval.mode, approval.decision, approval.decided_by) == (
        "pause",
        "approved",
        "Wang Fang",
    )
    assert _sent_ledger() == TOKYO
    assert len(_outbox()) == 2


def test_paused_run_expires_and_sends_nothing(
    symposium: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMITY_APPROVAL__TIMEOUT", "PT2S")
    get_settings.cache_clear()

    with deciding(wait="pause"):
        summary = send_invitations(SYMPOSIUM)

    assert (summary["sent"], summary["review"]["status"]) == (0, "expired")
    assert _approval().decision == "expired"
    assert (_outbox(), _sent_ledger()) == ([], [])


def _calendar_method(raw: bytes) -> str:
    """The METHOD of a message's calendar part."""
    import email
    import email.policy

    message = email.message_from_bytes(raw, policy=email.policy.default)
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return str(part.get_param("method"))


def _invited_then_cancelled() -> None:
    """The symposium's invitations approved and sent, then the event cancelled (not sent yet)."""
    from flows.review import ApproveAs

    with deciding(ApproveAs("Wang Fang")):
        send_invitations(SYMPOSIUM, now=NOW)
    assert _sent_ledger() == TOKYO


def test_a_review_approved_at_once_is_written_once_decided_and_released(
    symposium: None,
) -> None:
    """The row holds every message (4 MB at 10,000): recorded approved and released in its
    insert, it is never updated."""
    from sqlalchemy import event

    from db.session import session_factory
    from flows.review import ApproveAs

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()).lower())

    engine = session_factory().kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with deciding(ApproveAs("Wang Fang", "for the symposium")):
            summary = send_invitations(SYMPOSIUM, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    approval = _approval()
    assert summary["sent"] == 2 and _sent_ledger() == TOKYO
    assert (approval.decision, approval.decided_by, approval.comment) == (
        "approved",
        "Wang Fang",
        "for the symposium",
    )
    assert approval.decided_dt is not None and approval.sent_dt == approval.decided_dt
    assert len([s for s in statements if s.startswith("insert into approval ")]) == 1
    updates = [s for s in statements if s.startswith("update approval ")]
    # the one update supersedes older pending reviews (none here): the row is not updated
    assert len(updates) == 1 and "approval.id" not in updates[0]


def test_approved_at_once_for_a_later_hour_is_not_released_with_its_record(
    symposium: None,
) -> None:
    """Approved for a later hour, the review is not released with its record. Here no
    worker can send it then: the run says so, and nothing is sent."""
    from flows.domain.invitation_summary import PreflightError
    from flows.review import ApproveAs

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with (
        deciding(ApproveAs("Wang Fang"), send_at=later),
        pytest.raises(PreflightError, match="needs amity's deployments"),
    ):
        send_invitations(SYMPOSIUM, now=NOW)

    approval = _approval()
    assert (approval.decision, approval.sent_dt, _outbox()) == ("approved", None, [])
    assert approval.send_at_dt is not None
    assert abs(approval.send_at_dt - later) < dt.timedelta(seconds=1)


def test_a_review_of_the_new_contacts_only_is_approved_later_and_sent(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The messages sent before need no review: the review (and its data digest) holds the
    new contact's alone, and approved later it still matches the database."""
    from db.models import City
    from flows.review import ApproveAs

    with deciding(ApproveAs("Wang Fang")):
        send_invitations(SYMPOSIUM, now=NOW)
    with session_scope() as session:
        tokyo = session.scalars(select(City).where(City.name == "Tokyo")).one()
        session.add(
            Contact(
                city_id=tokyo.id,
                name_native="鈴木 一郎",
                name_latin="Ichiro Suzuki",
                title="国際部長",
                email="ichiro.suzuki@tokyo.example.org",
                language="ja",
            )
        )
    send_invitations(SYMPOSIUM, now=NOW)
    approval = _approval()
    code = main(["approve", approval.flow_run_id[:8], "--by", "Wang Fang"])

    assert [m["email"] for m in approval.messages] == ["ichiro.suzuki@tokyo.example.org"]
    assert code == 0
    assert _sent_ledger() == sorted([*TOKYO, "ichiro.suzuki@tokyo.example.org"])


def test_a_reviews_week_runs_from_when_it_is_recorded_not_from_the_letters_date(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Letters dated two months back (the run's clock) still give their reviewer a week."""
    long_ago = NOW - dt.timedelta(days=60)
    summary = send_invitations(SYMPOSIUM, now=long_ago)
    approval = _approval()
    code = main(["approve", approval.flow_run_id[:8], "--by", "Wang Fang"])

    assert summary["review"]["status"] == "waiting"
    assert approval.expires_dt > dt.datetime.now(dt.UTC) + dt.timedelta(days=6)
    assert code == 0 and _sent_ledger() == TOKYO


def test_cancellation_waits_for_approval_then_sends_exactly_the_reviewed_messages(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _invited_then_cancelled()
    invitations = _outbox()
    feed = get_settings().out_dir / SYMPOSIUM / "calendar" / f"{SYMPOSIUM}.ics"
    before = feed.read_bytes() if feed.exists() else b""

    code = main(["events", "cancel", SYMPOSIUM, "--note", "venue closed"])
    out = capsys.readouterr().out
    waiting = _approval()
    held = (_outbox(), feed.read_bytes() if feed.exists() else b"")
    reviewed = sorted(Path(m["eml"]).read_bytes() for m in waiting.messages)

    approved = main(["approve", str(waiting.id), "--by", "Li Hua"])
    again = send_reviewed(str(waiting.id))
    out += capsys.readouterr().out

    assert code == 0
    assert "review" in out and "nothing sent: waiting for approval" in out
    assert (waiting.purpose, waiting.decision, waiting.message_count) == ("changes", "pending", 2)
    # nothing went out and the public feed still shows the event as it was
    assert held == (invitations, before)
    assert approved == 0 and again["sent"] == 0
    cancels = [m for m in _outbox() if m not in invitations]
    assert sorted(cancels) == sorted(m.replace(b"\r\n", b"\n") for m in reviewed)
    assert [_calendar_method(m) for m in cancels] == ["CANCEL", "CANCEL"]
    assert b"STATUS:CANCELLED" in feed.read_bytes()
    with session_scope() as session:
        ledger = session.execute(
            select(OutboxMessage.purpose, OutboxMessage.recipient).where(
                OutboxMessage.state == "sent", OutboxMessage.purpose == "cancel"
            )
        ).all()
    assert sorted(r for _, r in ledger) == TOKYO


def test_rejected_cancellation_sends_nothing(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _invited_then_cancelled()
    invitations = _outbox()

    main(["events", "cancel", SYMPOSIUM])
    waiting = _approval()
    code = main(["reject", str(waiting.id), "--by", "Li Hua", "--comment", "not yet"])

    assert code == 0
    assert _approval().decision == "rejected"
    assert _outbox() == invitations
    assert _sent_ledger() == TOKYO


def test_events_cancel_with_approve_sends_at_once(
    symposium: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _invited_then_cancelled()

    code = main(["events", "cancel", SYMPOSIUM, "--approve", "--by", "Li Hua"])

    out = capsys.readouterr().out
    decided = _approval()
    assert code == 0
    assert "cancellations: CANCEL SEQUENCE 1: 2 sent" in out
    assert (decided.purpose, decided.decision, decided.decided_by) == (
        "changes",
        "approved",
        "Li Hua",
    )


def test_a_kept_copy_is_a_new_read_only_file_each_time(tmp_path: Path) -> None:
    """A re-render replaces the copy with a new file: one delivered (hard-linked) earlier
    keeps its bytes."""
    import hashlib
    import stat

    from flows.outbound.outputs import Folders
    from flows.review import keep_copy

    folders = Folders()
    rel = Path("tokyo") / "tanaka-7.eml"
    first = keep_copy(tmp_path, rel, b"Subject: one\r\n\r\nfirst\r\n", folders)
    delivered = tmp_path / "delivered.eml"
    os.link(first["eml"], delivered)

    second = keep_copy(tmp_path, rel, b"Subject: two\r\n\r\nsecond\r\n", folders)

    kept = Path(second["eml"])
    assert kept == tmp_path / rel
    assert kept.read_bytes() == b"Subject: two\n\nsecond\n"  # the Maildir's line ends
    assert second["sha256"] == hashlib.sha256(kept.read_bytes()).hexdigest()
    assert not os.path.samefile(kept, delivered)
    assert delivered.read_bytes() == b"Subject: one\n\nfirst\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o444
