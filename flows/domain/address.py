"""Forms of address: the salutation and the address block of a letter, per language.

A protocol officer writes "Dear Mayor Williams," and "Monsieur le Maire,", never
"Dear Ms. Jane Doe," or "Madame, Monsieur," to a named mayor. This module holds what
they know: the rank words of 17 languages (data), and one small rule per language for
how a salutation and an address block are made from them. Templates print the result;
they never build a form of address themselves.

Inputs are what the partner's records say (:class:`Addressee`); the output
(:class:`AddressForm`) carries, next to the forms, the ``problems`` that keep them from
being correct (gender or family name not recorded, an English title in a French
letter ...). A caller shows those in preflight and may refuse to send.

Choices made here (each is what the office's protocol officers sign):

* The honorific as the records give it ("Ms.", "Sayın", "Господин", "H.E.") decides
  gender when the gender is not recorded, and may stand before the full name in the
  address block, never in the salutation.
* The salutation is ``""`` when no correct salutation can be made (a gendered language
  and no gender, a name form and no family name); ``problems`` says why. English is
  the exception the design asks for: "Dear Jane Doe," plus a problem. Japanese is
  always ``""``: 拝啓 opens the body.
* Words in a salutation always come from the tables below, never from the title as
  given: the title only selects which word ("Regierender Bürgermeister",
  "Ministre-Présidente", "Lord Mayor"); so casing and agreement stay right.
* Unknown gender: a rank title is given in the generic (masculine) form, the name line
  of a block carries no Ms/Madame/Frau.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from flows.domain.i18n import primary
from flows.domain.scripts import LANGUAGE_SCRIPTS, LATIN, scripts

RANKS: tuple[str, ...] = (
    "head_of_government",
    "governor",
    "vice_governor",
    "mayor",
    "deputy_mayor",
    "minister",
    "chair",
    "director",
    "official",
)
# head_of_government: Jefe de Gobierno (Buenos Aires), Premier (Gauteng), Chief Minister
#   (Canberra), Ministre-Présidente (Brussels); Regierender Bürgermeister is a mayor.
# minister: member of a city/regional government (Moscow minister, Consejero de Cultura).
# chair: chair/president of a council, assembly or committee.
# director: head of a department/division/office; official: anyone else.

GENDERS: tuple[str, ...] = ("female", "male", "")  # "" = not known

#: The languages with their own rules; any other language gets the English rules.
LANGUAGES: tuple[str, ...] = (
    "en",
    "zh",
    "ja",
    "ko",
    "es",
    "fr",
    "de",
    "ru",
    "ar",
    "pt",
    "it",
    "nl",
    "tr",
    "uk",
    "th",
    "vi",
    "id",
)

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "ru": "Russian",
    "ar": "Arabic",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "th": "Thai",
    "vi": "Vietnamese",
    "id": "Indonesian",
}


@dataclass(frozen=True)
class Addressee:
    """The person a letter is addressed to, as the partner's records give it."""

    lang: str  #: the letter's language (primary subtag: "en", "fr", ...)
    rank: str  #: one of RANKS, or "" when not recorded
    gender: str  #: one of GENDERS
    #: full name as printed in this letter (native script when the reader reads it, else Latin)
    name: str
    family_name: str  #: in the same script as ``name``; "" = not recorded
    honorific: str  #: as the records give it ("Excma. Sra.", "Her Worship", "H.E.", "閣下"...)
    title: str  #: the person's title as given, only if in the letter's language, else ""
    office: str  #: the person's office as given, same rule
    city: str  #: the partner city's name in the letter's language ("Lyon", "里昂", "Лион")
    salutation_override: str = ""  #: an organizer-recorded salutation: used verbatim


@dataclass(frozen=True)
class AddressForm:
    """A salutation and an address block, and what keeps them from being correct."""

    salutation: str  #: "Dear Mayor Williams," / "Monsieur le Maire," / "" (see module doc)
    block: tuple[str, ...]  #: address block lines, in the language's order
    problems: tuple[str, ...]  #: why the data cannot make a correct form; () when fine
    #: French only: the appel to repeat in the closing ("Je vous prie d’agréer,
    #: Madame la Maire, …"); "" in other languages or when there is no salutation.
    vocative: str = ""


# --- scripts ------------------------------------------------------------------------------

_LANGUAGE_SCRIPTS = LANGUAGE_SCRIPTS
_LATIN = LATIN
_scripts = scripts


def _language(lang: str) -> str:
    code = primary(lang)
    return code if code in LANGUAGES else "en"


def readable(text: str, lang: str) -> bool:
    """True when every letter of ``text`` is in a script readers of ``lang`` read natively.

    How a caller picks what goes into an :class:`Addressee`: the native name when
    ``readable(name_native, lang)``, else the Latin one; a title or office only when it
    is readable *and* in that language (a Latin-script title may still be in another
    language; the caller knows the contact's language, this function does not).
    """
    return _scripts(text) <= _LANGUAGE_SCRIPTS.get(_language(lang), _LATIN)


# --- gender from an honorific -------------------------------------------------------------

_FEMALE_HONORIFICS = frozenset(
    """ms mrs miss madam madame mme mlle mademoiselle her lady dame frau sra señora srta
    señorita doña dña d.ª excma ilma dra exma senhora sr.ª dona signora sig.ra sig.na dott.ssa
    prof.ssa mevrouw mevr mw госпожа г-жа пані paní pani bayan hanım hanımefendi ibu bu bà
    السيدة سيدة الدكتورة 女士 夫人 小姐 นาง นางสาว compañera doamna doamnă κυρία gospođa
    госпођа 여사 여사님""".split()  # noqa: SIM905 - a word list reads best as text
)
_MALE_HONORIFICS = frozenset(
    """mr mister sir lord his monsieur m herr herrn hr sr señor don excmo ilmo exmo senhor
    sig signor signore heer dhr meneer господин г-н пан pan bay bey beyefendi bapak pak bpk
    ông السيد سيد الدكتور 先生 นาย compañero domnul domn κύριος gospodin господине""".split()  # noqa: SIM905
)


def _tokens(honorific: str) -> tuple[str, ...]:
    return tuple(t.strip(".,;:").lower() for t in honorific.split() if t.strip(".,;:"))


def honorific_gender(honorific: str) -> str:
    """ "female"/"male" when the honorific says so ("Frau", "Excma. Sra.", "Господин"), else ""."""
    tokens = set(_tokens(honorific))
    female, male = bool(tokens & _FEMALE_HONORIFICS), bool(tokens & _MALE_HONORIFICS)
    if female == male:
        return ""
    return "female" if female else "male"


# --- family names -------------------------------------------------------------------------


def derive_family_name(name: str) -> str:
    """The family name when it is safe to tell from the name alone, else "".

    Safe means: exactly two space-separated parts, and either Latin script (given name
    first: "Jane Doe" -> "Doe") or Han/Kana/Hangul (family name first: "山田 花子" -> "山田").
    """
    parts = name.split()
    if len(parts) != 2:
        return ""
    scripts = _scripts(name)
    if scripts == _LATIN:
        return parts[1]
    if scripts and scripts <= {"Han", "Kana", "Hangul"}:
        return parts[0]
    return ""


# --- rank titles (data) -------------------------------------------------------------------

_HIGH = frozenset(RANKS[:7])  # ranks addressed by their office, not as a private person
_CITY_RANKS = frozenset(RANKS[:6])  # ranks whose title names the city


@dataclass(frozen=True)
class _Title:
    """A rank's title in one language: feminine and masculine (generic) forms, and how the
    city joins it: ``{t}`` the title, ``{city}`` the city, ``{of}`` the language's "of
    <city>" (elisions and articles done: "d’Ottawa", "del Cairo", "do Rio de Janeiro")."""

    female: str
    male: str
    pattern: str = "{t}"

    def form(self, gender: str) -> str:
        return self.female if gender == "female" else self.male


def _t(female: str, male: str = "", pattern: str = "{t}") -> _Title:
    return _Title(female, male or female, pattern)


