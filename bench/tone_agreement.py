"""Agreement of the two independent passes over the news-tone set's doubly labelled items.

Cohen's kappa already sets the observed agreement against the agreement two labellers with
the same label shares would reach by chance; both are printed.

    python -m bench.tone_agreement
"""

from __future__ import annotations

from collections import Counter

from sklearn.metrics import cohen_kappa_score

from classifier.news_tone import LABELS_FILE, SECOND_PASS_FILE, TONE_CLASSES, read_labels


def main() -> dict:
    first, second = read_labels(LABELS_FILE), read_labels(SECOND_PASS_FILE)
    both = sorted(second)
    a, b = [first[i] for i in both], [second[i] for i in both]
    shares_a, shares_b = Counter(a), Counter(b)
    chance = sum(shares_a[label] * shares_b[label] for label in TONE_CLASSES) / len(both) ** 2
    report = {
        "items": len(both),
        "observed_agreement": round(sum(x == y for x, y in zip(a, b, strict=True)) / len(both), 4),
        "chance_agreement": round(chance, 4),
        "cohen_kappa": round(float(cohen_kappa_score(a, b)), 4),
        "pairs": {f"{x}/{y}": n for (x, y), n in sorted(Counter(zip(a, b, strict=True)).items())},
    }
    for key, value in report.items():
        print(f"{key}: {value}")
    return report


if __name__ == "__main__":
    main()
