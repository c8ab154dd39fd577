"""The retrieval heads over frozen CLIP features (or LoRA on the backbone), their losses, sampler and training loop."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports
from pipelines.training.config import LoraConfig, SamplerConfig, TrainConfig

if TYPE_CHECKING:
    from pipelines.training.checkpoint import load_checkpoint, params_hash, run_hash, save_checkpoint
    from pipelines.training.data import TrainingData, prepare_training_data
    from pipelines.training.export import export_model
    from pipelines.training.finetuned import FinetunedModel, load_finetuned
    from pipelines.training.live_log import LiveTrainingLog, headline_metrics, training_report
    from pipelines.training.loop import EpochLog, NonFiniteLossError, Trainer, TrainResult
    from pipelines.training.losses import AttributeLoss, PairMarginLoss, SymmetricInfoNCELoss
    from pipelines.training.model import ModelSpec, RetrievalHeads
    from pipelines.training.sampler import BalancedBatchSampler

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["LoraConfig", "SamplerConfig", "TrainConfig"]