_TITLES: dict[str, dict[str, _Title]] = {
    "en": {
        "head_of_government": _t("Head of Government", pattern="{t} {of}"),
        "governor": _t("Governor", pattern="{t} {of}"),
        "vice_governor": _t("Vice Governor", pattern="{t} {of}"),
        "mayor": _t("Mayor", pattern="{t} {of}"),
        "deputy_mayor": _t("Deputy Mayor", pattern="{t} {of}"),
        "minister": _t("Minister", pattern="{t}, Government {of}"),
        "chair": _t("Chair"),
        "director": _t("Director"),
    },
    "fr": {
        "head_of_government": _t("Première ministre", "Premier ministre", "{t} {of}"),
        "governor": _t("Gouverneure", "Gouverneur", "{t} {of}"),
        "vice_governor": _t("Vice-gouverneure", "Vice-gouverneur", "{t} {of}"),
        "mayor": _t("Maire", pattern="{t} {of}"),
        "deputy_mayor": _t("Maire adjointe", "Maire adjoint", "{t} {of}"),
        "minister": _t("Ministre", pattern="{t} du gouvernement {of}"),
        "chair": _t("Présidente", "Président"),
        "director": _t("Directrice", "Directeur"),
    },
    "de": {
        "head_of_government": _t("Ministerpräsidentin", "Ministerpräsident", "{t} von {city}"),
        "governor": _t("Gouverneurin", "Gouverneur", "{t} von {city}"),
        "vice_governor": _t("Vizegouverneurin", "Vizegouverneur", "{t} von {city}"),
        "mayor": _t("Oberbürgermeisterin", "Oberbürgermeister", "{t} der Stadt {city}"),
        "deputy_mayor": _t(
            "Stellvertretende Bürgermeisterin",
            "Stellvertretender Bürgermeister",
            "{t} der Stadt {city}",
        ),
        "minister": _t("Ministerin", "Minister", "{t} der Regierung von {city}"),
        "chair": _t("Präsidentin", "Präsident"),
        "director": _t("Direktorin", "Direktor"),
    },
    "es": {
        "head_of_government": _t("Jefa de Gobierno", "Jefe de Gobierno", "{t} {of}"),
        "governor": _t("Gobernadora", "Gobernador", "{t} {of}"),
        "vice_governor": _t("Vicegobernadora", "Vicegobernador", "{t} {of}"),
        "mayor": _t("Alcaldesa", "Alcalde", "{t} {of}"),
        "deputy_mayor": _t("Teniente de alcalde", pattern="{t} {of}"),
        "minister": _t("Ministra", "Ministro", "{t} del Gobierno {of}"),
        "chair": _t("Presidenta", "Presidente"),
        "director": _t("Directora", "Director"),
    },
    "pt": {
        "head_of_government": _t("Chefe de Governo", pattern="{t} {of}"),
        "governor": _t("Governadora", "Governador", "{t} {of}"),
        "vice_governor": _t("Vice-Governadora", "Vice-Governador", "{t} {of}"),
        "mayor": _t("Prefeita", "Prefeito", "{t} {of}"),
        "deputy_mayor": _t("Vice-Prefeita", "Vice-Prefeito", "{t} {of}"),
        "minister": _t("Ministra", "Ministro", "{t} do Governo {of}"),
        "chair": _t("Presidente"),
        "director": _t("Diretora", "Diretor"),
    },
    "it": {
        "head_of_government": _t("Presidente", pattern="{t} del Governo {of}"),
        "governor": _t("Governatrice", "Governatore", "{t} {of}"),
        "vice_governor": _t("Vicegovernatrice", "Vicegovernatore", "{t} {of}"),
        "mayor": _t("Sindaca", "Sindaco", "{t} {of}"),
        "deputy_mayor": _t("Vicesindaca", "Vicesindaco", "{t} {of}"),
        "minister": _t("Ministra", "Ministro", "{t} del Governo {of}"),
        "chair": _t("Presidente"),
        "director": _t("Direttrice", "Direttore"),
    },
    "nl": {
        "head_of_government": _t("Minister-president", pattern="{t} van {city}"),
        "governor": _t("Gouverneur", pattern="{t} van {city}"),
        "vice_governor": _t("Vicegouverneur", pattern="{t} van {city}"),
        "mayor": _t("Burgemeester", pattern="{t} van {city}"),
        "deputy_mayor": _t("Locoburgemeester", pattern="{t} van {city}"),
        "minister": _t("Minister", pattern="{t} in de regering van {city}"),
        "chair": _t("Voorzitter"),
        "director": _t("Directeur"),
    },
    "tr": {
        "head_of_government": _t("Hükümet Başkanı", pattern="{city} Hükümet Başkanı"),
        "governor": _t("Vali", pattern="{city} Valisi"),
        "vice_governor": _t("Vali Yardımcısı", pattern="{city} Vali Yardımcısı"),
        "mayor": _t("Belediye Başkanı", pattern="{city} Belediye Başkanı"),
        "deputy_mayor": _t(
            "Belediye Başkan Yardımcısı", pattern="{city} Belediye Başkan Yardımcısı"
        ),
        "minister": _t("Bakan", pattern="{city} Hükümeti Bakanı"),
        "chair": _t("Başkan"),
        "director": _t("Müdür"),
    },
    # Russian and Ukrainian: no city in the titles that would need it in the genitive
    # ("губернатор Гаутенга"); the office and city lines of the block name the place.
    "ru": {
        "head_of_government": _t("Глава правительства"),
        "governor": _t("Губернатор"),
        "vice_governor": _t("Вице-губернатор"),
        "mayor": _t("Мэр", pattern="{t} города {city}"),
        "deputy_mayor": _t("Заместитель мэра", pattern="{t} города {city}"),
        "minister": _t("Министр"),
        "chair": _t("Председатель"),
        "director": _t("Директор"),
    },
    "uk": {
        "head_of_government": _t("Голова уряду"),
        "governor": _t("Губернатор"),
        "vice_governor": _t("Віцегубернатор"),
        "mayor": _t("Міська голова", "Міський голова"),
        "deputy_mayor": _t("Заступниця міського голови", "Заступник міського голови"),
        "minister": _t("Міністр"),
        "chair": _t("Голова"),
        "director": _t("Директор"),
    },
    # Arabic: the governor keeps the masculine title for women, as Egypt writes it
    # («محافظة» would read as "governorate").
    "ar": {
        "head_of_government": _t("رئيسة حكومة", "رئيس حكومة", "{t} {city}"),
        "governor": _t("محافظ", pattern="{t} {city}"),
        "vice_governor": _t("نائبة محافظ", "نائب محافظ", "{t} {city}"),
        "mayor": _t("عمدة", pattern="{t} {city}"),
        "deputy_mayor": _t("نائبة عمدة", "نائب عمدة", "{t} {city}"),
        "minister": _t("وزيرة", "وزير", "{t} في حكومة {city}"),
        "chair": _t("رئيسة", "رئيس"),
        "director": _t("مديرة", "مدير"),
    },
    # zh/ja/ko: no generic title for a director (局长, 処長, 課長 ... depend on the unit).
    "zh": {
        "head_of_government": _t("行政长官", pattern="{city}{t}"),
        "governor": _t("省长", pattern="{city}{t}"),  # by the city's suffix, see _zh_governor
        "vice_governor": _t("副省长", pattern="{city}{t}"),
        "mayor": _t("市长", pattern="{city}{t}"),
        "deputy_mayor": _t("副市长", pattern="{city}{t}"),
        "minister": _t("部长", pattern="{city}政府{t}"),
        "chair": _t("主席"),
        "director": _t(""),
    },
    "ja": {
        "head_of_government": _t("首長", pattern="{city}{t}"),
        "governor": _t("知事", pattern="{city}{t}"),
        "vice_governor": _t("副知事", pattern="{city}{t}"),
        "mayor": _t("市長", pattern="{city}{t}"),  # 横浜市 + 市長 = 横浜市長, see _join_cjk
        "deputy_mayor": _t("副市長", pattern="{city}{t}"),
        "minister": _t("大臣", pattern="{city}政府{t}"),
        "chair": _t("議長"),
        "director": _t(""),
    },
    "ko": {
        "head_of_government": _t("행정수반", pattern="{city} {t}"),
        "governor": _t("주지사", pattern="{city} {t}"),  # 경기도 -> 경기도지사, see _join_cjk
        "vice_governor": _t("부지사", pattern="{city} {t}"),
        "mayor": _t("시장", pattern="{city} {t}"),  # 부산광역시 -> 부산광역시장
        "deputy_mayor": _t("부시장", pattern="{city} {t}"),
        "minister": _t("장관", pattern="{city} 정부 {t}"),
        "chair": _t("의장"),
        "director": _t(""),
    },
    "th": {
        "head_of_government": _t("หัวหน้ารัฐบาล", pattern="{t}{city}"),
        "governor": _t("ผู้ว่าราชการจังหวัด", pattern="{t}{city}"),  # กรุงเทพมหานคร: no จังหวัด
        "vice_governor": _t("รองผู้ว่าราชการจังหวัด", pattern="{t}{city}"),
        "mayor": _t("นายกเทศมนตรีนคร", pattern="{t}{city}"),
        "deputy_mayor": _t("รองนายกเทศมนตรีนคร", pattern="{t}{city}"),
        "minister": _t("รัฐมนตรีรัฐบาล", pattern="{t}{city}"),
        "chair": _t("ประธาน"),
        "director": _t("ผู้อำนวยการ"),
    },
    # Vietnamese: the head of a Vietnamese city or province is the Chair of its People's
    # Committee; that is whom a vi letter goes to.
    "vi": {
        "head_of_government": _t("Chủ tịch", pattern="{t} Ủy ban nhân dân {city}"),
        "governor": _t("Chủ tịch", pattern="{t} Ủy ban nhân dân tỉnh {city}"),
        "vice_governor": _t("Phó Chủ tịch", pattern="{t} Ủy ban nhân dân tỉnh {city}"),
        "mayor": _t("Chủ tịch", pattern="{t} Ủy ban nhân dân thành phố {city}"),
        "deputy_mayor": _t("Phó Chủ tịch", pattern="{t} Ủy ban nhân dân thành phố {city}"),
        "minister": _t("Bộ trưởng", pattern="{t} Chính quyền {city}"),
        "chair": _t("Chủ tịch"),
        "director": _t("Giám đốc"),
    },
    "id": {
        "head_of_government": _t("Kepala Pemerintahan", pattern="{t} {city}"),
        "governor": _t("Gubernur", pattern="{t} {city}"),
        "vice_governor": _t("Wakil Gubernur", pattern="{t} {city}"),
        "mayor": _t("Wali Kota", pattern="{t} {city}"),
        "deputy_mayor": _t("Wakil Wali Kota", pattern="{t} {city}"),
        "minister": _t("Menteri", pattern="{t} Pemerintah {city}"),
        "chair": _t("Ketua"),
        "director": _t("Direktur"),
    },
}

