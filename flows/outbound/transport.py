"""Deliver built e-mails: into a Maildir (the embedded default) or through an SMTP server.

Both transports take the finished message (its bytes, or the file it was written to) and
never look inside it. A transport
holds at most one connection and is not thread-safe: use one per Prefect task (per chunk
of recipients), as a context manager, so the SMTP connection is reused for the chunk.

Failures the caller must tell apart:

* :class:`PermanentFailure` — the server refused with a 5xx reply (``code``, ``reply``);
  record it and go on with the next message. ``scope == "connection"`` (bad credentials,
  no STARTTLS, certificate rejected) means every message will fail the same way.
* :class:`TransientFailure` — 4xx replies, dropped connections or timeouts that lasted
  through every retry; leave the message unconfirmed so the next run tries it again.

SMTP cannot be exactly-once: if the connection drops after the message's final dot but
before the server's answer, the retry may deliver a second copy. The delivery ledger makes
every other case exactly-once.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import os
import re
import smtplib
import socket
import ssl
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, Self, TypeVar

from flows.domain.slug import slugify

__all__ = [
    "DeliveryError",
    "Durability",
    "MaildirTransport",
    "PermanentFailure",
    "SendResult",
    "SmtpTransport",
    "TransientFailure",
    "Transport",
    "make_transport",
]

Security = Literal["starttls", "tls", "none"]
Durability = Literal["each", "batch", "off"]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened to one message."""

    message_id: str
    #: "maildir" or "smtp"
    transport: str
    #: the Maildir file, or smtp://host:port
    location: str
    #: the server's last reply, e.g. "250 2.0.0 Ok: queued as 4XyZ"; empty for Maildir
    reply: str = ""
    attempts: int = 1
    #: the Maildir already held this Message-ID, nothing was written
    duplicate: bool = False
    #: recipients the server refused permanently while accepting others: {addr: (code, reply)}
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


class DeliveryError(Exception):
    """A message could not be delivered."""

    permanent = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        reply: str = "",
        scope: Literal["message", "connection"] = "message",
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reply = reply
        self.scope = scope
        self.attempts = attempts


class PermanentFailure(DeliveryError):
    """Refused for good (5xx); retrying the same message will not help."""

    permanent = True


class TransientFailure(DeliveryError):
    """Temporary trouble (4xx, drop, timeout) that outlasted the retries."""


