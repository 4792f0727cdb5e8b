from flows.domain.invitation_summary import InvitationSummary, language_report, mixed_letter_lines

SUMMARY = InvitationSummary(
    event="conference-2027",
    dry_run=True,
    fallbacks=[{"email": "a@athens.example.org", "city": "Athens", "wanted": "el", "got": "en"}],
    mixed=[
        {
            "email": "j@paris.example.org",
            "city": "Paris",
            "letter": "paris/j.pdf",
            "values": [{"language": "fr", "field": "event.venue", "used": "en"}],
        }
    ],
    address_problems=[
        {
            "email": "x@lyon.example.org",
            "city": "Lyon",
            "letter": "lyon/x.pdf",
            "problems": ["fr: gender not recorded"],
        }
    ],
)


def test_mixed_letter_lines_name_the_contact_field_and_language() -> None:
    assert mixed_letter_lines(SUMMARY) == [
        "j@paris.example.org (Paris): event.venue in en (letter in fr)",
        "x@lyon.example.org (Lyon): fr: gender not recorded",
    ]


def test_language_report_lists_each_kind_under_its_heading() -> None:
    assert language_report(SUMMARY).splitlines() == [
        "# Letters of conference-2027 to check",
        "",
        "## In English: no letter in the contact's language",
        "",
        "- a@athens.example.org (Athens): wanted `el`",
        "",
        "## Values printed in another language",
        "",
        "- j@paris.example.org (Paris): event.venue in `en` (letter `fr`)",
        "",
        "## Forms of address the data cannot make",
        "",
        "- x@lyon.example.org (Lyon): fr: gender not recorded",
    ]


def test_mixed_letter_lines_of_a_clean_run_are_empty() -> None:
    assert mixed_letter_lines(InvitationSummary(event="e", dry_run=False)) == []


def test_a_runs_result_lists_the_first_findings_and_counts_them_all() -> None:
    """The result is what Prefect walks and the terminal prints: the first few of each kind,
    the counts, every fallback language; the file lists every letter."""
    from flows.domain.review import RESULT_LISTED

    many = RESULT_LISTED + 5
    summary = InvitationSummary(
        event="e",
        dry_run=False,
        fallbacks=[
            {"email": f"{n}@x.example.org", "city": "X", "wanted": "el" if n < many - 1 else "hu"}
            for n in range(many)
        ],
        mixed=[{**SUMMARY.mixed[0], "email": f"{n}@paris.example.org"} for n in range(many)],
    )
    result = summary.to_dict()
    assert [len(result[k]) for k in ("fallbacks", "mixed", "address_problems")] == [
        RESULT_LISTED,
        RESULT_LISTED,
        0,
    ]
    assert result["counts"] == {"fallbacks": many, "mixed": many, "address_problems": 0}
    assert result["mixed"][0]["email"] == "0@paris.example.org"
    # Hungarian asked for by the last contact only, past the listed ones
    assert result["fallback_languages"] == ["el", "hu"]
