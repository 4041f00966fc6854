"""Naming a community is not an insult: neutral sentences are not flagged for who they name.

The sentences are a frozen set written blind from a guideline (tests/data/identity/README.md),
by a writer other than the one who wrote the training sentences of classifier/data/identity.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classifier.service import ItemToClassify
from mediawatch.demo.site import load_corpus
from mediawatch.model import SourceTier
from mediawatch.text import fold, written_with_diacritics

SET = Path(__file__).parent / "data" / "identity"
PLAIN = "người dân"
FLAGGED_AT = 0.5  # toxic is the more likely class


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (SET / name).read_text(encoding="utf-8").splitlines()]


TEMPLATES = [row["template"] for row in _read("templates.jsonl")]
COMMUNITIES = _read("communities.jsonl")


def _fill(template: str, phrase: str) -> str:
    """The template with ``phrase`` in its slot, folded where the sentence has no diacritics."""
    accented = written_with_diacritics(template.replace("{X}", ""))
    return template.replace("{X}", phrase if accented else fold(phrase))


def _flagged_share(classifier, texts: list[str]) -> float:
    model = classifier.models["toxicity"]
    toxic = model.predict_proba(texts)[:, model.classes.index("toxic")]
    return float(np.mean(toxic >= FLAGGED_AT))


@pytest.mark.parametrize("kind", ["ethnic", "religion", "region"])
def test_naming_a_community_flags_no_more_sentences_than_naming_nobody(classifier, kind):
    plain = _flagged_share(classifier, [_fill(t, PLAIN) for t in TEMPLATES])
    phrases = [c["phrase"] for c in COMMUNITIES if c["kind"] == kind]
    named = _flagged_share(classifier, [_fill(t, p) for t in TEMPLATES for p in phrases])
    assert named <= plain, (kind, named, plain)


def test_naming_several_communities_at_once_flags_no_more_than_naming_nobody(classifier):
    # As an official report does: "đồng bào K'Ho, bà con Công giáo và người miền Trung".
    groups = [
        [c["phrase"] for c in COMMUNITIES if c["kind"] == k]
        for k in ("ethnic", "religion", "region")
    ]
    lists = [f"{a}, {b} và {c}" for a, b, c in zip(*groups, strict=True)]
    plain = _flagged_share(classifier, [_fill(t, PLAIN) for t in TEMPLATES])
    named = _flagged_share(classifier, [_fill(t, phrases) for t in TEMPLATES for phrases in lists])
    assert named <= plain, (named, plain)


def test_the_official_meeting_with_community_representatives_is_not_toxic(classifier):
    corpus = load_corpus()
    item = next(i for i in corpus.items if "người có uy tín" in i.title)
    (result,) = classifier.classify_batch(
        [ItemToClassify(item.title, "\n".join(item.paragraphs), SourceTier.OFFICIAL)]
    )
    assert result.toxicity_probability < FLAGGED_AT
    assert not any(reason.code == "toxic_wording" for reason in result.reasons)
