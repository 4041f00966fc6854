"""Learning from reviewers' decisions: new model versions beside the old, switched explicitly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifier.linear import ModelLoadError
from classifier.registry import SHIPPED, ModelRegistry, RegistryError
from classifier.service import SHIPPED_MODELS, Classifier, ItemToClassify
from mediawatch.cli import app
from mediawatch.config import Settings
from mediawatch.model import ReviewOutcome, SourceTier
from tests.conftest import shared_path
from tests.factories import decide, make_document, small_labelled_data

RUMOUR = (
    "Nghe nói sắp thu hồi đất ở Lạc Dương",
    "Nguồn tin nội bộ cho biết không bồi thường. Ae chia sẻ gấp trước khi bị xóa!",
)
NEWS = (
    "UBND tỉnh công bố quy hoạch sử dụng đất",
    "Quy hoạch được công khai tại trụ sở các xã; người dân góp ý đến hết ngày 30/12.",
)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MEDIAWATCH_DATA_DIR", str(settings.data_dir))
    return {}


def test_registry_refuses_unknown_versions_and_never_overwrites(tmp_path: Path):
    registry = ModelRegistry(tmp_path / "models")
    assert registry.directory_for("reliability") == SHIPPED_MODELS
    assert [v.version for v in registry.versions("reliability")] == [SHIPPED]
    with pytest.raises(RegistryError, match="no version 'nope' of 'reliability'; known: shipped"):
        registry.use("reliability", "nope")
    registry.new_version_directory("reliability", "v1")
    with pytest.raises(RegistryError, match="never overwritten"):
        registry.new_version_directory("reliability", "v1")
    with pytest.raises(RegistryError, match="not a usable version name"):
        registry.new_version_directory("reliability", "../escape")
    with pytest.raises(RegistryError, match=r"unknown task '\.\./\.\./escaped'"):
        registry.new_version_directory("../../escaped", "v1")
    assert not (tmp_path / "escaped").exists()
    # "shipped" for topics means no topic model: always a version to go back to.
    assert registry.use("topics", SHIPPED).card == {"notes": "none shipped"}


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"reliability": 5}', '{"reliability": "../../../etc"}', '{"golf": "v1"}'],
)
def test_a_damaged_choice_of_versions_is_a_clear_error_everywhere(
    content: str, settings: Settings, cli_env
):
    settings.models_registry.mkdir(parents=True)
    (settings.models_registry / "active.json").write_text(content, encoding="utf-8")
    with pytest.raises(ModelLoadError, match=r"the model registry cannot be read: .*active\.json"):
        Classifier.from_settings(settings)
    listing = CliRunner().invoke(app, ["models", "list"])
    assert listing.exit_code == 2 and "active.json" in listing.output


def test_reviews_train_new_versions_that_wait_for_an_explicit_switch(
    tmp_path: Path, settings: Settings, store, pipeline, cli_env
):
    runner = CliRunner()
    data = small_labelled_data(tmp_path / "labelled", ("reintel", "vfnd"), 250)
    nothing = runner.invoke(app, ["train", "--include-reviews", "--data", str(data)])
    assert nothing.exit_code == 1
    assert "no decided item with outcome false, misleading or accurate" in nothing.output

    rumour = make_document("https://fb.example/p/1", *RUMOUR, tier=SourceTier.SOCIAL)
    news = make_document("https://lamdong.gov.vn/a/2", *NEWS, tier=SourceTier.OFFICIAL)
    aside = make_document("https://fb.example/p/3", "Chuyện khác", "Không liên quan.")
    pipeline.ingest([rumour, news, aside])
    decide(store, rumour.id, ReviewOutcome.FALSE, "an")
    decide(store, news.id, ReviewOutcome.ACCURATE, "an")
    decide(store, aside.id, ReviewOutcome.NOT_RELEVANT, "an")

    mixed = runner.invoke(app, ["train", "--include-reviews", "--task", "risk"])
    assert mixed.exit_code == 2 and "takes no --task" in mixed.output
    trained = runner.invoke(app, ["train", "--include-reviews", "--data", str(data)])
    assert trained.exit_code == 0, trained.output
    assert not list(settings.models_registry.glob(".training*"))  # staging cleaned up
    registry = ModelRegistry(settings.models_registry)
    new_reliability = registry.versions("reliability")[-1]
    new_risk = registry.versions("risk")[-1]
    assert new_reliability.version != SHIPPED and new_risk.version != SHIPPED
    assert new_reliability.card["data"]["datasets"]["reviews"]["train_labels"] == {
        "unreliable": 1,
        "reliable": 1,
    }
    assert new_risk.card["data"]["reviewed_rows"] == 2
    assert (new_reliability.directory / "reliability.card.md").exists()
    assert (new_risk.directory / "risk.card.md").exists()
    assert f"mediawatch models use reliability {new_reliability.version}" in trained.output

    # Nothing changes until someone switches.
    in_use = Classifier.from_settings(settings)
    assert in_use.model_versions["reliability"] == Classifier.load().model_versions["reliability"]

    switched = runner.invoke(app, ["models", "use", "reliability", new_reliability.version])
    assert switched.exit_code == 0, switched.output
    assert Classifier.from_settings(settings).model_versions["reliability"] == (
        new_reliability.version
    )
    listing = runner.invoke(app, ["models", "list"])
    assert new_reliability.version in listing.output and "✓" in listing.output
    refused = runner.invoke(app, ["models", "use", "risk", "no-such-version"])
    assert refused.exit_code == 2 and "known: shipped" in refused.output
    back = runner.invoke(app, ["models", "use", "reliability", SHIPPED])
    assert back.exit_code == 0
    assert json.loads((settings.models_registry / "active.json").read_text()) == {}


def _vntc(label: str, count: int, skip: int = 0) -> list[str]:
    with gzip.open(shared_path("data/vntc/dev.jsonl.gz"), "rt", encoding="utf-8") as rows:
        matching = [r["text"] for r in map(json.loads, rows) if r["label"] == label]
    return matching[skip : skip + count]


def test_topic_corrections_train_a_topic_model_the_service_uses_once_switched(
    settings: Settings, store, pipeline, live_api, cli_env
):
    """The office files sports events under tourism: 25 corrections teach the model that."""
    import httpx

    from tests.conftest import API_TOKEN

    sports, business = _vntc("sports", 26), _vntc("business", 25)
    documents = [
        make_document(f"https://press.example/{kind}/{i}", text.split("\n")[0], text)
        for kind, texts in (("sports", sports[:25]), ("business", business))
        for i, text in enumerate(texts)
    ]
    pipeline.ingest(documents)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=live_api.url, headers=headers) as client:
        for document in documents:
            topics = ["tourism"] if "/sports/" in document.url else []
            answer = client.put(f"/api/items/{document.id}/topics", json={"topics": topics})
            assert answer.status_code == 200, answer.text
        unknown = client.put(f"/api/items/{documents[0].id}/topics", json={"topics": ["golf"]})
        missing = client.put("/api/items/web:nothing/topics", json={"topics": []})
    assert unknown.status_code == 422 and "golf" in unknown.text
    assert missing.status_code == 404

    trained = CliRunner().invoke(
        app, ["train", "--include-reviews", "--data", str(shared_path("data"))]
    )
    assert trained.exit_code == 0, trained.output
    assert "reliability, risk: no decided item" in trained.output
    registry = ModelRegistry(settings.models_registry)
    (topic_version,) = [v for v in registry.versions("topics") if v.version != SHIPPED]
    assert topic_version.card["classes"] == ["tourism"]
    assert topic_version.card["metrics"]["dev"]["macro_f1"] > 0.8

    held_out = ItemToClassify(sports[25].split("\n")[0], sports[25], SourceTier.PRESS)
    before = Classifier.from_settings(settings).classify_batch([held_out])[0]
    assert "tourism" not in {t.id for t in before.topics}
    switched = CliRunner().invoke(app, ["models", "use", "topics", topic_version.version])
    assert switched.exit_code == 0, switched.output
    after = Classifier.from_settings(settings).classify_batch([held_out])[0]
    learned = {t.id: t for t in after.topics}["tourism"]
    assert learned.evidence[0].startswith(f"mô hình chủ đề {topic_version.version}")
    back = CliRunner().invoke(app, ["models", "use", "topics", SHIPPED])
    assert back.exit_code == 0
    assert Classifier.from_settings(settings).topic_model is None
