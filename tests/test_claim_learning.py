"""Reviewers teach the claims matcher: decided suggestions change what is offered next."""

from __future__ import annotations

from pathlib import Path

from index.claims import ClaimDraft, ClaimRegister, Verdict
from mediawatch.claim_match import RegisterMatcher
from mediawatch.config import ClaimSettings
from mediawatch.model import ClaimLinkStatus
from tests.factories import make_document

STATEMENT = "Tỉnh Lâm Đồng sẽ thu hồi toàn bộ đất nông nghiệp ở Lạc Dương để làm sân golf."
# Same place and topic, another assertion: the kind of text a reviewer rejects.
NEIGHBOUR = (
    "Tỉnh Lâm Đồng sẽ hỗ trợ nông dân Lạc Dương chuyển đổi đất nông nghiệp sang trồng hoa, "
    "không thu hồi đất để làm sân golf như lời đồn."
)
NEIGHBOUR_REPOST = f"Chia sẻ lại: {NEIGHBOUR} Mọi người yên tâm nhé."
REPEAT = (
    "Nghe nói tỉnh Lâm Đồng sắp thu hồi hết đất nông nghiệp của dân Lạc Dương để xây sân golf, "
    "ai có đất ở đó thì lo đi."
)


def _matcher(tmp_path: Path, settings: ClaimSettings) -> tuple[ClaimRegister, RegisterMatcher]:
    register = ClaimRegister(tmp_path / "claims.sqlite3")
    return register, RegisterMatcher(register, settings)


def _offered(matcher: RegisterMatcher, text: str, url: str) -> list[tuple[str, str]]:
    matcher.refresh()
    document = make_document(url, "", text)
    return [(link.claim_id, link.status.value) for link in matcher.matches(document)]


def test_a_rejected_suggestion_is_not_offered_again_but_real_repeats_still_are(tmp_path):
    settings = ClaimSettings(suggest_threshold=0.05, link_threshold=0.99)
    register, matcher = _matcher(tmp_path, settings)
    claim, _ = register.create(ClaimDraft(statement=STATEMENT, verdict=Verdict.FALSE), "r1")
    before = _offered(matcher, NEIGHBOUR_REPOST, "https://fb.example/p/1")
    assert before == [(claim.id, "suggested")]
    register.suggest(claim.id, "item-neighbour", NEIGHBOUR, 0.5)
    register.decide_suggestion(claim.id, "item-neighbour", accept=False, by="r1")
    assert register.rejected_texts() == {claim.id: [NEIGHBOUR]}
    # A near copy of the rejected text is no longer offered for that claim...
    assert _offered(matcher, NEIGHBOUR_REPOST, "https://fb.example/p/2") == []
    # ...while a text that does repeat the claim still is.
    assert [c for c, _status in _offered(matcher, REPEAT, "https://fb.example/p/3")] == [claim.id]


def test_an_accepted_suggestion_becomes_a_text_of_its_claim(tmp_path):
    settings = ClaimSettings()
    register, matcher = _matcher(tmp_path, settings)
    statement = "Giá điện ở Lâm Đồng tăng gấp đôi từ tháng này."
    claim, _ = register.create(ClaimDraft(statement=statement, verdict=Verdict.FALSE), "r1")
    accepted = (
        "Hóa đơn tiền điện của các hộ ở Đà Lạt tháng này tăng vọt vì ngành điện thiếu nguồn, "
        "nhiều nhà phải trả gấp đôi mà không được báo trước."
    )
    repost = f"Chia sẻ: {accepted} Ai cũng bị vậy hả?"
    before = {c: s for c, s in _offered(matcher, repost, "https://fb.example/p/4")}
    assert before.get(claim.id) != ClaimLinkStatus.LINKED.value
    register.suggest(claim.id, "item-bill", accepted, 0.3)
    register.decide_suggestion(claim.id, "item-bill", accept=True, by="r1")
    after = _offered(matcher, repost, "https://fb.example/p/5")
    assert after == [(claim.id, ClaimLinkStatus.LINKED.value)]
