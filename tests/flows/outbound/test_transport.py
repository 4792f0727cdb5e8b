"""Delivery: a real Maildir read back with `mailbox`, a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from flows.domain.mail import build_imip_message, make_message_id
from flows.outbound.transport import (
    MaildirTransport,
    PermanentFailure,
    SmtpTransport,
    TransientFailure,
    make_transport,
)
from tests.smtp_sink import ScriptedHandler, free_port

SENDER = "fao@beijing.example.org"
ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//amity//test//EN\r\nMETHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\nUID:u-1@beijing.example.org\r\nDTSTAMP:20250301T093000Z\r\n"
    b"DTSTART:20250916T010000Z\r\nSUMMARY:Symposium\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
PDF = b"%PDF-1.7\n%fake letter\n%%EOF\n"


def invitation(n: int = 1, to: str = "tanaka@metro.tokyo.example.jp") -> tuple[bytes, str]:
    message_id = make_message_id("event-12", n, "invitation", domain="beijing.example.org")
    raw = build_imip_message(
        from_addr=SENDER,
        from_name="Foreign Affairs Office",
        to_addr=to,
        to_name="田中 太郎",
        subject=f"Invitation {n}",
        text=".Dear Mr Tanaka,\n.\nplease come.\n",
        html="<p>Dear Mr Tanaka,</p>\n",
        ics=ICS,
        method="REQUEST",
        attachments=[("letter.pdf", "application/pdf", PDF)],
        message_id=message_id,
        date=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
    )
    return raw, message_id


def structure(raw: bytes) -> list[str]:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    return [part.get_content_type() for part in parsed.walk()]


# --- Maildir -------------------------------------------------------------------------


def test_maildir_send_is_readable_by_mailbox(tmp_path: Path) -> None:
    raw, message_id = invitation()

    with MaildirTransport(tmp_path / "outbox") as transport:
        result = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    messages = list(box)
    assert len(messages) == 1
    assert messages[0]["Message-ID"] == message_id
    assert structure(messages[0].as_bytes()) == structure(raw)
    assert Path(result.location).read_bytes() == raw.replace(b"\r\n", b"\n")
    assert result.duplicate is False
    assert os.listdir(tmp_path / "outbox" / "tmp") == []


def test_maildir_same_message_twice_is_one_file(tmp_path: Path) -> None:
    raw, message_id = invitation()

    with MaildirTransport(tmp_path) as transport:
        first = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )
        second = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    assert (first.duplicate, second.duplicate) == (False, True)
    assert len(mailbox.Maildir(tmp_path, create=False)) == 1


def test_maildir_duplicate_from_another_transport_is_detected(tmp_path: Path) -> None:
    # Both opened before either delivered, as two concurrent runs would be.
    raw, message_id = invitation()
    first, second = MaildirTransport(tmp_path), MaildirTransport(tmp_path)
    first.open()
    second.open()

    one = first.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)
    two = second.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert (one.duplicate, two.duplicate) == (False, True)
    assert len(mailbox.Maildir(tmp_path, create=False)) == 1
    assert os.listdir(tmp_path / "tmp") == []


def test_maildir_message_moved_to_cur_by_a_client_is_not_resent(tmp_path: Path) -> None:
    raw, message_id = invitation()
    with MaildirTransport(tmp_path) as transport:
        transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)
    box = mailbox.Maildir(tmp_path, create=False)
    key = next(iter(box.keys()))
    message = box[key]
    message.set_subdir("cur")
    message.add_flag("S")
    box[key] = message

    with MaildirTransport(tmp_path) as transport:
        again = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    assert again.duplicate is True
    assert os.listdir(tmp_path / "new") == []
    assert len(os.listdir(tmp_path / "cur")) == 1


@pytest.mark.parametrize("durability", ["each", "batch", "off"])
def test_maildir_takes_a_kept_file_in_its_own_form_by_hard_link(
    tmp_path: Path, durability: str
) -> None:
    raw, message_id = invitation()
    kept = tmp_path / "reviews" / "run" / "tanaka.eml"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(raw.replace(b"\r\n", b"\n"))  # as the review keeps its copies

    with MaildirTransport(tmp_path / "outbox", durability=durability) as transport:  # type: ignore[arg-type]
        result = transport.send_file(
            kept, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )
        again = transport.send_file(
            kept, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    delivered = Path(result.location)
    assert (result.duplicate, again.duplicate) == (False, True)
    assert delivered.parent == tmp_path / "outbox" / "new"
    assert os.path.samefile(delivered, kept)  # the reviewed file itself, not a copy
    (message,) = mailbox.Maildir(tmp_path / "outbox", create=False)
    assert message["Message-ID"] == message_id
    kept.unlink()  # the review's copies can go: the outbox keeps the message
    assert delivered.read_bytes() == raw.replace(b"\r\n", b"\n")
    with MaildirTransport(tmp_path / "outbox") as transport:  # a re-run finds it delivered
        assert transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        ).duplicate


def test_maildir_links_a_file_with_a_lone_carriage_return_not_one_with_a_crlf(
    tmp_path: Path,
) -> None:
    """Only a CRLF line end makes a file other than the Maildir's form, wherever it is."""
    raw, message_id = invitation(1)
    lone = tmp_path / "lone-cr.eml"
    lone.write_bytes(raw.replace(b"\r\n", b"\n").replace(b"Invitation", b"Invi\rtation"))
    other, other_id = invitation(2)
    late = tmp_path / "late-crlf.eml"
    # a lone CR first, the one CRLF at the very end
    late.write_bytes(
        other.replace(b"\r\n", b"\n").replace(b"Invitation", b"Invi\rtation") + b"\r\n"
    )
    assert b"\r" in lone.read_bytes() and b"\r\n" not in lone.read_bytes()

    with MaildirTransport(tmp_path / "outbox") as transport:
        linked = transport.send_file(
            lone, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )
        written = transport.send_file(
            late, sender=SENDER, recipients=["a@x.example"], message_id=other_id
        )

    assert os.path.samefile(linked.location, lone)
    assert not os.path.samefile(written.location, late)
    assert (
        Path(written.location).read_bytes().endswith(b"\n")
        and b"\r\n" not in Path(written.location).read_bytes()
    )