class Transport(Protocol):
    """Something that delivers finished messages; a context manager around a batch."""

    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(
        self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str
    ) -> SendResult: ...

    def send_file(
        self, path: Path, *, sender: str, recipients: Sequence[str], message_id: str
    ) -> SendResult: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _Batch:
    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(
        self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str
    ) -> SendResult:
        raise NotImplementedError

    def send_file(
        self, path: Path, *, sender: str, recipients: Sequence[str], message_id: str
    ) -> SendResult:
        """Send the message written in ``path`` (an OSError if it cannot be read)."""
        return self.send(
            path.read_bytes(), sender=sender, recipients=recipients, message_id=message_id
        )

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class MaildirTransport(_Batch):
    """Write each message as a file in a Maildir (tmp/, new/, cur/) any mail client reads.

    The file name is the slug of the Message-ID, so delivering the same message twice
    leaves one file: the second ``send`` reports ``duplicate=True``. Files are written in
    tmp/ and hard-linked into new/ (the Maildir protocol), which is atomic and fails if the
    name exists — two processes delivering the same message cannot both succeed; a reviewed
    copy (``send_file``) is hard-linked into new/ itself. A message a
    client has since moved to cur/ is recognised from the listing taken by ``open()``.

    ``durability`` says when written messages are forced to disk, so that one the ledger
    confirms survives a power cut (a killed process loses nothing either way):

    * ``"each"`` (default): fsync every file and new/ before ``send`` returns (~1–3 ms);
    * ``"batch"``: ``sync()`` — called by ``close()``, or by the caller before it confirms
      a chunk in the ledger — flushes the file system once (~0.3 ms per message);
    * ``"off"``: never; for --dry-run output and benchmarks.
    """

    name = "maildir"

    def __init__(self, path: str | os.PathLike[str], *, durability: Durability = "each") -> None:
        if durability not in ("each", "batch", "off"):
            raise ValueError(f"durability: {durability!r} is not each, batch or off")
        self.path = Path(path)
        self.durability = durability
        self._delivered: set[str] | None = None
        self._unsynced = False
        self._counter = itertools.count()
        #: /proc/self/fd, open while the transport is (``send_file`` links through it)
        self._proc: int | None = None
        self._proc_pid = 0

    def open(self) -> None:
        try:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
            self._delivered = {
                name.split(":", 1)[0]
                for sub in ("new", "cur")
                for name in os.listdir(self.path / sub)
                if not name.startswith(".")
            }
        except OSError as exc:
            raise self._unwritable(exc) from exc
        self.clean_tmp()

    def clean_tmp(self, *, now: float | None = None) -> list[str]:
        """Remove what a killed writer left in tmp/; the names removed.

        Only files nobody can still be writing: ours whose process is gone (same host), or
        any file untouched for 36 hours (the Maildir rule). A file being written by a live
        process, here or on another host sharing the folder, stays.
        """
        now = time.time() if now is None else now
        removed: list[str] = []
        try:
            entries = list(os.scandir(self.path / "tmp"))
        except OSError:
            return removed
        for entry in entries:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                is_old = now - entry.stat(follow_symlinks=False).st_mtime > _TMP_MAX_AGE
                if is_old or _writer_is_gone(entry.name):
                    os.unlink(entry.path)
                    removed.append(entry.name)
            except OSError:  # gone already, or a read-only outbox: the send will say so
                continue
        return removed

    def _unwritable(self, exc: OSError) -> TransientFailure:
        # a read-only, full or forbidden outbox fails every message the same way
        return TransientFailure(
            f"the outbox {self.path} cannot be written: {exc.strerror or exc}", scope="connection"
        )

    def close(self) -> None:
        try:
            self.sync()
        finally:
            self._delivered = None
            if self._proc is not None:
                os.close(self._proc)
                self._proc = None

    def sync(self) -> None:
        """Force the messages written since the last sync to disk (``"batch"`` mode)."""
        if self._unsynced:
            _syncfs(self.path / "new")
            self._unsynced = False

    def key_for(self, message_id: str) -> str:
        """The Maildir file name (``mailbox.Maildir`` key) a Message-ID is stored under."""
        return slugify(message_id.strip().strip("<>"), max_len=80)

    def send(
        self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str
    ) -> SendResult:
        # Maildir files use the local line ending; the bytes stay otherwise untouched.
        data = message.replace(b"\r\n", b"\n")
        return self._deliver(message_id, lambda target, key: self._write(data, target, key))

    def send_file(
        self, path: Path, *, sender: str, recipients: Sequence[str], message_id: str
    ) -> SendResult:
        """Deliver a written message. A file in this Maildir's form (LF line ends, as the
        review keeps its copies) on the same file system, ours, not writable by others and
        with no other name, is hard-linked into new/ itself: no second copy of the bytes.
        The very file read is linked (through its descriptor), so a file swapped in between
        is never delivered; any other file is written as ``send`` writes bytes.
        """
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # not inherited (PEP 446)
        try:
            info = os.fstat(fd)
            regular = stat.S_ISREG(info.st_mode)
            data = _read_all(fd, info.st_size, regular=regular)
            linkable = (
                # (a carriage return at all is rare: one byte is found far faster than two)
                (b"\r" not in data or b"\r\n" not in data)
                and regular
                and info.st_uid == os.geteuid()
                and info.st_nlink == 1
                and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
                and _PROC_FD_LINKS
            )
            if not linkable:
                return self.send(data, sender=sender, recipients=recipients, message_id=message_id)

            def place(target: str, key: str) -> bool:
                try:
                    if self._proc is None or self._proc_pid != os.getpid():
                        # (a forked child has its own descriptors: its own /proc/self/fd)
                        self._proc = os.open(_PROC_FD, os.O_RDONLY | os.O_DIRECTORY)
                        self._proc_pid = os.getpid()
                    # /proc/self/fd/N names the open file: its inode is linked, whatever
                    # the path names by now (linkat, following that name)
                    os.link(str(fd), target, src_dir_fd=self._proc, follow_symlinks=True)
                except FileExistsError:
                    return True
                except OSError:  # another file system, no hard links there: write the bytes
                    return self._write(data, target, key)
                if self.durability == "each":
                    os.fsync(fd)
                return False

            return self._deliver(message_id, place)
        finally:
            os.close(fd)

    def _deliver(self, message_id: str, place: Callable[[str, str], bool]) -> SendResult:
        """Put a message into new/ under its key with ``place(target, key)`` (True: the name
        was taken already), unless the listing has it; the durability's part after it."""
        if self._delivered is None:
            self.open()
        assert self._delivered is not None
        key = self.key_for(message_id)
        new = os.path.join(self.path, "new")
        target = os.path.join(new, key)
        if key in self._delivered:
            return SendResult(message_id, self.name, target, duplicate=True)
        try:
            duplicate = place(target, key)
            if self.durability == "each" and not duplicate:
                _fsync(new)
        except OSError as exc:
            if exc.errno in _UNWRITABLE:
                raise self._unwritable(exc) from exc
            raise TransientFailure(f"{target}: {exc.strerror or exc}") from exc
        if self.durability == "batch" and not duplicate:
            self._unsynced = True
        self._delivered.add(key)
        return SendResult(message_id, self.name, target, duplicate=duplicate)

    def _write(self, data: bytes, target: str, key: str) -> bool:
        """Write ``data`` in tmp/ and link it into new/ as ``target``; True if the name was
        taken already (the Maildir protocol: atomic, and fails if the name exists)."""
        tmp = os.path.join(self.path, "tmp", f"{key}.{os.getpid()}.{next(self._counter)}.{_HOST}")
        try:
            with open(tmp, "xb") as handle:
                handle.write(data)
                if self.durability == "each":
                    handle.flush()
                    os.fsync(handle.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                return True
            return False
        finally:
            # a read-only outbox refuses the unlink too; the next open() cleans tmp/
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _read_all(fd: int, size: int, *, regular: bool = False) -> bytes:
    """The rest of an open file, ``size`` bytes as its fstat said (or more, if it grew). A
    read of a ``regular`` file that returns less than asked for has reached its end."""
    parts = [os.read(fd, size + 1)]
    if regular and len(parts[0]) <= size:
        return parts[0]
    while parts[-1]:
        parts.append(os.read(fd, 1 << 16))
    return b"".join(parts)


#: errors that fail every write to the outbox, not just one message
_UNWRITABLE = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM})
#: the open files of this process by descriptor (Linux): how a file read is linked as it is
_PROC_FD = "/proc/self/fd"
_PROC_FD_LINKS = os.path.isdir(_PROC_FD)
#: tmp/ files older than this are a dead writer's (the Maildir specification's 36 hours)
_TMP_MAX_AGE = 36 * 3600
#: this host in tmp/ file names (no dots: the name is split on them)
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _writer_is_gone(name: str) -> bool:
    """True if the tmp/ file ``name`` (KEY.PID.N.HOST) was written here by a process now gone."""
    parts = name.rsplit(".", 3)
    if len(parts) != 4 or parts[3] != _HOST or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # this process may be writing it right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class _Refused(Exception):
    """A non-success reply inside one SMTP transaction."""

    def __init__(self, code: int, reply: str, stage: str) -> None:
        super().__init__(f"{stage}: {code} {reply}")
        self.code = code
        self.reply = reply
        self.stage = stage


