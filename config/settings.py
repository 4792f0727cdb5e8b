"""amity's settings: one class, read from AMITY_* variables, then amity.toml, then defaults."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_TOML = CONFIG_DIR / "amity.toml"
DATA_DIR = CONFIG_DIR / "data"
EVENTS_DIR = CONFIG_DIR / "events"


class HomeCity(BaseModel):
    """The city whose office runs amity; nothing in the code assumes Beijing."""

    name: str = "Beijing"
    native_name: str = "北京"
    country_code: str = "CN"
    timezone: str = "Asia/Shanghai"
    language: str = "zh"


class OfficePerson(BaseModel):
    """Someone of the office a letter names: their name and title in each letter language."""

    #: language (BCP 47 primary subtag) -> name / title; "en" is required
    names: dict[str, str]
    titles: dict[str, str]

    @model_validator(mode="after")
    def _has_english(self) -> OfficePerson:
        for field_name in ("names", "titles"):
            if "en" not in getattr(self, field_name):
                raise ValueError(
                    f"{field_name} needs an 'en' entry (other languages fall back to it)"
                )
        return self


class ContactPerson(OfficePerson):
    """Who answers partners' questions about an event."""

    telephone: str = ""
    email: str = ""


class Signatory(OfficePerson):
    """Who signs: letters to addressees of these ranks (empty = everyone else)."""

    ranks: list[str] = Field(default_factory=list)


def _default_signatories() -> list[Signatory]:
    return [
        Signatory(
            names={"zh": "李华", "en": "Li Hua"},
            titles={"zh": "主任", "en": "Director-General"},
        )
    ]


class Office(BaseModel):
    """The international-relations office: letterhead, signatories and sender of invitations."""

    #: the office's name and postal address by language; "en" is required
    names: dict[str, str] = Field(
        default_factory=lambda: {
            "zh": "北京市人民政府外事办公室",
            "en": "Foreign Affairs Office of the Beijing Municipal People's Government",
        }
    )
    addresses: dict[str, str] = Field(
        default_factory=lambda: {
            "zh": "中国北京市东城区正义路2号 100006",
            "en": "No. 2 Zhengyi Road, Dongcheng District, Beijing 100006, China",
        }
    )
    #: the reply address letters give, and the sender of invitations
    email: str = "fao@beijing.example.org"
    contact: ContactPerson = ContactPerson(
        names={"zh": "王芳", "en": "Wang Fang"},
        titles={"zh": "礼宾处", "en": "Protocol Division"},
        telephone="+86 10 5555 0142",
        email="protocol@beijing.example.org",
    )
    #: who signs; the first whose ranks include the addressee's, else the one with no ranks
    signatories: list[Signatory] = Field(default_factory=_default_signatories)
    #: the letter reference by language ({year}, {n}); "en" serves languages without one
    reference_patterns: dict[str, str] = Field(
        default_factory=lambda: {"zh": "京外办函〔{year}〕{n}号", "en": "BJFAO/{year}/{n:04d}"}
    )
    #: where anniversary digests go
    reminder_recipients: list[str] = Field(default_factory=lambda: ["protocol@beijing.example.org"])
    language: str = "zh"
    mail_domain: str = "beijing.example.org"

    @model_validator(mode="after")
    def _complete(self) -> Office:
        for field_name in ("names", "addresses", "reference_patterns"):
            if "en" not in getattr(self, field_name):
                raise ValueError(f"office.{field_name} needs an 'en' entry")
        if not any(not s.ranks for s in self.signatories):
            raise ValueError("office.signatories needs one entry with no ranks (signs the rest)")
        for lang, pattern in self.reference_patterns.items():
            try:
                pattern.format(year=2000, n=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"office.reference_patterns.{lang}={pattern!r}: only {{year}} and {{n}} "
                    f"may appear ({exc})"
                ) from None
        return self

    @property
    def name(self) -> str:
        """The office's English name (From: headers, calendars' organizer)."""
        return self.names["en"]

    @property
    def native_name(self) -> str:
        return self.names.get(self.language, self.names["en"])


class Smtp(BaseModel):
    host: str = "127.0.0.1"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    #: name of a Prefect Secret block holding the password, used when `password` is empty
    password_block: str | None = None
    timeout_seconds: float = 30.0
    attempts: int = 4
    backoff_seconds: float = 2.0


class Delivery(BaseModel):
    #: a claim whose owner has not renewed it for this long is taken over by another run
    #: (a live run renews its claims every third of it; a dead one on this host at once)
    claim_lease_seconds: float = Field(default=900.0, gt=0)


class CalDav(BaseModel):
    url: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = 30.0


