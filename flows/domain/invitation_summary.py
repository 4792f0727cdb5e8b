"""What an invitation run did, and what its preflight found in the letters (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from flows.domain.review import RESULT_LISTED, listed


class PreflightError(Exception):
    """Something would be wrong in a letter or message: nothing has been sent."""


#: the per-letter findings of a run (`InvitationSummary`'s lists of letters to check)
LISTS_TO_CHECK = ("fallbacks", "mixed", "address_problems")


@dataclass
class InvitationSummary:
    event: str
    dry_run: bool
    invited: int = 0
    sent: int = 0
    #: confirmed before this run started
    already_sent: int = 0
    #: sent by another run going on at the same time (runs at once share the work)
    sent_by_other: int = 0
    #: still being sent by another live run when this one finished its share
    in_progress_elsewhere: int = 0
    skipped_opted_out: list[str] = field(default_factory=list)
    #: not reminded: their address bounced (`--remind-pending`)
    skipped_bounced: list[str] = field(default_factory=list)
    #: the event's invitations whose address bounced (read from the mailbox)
    bounced: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    #: letters in English because the contact's language has no letter
    fallbacks: list[dict[str, str]] = field(default_factory=list)
    #: letters that would print a value in another language than their own (field, language)
    mixed: list[dict[str, Any]] = field(default_factory=list)
    #: forms of address the contact data cannot make correctly
    address_problems: list[dict[str, Any]] = field(default_factory=list)
    out_dir: str = ""
    #: letters written to ``out_dir`` (a run's result names no file: Prefect walks it whole)
    letters: int = 0
    #: the sign-off of this run's messages (None: nothing new needed one, or not required)
    review: dict[str, Any] | None = None

    #: the file listing every letter to check ("" when there is none)
    letters_to_check: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The run's result: counts, and at most `RESULT_LISTED` letters of each kind to check.

        Prefect walks a flow's result whole, item by item (seconds for 10,000 findings);
        ``letters_to_check`` names the file with all of them, ``counts`` counts them.
        """
        # shallow: asdict's deep copy of a large run's lists costs seconds too
        result = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in LISTS_TO_CHECK:
            result[name] = result[name][:RESULT_LISTED]
        return {
            **result,
            "counts": {name: len(getattr(self, name)) for name in LISTS_TO_CHECK},
            # the languages asked for that have no letter, all of them
            "fallback_languages": sorted({f["wanted"] for f in self.fallbacks}),
            "delivered": self.delivered,
            "not_sent": self.not_sent,
        }

    @property
    def delivered(self) -> int:
        """Invited contacts whose message is out, whichever run sent it."""
        return self.sent + self.sent_by_other + self.already_sent

    @property
    def not_sent(self) -> int:
        """Invited contacts whose message is neither out nor being sent by another run."""
        return max(0, self.invited - self.delivered - self.in_progress_elsewhere)


def language_report(summary: InvitationSummary, *, full_list: str = "") -> str:
    """Markdown: each letter that mixes languages, misaddresses or falls back, and why.

    With ``full_list`` (the file that has the whole report), at most `MAX_LISTED` letters a
    section: the rest are counted and that file named (the run's artifact stays small).
    """

    def section(title: str, items: list[str]) -> list[str]:
        if not items:
            return []
        shown = listed(items, f"(every one in {full_list})") if full_list else items
        return [f"## {title}", "", *shown, ""]

    lines = [f"# Letters of {summary.event} to check", ""]
    lines += section(
        "In English: no letter in the contact's language",
        [f"- {f['email']} ({f['city']}): wanted `{f['wanted']}`" for f in summary.fallbacks],
    )
    lines += section(
        "Values printed in another language",
        [
            f"- {m['email']} ({m['city']}): "
            + ", ".join(
                f"{v['field']} in `{v['used']}` (letter `{v['language']}`)" for v in m["values"]
            )
            for m in summary.mixed
        ],
    )
    lines += section(
        "Forms of address the data cannot make",
        [
            f"- {p['email']} ({p['city']}): {'; '.join(p['problems'])}"
            for p in summary.address_problems
        ],
    )
    return "\n".join(lines)


def mixed_letter_lines(summary: InvitationSummary) -> list[str]:
    """One line per letter that mixes languages or cannot address its reader correctly."""
    return [
        f"{m['email']} ({m['city']}): "
        + "; ".join(f"{v['field']} in {v['used']} (letter in {v['language']})" for v in m["values"])
        for m in summary.mixed
    ] + [
        f"{p['email']} ({p['city']}): {'; '.join(p['problems'])}" for p in summary.address_problems
    ]


def retry_command(
    event: str, *, only: list[str] | None = None, remind_pending: bool = False
) -> str:
    """The command that sends again what a run could not (the ledger skips what went out)."""
    words = ["amity", "invite", _quoted(event)]
    if only:
        words += ["--only", *(_quoted(city) for city in only)]
    if remind_pending:
        words.append("--remind-pending")
    return " ".join(words)


def _quoted(word: str) -> str:
    import shlex

    return shlex.quote(word)