def test_read_all_reads_past_the_size_fstat_gave(tmp_path: Path) -> None:
    """A file that grew after its fstat is read whole; one of the size given, in one read."""
    from flows.outbound.transport import _read_all

    path = tmp_path / "m.eml"
    data = bytes(range(256)) * 700  # past one 64 KiB read
    path.write_bytes(data)
    for size in (len(data), len(data) - 1, 10, 0):
        for regular in (True, False):
            fd = os.open(path, os.O_RDONLY)
            try:
                assert _read_all(fd, size, regular=regular) == data
            finally:
                os.close(fd)


def test_read_all_of_a_pipe_reads_on_after_a_short_read() -> None:
    """Only a regular file ends where a read comes back short: a pipe gives what has come."""
    import threading
    import time

    from flows.outbound.transport import _read_all

    read_end, write_end = os.pipe()

    def write() -> None:
        os.write(write_end, b"first part;")
        time.sleep(0.2)  # the reader has had the first part by now
        os.write(write_end, b" the rest")
        os.close(write_end)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert _read_all(read_end, 100, regular=False) == b"first part; the rest"
    finally:
        writer.join()
        os.close(read_end)


def test_maildir_writes_a_file_it_cannot_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message file with CRLF line ends is written in the Maildir's form; one on another
    file system (the link refused: EXDEV) is written as a new file."""
    import errno

    raw, message_id = invitation(1)
    crlf = tmp_path / "crlf.eml"
    crlf.write_bytes(raw)
    other, other_id = invitation(2)
    elsewhere = tmp_path / "elsewhere.eml"
    elsewhere.write_bytes(other.replace(b"\r\n", b"\n"))
    real_link = os.link

    def link(src: Any, dst: Any, **kw: Any) -> None:
        if kw.get("src_dir_fd") is not None:  # the kept file itself, by its descriptor
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_link(src, dst, **kw)

    monkeypatch.setattr(os, "link", link)
    with MaildirTransport(tmp_path / "outbox") as transport:
        first = transport.send_file(
            crlf, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )
        second = transport.send_file(
            elsewhere, sender=SENDER, recipients=["a@x.example"], message_id=other_id
        )

    for result, source, data in ((first, crlf, raw), (second, elsewhere, other)):
        assert not result.duplicate
        assert not os.path.samefile(result.location, source)
        assert Path(result.location).read_bytes() == data.replace(b"\r\n", b"\n")
    assert os.listdir(tmp_path / "outbox" / "tmp") == []


def test_maildir_links_no_file_others_could_change(tmp_path: Path) -> None:
    """A file others may write, or one with another name too, is written as a copy (the
    outbox must not share an inode anyone else can change); a symbolic link is refused."""
    box = tmp_path / "outbox"
    shared, other_id = invitation(1)
    writable = tmp_path / "writable.eml"
    writable.write_bytes(shared.replace(b"\r\n", b"\n"))
    writable.chmod(0o666)
    twice, twice_id = invitation(2)
    named_twice = tmp_path / "named-twice.eml"
    named_twice.write_bytes(twice.replace(b"\r\n", b"\n"))
    os.link(named_twice, tmp_path / "second-name.eml")
    pointer = tmp_path / "pointer.eml"
    pointer.symlink_to(writable)

    with MaildirTransport(box) as transport:
        results = [
            transport.send_file(path, sender=SENDER, recipients=["a@x.example"], message_id=mid)
            for path, mid in ((writable, other_id), (named_twice, twice_id))
        ]
        with pytest.raises(OSError):
            transport.send_file(
                pointer, sender=SENDER, recipients=["a@x.example"], message_id="<p@x.example>"
            )

    for result, source in zip(results, (writable, named_twice), strict=True):
        assert not os.path.samefile(result.location, source)
        assert Path(result.location).read_bytes() == source.read_bytes()
    assert len(os.listdir(box / "new")) == 2


def test_maildir_leaves_no_descriptor_open(tmp_path: Path) -> None:
    """The files read and /proc/self/fd, held while the transport is open, are closed with it."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("no /proc/self/fd here")
    kept = []
    for n in range(5):
        raw, message_id = invitation(n)
        path = tmp_path / f"{n}.eml"
        path.write_bytes(raw.replace(b"\r\n", b"\n"))
        kept.append((path, message_id))
    before = len(os.listdir(fds))

    with MaildirTransport(tmp_path / "outbox", durability="batch") as transport:
        for path, message_id in kept:
            result = transport.send_file(
                path, sender=SENDER, recipients=["a@x.example"], message_id=message_id
            )
            assert os.path.samefile(result.location, path)
        during = len(os.listdir(fds))

    assert during == before + 1  # /proc/self/fd itself, once for every message
    assert len(os.listdir(fds)) == before