_VOWELS = frozenset("AEIOUÂÀÉÈÊËÎÏÔÖÛÙÜŒÆaeiouâàéèêëîïôöûùüœæ")


def _fr_of(city: str) -> str:
    # h is left alone: the foreign cities that begin with it are aspirated (de Hambourg)
    if city.startswith("Le "):
        return "du " + city[3:]
    if city.startswith("Les "):
        return "des " + city[4:]
    if city[:1] in _VOWELS:
        return "d’" + city
    return "de " + city


def _es_of(city: str) -> str:
    return "del " + city[3:] if city.startswith("El ") else "de " + city


# Portuguese names that take an article the name itself does not show
_PT_MASCULINE = frozenset({"Rio de Janeiro", "Porto", "Recife", "Cairo", "Rio Grande", "Funchal"})
_PT_FEMININE = frozenset({"Haia", "Cidade do México", "Cidade do Cabo", "Cidade da Praia"})


def _pt_of(city: str) -> str:
    if city in _PT_MASCULINE:
        return "do " + city
    if city in _PT_FEMININE:
        return "da " + city
    return "de " + city


def _it_of(city: str) -> str:
    for article, contracted in (
        ("L'", "dell'"),
        ("L’", "dell’"),
        ("La ", "della "),
        ("Il ", "del "),
    ):
        if city.startswith(article):
            return contracted + city[len(article) :]
    return "di " + city


_OF: dict[str, Callable[[str], str]] = {
    "en": lambda city: "of " + city,
    "fr": _fr_of,
    "es": _es_of,
    "pt": _pt_of,
    "it": _it_of,
}


def _zh_governor(city: str) -> tuple[str, str]:
    """(governor, vice governor) as Chinese calls the head of that kind of region."""
    if city.endswith(("都", "道", "府", "县")):  # Japanese prefectures: 东京都知事
        return "知事", "副知事"
    if city.endswith("州"):
        return "州长", "副州长"
    return "省长", "副省长"


def _join_cjk(lang: str, rank: str, title: str, city: str, pattern: str) -> str:
    """Titles that fuse with the city's own suffix: 横浜市長, 부산광역시장, 경기도지사."""
    if lang == "ja" and rank == "mayor" and city.endswith("市"):
        return city + "長"
    if lang == "ko" and rank == "mayor" and city.endswith("시"):
        return city + "장"
    if lang == "ko" and rank in ("governor", "vice_governor") and city.endswith("도"):
        return city + title.removeprefix("주")
    return pattern.format(t=title, city=city, of="")


def _compose(lang: str, rank: str, title: str, city: str) -> str:
    """A bare rank title joined with the city the way ``lang`` does it."""
    spec = _TITLES[lang].get(rank)
    if spec is None or not title:
        return ""
    if not city or ("{city}" not in spec.pattern and "{of}" not in spec.pattern):
        return title
    if lang in ("ja", "ko"):
        return _join_cjk(lang, rank, title, city, spec.pattern)
    if lang == "th" and rank in ("governor", "vice_governor") and city.startswith("กรุงเทพ"):
        title = title.removesuffix("จังหวัด")
    of = _OF.get(lang, lambda c: c)(city)
    return spec.pattern.format(t=title, city=city, of=of)


def rank_title(rank: str, gender: str, lang: str, city: str) -> str:
    """The rank's title in ``lang`` for ``city``: "Mayor of Lyon", "Maire de Lyon", "里昂市长".

    Feminine forms for ``gender == "female"``, the generic (masculine) form otherwise.
    "" for "official", an unknown rank, and a director in zh/ja/ko (no generic title).
    Russian and Ukrainian titles leave the city out unless it can stay in the nominative
    ("Мэр города Бишкек"); the block's office and city lines name the place.
    """
    lang = _language(lang)
    spec = _TITLES[lang].get(rank)
    if spec is None:
        return ""
    title = spec.form(gender)
    if lang == "zh" and rank in ("governor", "vice_governor"):
        title = _zh_governor(city)[rank == "vice_governor"]
    return _compose(lang, rank, title, city)


