"""`data.max_items`: deterministic, stratified, rare classes survive, catalog order kept."""

from collections import Counter

import numpy as np

from pipelines.catalog.subsample import stratified_subsample

# A long tail: 60 tees, 25 shirts, 10 jeans, 2 cardigans, 1 pair of shorts, interleaved.
CLASSES = ["tee"] * 60 + ["shirt"] * 25 + ["jeans"] * 10 + ["cardigan"] * 2 + ["shorts"]
CLASSES = [CLASSES[i] for i in np.random.default_rng(0).permutation(len(CLASSES))]


def test_size_order_and_determinism():
    picked = stratified_subsample(CLASSES, 20, seed=7)
    assert len(picked) == 20 and len(set(picked)) == 20
    assert np.all(np.diff(picked) > 0)  # catalog order
    assert np.array_equal(picked, stratified_subsample(CLASSES, 20, seed=7))
    assert not np.array_equal(picked, stratified_subsample(CLASSES, 20, seed=8))


def test_rare_classes_survive_and_the_rest_is_proportional():
    counts = Counter(CLASSES[i] for i in stratified_subsample(CLASSES, 20, seed=7))
    # floors: shorts 1, cardigan 2, jeans/shirt/tee 3 each (12); the other 8 split 57:22:7 -> 5, 2, 1
    assert counts == {"shorts": 1, "cardigan": 2, "jeans": 4, "shirt": 5, "tee": 8}


def test_every_class_is_represented_at_any_size():
    for n in range(5, 98, 7):
        counts = Counter(CLASSES[i] for i in stratified_subsample(CLASSES, n, seed=1))
        assert set(counts) == set(CLASSES) and sum(counts.values()) == n


def test_zero_or_a_budget_above_the_catalog_keeps_everything():
    assert np.array_equal(stratified_subsample(CLASSES, 0, seed=1), np.arange(98))
    assert np.array_equal(stratified_subsample(CLASSES, 500, seed=1), np.arange(98))


def test_fewer_rows_than_classes_keeps_one_row_of_as_many_classes():
    picked = stratified_subsample(CLASSES, 3, seed=1)
    assert len({CLASSES[i] for i in picked}) == 3
    assert np.array_equal(picked, stratified_subsample(CLASSES, 3, seed=1))
