"""Wording cues of rumours and scams, read per item with or without diacritics."""

from __future__ import annotations

import pytest

from classifier.risk_cues import CueReader, spelled_out, suspicious_links
from mediawatch.text import written_with_diacritics


@pytest.fixture(scope="module")
def reader() -> CueReader:
    return CueReader.load()


def test_alternatives_spell_out_every_phrase():
    assert spelled_out("nghe {nói|đồn} {là|rằng}") == [
        "nghe nói là",
        "nghe nói rằng",
        "nghe đồn là",
        "nghe đồn rằng",
    ]
    assert spelled_out("tin khẩn") == ["tin khẩn"]


def test_an_item_is_judged_accented_or_not_as_a_whole():
    assert written_with_diacritics("Nghe đâu đèo Bảo Lộc sắp bị chặn hẳn")
    assert not written_with_diacritics("nghe dau deo Bao Loc sap bi chan han")
    # A pasted accented place name does not make an unaccented post accented.
    assert not written_with_diacritics("ae oi nghe noi sap cam duong len Đà Lạt nha, lo ma di som")


def test_accented_words_are_found_as_written_and_never_as_their_folded_twins(reader):
    alarm = reader.read("Tin NÓNG", "Sốc: Khẩn!!! chia sẻ ngay!!!")
    assert {"Tin NÓNG", "Sốc", "Khẩn"} <= set(alarm.found["sensational"])
    assert alarm.found["call_to_share"] == ["chia sẻ ngay"]
    calm = reader.read("", "Giá nông sản tăng, bà con chia sẻ ngày 12/3 tại hội chợ, sóc chạy")
    assert calm.found == {}
    # Without diacritics the ambiguous words are left alone: "nong" may be "nông".
    unaccented = reader.read("", "gia ca phe nong san tang, chia se ngay 12/3 cho bon minh")
    assert unaccented.found == {}
    # ...while the unambiguous ones are still found folded.
    folded = reader.read("", "KHAN CAP: nghe noi toan bo dat o Lac Duong bi thu hoi, ae share gap")
    assert not folded.accented
    assert folded.found["sensational"] == ["KHAN CAP"]
    assert folded.found["unverified_source"] == ["nghe noi"]
    assert folded.found["absolute_claim"] == ["toan bo"]
    assert folded.found["call_to_share"] == ["ae share"]


def test_hearsay_without_the_usual_phrases(reader):
    friend = reader.read("", "Bạn tôi làm trong ngân hàng nói tháng sau đổi tiền.")
    assert friend.found["unverified_source"] == ["Bạn tôi làm trong"]
    source = reader.read("", "Có nguồn tin cho biết tỉnh sắp thu phí xe máy vào Đà Lạt.")
    assert source.found["unverified_source"]


def test_leaked_documents_and_sweeping_claims(reader):
    leaked = reader.read(
        "RÒ RỈ văn bản mật", "Tất cả các hộ ven hồ phải di dời vĩnh viễn, 100% không bồi thường."
    )
    assert leaked.found["leaked_document"]
    assert {"Tất cả", "vĩnh viễn", "100%"} <= set(leaked.found["absolute_claim"])


def test_scams_show_by_their_requests_links_and_numbers(reader):
    support = reader.read(
        "", "Nhận hỗ trợ 2 triệu: bấm bit.ly/hotro-ld nhập số CCCD, số tài khoản và mã OTP."
    )
    assert {"Nhận hỗ trợ", "số tài khoản", "mã OTP", "bit.ly/hotro-ld"} <= set(
        support.found["scam"]
    )
    police = reader.read(
        "",
        "Tôi là cán bộ công an tỉnh, anh có lệnh bắt vì liên quan đến đường dây rửa tiền, "
        "gọi ngay 0912 345 678, không được nói với người nhà.",
    )
    assert {"cán bộ công an", "lệnh bắt", "rửa tiền"} <= set(police.found["impersonation"])
    assert "0912 345 678" in police.found["scam"]
    job = reader.read(
        "", "Tuyển CTV online làm tại nhà, phí giữ chỗ 300k, kết bạn zalo để nhận việc"
    )
    assert len(job.found["scam"]) >= 2
    # A hotline in an official notice is not a scam cue by itself.
    notice = reader.read("", "Mọi thắc mắc xin gọi đường dây nóng 0263 3822 111 của Sở Y tế.")
    assert "scam" not in notice.found


def test_look_alike_sites_borrow_an_agencys_name_outside_vn():
    assert suspicious_links("vào dichvucong-gov.xyz/nhan-tien ngay") == [
        "dichvucong-gov.xyz/nhan-tien"
    ]
    assert suspicious_links("xem tại https://dichvucong.gov.vn/p/home") == []
    assert suspicious_links("trang chủ bit.ly không có đường dẫn") == []


def test_a_greeting_is_not_a_call_to_share(reader):
    question = reader.read("", "mn ơi cho hỏi giá cà phê hôm nay bao nhiêu ạ").found
    assert question == {"first_hand": ["cho hỏi"]}
    market = reader.read("", "Mọi người ơi, chiều nay chợ Đà Lạt có bán dâu ngon").found
    assert market == {"first_hand": ["chiều nay"]}


def test_first_hand_accounts_are_told_apart_from_hearsay(reader):
    complaint = reader.read(
        "", "Sáng nay khu mình ở Lâm Hà cúp điện tới 15h, mong điện lực xem xét báo trước."
    )
    assert {"Sáng nay", "khu mình ở"} <= set(complaint.found["first_hand"])
    assert "unverified_source" not in complaint.found
