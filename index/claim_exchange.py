"""Claims in and out of the register: CSV, a JSON list, and schema.org ClaimReview.

Imports are read whole before anything is written: a malformed row is named with its field,
and nothing of the file is kept (the register writes an import in one transaction). Other
fact-checkers rate in their own words; the rating is kept as they wrote it and mapped to our
verdict (false or misleading), and claims they rated true are not the register's business:
they are counted as skipped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from index.claims import OURS, Claim, ClaimDraft, ClaimRegister, Verdict
from index.store import Store
from mediawatch.text import collapse, normalize, spreadsheet_safe

# Folded rating phrases, checked in this order: "mostly false" is misleading, not false.
_MISLEADING = (
    "misleading",
    "mostly false",
    "half true",
    "partly false",
    "partially false",
    "missing context",
    "exaggerated",
    "gay hieu lam",
    "sai mot phan",
    "thieu boi canh",
    "phong dai",
    "xuyen tac",
)
_FALSE = (
    "false",
    "fake",
    "pants on fire",
    "incorrect",
    "hoax",
    "sai",
    "tin gia",
    "bia dat",
    "khong dung",
)
VERDICT_VI = {Verdict.FALSE: "Sai sự thật", Verdict.MISLEADING: "Gây hiểu lầm"}
_RATING_VALUE = {Verdict.FALSE: 1, Verdict.MISLEADING: 2}  # of worst 1, best 5
CSV_FIELDS = (
    "id",
    "statement",
    "verdict",
    "rating",
    "origin",
    "url",
    "published_at",
    "evidence",
    "rebuttal_url",
    "rebuttal_agency",
    "rebuttal_published_at",
    "items",
    "created_by",
    "created_at",
)


# A date or time written without a zone is read as the province's (Asia/Ho_Chi_Minh).
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class ClaimImportError(ValueError):
    """A file that cannot be imported, naming the row and field at fault."""


@dataclass
class ParsedImport:
    drafts: list[ClaimDraft] = field(default_factory=list)
    skipped: int = 0  # rated true or unrated: not claims the register holds


def map_rating(rating: str) -> Verdict | None:
    """Our verdict for a publisher's rating text, or None when it is not false/misleading."""
    words = f" {collapse(normalize(rating))} "
    for phrases, verdict in ((_MISLEADING, Verdict.MISLEADING), (_FALSE, Verdict.FALSE)):
        if any(f" {phrase} " in words for phrase in phrases):
            return verdict
    return None


def _numeric_verdict(rating: Mapping[str, Any]) -> Verdict | None:
    try:
        value = float(rating["ratingValue"])
        best, worst = float(rating.get("bestRating", 5)), float(rating.get("worstRating", 1))
        share = (value - worst) / (best - worst)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if share < 0.25:
        return Verdict.FALSE
    return Verdict.MISLEADING if share <= 0.5 else None


def _name(value: Any) -> str | None:
    """A schema.org Person/Organization or plain text, as a name."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Mapping):
        value = value.get("name")
    return str(value).strip() or None if value is not None else None


def _moment(value: Any) -> Any:
    """An ISO date or time; without a zone, the province's. Anything else is left for
    validation to name."""
    if not isinstance(value, str):
        return value or None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return value or None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_ZONE)


def _draft(where: str, fields: Mapping[str, Any]) -> ClaimDraft:
    try:
        return ClaimDraft.model_validate(fields)
    except ValidationError as error:
        problem = error.errors()[0]
        name = ".".join(str(part) for part in problem["loc"]) or "?"
        raise ClaimImportError(f"{where}, trường '{name}': {problem['msg']}") from error


def _origin(publisher: Any, where: str) -> str:
    """The claim's origin from the fact-checker's name, which a JSON row may give as a
    number, an object or a list: refused naming the field, never a 500."""
    if publisher is not None and not isinstance(publisher, str):
        raise ClaimImportError(
            f"{where}, trường 'publisher': phải là chuỗi văn bản (must be a string), "
            f"không phải {type(publisher).__name__}"
        )
    if not publisher:
        raise ClaimImportError(f"{where}: thiếu đơn vị kiểm chứng (publisher missing)")
    return f"import:{publisher[:200]}"


def _plain(
    where: str, row: Mapping[str, Any], default_publisher: str | None, parsed: ParsedImport
) -> None:
    """One claim of a CSV row or a JSON object: statement, verdict or rating, url…"""
    statement = row.get("statement") or row.get("claim") or row.get("claimReviewed")
    if not statement:
        raise ClaimImportError(f"{where}, trường 'statement': thiếu nội dung (missing)")
    rating = row.get("rating") or None
    verdict = row.get("verdict") or (map_rating(str(rating)) if rating else None)
    if verdict is None:
        if not rating:
            raise ClaimImportError(f"{where}, trường 'verdict': thiếu kết luận (missing)")
        parsed.skipped += 1
        return
    evidence = row.get("evidence") or []
    if isinstance(evidence, str):
        evidence = [e.strip() for e in evidence.split("|") if e.strip()]
    rebuttal = row.get("rebuttal")
    if rebuttal is None and row.get("rebuttal_url"):
        rebuttal = {
            "url": row.get("rebuttal_url"),
            "agency": row.get("rebuttal_agency"),
            "published_at": _moment(row.get("rebuttal_published_at")),
        }
    fields = {
        "statement": statement,
        "verdict": verdict,
        "rating": rating,
        "origin": _origin(
            default_publisher if row.get("publisher") in (None, "") else row["publisher"], where
        ),
        "url": row.get("url") or None,
        "published_at": _moment(row.get("date") or row.get("published_at")),
        "evidence": evidence,
        "rebuttal": rebuttal,
    }
    parsed.drafts.append(_draft(where, fields))


def _claim_review(where: str, review: Mapping[str, Any], parsed: ParsedImport) -> None:
    """One schema.org ClaimReview."""
    rating = review.get("reviewRating")
    if not isinstance(rating, Mapping):
        raise ClaimImportError(f"{where}, trường 'reviewRating': thiếu đánh giá (missing)")
    text = rating.get("alternateName") or rating.get("name")
    verdict = (map_rating(str(text)) if text else None) or _numeric_verdict(rating)
    if not review.get("claimReviewed"):
        raise ClaimImportError(f"{where}, trường 'claimReviewed': thiếu nội dung (missing)")
    if verdict is None:
        parsed.skipped += 1
        return
    item = review.get("itemReviewed") if isinstance(review.get("itemReviewed"), Mapping) else {}
    said_by = _name(item.get("author")) if item else None
    fields = {
        "statement": review["claimReviewed"],
        "verdict": verdict,
        "rating": str(text) if text else str(rating.get("ratingValue")),
        "origin": _origin(_name(review.get("author")), where),
        "url": review.get("url") or None,
        "published_at": _moment(review.get("datePublished")),
        "evidence": [f"Người phát ngôn: {said_by}"] if said_by else [],
    }
    parsed.drafts.append(_draft(where, fields))


def _is_claim_review(value: Any) -> bool:
    kind = value.get("@type") if isinstance(value, Mapping) else None
    return kind == "ClaimReview" or (isinstance(kind, list) and "ClaimReview" in kind)


def parse_json(data: bytes, default_publisher: str | None = None) -> ParsedImport:
    """A list of claims, or ClaimReview JSON-LD: one object, a list, or an ``@graph``."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ClaimImportError(f"không đọc được JSON (invalid JSON): {error}") from error
    if isinstance(document, Mapping):
        document = document.get("@graph", [document])
    if not isinstance(document, list):
        raise ClaimImportError("JSON phải là một danh sách hoặc ClaimReview (a list expected)")
    parsed = ParsedImport()
    for number, entry in enumerate(document, start=1):
        where = f"mục {number}"
        if not isinstance(entry, Mapping):
            raise ClaimImportError(f"{where}: không phải một đối tượng (not an object)")
        if _is_claim_review(entry):
            _claim_review(where, entry, parsed)
        else:
            _plain(where, entry, default_publisher, parsed)
    return parsed


