"""Which scripts a text is written in, and which scripts the readers of a language read.

One rule for letters and forms of address: a native-script name, title or office is printed
only for readers who read its script (東京都 in a zh letter, Tokyo in a de letter).
"""

from __future__ import annotations

import functools
import unicodedata

#: scripts the readers of a language read natively; every other language reads Latin
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    "zh": frozenset({"Han"}),
    "ja": frozenset({"Han", "Kana"}),
    "ko": frozenset({"Hangul"}),  # Hanja is rare in modern Korean: 北京 becomes "Beijing"
    "ru": frozenset({"Cyrillic"}),
    "uk": frozenset({"Cyrillic"}),
    "ar": frozenset({"Arabic"}),
    "th": frozenset({"Thai"}),
}
LATIN = frozenset({"Latin"})


def script_of(ch: str) -> str | None:
    """The script of a letter ("Han", "Kana", "Latin", "Cyrillic"...); None for the rest."""
    if not (unicodedata.category(ch).startswith("L") or ch in "々〆・ー"):
        return None
    name = unicodedata.name(ch, "")
    if name.startswith(("CJK", "IDEOGRAPHIC")):
        return "Han"
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return "Kana"
    return name.split(" ", 1)[0].capitalize() or None


@functools.lru_cache(maxsize=4096)
def scripts(text: str) -> frozenset[str]:
    """Every script the letters of ``text`` are written in."""
    return frozenset(s for s in map(script_of, text) if s)


def reads(lang: str) -> frozenset[str]:
    """The scripts readers of ``lang`` (a primary subtag) read natively."""
    return LANGUAGE_SCRIPTS.get(lang, LATIN)


def fits(text: str, lang: str) -> bool:
    """True when every letter of ``text`` is in a script readers of ``lang`` read."""
    return scripts(text) <= reads(lang)