# --- salutation words (data) --------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    """A word a salutation addresses a rank by, in its feminine and masculine forms, with
    the (lower-case) title beginnings (endings in zh/ja/ko/tr) that select it."""

    female: str
    male: str
    match: tuple[str, ...] = ()

    def form(self, gender: str) -> str:
        return self.female if gender == "female" else self.male

    def matches(self) -> tuple[str, ...]:
        return (self.female.lower(), self.male.lower(), *self.match)


def _w(female: str, male: str = "", *match: str) -> _Word:
    return _Word(female, male or female, match)


# lang -> rank -> (default word or None, other words a given title may select)
_Words = dict[str, tuple[_Word | None, tuple[_Word, ...]]]
_WORDS: dict[str, _Words] = {
    "en": {
        "head_of_government": (
            None,
            (
                _w("Premier"),
                _w("Chief Minister"),
                _w("First Minister"),
                _w("Chief Executive"),
                _w("Chief Commissioner"),
                _w("Minister-President"),
            ),
        ),
        "governor": (_w("Governor"), ()),
        "vice_governor": (_w("Vice Governor"), (_w("Lieutenant Governor"), _w("Deputy Governor"))),
        "mayor": (_w("Mayor"), (_w("Lord Mayor"), _w("Lord Provost"))),
        "deputy_mayor": (_w("Deputy Mayor"), (_w("Deputy Lord Mayor"), _w("Vice Mayor"))),
        "minister": (_w("Minister"), ()),
    },
    "fr": {
        "head_of_government": (
            _w("Première ministre", "Premier ministre"),
            (
                _w("Ministre-Présidente", "Ministre-Président"),
                _w("Présidente", "Président"),
                _w("Cheffe du gouvernement", "Chef du gouvernement"),
            ),
        ),
        "governor": (_w("Gouverneure", "Gouverneur"), ()),
        "vice_governor": (_w("Vice-gouverneure", "Vice-gouverneur"), ()),
        "mayor": (_w("Maire"), (_w("Bourgmestre"), _w("Maire", "Maire", "mairesse"))),
        "deputy_mayor": (
            _w("Maire adjointe", "Maire adjoint"),
            (_w("Adjointe", "Adjoint"), _w("Échevine", "Échevin")),
        ),
        "minister": (_w("Ministre"), ()),
        "chair": (_w("Présidente", "Président"), ()),
        "director": (
            _w("Directrice", "Directeur"),
            (_w("Directrice générale", "Directeur général"),),
        ),
    },
    "de": {
        "head_of_government": (
            _w("Ministerpräsidentin", "Ministerpräsident"),
            (
                _w("Landeshauptfrau", "Landeshauptmann"),
                _w("Regierungschefin", "Regierungschef"),
                _w("Premierministerin", "Premierminister"),
            ),
        ),
        "governor": (_w("Gouverneurin", "Gouverneur"), ()),
        "vice_governor": (_w("Vizegouverneurin", "Vizegouverneur"), ()),
        "mayor": (
            _w("Oberbürgermeisterin", "Oberbürgermeister"),
            (
                _w("Regierende Bürgermeisterin", "Regierender Bürgermeister"),
                _w("Erste Bürgermeisterin", "Erster Bürgermeister"),
                _w("Bürgermeisterin", "Bürgermeister"),
                _w("Stadtpräsidentin", "Stadtpräsident"),
            ),
        ),
        "deputy_mayor": (
            _w(
                "Bürgermeisterin",
                "Bürgermeister",
                "stellvertretende bürgermeisterin",
                "stellvertretender bürgermeister",
                "stellvertretende oberbürgermeisterin",
                "stellvertretender oberbürgermeister",
            ),
            (_w("Vizebürgermeisterin", "Vizebürgermeister"),),
        ),
        "minister": (
            _w("Ministerin", "Minister"),
            (_w("Senatorin", "Senator"), _w("Staatsministerin", "Staatsminister")),
        ),
        "chair": (_w("Präsidentin", "Präsident"), (_w("Vorsitzende", "Vorsitzender"),)),
    },
    "es": {
        "head_of_government": (
            _w("jefa de Gobierno", "jefe de Gobierno"),
            (_w("presidenta", "presidente"),),
        ),
        "governor": (_w("gobernadora", "gobernador"), ()),
        "vice_governor": (_w("vicegobernadora", "vicegobernador"), ()),
        "mayor": (
            _w("alcaldesa", "alcalde"),
            (_w("intendenta", "intendente"), _w("presidenta municipal", "presidente municipal")),
        ),
        "deputy_mayor": (
            _w(
                "teniente de alcalde",
                "teniente de alcalde",
                "teniente alcalde",
                "tenienta de alcalde",
            ),
            (_w("vicealcaldesa", "vicealcalde"),),
        ),
        "minister": (
            _w("ministra", "ministro"),
            (_w("consejera", "consejero"), _w("secretaria", "secretario")),
        ),
        "chair": (_w("presidenta", "presidente"), ()),
        "director": (
            _w("directora", "director"),
            (_w("coordinadora", "coordinador"), _w("subdirectora", "subdirector")),
        ),
    },
    "pt": {
        "head_of_government": (_w("Chefe de Governo"), (_w("Presidente"),)),
        "governor": (_w("Governadora", "Governador"), ()),
        "vice_governor": (_w("Vice-Governadora", "Vice-Governador"), ()),
        "mayor": (_w("Prefeita", "Prefeito"), (_w("Presidente", "Presidente", "presidenta"),)),
        "deputy_mayor": (
            _w("Vice-Prefeita", "Vice-Prefeito"),
            (_w("Vice-Presidente", "Vice-Presidente", "vereadora", "vereador"),),
        ),
        "minister": (
            _w("Ministra", "Ministro"),
            (_w("Secretária", "Secretário", "secretaria", "secretario"),),
        ),
        "chair": (_w("Presidente", "Presidente", "presidenta"), ()),
        "director": (_w("Diretora", "Diretor"), (_w("Coordenadora", "Coordenador"),)),
    },
    "it": {
        "head_of_government": (_w("Presidente"), ()),
        "governor": (_w("Governatrice", "Governatore"), ()),
        "vice_governor": (_w("Vicegovernatrice", "Vicegovernatore"), ()),
        "mayor": (_w("Sindaca", "Sindaco"), ()),
        "deputy_mayor": (_w("Vicesindaca", "Vicesindaco"), ()),
        "minister": (_w("Ministra", "Ministro"), (_w("Assessora", "Assessore"),)),
        "chair": (_w("Presidente"), ()),
        "director": (_w("Direttrice", "Direttore"), (_w("Dirigente"),)),
    },
    # Dutch addresses these offices by the (epicene) office alone: "Geachte burgemeester,"
    "nl": {
        "head_of_government": (_w("minister-president"), ()),
        "governor": (
            _w("gouverneur"),
            (_w("commissaris", "commissaris", "commissaris van de koning"),),
        ),
        "mayor": (_w("burgemeester"), ()),
        "minister": (_w("minister"), (_w("wethouder"), _w("gedeputeerde"))),
        "chair": (_w("voorzitter"), ()),
    },
    # Turkish titles end in their head noun: "Belediye Başkanı" -> "Sayın Başkan,"
    "tr": {
        "head_of_government": (_w("Başkan", "Başkan", "başkanı"), ()),
        "governor": (_w("Vali", "Vali", "valisi"), ()),
        "vice_governor": (_w("Vali Yardımcısı", "Vali Yardımcısı", "vali yardımcısı"), ()),
        "mayor": (_w("Başkan", "Başkan", "başkanı"), ()),
        "deputy_mayor": (
            _w("Başkan Yardımcısı", "Başkan Yardımcısı", "başkan yardımcısı", "başkanvekili"),
            (),
        ),
        "minister": (_w("Bakan", "Bakan", "bakanı"), ()),
        "chair": (_w("Başkan", "Başkan", "başkanı"), ()),
    },
    "zh": {
        "head_of_government": (
            _w("行政长官"),
            (_w("首席部长"), _w("州长"), _w("省长"), _w("市长"), _w("首长")),
        ),
        "governor": (_w("省长"), (_w("知事"), _w("州长"), _w("府尹"))),
        "vice_governor": (_w("副省长"), (_w("副知事"), _w("副州长"))),
        "mayor": (_w("市长"), ()),
        "deputy_mayor": (_w("副市长"), ()),
        "minister": (_w("部长"), (_w("局长"),)),
        "chair": (_w("主席"), (_w("议长"), _w("委员长"))),
        "director": (
            None,
            (_w("主任"), _w("局长"), _w("处长"), _w("司长"), _w("署长"), _w("科长"), _w("课长")),
        ),
    },
    "ko": {
        "chair": (_w("의장"), (_w("위원장"), _w("회장"))),
        "director": (
            None,
            (
                _w("국장"),
                _w("과장"),
                _w("실장"),
                _w("본부장"),
                _w("처장"),
                _w("소장"),
                _w("부장"),
                _w("팀장"),
            ),
        ),
    },
    "vi": {
        "head_of_government": (_w("Chủ tịch"), (_w("Thị trưởng"),)),
        "governor": (_w("Chủ tịch"), (_w("Thống đốc"), _w("Tỉnh trưởng"))),
        "vice_governor": (_w("Phó Chủ tịch"), (_w("Phó Thống đốc"),)),
        "mayor": (_w("Chủ tịch"), (_w("Thị trưởng"),)),
        "deputy_mayor": (_w("Phó Chủ tịch"), (_w("Phó Thị trưởng"),)),
        "minister": (_w("Bộ trưởng"), (_w("Giám đốc Sở", "Giám đốc Sở", "giám đốc sở"),)),
        "chair": (_w("Chủ tịch"), ()),
        "director": (_w("Giám đốc"), (_w("Trưởng phòng"), _w("Chánh Văn phòng"))),
    },
}

_SUFFIX_MATCH = frozenset({"zh", "ja", "ko", "tr"})  # titles whose head noun comes last


def _word(lang: str, rank: str, title: str, gender: str, city: str) -> str | None:
    """The word the salutation addresses ``rank`` by, selected by the title when one
    of the words matches it; None when this language addresses the rank by name."""
    default, others = _WORDS.get(lang, {}).get(rank, (None, ()))
    if title:
        t = title.lower().strip()
        candidates = [w for w in (*others, default) if w is not None]
        best: tuple[int, _Word] | None = None
        for w in candidates:
            for key in w.matches():
                hit = t.endswith(key) if lang in _SUFFIX_MATCH else t.startswith(key)
                if hit and (best is None or len(key) > best[0]):
                    best = (len(key), w)
        if best is not None:
            return best[1].form(gender)
        if rank == "director":  # an unknown director's title: address by name, not "Director"
            return None
    if lang == "zh" and rank in ("governor", "vice_governor"):
        return _zh_governor(city)[rank == "vice_governor"]
    return default.form(gender) if default else None


#: Stands for the family name in the examples a problem quotes ("Dear Ms …,").
PLACEHOLDER = "…"

# --- the form being made ------------------------------------------------------------------

# Titles that are English words only: given in a French or Dutch letter, they are a data
# slip (a title recorded in English for a French-speaking contact), not a French title.
_EN_TITLE_WORDS = frozenset(
    (
        "mayor",
        "lord mayor",
        "deputy mayor",
        "deputy lord mayor",
        "governor",
        "lieutenant governor",
        "vice governor",
        "premier",
        "chief minister",
        "first minister",
        "head of government",
        "chair",
        "chairman",
        "chairwoman",
        "chairperson",
        "commissioner",
    )
)


@dataclass
class _Ctx:
    lang: str
    rank: str
    gender: str
    name: str
    family: str
    honorific: str
    title: str
    office: str
    city: str
    problems: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> tuple[str, ...]:
        return _tokens(self.honorific)

    @property
    def language(self) -> str:
        return LANGUAGE_NAMES[self.lang]

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def need_family(self, example: str) -> None:
        self.problem(
            f"family name not recorded (and not safely derivable from {self.name!r}): "
            f"{self.language} writes {example}"
        )

    def word(self, gender: str) -> str | None:
        return _word(self.lang, self.rank, self.title, gender, self.city)

    def block_title(self, gender: str) -> str:
        """The title line: the title as given (a bare rank word gets the city, 知事 ->
        東京都知事), else the rank's title."""
        spec = _TITLES[self.lang].get(self.rank)
        if self.title:
            if spec and self.title.lower() in (spec.female.lower(), spec.male.lower()):
                return _compose(self.lang, self.rank, self.title, self.city) or self.title
            return self.title
        return rank_title(self.rank, gender, self.lang, self.city)

    def given_name(self, last: bool) -> str:
        """The given name: the name without the family name, first or last word."""
        rest = self.name.replace(self.family, " ", 1) if self.family else self.name
        parts = rest.split()
        if not parts:
            return self.name
        return parts[-1] if last else parts[0]

    def initials(self) -> str:
        rest = self.name.replace(self.family, " ", 1) if self.family else ""
        return "".join(p[0] + "." for p in rest.replace("-", " ").split() if p[:1].isalpha())


