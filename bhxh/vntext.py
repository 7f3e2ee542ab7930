"""Vietnamese text as a person typed it, made fit for a declaration: Unicode dựng sẵn (NFC),
legacy font encodings recognised and converted, and keys for finding the same name twice.

Three problems meet here:

- **Unicode tổ hợp (decomposed)**: macOS and some web forms write ``Nguyễn`` as ``e`` +
  U+0302 + U+0303 (16 code points for ``Nguyễn Văn An`` instead of 13). VSS software
  writes Unicode dựng sẵn (precomposed, TCVN 6909:2001), and the signed bytes must not
  depend on how a name was typed: :func:`normalize_text` returns NFC.
- **Legacy font encodings**: before Unicode, Vietnamese was typed with fonts whose byte
  values stood for Vietnamese letters: TCVN3 (ABC, TCVN 5712:1993, fonts ``.VnTime``...)
  and VNI-Windows (fonts ``VNI-Times``...). A workbook made that way, read as
  Windows-1252/Unicode, shows ``NguyÔn V¨n An`` (TCVN3) or ``Nguyeãn Vaên An`` (VNI) for
  ``Nguyễn Văn An``. :func:`detect_legacy` recognises such a cell and
  :func:`convert_legacy` converts it with the published code tables.
- **Duplicates**: the same worker typed precomposed and decomposed, in capitals, or with
  the old (``Hoà``, ``Thuý``) or new (``Hòa``, ``Thúy``) tone placement has one
  :func:`duplicate_key`.

Detection rule (:func:`detect_legacy`), built to give no false positive on genuine text:

1. NFC first. A string holding any Vietnamese letter outside Latin-1 (``ă đ ơ ư ĩ ũ`` and
   every letter of U+1EA0-U+1EF9 such as ``ễ ạ ộ``) is genuine Unicode: legacy text read
   as Windows-1252 only ever holds characters up to U+00FF, and every real Vietnamese name,
   title or address of more than a few letters has such a letter.
2. The words that the conversion would change (runs of letters and code characters
   holding at least one ASCII letter) are checked against Vietnamese syllable structure
   (initial consonant, rhyme, one tone mark, stop endings only with sắc/nặng, a sane
   letter case). The string is legacy-encoded when at least one changed word is not a
   Vietnamese syllable as read **and** every changed word is one after conversion. Genuine
   text made only of Latin-1 letters (``Công nhân may``, ``Hoà``) reads as valid syllables
   and is left alone; foreign words (``Café``, ``Nestlé``) do not become syllables when
   converted, so they are left alone too.

Example:
    >>> normalize_text("  Nguye\\u0302\\u0303n  Văn\\u00a0An ")
    'Nguyễn Văn An'
    >>> detect_legacy("NguyÔn V¨n An"), convert_legacy("NguyÔn V¨n An", "tcvn3")
    ('tcvn3', 'Nguyễn Văn An')
    >>> detect_legacy("Nguyeãn Vaên An"), convert_legacy("Nguyeãn Vaên An", "vni")
    ('vni', 'Nguyễn Văn An')
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from bhxh.errors import InputLocation

__all__ = [
    "LEGACY_NAMES",
    "LegacyConversion",
    "LegacyEncoding",
    "convert_legacy",
    "could_be_legacy",
    "detect_legacy",
    "duplicate_key",
    "encode_legacy",
    "fold_key",
    "is_vietnamese_syllable",
    "legacy_candidates",
    "normalize_person_text",
    "normalize_text",
]

LegacyEncoding = Literal["tcvn3", "vni"]

#: How each legacy encoding is named to a person.
LEGACY_NAMES: dict[str, str] = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI-Windows"}


@dataclass(frozen=True)
class LegacyConversion:
    """A value converted from a legacy encoding on request (``convert_legacy``): where it
    was (a workbook's cell, a declaration's element), from which encoding, before and
    after. The HR file reader and the inbox report the same record."""

    where: InputLocation
    encoding: LegacyEncoding
    original: str
    converted: str

    def describe(self) -> str:
        """Where and what: ``<where>: 'Ng\xabêi' -> 'Người' (TCVN3 (ABC))``."""
        name = LEGACY_NAMES[self.encoding]
        return f"{self.where.describe('vi')}: {self.original!r} -> {self.converted!r} ({name})"

    def sentence(self) -> str:
        """The log line, Vietnamese then English: ``đã chuyển mã <where>: ... — converted ...``."""
        name = LEGACY_NAMES[self.encoding]
        return (
            f"đã chuyển mã {self.where.describe('vi')}: {self.original!r} -> "
            f"{self.converted!r} ({name}) — converted {self.where.describe('en')}"
        )


# --- normalisation ----------------------------------------------------------------------

# Invisible characters that web pages and word processors leave inside names: zero-width
# space / non-joiner / joiner, word joiner, BOM. They are removed wherever they are.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Unicode whitespace (str.isspace: space, NBSP U+00A0, tabs, line breaks, U+2000-U+200A,
# U+202F, U+3000...). Not U+00AD (soft hyphen): it is TCVN3's "ư" and must reach detection.
_SPACES = re.compile(r"\s+")
# Text already as normalize_text returns it (single inner spaces, none around, nothing
# invisible): the common case, recognised without rebuilding the string.
_ALREADY_CLEAN = re.compile(
    r"[^\s\u200b\u200c\u200d\u2060\ufeff]+(?: [^\s\u200b\u200c\u200d\u2060\ufeff]+)*"
)


def normalize_text(value: str, *, collapse_spaces: bool = True) -> str:
    """Text as the declaration wants it: NFC, no surrounding or invisible spaces.

    Decisions (the portal documents none of this; our choice):

    - NFC (Unicode dựng sẵn), what VSS software writes.
    - Leading and trailing whitespace is removed, including NBSP (U+00A0), narrow NBSP
      and line breaks; zero-width characters (U+200B-U+200D, U+2060, U+FEFF) are removed
      everywhere.
    - Inside, every run of whitespace (spaces, NBSP, tabs, a line break typed with
      Alt+Enter in Excel) becomes one ordinary space: every D02-TS / TK1-TS text field is
      one line (a name, a title, an address, a note), and ``Nguyễn  Văn An`` with two
      spaces is the same name. ``collapse_spaces=False`` keeps the inner spaces as typed.
    - Nothing else changes: letter case, punctuation, the soft hyphen and the tone
      placement (``Hoà`` / ``Hòa``) stay as typed; :func:`duplicate_key` compares them.
    """
    if (
        collapse_spaces
        and _ALREADY_CLEAN.fullmatch(value)
        and (value.isascii() or unicodedata.is_normalized("NFC", value))
    ):
        return value
    text = unicodedata.normalize("NFC", value.translate(_INVISIBLE))
    if collapse_spaces:
        return _SPACES.sub(" ", text).strip()
    return text.strip()


_TONES = {
    "\u0300": "huyền",  # grave
    "\u0301": "sắc",  # acute
    "\u0303": "ngã",  # tilde
    "\u0309": "hỏi",  # hook above
    "\u0323": "nặng",  # dot below
}
_TONE_DIGIT = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}
_LETTER_RUN = re.compile(r"[^\W\d_]+", re.UNICODE)


def duplicate_key(value: str) -> str:
    """A key under which the same text typed differently compares equal.

    Equal keys: precomposed and decomposed (``Nguyễn`` / ``Nguye\\u0302\\u0303n``), any
    letter case, extra or non-breaking spaces, the old and new tone placement (``Hoà`` /
    ``Hòa``, ``Thuý`` / ``Thúy``), and the look-alike ``Ð`` (U+00D0) for ``Đ``. Different
    keys: different letters or tones (``Lê`` / ``Le``, ``Hoà`` / ``Hoa``).

    Example:
        >>> duplicate_key("NGUYỄN VĂN  AN") == duplicate_key("Nguye\\u0302\\u0303n Văn An")
        True
    """
    text = normalize_text(value).casefold().replace("ð", "đ")
    decomposed = unicodedata.normalize("NFD", text)

    def move_tone(match: re.Match[str]) -> str:
        word = match.group(0)
        tones = "".join(_TONE_DIGIT[c] for c in word if c in _TONE_DIGIT)
        base = "".join(c for c in word if c not in _TONE_DIGIT)
        return unicodedata.normalize("NFC", base) + (f"#{tones}" if tones else "")

    # A word here is a run of letters with their combining marks.
    return re.sub(r"(?:[^\W\d_][\u0300-\u036f]*)+", move_tone, decomposed)


def fold_key(value: str) -> str:
    """Case- and diacritics-insensitive key of a label (column headers, sheet names).

    ``"Họ và tên (*)"`` -> ``"hovaten"``; ``"HoTen"`` -> ``"hoten"``; ``đ`` folds to ``d``.
    """
    text = unicodedata.normalize("NFD", normalize_text(value).casefold())
    text = text.replace("đ", "d").replace("ð", "d")
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


# --- Vietnamese syllables ---------------------------------------------------------------

# ``kr`` and the final ``k`` occur in Central Highlands place names (Krông Pắc, Đắk Lắk).
_INITIALS = (
    *str.split("ngh ng gh gi ch kh kr nh ph th tr qu b c d đ g h k l m n p q r s t v x"),
    "",
)
# Rhymes without a final consonant.
_OPEN = frozenset(
    str.split(
        "a e ê i o ô ơ u ư y ai ao au âu ay ây eo êu ia iu oa oe oi ôi ơi ua uê ui uơ ưa ưi"
        " ưu uy iêu yêu oai oao oay oeo uây uôi ươi ươu uya uyu"
    )
)
# Nuclei before a final consonant; ch / nh only follow a, ê, i and their medial forms.
_BEFORE_CH_NH = frozenset(str.split("a ê i oa uê uy"))
_BEFORE_OTHER = frozenset(str.split("a ă â e ê i o ô ơ u ư oa oă oe uâ uê uy iê yê uô ươ uyê oo"))
_FINALS = ("ch", "nh", "ng", "c", "k", "m", "n", "p", "t")
_STOPS = ("c", "ch", "k", "p", "t")
_MARKED = set("ăâêôơư")
# Where the tone sits in an unmarked nucleus of an open syllable (index in the nucleus);
# oa, oe, uy take it on either vowel (old style hoà / thuý, new style hòa / thúy).
_OPEN_TONE = {"oa": {0, 1}, "oe": {0, 1}, "uy": {0, 1}, "oai": {1}, "oao": {1}, "oay": {1}}
_OPEN_TONE |= {"oeo": {1}, "uya": {1}, "uyu": {1}}
_VOWEL_BASES = set("aeiouy")
_QUALITY = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve, horn
_STOP_TONES = {"\u0301", "\u0323"}  # a syllable ending in c, ch, k, p, t is sắc or nặng


def _case_ok(word: str) -> bool:
    return word in (word.lower(), word.upper()) or (
        word[:1].isupper() and word[1:] == word[1:].lower()
    )


def _tone_places(nucleus: str, closed: bool) -> set[int]:
    """The positions in a nucleus where its tone mark may sit."""
    marked = [i for i, c in enumerate(nucleus) if c in _MARKED]
    if marked:
        return {marked[-1]}  # the marked vowel (the second one in ươ)
    if len(nucleus) == 1:
        return {0}
    if closed:
        return {len(nucleus) - 1}  # toán, huỳnh, xoóng
    return _OPEN_TONE.get(nucleus, {0})  # hái, kéo, mía, của


def _parses(toneless: str) -> Iterator[tuple[int, str, str]]:
    """Every (nucleus start, nucleus, final) reading of a toneless syllable."""
    for initial in _INITIALS:
        if not toneless.startswith(initial):
            continue
        rhyme = toneless[len(initial) :]
        if rhyme in _OPEN:
            yield len(initial), rhyme, ""
        for final in _FINALS:
            if rhyme.endswith(final) and len(rhyme) > len(final):
                nucleus = rhyme[: -len(final)]
                before = _BEFORE_CH_NH if final in ("ch", "nh") else _BEFORE_OTHER
                if nucleus in before:
                    yield len(initial), nucleus, final


def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` is spelled as a Vietnamese syllable (``Nguyễn``, ``trưởng``, ``Hoà``).

    Structure only: an initial consonant, a rhyme, at most one tone mark, sitting on the
    vowel that carries it (either one in oa, oe, uy), sắc or nặng on a syllable ending in
    c, ch, p, t, and lower / UPPER / Title case. It does not know whether the word exists.
    """
    if not word or not _case_ok(word):
        return False
    decomposed = unicodedata.normalize("NFD", word.lower())
    tone = ""
    tone_at = -1
    base: list[str] = []
    letters = 0
    letter = ""  # the last letter, the one a mark sits on
    for ch in decomposed:
        if ch in _TONES:
            if tone or letter not in _VOWEL_BASES:
                return False
            tone, tone_at = ch, letters - 1
        elif ch in _QUALITY:
            if letter not in _VOWEL_BASES:
                return False
            base.append(ch)
        elif unicodedata.combining(ch):
            return False
        else:
            letter = ch
            letters += 1
            base.append(ch)
    toneless = unicodedata.normalize("NFC", "".join(base))
    for start, nucleus, final in _parses(toneless):
        if final in _STOPS and tone not in _STOP_TONES:
            continue
        if tone and tone_at - start not in _tone_places(nucleus, bool(final)):
            continue
        return True
    return False


