"""Fixed, fictional letter inputs shared by the letter and PDF tests and the benchmarks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

from flows.domain.letters import EventInfo, Host, LetterInput, Recipient, Session


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


HOST = Host(
    office="北京市人民政府外事办公室",
    office_en="Foreign Affairs Office of the People's Government of Beijing Municipality",
    address="中国北京市通州区运河东大街57号",
    address_en="57 Yunhe East Street, Tongzhou District, Beijing, China",
    city="Beijing",
    city_native="北京",
    language="zh",
    signatory_name="王伟",
    signatory_title="主任",
    signatory_name_latin="Wang Wei",
    signatory_title_en="Director",
)

EVENT = EventInfo(
    titles={
        "en": "Beijing–Tokyo Urban Symposium",
        "zh": "北京—东京城市论坛",
        "ja": "北京・東京都市シンポジウム",
    },
    kind="symposium",
    series="Beijing–Tokyo Urban Symposium",
    edition=12,
    venue="Beijing International Hotel",
    venue_address="9 Jianguomennei Avenue, Dongcheng District, Beijing",
    timezone="Asia/Shanghai",
    start=utc(2025, 10, 14, 1, 30),
    end=utc(2025, 10, 16, 9, 0),
    sessions=(
        Session(
            "Urban construction",
            utc(2025, 10, 14, 1, 30),
            utc(2025, 10, 14, 4, 0),
            "Hall A",
            {"zh": "城市建设", "ja": "都市建設"},
        ),
        Session(
            "Urban administration",
            utc(2025, 10, 15, 1, 30),
            utc(2025, 10, 15, 4, 0),
            "Hall B",
            {"zh": "城市管理", "ja": "都市行政"},
        ),
        Session(
            "Population management",
            utc(2025, 10, 16, 6, 0),
            utc(2025, 10, 16, 9, 0),
            "Hall A",
            {"zh": "人口管理", "ja": "人口管理"},
        ),
    ),
)

# Fictional contacts, one per shipped language, plus one whose language is not shipped.
RECIPIENTS: dict[str, Recipient] = {
    "en": Recipient(
        "Jane Morgan", "Jane Morgan", "Deputy Mayor for International Affairs", "Ms.",
        "Office of the Mayor", "New York City", "New York City", "America/New_York", "en-US",
    ),
    "zh": Recipient(
        "李明", "Li Ming", "市长", "先生", "天津市人民政府", "Tianjin", "天津",
        "Asia/Shanghai", "zh-CN",
    ),
    "ja": Recipient(
        "山田花子", "Hanako Yamada", "東京都知事", "", "東京都庁", "Tokyo", "東京都",
        "Asia/Tokyo", "ja",
    ),
    "ko": Recipient(
        "김민준", "Kim Min-jun", "서울특별시장", "", "서울특별시청", "Seoul", "서울",
        "Asia/Seoul", "ko",
    ),
    "es": Recipient(
        "Lucía Fernández", "Lucía Fernández", "Alcaldesa de Lima", "Sra.",
        "Municipalidad Metropolitana de Lima", "Lima", "Lima", "America/Lima", "es-PE",
    ),
    "fr": Recipient(
        "Claire Dubois", "Claire Dubois", "Maire de Paris", "Madame", "Hôtel de Ville",
        "Paris", "Paris", "Europe/Paris", "fr",
    ),
    "de": Recipient(
        "Thomas Becker", "Thomas Becker", "Regierender Bürgermeister", "Herr",
        "Senatskanzlei Berlin", "Berlin", "Berlin", "Europe/Berlin", "de",
    ),
    "ru": Recipient(
        "Анна Петрова", "Anna Petrova", "Заместитель мэра Москвы", "госпожа",
        "Правительство Москвы", "Moscow", "Москва", "Europe/Moscow", "ru",
    ),
    "ar": Recipient(
        "أحمد حسن", "Ahmed Hassan", "محافظ القاهرة", "السيد", "محافظة القاهرة", "Cairo",
        "القاهرة", "Africa/Cairo", "ar",
    ),
    "sr": Recipient(
        "Марко Јовановић", "Marko Jovanović", "Градоначелник Београда", "господин",
        "Град Београд", "Belgrade", "Београд", "Europe/Belgrade", "sr",
    ),
}  # fmt: skip


def letter_input(lang: str, **changes: Any) -> LetterInput:
    base = LetterInput(
        recipient=RECIPIENTS[lang],
        host=HOST,
        event=EVENT,
        letter_date=date(2025, 9, 1),
        reference="BJ-FAO-2025-0142",
        is_bilingual=False,
        established_on=date(1979, 3, 14),
        precision="day",
        rsvp_by=date(2025, 9, 30),
    )
    return dataclasses.replace(base, **changes)


def with_recipient(inp: LetterInput, **changes: Any) -> LetterInput:
    return dataclasses.replace(inp, recipient=dataclasses.replace(inp.recipient, **changes))
