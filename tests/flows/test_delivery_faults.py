"""`amity invite` when the transport fails: a real SMTP server that refuses or drops, a closed
port, a read-only or full outbox (real mounts: the tests run as root, else they are skipped).

Each case ends the same way for the organizer: every message the fault touched is `failed`
in the ledger with its reason, stdout has the usual summary and the command that retries,
stderr has one `amity:` line and no traceback, the exit code is 1 — and the command it
names sends exactly what was missing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from config.settings import get_settings
from db.events import apply_spec, read_spec
from db.models import Invitation, OutboxMessage
from db.session import session_scope
from flows.cli import main
from flows.invitations import plan_invitations
from flows.outbound.ledger import claim, utc_now
from tests.conftest import reference_data
from tests.smtp_sink import ScriptedHandler, free_port

pytestmark = [
    pytest.mark.usefixtures("prefect_api"),
    # the ledger is tested on both databases elsewhere; these are about the transport
    pytest.mark.parametrize("backend", ["sqlite"], indirect=True),
]
REPO = Path(__file__).resolve().parents[2]
SYMPOSIUM = "beijing-tokyo-urban-symposium-12"
RETRY = f"amity invite {SYMPOSIUM}"
HANAKO = "hanako.yamada@tokyo.example.org"
NOW = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def registry(amity_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMITY_ATTACH_PDF", "false")  # the PDF is not what fails here
    get_settings.cache_clear()
    reference_data()
    with session_scope() as session:
        spec = read_spec(REPO / "config" / "events" / f"{SYMPOSIUM}.yaml", session)
        apply_spec(session, spec, get_settings(), now=NOW)


def _smtp(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    for name, value in {
        "AMITY_MAIL_TRANSPORT": "smtp",
        "AMITY_SMTP__HOST": "127.0.0.1",
        "AMITY_SMTP__PORT": str(port),
        "AMITY_SMTP__SECURITY": "none",
        "AMITY_SMTP__ATTEMPTS": "2",
        "AMITY_SMTP__BACKOFF_SECONDS": "0.01",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def _invite(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capfd.readouterr()
    code = main(["invite", SYMPOSIUM, *args])
    out, err = capfd.readouterr()
    return code, out, err


def _ledger() -> list[tuple[str, str | None]]:
    with session_scope() as session:
        return [
            (r.state, r.error)
            for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient))
        ]


def _assert_one_clear_failure(code: int, out: str, err: str, *, failed: int) -> None:
    assert "Traceback" not in out + err
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("amity:")] == [
        f"amity: {failed} of 2 invitation(s) not sent; run `{RETRY}` to try them again"
    ]
    assert f"failed {failed} — {2 - failed} of 2 sent" in out
    assert f"  not sent: {failed}; to try them again: {RETRY}" in out


def _retry_command(out: str) -> list[str]:
    line = next(x for x in out.splitlines() if "to try them again:" in x)
    return shlex.split(line.split("to try them again: ", 1)[1])[1:]


def test_invite_with_the_smtp_server_down_fails_each_message_with_the_reason(
    registry: None, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    _smtp(monkeypatch, port)

    code, out, err = _invite(capfd)

    _assert_one_clear_failure(code, out, err, failed=2)
    ledger = _ledger()
    assert [state for state, _ in ledger] == ["failed", "failed"]
    assert all(f"smtp://127.0.0.1:{port}" in (error or "") for _, error in ledger)
    assert all("Connection refused" in (error or "") for _, error in ledger)


def test_invite_after_451_names_the_command_that_sends_exactly_the_rest(
    registry: None,
    smtp_server: tuple[ScriptedHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    handler, port = smtp_server
    handler.data_replies = ["451 4.3.0 try again later"] * 2  # both attempts of one message
    _smtp(monkeypatch, port)

    code, out, err = _invite(capfd)
    _assert_one_clear_failure(code, out, err, failed=1)
    assert sorted(state for state, _ in _ledger()) == ["failed", "sent"]
    assert "DATA refused: 451 4.3.0 try again later" in out
    assert [e for s, e in _ledger() if s == "failed"] == ["DATA refused: 451 4.3.0 try again later"]

    capfd.readouterr()
    again = main(_retry_command(out))
    out2, err2 = capfd.readouterr()

    assert (again, err2) == (0, "")
    assert "sent now 1, sent before 1" in out2
    recipients = sorted(rcpt for _, rcpts, _ in handler.received for rcpt in rcpts)
    assert recipients == ["hanako.yamada@tokyo.example.org", "ken.sato@tokyo.example.org"]
    assert [state for state, _ in _ledger()] == ["sent", "sent"]


def test_invite_with_dropped_connections_records_the_drop(
    registry: None,
    smtp_server: tuple[ScriptedHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    handler, port = smtp_server
    handler.drops = 2  # the server hangs up after DATA, twice: one message's two attempts
    _smtp(monkeypatch, port)

    code, out, err = _invite(capfd)

    _assert_one_clear_failure(code, out, err, failed=1)
    failed = [e for s, e in _ledger() if s == "failed"]
    assert len(failed) == 1 and f"connection to smtp://127.0.0.1:{port} failed" in failed[0]
    assert len(handler.received) == 1


# --- the Maildir outbox on a file system that refuses -----------------------------------


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here (needs root): {done.stderr.strip()}")


@pytest.fixture
def outbox(registry: None) -> Iterator[Path]:
    """The Maildir outbox, created (tmp/, new/, cur/) and unmounted after the test."""
    box = get_settings().outbox_dir
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    yield box
    subprocess.run(["umount", str(box)], capture_output=True, check=False)


def test_invite_into_a_read_only_outbox_fails_clearly_and_retries_once_writable(
    outbox: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _mount("--bind", str(outbox), str(outbox))
    _mount("-o", "remount,ro,bind", str(outbox))

    code, out, err = _invite(capfd)

    _assert_one_clear_failure(code, out, err, failed=2)
    assert [state for state, _ in _ledger()] == ["failed", "failed"]
    assert all("Read-only file system" in (e or "") for _, e in _ledger())
    subprocess.run(["umount", str(outbox)], check=True)
    capfd.readouterr()
    assert main(_retry_command(out)) == 0
    assert len(list((outbox / "new").iterdir())) == 2


def test_invite_into_a_full_outbox_fails_clearly(
    outbox: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(outbox))
    for sub in ("tmp", "new", "cur"):
        (outbox / sub).mkdir()
    fd = os.open(outbox / "filler", os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk
        while os.write(fd, b"x" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)

    code, out, err = _invite(capfd)

    _assert_one_clear_failure(code, out, err, failed=2)
    assert all("No space left on device" in (e or "") for _, e in _ledger())
    assert list((outbox / "new").iterdir()) == []


# --- what the organizer reads afterwards: events list / show, and runs at once ------------


def test_events_list_and_show_tell_what_the_ledger_knows_after_a_failed_run(
    registry: None,
    smtp_server: tuple[ScriptedHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    handler, port = smtp_server
    handler.data_replies = ["451 4.3.0 try again later"] * 2
    _smtp(monkeypatch, port)
    _invite(capfd)

    main(["events", "list", "--json"])
    listed = json.loads(capfd.readouterr().out)
    main(["events", "show", SYMPOSIUM])
    shown = capfd.readouterr().out.splitlines()

    delivery = next(e["delivery"] for e in listed if e["slug"] == SYMPOSIUM)
    assert delivery == {"invited": 2, "sent": 1, "sending": 0, "failed": 1, "pending": 0}
    assert (
        "  invitations: 2 invited, 1 sent, 0 not tried, 0 being sent (or left by a run that "
        "stopped), 1 failed"
    ) in shown
    assert f"  to send what is missing: {RETRY}" in shown


def _another_run_holds(contact_email: str, token: str) -> None:
    """Invitations planned, and the contact's message claimed by another live run."""
    plan_invitations.fn(SYMPOSIUM, None, False, NOW)
    with session_scope() as session:
        inv = next(
            i for i in session.scalars(select(Invitation)) if i.contact.email == contact_email
        )
        key = ("invitation", contact_email, f"{inv.uid}:{inv.sequence}:invite")
        claims, _ = claim(session, [(*key, "<other@run>")], token=token, now=utc_now())
    assert len(claims) == 1


