"""The rerank stage: a missing build or a bad rerank param is one line naming it, and nothing is written; on a
tiny build, every strategy reported, a short headline, faithful explanations over the query set, and a policy
the service loads."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipelines.paths import POLICY
from pipelines.rerank.queries import KINDS, build_queries
from pipelines.schema import FIELDS
from pipelines.search import STRATEGIES
from serve.build import load_service

REPO = Path(__file__).resolve().parents[2]


def test_a_missing_build_is_one_line_saying_to_run_dvc_repro(tmp_path, run_stage):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    done = run_stage("rerank", tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: artifacts/store") and "dvc repro" in last
    assert not (tmp_path / "reports").exists() and not (tmp_path / "artifacts").exists()


def test_a_bad_rerank_param_is_named(tmp_path, run_stage, set_params):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    set_params(tmp_path, {"rerank.pool": 5})
    done = run_stage("rerank", tmp_path)
    assert done.returncode == 1
    assert "rerank.pool (5)" in done.stderr and "rerank.k (10)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_reports_hold_every_strategy_and_a_six_value_headline(built_project):
    root = built_project.root
    headline = json.loads((root / "reports/rerank.json").read_text(), parse_float=Decimal)
    leaves = [v for group in headline.values() for v in (group.values() if isinstance(group, dict) else [group])]
    assert len(leaves) <= 6
    assert all(-v.as_tuple().exponent <= 4 for v in leaves)
    assert headline["faithfulness@10"] == 1
    detail = json.loads((root / "reports/rerank_detail.json").read_text())
    for strategy in STRATEGIES:
        summary = detail["strategies"][strategy]
        assert set(summary) >= {"satisfaction", "faithfulness", "ndcg", "ild", "coverage", "by_kind"}
        assert summary["faithfulness"] == 1.0
    cc = {s: detail["strategies"][s]["by_kind"]["color+category"]["satisfaction"] for s in STRATEGIES}
    assert cc["constraints"] >= cc["none"]
    assert cc["constraints"] >= 0.8
    report = (root / "reports/rerank.md").read_text()
    assert report.count("\n### ") == 5  # rerank.examples in the tiny profile
    assert all(strategy in report for strategy in STRATEGIES)


@pytest.mark.slow
def test_every_explanation_over_the_query_set_is_true(built_project):
    """Faithfulness 1.0, checked here directly: every claim of every result of every strategy, against items."""
    root = built_project.root
    service = load_service(root)
    items = pd.read_parquet(root / "data/processed/items.parquet")
    by_id = items.set_index(items["item_id"].astype(str))
    queries = build_queries(items, "test", 40, 0.3, seed=42)
    assert {q.kind for q in queries} == set(KINDS)
    claims = 0
    for query in queries:
        for strategy in STRATEGIES:
            for result in service.search(text=query.text, k=10, rerank=strategy).results:
                for claim in result.explanation:
                    claims += 1
                    assert by_id.loc[result.item_id, claim["field"]] == claim["value"], (query.text, result, claim)
                assert set(result.attributes) <= set(FIELDS)
    assert claims > 0


@pytest.mark.slow
def test_the_policy_is_a_trained_artifact(built_project):
    payload = json.loads((built_project.root / POLICY).read_text())
    assert payload["simulated_users"] > 0 and payload["epochs"] == 8
    assert payload["weights"] != [1.0] + [0.0] * (len(payload["weights"]) - 1)  # it moved from the start
