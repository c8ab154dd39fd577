"""The frozen encoders: the open_clip backbone, the sentence fact encoder, and the encode_kv pass."""

from pipelines.encoders.config import KVConfig, ModelConfig
from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "clip": ["ClipEncoder", "check_arch"],
        "device": ["resolve_device"],
        "facts": ["FactEncoder", "fact_text", "fact_texts"],
        "images": ["ImageFileDataset", "image_batches", "image_loader", "load_rgb"],
        "kv": [
            "KVReport",
            "check_items",
            "clip_texts",
            "encode_image_keys",
            "encode_kv_store",
            "encode_store",
            "store_params",
        ],
    },
)
__all__ += ["KVConfig", "ModelConfig"]