# --- legacy code tables -----------------------------------------------------------------

# TCVN3 (ABC), TCVN 5712:1993 VN3: one byte per lower-case letter; the only capitals with
# a code are Ă Â Ê Ô Ơ Ư Đ (capital toned letters were drawn with a second, capital font
# over the lower-case codes). Per base letter, tones in the table's order: huyền, hỏi,
# ngã, sắc, nặng.
_TCVN3_ROWS = (
    ("a", 0x00, (0xB5, 0xB6, 0xB7, 0xB8, 0xB9)),
    ("ă", 0xA8, (0xBB, 0xBC, 0xBD, 0xBE, 0xC6)),
    ("â", 0xA9, (0xC7, 0xC8, 0xC9, 0xCA, 0xCB)),
    ("e", 0x00, (0xCC, 0xCE, 0xCF, 0xD0, 0xD1)),
    ("ê", 0xAA, (0xD2, 0xD3, 0xD4, 0xD5, 0xD6)),
    ("i", 0x00, (0xD7, 0xD8, 0xDC, 0xDD, 0xDE)),
    ("o", 0x00, (0xDF, 0xE1, 0xE2, 0xE3, 0xE4)),
    ("ô", 0xAB, (0xE5, 0xE6, 0xE7, 0xE8, 0xE9)),
    ("ơ", 0xAC, (0xEA, 0xEB, 0xEC, 0xED, 0xEE)),
    ("u", 0x00, (0xEF, 0xF1, 0xF2, 0xF3, 0xF4)),
    ("ư", 0xAD, (0xF5, 0xF6, 0xF7, 0xF8, 0xF9)),
    ("y", 0x00, (0xFA, 0xFB, 0xFC, 0xFD, 0xFE)),
)
_TONE_ORDER = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # huyền hỏi ngã sắc nặng


