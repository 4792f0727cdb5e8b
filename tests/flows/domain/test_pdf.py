"""PDF letters: page size, the text a reader gets back, and the fonts actually embedded."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from flows.domain.letters import render_letter
from flows.domain.pdf import harfbuzz_subset_available, html_to_pdf, htmls_to_pdfs
from tests.flows.domain.letter_fixtures import letter_input

# pdftotext marks right-to-left runs with bidi controls; the words between them are what count
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return _BIDI_CONTROLS.sub("", out.stdout)


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[str]:
    """Embedded font names without their subset prefix ("ABCDEF+")."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return sorted(line.split()[0].split("+", 1)[-1] for line in out.stdout.splitlines()[2:])


def test_harfbuzz_subset_is_available() -> None:
    # Without libharfbuzz-subset0 WeasyPrint subsets with fontTools: ~4 s per CJK letter.
    assert harfbuzz_subset_available() is True


def test_html_to_pdf_defaults_to_a4(tmp_path: Path) -> None:
    path = tmp_path / "page.pdf"
    path.write_bytes(html_to_pdf("<p>Hello</p>"))

    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)

    assert "Page size:       595.276 x 841.89 pts (A4)" in info.stdout


@pytest.mark.parametrize(
    ("lang", "fonts", "phrases"),
    [
        (
            "ja",
            ["Noto-Serif-CJK-JP"],
            ["拝啓", "東京都知事", "敬具", "2027年北京国際友好都市大会へのご招待"],
        ),
        (
            "zh",
            ["Noto-Serif-CJK-SC"],
            ["邀请函", "天津市市长", "此致", "敬礼"],
        ),
        (
            "ko",
            ["Noto-Serif-CJK-KR"],
            ["초청장", "서울특별시장"],
        ),
    ],
)
def test_html_to_pdf_cjk_letter_embeds_noto_cjk_for_its_language(
    lang: str, fonts: list[str], phrases: list[str], tmp_path: Path
) -> None:
    pdf = html_to_pdf(render_letter(letter_input(lang)).html)

    text = pdf_text(pdf, tmp_path)

    assert pdf_fonts(pdf, tmp_path) == fonts
    assert [phrase in text for phrase in phrases] == [True] * len(phrases)


def test_html_to_pdf_arabic_letter_uses_naskh_and_keeps_the_words(tmp_path: Path) -> None:
    pdf = html_to_pdf(render_letter(letter_input("ar")).html)

    text = pdf_text(pdf, tmp_path)

    assert pdf_fonts(pdf, tmp_path) == [
        "Noto-Naskh-Arabic",
        "Noto-Naskh-Arabic-Bold",
        "Noto-Serif",
        "Noto-Serif-Bold",
    ]
    assert "محافظ القاهرة" in text
    assert "وتفضلوا بقبول فائق الاحترام والتقدير" in text


def test_html_to_pdf_russian_letter_uses_noto_serif(tmp_path: Path) -> None:
    pdf = html_to_pdf(render_letter(letter_input("ru")).html)

    assert pdf_fonts(pdf, tmp_path) == ["Noto-Serif", "Noto-Serif-Bold"]
    assert "Уважаемый господин Петров!" in pdf_text(pdf, tmp_path)


@pytest.mark.slow
def test_htmls_to_pdfs_keeps_the_order_across_workers(tmp_path: Path) -> None:
    htmls = [f"<p>document {i}</p>" for i in range(6)]

    pdfs = htmls_to_pdfs(htmls, workers=2, chunk_size=2)

    assert [pdf_text(pdf, tmp_path).strip() for pdf in pdfs] == [f"document {i}" for i in range(6)]
