import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train on one thread, as the stage does by default (train.threads), restoring the setting after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
