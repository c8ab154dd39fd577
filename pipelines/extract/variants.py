"""The extractor's variants as artifacts: E0 Base, E1 SFT, E2 SFT+LoRA in `artifacts/extractor/`.

The folder holds `tokenizer.json`, `card.json` (what rebuilds the models: the LM, its spec or path, the image key
width, the LoRA settings) and one state dict per variant (`base.pt`, `sft.pt`, `lora.pt`). E0 is the Base LM (its
next-token pre-training on the catalog's texts) with the projector as initialised: the untrained row. E2's LM is
the Base LM with `peft` LoRA adapters on every linear layer of its blocks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from pipelines.errors import PipelineError
from pipelines.extract.model import TOKENIZER_FILE, ExtractorModel, LmSpec, load_pretrained_lm, tiny_lm

CARD = "card.json"
VARIANTS = {"E0": "base.pt", "E1": "sft.pt", "E2": "lora.pt"}  # variant -> state dict file
LORA_TARGETS = "all-linear"  # peft: every linear layer of the blocks (the output layer excluded)


def add_lora(model: ExtractorModel, r: int, alpha: int, dropout: float, new_tokens: list[int]) -> None:
    """Inject LoRA adapters into the model's LM in place; every LM weight but the adapters' is frozen, except the
    embedding rows of `new_tokens` (peft's trainable tokens): the tokens the Base LM never read, whose (tied) rows
    its pre-training only pushed away. Frozen, they kept E2 from learning the answer's format (val loss 5.2 after
    an epoch, against 2.0 with them trainable)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=LORA_TARGETS,
        trainable_token_indices=new_tokens or None,
    )
    get_peft_model(model.lm, config)


def build_model(card: dict[str, Any], tokenizer_path: Path) -> ExtractorModel:
    """An untrained model of the card's shape (weights are loaded by the caller)."""
    from tokenizers import Tokenizer

    if card["lm"] == "tiny":
        lm = tiny_lm(LmSpec(**card["spec"]))
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
    else:
        lm, tokenizer = load_pretrained_lm(Path(card["lm"]))
    return ExtractorModel(lm, tokenizer, card["image_dim"], card["image_tokens"])


def save_variants(directory: Path, card: dict[str, Any], models: dict[str, ExtractorModel]) -> None:
    """Write the card, the tokenizer and each variant's state dict into `directory` (an atomic_dir's temp)."""
    (directory / CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    first = next(iter(models.values()))
    first.tokenizer.save(str(directory / TOKENIZER_FILE))
    for name, model in models.items():
        torch.save(model.state_dict(), directory / VARIANTS[name])


def load_variant(directory: Path, name: str) -> ExtractorModel:
    """Variant `name` (E0, E1, E2) from train_extractor's folder."""
    path = directory / VARIANTS[name]
    if not path.is_file():
        raise PipelineError(f"{path}: missing; run the train_extractor stage")
    card = json.loads((directory / CARD).read_text(encoding="utf-8"))
    model = build_model(card, directory / TOKENIZER_FILE)
    if name == "E2":
        add_lora(model, **card["lora"], new_tokens=card["new_tokens"])
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    return model
