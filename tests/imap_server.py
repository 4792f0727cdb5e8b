"""A real IMAP server for the mailbox tests: Dovecot on 127.0.0.1, started by `.ci/dovecot`.

The server is started if it is not running (like PostgreSQL, it is left running for the
next session; `bash .ci/dovecot stop` ends it). Each test gets its own folder of the one
mail user, and AMITY_IMAP__* pointing at it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

REPO = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("AMITY_DOVECOT_PORT", "55143"))
USER, PASSWORD = "amity", "amity-test"


@dataclass
class ImapFolder:
    """The test's folder on the server, and a client of its own to deliver and look."""

    client: IMAPClient
    folder: str
    processed_folder: str

    def deliver(self, data: bytes) -> int:
        """IMAP APPEND, as a delivery agent would put a message in the folder; its UID."""
        answer = self.client.append(self.folder, data)
        # b"[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(answer.split(b"]")[0].split()[-1])

    def flags(self, folder: str | None = None) -> dict[int, set[str]]:
        self.client.select_folder(folder or self.folder, readonly=True)
        found = self.client.get_flags(self.client.search("ALL"))
        self.client.unselect_folder()
        return {
            uid: {f.decode() for f in flags if f != b"\\Recent"} for uid, flags in found.items()
        }


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


@pytest.fixture(scope="session")
def dovecot() -> str:
    """127.0.0.1:PORT with a running Dovecot (started here when it is not)."""
    if _dovecot_binary() is None:
        pytest.skip("dovecot is not installed here (apt-get install dovecot-imapd; CI installs it)")
    subprocess.run(["bash", str(REPO / ".ci" / "dovecot"), "start"], check=True)
    return f"127.0.0.1:{PORT}"


@pytest.fixture
def imap_mailbox(dovecot: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapFolder]:
    """A fresh folder, and amity's IMAP settings pointing at it (plain login on loopback)."""
    from config.settings import get_settings

    folder = f"t-{uuid.uuid4().hex[:12]}"
    client = IMAPClient("127.0.0.1", port=PORT, ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    client.create_folder(folder)
    box = ImapFolder(client, folder, f"{folder}-done")
    settings = {
        "HOST": "127.0.0.1",
        "PORT": str(PORT),
        "SECURITY": "none",
        "USERNAME": USER,
        "PASSWORD": PASSWORD,
        "FOLDER": folder,
        "PROCESSED_FOLDER": box.processed_folder,
    }
    for key, value in settings.items():
        monkeypatch.setenv(f"AMITY_IMAP__{key}", value)
    get_settings.cache_clear()
    try:
        yield box
    finally:
        for name in (folder, box.processed_folder):
            if client.folder_exists(name):
                client.delete_folder(name)
        client.logout()
        get_settings.cache_clear()