@pytest.mark.parametrize("durability", ["each", "batch", "off"])
def test_maildir_each_durability_delivers_every_message(tmp_path: Path, durability: str) -> None:
    with MaildirTransport(tmp_path, durability=durability) as transport:  # type: ignore[arg-type]
        for n in range(3):
            raw, message_id = invitation(n)
            transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)
        transport.sync()

    box = mailbox.Maildir(tmp_path, create=False)
    assert sorted(m["Subject"] for m in box) == ["Invitation 0", "Invitation 1", "Invitation 2"]


def test_maildir_unknown_durability_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability"):
        MaildirTransport(tmp_path, durability="sometimes")  # type: ignore[arg-type]


def test_maildir_key_is_a_safe_file_name(tmp_path: Path) -> None:
    transport = MaildirTransport(tmp_path)

    key = transport.key_for("<../../etc/passwd:2,S@evil.example>")

    assert "/" not in key
    assert ":" not in key
    assert not key.startswith(".")


# --- SMTP ----------------------------------------------------------------------------


def smtp(port: int, **options: Any) -> SmtpTransport:
    defaults: dict[str, Any] = {
        "security": "none",
        "timeout": 5.0,
        "attempts": 4,
        "base_delay": 0.01,
        "helo_name": "amity.test",
    }
    defaults.update(options)
    return SmtpTransport("127.0.0.1", port, **defaults)


def test_smtp_delivers_message_intact(smtp_server: tuple[ScriptedHandler, int]) -> None:
    handler, port = smtp_server
    raw, message_id = invitation()

    with smtp(port) as transport:
        result = transport.send(
            raw, sender=SENDER, recipients=["tanaka@metro.tokyo.example.jp"], message_id=message_id
        )

    assert handler.received == [(SENDER, ["tanaka@metro.tokyo.example.jp"], raw)]
    assert structure(handler.received[0][2]) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/pdf",
    ]
    assert (result.reply, result.attempts, result.transport) == (
        "250 2.0.0 Ok: queued as Q1",
        1,
        "smtp",
    )


def test_smtp_lf_only_message_is_sent_with_crlf(smtp_server: tuple[ScriptedHandler, int]) -> None:
    handler, port = smtp_server
    raw, _ = invitation()

    with smtp(port) as transport:
        transport.send(
            raw.replace(b"\r\n", b"\n"), sender=SENDER, recipients=["a@x.example"], message_id="m"
        )

    assert handler.received[0][2] == raw


