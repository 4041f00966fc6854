"""Claims in and out of the register: CSV, a JSON list, and schema.org ClaimReview.

Imports are read whole before anything is written: a malformed row is named with its field,
and nothing of the file is kept (the register writes an import in one transaction). Other
fact-checkers rate in their own words; the rating is kept as they wrote it and read through
an explicit table (``RATINGS``: the whole rating, so a negation is never read as its opposite)
or a numeric ratingValue. Claims rated true or unproven are not the register's business and
are counted as skipped; a rating nobody put in the table is counted as unknown, never guessed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError

from index.claims import OURS, Claim, ClaimDraft, ClaimRegister, Verdict
from index.store import Store
from mediawatch.model import web_url
from mediawatch.text import collapse, normalize, spreadsheet_safe

log = structlog.get_logger("index.claim_exchange")


class Reading(StrEnum):
    """What a publisher's rating says about a claim; only the first two are registered."""

    FALSE = Verdict.FALSE.value
    MISLEADING = Verdict.MISLEADING.value
    TRUE = "true"
    UNPROVEN = "unproven"


def _table(reading: Reading, *phrases: str) -> dict[str, Reading]:
    return dict.fromkeys(phrases, reading)


# Every rating we understand, as the whole rating text folded (lower case, no diacritics,
# punctuation as spaces). A phrase inside a longer rating is never enough: "not false" and
# "không phải tin giả" contain "false" and "tin giả" and mean the opposite.
RATINGS: dict[str, Reading] = (
    _table(
        Reading.FALSE,
        *("false", "fake", "fake news", "pants on fire", "incorrect", "hoax", "wrong"),
        *("fabricated", "untrue", "not true", "totally false", "completely false", "scam"),
        *("sai", "sai su that", "tin sai", "tin gia", "bia dat", "khong dung"),
        *("khong dung su that", "hoan toan sai", "sai hoan toan", "khong co that"),
        *("khong chinh xac", "gia mao", "lua dao", "tin bia dat", "sai lech su that"),
    )
    | _table(
        Reading.MISLEADING,
        *("misleading", "mostly false", "half true", "partly false", "partially false"),
        *("missing context", "lacks context", "exaggerated", "distorted", "mixture"),
        *("partly true", "partially true", "out of context", "manipulated"),
        *("gay hieu lam", "sai mot phan", "dung mot phan", "thieu boi canh", "phong dai"),
        *("xuyen tac", "sai lech", "chua chinh xac", "khong hoan toan dung"),
        *("cat ghep", "sai ngu canh", "bop meo"),
    )
    | _table(
        Reading.TRUE,
        *("true", "correct", "accurate", "mostly true", "not false", "not fake"),
        *("not misleading", "real", "genuine", "verified true"),
        *("dung", "dung su that", "chinh xac", "su that", "that", "tin that"),
        *("khong sai", "khong phai tin gia", "khong phai tin sai", "khong gay hieu lam"),
        *("khong sai su that", "khong bia dat", "khong phai bia dat", "co that"),
    )
    | _table(
        Reading.UNPROVEN,
        *("unproven", "unverified", "unsupported", "unclear", "undetermined", "no evidence"),
        *("research in progress", "not sure", "uncertain"),
        *("chua chac", "chua xac minh", "chua kiem chung", "chua ro", "chua co bang chung"),
        *("khong the xac minh", "khong ro", "chua du co so", "chua duoc xac minh"),
    )
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
    "author_name",
    "author_url",
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
    skipped: int = 0  # rated true or unproven: not claims the register holds
    unknown: int = 0  # rated in words the table does not know: skipped, not guessed
    unknown_ratings: list[str] = field(default_factory=list)  # each such rating once

    def registers(self, reading: Reading | None, rating: Any) -> bool:
        """Whether a claim so rated goes in the register; the others are counted."""
        if reading is None:
            self.unknown += 1
            if str(rating) not in self.unknown_ratings:
                self.unknown_ratings.append(str(rating))
            return False
        if reading in (Reading.TRUE, Reading.UNPROVEN):
            self.skipped += 1
            return False
        return True


def read_rating(rating: str) -> Reading | None:
    """What a publisher's rating text says, or None when the table does not know it: an
    unknown rating is counted and skipped, never guessed."""
    return RATINGS.get(collapse(normalize(rating)))


def map_rating(rating: str) -> Verdict | None:
    """Our verdict for a publisher's rating text, or None when it is not false/misleading
    (or not understood)."""
    reading = read_rating(rating)
    return Verdict(reading.value) if reading in (Reading.FALSE, Reading.MISLEADING) else None


def _numeric_reading(rating: Mapping[str, Any]) -> Reading | None:
    """A ratingValue between worstRating (1) and bestRating (5): the bottom quarter is
    false, up to the middle misleading, above it true; outside the scale, not understood."""
    try:
        value = float(rating["ratingValue"])
        best, worst = float(rating.get("bestRating", 5)), float(rating.get("worstRating", 1))
        share = (value - worst) / (best - worst)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not 0 <= share <= 1:
        return None
    if share < 0.25:
        return Reading.FALSE
    return Reading.MISLEADING if share <= 0.5 else Reading.TRUE


def _name(value: Any) -> str | None:
    """A schema.org Person/Organization or plain text, as a name."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Mapping):
        value = value.get("name")
    return str(value).strip() or None if value is not None else None


def _person(value: Any, where: str) -> dict[str, Any] | None:
    """Who made a claim (schema.org Person/Organization or plain text): name and profile
    page, kept apart from the evidence so the privacy gate can hold them back. A profile
    that is not an http(s) address (javascript:, data:) is dropped, logged; the name stays."""
    if isinstance(value, list):
        value = value[0] if value else None
    name = _name(value)
    if name is None:
        return None
    url = value.get("url") if isinstance(value, Mapping) else None
    if not isinstance(url, str) or not url.strip():
        return {"name": name, "url": None}
    try:
        return {"name": name, "url": web_url(url)}
    except ValueError:
        log.warning("claims.import.author_url_dropped", where=where, url=url[:200])
        return {"name": name, "url": None}


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
    verdict = row.get("verdict") or None
    if verdict is None:
        if not rating:
            raise ClaimImportError(f"{where}, trường 'verdict': thiếu kết luận (missing)")
        reading = read_rating(str(rating))
        if not parsed.registers(reading, rating):
            return
        verdict = reading.value
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
    reading = (read_rating(str(text)) if text else None) or _numeric_reading(rating)
    if not review.get("claimReviewed"):
        raise ClaimImportError(f"{where}, trường 'claimReviewed': thiếu nội dung (missing)")
    if not parsed.registers(reading, text or rating.get("ratingValue")):
        return
    item = review.get("itemReviewed") if isinstance(review.get("itemReviewed"), Mapping) else {}
    fields = {
        "statement": review["claimReviewed"],
        "verdict": reading.value,
        "rating": str(text) if text else str(rating.get("ratingValue")),
        "origin": _origin(_name(review.get("author")), where),
        "url": review.get("url") or None,
        "published_at": _moment(review.get("datePublished")),
        "author": _person(item.get("author"), where),
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
            "author_name": claim.author.name if claim.author else "",
            "author_url": (claim.author.url or "") if claim.author else "",
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
