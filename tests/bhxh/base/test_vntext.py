"""Vietnamese text: NFC, duplicate keys, TCVN3 / VNI detection and conversion."""

from __future__ import annotations

import unicodedata

import pytest

from bhxh.vntext import (
    TCVN3_TO_UNICODE,
    convert_legacy,
    detect_legacy,
    duplicate_key,
    encode_legacy,
    fold_key,
    is_vietnamese_syllable,
    legacy_candidates,
    normalize_text,
)
from tests.bhxh.hrdata.corpus import MIXED, decomposed, genuine

NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Văn An")


def _lower_letters() -> list[str]:
    """Every Vietnamese lower-case vowel with and without each tone, and đ (73 letters)."""
    out = ["đ"]
    for base in str.split("a ă â e ê i o ô ơ u ư y"):
        out.append(base)
        for tone in "\u0300\u0301\u0303\u0309\u0323":
            out.append(unicodedata.normalize("NFC", unicodedata.normalize("NFD", base) + tone))
    return out


LETTERS = _lower_letters()


# --- NFC and keys ---------------------------------------------------------------------


def test_decomposed_name_becomes_precomposed() -> None:
    assert len(NFD_NAME) == 16
    text = normalize_text(NFD_NAME)
    assert text == "Nguyễn Văn An" and len(text) == 13
    assert unicodedata.is_normalized("NFC", text)


def test_surrounding_spaces_nbsp_and_inner_runs_are_cleaned() -> None:
    assert normalize_text("\u00a0 Trần\u00a0\u00a0Thị  Bình\t\n") == "Trần Thị Bình"
    assert normalize_text("Lê\u200bHoa\ufeff") == "LêHoa"  # zero-width characters go
    assert normalize_text(" Lê  Hoa ", collapse_spaces=False) == "Lê  Hoa"


def test_soft_hyphen_is_kept_for_tcvn3_detection() -> None:
    assert normalize_text("tr\u00adëng") == "tr\u00adëng"


def test_same_worker_typed_precomposed_and_decomposed_has_one_key() -> None:
    assert NFD_NAME != "Nguyễn Văn An"
    assert duplicate_key("Nguyễn Văn An") == duplicate_key(NFD_NAME)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nguyễn Văn An", "NGUYỄN VĂN AN"),
        ("Lê Thị Hoà", "Lê Thị Hòa"),  # old and new tone placement
        ("Trần Thanh Thuý", "Trần Thanh Thúy"),
        ("Đỗ Minh", "Ðỗ Minh"),  # U+00D0 looks like Đ
        ("Phạm  Văn\u00a0Bình", "Phạm Văn Bình"),
    ],
)
def test_duplicate_key_equal(a: str, b: str) -> None:
    assert duplicate_key(a) == duplicate_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("Lê Hoa", "Le Hoa"), ("Hoà", "Hoa"), ("Hoà", "Hoá"), ("Thu", "Thư")]
)
def test_duplicate_key_different(a: str, b: str) -> None:
    assert duplicate_key(a) != duplicate_key(b)


def test_fold_key_ignores_case_diacritics_and_punctuation() -> None:
    assert fold_key("Họ và tên (*)") == "hovaten"
    assert fold_key("HoTen") == fold_key("Họ Tên") == "hoten"
    assert fold_key("Đến tháng, năm") == "denthangnam"


# --- syllables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    str.split(
        "Nguyễn trưởng Hoà Hòa Thuý Thúy Quỳnh Phường Quận Việt Ngoằn xoong khuỷu NGUYỄN"
        " gìn giữ quốc Nghĩa Mười Người Rượu Yến Uyên Thuở Huế Giường Khoẻ Khỏe Của Quà"
        " Krông Pắc Đắk Ẩn Ơi Hoàng Ngọc"
    ),
)
def test_vietnamese_syllables(word: str) -> None:
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize(
    "word",
    # mojibake, a capital inside a word, a tone on the wrong vowel, a stop with huyền,
    # foreign words
    ["NguyÔn", "Nguyeãn", "Vaên", "tr\u00adëng", "Theỏ", "Hòang", "Càc", "Café", "Müller"],
)
def test_not_vietnamese_syllables(word: str) -> None:
    assert not is_vietnamese_syllable(word)


# --- legacy encodings: the published tables -------------------------------------------


def test_tcvn3_table_has_every_lower_case_letter_and_seven_capitals() -> None:
    assert set(TCVN3_TO_UNICODE.values()) == set(LETTERS) - {"a", "e", "i", "o", "u", "y"} | set(
        "ĂÂÊÔƠƯĐ"
    )
    # 60 toned vowels, ă â ê ô ơ ư, đ; Ă Â Ê Ô Ơ Ư Đ: one code each.
    assert len(set(TCVN3_TO_UNICODE.values())) == len(TCVN3_TO_UNICODE) == 67 + 7
    assert all(0xA1 <= ord(code) <= 0xFE for code in TCVN3_TO_UNICODE)