@pytest.fixture
def other_run() -> Iterator[str]:
    """The claim token of another run, alive in another process on this host."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield f"{socket.gethostname()}:{proc.pid}:0123456789ab"
    finally:
        proc.kill()
        proc.wait()


def test_two_runs_at_once_each_say_what_the_other_sent(
    registry: None,
    smtp_server: tuple[ScriptedHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    other_run: str,
) -> None:
    handler, port = smtp_server
    handler.stalls, handler.stall_seconds = 1, 1.5  # our message takes a while
    _smtp(monkeypatch, port)
    _another_run_holds(HANAKO, other_run)

    def the_other_run_confirms() -> None:
        while not any(state == "claimed" for state, _ in _ledger()[1:]):
            time.sleep(0.05)  # wait for this run to hold Ken's message
        with session_scope() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.claim_token == other_run)
                .values(state="sent", sent_dt=utc_now())
            )

    confirming = threading.Thread(target=the_other_run_confirms)
    confirming.start()
    code, out, err = _invite(capfd)
    confirming.join()

    assert (code, err) == (0, "")
    assert (
        "  invited 2, sent now 1, sent by another run 1, sent before 0, opted out 0, failed 0"
        " — 2 of 2 sent"
    ) in out.splitlines()


def test_a_run_that_finishes_first_says_what_another_run_is_still_sending(
    registry: None,
    smtp_server: tuple[ScriptedHandler, int],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    other_run: str,
) -> None:
    _smtp(monkeypatch, smtp_server[1])
    _another_run_holds(HANAKO, other_run)

    code, out, err = _invite(capfd)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "  invited 2, sent now 1, sent before 0, opted out 0, failed 0 — 1 of 2 sent" in lines
    assert (
        f"  1 still being sent by another run (`amity events show {SYMPOSIUM}` shows when "
        "they are out)"
    ) in lines
