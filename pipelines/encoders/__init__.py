"""The frozen encoders: the open_clip backbone, the sentence fact encoder, and the encode_kv pass."""

from typing import TYPE_CHECKING

from pipelines.encoders.config import KVConfig, ModelConfig
from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.encoders.clip import ClipEncoder, check_arch
    from pipelines.encoders.device import resolve_device
    from pipelines.encoders.facts import FactEncoder, fact_text, fact_texts
    from pipelines.encoders.images import ImageFileDataset, image_batches, image_loader, load_rgb
    from pipelines.encoders.kv import (
        KVReport,
        check_items,
        clip_texts,
        encode_image_keys,
        encode_kv_store,
        encode_store,
        store_params,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["KVConfig", "ModelConfig"]
