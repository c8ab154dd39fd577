"""Early stopping: a gain resets the count, `patience` epochs without one stop, and the checkpoint entry round-trips."""

import math

from pipelines.training.early_stopping import SELECTION_METRIC, EarlyStopping


def row(epoch: int, value: float, val_loss: float = 1.0) -> dict:
    return {"epoch": epoch, SELECTION_METRIC: value, "val_loss": val_loss}


def test_a_gain_is_the_new_best_and_patience_epochs_without_one_stop():
    stopping = EarlyStopping(patience=2)
    assert stopping.best_value == -math.inf and stopping.best_epoch == 0 and not stopping.stopped
    assert stopping.update(row(1, 0.3, 2.0), 0.4)
    assert (stopping.best_epoch, stopping.best_value, stopping.val_loss, stopping.fusion_weight) == (1, 0.3, 2.0, 0.4)
    assert not stopping.update(row(2, 0.3), 0.5)  # equal is no gain
    assert stopping.bad_epochs == 1 and not stopping.stopped
    assert stopping.update(row(3, 0.31, 1.5), None)
    assert (stopping.best_epoch, stopping.bad_epochs, stopping.fusion_weight) == (3, 0, None)
    assert not stopping.update(row(4, 0.2), 0.1) and not stopping.update(row(5, 0.1), 0.1)
    assert stopping.stopped and stopping.best_epoch == 3 and stopping.val_loss == 1.5


def test_the_checkpoint_entry_keeps_its_keys_and_order_and_loads_back():
    fresh = EarlyStopping(patience=3)
    assert fresh.state() == {SELECTION_METRIC: -math.inf, "epoch": 0, "bad_epochs": 0}
    assert EarlyStopping.from_state(fresh.state(), 3) == fresh
    stopping = EarlyStopping(patience=3)
    stopping.update(row(1, 0.5, 2.5), 0.25)
    stopping.update(row(2, 0.4), 0.3)
    state = stopping.state()
    assert list(state) == [SELECTION_METRIC, "val_loss", "epoch", "bad_epochs", "fusion_weight"]
    assert state == {SELECTION_METRIC: 0.5, "val_loss": 2.5, "epoch": 1, "bad_epochs": 1, "fusion_weight": 0.25}
    back = EarlyStopping.from_state(state, 3)
    assert back == stopping and list(back.state().items()) == list(state.items())
    assert not back.update(row(3, 0.1), 0.3) and not back.stopped and back.update(row(4, 0.6), 0.3)
