import unicodedata

import pytest

from mediawatch.text import (
    GroupedPhraseMatcher,
    PhraseMatcher,
    collapse,
    detect_language,
    fold,
    match_form,
    normalize,
)


def test_normalize_decodes_entities_and_composes_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Đất đai &amp; quy hoạch")
    assert normalize(decomposed) == "Đất đai & quy hoạch"
    assert unicodedata.is_normalized("NFC", normalize(decomposed))


def test_normalize_removes_invisible_characters_and_collapses_space():
    text = "Lâm\u200b Đồng\u00a0\u00a0 mới\r\n\r\n\r\n\tsáp  nhập\ufeff"
    assert normalize(text) == "Lâm Đồng mới\n\nsáp nhập"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đất Đai", "dat dai"),
        ("Quy hoạch Đà Lạt", "quy hoach da lat"),
        ("THU HỒI ĐẤT", "thu hoi dat"),
        ("Sầu riêng, cà phê, chè", "sau rieng, ca phe, che"),
        ("dat dai", "dat dai"),
        ("Ủy ban nhân dân", "uy ban nhan dan"),
    ],
)
def test_fold_removes_diacritics_and_case(text, folded):
    assert fold(text) == folded


def test_fold_and_match_form_keep_every_position():
    text = normalize("Người dân xã Lạc Dương (Đà Lạt) — “hoang mang”, İstanbul ﬁ!")
    assert len(fold(text)) == len(text)
    assert len(match_form(text)) == len(text)


def test_fold_reads_each_character_alike_in_any_text():
    """Folding by array and by str.translate agree: every code point of the Basic
    Multilingual Plane, alone, beside Vietnamese, and in texts the array cannot hold
    (a character past it, a lone surrogate) or in an empty one."""
    everything = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000)))
    accented = "Đà Lạt "
    for text in ("", everything, accented + "\U0001f600", accented + "\ud800", accented):
        assert fold(text) == "".join(map(fold, text))
        assert match_form(text) == "".join(map(match_form, text))
    assert fold(accented + "中文") == "da lat 中文"
    assert match_form("Lạt, ²!") == "lat  ² "


def test_normalize_leaves_single_spaces_and_collapses_the_rest():
    assert normalize("một hai") == "một hai"
    assert normalize("một  hai\u3000ba\tbốn\u2007 năm") == "một hai ba bốn năm"
    assert normalize(" a \n\x0b b\x85c\u00ad") == "a\nb c"


def test_collapse_turns_punctuation_into_single_spaces():
    assert collapse("Đà Lạt: đèo Prenn -- sạt lở!!") == "da lat deo prenn sat lo"


def test_phrase_matcher_finds_accented_and_unaccented_forms_with_original_spans():
    matcher = PhraseMatcher(["thu hồi đất", "Lạc Dương"])
    text = "Nghe noi sap THU HOI DAT o xa Lạc   Dương"
    hits = matcher.find(text)
    assert [h.phrase for h in hits] == ["thu hồi đất", "Lạc Dương"]
    assert [text[h.start : h.end] for h in hits] == ["THU HOI DAT", "Lạc   Dương"]


def test_phrase_matcher_matches_whole_words_only():
    matcher = PhraseMatcher(["cà phê"])
    assert matcher.find("caphe") == []
    assert matcher.find("cà phêin") == []
    assert len(matcher.find("(cà-phê)")) == 1


def test_folded_single_words_collide_which_is_why_taxonomies_use_phrases():
    assert PhraseMatcher(["bão"]).find("bảo hiểm xã hội") != []


def test_phrase_matcher_prefers_the_longest_phrase():
    matcher = PhraseMatcher(["đất", "thu hồi đất"])
    assert [h.phrase for h in matcher.find("thu hồi đất")] == ["thu hồi đất"]


def test_grouped_matcher_finds_what_one_matcher_per_group_finds():
    """Within a group hits never overlap; across groups they may (a topic's phrase inside
    another topic's longer phrase still counts for its own topic)."""
    groups = {
        "land": ["đất đai", "quy hoạch đất", "Đà Lạt"],
        "planning": ["quy hoạch đất đai", "đất"],
        "short": ["lạt"],
        "none": ["cà phê"],
    }
    text = "Quy hoạch đất-đai ở Đà  Lạt; đất, đai và ĐẤT đai!"

    def spans(hits: list) -> list[tuple[str, str]]:
        return [(hit.phrase, text[hit.start : hit.end]) for hit in hits]

    grouped = GroupedPhraseMatcher(groups).find(text)
    assert {group: spans(hits) for group, hits in grouped.items()} == {
        "land": [
            ("quy hoạch đất", "Quy hoạch đất"),
            ("Đà Lạt", "Đà  Lạt"),
            ("đất đai", "đất, đai"),
            ("đất đai", "ĐẤT đai"),
        ],
        "planning": [("quy hoạch đất đai", "Quy hoạch đất-đai"), ("đất", "đất"), ("đất", "ĐẤT")],
        "short": [("lạt", "Lạt")],
    }
    for group, phrases in groups.items():
        assert PhraseMatcher(phrases).find(text) == grouped.get(group, [])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Giá cà phê tại Lâm Đồng tăng mạnh trong tuần qua, người dân phấn khởi.", "vi"),
        ("nghe noi sap thu hoi toan bo dat o xa lac duong, ae chia se cho moi nguoi biet", "vi"),
        ("Da Lat welcomes a record number of foreign visitors during the flower festival.", "en"),
        ("", "und"),
    ],
)
def test_detect_language_copes_with_missing_diacritics(text, language):
    assert detect_language(text) == language
