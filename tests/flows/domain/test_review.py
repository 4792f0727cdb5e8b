"""The review a person reads before anything goes abroad, and the digest that binds a decision."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flows.domain.review import (
    approval_status,
    form_description,
    messages_digest,
    review_heading,
    review_markdown,
    review_summary,
    sign_off_markdown,
)
from tests.goldens import golden

NOW = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)


def _message(n: int, lang: str, *, city: str = "Tokyo", **extra: Any) -> dict[str, Any]:
    return {
        "contact_id": n,
        "email": f"person{n}@{city.lower()}.example.org",
        "city": city,
        "message_id": f"<m{n}@beijing.example.org>",
        "sha256": f"{n:064x}",
        "letter": f"/out/symposium/invitations/{city.lower()}/person{n}.pdf",
        "language": lang,
        "reference": f"BJFAO/2026/{n:04d}",
        **extra,
    }


MESSAGES = [
    _message(1, "ja"),
    _message(2, "ja"),
    _message(3, "en", city="Lima", is_fallback=True, requested_language="qu"),
    _message(
        4,
        "fr",
        city="Paris",
        mixed=[{"field": "venue", "used": "en", "language": "fr"}],
        address_problems=["no gender for the French salutation"],
    ),
]
RANKS = {1: "mayor", 2: "director", 3: "mayor", 4: "mayor"}


def test_messages_digest_ignores_order_and_sees_every_byte() -> None:
    same = messages_digest(list(reversed(MESSAGES)))
    changed = messages_digest([{**MESSAGES[0], "sha256": "f" * 64}, *MESSAGES[1:]])
    fewer = messages_digest(MESSAGES[1:])

    assert messages_digest(MESSAGES) == same
    assert len({same, changed, fewer}) == 3


def test_review_summary_counts_languages_lists_warnings_and_one_sample_per_language_and_rank() -> (
    None
):
    summary = review_summary(MESSAGES, RANKS)

    assert summary["messages"] == 4
    assert summary["languages"] == {
        "en": {"letters": 1, "fallback": 1},
        "fr": {"letters": 1, "fallback": 0},
        "ja": {"letters": 2, "fallback": 0},
    }
    assert summary["warnings"] == [
        "person3@lima.example.org (Lima): letter in en instead of qu",
        "person4@paris.example.org (Paris): venue printed in en (letter in fr)",
        "person4@paris.example.org (Paris): form of address: no gender for the French salutation",
    ]
    assert [(s["language"], s["rank"], s["email"]) for s in summary["samples"]] == [
        ("en", "mayor", "person3@lima.example.org"),
        ("fr", "mayor", "person4@paris.example.org"),
        ("ja", "director", "person2@tokyo.example.org"),
        ("ja", "mayor", "person1@tokyo.example.org"),
    ]
    assert [r["email"] for r in summary["recipients"]] == [m["email"] for m in MESSAGES]


def test_review_markdown_matches_golden() -> None:
    args: dict[str, Any] = {
        "event": "beijing-tokyo-urban-symposium-12",
        "purpose": "invitation",
        "summary": review_summary(MESSAGES, RANKS),
        "digest": messages_digest(MESSAGES),
        "expires": NOW + dt.timedelta(days=7),
        "send_at": dt.datetime(2027, 1, 10, 1, 0, tzinfo=dt.UTC),
        "zone": ZoneInfo("Asia/Shanghai"),
    }

    golden("review/review.md", review_markdown(**args))
    golden(
        "review/form.md",
        form_description(review_heading(**args), "review-beijing-tokyo-urban-symposium-12"),
    )


def test_approval_status_waits_expires_schedules_and_sends() -> None:
    later = NOW + dt.timedelta(days=1)
    expires = NOW + dt.timedelta(hours=1)

    def status(decision: str, **kw: Any) -> str:
        return approval_status(
            decision,
            expires=expires,
            send_at=kw.get("send_at"),
            sent=kw.get("sent"),
            now=kw.get("now", NOW),
        )

    assert status("pending") == "waiting"
    assert status("pending", now=expires) == "expired"
    assert status("approved", send_at=later) == "scheduled"
    assert status("approved") == "approved"
    assert status("approved", sent=NOW) == "sent"
    assert status("rejected") == "rejected"


def test_sign_off_markdown_lists_each_decision_with_its_digest() -> None:
    rows = [
        {
            "purpose": "invitation",
            "messages": 38,
            "status": "sent",
            "decided_by": "Wang Fang",
            "decided_dt": NOW,
            "requested_dt": NOW - dt.timedelta(hours=2),
            "comment": "read all 38",
            "digest": "ab" * 32,
        },
        {
            "purpose": "reminder",
            "messages": 5,
            "status": "rejected",
            "decided_by": "Li Hua",
            "decided_dt": NOW + dt.timedelta(days=1),
            "requested_dt": NOW,
            "comment": "too early",
            "digest": "cd" * 32,
        },
    ]

    assert sign_off_markdown([], ZoneInfo("Asia/Shanghai")) == ""
    assert sign_off_markdown(rows, ZoneInfo("Asia/Shanghai")).splitlines()[2:] == [
        "| messages | count | decision | by | when | comment | digest |",
        "|---|---:|---|---|---|---|---|",
        "| invitations | 38 | sent | Wang Fang | 2026-11-29 16:00 | read all 38 | `abababababababab` |",
        "| reminders of the invitation | 5 | rejected | Li Hua | 2026-11-30 16:00 | too early "
        "| `cdcdcdcdcdcdcdcd` |",
    ]