def _lines(*lines: str) -> tuple[str, ...]:
    out: list[str] = []
    for line in lines:
        line = " ".join(line.split())
        if line and line not in out:
            out.append(line)
    return tuple(out)


# --- English ------------------------------------------------------------------------------


def _en_style(c: _Ctx) -> str:
    """The English style given as honorific: "he", "hon", "rthon", "worship" or ""."""
    h = c.honorific.lower().replace(".", "").strip()
    if h in ("he", "h e", "his excellency", "her excellency"):
        return "he"
    if h in ("rt hon", "the rt hon", "the right honourable", "the right honorable"):
        return "rthon"
    if h in ("hon", "the hon", "honourable", "the honourable", "honorable", "the honorable"):
        return "hon"
    if h in ("his worship", "her worship"):
        return "worship"
    return ""


def _en_courtesy(c: _Ctx, gender: str) -> str | None:
    tokens = c.tokens
    if "prof" in tokens or "professor" in tokens:
        return "Professor"
    if "dr" in tokens or "doctor" in tokens:
        return "Dr"
    if gender == "female":
        return "Mrs" if "mrs" in tokens else "Miss" if "miss" in tokens else "Ms"
    if gender == "male":
        return "Mr"
    return None


def _en_salutation(c: _Ctx, gender: str) -> str | None:
    if _en_style(c) == "he":
        return "Your Excellency,"
    word = c.word(gender)
    if word:
        if word.startswith(("Lord ", "Deputy Lord ")):  # "Dear Lord Mayor," takes no name
            return f"Dear {word},"
        if c.family:
            return f"Dear {word} {c.family},"
        c.need_family(f"'Dear {word} …,'")
        return f"Dear {word},"
    courtesy = _en_courtesy(c, gender)
    if courtesy is None:
        return None
    if c.family:
        return f"Dear {courtesy} {c.family},"
    c.need_family(f"'Dear {courtesy} …,'")
    return f"Dear {c.name},"


def _en_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    # Commonwealth usage (NZ, AU, UK): "Worship" is the style of the mayoral office, so it
    # leads the office line and the name follows on its own ("Her Worship the Mayor of
    # Wellington" / "Aroha Williams"); "Her Worship Aroha Williams" is not printed. Canada
    # also writes "Her Worship Aroha Williams, Mayor of Ottawa"; the office form is correct
    # everywhere. "The Hon." and "H.E." are personal styles and precede the full name.
    style = _en_style(c)
    title = c.block_title(gender)
    courtesy = _en_courtesy(c, gender)
    person = f"{courtesy} {c.name}" if courtesy else c.name
    if style == "worship" and c.rank in ("mayor", "deputy_mayor") and title:
        worship = " ".join(w.capitalize() for w in c.honorific.split())
        return _lines(f"{worship} the {title}", c.name, c.office, c.city)
    if style == "worship":
        person = " ".join(w.capitalize() for w in c.honorific.split()) + " " + c.name
    elif style == "he":
        person = f"H.E. {person}"
    elif style == "hon":
        person = f"The Hon. {c.name}"
    elif style == "rthon":
        person = f"The Rt Hon. {c.name}"
    return _lines(person, title, c.office, c.city)


# --- French -------------------------------------------------------------------------------


