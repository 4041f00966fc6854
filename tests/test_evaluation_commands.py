"""`mediawatch evaluate --task risk|claims` and `mediawatch heldout-sets`: an office measures the
review queue and the claims matcher on its own labelled lines, and the frozen held-out files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from itertools import product
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench import heldout
from classifier.claims_evaluation import ClaimItem, Found, LexicalBaseline, match_rates
from classifier.labelled_data import read_jsonl
from classifier.risk_evaluation import queue_rates
from classifier.service import Classifier, ItemToClassify
from classifier.train import TASKS, load_task_data
from mediawatch.cli import app
from mediawatch.config import Settings
from mediawatch.model import SourceTier
from mediawatch.stories import THRESHOLD, shingles
from mediawatch.text import collapse, fold
from tests.conftest import REPO, shared_path

RISK_LINES = [
    {
        "id": "r1",
        "text": "KHẨN CẤP!!! Chia sẻ ngay: nghe nói Lâm Đồng sắp thu hồi toàn bộ đất nông nghiệp "
        "ở Đà Lạt, ai chưa biết thì share gấp kẻo mất đất",
        "source_tier": "social",
        "flag": True,
        "cues": ["call_to_share", "urgency"],
        "writing": "accented",
    },
    {
        "id": "r2",
        "title": "Hội nghị tổng kết",
        "text": "UBND tỉnh Lâm Đồng tổ chức hội nghị tổng kết công tác năm 2025 tại Đà Lạt, "
        "đánh giá kết quả phát triển kinh tế - xã hội.",
        "source_tier": "official",
        "flag": False,
        "writing": "accented",
    },
    {
        "text": "nghe noi nuoc may o Bao Loc bi nhiem doc chi, moi nguoi dung uong nua nhe, "
        "chia se cho ca nha biet",
        "source_tier": "social",
        "flag": True,
        "cues": ["call_to_share"],
        "writing": "unaccented",
    },
    {
        "id": 4,
        "text": "Sở Y tế Lâm Đồng thông báo lịch tiêm chủng mở rộng tháng 12 tại các trạm y tế.",
        "title": "Lịch tiêm chủng",
        "source_tier": "press",
        "flag": False,
    },
    {
        "id": "r5",
        "text": "Tin sốc: quan chức tỉnh bỏ trốn ra nước ngoài mang theo nghìn tỷ, báo chí "
        "không dám đưa tin, cư dân mạng truyền tay nhau!!!",
        "source_tier": "unknown",
        "flag": True,
        "cues": ["urgency"],
    },
    {
        "id": "r6",
        "text": "Giá cà phê tại Di Linh tăng nhẹ trong tuần, nông dân phấn khởi thu hoạch.",
        "source_tier": "press",
        "flag": False,
    },
    {
        "id": "r7",
        "text": "Đà Lạt đón hơn 8 triệu lượt khách du lịch trong năm, tăng 10% so với cùng kỳ.",
        "source_tier": "social",
        "flag": False,
        "writing": "accented",
    },
    {
        "id": "r8",
        "text": "Cảnh báo: vắc xin gây vô sinh, bộ y tế giấu thông tin, đừng cho con đi tiêm!",
        "source_tier": "social",
        "flag": True,
    },
]

CLAIMS = [
    {
        "id": "c1",
        "statement": "Tỉnh Lâm Đồng sẽ thu hồi toàn bộ đất nông nghiệp của người dân "
        "ở Đà Lạt trong năm 2026",
    },
    {"id": 2, "statement": "Nước máy ở Bảo Lộc bị nhiễm độc chì, người dân không được uống"},
]
CLAIM_LINES = [
    {
        "id": "verbatim",
        "text": "Tỉnh Lâm Đồng sẽ thu hồi toàn bộ đất nông nghiệp của người dân ở Đà Lạt trong "
        "năm 2026",
        "claim_id": "c1",
        "style": "verbatim",
    },
    {
        "id": "unrelated",
        "text": "Đội bóng đá Lâm Đồng thắng 2-0 trên sân nhà tối qua trước sự cổ vũ của hàng "
        "nghìn cổ động viên.",
        "claim_id": None,
    },
]


def run_cli(*args: object, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [str(arg) for arg in args], env=env)


def write_jsonl(path: Path, rows: list) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return path


def classifier_output(lines: list[dict]) -> tuple[list[float], list[float]]:
    """What the service's classifier itself says of the lines."""
    classifier = Classifier.from_settings(Settings())
    results = classifier.classify_batch(
        [
            ItemToClassify(line.get("title", ""), line["text"], SourceTier(line["source_tier"]))
            for line in lines
        ]
    )
    return [r.risk for r in results], [r.unreliable_probability for r in results]


