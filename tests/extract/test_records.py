"""build_sft's records on tiny item tables: targets pass the JSON Schema generated from schema.yaml (checked by a
real validator), the variants differ exactly by the title, bad rows and leaking splits fail naming the item, and
the same items give the same bytes."""

from __future__ import annotations

import json

import jsonschema
import pytest

from pipelines.extract import SftError, build_sft, json_schema, jsonl
from pipelines.schema import FIELDS, vocabulary

VARIANTS = ["image_only", "image_title"]


def test_targets_are_compact_json_in_the_schema_order_with_a_confidence_per_field_by_source(make_items):
    items = make_items(6)
    data = build_sft(items, VARIANTS, 0.99)
    assert [len(data.files[name]) for name in ("train", "val", "eval")] == [4 * 2, 1 * 2, 1 * 2]
    first = data.files["train"][0]
    answer = json.loads(first["messages"][-1]["content"])
    assert list(answer) == [*FIELDS, "confidence"]
    assert answer["category"] == "tees" and answer["neckline"] == "unknown"
    assert answer["confidence"]["category"] == 0.9 and answer["confidence"]["pattern"] == 0.7
    assert answer["confidence"]["neckline"] == 0.1
    jsonschema.Draft202012Validator(json_schema()).validate(answer)
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]


def test_the_schema_refuses_what_the_extractor_must_not_write(make_items):
    validator = jsonschema.Draft202012Validator(json_schema())
    good = {name: vocabulary()[name][0] for name in FIELDS} | {"confidence": dict.fromkeys(FIELDS, 0.5)}
    assert not list(validator.iter_errors(good))
    for bad in (
        good | {"color": "turquoise"},  # outside the vocabulary
        good | {"brand": "acme"},  # not a schema field
        {k: v for k, v in good.items() if k != "fit"},  # a field missing
        good | {"confidence": dict.fromkeys(FIELDS, 1.5)},  # confidence out of [0, 1]
        good | {"confidence": {k: 0.5 for k in FIELDS if k != "fit"}},  # a confidence missing
    ):
        assert list(validator.iter_errors(bad)), bad


def test_only_the_image_title_variant_shows_the_title(make_items):
    items = make_items(6)
    records = build_sft(items, VARIANTS, 0.99).files["train"]
    only, with_title = (r["messages"][1]["content"] for r in records[:2])
    title = items.iloc[0]["title"]
    assert "<image:" in only and title not in only and "Title:" not in only
    assert f"Title: {title}" in with_title
    assert records[0]["messages"][2] == records[1]["messages"][2]  # the same target


def test_a_value_outside_the_vocabulary_fails_the_gate_naming_the_item(make_items):
    items = make_items(6)
    items.loc[2, "color"] = "turquoise"
    with pytest.raises(SftError, match=r"1 of 6 targets fail.*item 'i2': color: 'turquoise' is not one of"):
        build_sft(items, VARIANTS, 0.99)
    assert build_sft(items, VARIANTS, 0.8).schema_pass == pytest.approx(5 / 6)  # within a looser gate


def test_a_source_without_a_confidence_and_a_product_in_two_splits_fail_naming_them(make_items):
    items = make_items(6)
    items.loc[1, "fit_source"] = "signal"
    with pytest.raises(SftError, match=r"item 'i1': fit_source is 'signal', which has no confidence"):
        build_sft(items, VARIANTS, 0.99)
    items = make_items(6)
    items.loc[5, "group_key"] = items.loc[0, "group_key"]  # an eval item of a train product
    with pytest.raises(SftError, match=r"product group 'g0' lies in more than one split"):
        build_sft(items, VARIANTS, 0.99)


def test_the_same_items_give_the_same_bytes(make_items):
    first = build_sft(make_items(6), VARIANTS, 0.99).files
    again = build_sft(make_items(6), VARIANTS, 0.99).files
    assert all(jsonl(first[name]) == jsonl(again[name]) for name in first)


def test_the_stage_writes_the_files_and_refuses_a_bad_row_in_one_line(run_stage, make_items, tmp_path):
    (tmp_path / "data/processed").mkdir(parents=True)
    make_items(6).to_parquet(tmp_path / "data/processed/items.parquet", index=False)
    params = {"extract": {"prompt_variants": ["image_only"], "min_schema_pass": 0.99}}
    done = run_stage("build_sft", tmp_path, params)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "data/sft").iterdir())
    assert written == ["attributes.schema.json", "eval.jsonl", "train.jsonl", "val.jsonl"]
    assert json.loads((tmp_path / "data/sft/attributes.schema.json").read_text()) == json_schema()
    report = json.loads((tmp_path / "reports/sft.json").read_text())
    assert report["records"] == {"train": 4, "val": 1, "eval": 1} and report["train_known_share"]["fit"] == 0
    before = (tmp_path / "data/sft/train.jsonl").read_bytes()

    bad = make_items(6)
    bad.loc[0, "color"] = "turquoise"
    bad.to_parquet(tmp_path / "data/processed/items.parquet", index=False)
    done = run_stage("build_sft", tmp_path, params)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: 1 of 6 targets"), done.stderr
    assert "item 'i0'" in lines[0] and (tmp_path / "data/sft/train.jsonl").read_bytes() == before  # nothing half
