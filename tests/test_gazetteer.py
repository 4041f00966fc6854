"""The gazetteer finds Lâm Đồng's places in real-looking Vietnamese, and only those."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediawatch.gazetteer import Gazetteer, GazetteerError
from mediawatch.model import Source, SourceKind, SourceScope, SourceTier
from mediawatch.relevance import is_relevant
from tests.factories import make_document


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()


def ids(gazetteer: Gazetteer, text: str) -> list[str]:
    return gazetteer.place_ids(text)


def test_the_packaged_file_holds_the_124_units_of_resolution_1671(gazetteer):
    assert gazetteer.count("unit") == 124
    assert gazetteer.count("unit", "xã") == 103
    assert gazetteer.count("unit", "phường") == 20
    assert gazetteer.count("unit", "đặc khu") == 1
    assert {p.id for p in gazetteer.units_in("tp-da-lat")} == {
        "phuong-xuan-huong-da-lat",
        "phuong-cam-ly-da-lat",
        "phuong-lam-vien-da-lat",
        "phuong-xuan-truong-da-lat",
        "phuong-lang-biang-da-lat",
    }


def test_distinctive_names_are_found_with_and_without_diacritics(gazetteer):
    text = "Giá đất ở Đà Lạt và Bảo Lộc tăng; Gia Nghĩa, Phan Thiết, Mũi Né cũng vậy."
    assert ids(gazetteer, text) == [
        "tp-da-lat",
        "tp-bao-loc",
        "tp-gia-nghia",
        "tp-phan-thiet",
        "phuong-mui-ne",
    ]
    assert ids(gazetteer, "gia dat o da lat va bao loc tang manh") == ["tp-da-lat", "tp-bao-loc"]
    assert ids(gazetteer, "Nong dan LAM DONG, DAK NONG va Binh Thuan") == ["lam-dong"]


def test_spans_index_the_original_text(gazetteer):
    text = "Sáng 5/3, tại phường Xuân Hương - Đà Lạt, UBND tỉnh Lâm Đồng họp báo."
    first, second = gazetteer.find_places(text)
    assert (first.id, text[first.start : first.end]) == (
        "phuong-xuan-huong-da-lat",
        "Xuân Hương - Đà Lạt",
    )
    assert (second.id, second.surface) == ("lam-dong", "Lâm Đồng")


def test_a_national_article_about_ha_noi_finds_nothing(gazetteer):
    text = (
        "UBND thành phố Hà Nội họp về ùn tắc giao thông ở quận Hoàn Kiếm, xã Thuận An, "
        "xã Phúc Thọ và xã Tân Hội. Ông Trần Văn Lâm Hà Nội cho biết anh Nguyễn Đức Trọng "
        "bị lạc đường; đây là gì? Chúng ta dùng xe buýt; năng suất lúa 7 tấn/ha, mọi người "
        "tán thành. Xe cảnh sát dọn đường, phương tiện thanh toán, giàu sang phú quý."
    )
    assert gazetteer.find_places(text) == []


def test_short_names_need_their_administrative_word_or_the_province(gazetteer):
    assert ids(gazetteer, "Huyện Lâm Hà có mưa lớn") == ["huyen-lam-ha"]
    assert ids(gazetteer, "Anh Lâm Hà Nội về quê") == []
    assert ids(gazetteer, "huyen lam ha co mua lon") == ["huyen-lam-ha"]
    assert ids(gazetteer, "Nông dân Di Linh thu hoạch cà phê") == []
    assert ids(gazetteer, "Nông dân Di Linh (Lâm Đồng) thu hoạch cà phê") == [
        "huyen-di-linh",
        "lam-dong",
    ]
    # Borne by communes of other provinces: both the word and the province are needed.
    assert ids(gazetteer, "Tin đồn ở xã Tân Hội lan nhanh") == []
    assert ids(gazetteer, "Tin đồn ở xã Tân Hội, tỉnh Lâm Đồng") == ["xa-tan-hoi", "lam-dong"]
    assert ids(gazetteer, "Tân Hội và tỉnh Lâm Đồng") == ["lam-dong"]


def test_the_administrative_word_picks_the_unit_over_the_former_district(gazetteer):
    text = "Phường Phan Thiết thuộc Phan Thiết cũ; đặc khu Phú Quý; xã Di Linh, thị trấn Di Linh"
    assert [(m.id, m.surface) for m in gazetteer.find_places(text)] == [
        ("phuong-phan-thiet", "Phan Thiết"),
        ("tp-phan-thiet", "Phan Thiết"),
        ("dac-khu-phu-quy", "Phú Quý"),
        ("xa-di-linh", "Di Linh"),
        ("huyen-di-linh", "Di Linh"),
    ]


def test_a_province_name_after_xa_is_a_commune_elsewhere(gazetteer):
    assert ids(gazetteer, "Mưa lũ ở xã Bình Thuận, huyện Thuận Châu, Sơn La") == []
    assert ids(gazetteer, "Phường Phương Liên") == []


def test_former_communes_are_found_after_their_word_when_the_province_is_named(gazetteer):
    text = "Vụ việc ở thị trấn Liên Nghĩa, huyện Đức Trọng, tỉnh Lâm Đồng"
    assert ids(gazetteer, text) == ["xa-duc-trong", "huyen-duc-trong", "lam-dong"]
    assert ids(gazetteer, "Vụ việc ở thị trấn Liên Nghĩa") == []


def test_a_faulty_file_is_refused_with_its_path(tmp_path: Path):
    bad = tmp_path / "gazetteer.yaml"
    bad.write_text(
        "province: {id: lam-dong, name: Lâm Đồng}\nareas: []\n"
        "units: [{id: xa-a, name: A, type: xã, areas: [khong-co]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(GazetteerError, match=r"gazetteer.yaml: 'xa-a' refers to unknown place"):
        Gazetteer.load(bad)
    bad.write_text("province: {id: lam-dong}\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=r"gazetteer\.yaml"):
        Gazetteer.load(bad)


def make_source(scope: SourceScope) -> Source:
    return Source(
        id="bao-test",
        name="Báo thử",
        kind=SourceKind.FEED,
        url="https://bao.example.vn/rss",
        tier=SourceTier.PRESS,
        scope=scope,
    )


def test_national_items_are_kept_only_when_they_name_the_province(gazetteer):
    national = make_source(SourceScope.NATIONAL)
    about_province = make_document(
        "https://bao.example.vn/a",
        "Sạt lở trên đèo Prenn",
        "Mưa lớn gây sạt lở ở phường Cam Ly - Đà Lạt, tỉnh Lâm Đồng.",
    )
    decision = is_relevant(about_province, national, gazetteer)
    assert decision.keep
    assert decision.places == ["phuong-cam-ly-da-lat", "lam-dong"]
    assert "Lâm Đồng" in decision.reason

    about_ha_noi = make_document(
        "https://bao.example.vn/b", "Hà Nội cấm xe", "Hà Nội cấm xe máy ở quận Hoàn Kiếm."
    )
    decision = is_relevant(about_ha_noi, national, gazetteer)
    assert not decision.keep
    assert decision.places == []

    provincial = is_relevant(about_ha_noi, make_source(SourceScope.PROVINCIAL), gazetteer)
    assert provincial.keep


def test_a_place_in_the_title_anchors_a_short_name_in_the_text(gazetteer):
    document = make_document(
        "https://bao.example.vn/c",
        "Lâm Đồng: tin đồn thất thiệt",
        "Người dân xã Tân Hội hoang mang.",
    )
    decision = is_relevant(document, make_source(SourceScope.NATIONAL), gazetteer)
    assert decision.places == ["lam-dong", "xa-tan-hoi"]