def test_smtp_sends_a_kept_file_with_crlf(
    smtp_server: tuple[ScriptedHandler, int], tmp_path: Path
) -> None:
    handler, port = smtp_server
    raw, message_id = invitation()
    kept = tmp_path / "kept.eml"
    kept.write_bytes(raw.replace(b"\r\n", b"\n"))  # as the review keeps its copies

    with smtp(port) as transport:
        transport.send_file(kept, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert handler.received == [(SENDER, ["a@x.example"], raw)]


def test_smtp_batch_reuses_one_connection(smtp_server: tuple[ScriptedHandler, int]) -> None:
    handler, port = smtp_server

    with smtp(port) as transport:
        for n in range(3):
            raw, message_id = invitation(n)
            transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert len(handler.received) == 3
    assert len(handler.peers) == 1


def test_smtp_transient_451_is_retried_until_accepted(
    smtp_server: tuple[ScriptedHandler, int],
) -> None:
    handler, port = smtp_server
    handler.data_replies = ["451 4.3.0 try again later", "451 4.3.0 try again later"]
    raw, message_id = invitation()

    with smtp(port) as transport:
        result = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    assert len(handler.received) == 1
    assert result.attempts == 3


def test_smtp_transient_failure_outlasting_retries_is_raised(
    smtp_server: tuple[ScriptedHandler, int],
) -> None:
    handler, port = smtp_server
    handler.data_replies = ["451 4.3.0 busy"] * 3
    raw, message_id = invitation()

    with smtp(port, attempts=3) as transport, pytest.raises(TransientFailure) as caught:
        transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert (caught.value.code, caught.value.reply, caught.value.attempts) == (451, "4.3.0 busy", 3)
    assert handler.received == []


def test_smtp_permanent_550_is_recorded_and_others_go_on(
    smtp_server: tuple[ScriptedHandler, int],
) -> None:
    handler, port = smtp_server
    handler.rcpt_replies = ["550 5.1.1 <nobody@x.example>: user unknown"]
    refused, refused_id = invitation(1, to="nobody@x.example")
    good, good_id = invitation(2)

    with smtp(port) as transport:
        with pytest.raises(PermanentFailure) as caught:
            transport.send(
                refused, sender=SENDER, recipients=["nobody@x.example"], message_id=refused_id
            )
        transport.send(good, sender=SENDER, recipients=["a@x.example"], message_id=good_id)

    failure = caught.value
    assert (failure.code, failure.reply, failure.attempts, failure.scope) == (
        550,
        "5.1.1 <nobody@x.example>: user unknown",
        1,
        "message",
    )
    assert [r[1] for r in handler.received] == [["a@x.example"]]
    assert len(handler.peers) == 1


def test_smtp_permanent_554_at_data_is_raised(smtp_server: tuple[ScriptedHandler, int]) -> None:
    handler, port = smtp_server
    handler.data_replies = ["554 5.7.1 message rejected as spam"]
    raw, message_id = invitation()

    with smtp(port) as transport, pytest.raises(PermanentFailure) as caught:
        transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert (caught.value.code, caught.value.reply) == (554, "5.7.1 message rejected as spam")


def test_smtp_partial_refusal_delivers_to_the_others(
    smtp_server: tuple[ScriptedHandler, int],
) -> None:
    handler, port = smtp_server
    handler.rcpt_replies = ["250 OK", "550 5.1.1 unknown"]
    raw, message_id = invitation()

    with smtp(port) as transport:
        result = transport.send(
            raw, sender=SENDER, recipients=["a@x.example", "b@x.example"], message_id=message_id
        )

    assert [r[1] for r in handler.received] == [["a@x.example"]]
    assert result.refused == {"b@x.example": (550, "5.1.1 unknown")}


def test_smtp_dropped_connection_is_retried_on_a_new_one(
    smtp_server: tuple[ScriptedHandler, int],
) -> None:
    handler, port = smtp_server
    handler.drops = 1
    raw, message_id = invitation()

    with smtp(port) as transport:
        result = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    assert len(handler.received) == 1
    assert result.attempts == 2
    assert len(handler.peers) == 2


def test_smtp_421_reconnects_and_retries(smtp_server: tuple[ScriptedHandler, int]) -> None:
    handler, port = smtp_server
    handler.data_replies = ["421 4.3.2 shutting down"]
    raw, message_id = invitation()

    with smtp(port) as transport:
        result = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    assert len(handler.received) == 1
    assert (result.attempts, len(handler.peers)) == (2, 2)


def test_smtp_socket_timeout_is_retried(smtp_server: tuple[ScriptedHandler, int]) -> None:
    handler, port = smtp_server
    handler.stalls, handler.stall_seconds = 1, 1.0
    raw, message_id = invitation()

    with smtp(port, timeout=0.2) as transport:
        result = transport.send(
            raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id
        )

    assert len(handler.received) == 1
    assert result.attempts == 2


def test_smtp_no_server_is_a_transient_failure() -> None:
    raw, message_id = invitation()
    transport = smtp(free_port(), attempts=2)

    with pytest.raises(TransientFailure) as caught:
        transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert caught.value.attempts == 2
    assert caught.value.code is None


class Authenticator:
    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"fao",
            b"s3cret",
        )
        return AuthResult(success=ok, handled=False)


