"""Normalisation of noisy social text for the models: contacts, repeats, teencode."""

import gzip
import json
import re

import numpy as np
import pytest
from structlog.testing import capture_logs

from bench import segmentation
from classifier.features import FeaturizerConfig, TextFeaturizer
from classifier.linear import LinearTextModel
from classifier.train import TASKS, train_task
from mediawatch.text import (
    TEENCODE_PATH,
    Teencode,
    TeencodeError,
    default_teencode,
    fold,
    mask_contacts,
    normalize_for_model,
    squeeze_repeats,
)
from tests.conftest import shared_path

SHIPPED = Teencode.load()


def social(text: str) -> str:
    return normalize_for_model(text, SHIPPED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quáaaaa", "quá"),
        ("điiiii", "đi"),
        ("QUÁAAA", "QUÁ"),
        ("quaaaá đẹp", "quá đẹp"),  # the accented letter of the run is kept
        ("nhaaa hayyyy", "nha hay"),
        ("xoong boong cooong", "xoong boong cong"),  # doubles are real Vietnamese
        ("hahahaha hihihi hehe", "haha hihi hehe"),
        ("kkkkk", "kk"),  # laughter, not the teencode "k" (không)
        ("thật á!!!!! ???", "thật á! ?"),
        ("😂😂😂😂", "😂"),
        ("Quý III năm 2025", "Quý III năm 2025"),
        ("1.000.000 và 2000", "1.000.000 và 2000"),
    ],
)
def test_squeeze_repeats(text, expected):
    assert squeeze_repeats(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ko đc đâu", "không được đâu"),
        ("mn ơi cx dc mà", "mọi người ơi cũng được mà"),
        ("k biết j luôn", "không biết gì luôn"),
        ("ngta thik vs iu ntn", "người ta thích với yêu như thế nào"),
        (
            "UBND TP.HCM và ubnd tphcm",
            "ủy ban nhân dân thành phố.hồ chí minh và ủy ban nhân dân thành phố hồ chí minh",
        ),
        # Capitals are news acronyms, a lone capital an initial, a letter after a number a unit.
        ("BV Chợ Rẫy, NS tỉnh, vitamin K", "BV Chợ Rẫy, NS tỉnh, vitamin K"),
        ("bị cáo Nguyễn Văn K. khai", "bị cáo Nguyễn Văn K. khai"),
        ("giá 50 k một ly", "giá 50 k một ly"),
        # Real words are not teencode ("bít tất": socks).
        ("đôi bít tất", "đôi bít tất"),
    ],
)
def test_teencode_is_spelled_out(text, expected):
    assert social(text) == expected


def test_teencode_applies_to_accented_and_unaccented_text_alike():
    assert social("Ko biết j") == "không biết gì"
    assert social("Ko biet j") == "không biet gì"
    assert social("Đc") == social("dc") == "được"


@pytest.mark.parametrize(
    "text",
    [
        "gọi 0912345678 nhé",
        "gọi 0912.345.678 nhé",
        "gọi 0912 345 678 nhé",
        "gọi 091-234-5678 nhé",
        "gọi +84 912 345 678 nhé",
        "gọi +84912345678 nhé",
        "gọi (0263) 3822 111 nhé",
        "gọi 0263.3822.111 nhé",
        "gọi 1900 1234 nhé",
        "gọi 1800.545.454 nhé",
        "gọi 19001234 nhé",
    ],
)
def test_phone_numbers_are_masked(text):
    assert mask_contacts(text) == "gọi phonetoken nhé"


@pytest.mark.parametrize(
    "text",
    [
        "ngày 12.3.2025",
        "ngày 01.03.2025",
        "ngày 01/03/2025",
        "giá 1.200.000 đồng",
        "giá 18.000.000 đ",
        "giá 1800.000 đ",
        "thu 120.500.000.000 đồng",
        "giai đoạn 1900-1950",
        "tỷ lệ 0,5 và 3.14159",
        "mã số 09123456789012",
    ],
)
def test_dates_money_and_other_numbers_are_not_masked(text):
    assert mask_contacts(text) == text


def test_urls_and_emails_are_masked():
    text = (
        "Xem https://baolamdong.vn/xa-hoi/abc.html?x=1. hoặc www.facebook.com/ubnd, "
        "bit.ly/3abc và thư nguyen.van-a@lamdong.gov.vn (TP.HCM)"
    )
    assert mask_contacts(text) == "Xem urltoken. hoặc urltoken, urltoken và thư emailtoken (TP.HCM)"


def _rows(path):
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return {row["id"]: row["text"] for row in map(json.loads, lines)}


def test_real_comments_from_vihsd_and_victsd():
    vihsd = _rows(shared_path("data/vihsd/train.jsonl.gz"))
    victsd = _rows(shared_path("data/victsd/train.jsonl.gz"))
    assert social(vihsd["vihsd-train-23735"]) == (
        "Nhờ chi kim kết bn zalo mh được không.phonetoken.cảm ơn nhe."
    )
    assert social(vihsd["vihsd-train-06004"]).startswith(
        "Ủa tứ quý có chặt đôi heo được đâu, lộ tứ quý rồi nha hahhahaha"
    )
    assert "đụ má nước sông không phạm nước giếng" in social(vihsd["vihsd-train-23576"])
    assert social(victsd["victsd-2356"]).startswith("Khoa học chỉ mới khám phá được 5% đại dương")


