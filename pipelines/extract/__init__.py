"""The attribute extractor: a vision-language model that writes the schema's JSON from what an item's image shows.

This first slice builds its supervised fine-tuning data (`build_sft`): chat records per item and the JSON Schema
their targets pass.
"""

from pipelines.extract.config import ExtractConfig
from pipelines.extract.records import SPLIT_FILES, SftError, build_sft, json_schema, jsonl

__all__ = ["SPLIT_FILES", "ExtractConfig", "SftError", "build_sft", "json_schema", "jsonl"]
