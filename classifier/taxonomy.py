"""Policy topics from an editable YAML taxonomy of Vietnamese phrases, matched on folded text."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from mediawatch.model import TopicMatch
from mediawatch.text import GroupedPhraseMatcher

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")

# A phrase in the title counts this much; each distinct phrase in the body counts one.
TITLE_WEIGHT = 2
MIN_SCORE = 2


class TopicSpec(BaseModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_vi: str
    label_en: str
    phrases: list[str] = Field(min_length=1)


class TaxonomyFile(BaseModel):
    version: int
    topics: list[TopicSpec]


class Taxonomy:
    """Multi-label: every topic whose phrases weigh enough in the title and body."""

    def __init__(self, spec: TaxonomyFile) -> None:
        self.spec = spec
        self.labels_vi = {topic.id: topic.label_vi for topic in spec.topics}
        # One pass over the text finds every topic's phrases, as one matcher per topic would.
        self._matcher = GroupedPhraseMatcher({topic.id: topic.phrases for topic in spec.topics})

    @classmethod
    def load(cls, path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
        return cls(TaxonomyFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))

    def match(self, title: str, text: str) -> list[TopicMatch]:
        matches = []
        title_hits, body_hits = self._matcher.find(title), self._matcher.find(text)
        for topic_id in self.labels_vi:
            in_title = {hit.phrase for hit in title_hits.get(topic_id, ())}
            in_body = {hit.phrase for hit in body_hits.get(topic_id, ())}
            score = TITLE_WEIGHT * len(in_title) + len(in_body - in_title)
            if score >= MIN_SCORE:
                evidence = sorted(in_title | in_body)
                matches.append(
                    TopicMatch(id=topic_id, label_vi=self.labels_vi[topic_id], evidence=evidence)
                )
        return matches