def test_no_run_of_three_letters_nor_common_teencode_survives_real_comments():
    texts = list(_rows(shared_path("data/vihsd/train.jsonl.gz")).values())[:3000]
    assert any(re.search(r"([^\W\d_])\1\1", fold(t)) for t in texts)  # the data has them
    for text in texts:
        out = social(text)
        assert not re.search(r"([^\W\d_])\1\1", fold(out)), out
        assert not re.search(r"(?<!\w)(?:ko|đc|dc|ngta|mn|cx)(?!\w)", out.lower()), out


def test_staff_file_adds_and_overrides_entries(tmp_path):
    extra = tmp_path / "teencode-extra.yaml"
    extra.write_text(
        "teencode:\n  bn: bạn\n  ko: chẳng\nacronyms:\n  ld: lâm đồng\n  k: kelvin\n",
        encoding="utf-8",
    )
    teencode = Teencode.load(extra)
    assert normalize_for_model("bn ko đi LD", teencode) == "bạn chẳng đi lâm đồng"
    assert normalize_for_model("K", teencode) == "kelvin"  # moved to acronyms: any case
    assert normalize_for_model("mn", teencode) == "mọi người"  # shipped entries stay


def test_setting_names_the_staff_file(tmp_path, monkeypatch):
    extra = tmp_path / "extra.yaml"
    extra.write_text("teencode:\n  bn: bạn\n", encoding="utf-8")
    monkeypatch.setenv("MEDIAWATCH_TEENCODE_FILE", str(extra))
    default_teencode.cache_clear()
    try:
        assert normalize_for_model("bn ơi") == "bạn ơi"
    finally:
        default_teencode.cache_clear()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("teencode:\n  ko: không\n  hai chữ: x\n", r"extra.yaml:3: entry 'hai chữ'"),
        ("teencode:\n  ko:\n", r"extra.yaml:2: entry 'ko': the expansion"),
        ("teencode:\n  ko: không\n  ko: chẳng\n", r"extra.yaml:3: entry 'ko' appears twice"),
        ("slang:\n  ko: không\n", r"extra.yaml:1: unknown section 'slang'"),
        ("teencode:\n  - ko\n", r"extra.yaml:1: section 'teencode' must map"),
        ("- ko\n", r"extra.yaml: expected the sections"),
        ("teencode: {ko: [\n", r"extra.yaml: cannot read"),
    ],
)
def test_malformed_staff_file_is_refused_with_file_and_entry(tmp_path, content, message):
    extra = tmp_path / "extra.yaml"
    extra.write_text(content, encoding="utf-8")
    with capture_logs() as logs, pytest.raises(TeencodeError, match=message):
        Teencode.load(extra)
    assert logs[0]["event"] == "teencode_unreadable"
    assert logs[0]["path"] == str(extra)


def test_shipped_dictionary_is_well_formed():
    assert TEENCODE_PATH.exists()
    assert len(SHIPPED.teencode) + len(SHIPPED.acronyms) >= 150


def test_featurizer_reads_teencode_only_when_its_config_says_so():
    old = TextFeaturizer(FeaturizerConfig())
    new = TextFeaturizer(FeaturizerConfig(social_normalisation=True))
    short, spelled = ["ko bít j hếtttt"], ["không bít gì hết"]
    assert (new.transform(short) != new.transform(spelled)).nnz == 0
    assert (old.transform(short) != old.transform(spelled)).nnz > 0


def test_cards_without_the_field_keep_the_old_behaviour():
    """Cards written before the option existed load with it off."""
    card = json.loads((TEENCODE_PATH.parents[1] / "classifier/models/section.json").read_text())
    older = {k: v for k, v in card["featurizer"].items() if k != "social_normalisation"}
    assert FeaturizerConfig.model_validate(older).social_normalisation is False


def test_a_model_trained_with_the_option_reads_teencode_after_loading(tmp_path):
    config = FeaturizerConfig(social_normalisation=True)
    trained = train_task(TASKS["reliability"], shared_path("data"), featurizer=config, limit=300)
    trained.save(tmp_path)
    loaded = LinearTextModel.load(tmp_path, "reliability")
    assert loaded.card.featurizer.social_normalisation is True
    assert np.allclose(
        loaded.predict_proba(["ko bít j hếtttt"]), loaded.predict_proba(["không bít gì hết"])
    )


def test_segmentation_bench_prints_its_table(capsys):
    segmentation.main(
        [
            "--data",
            str(shared_path("data")),
            "--tasks",
            "reliability",
            "--train-limit",
            "300",
            "--dev-limit",
            "80",
            "--no-segmentation",
        ]
    )
    printed = capsys.readouterr().out
    assert re.search(r"^old +0\.\d{4} +0\.\d{4} +0\.\d{4}", printed, re.MULTILINE)
    assert re.search(r"^new - old: F1 [+-]0\.\d{4}", printed, re.MULTILINE)
    assert np.isfinite(float(re.search(r"speed x(\d+\.\d+)", printed).group(1)))


def test_missing_staff_file_is_refused_with_its_path(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(TeencodeError, match=r"nowhere.yaml: cannot read the teencode dictionary"):
        Teencode.load(missing)
