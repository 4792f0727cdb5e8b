"""Where output files go: one folder per event and purpose, one file stem per contact."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from flows.domain.slug import slugify


def invitation_dir(settings: Settings, slug: str) -> Path:
    return settings.out_dir / slugify(slug) / "invitations"


def contact_file_stem(city: str, name_latin: str | None, email: str, contact_id: int) -> str:
    """``<city>/<name>-<contact id>``: where a contact's files go below an output folder."""
    return f"{slugify(city)}/{slugify(name_latin or email)}-{contact_id}"


class Folders:
    """Makes the folders a batch writes into, each once (a file per contact would otherwise
    ask the file system for its folder every time)."""

    def __init__(self) -> None:
        self._made: set[Path] = set()

    def make(self, folder: Path) -> Path:
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        return folder


def contact_id_of(path: Path) -> int | None:
    """The contact id back from a file named after :func:`contact_file_stem`."""
    ident = path.stem.rsplit("-", 1)[-1]
    return int(ident) if ident.isdigit() else None


def calendar_dir(settings: Settings, slug: str) -> Path:
    return settings.out_dir / slugify(slug) / "calendar"


def changes_dir(settings: Settings, slug: str, purpose: str) -> Path:
    return (
        settings.out_dir / slugify(slug) / ("cancellations" if purpose == "cancel" else "updates")
    )
