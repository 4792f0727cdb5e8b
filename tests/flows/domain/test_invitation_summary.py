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
