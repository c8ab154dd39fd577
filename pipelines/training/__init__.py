"""The retrieval heads over frozen CLIP features (or LoRA on the backbone), their losses, sampler and training loop."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports
from pipelines.training.config import LoraConfig, SamplerConfig, TrainConfig

if TYPE_CHECKING:
    from pipelines.training.checkpoint import (
        load_checkpoint as load_checkpoint,
        params_hash as params_hash,
        run_hash as run_hash,
        save_checkpoint as save_checkpoint,
    )
    from pipelines.training.data import TrainingData as TrainingData, prepare_training_data as prepare_training_data
    from pipelines.training.export import export_model as export_model
    from pipelines.training.finetuned import FinetunedModel as FinetunedModel, load_finetuned as load_finetuned
    from pipelines.training.live_log import (
        LiveTrainingLog as LiveTrainingLog,
        headline_metrics as headline_metrics,
        training_report as training_report,
    )
    from pipelines.training.loop import (
        EpochLog as EpochLog,
        NonFiniteLossError as NonFiniteLossError,
        Trainer as Trainer,
        TrainResult as TrainResult,
    )
    from pipelines.training.losses import (
        AttributeLoss as AttributeLoss,
        PairMarginLoss as PairMarginLoss,
        SymmetricInfoNCELoss as SymmetricInfoNCELoss,
    )
    from pipelines.training.model import ModelSpec as ModelSpec, RetrievalHeads as RetrievalHeads
    from pipelines.training.sampler import BalancedBatchSampler as BalancedBatchSampler

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["LoraConfig", "SamplerConfig", "TrainConfig"]
