"""The frozen encoders: open_clip backbone, sentence fact encoder, the encode_kv pass and its engines, prompt cache."""

from typing import TYPE_CHECKING

from pipelines.encoders.config import KVConfig, ModelConfig
from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.encoders.clip import ClipEncoder as ClipEncoder, check_arch as check_arch
    from pipelines.encoders.device import resolve_device as resolve_device
    from pipelines.encoders.engine import encode_store as encode_store
    from pipelines.encoders.facts import FactEncoder as FactEncoder, fact_text as fact_text, fact_texts as fact_texts
    from pipelines.encoders.images import (
        ImageFileDataset as ImageFileDataset,
        image_batches as image_batches,
        image_loader as image_loader,
        load_rgb as load_rgb,
    )
    from pipelines.encoders.kv import (
        KVReport as KVReport,
        check_items as check_items,
        encode_image_keys as encode_image_keys,
        encode_kv_store as encode_kv_store,
        store_params as store_params,
    )
    from pipelines.encoders.prompt_cache import CachedPromptEncoder as CachedPromptEncoder
    from pipelines.encoders.texts import clip_texts as clip_texts

__getattr__, __all__ = lazy_exports(__name__, __file__)
__all__ += ["KVConfig", "ModelConfig"]