def test_risk_figures_are_those_of_the_classifiers_scores(tmp_path: Path):
    risks, unreliable = classifier_output(RISK_LINES)
    # A threshold between the scores, so that both flagged and other items fall either side.
    threshold = sorted(risks)[len(risks) // 2]
    path = write_jsonl(tmp_path / "risk.jsonl.gz", RISK_LINES)
    result = run_cli(
        "evaluate", "--task", "risk", "--data", path,
        env={"MEDIAWATCH_REVIEW_THRESHOLD": str(threshold)},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    flags = [line["flag"] for line in RISK_LINES]
    queued = [risk >= threshold for risk in risks]
    positives = sum(flags)
    assert report["threshold"] == threshold
    assert (report["n"], report["positives"], report["queued"]) == (8, positives, sum(queued))
    caught = sum(q and f for q, f in zip(queued, flags, strict=True))
    false = sum(q and not f for q, f in zip(queued, flags, strict=True))
    assert report["recall"] == round(caught / positives, 4)
    assert report["false_flag_rate"] == round(false / (8 - positives), 4)
    assert 0 <= report["roc_auc"] <= 1
    missed = [i + 1 for i, (q, f) in enumerate(zip(queued, flags, strict=True)) if f and not q]
    assert [item["line"] for item in report["missed"]] == missed
    assert [item["risk"] for item in report["missed"]] == [round(risks[n - 1], 4) for n in missed]
    wrongly = [i + 1 for i, (q, f) in enumerate(zip(queued, flags, strict=True)) if q and not f]
    assert [item["line"] for item in report["false_flags"]] == wrongly
    assert {item["id"] for item in report["missed"] + report["false_flags"]} <= {
        "r1", "r2", None, "4", "r5", "r6", "r7", "r8"
    }  # fmt: skip
    baseline = report["baseline"]
    assert baseline["queued"] == sum(p >= threshold for p in unreliable)
    assert baseline["recall"] == round(
        sum(p >= threshold and f for p, f in zip(unreliable, flags, strict=True)) / positives, 4
    )
    breakdowns = report["breakdowns"]
    assert set(breakdowns["source_tier"]) == {"social", "official", "press", "unknown"}
    assert breakdowns["source_tier"]["social"]["n"] == 4
    assert set(breakdowns["writing"]) == {"accented", "unaccented"}
    cues = breakdowns["cue"]
    assert (cues["call_to_share"]["positives"], cues["urgency"]["positives"]) == (2, 2)
    assert cues["urgency"]["recall"] == round((queued[0] + queued[4]) / 2, 4)


def test_claims_command_links_a_verbatim_repeat_and_not_an_unrelated_text(tmp_path: Path):
    claims = write_jsonl(tmp_path / "claims.jsonl", CLAIMS)
    data = write_jsonl(tmp_path / "texts.jsonl", CLAIM_LINES)
    result = run_cli("evaluate", "--task", "claims", "--claims", claims, "--data", data)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["n"], report["repeats"], report["claims_count"]) == (2, 1, 2)
    assert report["link"] == {"precision": 1.0, "recall": 1.0, "matches": 1, "right": 1}
    assert report["false_links"] == [] and report["missed_repeats"] == []
    assert report["negatives_linked"] == 0
    assert report["negatives_by_style"] == {"other": {"n": 1, "linked": 0, "surfaced": 0}}
    assert set(report["breakdowns"]["style"]) == {"verbatim"}
    assert report["baseline"]["link"]["recall"] == 1.0
    assert report["baseline"]["negatives_linked"] == 0


def test_a_text_linked_to_another_claim_is_a_false_link_and_a_miss(tmp_path: Path):
    claims = write_jsonl(tmp_path / "claims.jsonl", CLAIMS)
    line = {**CLAIM_LINES[0], "claim_id": "2"}
    data = write_jsonl(tmp_path / "texts.jsonl", [line])
    result = run_cli("evaluate", "--task", "claims", "--claims", claims, "--data", data)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["link"] == {"precision": 0.0, "recall": 0.0, "matches": 1, "right": 0}
    assert [(f["line"], f["linked"], f["expected"]) for f in report["false_links"]] == [
        (1, "c1", "2")
    ]
    assert [(m["line"], m["claim_id"]) for m in report["missed_repeats"]] == [(1, "2")]


RISK_OK = {"text": "Một tin bình thường về Đà Lạt", "source_tier": "social", "flag": False}
BAD_RISK = {
    "not JSON": ('{"text": "cắt ngang', "không đọc được"),
    "no text": ({"source_tier": "social", "flag": True}, "thiếu trường 'text'"),
    "text not a string": ({**RISK_OK, "text": 12}, "trường 'text' phải là một chuỗi"),
    "unknown tier": ({**RISK_OK, "source_tier": "blog"}, "'source_tier' không biết 'blog'"),
    "flag not boolean": ({**RISK_OK, "flag": "yes"}, "trường 'flag' phải là true hoặc false"),
    "no flag": ({"text": "x y z", "source_tier": "press"}, "trường 'flag'"),
    "cues not a list": ({**RISK_OK, "cues": "urgency"}, "trường 'cues' phải là danh sách"),
}


@pytest.mark.parametrize("case", list(BAD_RISK))
def test_a_bad_risk_line_exits_2_naming_file_and_line(tmp_path: Path, case: str):
    bad, message = BAD_RISK[case]
    path = tmp_path / "risk.jsonl"
    line = bad if isinstance(bad, str) else json.dumps(bad, ensure_ascii=False)
    path.write_text(json.dumps(RISK_OK, ensure_ascii=False) + "\n\n" + line + "\n", "utf-8")
    result = run_cli("evaluate", "--task", "risk", "--data", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{path}:3: " in result.stderr  # the blank line counts: line 3 in an editor
    assert message in result.stderr


BAD_CLAIMS = {
    "claim_id not in the claims file": (
        None, {"text": "abc", "claim_id": "c9"}, "data", 1, "mã khẳng định 'c9' không có trong"
    ),
    "claim_id missing": (None, {"text": "abc"}, "data", 1, "thiếu trường 'claim_id'"),
    "claim_id not an id": (
        None, {"text": "abc", "claim_id": ["c1"]}, "data", 1, "trường 'claim_id' phải là"
    ),
    "duplicate claim id": (
        [*CLAIMS, {"id": "c1", "statement": "khác"}], None, "claims", 3,
        "mã khẳng định 'c1' trùng với dòng 1",
    ),
    "claim without statement": ([{"id": "c3"}], None, "claims", 1, "thiếu trường 'statement'"),
    "claim without id": ([{"statement": "abc"}], None, "claims", 1, "thiếu trường 'id'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_CLAIMS))
def test_a_bad_claims_line_exits_2_naming_file_and_line(tmp_path: Path, case: str):
    claims_rows, data_row, which, number, message = BAD_CLAIMS[case]
    claims = write_jsonl(tmp_path / "claims.jsonl", claims_rows or CLAIMS)
    data = write_jsonl(tmp_path / "texts.jsonl", [data_row] if data_row else CLAIM_LINES)
    result = run_cli("evaluate", "--task", "claims", "--claims", claims, "--data", data)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{claims if which == 'claims' else data}:{number}: {message}" in result.stderr


def test_empty_files_and_a_missing_claims_option_exit_2(tmp_path: Path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", "utf-8")
    claims = write_jsonl(tmp_path / "claims.jsonl", CLAIMS)
    for args in (
        ("--task", "risk", "--data", empty),
        ("--task", "claims", "--claims", empty, "--data", claims),
        ("--task", "claims", "--claims", claims, "--data", empty),
    ):
        result = run_cli("evaluate", *args)
        assert result.exit_code == 2
        assert f"{empty}: tệp rỗng" in result.stderr
    result = run_cli("evaluate", "--task", "claims", "--data", claims)
    assert result.exit_code == 2
    assert "--claims FILE" in result.stderr
    result = run_cli("evaluate", "--task", "risk", "--data", empty, "--claims", claims)
    assert result.exit_code == 2


def test_queue_rates_on_a_hand_computed_case():
    flags = [True, True, False, False, False]
    scores = [0.9, 0.2, 0.6, 0.1, 0.3]
    rates = queue_rates(flags, scores, 0.5)
    # caught 1 of 2; queued 1 of 3 others; ROC-AUC: 0.9 beats all three, 0.2 beats 0.1: 4 of 6
    assert rates == {
        "n": 5, "positives": 2, "queued": 2, "recall": 0.5, "false_flag_rate": 0.3333,
        "roc_auc": 0.6667,
    }  # fmt: skip
    assert queue_rates([False, False], [0.7, 0.1], 0.5)["recall"] is None
    assert queue_rates([False, False], [0.7, 0.1], 0.5)["roc_auc"] is None


def test_match_rates_on_a_hand_computed_case():
    items = [
        ClaimItem(1, "a", "…", "c1"),
        ClaimItem(2, "b", "…", "c2"),
        ClaimItem(3, "c", "…", None),
        ClaimItem(4, "d", "…", "c3"),
    ]
    found = [
        [Found("c1", True, 0.9), Found("c2", False, 0.5)],  # right link, wrong suggestion
        [Found("c2", False, 0.6)],  # its own claim only suggested
        [Found("c1", True, 0.8)],  # a non-repeat linked
        [],  # missed entirely
    ]
    rates = match_rates(items, found)
    assert rates["link"] == {"precision": 0.5, "recall": 0.3333, "matches": 2, "right": 1}
    assert rates["surfaced"] == {"precision": 0.5, "recall": 0.6667, "matches": 4, "right": 2}
    assert (rates["n"], rates["repeats"]) == (4, 3)
    assert (rates["negatives_linked"], rates["negatives_surfaced"]) == (1, 1)


def test_lexical_baseline_links_long_repeats_and_only_suggests_short_ones():
    baseline = LexicalBaseline({"c1": CLAIMS[0]["statement"], "c2": CLAIMS[1]["statement"]})
    assert baseline.match(CLAIMS[0]["statement"]) == [Found("c1", True, 1.0)]
    # Seven words, all bigrams of the claim: the overlap is 1, too short to link.
    assert baseline.match("nuoc may o Bao Loc bi nhiem") == [Found("c2", False, 1.0)]
    assert baseline.match(CLAIM_LINES[1]["text"]) == []


def near_copies_across(first: list[str], second: list[str]) -> list[tuple[str, str]]:
    """Pairs of texts, one from each list, that are near copies by the stories' measure."""
    sets_a = [(text, shingles(collapse(text))) for text in first]
    sets_b = [(text, shingles(collapse(text))) for text in second]
    return [
        (a, b)
        for (a, sa), (b, sb) in product(sets_a, sets_b)
        if len(sa & sb) / len(sa | sb) >= THRESHOLD
    ]


def test_heldout_sets_split_real_data_with_nothing_crossing(tmp_path: Path):
    data = shared_path("data")
    shared_path("data/claim_pairs/dev.jsonl.gz")
    out = tmp_path / "sets"
    result = run_cli("heldout-sets", "--data-dir", data, "--out", out)
    assert result.exit_code == 0, result.output
    files = {path.name: read_jsonl(path) for path in out.iterdir()}
    for split in ("dev", "test"):
        assert f"{out / f'risk.{split}.jsonl'}: {len(files[f'risk.{split}.jsonl'])} dòng" in (
            " ".join(result.output.split())
        )

    # risk: exactly the dev examples the shipped models never trained on, halves by group
    _train, dev, _described = load_task_data(TASKS["reliability"], data, 13)
    risk = {split: files[f"risk.{split}.jsonl"] for split in ("dev", "test")}
    assert sorted(r["id"] for r in risk["dev"] + risk["test"]) == sorted(e.id for e in dev)
    labels = {e.id: e.label for e in dev}
    for row in risk["dev"] + risk["test"]:
        assert row["flag"] == (labels[row["id"]] == "unreliable")
        tier = "press" if row["dataset"] == "vfnd" and row["id"] in press_ids(data) else "social"
        assert row["source_tier"] == tier
    assert 0.35 < len(risk["dev"]) / len(dev) < 0.65
    assert all(sum(r["flag"] for r in risk[split]) > 20 for split in risk)
    assert not {r["group"] for r in risk["dev"]} & {r["group"] for r in risk["test"]}
    assert not near_copies_across(
        [r["text"] for r in risk["dev"]], [r["text"] for r in risk["test"]]
    )
    for split in ("dev", "test"):
        folded = files[f"risk.{split}.unaccented.jsonl"]
        assert [r["id"] for r in folded] == [r["id"] for r in risk[split]]
        assert [r["text"] for r in folded] == [fold(r["text"]) for r in risk[split]]
        assert {r["writing"] for r in folded} == {"unaccented"}

    # claims: split by article, every claim once, every distinct evidence text once
    pairs = [p for p in read_jsonl(data / "claim_pairs/dev.jsonl.gz") if "-rand-" not in p["id"]]
    claims = {split: files[f"claims.{split}.claims.jsonl"] for split in ("dev", "test")}
    texts = {split: files[f"claims.{split}.jsonl"] for split in ("dev", "test")}
    assert len(claims["dev"]) + len(claims["test"]) == len({p["claim"] for p in pairs}) == 349
    assert len(texts["dev"]) + len(texts["test"]) == len({p["text"] for p in pairs})
    supporting = {p["text"] for p in pairs if p["relation"] == "repeats"}
    assert sum(t["claim_id"] is not None for t in texts["dev"] + texts["test"]) == len(supporting)
    for split in ("dev", "test"):
        own = {c["id"] for c in claims[split]}
        assert {t["claim_id"] for t in texts[split]} - {None} <= own
        assert Counter(t["style"] for t in texts[split]).keys() == {"supports", "refutes"}
    articles = {
        split: {row["source_id"] for row in claims[split] + texts[split]} for split in claims
    }
    assert not articles["dev"] & articles["test"]
    assert 0.35 < len(claims["dev"]) / 349 < 0.65
    assert not near_copies_across(
        [c["statement"] for c in claims["dev"]] + [t["text"] for t in texts["dev"]],
        [c["statement"] for c in claims["test"]] + [t["text"] for t in texts["test"]],
    )

    again = tmp_path / "again"
    assert run_cli("heldout-sets", "--data-dir", data, "--out", again).exit_code == 0
    assert all((again / name).read_bytes() == (out / name).read_bytes() for name in files)


def test_the_written_set_is_measured_for_risk_only_when_its_lines_are_flagged(tmp_path: Path):
    write_jsonl(tmp_path / "lamdong.dev.jsonl", CLAIM_LINES)
    write_jsonl(tmp_path / "lamdong_claims.dev.jsonl", CLAIMS)
    found = heldout.held_out_sets(tmp_path / "sets", "dev", tmp_path)
    assert [s.name for s in found] == [
        "risk.dev", "risk.dev.unaccented", "claims.dev", "lamdong.dev (claims)"
    ]  # fmt: skip
    assert heldout.held_out_sets(tmp_path / "sets", "test", tmp_path)[-1].name == "claims.test"


def press_ids(data: Path) -> set[str]:
    return {r["id"] for r in read_jsonl(data / "vfnd/train.jsonl.gz") if r.get("source_domain")}


def test_heldout_sets_refuse_to_write_into_the_repository():
    result = run_cli("heldout-sets", "--data-dir", REPO / "missing", "--out", REPO / "var" / "x")
    assert result.exit_code == 2
    assert "không ghi vào kho mã" in result.output
    assert not (REPO / "var" / "x").exists()


def test_bench_measures_this_tree_and_a_release_side_by_side(tmp_path: Path, capsys):
    sets = tmp_path / "sets"
    sets.mkdir()
    write_jsonl(sets / "risk.test.jsonl", RISK_LINES)
    write_jsonl(sets / "risk.test.unaccented.jsonl", [
        {**line, "text": fold(line["text"])} for line in RISK_LINES
    ])  # fmt: skip
    write_jsonl(sets / "claims.test.claims.jsonl", CLAIMS)
    write_jsonl(sets / "claims.test.jsonl", CLAIM_LINES)
    written = tmp_path / "written"
    written.mkdir()
    write_jsonl(written / "lamdong.test.jsonl", [
        {**line, "claim_id": None} for line in RISK_LINES[:3]
    ])  # fmt: skip
    write_jsonl(written / "lamdong_claims.test.jsonl", CLAIMS)
    report = heldout.main([
        "--sets", str(sets), "--written", str(written), "--release", "HEAD",
        "--json", str(tmp_path / "out.json"),
    ])  # fmt: skip
    assert json.loads((tmp_path / "out.json").read_text("utf-8"))["sets"] == report["sets"]
    assert list(report["sets"]) == [
        "risk.test", "risk.test.unaccented", "claims.test", "lamdong.test (risk)",
        "lamdong.test (claims)",
    ]  # fmt: skip
    sizes = {"risk": 8, "claims": 2, "lamdong": 3}
    for name, reports in report["sets"].items():
        ours, release = reports.values()
        assert list(reports)[1] == "release HEAD"
        assert ours["n"] == release["n"] == sizes[name.split(".")[0]]
        assert "baseline" in ours and "baseline" in release
    # This tree's scores are those of the CLI on the same file.
    cli = run_cli("evaluate", "--task", "risk", "--data", sets / "risk.test.jsonl")
    ours = next(iter(report["sets"]["risk.test"].values()))
    assert {k: ours[k] for k in ("recall", "false_flag_rate", "roc_auc")} == {
        k: json.loads(cli.stdout)[k] for k in ("recall", "false_flag_rate", "roc_auc")
    }
    printed = capsys.readouterr().out
    assert "| recall |" in printed and "| link recall |" in printed
    worktrees = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout
    assert "mediawatch-heldout-" not in worktrees


def test_the_pipeline_bench_measures_the_written_test_side_through_the_store():
    result = subprocess.run(
        [sys.executable, "-m", "bench.heldout_pipeline"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    # The pipeline's own log lines share stdout; the report is what follows them.
    lines = result.stdout.splitlines()
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("tests/data/")) :]
    assert lines[0].startswith("tests/data/heldout/lamdong.test.jsonl: 183 items, 84 to flag")
    queue, risk, model = (line for line in lines if "(" in line and "/84)" in line)
    assert queue.startswith("the queue") and model.startswith("baseline")
    # Each row's figures are counts over the same 84 and 99 items.
    assert all("/99)" in line for line in (queue, risk, model))
    assert lines[-1].startswith("repeats linked")
