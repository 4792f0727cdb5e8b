"""The report's SVG charts: well-formed, proportional, readable text, deterministic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flows.domain.charts import bar_chart, funnel_chart, text_width, trend_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 -- our own SVG, not untrusted input


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def _bar_widths(root: ET.Element) -> list[float]:
    return [float(r.attrib["width"]) for r in root.iter(f"{SVG}rect")]


def test_funnel_chart_bars_proportional_to_first_stage() -> None:
    root = _parse(
        funnel_chart([("Invited", 200), ("Answered", 150), ("Accepted", 100), ("Attended", 50)],
                     title="Funnel", percent_of=lambda a, b: f"{100 * a // b}%")
    )  # fmt: skip

    assert _bar_widths(root) == [360.0, 270.0, 180.0, 90.0]
    assert _texts(root) == [
        "Funnel", "Invited", "200", "Answered", "150 (75%)", "Accepted", "100 (50%)",
        "Attended", "50 (25%)",
    ]  # fmt: skip


def test_funnel_chart_all_zero_draws_hairlines() -> None:
    root = _parse(funnel_chart([("Invited", 0), ("Attended", 0)], title="Empty"))

    assert _bar_widths(root) == [1.0, 1.0]


def test_bar_chart_folds_the_tail_into_others() -> None:
    items = [(f"Country {i:02}", 30 - i) for i in range(20)]

    root = _parse(bar_chart(items, title="By country", max_items=5, others="Others"))

    labels = _texts(root)[1::2]
    assert labels == ["Country 00", "Country 01", "Country 02", "Country 03", "Others"]
    assert _texts(root)[-1] == str(sum(30 - i for i in range(4, 20)))


def test_bar_chart_escapes_labels() -> None:
    svg = bar_chart([("<b>&</b>", 1)], title="A & B")

    assert _texts(_parse(svg)) == ["A & B", "<b>&</b>", "1"]
    assert "<b>" not in svg


def test_trend_chart_has_a_point_per_edition_and_series() -> None:
    root = _parse(
        trend_chart(["1", "2", "3"], [("Invited", [10, 20, 40]), ("Attended", [5, 8, 9])],
                    title="Trend")
    )  # fmt: skip

    assert len(list(root.iter(f"{SVG}circle"))) == 6
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    # the axis top is the next round number above the largest value
    assert "40" in _texts(root) and "50" not in _texts(root)


def test_trend_chart_single_edition_has_no_line() -> None:
    root = _parse(trend_chart(["第4届"], [("出席", [8])], title="历届情况"))

    assert (len(list(root.iter(f"{SVG}polyline"))), len(list(root.iter(f"{SVG}circle")))) == (0, 1)


def test_charts_same_input_same_bytes() -> None:
    def draw() -> str:
        return trend_chart(["a", "b"], [("x", [1, 3])], title="t") + bar_chart(
            [("日本", 2)], title="t"
        )

    assert draw() == draw()


def test_text_width_counts_cjk_as_full_em() -> None:
    assert (text_width("ab", 10), text_width("日本", 10)) == (12.0, 20.0)


def test_bar_chart_others_and_last_bars_come_after_the_named_ones() -> None:
    items = [(f"Country {i:02}", 10 - i) for i in range(6)]

    root = _parse(
        bar_chart(items, title="People", max_items=4, others="Other countries",
                  last=[("Country not recorded", 40)])
    )  # fmt: skip

    labels = _texts(root)[1::2]
    assert labels == ["Country 00", "Country 01", "Other countries", "Country not recorded"]
    assert _texts(root)[2::2] == ["10", "9", str(8 + 7 + 6 + 5), "40"]
