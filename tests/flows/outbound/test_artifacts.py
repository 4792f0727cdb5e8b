"""The organizer's artifacts: titles in words, a row per recipient, links an office PC opens."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from config.settings import Outputs, Settings
from flows.outbound.artifacts import (
    RecipientRow,
    artifact_key,
    event_key,
    heading,
    output_link,
    plain_title,
    recipients_markdown,
    recipients_table,
)
from tests.goldens import golden

TITLES = {"en": "Beijing–Tokyo Urban Symposium", "ja": "北京・東京都市シンポジウム"}


def _settings(tmp_path: Path, base_url: str | None) -> Settings:
    return Settings(home=tmp_path, outputs=Outputs(base_url=base_url))


def _eml(path: Path, text: str) -> Path:
    message = EmailMessage()
    message["Subject"] = "Invitation"
    message.set_content(text)
    path.write_bytes(message.as_bytes())
    return path


def test_plain_title_names_the_edition_in_words() -> None:
    assert plain_title(TITLES, 12, "x") == "12th Beijing–Tokyo Urban Symposium"
    assert plain_title({"ja": "北京"}, None, "x") == "北京"
    assert plain_title({}, None, "some-slug") == "some-slug"


def test_heading_marks_a_dry_run() -> None:
    assert heading("Invitations", "12th Beijing–Tokyo Urban Symposium", dry_run=True) == (
        "Invitations — 12th Beijing–Tokyo Urban Symposium (dry run: nothing sent)"
    )


def test_keys_are_what_prefect_accepts() -> None:
    assert event_key("beijing-tokyo-urban-symposium-12") == "event-beijing-tokyo-urban-symposium-12"
    assert artifact_key("Invitation reminders-Rio_2027") == "invitation-reminders-rio-2027"


def test_output_link_uses_the_file_server_and_never_file_urls(tmp_path: Path) -> None:
    letter = tmp_path / "out" / "sym-12" / "invitations" / "tokyo" / "hanako yamada-3.pdf"

    on_server = output_link(letter, _settings(tmp_path, "https://files.example.org/amity/out/"))
    without = output_link(letter, _settings(tmp_path, None))
    outside = output_link("/etc/passwd", _settings(tmp_path, "https://files.example.org"))

    assert on_server == (
        "https://files.example.org/amity/out/sym-12/invitations/tokyo/hanako%20yamada-3.pdf"
    )
    assert (without, outside) == (None, None)


def test_recipients_table_lists_problems_first_and_counts_the_rest() -> None:
    rows = [RecipientRow(f"c{i}@x.example", "Tokyo", "ja", "sent") for i in range(5)] + [
        RecipientRow("bad@x.example", "Seoul", "ko", "failed", "550 no such user | mailbox")
    ]

    lines = recipients_table(rows, limit=3)

    assert lines == [
        "| contact | city | language | state | reason |",
        "|---|---|---|---|---|",
        "| bad@x.example | Seoul | ko | failed | 550 no such user \\| mailbox |",
        "| c0@x.example | Tokyo | ja | sent | — |",
        "| c1@x.example | Tokyo | ja | sent | — |",
        "",
        "… and 3 more (3 sent); every recipient is in the run's log.",
    ]


def test_invitations_markdown_reads_as_the_organizer_expects(tmp_path: Path) -> None:
    rows = [
        RecipientRow(
            "Hanako Yamada (hanako.yamada@tokyo.example.org)",
            "Tokyo",
            "ja",
            "sent",
            link="https://files.example.org/out/sym/invitations/tokyo/hanako-yamada-3.pdf",
        ),
        RecipientRow("Ken Sato (ken.sato@tokyo.example.org)", "Tokyo", "ja", "sent before"),
        RecipientRow(
            "Ana Lima (ana@rio.example.org)", "Rio de Janeiro", "pt", "failed", "550 unknown user"
        ),
        RecipientRow("Max Roe (max@x.example)", "Berlin", "de", "opted out", "asked not to"),
    ]
    eml = _eml(tmp_path / "a.eml", "山田花子様\n\n拝啓\n北京市人民政府外事弁公室\n")

    markdown = recipients_markdown(
        "Invitations",
        "12th Beijing–Tokyo Urban Symposium",
        rows,
        notes=["letters in English, none in the contact's language: 1"],
        samples={"ja": ("Hanako Yamada (Tokyo)", eml)},
        next_step="fix the failed addresses and run again",
    )

    golden("artifacts/invitations.md", markdown)
