"""Run a small training in its own process (for the kill-and-resume test); each epoch ends with a pause.

argv: checkpoint_root epochs pause_seconds [live_dir: log the epochs there through DVCLive, as the train stage does]."""

import sys
import time
from pathlib import Path

import torch
from train_synthetic import small_run

if __name__ == "__main__":
    torch.set_num_threads(1)
    trainer = small_run(Path(sys.argv[1]), epochs=int(sys.argv[2]))
    epoch_log = None
    if len(sys.argv) > 4:
        from pipelines.training.live_log import LiveTrainingLog

        epoch_log = LiveTrainingLog(sys.argv[4])
    trainer.fit(on_epoch_end=lambda epoch, row: time.sleep(float(sys.argv[3])), epoch_log=epoch_log)
