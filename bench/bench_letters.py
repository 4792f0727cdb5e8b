"""Letter HTML rendering: 10,000 letters through render_letter vs a bare Jinja2 render.

The bare baseline renders the same templates (language module, fragment, page, text) from
contexts built once, so the ratio is the cost of building each letter's context (names,
Babel dates and zones, friendship year) on top of Jinja2 itself.

    .venv/bin/python bench/bench_letters.py [N]
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for the shared test fixtures

from markupsafe import Markup

from flows.domain import letters
from flows.domain.letters import make_environment, render_letter
from tests.flows.domain.letter_fixtures import letter_input, with_recipient

# the nine languages whose letters were measured before the rewrite, plus one fallback
CORE_LANGUAGES = ("zh", "en", "ja", "ko", "es", "fr", "de", "ru", "ar")


def inputs(n: int) -> list[letters.LetterInput]:
    langs = [*CORE_LANGUAGES, "el"]
    out = []
    for i in range(n):
        base = letter_input(langs[i % len(langs)], is_bilingual=i % 4 == 0)
        inp = with_recipient(base, name=f"Contact {i}", name_latin=f"Contact {i}")
        out.append(dataclasses.replace(inp, reference_number=i))
    return out


def bare(contexts: list[dict]) -> None:
    env = make_environment()
    fragment_t = env.get_template("fragment.html.j2")
    page_t = env.get_template("letter.html.j2")
    text_t = env.get_template("letter.txt.j2")
    for context in contexts:
        for version in context["versions"]:
            version["t"] = env.get_template(f"lang/{version['lang']}.txt.j2").make_module(
                {"v": version}
            )
        fragment = fragment_t.render(context)
        page_t.render(context, fragment=Markup(fragment))  # noqa: S704
        text_t.render(context)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    items = inputs(n)
    render_letter(items[0])  # load templates and Babel data once, outside the timings

    # contexts for the bare run: one per distinct (language, bilingual) pair, reused
    contexts = []
    for inp in items:
        _, lang, _ = letters.letter_language(inp.recipient.language)
        langs = [lang] + (["zh"] if inp.is_bilingual and lang != "zh" else [])
        versions = [
            letters._version(inp, code, is_primary=i == 0, fallbacks=[], problems=[])
            for i, code in enumerate(langs)
        ]
        contexts.append({"versions": versions, "primary": versions[0]})

    t0 = time.perf_counter()
    bare(contexts)
    t_bare = time.perf_counter() - t0

    t0 = time.perf_counter()
    for inp in items:
        render_letter(inp)
    t_full = time.perf_counter() - t0

    letters._times.cache_clear()
    t0 = time.perf_counter()
    for inp in items[:1000]:
        letters._times.cache_clear()  # every letter formats its dates and zones from scratch
        render_letter(inp)
    t_cold = (time.perf_counter() - t0) / min(n, 1000) * n

    print(f"letters: {n} (9 languages + 1 fallback, a quarter bilingual)")
    print(f"bare jinja2 render        : {t_bare:7.2f} s  {t_bare / n * 1000:6.3f} ms/letter")
    print(
        f"render_letter             : {t_full:7.2f} s  {t_full / n * 1000:6.3f} ms/letter"
        f"  ratio {t_full / t_bare:.2f}x"
    )
    print(
        f"render_letter, no time cache: {t_cold / n * 1000:6.3f} ms/letter"
        f"  ratio {t_cold / t_bare:.2f}x"
    )


if __name__ == "__main__":
    main()
