"""Decree 13/2023: authors' identities reach only the roles that need them, and every showing,
search and item view is in the audit log (real HTTP, real SQLite, real audit file)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from mediawatch.audit import AuditLog
from tests.conftest import ADMIN_PASSWORD, ANALYST_TOKEN, API_TOKEN, login
from tests.factories import make_document


@pytest.fixture
def post(store):
    document = make_document(
        "https://facebook.example/posts/77", "Tin đồn thu hồi đất", "Nghe nói sắp thu hồi đất."
    ).model_copy(update={"authors": ["Nguyễn Văn A"]})
    store.upsert([document])
    return document


def _get(url: str, token: str, path: str, **params) -> httpx.Response:
    return httpx.get(url + path, params=params, headers={"Authorization": f"Bearer {token}"})


def test_analysts_never_see_authors_reviewers_do_and_it_is_logged(live_api, settings, post):
    item_path = f"/api/items/{quote(post.id, safe='')}"
    for token, shown in ((ANALYST_TOKEN, []), (API_TOKEN, ["Nguyễn Văn A"])):
        assert _get(live_api.url, token, item_path).json()["authors"] == shown
        hits = _get(live_api.url, token, "/api/items", text="thu hoi dat").json()["hits"]
        assert [hit["document"]["authors"] for hit in hits] == [shown]
    with httpx.Client(base_url=live_api.url) as browser:
        login(browser, "analyst1", ADMIN_PASSWORD)
        page = browser.get(f"/items/{quote(post.id, safe='')}")
        assert page.status_code == 200 and "Nguyễn Văn A" not in page.text
        browser.get("/search", params={"q": "thu hồi"})

    log = AuditLog(settings.audit_path)
    views = [(e.actor, e.via) for e in log.entries(action="item.view")]
    assert views == [("analyst1", "token"), ("reviewer1", "token"), ("analyst1", "session")]
    searches = [(e.actor, e.detail.get("total")) for e in log.entries(action="search")]
    assert searches == [("analyst1", 1), ("reviewer1", 1), ("analyst1", 1)]
    shown = [(e.actor, e.detail["item_ids"]) for e in log.entries(action="author.view")]
    assert shown == [("reviewer1", [post.id]), ("reviewer1", [post.id])]


SPEAKER = "Trần Thị Bích"
SPEAKER_URL = "https://facebook.example/tran.thi.bich"


def _import_said(live_api, settings, profile: str) -> str:
    """An imported fact-check naming the person who made the claim and their profile."""
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": "Đà Lạt cấm xe máy vào trung tâm từ tháng sau",
        "author": {"@type": "Organization", "name": "Báo Kiểm chứng"},
        "url": "https://kiemchung.example.vn/da-lat-cam-xe-may",
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Person", "name": SPEAKER, "url": profile},
        },
        "reviewRating": {"@type": "Rating", "alternateName": "Sai sự thật"},
    }
    imported = httpx.post(
        f"{live_api.url}/api/claims/import",
        json=review,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert imported.json()["created"] == 1, imported.text
    from index.claims import ClaimRegister

    (claim,) = ClaimRegister(settings.claims_path).all()
    return claim.id


@pytest.fixture
def said_claim(live_api, settings):
    return _import_said(live_api, settings, SPEAKER_URL)


def test_who_made_a_claim_reaches_only_the_author_roles_and_is_audited(
    live_api, settings, said_claim
):
    log = AuditLog(settings.audit_path)
    paths = (
        "/api/claims",
        f"/api/claims/{said_claim}",
        "/api/claims/export?format=csv",
        "/api/claims/export?format=claimreview",
    )
    for path in paths:
        seen = _get(live_api.url, ANALYST_TOKEN, path)
        assert seen.status_code == 200, seen.text
        assert SPEAKER not in seen.text and SPEAKER_URL not in seen.text and "Bích" not in seen.text
    with httpx.Client(base_url=live_api.url) as browser:
        login(browser, "analyst1", ADMIN_PASSWORD)
        page = browser.get(f"/claims/{said_claim}")
        assert page.status_code == 200 and SPEAKER not in page.text
    assert log.entries(action="author.view") == []

    listed = _get(live_api.url, API_TOKEN, "/api/claims").json()["claims"][0]
    assert listed["author"] == {"name": SPEAKER, "url": SPEAKER_URL}
    assert SPEAKER not in " ".join(listed["evidence"])
    one = _get(live_api.url, API_TOKEN, f"/api/claims/{said_claim}").json()
    assert one["author"]["name"] == SPEAKER
    exported = _get(live_api.url, API_TOKEN, "/api/claims/export", format="csv").text
    assert SPEAKER in exported and SPEAKER_URL in exported
    with httpx.Client(base_url=live_api.url) as browser:
        login(browser, "reviewer1", ADMIN_PASSWORD)
        assert SPEAKER in browser.get(f"/claims/{said_claim}").text
    shown = log.entries(action="author.view")
    assert len(shown) == 4
    assert {entry.actor for entry in shown} == {"reviewer1"}
    assert all(entry.detail["claim_ids"] == [said_claim] for entry in shown)


def test_a_register_from_before_keeps_the_speaker_out_of_the_evidence(settings):
    """Imports used to write "Người phát ngôn: …" into the evidence every reader saw."""
    import sqlite3

    from index.claims import ClaimDraft, ClaimRegister

    register = ClaimRegister(settings.claims_path)
    claim, _ = register.create(
        ClaimDraft(
            statement="Hồ Tuyền Lâm sắp bị lấp",
            verdict="false",
            origin="import:Báo A",
            evidence=[f"Người phát ngôn: {SPEAKER}", "https://a.example/bai-viet"],
        ),
        "an",
    )
    register.close()
    with sqlite3.connect(settings.claims_path) as raw:
        raw.execute("ALTER TABLE claims DROP COLUMN author")
    reopened = ClaimRegister(settings.claims_path).get(claim.id)
    assert reopened.author is not None and reopened.author.name == SPEAKER
    assert reopened.evidence == ["https://a.example/bai-viet"]


def test_the_move_of_the_speaker_leaves_typed_text_and_impossible_names_alone(settings):
    """Only an import's first evidence line was its speaker: a reviewer's own line on one of
    ours stays, and a "name" empty or longer than an author holds stays evidence, logged,
    so every claim still reads."""
    import sqlite3

    from structlog.testing import capture_logs

    from index.claims import ClaimDraft, ClaimRegister

    register = ClaimRegister(settings.claims_path)
    typed = f"Người phát ngôn: {SPEAKER} nói trong cuộc họp báo ngày 3/12"
    cases = {
        "ours": ("ours", [typed]),
        "long": ("import:Báo A", ["Người phát ngôn: " + "dài " * 100]),
        "empty": ("import:Báo B", ["Người phát ngôn:  ", "https://b.example/x"]),
        "speaker": ("import:Báo C", [f"Người phát ngôn: {SPEAKER}", typed]),
    }
    ids = {}
    for name, (origin, evidence) in cases.items():
        draft = ClaimDraft(
            statement=f"Đà Lạt {name}", verdict="false", origin=origin, evidence=evidence
        )
        ids[name] = register.create(draft, "an")[0].id
    register.close()
    with sqlite3.connect(settings.claims_path) as raw:
        raw.execute("ALTER TABLE claims DROP COLUMN author")
    with capture_logs() as logs:
        reopened = ClaimRegister(settings.claims_path)
    claims = {claim.id: claim for claim in reopened.all()}  # every one reads
    for name in ("ours", "long", "empty"):
        assert claims[ids[name]].author is None
        assert claims[ids[name]].evidence == cases[name][1]
    assert claims[ids["speaker"]].author.name == SPEAKER
    assert claims[ids["speaker"]].evidence == [typed]
    skipped = [e for e in logs if e["event"] == "claims.speaker_left_in_evidence"]
    assert {e["claim_id"] for e in skipped} == {ids["long"], ids["empty"]}
    assert all(e["path"] == str(settings.claims_path) for e in skipped)


def test_an_author_profile_that_is_not_a_web_address_is_dropped_at_import(live_api, settings):
    """A javascript: profile would be a link that runs script wherever it is shown."""
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        claim_id = _import_said(live_api, settings, "javascript:alert(document.cookie)")
    one = _get(live_api.url, API_TOKEN, f"/api/claims/{claim_id}").json()
    assert one["author"] == {"name": SPEAKER, "url": None}
    (dropped,) = [e for e in logs if e["event"] == "claims.import.author_url_dropped"]
    assert dropped["where"] == "mục 1"


def test_an_author_stored_before_the_rules_loses_only_what_breaks_them(settings):
    """Written by the first version of the import and of the migration: the claim still
    reads, the profile or the impossible name dropped and logged."""
    import json
    import sqlite3

    from structlog.testing import capture_logs

    from index.claims import ClaimDraft, ClaimRegister

    register = ClaimRegister(settings.claims_path)
    stored = {
        "script": {"name": SPEAKER, "url": "javascript:alert(1)"},
        "long": {"name": "dài " * 100},
    }
    ids = {}
    for name, author in stored.items():
        draft = ClaimDraft(statement=f"Bảo Lộc {name}", verdict="false", origin="import:Báo A")
        ids[name] = register.create(draft, "an")[0].id
        with sqlite3.connect(settings.claims_path) as raw:
            raw.execute(
                "UPDATE claims SET author = ? WHERE id = ?",
                (json.dumps(author, ensure_ascii=False), ids[name]),
            )
    with capture_logs() as logs:
        claims = {claim.id: claim for claim in register.all()}
    assert claims[ids["script"]].author.model_dump() == {"name": SPEAKER, "url": None}
    assert claims[ids["long"]].author is None
    unreadable = [e["claim_id"] for e in logs if e["event"] == "claims.author_unreadable"]
    assert unreadable == [ids["long"]]