class _Unreachable(OSError):
    """The server could not be connected to at all (refused, no route, timed out)."""


class SmtpTransport(_Batch):
    """Send through an SMTP server over one reused connection, with retries.

    ``timeout`` is applied to the socket, so connect, every command and the data transfer
    each give up after that many seconds (Prefect's task timeout cannot interrupt them).
    Transient failures are retried ``attempts`` times in all, waiting ``base_delay``,
    then twice that… up to ``max_delay`` seconds; a dropped connection is reopened.
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        attempts: int = 4,
        base_delay: float = 2.0,
        max_delay: float = 60.0,
        helo_name: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"security: {security!r} is not starttls, tls or none")
        if attempts < 1:
            raise ValueError("attempts: at least 1")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        # smtplib's default EHLO name comes from socket.getfqdn(), a DNS lookup that can
        # stall for the resolver's timeout on an offline machine.
        self.helo_name = helo_name or socket.gethostname()
        self.ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None

    @property
    def location(self) -> str:
        scheme = "smtps" if self.security == "tls" else "smtp"
        return f"{scheme}://{self.host}:{self.port}"

    def open(self) -> None:
        """Connect now (otherwise the first ``send`` does), retrying transient trouble."""
        self._retrying(self._connection)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def send(
        self, message: bytes, *, sender: str, recipients: Sequence[str], message_id: str
    ) -> SendResult:
        if not recipients:
            raise ValueError("recipients: at least one")
        if message.count(b"\n") != message.count(b"\r\n"):
            # smtplib sends bytes as they are; SMTP requires CRLF line ends.
            message = re.sub(rb"\r?\n", b"\r\n", message)
        pending = list(recipients)
        refused: dict[str, tuple[int, str]] = {}

        def attempt() -> str:
            nonlocal pending
            conn = self._connection()
            reply, deferred = self._transaction(conn, sender, pending, message, refused)
            pending = deferred
            if deferred:
                code, text = refused.pop(deferred[0])
                for addr in deferred[1:]:
                    refused.pop(addr, None)
                raise _Refused(code, text, "RCPT TO")
            return reply

        reply, attempts = self._retrying(attempt)
        return SendResult(
            message_id, self.name, self.location, reply=reply, attempts=attempts, refused=refused
        )

    def _retrying(self, action: Callable[[], _T]) -> tuple[_T, int]:
        for number in range(1, self.attempts + 1):
            try:
                return action(), number
            except _Refused as exc:
                failure = _classify(exc.code, exc.reply, f"{exc.stage} refused", number)
                if exc.code == 421:  # the server is closing this connection
                    self._drop()
            except smtplib.SMTPNotSupportedError as exc:
                self._drop()
                raise PermanentFailure(str(exc), scope="connection", attempts=number) from exc
            except smtplib.SMTPResponseException as exc:
                # greeting, EHLO, STARTTLS or AUTH refused: the connection is unusable
                self._drop()
                reply = _text(exc.smtp_error)
                failure = _classify(exc.smtp_code, reply, "connection refused", number)
                failure.scope = "connection"
            except ssl.SSLCertVerificationError as exc:
                self._drop()
                raise PermanentFailure(str(exc), scope="connection", attempts=number) from exc
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                # OSError covers refused connections, resets and socket timeouts.
                self._drop()
                failure = TransientFailure(
                    f"connection to {self.location} failed: {exc}", attempts=number
                )
                if isinstance(exc, _Unreachable):  # no connection at all: nothing will go out
                    failure = TransientFailure(
                        f"cannot connect to {self.location}: {exc.__cause__ or exc}",
                        attempts=number,
                        scope="connection",
                    )
            if failure.permanent or number == self.attempts:
                raise failure
            time.sleep(min(self.max_delay, self.base_delay * 2 ** (number - 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        context = self.ssl_context or ssl.create_default_context()
        conn: smtplib.SMTP
        try:
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self.helo_name,
                    timeout=self.timeout,
                    context=context,
                )
            else:
                conn = smtplib.SMTP(
                    self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout
                )
        except (smtplib.SMTPException, ssl.SSLError):
            raise  # the server answered: classified by _retrying
        except OSError as exc:
            raise _Unreachable(str(exc)) from exc
        try:
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password or "")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @staticmethod
    def _transaction(
        conn: smtplib.SMTP,
        sender: str,
        recipients: Sequence[str],
        message: bytes,
        refused: dict[str, tuple[int, str]],
    ) -> tuple[str, list[str]]:
        """Run MAIL, RCPT…, DATA; return the final reply and the recipients deferred (4xx)."""
        code, reply = conn.mail(sender)
        if code != 250:
            _reset(conn)
            raise _Refused(code, _text(reply), "MAIL FROM")
        accepted: list[str] = []
        deferred: list[str] = []
        for rcpt in recipients:
            code, reply = conn.rcpt(rcpt)
            if code in (250, 251):
                accepted.append(rcpt)
            else:
                refused[rcpt] = (code, _text(reply))
                if code < 500:
                    deferred.append(rcpt)
        if not accepted:
            _reset(conn)
            if deferred:
                return "", deferred
            code, text = refused[recipients[0]]
            raise _Refused(code, text, "RCPT TO")
        try:
            code, reply = conn.data(message)
        except smtplib.SMTPDataError as exc:  # the DATA command itself was refused
            _reset(conn)
            raise _Refused(exc.smtp_code, _text(exc.smtp_error), "DATA") from exc
        if code != 250:
            _reset(conn)
            raise _Refused(code, _text(reply), "DATA")
        return f"{code} {_text(reply)}", deferred


def make_transport(
    kind: str,
    *,
    maildir_path: str | os.PathLike[str] | None = None,
    durability: Durability = "each",
    host: str = "127.0.0.1",
    port: int = 25,
    security: Security = "starttls",
    username: str | None = None,
    password: str | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 4,
    backoff_seconds: float = 2.0,
) -> Transport:
    """Build the transport named by settings (``mail_transport`` and the ``smtp`` block)."""
    if kind == "maildir":
        if maildir_path is None:
            raise ValueError("maildir_path: required for the maildir transport")
        return MaildirTransport(maildir_path, durability=durability)
    if kind == "smtp":
        return SmtpTransport(
            host,
            port,
            security=security,
            username=username,
            password=password,
            timeout=timeout_seconds,
            attempts=attempts,
            base_delay=backoff_seconds,
        )
    raise ValueError(f"mail_transport: {kind!r} is not maildir or smtp")


def _classify(code: int, reply: str, what: str, attempts: int) -> DeliveryError:
    cls = PermanentFailure if 500 <= code < 600 else TransientFailure
    return cls(f"{what}: {code} {reply}", code=code, reply=reply, attempts=attempts)


def _reset(conn: smtplib.SMTP) -> None:
    # RSET so the next transaction on this connection starts clean; a server that hung up
    # shows up on the next command as SMTPServerDisconnected, which reconnects.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        conn.rset()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _syncfs(path: Path) -> None:
    # syncfs(2) flushes one file system in one go, far cheaper than an fsync per file;
    # os.sync() (every file system) where libc has no syncfs.
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC is None or _LIBC.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _load_libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syncfs.argtypes = [ctypes.c_int]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _load_libc()


def _fsync(path: str | os.PathLike[str]) -> None:
    """Force a file or a directory (its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
