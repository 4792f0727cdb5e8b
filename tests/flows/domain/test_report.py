"""The post-event report's figures and renderings, on a fixed fixture event."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from flows.domain.report import (
    CSV_COLUMNS,
    PDF_CONTACT_ROWS,
    PRINT_LIST_ROWS,
    Agreement,
    AttendanceFact,
    EditionFigures,
    EventFacts,
    FollowUp,
    Formatter,
    Funnel,
    InvitationFact,
    PlaceNames,
    ReportError,
    ReportInput,
    SessionFact,
    WalkIn,
    check_report,
    compute_report,
    render_pdf,
    render_report,
)
from tests.goldens import golden

NOW = datetime(2024, 10, 20, 9, 0, tzinfo=UTC)
GENERATED = datetime(2024, 10, 21, 8, 30, tzinfo=UTC)
SENT = datetime(2024, 8, 1, 2, 0, tzinfo=UTC)

# (id, name, e-mail, city, country, language, rsvp, hours to answer, attended, size, tie precision)
# fmt: off
_CONTACTS = [
    (1, "Sato Hanako", "sato@metro.tokyo.example", "Tokyo", "JP", "ja", "accepted", 20, True, 4, "day"),
    (2, "Suzuki Ichiro", "suzuki@metro.tokyo.example", "Tokyo", "JP", "ja", "accepted", 50, True, 2, "day"),
    (3, "Anna Schmidt", "schmidt@berlin.example", "Berlin", "DE", "de", "accepted", 30, True, 3, "day"),
    (4, "Jonas Weber", "weber@stadt-koeln.example", "Cologne", "DE", "de", "delegated", 100, None, 0, "day"),
    (5, "Claire Martin", "martin@paris.example", "Paris", "FR", "fr", "accepted", 200, False, 0, "day"),
    (6, "Irina Petrova", "petrova@mos.example", "Moscow", "RU", "ru", "tentative", 400, True, 2, "day"),
    (7, "Olena Kovalenko", "kovalenko@kyiv.example", "Kyiv", "UA", "uk", "needs-action", None, None, 0, "unknown"),
    (8, "Ahmed Khan", None, "Islamabad", "PK", None, "needs-action", None, None, 0, "unknown"),
    (9, "Kim Min-jun", "kim@seoul.example", "Seoul", "KR", "ko", "accepted", 10, True, 5, "day"),
    (10, "Nguyen Van An", "nguyen@hanoi.example", "Hanoi", "VN", "vi", "accepted", 70, None, 0, "month"),
    (11, "Mona Hassan", "hassan@cairo.example", "Cairo", "EG", "ar", "declined", 150, None, 0, "day"),
    (12, "Lucía Fernández", "fernandez@ba.example", "Buenos Aires", "AR", "es", "accepted", 300, True, 1, "day"),
    (13, "João Silva", "silva@rio.example", "Rio de Janeiro", "BR", "pt", "needs-action", None, None, 0, None),
    (14, "Emily Brown", "brown@nyc.example", "New York City", "US", "en", "accepted", 5, True, 6, "day"),
    (15, "Dan Miller | Jr.", "miller@dc.example", "Washington, D.C.", "US", "en", "declined", 800, True, 1, "year"),
]
# fmt: on

# City names as the registry holds them (City.names); Rio, Islamabad and Hanoi have none, so the
# report falls back to the native name in the reader's script, else the English one.
# fmt: off
_NAMES = {
    ("CN", "Beijing"): PlaceNames("Beijing", "北京", {"en": "Beijing", "zh": "北京", "ja": "北京"}),
    ("JP", "Tokyo"): PlaceNames("Tokyo", "東京都", {"zh": "东京", "ja": "東京"}),
    ("DE", "Berlin"): PlaceNames("Berlin", "Berlin", {"zh": "柏林", "ja": "ベルリン"}),
    ("DE", "Cologne"): PlaceNames("Cologne", "Köln", {"zh": "科隆", "ja": "ケルン"}),
    ("FR", "Paris"): PlaceNames("Paris", "Paris", {"zh": "巴黎", "ja": "パリ"}),
    ("RU", "Moscow"): PlaceNames("Moscow", "Москва", {"zh": "莫斯科", "ja": "モスクワ"}),
    ("UA", "Kyiv"): PlaceNames("Kyiv", "Київ", {"zh": "基辅", "ja": "キーウ"}),
    ("PK", "Islamabad"): PlaceNames("Islamabad", "اسلام آباد"),
    ("KR", "Seoul"): PlaceNames("Seoul", "서울", {"zh": "首尔", "ja": "ソウル"}),
    ("VN", "Hanoi"): PlaceNames("Hanoi", "Hà Nội"),
    ("EG", "Cairo"): PlaceNames("Cairo", "القاهرة", {"zh": "开罗", "ja": "カイロ"}),
    ("AR", "Buenos Aires"): PlaceNames("Buenos Aires", "Buenos Aires", {"zh": "布宜诺斯艾利斯", "ja": "ブエノスアイレス"}),
    ("US", "New York City"): PlaceNames("New York City", "New York City", {"zh": "纽约", "ja": "ニューヨーク"}),
    ("US", "Washington, D.C."): PlaceNames("Washington, D.C.", "Washington, D.C.", {"zh": "华盛顿", "ja": "ワシントンD.C."}),
    ("MN", "Ulaanbaatar"): PlaceNames("Ulaanbaatar", "Улаанбаатар", {"zh": "乌兰巴托", "ja": "ウランバートル"}),
}
# fmt: on


def fixture_input() -> ReportInput:
    """A 15-contact conference with every case the report distinguishes."""
    invitations = [
        InvitationFact(
            contact_id=cid,
            name=name,
            email=email,
            city=city,
            country=country,
            language=lang,
            rsvp=rsvp,
            sent_dt=SENT,
            rsvp_dt=None if hours is None else SENT + timedelta(hours=hours),
            sequence=1 if cid == 5 else 0,
            tie_precision=tie,
        )
        for cid, name, email, city, country, lang, rsvp, hours, _, _, tie in _CONTACTS
    ]
    attendance = [
        AttendanceFact(cid, attended, size if attended else 0, "on crutches" if cid == 2 else "")
        for cid, *_, attended, size, _ in _CONTACTS
        if attended is not None
    ]
    return ReportInput(
        event=EventFacts(
            slug="friendship-cities-conference-2024",
            title="Friendship Cities Conference 2024",
            kind="conference",
            series="Friendship Cities Conference",
            edition=4,
            host_city="Beijing",
            venue="Friendship Hotel, Hall 3",
            timezone="Asia/Shanghai",
            start_dt=datetime(2024, 9, 26, 1, 0, tzinfo=UTC),
            end_dt=datetime(2024, 9, 29, 9, 0, tzinfo=UTC),
            host_city_names=_NAMES[("CN", "Beijing")],
        ),
        city_names=_NAMES,
        invitations=invitations,
        attendance=attendance,
        walk_ins=[
            WalkIn("Bat-Erdene Dorj", "Ulaanbaatar", "MN", 3, "came with the Seoul delegation"),
            WalkIn("Unnamed guest", None, None, 1),
        ],
        sessions=[
            SessionFact(
                "Opening plenary",
                datetime(2024, 9, 26, 1, 0, tzinfo=UTC),
                datetime(2024, 9, 26, 3, 0, tzinfo=UTC),
                "Hall 3",
            ),
            SessionFact(
                "Urban management workshop",
                datetime(2024, 9, 27, 6, 0, tzinfo=UTC),
                datetime(2024, 9, 27, 8, 30, tzinfo=UTC),
                None,
            ),
        ],
        agreements=[
            Agreement(
                "Memorandum on urban data exchange", "Tokyo", "memorandum", date(2024, 9, 28)
            ),
            Agreement(
                "Youth exchange agreement 2025–2027", "Seoul", "agreement", date(2024, 9, 28)
            ),
        ],
        follow_ups=[
            FollowUp("Send the signed memorandum to Tokyo", "Li Wei", date(2024, 10, 15), "Tokyo"),
            FollowUp("Plan the 2025 youth exchange", "Zhang Min", date(2025, 1, 31), "Seoul"),
            FollowUp("Ask Kyiv for the date of the tie", "Li Wei", None, "Kyiv"),
        ],
        earlier_editions=[
            EditionFigures(1, date(2018, 9, 20), 8, 6, 5, 5),
            EditionFigures(2, date(2020, 10, 12), 10, 7, 6, 6),
            EditionFigures(3, date(2022, 9, 22), 12, 9, 7, 7),
        ],
    )


def test_compute_report_funnel_matches_fixture() -> None:
    report = compute_report(fixture_input(), now=NOW)

    f = report.funnel
    assert (f.invited, f.answered, f.accepted, f.declined, f.tentative, f.delegated) == (
        15,
        12,
        8,
        2,
        1,
        1,
    )
    assert f.no_answer == 3  # fmt: skip
    assert (f.attended, f.attended_unannounced, f.people) == (8, 2, 24)
    assert (report.partners_present, report.countries_present) == (7, 6)


def test_compute_report_per_city_sorted_by_attendance() -> None:
    report = compute_report(fixture_input(), now=NOW)

    assert [(g.label, g.attended, g.invited) for g in report.by_city[:3]] == [
        ("Tokyo", 2, 2),
        ("Buenos Aires", 1, 1),
        ("Berlin", 1, 1),
    ]
    assert [(g.label, g.invited, g.attended) for g in report.by_country[:3]] == [
        ("JP", 2, 2),
        ("US", 2, 2),
        ("DE", 2, 1),
    ]


def test_compute_report_lists_chase_no_shows_and_walk_ins() -> None:
    report = compute_report(fixture_input(), now=NOW)

    assert [(c.name, c.days_waiting) for c in report.to_chase] == [
        ("João Silva", 80),
        ("Ahmed Khan", 80),
        ("Olena Kovalenko", 80),
    ]
    assert [r.name for r in report.no_shows] == ["Claire Martin"]
    assert [w.name for w in report.walk_ins] == ["Bat-Erdene Dorj", "Unnamed guest"]
    assert report.delegation_people == 24 + 4


def test_compute_report_response_times() -> None:
    report = compute_report(fixture_input(), now=NOW)

    r = report.response
    assert (r.count, r.median_h, r.p90_h, r.fastest_h, r.slowest_h) == (12, 85.0, 400.0, 5.0, 800.0)
    assert r.buckets == (3, 3, 2, 2, 2)


def test_compute_report_editions_end_with_current() -> None:
    report = compute_report(fixture_input(), now=NOW)

    assert [(e.edition, e.invited, e.attended, e.is_current) for e in report.editions] == [
        (1, 8, 5, False),
        (2, 10, 6, False),
        (3, 12, 7, False),
        (4, 15, 8, True),
    ]
    assert report.editions[-1].start_date == date(2024, 9, 26)


def test_compute_report_quality_items() -> None:
    report = compute_report(fixture_input(), now=NOW)

    fmt = Formatter("en", "Asia/Shanghai", report.city_names)
    assert [(q.code, fmt.quality_subject(q)) for q in report.quality] == [
        ("accepted_no_attendance", "Nguyen Van An (Hanoi)"),
        ("attended_without_accepting", "Irina Petrova (Moscow)"),
        ("attended_without_accepting", "Dan Miller | Jr. (Washington, D.C.)"),
        ("contact_no_email", "Ahmed Khan (Islamabad)"),
        ("contact_no_language", "Ahmed Khan (Islamabad)"),
        ("tie_date_unknown", "Islamabad (Pakistan)"),
        ("tie_date_unknown", "Kyiv (Ukraine)"),
        ("walk_in_without_city", "Unnamed guest"),
    ]


def test_funnel_stages_not_adding_up_raises() -> None:
    with pytest.raises(ReportError, match="invited"):
        Funnel("Tokyo", "JP", invited=5, accepted=3, declined=1, tentative=0, delegated=0,
               no_answer=0, attended=2, attended_unannounced=0, people=2)  # fmt: skip


def test_funnel_more_attended_than_invited_raises() -> None:
    with pytest.raises(ReportError, match="attended"):
        Funnel("Tokyo", "JP", invited=2, accepted=2, declined=0, tentative=0, delegated=0,
               no_answer=0, attended=3, attended_unannounced=1, people=3)  # fmt: skip


def test_check_report_city_totals_not_matching_raises() -> None:
    report = compute_report(fixture_input(), now=NOW)
    tampered = dataclasses.replace(report, by_city=report.by_city[1:])

    with pytest.raises(ReportError, match="per-city invited add up to 13, total is 15"):
        check_report(tampered)


def test_compute_report_attendance_of_uninvited_contact_raises() -> None:
    data = fixture_input()
    data = dataclasses.replace(data, attendance=[*data.attendance, AttendanceFact(99, True, 1)])

    with pytest.raises(ReportError, match="contact 99, who was not invited"):
        compute_report(data, now=NOW)


def test_compute_report_duplicate_invitation_raises() -> None:
    data = fixture_input()
    data = dataclasses.replace(data, invitations=[*data.invitations, data.invitations[0]])

    with pytest.raises(ReportError, match="invited twice"):
        compute_report(data, now=NOW)


@pytest.mark.parametrize("lang", ["en", "zh", "ja"])
def test_render_report_markdown_matches_golden(lang: str) -> None:
    rendered = render_report(
        compute_report(fixture_input(), now=NOW), lang=lang, generated_dt=GENERATED
    )

    golden(f"reports/fixture.{lang}.md", rendered.markdown)


def test_render_report_csv_matches_golden() -> None:
    rendered = render_report(
        compute_report(fixture_input(), now=NOW), lang="en", generated_dt=GENERATED
    )

    golden("reports/fixture.csv", rendered.csv)


def test_render_report_csv_rows_match_figures() -> None:
    report = compute_report(fixture_input(), now=NOW)
    rows = list(
        csv.DictReader(io.StringIO(render_report(report, lang="zh", generated_dt=GENERATED).csv))
    )

    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == report.funnel.invited + len(report.walk_ins)
    assert (
        sum(r["attended"] == "yes" and r["kind"] == "invited" for r in rows)
        == report.funnel.attended
    )


def test_render_report_same_input_same_bytes_but_timestamp() -> None:
    a = render_report(compute_report(fixture_input(), now=NOW), lang="zh", generated_dt=GENERATED)
    b = render_report(compute_report(fixture_input(), now=NOW), lang="zh", generated_dt=GENERATED)
    later = render_report(
        compute_report(fixture_input(), now=NOW),
        lang="zh",
        generated_dt=GENERATED + timedelta(days=1),
    )

    assert (a.html, a.print_html, a.markdown, a.csv) == (b.html, b.print_html, b.markdown, b.csv)
    assert later.html != a.html
    assert later.html.replace("2024年10月22日", "2024年10月21日") == a.html


def test_render_report_html_is_self_contained() -> None:
    html = render_report(
        compute_report(fixture_input(), now=NOW), lang="en", generated_dt=GENERATED
    ).html

    assert html.count("<svg") == 3
    assert (
        "http://" in html.replace('xmlns="http://www.w3.org/2000/svg"', ""),
        "src=" in html,
    ) == (
        False,
        False,
    )


def test_render_report_html_escapes_names() -> None:
    data = fixture_input()
    evil = dataclasses.replace(data.invitations[0], name="<script>alert(1)</script>")
    data = dataclasses.replace(data, invitations=[evil, *data.invitations[1:]])

    html = render_report(compute_report(data, now=NOW), lang="en", generated_dt=GENERATED).html

    assert ("<script>" in html, "&lt;script&gt;alert(1)&lt;/script&gt;" in html) == (False, True)


def test_render_report_counts_bounced_invitations_after_those_to_chase() -> None:
    data = fixture_input()
    bounced = [dataclasses.replace(inv, is_bounced=True) for inv in data.invitations[:2]]
    data = dataclasses.replace(data, invitations=[*bounced, *data.invitations[2:]])

    report = compute_report(data, now=NOW)
    rendered = {
        lang: render_report(report, lang=lang, generated_dt=GENERATED) for lang in ("en", "zh")
    }

    assert report.bounced == 2
    en = rendered["en"].markdown
    assert en[en.index("| Olena Kovalenko") : en.index("## Accepted but")].splitlines() == [
        "| Olena Kovalenko | kovalenko@kyiv.example | Kyiv | Ukraine | 80 |",
        "",
        "2 invitations never arrived: the addresses bounced.",
        "",
    ]
    assert "<p>2 invitations never arrived: the addresses bounced.</p>" in rendered["en"].html
    assert "2份邀请未能送达：邮件地址被退信。" in rendered["zh"].markdown


def test_render_report_zh_formats_dates_and_countries_in_chinese() -> None:
    md = render_report(
        compute_report(fixture_input(), now=NOW), lang="zh", generated_dt=GENERATED
    ).markdown

    assert "活动总结报告 · 2024年9月26日\u2009–\u200929日 · 北京" in md
    assert "| 日本 | 2 | 2 | 2 | 2 | 6 |" in md
    assert "于2024年9月26日\u2009–\u200929日在北京举行。" in md
    assert "| 东京 | 日本 | 2 |" in md  # the registry's Chinese name
    assert "| 伊斯兰堡" not in md and "| Islamabad | 巴基斯坦 |" in md  # no zh name: English
    assert "Beijing" not in md  # the host city, in the summary and the header


def test_render_report_print_summarises_long_contact_list() -> None:
    data = fixture_input()
    many = [
        dataclasses.replace(data.invitations[3], contact_id=1000 + i, name=f"Guest {i}")
        for i in range(PDF_CONTACT_ROWS)
    ]
    data = dataclasses.replace(data, invitations=[*data.invitations, *many])

    rendered = render_report(compute_report(data, now=NOW), lang="en", generated_dt=GENERATED)

    assert ("Guest 7<" in rendered.html, "Guest 7<" in rendered.print_html) == (True, False)
    assert (
        f"The {15 + PDF_CONTACT_ROWS} invited contacts are listed one by one in the CSV file"
        in rendered.print_html
    )


def test_render_report_print_cuts_long_chase_list() -> None:
    data = fixture_input()
    many = [
        dataclasses.replace(data.invitations[12], contact_id=1000 + i, name=f"Guest {i:03}")
        for i in range(PDF_CONTACT_ROWS)
    ]
    data = dataclasses.replace(data, invitations=[*data.invitations, *many])

    rendered = render_report(compute_report(data, now=NOW), lang="en", generated_dt=GENERATED)

    assert (rendered.html.count("<td>Guest "), rendered.print_html.count("<td>Guest ")) == (
        PDF_CONTACT_ROWS * 2,  # the chase list and the contact table
        PRINT_LIST_ROWS,  # the chase list up to the limit; the guests sort first
    )
    more = f"… and {PDF_CONTACT_ROWS + 3 - PRINT_LIST_ROWS} more in the HTML report."
    assert (more in rendered.print_html, more in rendered.markdown) == (True, True)
    assert rendered.markdown.count("| Guest ") == PRINT_LIST_ROWS


def test_render_report_unknown_language_raises() -> None:
    with pytest.raises(ReportError, match="unsupported report language 'fr'"):
        render_report(compute_report(fixture_input(), now=NOW), lang="fr", generated_dt=GENERATED)


def test_render_pdf_has_cover_and_page_numbers_and_is_deterministic(tmp_path: Path) -> None:
    rendered = render_report(
        compute_report(fixture_input(), now=NOW), lang="zh", generated_dt=GENERATED
    )

    pdf = render_pdf(rendered)
    (tmp_path / "r.pdf").write_bytes(pdf)

    def page_text(page: int) -> str:
        args = [
            "pdftotext",
            "-f",
            str(page),
            "-l",
            str(page),
            "-layout",
            str(tmp_path / "r.pdf"),
            "-",
        ]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout

    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(tmp_path / "r.pdf")], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    cover, second = page_text(1), page_text(2)
    assert ("活动总结报告" in cover, "2024年9月26日 – 29日" in cover, " / " in cover) == (
        True,
        True,
        False,
    )
    assert re.search(rf"\b2 ?/ ?{pages}\b", second) is not None
    assert "从邀请到出席" in second  # the funnel chart's section, with CJK text from the SVG
    assert "邀请 → 回复 → 接受 → 出席" in second
    assert render_pdf(rendered) == pdf


def test_render_report_simulated_attendance_is_labelled_everywhere() -> None:
    data = fixture_input()
    fake = dataclasses.replace(data.attendance[0], is_simulated=True)
    data = dataclasses.replace(data, attendance=[fake, *data.attendance[1:]])

    rendered = render_report(compute_report(data, now=NOW), lang="en", generated_dt=GENERATED)

    warning = "Demo data: 1 attendance record is simulated. These figures describe no real event."
    assert (warning in rendered.html, warning in rendered.print_html) == (True, True)
    assert f"> **{warning}**" in rendered.markdown
    rows = list(csv.DictReader(io.StringIO(rendered.csv)))
    assert [r["name"] for r in rows if r["simulated"] == "yes"] == ["Sato Hanako"]


def _country_chart(rendered_html: str) -> str:
    return rendered_html.split("<svg", 3)[2]


def test_render_report_country_chart_counts_people_with_their_delegations() -> None:
    html = render_report(
        compute_report(fixture_input(), now=NOW), lang="en", generated_dt=GENERATED
    ).html

    chart = _country_chart(html)
    # Japan: two contacts came, with delegations of 4 and 2; the walk-in without a country last
    assert ">Japan</text>" in chart and ">6</text>" in chart
    labels = re.findall(r'text-anchor="end"[^>]*>([^<]+)</text>', chart)
    assert labels[0] == "United States" and labels[-1] == "Country not recorded"


def test_render_report_summary_plurals_follow_the_counts() -> None:
    data = fixture_input()
    data = dataclasses.replace(data, invitations=data.invitations[:1], attendance=data.attendance[:1],
                               walk_ins=[], agreements=data.agreements[:1])  # fmt: skip

    md = render_report(compute_report(data, now=NOW), lang="en", generated_dt=GENERATED).markdown

    assert "1 contact in 1 partner city of 1 country was invited" in md
    assert "from 1 partner city in 1 country. With their delegations and 0 walk-ins, 4 people" in md
    assert "1 agreement or memorandum was signed." in md