def _fr_appel(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    madame = "Madame" if gender == "female" else "Monsieur"
    word = c.word(gender)
    if not word:
        return madame
    article = "l’" if word[0] in _VOWELS else ("la " if gender == "female" else "le ")
    return f"{madame} {article}{word}"


def _fr_salutation(c: _Ctx, gender: str) -> str | None:
    appel = _fr_appel(c, gender)
    return appel + "," if appel else None


def _fr_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    h = c.honorific.lower().replace(".", "").strip()
    style = "Son Excellence " if h in ("se", "son excellence") else ""
    civil = {"female": "Madame ", "male": "Monsieur "}.get(gender, "")
    return _lines(f"{style}{civil}{c.name}", c.block_title(gender), c.office, c.city)


# --- German -------------------------------------------------------------------------------


def _de_academic(c: _Ctx) -> str:
    tokens = c.tokens
    return ("Prof. " if "prof" in tokens else "") + ("Dr. " if "dr" in tokens else "")


def _de_salutation(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    dear = "Sehr geehrte Frau" if gender == "female" else "Sehr geehrter Herr"
    word = c.word(gender)
    if word:
        return f"{dear} {word},"
    if c.family:
        return f"{dear} {_de_academic(c)}{c.family},"
    c.need_family(f"'{dear} …,'")
    return ""


def _de_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    civil = {"female": "Frau ", "male": "Herrn "}.get(gender, "")
    return _lines(f"{civil}{_de_academic(c)}{c.name}", c.block_title(gender), c.office, c.city)


# --- Spanish ------------------------------------------------------------------------------


def _es_salutation(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    dear = "Estimada señora" if gender == "female" else "Estimado señor"
    word = c.word(gender)
    if word:
        return f"{dear} {word}:"
    if c.family:
        return f"{dear} {c.family}:"
    c.need_family(f"'{dear} …:'")
    return ""


_ES_STYLES = {
    "excma": "Excelentísima Señora",
    "excmo": "Excelentísimo Señor",
    "ilma": "Ilustrísima Señora",
    "ilmo": "Ilustrísimo Señor",
}
_ES_KEEP = frozenset(
    {"compañera", "compañero", "lic", "lcda", "lcdo", "dr", "dra", "ing", "mtro", "mtra"}
)


def _es_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    tokens = c.tokens
    styles = [_ES_STYLES[t] for t in tokens if t in _ES_STYLES]
    if styles:
        person = f"{styles[0]} {c.name}"
    elif any(t in _ES_KEEP for t in tokens):  # as given: "Compañera", "Lic.", "Dra."
        person = f"{c.honorific.strip()} {c.name}"
    else:
        person = {"female": "Sra. ", "male": "Sr. "}.get(gender, "") + c.name
    return _lines(person, c.block_title(gender), c.office, c.city)


# --- Portuguese ---------------------------------------------------------------------------
# Brazilian usage (the Manual de Redação's address "A Sua Excelência o Senhor"), the variant
# of the office's Portuguese-speaking partner; "Excelentíssimo" in the salutation as the
# design asks, "Prezado" below the authorities that take it.


def _pt_salutation(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    f = gender == "female"
    word = c.word(gender)
    if c.rank in _HIGH and word:
        return f"{'Excelentíssima Senhora' if f else 'Excelentíssimo Senhor'} {word},"
    dear = "Prezada Senhora" if f else "Prezado Senhor"
    return f"{dear} {word}," if word else f"{dear},"


def _pt_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    excellency = c.rank in _HIGH or bool({"exma", "exmo", "excma", "excmo"} & set(c.tokens))
    if excellency:
        head = {"female": "A Sua Excelência a Senhora", "male": "A Sua Excelência o Senhor"}
        first = head.get(gender, "A Sua Excelência")
    else:
        first = {"female": "À Senhora", "male": "Ao Senhor"}.get(gender, "")
    return _lines(first, c.name, c.block_title(gender), c.office, c.city)


# --- Italian ------------------------------------------------------------------------------


def _it_salutation(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    f = gender == "female"
    word = c.word(gender)
    if c.rank in _HIGH and word:
        return f"{'Illustre Signora' if f else 'Illustre Signor'} {word},"
    if word:
        return f"Gentile {word},"
    if c.family:
        return f"{'Gentile Signora' if f else 'Gentile Signor'} {c.family},"
    c.need_family(f"'{'Gentile Signora' if f else 'Gentile Signor'} …,'")
    return ""


_IT_KEEP = {
    "on": "On.",
    "dott": "Dott.",
    "dott.ssa": "Dott.ssa",
    "prof": "Prof.",
    "prof.ssa": "Prof.ssa",
    "avv": "Avv.",
    "ing": "Ing.",
    "sen": "Sen.",
}


def _it_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    kept = [_IT_KEEP[t] for t in c.tokens if t in _IT_KEEP]
    prefix = kept[0] if kept else {"female": "Sig.ra", "male": "Sig."}.get(gender, "")
    return _lines(f"{prefix} {c.name}", c.block_title(gender), c.office, c.city)


# --- Dutch --------------------------------------------------------------------------------


def _nl_surname(family: str) -> str:
    """Without the given name, a Dutch tussenvoegsel takes a capital: "de Vries" -> "De Vries"."""
    return family[:1].upper() + family[1:]


def _nl_salutation(c: _Ctx, gender: str) -> str | None:
    word = c.word(gender)
    if word:
        return f"Geachte {word},"
    if gender and c.family:
        return f"Geachte {'mevrouw' if gender == 'female' else 'heer'} {_nl_surname(c.family)},"
    # Neither gender nor family name needed: the Dutch government's gender-neutral form.
    return f"Geachte {c.name},"


def _nl_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    civil = {"female": "Mevrouw ", "male": "De heer "}.get(gender, "")
    return _lines(f"{civil}{c.name}", c.block_title(gender), c.office, c.city)


# --- Turkish ------------------------------------------------------------------------------


def _tr_salutation(c: _Ctx, gender: str) -> str | None:
    word = c.word(gender)
    if word:
        return f"Sayın {word},"
    if c.family:
        return f"Sayın {c.family},"
    c.need_family("'Sayın …,'")
    return ""


def _tr_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    return _lines(f"Sayın {c.name}", c.block_title(gender), c.office, c.city)


# --- Russian and Ukrainian ----------------------------------------------------------------
# Russian: one rule for every rank, «Уважаемый господин …!» (lower-case господин,
# family name in the nominative, as the MFA writes to foreign officials). The address
# block is in the dative, as Russian and Ukrainian letters have it: «Мэру города Бишкек /
# господину И. Петрову». Declension is done for the endings that are regular; a name or
# title outside them stays as given.

_RU_CONSONANTS = frozenset("бвгджзклмнпрстфхцчшщ")


def _is_cyrillic(text: str) -> bool:
    return _scripts(text) == {"Cyrillic"}


def _ru_dative_surname(s: str, gender: str) -> str:
    if not _is_cyrillic(s):
        return s
    low = s.lower()
    if gender == "male":
        for end, repl in (("ский", "скому"), ("цкий", "цкому"), ("ой", "ому"), ("ый", "ому")):
            if low.endswith(end):
                return s[: -len(end)] + repl
        if low.endswith("ий"):
            return s[:-2] + ("ому" if low[-3:-2] in ("г", "к", "х") else "ему")
        if low[-1] in _RU_CONSONANTS:
            return s + "у"
        if low[-1] in "йь":
            return s[:-1] + "ю"
        if low[-1] == "а" and low[-2:-1] in _RU_CONSONANTS:
            return s[:-1] + "е"
        return s
    for end, repl in (("ская", "ской"), ("цкая", "цкой"), ("ая", "ой")):
        if low.endswith(end):
            return s[: -len(end)] + repl
    if low.endswith(("ова", "ева", "ёва", "ина", "ына")):
        return s[:-1] + "ой"
    if low[-1] == "а" and low[-2:-1] in _RU_CONSONANTS:
        return s[:-1] + "е"
    return s


def _ru_dative_title(title: str) -> str:
    """«Министр Правительства Москвы» -> «Министру Правительства Москвы»: the leading
    adjectives and the head noun go into the dative, the genitive complement stays."""
    words = title.split(" ")
    if not words or not _is_cyrillic(words[0]):
        return title
    out: list[str] = []
    i = 0
    while i < len(words) - 1 and words[i].lower().endswith(("ый", "ой", "ий")):
        w = words[i]
        soft = w.lower().endswith("ий") and w.lower()[-3:-2] not in ("г", "к", "х")
        out.append(w[:-2] + ("ему" if soft else "ому"))
        i += 1
    noun = words[i]
    low = noun.lower()
    if low[-1:] in _RU_CONSONANTS:
        noun += "у"
    elif low[-1:] in ("ь", "й"):
        noun = noun[:-1] + "ю"
    elif low[-1:] == "а":
        noun = noun[:-1] + "е"
    else:
        return title
    return " ".join([*out, noun, *words[i + 1 :]])


def _ru_salutation(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    dear = "Уважаемая госпожа" if gender == "female" else "Уважаемый господин"
    if c.family:
        return f"{dear} {c.family}!"
    c.need_family(f"'{dear} …!'")
    return ""


def _ru_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    title = c.block_title(gender)
    title = _ru_dative_title(title) if title else ""
    if gender and c.family:
        civil = "госпоже" if gender == "female" else "господину"
        person = f"{civil} {c.initials()} {_ru_dative_surname(c.family, gender)}"
    else:
        person = c.name
    return _lines(title, person, c.office, c.city)


def _uk_vocative_surname(s: str, gender: str) -> str:
    """Ukrainian addresses in the vocative: «пане Коваленку!»; women's surnames keep
    their form («пані Коваленко!»), and so do the men's outside the regular endings."""
    if gender != "male" or not _is_cyrillic(s):
        return s
    low = s.lower()
    if low.endswith(("ський", "цький", "ий", "ій")):
        return s
    if low.endswith("о"):
        return s[:-1] + "у"
    if low.endswith(("ич", "к")):
        return s + "у"
    if low.endswith(("ов", "ев", "єв", "ін", "ин", "їн")):
        return s + "е"
    return s


def _uk_dative_surname(s: str, gender: str) -> str:
    if not _is_cyrillic(s):
        return s
    low = s.lower()
    if gender == "male":
        for end, repl in (("ський", "ському"), ("цький", "цькому"), ("ий", "ому")):
            if low.endswith(end):
                return s[: -len(end)] + repl
        if low.endswith("о"):
            return s[:-1] + "у"
        if low[-1] in _RU_CONSONANTS:
            return s + "у"
        return s
    for end, repl in (("ська", "ській"), ("цька", "цькій")):
        if low.endswith(end):
            return s[: -len(end)] + repl
    if low.endswith(("ова", "ева", "єва", "іна", "ина", "їна")):
        return s[:-1] + "ій"
    return s


def _uk_dative_title(title: str) -> str:
    """«Міський голова» -> «Міському голові», «Губернатор» -> «Губернаторові»."""
    words = title.split(" ")
    if not words or not _is_cyrillic(words[0]):
        return title
    out: list[str] = []
    i = 0
    while i < len(words) - 1:
        low = words[i].lower()
        if low.endswith(("ий", "ій")):
            out.append(words[i][:-2] + "ому")
        elif low.endswith(("ська", "цька", "ька", "ша")):
            out.append(words[i][:-1] + "ій")
        else:
            break
        i += 1
    noun = words[i]
    low = noun.lower()
    if low[-1:] in ("а", "я"):  # голова -> голові, заступниця -> заступниці
        noun = noun[:-1] + "і"
    elif low[-1:] in _RU_CONSONANTS:
        noun += "ові"
    else:
        return title
    return " ".join([*out, noun, *words[i + 1 :]])


def _uk_salutation(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    dear = "Шановна пані" if gender == "female" else "Шановний пане"
    if c.family:
        return f"{dear} {_uk_vocative_surname(c.family, gender)}!"
    c.need_family(f"'{dear} …!'")
    return ""


def _uk_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    title = c.block_title(gender)
    title = _uk_dative_title(title) if title else ""
    if gender and c.family:
        civil = "пані" if gender == "female" else "пану"
        person = f"{civil} {c.initials()} {_uk_dative_surname(c.family, gender)}"
    else:
        person = c.name
    return _lines(title, person, c.office, c.city)


# --- Arabic -------------------------------------------------------------------------------
# Salutation by office: «معالي السيد محافظ القاهرة المحترم،». معالي for heads of government,
# governors and ministers; سعادة for mayors, deputies, chairs and directors; an official is
# «حضرة السيد المحترم،» (the block above names them). A style given in Arabic wins.

_AR_STYLES = ("فخامة", "دولة", "سمو", "معالي", "سعادة")
_AR_MAALI = frozenset({"head_of_government", "governor", "minister"})


def _ar_style(c: _Ctx) -> str:
    for style in _AR_STYLES:
        if style in c.honorific.split():
            return style
    if c.rank in _AR_MAALI:
        return "معالي"
    if c.rank in _HIGH or c.rank == "director":
        return "سعادة"
    return ""


def _ar_salutation(c: _Ctx, gender: str) -> str | None:
    if not gender:
        return None
    f = gender == "female"
    sayyid, respected = ("السيدة", "المحترمة") if f else ("السيد", "المحترم")
    style = _ar_style(c)
    title = c.title
    if not title and c.rank in (_HIGH | {"director"}):
        title = rank_title(c.rank, gender, "ar", c.city)
        if c.rank not in _CITY_RANKS:  # no city to join: the definite office, «المدير»
            title = "ال" + title
    if not style or not title:
        return f"حضرة {sayyid} {title} {respected}،".replace("  ", " ")
    return f"{style} {sayyid} {title} {respected}،"


def _ar_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    sayyid = {"female": "السيدة", "male": "السيد"}.get(gender, "")
    style = _ar_style(c)
    return _lines(f"{style} {sayyid} {c.name}", c.block_title(gender), c.office, c.city)


# --- Chinese ------------------------------------------------------------------------------
# 尊敬的 + 姓 + 职务 when the name is in Han script ("尊敬的王市长："; with no family name
# recorded the full name, "尊敬的王丽市长：", equally correct). A name in Latin script is not
# written in a Chinese salutation: an office holder is addressed by office and 阁下
# ("尊敬的惠灵顿市长阁下："), anyone else as 女士/先生 ("尊敬的女士：").


def _zh_salutation(c: _Ctx, gender: str) -> str | None:
    han = _scripts(c.name) <= {"Han"}
    word = c.word(gender)
    if han:
        who = c.family or c.name.replace(" ", "")
        if word:
            return f"尊敬的{who}{word}："
        if not gender:
            return None
        return f"尊敬的{who}{'女士' if gender == 'female' else '先生'}："
    if c.rank in _HIGH:
        return f"尊敬的{c.block_title(gender)}阁下："
    if not gender:
        return None
    return f"尊敬的{'女士' if gender == 'female' else '先生'}："


def _cjk_name(name: str, suffix: str) -> str:
    if not suffix:
        return name
    return f"{name}{suffix}" if _scripts(name) <= {"Han", "Kana"} else f"{name} {suffix}"


def _zh_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    suffix = "阁下" if c.rank in _HIGH else {"female": "女士", "male": "先生"}.get(gender, "")
    name = c.name.replace(" ", "") if _scripts(c.name) <= {"Han"} else c.name
    return _lines(c.office, c.block_title(gender), _cjk_name(name, suffix))


# --- Japanese -----------------------------------------------------------------------------
# No salutation (the body opens with 拝啓). 閣下 after the name of a governor, mayor, head
# of government or minister, 様 after anyone else's.

_JA_KAKKA = frozenset({"head_of_government", "governor", "mayor", "minister"})


def _ja_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    suffix = "閣下" if c.rank in _JA_KAKKA else "様"
    return _lines(c.office, c.block_title(gender), f"{c.name} {suffix}")


# --- Korean -------------------------------------------------------------------------------
# An office holder by office: "존경하는 부산광역시장님께"; a chair or director by name and
# office word, "존경하는 김지현 국장님께"; anyone else by full name, "존경하는 김지현 님께"
# (a Korean name is never shortened to the family name).


def _ko_salutation(c: _Ctx, gender: str) -> str | None:
    if c.rank in _CITY_RANKS:
        return f"존경하는 {c.block_title(gender)}님께"
    word = c.word(gender)
    if word:
        return f"존경하는 {c.name} {word}님께"
    return f"존경하는 {c.name} 님께"


def _ko_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    return _lines(c.office, c.block_title(gender), f"{c.name} 귀하")


# --- Thai ---------------------------------------------------------------------------------
# Thai official letters address the office: "เรียน ผู้ว่าราชการกรุงเทพมหานคร" (กราบเรียน is
# for the highest offices of the kingdom only); a person without an office by given name
# after คุณ: "เรียน คุณสมศรี". No punctuation after a Thai salutation.

_TH_ATTACHED = ("นาย", "นาง", "นางสาว", "คุณ", "ดร.")


def _th_salutation(c: _Ctx, gender: str) -> str | None:
    title = c.block_title(gender)
    if title:
        return f"เรียน {title}"
    given = c.given_name(last=False)
    return f"เรียน คุณ{given}" if _scripts(given) == {"Thai"} else f"เรียน คุณ {given}"


def _th_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    h = c.honorific.strip()
    if h in _TH_ATTACHED and _scripts(c.name) == {"Thai"}:
        person = h + c.name
    elif h and _scripts(h) == {"Thai"}:
        person = f"{h} {c.name}"  # ฯพณฯ
    else:
        person = c.name
    return _lines(person, c.block_title(gender), c.office, c.city)


# --- Vietnamese ---------------------------------------------------------------------------
# "Kính gửi Ông Chủ tịch," / "Kính gửi Bà Giám đốc,"; with the gender not recorded an
# office holder is "Ngài" (the neutral diplomatic form), a private person cannot be
# addressed. A person is named by the given name (the last word): "Kính gửi Bà Lan,".


def _vi_salutation(c: _Ctx, gender: str) -> str | None:
    word = c.word(gender)
    polite = {"female": "Bà", "male": "Ông"}.get(gender, "")
    if word:
        if not polite and c.rank not in _HIGH:
            return None
        return f"Kính gửi {polite or 'Ngài'} {word},"
    if not polite:
        return None
    return f"Kính gửi {polite} {c.given_name(last=True)},"


def _vi_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    polite = {"female": "Bà ", "male": "Ông "}.get(gender, "")
    return _lines(f"{polite}{c.name}", c.block_title(gender), c.office, c.city)


# --- Indonesian ---------------------------------------------------------------------------
# The salutation is always "Dengan hormat,"; the respect is in the block: "Yth. Ibu
# Gubernur Jawa Timur" / name / office / "di Surabaya". Without a gender, "Yth." + office
# is the form of the tata naskah dinas, so nothing is missing.


def _id_block(c: _Ctx, gender: str) -> tuple[str, ...]:
    polite = {"female": "Ibu ", "male": "Bapak "}.get(gender, "")
    title = c.block_title(gender)
    city = f"di {c.city}" if c.city else ""
    if title:
        return _lines(f"Yth. {polite}{title}", c.name, c.office, city)
    return _lines(f"Yth. {polite}{c.name}", c.office, city)


# --- dispatch -----------------------------------------------------------------------------

_Salute = Callable[[_Ctx, str], str | None]
_Block = Callable[[_Ctx, str], tuple[str, ...]]


def _none(c: _Ctx, gender: str) -> str | None:
    return ""


_RULES: dict[str, tuple[_Salute, _Block]] = {
    "en": (_en_salutation, _en_block),
    "fr": (_fr_salutation, _fr_block),
    "de": (_de_salutation, _de_block),
    "es": (_es_salutation, _es_block),
    "pt": (_pt_salutation, _pt_block),
    "it": (_it_salutation, _it_block),
    "nl": (_nl_salutation, _nl_block),
    "tr": (_tr_salutation, _tr_block),
    "ru": (_ru_salutation, _ru_block),
    "uk": (_uk_salutation, _uk_block),
    "ar": (_ar_salutation, _ar_block),
    "zh": (_zh_salutation, _zh_block),
    "ja": (_none, _ja_block),
    "ko": (_ko_salutation, _ko_block),
    "th": (_th_salutation, _th_block),
    "vi": (_vi_salutation, _vi_block),
    "id": (lambda c, g: "Dengan hormat,", _id_block),
}


def _context(a: Addressee, lang: str) -> _Ctx:
    c = _Ctx(
        lang=lang,
        rank=a.rank.strip(),
        gender=a.gender.strip(),
        name=" ".join(a.name.split()),
        family=" ".join(a.family_name.split()),
        honorific=" ".join(a.honorific.split()),
        title=" ".join(a.title.split()),
        office=" ".join(a.office.split()),
        city=" ".join(a.city.split()),
    )
    if not c.rank:
        c.problem("rank not recorded")
    elif c.rank not in RANKS:
        c.problem(f"unknown rank {c.rank!r} (one of: {', '.join(RANKS)})")
        c.rank = ""
    if c.gender not in GENDERS:
        c.problem(f"unknown gender {c.gender!r} (female, male or empty)")
        c.gender = ""
    said = honorific_gender(c.honorific)
    if not c.gender:
        c.gender = said
    elif said and said != c.gender:
        c.problem(f"gender {c.gender!r} contradicts the honorific {c.honorific!r}")
    if not c.name:
        c.problem("name not recorded")
    elif not _scripts(c.name) <= _LANGUAGE_SCRIPTS.get(lang, _LATIN) | _LATIN:
        c.problem(f"name {c.name!r} is in a script {c.language} readers do not read")
    if c.family and c.family not in c.name:
        c.problem(f"family name {c.family!r} does not occur in the name {c.name!r}; not used")
        c.family = ""
    if not c.family:
        c.family = derive_family_name(c.name)
    for what in ("title", "office"):
        value = getattr(c, what)
        if value and not readable(value, lang):
            c.problem(f"{what} {value!r} is not in {c.language} script; left out")
            setattr(c, what, "")
    if lang != "en" and c.title.lower() in _EN_TITLE_WORDS:
        c.problem(f"title {c.title!r} is English, not {c.language}; the {c.language} title is used")
        c.title = ""
    return c


def _without_repeats(block: tuple[str, ...]) -> tuple[str, ...]:
    """Drop a line an earlier line already says in full (the office inside the title line);
    the last line, the place of the postal address, always stays."""
    kept: list[str] = []
    for line in block[:-1]:
        if not any(line and line in earlier for earlier in kept):
            kept.append(line)
    return (*kept, *block[-1:])


def address_form(a: Addressee) -> AddressForm:
    """The salutation and address block for ``a`` in ``a.lang`` (English rules for a
    language outside LANGUAGES), and the problems that keep them from being correct."""
    lang = _language(a.lang)
    c = _context(a, lang)
    salute, make_block = _RULES[lang]
    block = _without_repeats(make_block(c, c.gender))
    if a.salutation_override.strip():
        salutation = a.salutation_override.strip()
        vocative = salutation.rstrip(",:!") if lang == "fr" else ""
        return AddressForm(salutation, block, (), vocative)
    said = salute(c, c.gender)
    if said is None:  # the language needs the gender here
        # both forms, with "…" for the family name: "господин Смирнова" is no example
        probe = dataclasses.replace(c, family=PLACEHOLDER, problems=[])
        female, male = salute(probe, "female") or "", salute(probe, "male") or ""
        c.problem(f"gender not recorded: {c.language} needs it for '{female}' / '{male}'")
        if not c.family and PLACEHOLDER in female + male:
            c.need_family(f"'{female}' / '{male}'")
        said = f"Dear {c.name}," if lang == "en" else ""
    vocative = said.rstrip(",") if lang == "fr" else ""
    return AddressForm(said, block, tuple(c.problems), vocative)
