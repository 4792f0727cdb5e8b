"""PDF letters: 1,000 letters, a third of them Chinese/Japanese/Korean, one PDF each.

Prints letters/s for the batch path (a process per core) and, as the baselines in the same
process, one core rendering sequentially and a few CJK letters through fontTools, the path
WeasyPrint falls back to when libharfbuzz-subset0 is missing.

    .venv/bin/python bench/bench_pdf.py [N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for the shared test fixtures

from flows.domain.letters import render_letter
from flows.domain.pdf import harfbuzz_subset_available, html_to_pdf, htmls_to_pdfs
from tests.flows.domain.letter_fixtures import letter_input, with_recipient

CJK = ["zh", "ja", "ko"]
OTHER = ["en", "es", "fr", "de", "ru", "ar"]


def letter_htmls(n: int) -> list[str]:
    htmls = []
    for i in range(n):
        lang = CJK[i % 3] if i % 3 == 0 else OTHER[i % len(OTHER)]
        inp = with_recipient(letter_input(lang, is_bilingual=i % 10 == 0), name_latin=f"C{i}")
        htmls.append(render_letter(inp).html)
    return htmls


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    cores = len(os.sched_getaffinity(0))
    print(
        f"harfbuzz-subset available: {harfbuzz_subset_available()}, cores: {cores}, "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )

    t0 = time.perf_counter()
    htmls = letter_htmls(n)
    print(f"HTML for {n} letters: {time.perf_counter() - t0:.2f} s")

    t0 = time.perf_counter()
    pdfs = htmls_to_pdfs(htmls)
    t_batch = time.perf_counter() - t0
    size = sum(map(len, pdfs)) / len(pdfs) / 1024
    print(
        f"batch, {cores} processes : {t_batch:7.2f} s  {n / t_batch:6.2f} letters/s"
        f"  ({size:.0f} KiB per PDF, pool start included)"
    )

    sample = htmls[:60]
    html_to_pdf(sample[1])  # warm fonts
    t0, c0 = time.perf_counter(), time.process_time()
    for html in sample:
        html_to_pdf(html)
    t_one = (time.perf_counter() - t0) / len(sample)
    cpu_one = (time.process_time() - c0) / len(sample)
    print(
        f"one core, sequential     : {t_one * 1000:7.1f} ms/letter  {1 / t_one:6.2f} letters/s"
        f"  batch speed-up {t_one * n / t_batch:.2f}x"
    )
    # On a shared machine the wall clock depends on the neighbours; CPU time does not.
    print(
        f"one core, CPU time       : {cpu_one * 1000:7.1f} ms/letter -> "
        f"{cores / cpu_one:.2f} letters/s on {cores} idle cores"
    )

    # The slow path, measured in this process: WeasyPrint's fontTools fallback.
    import weasyprint.pdf.fonts as wp_fonts

    saved, wp_fonts.harfbuzz_subset = wp_fonts.harfbuzz_subset, None
    try:
        cjk = [htmls[0], htmls[3], htmls[6]]  # zh, ja, ko
        t0 = time.perf_counter()
        for html in cjk:
            html_to_pdf(html)
        t_slow = (time.perf_counter() - t0) / len(cjk)
    finally:
        wp_fonts.harfbuzz_subset = saved
    t0 = time.perf_counter()
    for html in cjk:
        html_to_pdf(html)
    t_fast = (time.perf_counter() - t0) / len(cjk)
    print(f"CJK letter, fontTools    : {t_slow:7.2f} s/letter")
    print(
        f"CJK letter, HarfBuzz     : {t_fast:7.2f} s/letter"
        f"  fontTools/HarfBuzz {t_slow / t_fast:.0f}x"
    )


if __name__ == "__main__":
    main()
