"""Inverse document frequency weighting: learned on train, stored with the weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from sklearn.preprocessing import normalize

from classifier.features import TextFeaturizer, inverse_document_frequency, reweighted
from classifier.linear import LinearTextModel
from classifier.train import TASKS, train_task
from tests.labelled_data import write_toxicity_data

TEXTS = ["cảm ơn bạn, tuyệt vời", "đồ ngu cút đi", "cảm ơn cảm ơn", "hôm nay trời mưa"]


def test_idf_is_smoothed_like_tfidf_and_reweighting_matches_weighting_the_counts():
    featurizer = TextFeaturizer()
    features = featurizer.transform(TEXTS)
    idf = inverse_document_frequency(features)
    column = features[1].indices[0]  # a feature of the second text
    in_texts = int((features[:, column] != 0).sum())
    assert idf[column] == np.float32(np.log(5 / (1 + in_texts)) + 1)
    assert idf.min() >= 1 and idf[features.indices].max() < idf.max()  # unseen columns: highest
    # Scaling normalised rows then normalising equals scaling the log counts then normalising.
    direct = normalize(features.multiply(idf).tocsr())
    assert np.allclose(reweighted(features, idf).toarray(), direct.toarray())
    assert not np.allclose(features.toarray(), direct.toarray())


def test_a_model_with_idf_keeps_it_through_save_and_load(tmp_path: Path):
    data = write_toxicity_data(tmp_path / "data", {"train": 150, "dev": 40}, seed=3)
    spec = dataclasses.replace(TASKS["toxicity"], idf_weighting=True)
    model = train_task(spec, data, seed=13)
    assert model.idf is not None and model.idf.shape == (model.card.featurizer.n_features,)
    assert "inverse document frequency" in model.card.notes
    model.save(tmp_path / "models")
    again = LinearTextModel.load(tmp_path / "models", "toxicity")
    assert np.array_equal(again.idf, model.idf)
    assert np.allclose(again.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-6)
    without = LinearTextModel(again.card, again.coef, again.intercept, gate=again.gate)
    assert not np.allclose(without.predict_proba(TEXTS), again.predict_proba(TEXTS), atol=1e-3)
    assert again.predict_proba(["đồ ngu cút đi"])[0, 1] > 0.5