class Imap(BaseModel):
    """The office's mailbox, read by `amity rsvp fetch` for replies and bounces."""

    #: None = no mailbox configured (the scheduled fetch then does nothing)
    host: str | None = None
    port: int = 993
    #: "tls" (IMAPS, port 993), "starttls" (port 143) or "none" (loopback test servers only)
    security: Literal["none", "starttls", "tls"] = "tls"
    username: str | None = None
    password: SecretStr | None = None
    #: name of a Prefect Secret block holding the password, used when `password` is empty
    password_block: str | None = None
    #: the folder answers arrive in
    folder: str = "INBOX"
    #: where a processed reply or bounce goes: "flag" keeps it in `folder` with the
    #: `processed_keyword`, "move" moves it to `processed_folder` (made if missing)
    mark: Literal["flag", "move"] = "flag"
    processed_keyword: str = "$AmityProcessed"
    processed_folder: str = "amity/processed"
    #: only messages received in the last N days are read (a large old mailbox is not scanned)
    since_days: int = Field(default=60, ge=1)
    timeout_seconds: float = 30.0


class Reminders(BaseModel):
    milestones: list[int] = Field(
        default_factory=lambda: [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 70, 75, 80, 90, 100]
    )
    lead_days: list[int] = Field(default_factory=lambda: [365, 180, 90, 30, 7])
    #: how a tie made on 29 February is celebrated in common years
    feb29_policy: Literal["feb28", "mar1"] = "feb28"


class Approval(BaseModel):
    """Sign-off before anything goes abroad: who must approve what a run would send."""

    #: real sends wait for a person's decision on the rendered messages (dry runs never wait)
    required: bool = True
    #: a review not decided within this time expires and nothing of it is sent
    timeout: dt.timedelta = dt.timedelta(days=7)
    #: how a run started in this process (CLI) waits: "record" ends it with the review
    #: recorded (`amity approve RUN` sends), "pause" keeps it waiting for the UI or the API
    wait: Literal["record", "pause"] = "record"
    #: for test set-ups only: approve every review at once in this name (recorded as such)
    auto_approve_by: str | None = None


class Outputs(BaseModel):
    #: where office PCs open the output folder (`<home>/out`), e.g. the office's file server
    #: (https://files.example.org/amity/out); the Prefect UI's links start with it, and
    #: without it the UI shows a sample letter per language instead of a link to a worker's disk
    base_url: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AMITY_",
        env_nested_delimiter="__",
        toml_file=DEFAULT_TOML,
        extra="ignore",
    )

    #: folder for the SQLite database, the Maildir outbox and every output file
    home: Path = Path("var")
    #: overrides the SQLite file, e.g. postgresql+psycopg://amity@127.0.0.1/amity
    database_url: str | None = None
    home_city: HomeCity = HomeCity()
    office: Office = Office()
    mail_transport: Literal["maildir", "smtp"] = "maildir"
    smtp: Smtp = Smtp()
    delivery: Delivery = Delivery()
    caldav: CalDav = CalDav()
    imap: Imap = Imap()
    reminders: Reminders = Reminders()
    approval: Approval = Approval()
    outputs: Outputs = Outputs()
    #: organizer-supplied letter templates (rendered in a sandbox); None = the shipped ones
    letter_template_dir: Path | None = None
    #: refuse to send when a letter would print a value in another language than its own
    #: (`amity invite --strict-language` does the same for one run)
    strict_language: bool = False
    #: pause between two messages, for relays that limit how fast they accept mail
    send_interval_seconds: float = 0.0
    #: recipients rendered per Prefect task (a task costs Prefect 10-20 ms; a chunk with PDFs
    #: is held in memory while its PDFs render); the flow never runs one task per letter
    batch_size: int = 200
    #: messages one sending task claims, sends and confirms at once: each task costs Prefect
    #: ~10-20 ms and each batch a ledger transaction and a disk sync (with sign-off on, the
    #: messages are read from the reviewed copies, not held in memory)
    send_batch_size: int = Field(default=1000, ge=1)
    #: chunks of one invitation run in flight at once (threads, or Dask worker processes);
    #: each chunk renders its PDFs on a process per core, so keep it small. On threads only
    #: chunks that wait outside Python (PDFs, an SMTP server) share it; the rest go one at a time
    task_workers: int = Field(default=2, ge=1)
    #: attach the PDF letter to invitation e-mails (the PDF is written to the output folder
    #: when this is on; off gives HTML letters only, for very large mailings)
    attach_pdf: bool = True
    #: processes rendering PDFs; None = one per core
    pdf_workers: int | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'amity.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def out_dir(self) -> Path:
        return self.home / "out"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
