"""Run a small training in its own process (for the kill-and-resume test); each epoch ends with a pause."""
import sys
import time
from pathlib import Path

import torch

from train_synthetic import small_run

if __name__ == "__main__":
    torch.set_num_threads(1)
    trainer = small_run(Path(sys.argv[1]), epochs=int(sys.argv[2]))
    trainer.fit(on_epoch_end=lambda epoch, row: time.sleep(float(sys.argv[3])))
