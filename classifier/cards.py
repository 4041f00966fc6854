"""A model card people can read, written beside the JSON card the code reads."""

from __future__ import annotations

from pathlib import Path

from classifier.embeddings import EmbeddingCard
from classifier.linear import ModelCard
from classifier.risk import RiskWeights
from classifier.train import CALIBRATION_KEY, CURVE_KEY, SELECTION_KEY


def write_card_markdown(card: ModelCard, directory: Path) -> Path:
    lines = [
        f"# Model card: {card.task}",
        "",
        f"- version: `{card.version}`",
        f"- trained: {card.trained_at} with seed {card.seed}",
        f"- classes: {', '.join(card.classes)}",
        f"- method: {card.notes}",
        f"- features: {card.featurizer.n_features} hashed features, word n-grams "
        f"{card.featurizer.word_ngrams}, character n-grams {card.featurizer.char_ngrams}"
        + (" (of the folded and the accented text)" if card.featurizer.accented_chars else ""),
        *([f"- experts (a model per data set): {', '.join(card.experts)}"] if card.experts else []),
        f"- rebuild: `mediawatch train --task {card.task} --seed {card.seed}` "
        f"(data: `{card.data.get('directory')}`)",
        "",
        "## Data",
        "",
        "| data set | train | dev | dev from | train labels |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, info in card.data.get("datasets", {}).items():
        labels = ", ".join(f"{k} {v}" for k, v in sorted(info["train_labels"].items()))
        lines.append(
            f"| {name} | {info['train']} | {info['dev']} | {info['dev_origin']} | {labels} |"
        )
    lines += _selection_lines(card)
    lines += ["", "## Metrics", "", "| split | metric | value |", "| --- | --- | ---: |"]
    for split, metrics in card.metrics.items():
        if split in (CURVE_KEY, CALIBRATION_KEY, SELECTION_KEY):
            continue
        for metric, value in metrics.items():
            lines.append(f"| {split} | {metric} | {value} |")
    lines += _calibration_lines(card)
    use = (
        "Use: a signal for people, never a verdict. Domain shift is large (the data sets "
        "above versus provincial news and today's social posts): expect lower scores there."
    )
    return _write(directory, card.task, lines, use)


def _write(directory: Path, task: str, lines: list[str], use: str) -> Path:
    """``<task>.card.md``: the lines, then the paragraph on what the model is for."""
    path = directory / f"{task}.card.md"
    path.write_text("\n".join([*lines, "", use, ""]), encoding="utf-8")
    return path


def write_risk_card_markdown(weights: RiskWeights, directory: Path) -> Path:
    """The risk combination's card: each signal's weight and prior, and dev scores."""
    lines = [
        "# Model card: risk",
        "",
        f"- version: `{weights.version}`",
        f"- trained: {weights.trained_at}",
        f"- method: {weights.notes}",
        f"- reliability model: `{weights.data.get('reliability_model')}`, toxicity model: "
        f"`{weights.data.get('toxicity_model')}`; reviewed items: "
        f"{weights.data.get('reviewed_rows', 0)}",
        "- rebuild: `mediawatch train --task risk` (after the reliability and toxicity models)",
        "",
        "## Weights (log-odds per unit of each signal, signals in [0, 1])",
        "",
        f"Intercept {weights.intercept:.3f}: a social post outside any story or claim, every "
        "other signal at zero.",
        "",
        "| signal | weight | prior mean | prior strength | reference value |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, coefficient in weights.coefficients.items():
        mean, strength = weights.priors.get(name, [0.0, 0.0])
        reference = weights.reference.get(name, 0.0)
        lines.append(f"| {name} | {coefficient:.3f} | {mean:.3f} | {strength} | {reference} |")
    lines += ["", "## On dev (reliability data sets)", "", "| split | scored by | metric | value |"]
    lines.append("| --- | --- | --- | ---: |")
    for split, scores in weights.metrics.items():
        for scored_by, metrics in scores.items():
            if isinstance(metrics, dict):
                for metric, value in metrics.items():
                    lines.append(f"| {split} | {scored_by} | {metric} | {value} |")
    lines += [
        "",
        "Use: the order of the review queue and the reasons shown with each item; people "
        "decide. Compare `risk` with `reliability_model_alone` above to see what the other "
        "signals add on the labelled posts.",
        "",
    ]
    path = directory / "risk.card.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _selection_lines(card: ModelCard) -> list[str]:
    """Each expert's settings and their cross-validated scores on train, and the choice."""
    selection = card.metrics.get(SELECTION_KEY)
    if not selection:
        return []
    lines = [
        "",
        "## Choices (5-fold cross-validation on train; mean macro-F1 as written and folded)",
        "",
        "| fitted on | expert | setting | CV macro-F1 | chosen | temperature |",
        "| --- | --- | --- | ---: | --- | ---: |",
    ]
    for fitted_on, experts in selection.items():
        for expert, chosen in experts.items():
            for setting, score in chosen["cv_macro_f1_as_written_and_folded"].items():
                mark = "✓" if setting == chosen["chosen"] else ""
                temperature = chosen["temperature"] if mark else ""
                lines.append(
                    f"| {fitted_on} | {expert} | {setting} | {score} | {mark} | {temperature} |"
                )
    return lines


def _calibration_lines(card: ModelCard) -> list[str]:
    """The reliability curve on dev, and the calibration applied if any."""
    lines = []
    calibration = card.metrics.get(CALIBRATION_KEY)
    if calibration:
        before = ", ".join(f"{k} {v}" for k, v in calibration.items() if k.endswith("_before"))
        lines += [
            "",
            f"Calibrated: {calibration['method']}; temperature {calibration['temperature']} "
            f"(ECE before: {before}).",
        ]
    for split, curve in card.metrics.get(CURVE_KEY, {}).items():
        lines += [
            "",
            f"## Reliability curve on {split} ({curve['of']}, 10 bins)",
            "",
            "| mean predicted | observed | count |",
            "| ---: | ---: | ---: |",
            *(f"| {b['mean_predicted']} | {b['observed']} | {b['count']} |" for b in curve["bins"]),
        ]
    return lines


def write_embeddings_card_markdown(card: EmbeddingCard, directory: Path) -> Path:
    """The word vectors' card: how they were trained, on what, and the checks they passed."""
    metrics = card.metrics
    lines = [
        f"# Model card: {card.task}",
        "",
        f"- version: `{card.version}`",
        f"- trained: {card.trained_at} with seed {card.seed} in {card.training_seconds} s",
        f"- method: {card.notes}",
        f"- gensim FastText {card.method}: {card.dims} dimensions, window {card.window}, "
        f"{card.epochs} epochs, words seen at least {card.min_count} times",
        f"- vocabulary {card.vocabulary} folded words; character n-grams "
        f"{card.min_n}..{card.max_n} hashed into {card.buckets} buckets, "
        f"{card.bucket_rows} of them trained and shipped",
        f"- file: {card.size_bytes} bytes, SHA-256 `{card.sha256}`",
        f"- rebuild: `mediawatch train-embeddings --data-dir {card.data.get('directory')} "
        f"--out classifier/models --seed {card.seed}`",
        "",
        f"## Data ({card.data.get('split')} splits only, {card.tokens} words; "
        f"{_cap(card.data.get('max_words_per_text'))})",
        "",
        "| data set | texts | words |",
        "| --- | ---: | ---: |",
        *(
            f"| {name} | {info['texts']} | {info['words']} |"
            for name, info in card.data.get("datasets", {}).items()
        ),
        "",
        "## Checks",
        "",
        "| check | value |",
        "| --- | ---: |",
    ]
    for name, value in metrics.items():
        if isinstance(value, dict):
            lines += [f"| {name}: {key} | {item} |" for key, item in value.items()]
        else:
            lines.append(f"| {name} | {value} |")
    use = (
        "Use: a semantic similarity beside the lexical one in claim matching; people decide. "
        "The vectors know the words of the training texts (press of 2003–2006, social posts "
        "of 2017–2021, reviews): newer names and slang fall back to their character n-grams."
    )
    return _write(directory, card.task, lines, use)


def _cap(max_words: int | None) -> str:
    if max_words is None:
        return "whole texts (the data sets cut them at 4,000 characters)"
    return f"the first {max_words} words of each text"