# aiosmtpd warns that AUTH without TLS is unsafe; on 127.0.0.1 in a test it is the point.
auth_warning = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def auth_server() -> Iterator[tuple[ScriptedHandler, int]]:
    handler = ScriptedHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=Authenticator(),
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@auth_warning
def test_smtp_auth_with_right_password_delivers(auth_server: tuple[ScriptedHandler, int]) -> None:
    handler, port = auth_server
    raw, message_id = invitation()

    with smtp(port, username="fao", password="s3cret") as transport:
        transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert len(handler.received) == 1


@auth_warning
def test_smtp_auth_with_wrong_password_fails_for_the_connection(
    auth_server: tuple[ScriptedHandler, int],
) -> None:
    handler, port = auth_server
    raw, message_id = invitation()

    with pytest.raises(PermanentFailure) as caught, smtp(port, username="fao", password="x") as t:
        t.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)

    assert (caught.value.code, caught.value.scope) == (535, "connection")
    assert handler.received == []


def test_make_transport_builds_each_kind(tmp_path: Path) -> None:
    maildir = make_transport("maildir", maildir_path=tmp_path)
    smtp_transport = make_transport("smtp", host="mail.example", port=587, security="starttls")

    assert isinstance(maildir, MaildirTransport)
    assert isinstance(smtp_transport, SmtpTransport)
    assert smtp_transport.location == "smtp://mail.example:587"
    with pytest.raises(ValueError, match="mail_transport"):
        make_transport("carrier-pigeon")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert file doubles as the client's CA)."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


def client_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls_files[0]))


def test_smtp_starttls_delivers(tls_files: tuple[Path, Path]) -> None:
    handler = ScriptedHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context(tls_files),
        require_starttls=True,
    )
    controller.start()
    raw, message_id = invitation()
    try:
        with smtp(
            controller.port, security="starttls", ssl_context=client_context(tls_files)
        ) as transport:
            transport.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)
    finally:
        controller.stop()

    assert [r[2] for r in handler.received] == [raw]


def test_smtp_starttls_with_untrusted_certificate_fails_for_the_connection(
    tls_files: tuple[Path, Path],
) -> None:
    controller = Controller(
        ScriptedHandler(),
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context(tls_files),
        require_starttls=True,
    )
    controller.start()
    raw, message_id = invitation()
    try:
        with (
            pytest.raises(PermanentFailure) as caught,
            smtp(controller.port, security="starttls") as t,
        ):
            t.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)
    finally:
        controller.stop()

    assert caught.value.scope == "connection"


def test_smtp_starttls_refused_when_server_lacks_it(
    smtp_server: tuple[ScriptedHandler, int],
) -> None:
    _, port = smtp_server

    with pytest.raises(PermanentFailure) as caught, smtp(port, security="starttls") as t:
        t.send(b"x\r\n", sender=SENDER, recipients=["a@x.example"], message_id="m")

    assert caught.value.scope == "connection"


def test_smtp_implicit_tls_delivers(tls_files: tuple[Path, Path]) -> None:
    handler = ScriptedHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=server_context(tls_files),
    )
    controller.start()
    raw, message_id = invitation()
    try:
        with smtp(controller.port, security="tls", ssl_context=client_context(tls_files)) as t:
            t.send(raw, sender=SENDER, recipients=["a@x.example"], message_id=message_id)
    finally:
        controller.stop()

    assert [r[2] for r in handler.received] == [raw]
