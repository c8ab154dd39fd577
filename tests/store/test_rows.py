"""Reading store rows without mapping the store: take_rows and row_blocks equal plain indexing, LazyRows computes."""

import numpy as np
import pandas as pd
import pytest

from pipelines.store import LazyRows, open_store, row_blocks, take_rows, write_store

MODEL = {"arch": "ViT-S-32", "pretrained": "none", "untrained": True, "precision": "fp32", "seed": 7}


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(0)
    rows = 1000
    meta = pd.DataFrame({"item_id": [f"i{k}" for k in range(rows)], "split": "train"})
    image, text = rng.normal(size=(2, rows, 16)).astype(np.float32)
    return write_store(tmp_path / "store", meta, image, text, np.zeros((rows, 4)), MODEL, "test")


def test_take_rows_of_a_store_array_equals_indexing_in_any_order_with_repeats(store):
    assert isinstance(store.image_keys, np.memmap)
    full = np.array(store.image_keys)
    for rows in (np.arange(1000), np.arange(5, 17), np.array([999, 3, 4, 5, 3, 0, 500, 501]), np.array([], int)):
        taken = take_rows(store.image_keys, rows)
        assert taken.dtype == np.float32 and taken.flags.c_contiguous
        np.testing.assert_array_equal(taken, full[rows])


def test_take_rows_refuses_rows_outside_the_store(store):
    with pytest.raises(IndexError, match=r"\[0, 1000\)"):
        take_rows(store.text_keys, np.array([0, 1000]))


def test_a_view_into_part_of_a_store_array_is_indexed_as_itself(store):
    part = store.image_keys[100:]  # a memmap whose offset is still the file's header: never read as the file
    np.testing.assert_array_equal(take_rows(part, np.array([0, 1, 899])), np.array(store.image_keys)[[100, 101, 999]])
    np.testing.assert_array_equal(take_rows([[1.0, 2.0], [3.0, 4.0]], np.array([1])), [[3.0, 4.0]])


def test_row_blocks_cover_every_row_once_in_order(store):
    blocks = list(row_blocks(store.text_keys, block=300))
    assert [start for start, _ in blocks] == [0, 300, 600, 900]
    np.testing.assert_array_equal(np.concatenate([b for _, b in blocks]), np.array(store.text_keys))


def test_lazy_rows_compute_the_distinct_sorted_rows_asked(store):
    asked = []

    def double(rows):
        asked.append(rows.copy())
        return 2 * take_rows(store.image_keys, rows)

    lazy = LazyRows((1000, 16), double)
    rows = np.array([7, 2, 7, 40])
    np.testing.assert_array_equal(take_rows(lazy, rows), 2 * np.array(store.image_keys)[rows])
    np.testing.assert_array_equal(asked[0], [2, 7, 40])
    np.testing.assert_array_equal(np.concatenate([b for _, b in row_blocks(lazy, 256)]), 2 * np.array(store.image_keys))


def resident_file_mib() -> float:
    """Pages of mapped files resident in this process (Linux /proc/self/status RssFile): what a mapped scan adds."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("RssFile:"))
    return int(line.split()[1]) / 1024


def test_a_full_scan_does_not_map_the_store_into_memory(tmp_path):
    rows = 160_000  # 80 MB of 128-d keys: a scan through the memory map leaves about that resident
    meta = pd.DataFrame({"item_id": [f"i{k}" for k in range(rows)], "split": "train"})
    keys = np.ones((rows, 128), np.float32)
    write_store(tmp_path / "big", meta, keys, keys, np.zeros((rows, 1)), MODEL, "test")
    del keys
    store = open_store(tmp_path / "big")
    before = resident_file_mib()
    total = sum(float(block.sum()) for _, block in row_blocks(store.image_keys, block=4096))
    assert total == rows * 128
    assert resident_file_mib() - before < 20
    float(np.asarray(store.text_keys).sum())  # the mapped scan this avoids, for contrast
    assert resident_file_mib() - before > 70
