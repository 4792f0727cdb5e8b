"""How `amity invite` words its failures: a server down must not print 2,038 lines."""

from __future__ import annotations

from flows.cli.invitations import _failure_lines


def test_many_failures_with_one_reason_print_as_one_line() -> None:
    down = "cannot connect to smtp://127.0.0.1:1: [Errno 111] Connection refused"
    failed = [{"email": "a@x.org", "city": "A", "reason": down}] + [
        {"email": f"{n}@x.org", "city": "B", "reason": f"not tried: {down}"} for n in range(2037)
    ]
    refused = [{"email": "z@x.org", "city": "Z", "reason": "RCPT TO refused: 550 no such user"}]

    assert _failure_lines(failed + refused) == [
        f"2038 messages (a@x.org, 0@x.org, 1@x.org, …): {down}",
        "z@x.org (Z): RCPT TO refused: 550 no such user",
    ]
