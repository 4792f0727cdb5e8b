"""PLACEHOLDER until the real flows/domain/address.py is copied from /work/main."""

from __future__ import annotations

from dataclasses import dataclass

RANKS = (
    "mayor",
    "governor",
    "deputy_mayor",
    "head_of_government",
    "minister",
    "director",
    "chair",
    "official",
)


@dataclass(frozen=True)
class Addressee:
    language: str
    rank: str
    gender: str
    name: str
    family_name: str
    honorific: str
    title: str
    office: str
    city: str
    salutation: str = ""


@dataclass(frozen=True)
class AddressForm:
    salutation: str
    block: tuple[str, ...]
    problems: tuple[str, ...]


def rank_title(rank: str, gender: str, lang: str, city: str) -> str:
    return f"{rank} ({lang})"


def address_form(a: Addressee) -> AddressForm:
    return AddressForm(
        a.salutation or f"Dear {a.name},",
        tuple(x for x in (a.name, a.title, a.office, a.city) if x),
        (),
    )
