"""The list-wise policy: seeded training against simulated users improves their return; it saves and loads."""

import json

import numpy as np
import pytest

from pipelines.errors import PipelineError
from pipelines.rerank.training import episode_reward, save_policy, train_policy
from pipelines.search.config import PolicyConfig
from pipelines.search.policy import FEATURES, ListBuilder, ListwisePolicy, Pool, load_policy


def synthetic_pool(rng: np.random.Generator, size: int = 30) -> Pool:
    """Near-duplicate clusters: the most relevant items are copies of one another."""
    centres = rng.normal(size=(4, 8))
    cluster = rng.integers(0, 4, size=size)
    vectors = centres[cluster] + 0.05 * rng.normal(size=(size, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    match = rng.integers(0, 3, size=size) / 2
    conflicts = (rng.random(size) < 0.2).astype(np.int64)
    base = rng.random(size) * 0.3 + 0.4 * (cluster == 0)
    masks = np.stack([1 << cluster, 1 << rng.integers(0, 5, size=size)]).astype(np.int64)
    return Pool(
        rows=np.arange(size),
        base=base,
        relevance=base + 0.5 * match * 2 - conflicts,
        match_share=match,
        conflicts=conflicts,
        long_tail=rng.random(size),
        vectors=vectors,
        masks=masks,
    )


@pytest.fixture
def pools():
    rng = np.random.default_rng(0)
    return [synthetic_pool(rng) for _ in range(24)]


def test_training_is_seeded_and_raises_the_simulated_users_return(pools):
    cfg = PolicyConfig(train_queries=24, epochs=25, lr=0.05)
    policy, history = train_policy(pools, 10, cfg, seed=3)
    again, _ = train_policy(pools, 10, cfg, seed=3)
    np.testing.assert_array_equal(policy.weights, again.weights)
    assert np.mean(history[-5:]) > np.mean(history[:5])

    start = ListwisePolicy(np.eye(len(FEATURES))[0], {})  # the constraint rerank it starts from
    discounts = 1 / np.log2(np.arange(10) + 2)

    def value(p):
        return np.mean([(episode_reward(pool, p.rank(pool, 10), cfg) * discounts).sum() for pool in pools])

    assert value(policy) > value(start)


def test_rank_returns_distinct_positions(pools):
    policy = ListwisePolicy(np.array([1.0, 0, 0, 0, 0, -1.0, 0.5]), {})
    ranked = policy.rank(pools[0], 10)
    assert len(set(ranked.tolist())) == 10


def test_save_and_load_round_trip(tmp_path, pools):
    policy, _ = train_policy(pools[:4], 5, PolicyConfig(train_queries=4, epochs=2), seed=0)
    save_policy(policy, tmp_path / "policy.json")
    loaded = load_policy(tmp_path / "policy.json")
    np.testing.assert_allclose(loaded.weights, policy.weights)
    payload = json.loads((tmp_path / "policy.json").read_text())
    payload["features"] = payload["features"][:-1]
    (tmp_path / "bad.json").write_text(json.dumps(payload))
    with pytest.raises(PipelineError, match="features"):
        load_policy(tmp_path / "bad.json")
    with pytest.raises(PipelineError, match="dvc repro rerank"):
        load_policy(tmp_path / "missing.json")


def test_sessions_sampled_together_draw_as_rng_choice_does_one_pool_at_a_time():
    """The batched sampler against the plain one: each pool's session in turn, one `rng.choice` per step, and
    the same reward and score gradient per step (pools of different sizes, one smaller than k)."""
    from pipelines.rerank.training import _sample_sessions

    rng = np.random.default_rng(5)
    pools = [synthetic_pool(rng, size) for size in (30, 7, 18)]
    weights = rng.normal(size=len(FEATURES))
    cfg = PolicyConfig(temperature=0.5, redundancy_penalty=0.5, novelty_bonus=0.2)
    rewards, grads, mask = _sample_sessions(ListBuilder(pools), weights, 10, cfg, np.random.default_rng(9))

    draws = np.random.default_rng(9)
    for i, pool in enumerate(pools):
        chosen: list[int] = []
        for t in range(min(10, len(pool.rows))):
            lists = ListBuilder([pool])  # the reference rebuilds the list state from the picks so far
            for pick in chosen:
                lists.take(np.zeros(1, dtype=np.int64), np.array([pick]))
            features = lists.features(np.zeros(1, dtype=np.int64))[0]
            logits = np.where(lists.available[0], features @ weights / cfg.temperature, -np.inf)
            probs = np.exp(logits - logits.max())
            probs /= probs.sum()
            pick = int(draws.choice(len(probs), p=probs))
            np.testing.assert_allclose(grads[i, t], (features[pick] - probs @ features) / cfg.temperature, atol=1e-12)
            expected = pool.gain[pick] - 0.5 * lists.redundancy[0, pick] + 0.2 * pool.long_tail[pick]
            assert rewards[i, t] == pytest.approx(expected)
            chosen.append(pick)
        assert mask[i].sum() == len(chosen)