def _toned(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", base) + tone)


def _tcvn3_table() -> dict[str, str]:
    table: dict[str, str] = {"\u00ae": "đ", "\u00a7": "Đ"}
    for base, plain, toned in _TCVN3_ROWS:
        if plain:
            table[chr(plain)] = base
        for tone, code in zip(_TONE_ORDER, toned, strict=True):
            table[chr(code)] = _toned(base, tone)
    for code, capital in zip(range(0xA1, 0xA7), "ĂÂÊÔƠƯ", strict=True):
        table[chr(code)] = capital
    return table


#: TCVN3 code (as the Windows-1252 / Latin-1 character it shows as) -> Unicode letter.
TCVN3_TO_UNICODE: dict[str, str] = _tcvn3_table()
_UNICODE_TO_TCVN3 = {v: k for k, v in TCVN3_TO_UNICODE.items()}
# Lower-case letters that TCVN3 writes with a code, and whose capital it cannot write.
_TCVN3_LOWER_ONLY = {k for k, v in TCVN3_TO_UNICODE.items() if v.islower() and v != "đ"} - {
    chr(c) for c in (0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD)
}

# VNI-Windows: a base letter followed by an accent byte, plus single bytes for some
# letters. Accent bytes, lower case (the capital's byte is 0x20 lower):
_VNI_TONE = {"\u0301": 0xF9, "\u0300": 0xF8, "\u0309": 0xFB, "\u0303": 0xF5, "\u0323": 0xEF}
_VNI_CIRC = {
    "": 0xE2,
    "\u0301": 0xE1,
    "\u0300": 0xE0,
    "\u0309": 0xE5,
    "\u0303": 0xE3,
    "\u0323": 0xE4,
}
_VNI_BREVE = {
    "": 0xEA,
    "\u0301": 0xE9,
    "\u0300": 0xE8,
    "\u0309": 0xFA,
    "\u0303": 0xFC,
    "\u0323": 0xEB,
}
# Single bytes: ơ ư đ, the toned i (í and ì are their own bytes) and ỵ.
_VNI_SINGLE = {
    "ơ": 0xF4,
    "ư": 0xF6,
    "đ": 0xF1,
    "í": 0xED,
    "ì": 0xEC,
    "ỉ": 0xE6,
    "ĩ": 0xF3,
    "ị": 0xF2,
    "ỵ": 0xEE,
}


def _vni_tables() -> tuple[dict[tuple[str, str], str], dict[str, str], dict[str, str]]:
    """(pair -> letter, single byte -> letter, letter -> VNI text), both cases."""
    pairs: dict[tuple[str, str], str] = {}
    singles: dict[str, str] = {}
    encode: dict[str, str] = {}

    def add_pair(base: str, accent: int, letter: str) -> None:
        for b, a, lt in (
            (base, chr(accent), letter),
            (base.upper(), chr(accent - 0x20), letter.upper()),
        ):
            pairs[(b, a)] = lt
            encode[lt] = b + a

    for vowel in "aeouy":
        for tone, byte in _VNI_TONE.items():
            if vowel == "y" and tone == "\u0323":
                continue  # ỵ is a single byte
            add_pair(vowel, byte, _toned(vowel, tone))
    for vowel, mark in (("a", "\u0302"), ("e", "\u0302"), ("o", "\u0302")):
        for tone, byte in _VNI_CIRC.items():
            add_pair(vowel, byte, _toned(_toned(vowel, mark), tone))
    for tone, byte in _VNI_BREVE.items():
        add_pair("a", byte, _toned(_toned("a", "\u0306"), tone))
    for letter, byte in _VNI_SINGLE.items():
        for lt, code in ((letter, byte), (letter.upper(), byte - 0x20)):
            singles[chr(code)] = lt
            encode[lt] = chr(code)
    # ơ and ư take tone bytes after their single byte.
    for letter in ("ơ", "ư"):
        for tone, byte in _VNI_TONE.items():
            base = chr(_VNI_SINGLE[letter])
            add_pair(base, byte, _toned(letter, tone))
    # í and ì are identical in both; keep the maps free of no-op entries for detection.
    for same in ("í", "ì", "Í", "Ì"):
        singles.pop(same)
    return pairs, singles, encode


_VNI_PAIRS, _VNI_SINGLES, _UNICODE_TO_VNI = _vni_tables()
_VNI_CODE_CHARS = {a for _, a in _VNI_PAIRS} | set(_VNI_SINGLES) | {b for b, _ in _VNI_PAIRS}
_TCVN3_CODE_CHARS = set(TCVN3_TO_UNICODE)

# Vietnamese letters outside Latin-1: genuine Unicode text, never legacy mojibake.
_BEYOND_LATIN1 = re.compile(r"[ĂăĐđĨĩŨũƠơƯư\u1ea0-\u1ef9\u0300-\u036f]")


def _vni_decode(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        letter = _VNI_PAIRS.get((ch, nxt)) or _VNI_PAIRS.get((ch, nxt.swapcase()))
        if letter is not None:
            if ch.isupper() != letter.isupper():
                letter = letter.swapcase()
            out.append(letter)
            i += 2
            continue
        out.append(_VNI_SINGLES.get(ch, ch))
        i += 1
    return "".join(out)


_TOKEN_CACHE: dict[str, re.Pattern[str]] = {}


def _tokens(text: str, codes: set[str]) -> list[tuple[int, int]]:
    """Spans of words: runs of letters and code characters (which may be symbols)."""
    key = "".join(sorted(codes))
    pattern = _TOKEN_CACHE.get(key)
    if pattern is None:
        extra = "".join(re.escape(c) for c in sorted(codes) if not c.isalpha())
        pattern = re.compile(rf"(?:[^\W\d_]|[{extra}])+" if extra else r"[^\W\d_]+")
        _TOKEN_CACHE[key] = pattern
    return [m.span() for m in pattern.finditer(text)]


def _is_evidence(word: str) -> bool:
    """Whether a word may tell legacy text from genuine: it holds an ASCII letter, or is
    more than one character (``§ç`` is TCVN3 ``Đỗ``; a lone ``·`` is punctuation)."""
    return len(word) > 1 or any("a" <= c.lower() <= "z" for c in word)


def _tcvn3_shape(word: str) -> str:
    """The letter case a TCVN3 word was typed in, as far as its codes can tell.

    Lower-case-only codes (toned letters, which have no capital in TCVN3) tell nothing:
    ``caps`` (a capital not only first: ``NGUYÔN``, ``¸I``), ``first`` (only the first
    letter is a capital: ``Tó`` is ``Tú`` or ``TÚ``), ``lower`` (a lower-case letter with
    a code of its own or ASCII), ``none`` (only lower-case-only codes: ``ý``).
    """
    capitals: list[int] = []
    for i, c in enumerate(word):
        if c in _TCVN3_LOWER_ONLY:
            continue
        letter = TCVN3_TO_UNICODE.get(c, c)
        if letter.islower():
            return "lower"
        if letter.isupper():
            capitals.append(i)
    if not capitals:
        return "none"
    return "first" if capitals == [0] else "caps"


def _tcvn3_words(text: str) -> list[tuple[tuple[int, int], str, str]]:
    """(span, word, converted word) for every word of a TCVN3 text, with its case."""
    spans = _tokens(text, _TCVN3_CODE_CHARS)
    words = [text[a:b] for a, b in spans]
    shapes = [_tcvn3_shape(w) for w in words]
    caps_text = "caps" in shapes and "lower" not in shapes
    out: list[tuple[tuple[int, int], str, str]] = []
    converted: list[str] = []
    for index, (span, word, shape) in enumerate(zip(spans, words, shapes, strict=True)):
        new = "".join(TCVN3_TO_UNICODE.get(c, c) for c in word)
        if shape == "caps" or (caps_text and shape in ("first", "none")):
            new = new.upper()  # ``LÊ TÚ``: ``Tó`` alone cannot say it is in capitals
        elif word[:1] in _TCVN3_LOWER_ONLY:
            # A capital toned letter TCVN3 cannot write (``Ánh``): the typist used a
            # capital font for it. Our choice: a word beginning with such a letter is
            # capitalised when it begins the text or sits between capitalised words.
            prev = converted[-1] if converted else ""
            after = words[index + 1] if index + 1 < len(words) else ""
            after_capital = after[:1] in _TCVN3_LOWER_ONLY or (
                TCVN3_TO_UNICODE.get(after[:1], after[:1]).isupper()
            )
            if index == 0 or (prev[:1].isupper() and (not after or after_capital)):
                new = new[:1].upper() + new[1:]
        converted.append(new)
        out.append((span, word, new))
    return out


def _tcvn3_decode(text: str) -> str:
    out: list[str] = []
    last = 0
    for (a, b), _, new in _tcvn3_words(text):
        out.append("".join(TCVN3_TO_UNICODE.get(c, c) for c in text[last:a]))
        out.append(new)
        last = b
    out.append("".join(TCVN3_TO_UNICODE.get(c, c) for c in text[last:]))
    return "".join(out)


def _vni_words(text: str) -> list[tuple[tuple[int, int], str, str]]:
    return [((a, b), text[a:b], _vni_decode(text[a:b])) for a, b in _tokens(text, set())]


_DECODERS: dict[str, tuple[Callable[[str], str], set[str]]] = {
    "tcvn3": (_tcvn3_decode, _TCVN3_CODE_CHARS),
    "vni": (_vni_decode, _VNI_CODE_CHARS),
}


def convert_legacy(value: str, encoding: LegacyEncoding) -> str:
    """Convert text typed in a legacy font encoding (read as Windows-1252) to NFC Unicode.

    Characters outside the encoding's table are kept. TCVN3 has no code for capital toned
    letters (``Á``, ``Ễ``...): a word in capitals comes back in capitals, a word beginning
    with such a letter comes back capitalised when it begins the text or sits between
    capitalised words (``Lª ThÞ ¸nh`` -> ``Lê Thị Ánh``); elsewhere it stays lower case.

    Raises:
        ValueError: an unknown encoding name.
    """
    try:
        decode, _ = _DECODERS[encoding]
    except KeyError:
        raise ValueError(
            f"unknown legacy encoding {encoding!r}; known: {', '.join(_DECODERS)}"
        ) from None
    return unicodedata.normalize("NFC", decode(value))


def encode_legacy(value: str, encoding: LegacyEncoding) -> str:
    """The inverse of :func:`convert_legacy`: NFC text as a legacy-font cell shows it.

    Used to test the tables. In TCVN3 a capital toned letter takes its lower-case code,
    as a typist using a capital font did.
    """
    text = unicodedata.normalize("NFC", value)
    if encoding == "tcvn3":
        return "".join(
            _UNICODE_TO_TCVN3.get(c) or _UNICODE_TO_TCVN3.get(c.lower(), c) for c in text
        )
    if encoding == "vni":
        return "".join(_UNICODE_TO_VNI.get(c, c) for c in text)
    raise ValueError(f"unknown legacy encoding {encoding!r}; known: tcvn3, vni")


def _score(text: str, encoding: str) -> int:
    """How many words the conversion repairs; 0 when any changed word would be broken."""
    words = _tcvn3_words(text) if encoding == "tcvn3" else _vni_words(text)
    repaired = 0
    for _, word, new in words:
        new = unicodedata.normalize("NFC", new)
        if new == word or not _is_evidence(word):
            continue
        if not is_vietnamese_syllable(new):
            return 0
        if not is_vietnamese_syllable(word):
            repaired += 1
    return repaired


def legacy_candidates(value: str) -> tuple[LegacyEncoding, ...]:
    """The legacy encodings that explain a cell best: none, one, or both when TCVN3 and
    VNI repair it equally well (``Thuû kho`` is VNI ``Thủ kho`` and TCVN3 ``Thuỷ kho``);
    other cells of the same file then decide."""
    text = unicodedata.normalize("NFC", value)
    if text.isascii() or _BEYOND_LATIN1.search(text):
        return ()
    if len(text) > _MAX_SCORED:
        # No field is this long; its first words tell as well as all of them, in bounded time.
        cut = text.rfind(" ", 0, _MAX_SCORED)
        text = text[: cut if cut > 0 else _MAX_SCORED]
    return _scored_candidates(text)


_MAX_SCORED = 1000  # characters of a value looked at


@functools.lru_cache(maxsize=8192)
def _scored_candidates(text: str) -> tuple[LegacyEncoding, ...]:
    # HR files repeat their values (titles, places, given names): score each text once.
    scores: dict[LegacyEncoding, int] = {"tcvn3": _score(text, "tcvn3"), "vni": _score(text, "vni")}
    best = max(scores.values())
    if best == 0:
        return ()
    return tuple(enc for enc, score in scores.items() if score == best)


def detect_legacy(value: str) -> LegacyEncoding | None:
    """The legacy encoding a cell was typed in (``"tcvn3"`` / ``"vni"``), or None.

    See the module docstring for the rule. None for genuine Unicode text, for plain ASCII,
    for legacy text that reads as valid Vietnamese both ways (``Lý`` is the same in
    TCVN3 and Unicode), and when both encodings explain it equally well
    (:func:`legacy_candidates` says so).
    """
    candidates = legacy_candidates(value)
    return candidates[0] if len(candidates) == 1 else None


def could_be_legacy(value: str, encoding: LegacyEncoding) -> str | None:
    """For a cell next to detected legacy cells: its conversion if that changes it into
    valid Vietnamese words (``Hoà Thò Lan`` is VNI for ``Hồ Thị Lan``), else None.

    Not proof on its own (``Hoà`` is also genuine); used for warnings.
    """
    text = unicodedata.normalize("NFC", value)
    if text.isascii() or _BEYOND_LATIN1.search(text):
        return None
    decode, _ = _DECODERS[encoding]
    new = unicodedata.normalize("NFC", decode(text))
    if new == text:
        return None
    for a, b in _tokens(new, set()):
        word = new[a:b]
        if not word.isascii() and not is_vietnamese_syllable(word):
            return None
    return new


# --- a person's text in a form field -----------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_person_text(value: str, *, field: str, collapse_spaces: bool = True) -> str:
    """A person's text typed into a form (a unit's name, its signer, its address): NFC
    (:func:`normalize_text`), or refused when it cannot be signed as it is.

    Refused, with a message naming ``field`` in Vietnamese and English: control characters
    (XML cannot carry them) and text typed in a legacy font encoding (TCVN3 / VNI, with
    what it probably says). ``collapse_spaces=False`` keeps inner line breaks (a stamp's
    wording, one line per line break).

    Raises:
        bhxh.errors.InputRefused: a ``ValueError``, so pydantic validators report it.

    Example:
        >>> normalize_person_text("Co\u0302ng ty TNHH An Pha\u0301t", field="name")
        'Công ty TNHH An Phát'
    """
    from bhxh.errors import InputRefused

    bad = _CONTROL.search(value)
    if bad:
        code = f"U+{ord(bad.group()):04X}"
        raise InputRefused(
            f"trường {field} có ký tự điều khiển {code} (không in được, XML không chứa được)",
            f"field {field} holds the control character {code} (not printable, XML cannot "
            "carry it)",
            read=value,
            expected_vi="văn bản thường; gõ lại trường này",
            expected_en="plain text; type the field again",
        )
    text = normalize_text(value, collapse_spaces=collapse_spaces)
    candidates = legacy_candidates(text)
    if candidates:
        names = " hoặc / or ".join(LEGACY_NAMES[c] for c in candidates)
        guesses = " / ".join(
            repr(normalize_text(convert_legacy(text, c), collapse_spaces=collapse_spaces))
            for c in candidates
        )
        raise InputRefused(
            f"trường {field} được gõ bằng bảng mã cũ {names}, không phải Unicode; có lẽ là "
            f"{guesses}",
            f"field {field} is typed in the legacy encoding {names}, not Unicode; it probably "
            f"reads {guesses}",
            read=value,
            expected_vi="văn bản Unicode: gõ lại bằng bộ gõ Unicode (ví dụ Unikey, bảng mã "
            "Unicode dựng sẵn)",
            expected_en="Unicode text: type it again with a Unicode keyboard (e.g. Unikey, "
            "Unicode dựng sẵn)",
        )
    return text
