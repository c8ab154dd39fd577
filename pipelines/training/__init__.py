"""The protocol model: projection + attribute heads over frozen CLIP features (or LoRA on the backbone), its losses, sampler and training loop."""

from pipelines.lazy import lazy_exports
from pipelines.training.config import LoraConfig, SamplerConfig, TrainConfig

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "checkpoint": ["load_checkpoint", "params_hash", "save_checkpoint"],
        "data": ["TrainingData", "prepare_training_data"],
        "finetuned": ["FinetunedModel", "export_model", "load_finetuned"],
        "losses": ["AttributeLoss", "PairMarginLoss", "SymmetricInfoNCELoss"],
        "live_log": ["LiveTrainingLog", "headline_metrics", "training_report"],
        "loop": ["EpochLog", "NonFiniteLossError", "Trainer", "TrainResult", "train_protocol_model"],
        "model": ["ModelSpec", "ProtocolModel"],
        "sampler": ["BalancedBatchSampler"],
    },
)
__all__ += ["LoraConfig", "SamplerConfig", "TrainConfig"]
