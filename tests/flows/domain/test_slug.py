"""slugify: the one way a name becomes part of a file name."""

from __future__ import annotations

import pytest

from flows.domain.slug import slugify


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Rio de Janeiro", "rio-de-janeiro-03808d"),
        ("Île-de-France", "ile-de-france-01ffe8"),
        ("東京都", "東京都"),
        ("القاهرة", "القاهرة"),
        ("tokyo", "tokyo"),
        ("Beijing–Tokyo Urban Symposium", "beijing-tokyo-urban-symposium-607a6e"),
    ],
)
def test_slugify_names_of_every_script(name: str, expected: str) -> None:
    assert slugify(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Île-de-France", "ile-de-france"),
        ("Rio de Janeiro", "rio-de-janeiro"),
        ("12th Beijing–Tokyo Urban Symposium", "12th-beijing-tokyo-urban-symposium"),
    ],
)
def test_slugify_not_unique_leaves_the_hash_out(name: str, expected: str) -> None:
    assert slugify(name, unique=False) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../etc", "etc-380185"),
        ("..", "x-9d891e"),
        ("", "x-da39a3"),
    ],
)
def test_slugify_path_traversal_leaves_no_path(name: str, expected: str) -> None:
    assert slugify(name) == expected


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "..\\..\\boot.ini", "/etc/passwd", "a/./b", "x\x00y", ".hidden"]
)
def test_slugify_hostile_names_give_one_plain_file_name(name: str) -> None:
    slug = slugify(name)

    assert [c for c in slug if c in "/\\.\x00"] == []
    assert slug == slug.strip("-_")


def test_slugify_names_that_read_alike_do_not_clash() -> None:
    names = [
        "a/b",
        "a b",
        "a:b",
        "a-b",
        "Rio de Janeiro",
        "rio de janeiro",
        "Rio de Janeiro ",
        "Île-de-France",
        "ile-de-france",
        "../etc",
        "etc",
        "..",
        ".",
        "",
    ]

    slugs = [slugify(name) for name in names]

    assert len(set(slugs)) == len(names)


def test_slugify_long_name_is_cut_to_sixty_before_the_hash() -> None:
    assert slugify("Ciudad " * 20) == "ciudad-" * 8 + "ciud-48d5d0"


def test_slugify_ascii_short_way_equals_the_general_one() -> None:
    """ASCII text skips the normalisations: it must come out exactly as through them."""
    import random
    import string

    from flows.domain.slug import _base, _words

    rng = random.Random(7)
    alphabet = string.printable + "\x00\x01\x1c\x1f\x7f"
    texts = ["<invitation.1.abc@amity.example>", " a  b ", "\x1c x \x1f", "", "--", "_a_"]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(3000)]
    for text in texts:
        assert _words(text) == _base(text), repr(text)
