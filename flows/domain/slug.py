"""The one way a name becomes part of a file name."""

import hashlib
import re
import unicodedata

_UNSAFE = re.compile(r"[^\w]+", re.UNICODE)
_MAX_LEN = 60


def slugify(text: str, *, max_len: int = _MAX_LEN, unique: bool = True) -> str:
    """Return a safe, readable, collision-resistant file-name part for ``text``.

    Latin text is transliterated to ASCII; other scripts keep their letters ("東京都" stays
    "東京都"). Path separators, dots and control characters never survive, and a short hash
    of the original text is appended whenever the readable part differs from the text
    lower-cased ("Île-de-France" -> "ile-de-france-01ffe8", "a/b" -> "a-b-3ec69c",
    "a b" -> "a-b-7dbde9"), so that they cannot clash; "tokyo" stays "tokyo".
    ``unique=False`` leaves the hash out, for handles that the database keeps unique
    (event slugs).
    """
    base = _words(text) if text.isascii() else _base(text)
    readable = _UNSAFE.sub("-", base.lower()).strip("-_")[:max_len].strip("-_")
    if not readable:
        readable = "x"
    if unique and readable != text.strip().lower():
        digest = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:6]
        return f"{readable}-{digest}"
    return readable


def _words(text: str) -> str:
    """The words of ``text`` apart: punctuation of any script (the en dash of
    "Beijing–Tokyo") separates them. Of ASCII text, also its `_base`: both normalisations
    leave it as it is (Message-IDs, most names)."""
    return _UNSAFE.sub(" ", text).strip()


def _base(text: str) -> str:
    """The words of ``text`` apart, in ASCII where that keeps its letters."""
    normalized = _words(unicodedata.normalize("NFKC", text))
    ascii_form = unicodedata.normalize("NFKD", normalized).encode("ascii", "ignore").decode()
    return ascii_form if _letters(ascii_form) >= _letters(normalized) else normalized


def _letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)
