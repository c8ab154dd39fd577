"""The search facade on a tiny project built by `dvc repro`: the response contract, every strategy, image and
`like` queries through the pipeline's own encoders, faithful explanations, and errors naming the parameter."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipelines.errors import PipelineError
from pipelines.schema import FIELDS
from pipelines.search import MAX_K, STRATEGIES, QueryError
from pipelines.search.service import CorruptScores
from serve.build import load_service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(built_project):
    return load_service(built_project.root)


@pytest.fixture(scope="module")
def items(built_project):
    frame = pd.read_parquet(built_project.root / "data/processed/items.parquet")
    return frame.set_index(frame["item_id"].astype(str))


@pytest.mark.parametrize("model", ["baseline", "finetuned"])
@pytest.mark.parametrize("rerank", STRATEGIES)
def test_response_contract_and_faithful_explanations(service, items, model, rerank):
    response = service.search(text="black tees, not striped", k=7, model=model, rerank=rerank).to_dict()
    assert response["constraints"] == {"category": "tees", "color": "black"}
    assert response["excluded"] == {"pattern": ["striped"]}
    assert set(response["timings_ms"]) >= {"parse", "encode", "retrieve", "rerank", "total"}
    results = response["results"]
    assert len(results) == 7 and len({r["item_id"] for r in results}) == 7
    for result in results:
        item = items.loc[result["item_id"]]
        assert result["attributes"] == {f: item[f] for f in FIELDS if item[f] != "unknown"}
        for claim in result["explanation"]:
            assert item[claim["field"]] == claim["value"], (result["item_id"], claim)
        for conflict in result["conflicts"]:
            assert item[conflict["field"]] == conflict["value"]
            assert conflict["value"] == "striped" or conflict["field"] in ("category", "color")
    if rerank == "constraints":
        scores = [r["score"] for r in results]
        assert scores == sorted(scores, reverse=True)


def test_constraint_rerank_meets_constraints_at_least_as_often_as_plain_retrieval(service):
    met = {}
    for rerank in ("none", "constraints"):
        results = service.search(text="blue jeans", k=10, rerank=rerank).results
        met[rerank] = sum(r.satisfied for r in results)
    assert met["constraints"] >= met["none"]
    assert met["constraints"] == 10


@pytest.mark.parametrize("model", ["baseline", "finetuned"])
def test_an_items_own_image_finds_it_first(service, model):
    item_id = service.item_ids[3]
    with Image.open(service.image_path(item_id)) as image:
        response = service.search(image=image.copy(), k=5, model=model, rerank="none")
    first = response.results[0]
    assert first.item_id == item_id
    assert first.similarity == pytest.approx(1.0, abs=1e-3)  # the same backbone and preprocessing as encode_kv


def test_like_searches_by_the_items_stored_embedding_and_leaves_it_out(service):
    item_id = service.item_ids[5]
    for rerank in STRATEGIES:
        results = service.search(like=item_id, k=10, rerank=rerank).results
        assert item_id not in [r.item_id for r in results]
        assert len(results) == 10
    space = service.spaces["finetuned"]
    plain = service.search(like=item_id, k=3, rerank="none").results
    expected = np.argsort(-(space.embeddings @ space.embeddings[5]))[1:4]
    assert [r.row for r in plain] == expected.tolist()


def test_text_queries_encode_as_the_full_context_clip_text_tower(service):
    from pipelines.encoders import ClipEncoder
    from pipelines.store import open_store

    clip = ClipEncoder.from_manifest(open_store(service.image_root / "artifacts/store").model, device="cpu")
    baseline = service.spaces["baseline"]
    for text in ("black tees", "a red floral summer dress with short sleeves and a round neck"):
        full = clip.encode_texts([text], trim=False)[0]
        np.testing.assert_allclose(baseline.encode_text(text), full / np.linalg.norm(full), atol=1e-5)


def test_image_path_is_absolute_and_exists(service):
    path = service.image_path(service.item_ids[0])
    assert path.is_absolute() and path.is_file()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "tees", "k": 0}, f"k: must be between 1 and {MAX_K}, got 0"),
        ({"text": "tees", "k": MAX_K + 1}, "k: "),
        ({"text": "tees", "model": "resnet"}, "model: "),
        ({"text": "tees", "rerank": "random"}, "rerank: "),
        ({"like": "no-such-item"}, "like: unknown item_id 'no-such-item'"),
        ({"text": "   "}, "text: "),
        ({}, "text: "),
        ({"text": "tees", "image": b"not an image"}, "image: "),
    ],
)
def test_invalid_arguments_name_the_parameter(service, kwargs, message):
    with pytest.raises(QueryError) as caught:
        service.search(**kwargs)
    assert str(caught.value).startswith(message)
    assert caught.value.param == message.split(":")[0]  # what the HTTP app maps to its parameter, never the text
    with pytest.raises(QueryError, match="^item_id: unknown") as caught:
        service.image_path("no-such-item")
    assert caught.value.param == "item_id"


def test_a_missing_build_names_the_path_and_dvc_repro(built_project, tmp_path):
    with pytest.raises(PipelineError, match=r"params.yaml: not found.*dvc repro"):
        load_service(tmp_path)
    (tmp_path / "params.yaml").write_bytes((built_project.root / "params.yaml").read_bytes())
    with pytest.raises(PipelineError, match=r"artifacts/store: not found.*dvc repro"):
        load_service(tmp_path)


@pytest.mark.parametrize("rerank", ["none", "constraints"])
def test_a_non_finite_score_is_a_named_error_never_a_nan_result(service, monkeypatch, rerank):
    """A corrupt store row (NaN) or corrupt weights (a NaN query) raise CorruptScores naming the model and, for a
    row, the item; never a result carrying NaN (which JSON cannot encode) or a list ordered by it."""
    space = service.spaces["baseline"]
    embeddings = np.array(space.embeddings, copy=True)
    top = service.search(text="red t-shirts", k=1, model="baseline", rerank=rerank).results[0]
    embeddings[top.row] = np.nan
    monkeypatch.setitem(service.spaces, "baseline", dataclasses.replace(space, embeddings=embeddings))
    with pytest.raises(CorruptScores, match=rf"^model 'baseline': item '{top.item_id}' scored nan"):
        service.search(text="red t-shirts", k=1, model="baseline", rerank=rerank)

    nan_query = dataclasses.replace(space, embed_text_key=lambda key: np.full(embeddings.shape[1], np.nan, np.float32))
    monkeypatch.setitem(service.spaces, "baseline", nan_query)
    with pytest.raises(CorruptScores, match=r"^model 'baseline': the query's embedding is not finite"):
        service.search(text="red t-shirts", k=1, model="baseline", rerank=rerank)