def parse_csv(data: bytes, default_publisher: str | None = None) -> ParsedImport:
    """A header row (statement, verdict or rating, url, publisher, date, evidence…)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ClaimImportError(f"tệp CSV không phải UTF-8 (not UTF-8): {error}") from error
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"statement", "claim"} & set(reader.fieldnames):
        raise ClaimImportError("dòng 1: thiếu cột 'statement' (missing column)")
    parsed = ParsedImport()
    try:
        for row in reader:
            cleaned = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            _plain(f"dòng {reader.line_num}", cleaned, default_publisher, parsed)
    except csv.Error as error:
        raise ClaimImportError(f"dòng {reader.line_num}: {error}") from error
    return parsed


def claim_review(
    claim: Claim, author: str, base_url: str, appearances: Iterable[str]
) -> dict[str, Any]:
    """Our decision as schema.org ClaimReview (what search engines and fact-check
    aggregators read)."""
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": f"{base_url}/claims/{claim.id}",
        "claimReviewed": claim.statement,
        "datePublished": claim.created_at.date().isoformat(),
        "author": {"@type": "Organization", "name": author},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": _RATING_VALUE[claim.verdict],
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": VERDICT_VI[claim.verdict],
        },
        "itemReviewed": {
            "@type": "Claim",
            "appearance": [{"@type": "CreativeWork", "url": url} for url in appearances],
        },
    }


def claim_reviews(
    register: ClaimRegister, store: Store, author: str, base_url: str
) -> list[dict[str, Any]]:
    """Our own claims as ClaimReview, each with the web addresses of the items repeating it."""
    reviews = []
    for claim in register.all(origin=OURS):
        documents = (store.get(item.item_id) for item in claim.items)
        urls = [d.url for d in documents if d is not None and d.url.startswith("http")]
        reviews.append(claim_review(claim, author, base_url, urls))
    return reviews


def csv_rows(claims: Iterable[Claim]) -> Iterable[dict[str, str]]:
    for claim in claims:
        rebuttal = claim.rebuttal
        yield {
            "id": claim.id,
            "statement": claim.statement,
            "verdict": claim.verdict.value,
            "rating": claim.rating or "",
            "origin": claim.origin,
            "url": claim.url or "",
            "published_at": claim.published_at.isoformat() if claim.published_at else "",
            "evidence": " | ".join(claim.evidence),
            "rebuttal_url": rebuttal.url if rebuttal else "",
            "rebuttal_agency": rebuttal.agency if rebuttal else "",
            "rebuttal_published_at": rebuttal.published_at.isoformat()
            if rebuttal and rebuttal.published_at
            else "",
            "items": " ".join(item.item_id for item in claim.items),
            "created_by": claim.created_by,
            "created_at": claim.created_at.isoformat(),
        }


def to_csv(claims: Iterable[Claim]) -> str:
    """The register as CSV; a statement or evidence copied from a hostile post
    ("=HYPERLINK(…)") is defused, as every spreadsheet export of the project is."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS)
    writer.writeheader()
    for row in csv_rows(claims):
        writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
    return out.getvalue()
