"""The review before sending: what a run would send, summarised for the person who signs it off.

Plain data in, plain data out: the digest that ties a decision to the rendered bytes, the
summary a reviewer reads (counts by language, every preflight warning, one sample letter
per language and rank, the recipients) and its Markdown for the Prefect UI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flows.domain.spreadsheet import safe_writer

#: warnings and recipients a review's artifact lists; the rest are counted (an artifact over
#: 1.5 MB is stored, but Prefect refuses to announce it as an event)
MAX_LISTED = 500
#: findings a run's result and the terminal list; the rest are counted, and the file or the
#: artifact that has them is named (Prefect walks a flow's result whole: 0.25 s for 500 letters)
RESULT_LISTED = 20
#: what a purpose's messages are called in a review (and in `amity approvals`)
NOUNS = {
    "invitation": "invitations",
    "reminder": "reminders of the invitation",
    "changes": "updates and cancellations",
}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def messages_digest(messages: Iterable[Mapping[str, Any]]) -> str:
    """One sha256 over every message: recipient, Message-ID and the sha256 of its bytes.

    Order does not matter (chunks finish in any order); a changed byte, a message more or
    less, or another recipient gives another digest.
    """
    lines = sorted(f"{m['email'].lower()}\t{m['message_id']}\t{m['sha256']}\n" for m in messages)
    return sha256_hex("".join(lines).encode("utf-8"))


def review_summary(
    messages: Sequence[Mapping[str, Any]], ranks: Mapping[int, str]
) -> dict[str, Any]:
    """Counts by language, the preflight's warnings, samples and recipients of a review.

    ``ranks`` gives each contact's rank (contact id -> rank) for the samples: one letter per
    language and rank, the first in recipient order.
    """
    by_language = Counter(m["language"] for m in messages)
    fallbacks = Counter(m["language"] for m in messages if m.get("is_fallback"))
    warnings: list[str] = []
    for m in messages:
        who = f"{m['email']} ({m['city']})"
        if m.get("is_fallback"):
            warnings.append(
                f"{who}: letter in {m['language']} instead of {m.get('requested_language', '?')}"
            )
        for v in m.get("mixed", []):
            warnings.append(
                f"{who}: {v['field']} printed in {v['used']} (letter in {v['language']})"
            )
        for problem in m.get("address_problems", []):
            warnings.append(f"{who}: form of address: {problem}")
    samples: dict[tuple[str, str], dict[str, Any]] = {}
    for m in messages:
        rank = ranks.get(m["contact_id"], "") or "—"
        samples.setdefault(
            (m["language"], rank),
            {
                "language": m["language"],
                "rank": rank,
                "email": m["email"],
                "city": m["city"],
                "letter": m["letter"],
            },
        )
    return {
        "messages": len(messages),
        "languages": {
            lang: {"letters": n, "fallback": fallbacks.get(lang, 0)}
            for lang, n in sorted(by_language.items())
        },
        "warnings": warnings,
        "samples": [samples[k] for k in sorted(samples)],
        "recipients": [
            {
                "email": m["email"],
                "city": m["city"],
                "language": m["language"],
                "reference": m.get("reference", ""),
            }
            for m in messages
        ],
    }


def _link(path: str) -> str:
    return f"[{Path(path).name}]({Path(path).resolve().as_uri()})"


def review_heading(
    *,
    event: str,
    purpose: str,
    summary: Mapping[str, Any],
    digest: str,
    expires: dt.datetime,
    send_at: dt.datetime | None,
    zone: dt.tzinfo,
) -> list[str]:
    """The first lines of a review: what would go out, its digest, and until when it waits."""
    noun = NOUNS.get(purpose, purpose)
    n = summary["messages"]
    lines = [
        f"# Review: {noun} for {event}",
        "",
        f"**{n} message(s)** in {len(summary['languages'])} language(s), "
        f"{len(summary['warnings'])} preflight warning(s). Nothing is sent until someone "
        "approves; on approval exactly these rendered messages go out.",
        "",
        f"- digest of the rendered messages: `{digest[:16]}`",
        f"- waits until {expires.astimezone(zone):%Y-%m-%d %H:%M %Z}; then it expires and "
        "nothing is sent",
    ]
    if send_at is not None:
        lines.append(f"- once approved, sends at {send_at.astimezone(zone):%Y-%m-%d %H:%M %Z}")
    return lines


def listed(lines: Sequence[str], more: str, *, limit: int = MAX_LISTED) -> list[str]:
    """``lines`` up to ``limit``; past it, one line: "… and N more <more>"."""
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], "", f"… and {len(lines) - limit:,} more {more}".rstrip()]


def recipients_csv(summary: Mapping[str, Any]) -> str:
    """Every recipient of a review, numbered as in its artifact (spreadsheet-safe CSV)."""
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\n")
    writer.writerow(["#", "city", "email", "language", "reference"])
    for n, r in enumerate(summary["recipients"], 1):
        writer.writerow([n, r["city"], r["email"], r["language"], r["reference"]])
    return out.getvalue()


def review_markdown(
    *,
    event: str,
    purpose: str,
    summary: Mapping[str, Any],
    digest: str,
    expires: dt.datetime,
    send_at: dt.datetime | None,
    zone: dt.tzinfo,
    full_list: str = "",
) -> str:
    """The review artifact: heading, counts by language, warnings, samples, recipients.

    Warnings and recipients past `MAX_LISTED` are counted (the UI's artifact stays small
    enough for Prefect to announce); ``full_list`` names the file that lists every one.
    """
    lines = review_heading(
        event=event,
        purpose=purpose,
        summary=summary,
        digest=digest,
        expires=expires,
        send_at=send_at,
        zone=zone,
    )
    lines += ["", "## By language", "", "| language | letters | in English instead |"]
    lines.append("|---|---:|---:|")
    for lang, counts in summary["languages"].items():
        lines.append(f"| {lang} | {counts['letters']} | {counts['fallback']} |")
    lines += ["", "## Preflight warnings", ""]
    where = f"(every one in {full_list})" if full_list else ""
    lines += listed([f"- {w}" for w in summary["warnings"]], where) or ["none"]
    lines += ["", "## Samples: one letter per language and rank", ""]
    lines += ["| language | rank | recipient | letter |", "|---|---|---|---|"]
    for s in summary["samples"]:
        lines.append(
            f"| {s['language']} | {s['rank']} | {s['email']} ({s['city']}) | {_link(s['letter'])} |"
        )
    lines += ["", "## Recipients", "", "| # | city | e-mail | language | reference |"]
    lines.append("|---:|---|---|---|---|")
    lines += listed(
        [
            f"| {n} | {r['city']} | {r['email']} | {r['language']} | {r['reference']} |"
            for n, r in enumerate(summary["recipients"], 1)
        ],
        where,
    )
    return "\n".join(lines) + "\n"


def form_description(heading: Sequence[str], artifact_key: str) -> str:
    """The text beside the approval form in the Prefect UI."""
    return "\n".join(
        [
            *heading,
            "",
            f"The whole review (languages, warnings, sample letters, recipients) is the "
            f"artifact `{artifact_key}` of this run.",
            "",
            "Choose **approve** to send exactly what was reviewed, or **reject** with a "
            "comment saying why; give your name.",
        ]
    )


def approval_status(
    decision: str,
    *,
    expires: dt.datetime,
    send_at: dt.datetime | None,
    sent: dt.datetime | None,
    now: dt.datetime,
) -> str:
    """What `amity approvals` says of a review: waiting, expired, scheduled, sent, …"""
    if decision == "pending":
        return "expired" if now >= expires else "waiting"
    if decision == "approved" and sent is None:
        return "scheduled" if send_at is not None and send_at > now else "approved"
    if decision == "approved":
        return "sent"
    return decision


def sign_off_markdown(rows: Sequence[Mapping[str, Any]], zone: dt.tzinfo) -> str:
    """The record of who approved or rejected what, for the event's report ("" if none)."""
    if not rows:
        return ""
    lines = [
        "## Sign-off before sending",
        "",
        "| messages | count | decision | by | when | comment | digest |",
        "|---|---:|---|---|---|---|---|",
    ]
    for r in rows:
        when = r["decided_dt"] or r["requested_dt"]
        lines.append(
            f"| {NOUNS.get(r['purpose'], r['purpose'])} | {r['messages']} | {r['status']} "
            f"| {r['decided_by'] or '—'} | {when.astimezone(zone):%Y-%m-%d %H:%M} "
            f"| {r['comment'] or ''} | `{r['digest'][:16]}` |"
        )
    return "\n".join(lines) + "\n"
