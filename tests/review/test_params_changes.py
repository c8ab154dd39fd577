"""params.yaml leaves compared between two revisions: changed, new and removed keys, lists as leaves."""

from pipelines.review.params_changes import ParamChange, flatten, param_changes
from pipelines.review.revisions import ABSENT


def test_flatten_names_leaves_with_dots_and_keeps_lists_whole():
    assert flatten({"train": {"lr": 0.001, "sampler": {"cap": 0.5}}, "eval": {"ks": [1, 10]}, "seed": 0}) == {
        "train.lr": 0.001,
        "train.sampler.cap": 0.5,
        "eval.ks": [1, 10],
        "seed": 0,
    }


def test_changed_new_and_removed_keys_sorted():
    old = {"train": {"lr": 0.001, "epochs": 20, "head": "mlp"}, "model": {"device": "auto"}}
    new = {"train": {"lr": 0.0003, "epochs": 20, "head": "mlp"}, "runtime": {"device": "auto"}}
    assert param_changes(old, new) == [
        ParamChange("model.device", "auto", ABSENT),
        ParamChange("runtime.device", ABSENT, "auto"),
        ParamChange("train.lr", 0.001, 0.0003),
    ]


def test_a_list_that_changed_is_one_change_and_equal_params_are_none():
    assert param_changes({"eval": {"ks": [1, 10]}}, {"eval": {"ks": [1, 5, 10]}}) == [
        ParamChange("eval.ks", [1, 10], [1, 5, 10])
    ]
    assert param_changes({"a": {"b": 1}}, {"a": {"b": 1}}) == []


def test_a_missing_params_file_makes_every_key_new():
    assert param_changes(None, {"seed": 0}) == [ParamChange("seed", ABSENT, 0)]
    assert param_changes(None, None) == []
