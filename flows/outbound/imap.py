"""The office's mailbox over IMAP (IMAPClient): list new messages, read them, mark them done.

Reading never sets \\Seen (BODY.PEEK), so a person using the same mailbox still sees what is
new. A message amity has handled gets the keyword (settings ``imap.processed_keyword``) and
is then either left where it is (``mark = "flag"``) or moved to ``imap.processed_folder``
(``mark = "move"``); a plain answer that needs a person always stays in the folder, starred
(\\Flagged) for them.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from config.settings import Imap, Settings

__all__ = ["IMAP_ERRORS", "Mailbox", "MailboxError", "imap_password", "open_mailbox"]

#: what a lost connection or a refusing server raises while the mailbox is open
IMAP_ERRORS = (IMAPClientError, OSError)

#: messages read per FETCH command
FETCH_BATCH = 50


class MailboxError(Exception):
    """The mailbox cannot be reached, logged into or used as configured; the text says why."""


def imap_password(imap: Imap) -> str | None:
    """The password from the settings, else from the Prefect Secret block they name."""
    if imap.password is not None:
        return imap.password.get_secret_value()
    if imap.password_block:
        from prefect.blocks.system import Secret

        secret: Any = Secret.load(imap.password_block)
        return str(secret.get())
    return None


@dataclass
class Mailbox:
    """One selected folder of an IMAP account."""

    client: IMAPClient
    settings: Imap
    #: "user@host", what the database keys this mailbox's messages by
    account: str
    folder: str
    uidvalidity: int

    def new_uids(self, since: date) -> list[int]:
        """UIDs of the messages since ``since`` that do not carry amity's keyword yet."""
        found = self.client.search(
            ["SINCE", since, "NOT", "KEYWORD", self.settings.processed_keyword]
        )
        return sorted(int(uid) for uid in found)

    def fetch(self, uids: Iterable[int]) -> Iterator[tuple[int, bytes]]:
        """(UID, raw bytes) of each message, read without marking it \\Seen."""
        wanted = list(uids)
        for start in range(0, len(wanted), FETCH_BATCH):
            batch = wanted[start : start + FETCH_BATCH]
            data = self.client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                item = data.get(uid)
                if item is not None and b"BODY[]" in item:
                    yield uid, bytes(item[b"BODY[]"])

    def mark(self, uid: int, *, for_a_person: bool = False) -> None:
        """Mark one message handled: keyword, then moved if so configured.

        A message for a person keeps its place and is starred, so they find it.
        """
        flags = [self.settings.processed_keyword]
        if for_a_person:
            flags.append("\\Flagged")
        self.client.add_flags([uid], flags, silent=True)
        if self.settings.mark == "move" and not for_a_person:
            target = self.settings.processed_folder
            if not self.client.folder_exists(target):
                try:
                    self.client.create_folder(target)
                except IMAPClientError:
                    # another run at once created it since we looked (ALREADYEXISTS)
                    if not self.client.folder_exists(target):
                        raise
            if self.client.has_capability("MOVE"):
                self.client.move([uid], target)
            else:
                self.client.copy([uid], target)
                self.client.delete_messages([uid], silent=True)
                self.client.uid_expunge([uid])


def _connect(imap: Imap) -> IMAPClient:
    assert imap.host is not None
    context = ssl.create_default_context()
    client = IMAPClient(
        imap.host,
        port=imap.port,
        ssl=imap.security == "tls",
        ssl_context=context if imap.security == "tls" else None,
        timeout=imap.timeout_seconds,
    )
    if imap.security == "starttls":
        client.starttls(context)
    return client


@contextmanager
def open_mailbox(settings: Settings) -> Iterator[Mailbox]:
    """Log into the configured account and select its folder; log out at the end."""
    imap = settings.imap
    if not imap.host or not imap.username:
        raise MailboxError("no mailbox configured: set AMITY_IMAP__HOST and AMITY_IMAP__USERNAME")
    where = f"imap {imap.host}:{imap.port}"
    try:
        client = _connect(imap)
    except (OSError, IMAPClientError) as exc:
        raise MailboxError(f"{where}: cannot connect ({exc})") from None
    try:
        try:
            client.login(imap.username, imap_password(imap) or "")
        except IMAPClientError as exc:
            raise MailboxError(f"{where}: login as {imap.username} refused ({exc})") from None
        try:
            info = client.select_folder(imap.folder)
        except IMAPClientError as exc:
            raise MailboxError(f"{where}: cannot open folder {imap.folder!r} ({exc})") from None
        permanent = info.get(b"PERMANENTFLAGS", ())
        if imap.mark == "flag" and b"\\*" not in permanent:
            raise MailboxError(
                f"{where}: the server keeps no keywords in {imap.folder!r}, so processed "
                "messages cannot be flagged: set AMITY_IMAP__MARK=move"
            )
        yield Mailbox(
            client=client,
            settings=imap,
            account=f"{imap.username}@{imap.host}",
            folder=imap.folder,
            uidvalidity=int(info[b"UIDVALIDITY"]),
        )
    finally:
        with suppress(OSError, IMAPClientError):
            client.logout()
