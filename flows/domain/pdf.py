"""HTML to PDF with WeasyPrint (A4), one document or a batch over all cores.

Speed: WeasyPrint subsets every embedded font. With Debian's ``libharfbuzz-subset0`` it
uses HarfBuzz (tens of ms, even for the 20 MB Noto CJK collections); without it, it falls
back to fontTools and a CJK letter takes ~4 s. ``harfbuzz_subset_available()`` says which
path this machine takes. A page holding several ``<article class="letter …">`` (a letter and its
translation) is laid out one article at a time and the pages joined into one PDF, so that
each language version counts its own pages ("1 / 2" twice, not "3 / 4"): WeasyPrint's
``counter(pages)`` knows only the whole document. The batch path adds a process pool whose workers load WeasyPrint
and warm Pango's font cache once, then render chunks of letters.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# Used when the document sets no page size itself (author @page rules win over this one).
_DEFAULT_PAGE_CSS = "@page { size: A4; margin: 20mm; }"


@functools.lru_cache(maxsize=1)
def _default_stylesheet() -> Any:
    from weasyprint import CSS

    return CSS(string=_DEFAULT_PAGE_CSS)


def harfbuzz_subset_available() -> bool:
    """True when WeasyPrint subsets fonts with HarfBuzz (fast) rather than fontTools."""
    from weasyprint.text import ffi

    return ffi.harfbuzz_subset is not None


# Letter bodies escape every value, so "<article" appears only where a template wrote it.
_ARTICLE = re.compile(r'<article class="letter[ "]')


def split_documents(html: str) -> list[str]:
    """One standalone page per ``<article class="letter …">`` (the page itself when one)."""
    body = html.find("<body")
    starts = [m.start() for m in _ARTICLE.finditer(html, max(body, 0))]
    if len(starts) < 2:
        return [html]
    end = html.rindex("</article>") + len("</article>")
    head, tail = html[: starts[0]], html[end:]
    bounds = [*starts, end]
    return [head + html[a:b].rstrip() + tail for a, b in itertools.pairwise(bounds)]


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render one HTML document to PDF bytes (A4 unless the document's @page says otherwise)."""
    # Imported here: WeasyPrint loads Pango/HarfBuzz (~0.3 s), which callers that only
    # render HTML should not pay.
    from weasyprint import HTML

    stylesheets = [_default_stylesheet()]
    documents = [
        HTML(string=part, base_url=base_url).render(stylesheets=stylesheets)
        for part in split_documents(html)
    ]
    if len(documents) == 1:
        pdf = documents[0].write_pdf()
    else:
        pdf = documents[0].copy([page for doc in documents for page in doc.pages]).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return pdf


def _warm_up() -> None:
    # Loads fontconfig's and Pango's caches for the CJK, Arabic and Latin faces once per
    # worker instead of inside the first letters.
    html_to_pdf(
        '<p lang="zh">北京</p><p lang="ja">東京</p><p lang="ko">서울</p>'
        '<p lang="ar" dir="rtl">القاهرة</p><p>Paris Москва</p>'
    )


def _render_chunk(htmls: Sequence[str]) -> list[bytes]:
    return [html_to_pdf(html) for html in htmls]


def htmls_to_pdfs(
    htmls: list[str], *, workers: int | None = None, chunk_size: int = 8
) -> list[bytes]:
    """PDF bytes for each HTML document, in order, rendered by ``workers`` processes.

    ``workers`` defaults to the number of usable cores; ``workers=1`` (or a daemonic caller,
    such as a Dask worker process) renders in this process.
    """
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    workers = max(1, min(workers, len(htmls)))
    # A daemonic process (a Dask worker process: already one per core) may not start a
    # pool of its own; it renders its letters itself.
    if workers == 1 or multiprocessing.current_process().daemon:
        return _render_chunk(htmls)
    chunks = [htmls[i : i + chunk_size] for i in range(0, len(htmls), chunk_size)]
    # forkserver, not fork: the caller may be a Prefect worker with threads running, and
    # forking a threaded process can deadlock the child.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, initializer=_warm_up, mp_context=context) as pool:
        return [pdf for chunk in pool.map(_render_chunk, chunks) for pdf in chunk]