@pytest.mark.parametrize("letter", LETTERS + [c.upper() for c in LETTERS])
def test_vni_encodes_and_decodes_every_letter(letter: str) -> None:
    legacy = encode_legacy(letter, "vni")
    assert legacy != letter or letter.isascii() or letter in "íìÍÌ"
    assert all(ord(c) <= 0xFF for c in legacy)
    assert convert_legacy(legacy, "vni") == letter


@pytest.mark.parametrize(
    ("legacy", "encoding", "unicode"),
    [
        # The textbook samples of each table.
        ("ViÖt Nam", "tcvn3", "Việt Nam"),
        ("Hµ Néi", "tcvn3", "Hà Nội"),
        ("§µ N½ng", "tcvn3", "Đà Nẵng"),
        ("NguyÔn V¨n An", "tcvn3", "Nguyễn Văn An"),
        ("KÕ to¸n tr\u00adëng", "tcvn3", "Kế toán trưởng"),
        ("Vieät Nam", "vni", "Việt Nam"),
        ("Haø Noäi", "vni", "Hà Nội"),
        ("Ñaø Naüng", "vni", "Đà Nẵng"),
        ("Nguyeãn Vaên An", "vni", "Nguyễn Văn An"),
        ("Phöôøng Beán Ngheù, Quaän 1", "vni", "Phường Bến Nghé, Quận 1"),
    ],
)
def test_published_samples_are_detected_and_converted(
    legacy: str, encoding: str, unicode: str
) -> None:
    assert detect_legacy(legacy) == encoding
    assert convert_legacy(legacy, encoding) == unicode  # type: ignore[arg-type]


def test_tcvn3_capitals_come_back_from_codes_that_have_none() -> None:
    # TCVN3 ABC writes capital toned letters with the lower-case code.
    assert convert_legacy("NGUYÔN V¡N AN", "tcvn3") == "NGUYỄN VĂN AN"
    assert convert_legacy("L£ Tó", "tcvn3") == "LÊ TÚ"
    assert convert_legacy("Lª Tó", "tcvn3") == "Lê Tú"
    assert convert_legacy("Lª ThÞ ¸nh", "tcvn3") == "Lê Thị Ánh"
    assert convert_legacy("¸nh s¸ng", "tcvn3") == "Ánh sáng"


def test_unknown_encoding_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown legacy encoding"):
        convert_legacy("x", "viqr")  # type: ignore[arg-type]


# --- no false positive on genuine text ------------------------------------------------


def test_corpus_covers_every_letter_with_every_tone_in_both_cases() -> None:
    text = "".join(genuine())
    assert not [c for c in LETTERS if c not in text]
    assert not [c.upper() for c in LETTERS if c.upper() not in text]


def test_no_false_positive_on_the_genuine_corpus() -> None:
    corpus = genuine()
    everything = corpus + decomposed(corpus) + list(MIXED)
    assert len(corpus) >= 1000
    assert [s for s in everything if detect_legacy(s) is not None] == []
    assert [s for s in everything if legacy_candidates(s)] == []


def test_latin1_only_genuine_text_is_not_legacy() -> None:
    # Every character of these is also a TCVN3 or VNI code.
    for text in ("Công nhân may", "CÔNG NHÂN MAY", "Tô Hoài", "Hoà", "Lê Hà", "Bà Rịa"):
        assert detect_legacy(text) is None


# --- round trips ----------------------------------------------------------------------


_NO_TCVN3_CAPITAL = {c for c in TCVN3_TO_UNICODE.values() if c.islower()} - set("ăâêôơưđ")


def _tcvn3_case_is_lost(text: str) -> bool:
    """A word beginning with a toned letter, which TCVN3 ABC writes only in lower case,
    not in capitals throughout (``Thực phẩm Ánh Dương``, ``Tổ 5, ấp Bình Hòa``): the
    legacy bytes do not say whether it began with a capital."""
    for word in text.replace(",", " ").split():
        if word[:1].lower() in _NO_TCVN3_CAPITAL and not word.isupper():
            return True
    return False


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_genuine_corpus_encoded_detected_and_converted_back(encoding: str) -> None:
    corpus = [s for s in genuine() if encode_legacy(s, encoding) != s]  # type: ignore[arg-type]
    detected = exact = 0
    for text in corpus:
        legacy = encode_legacy(text, encoding)  # type: ignore[arg-type]
        found = detect_legacy(legacy)
        assert found in (encoding, None), (text, legacy, found)  # never the other one
        detected += found == encoding
        back = convert_legacy(legacy, encoding)  # type: ignore[arg-type]
        if back == text:
            exact += 1
        else:
            assert encoding == "tcvn3" and _tcvn3_case_is_lost(text), (text, legacy, back)
            assert back.casefold() == text.casefold()
    assert len(corpus) >= 1000
    # Undetected: cells that read as valid Vietnamese both ways (Lý Tú / Lý Tó), or that
    # both encodings explain (those are settled by the other cells of the file).
    assert detected / len(corpus) > 0.98
    assert exact / len(corpus) > 0.99
