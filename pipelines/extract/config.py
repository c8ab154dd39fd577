"""The `extract` params section: the attribute extractor's SFT data (build_sft), model and training
(train_extractor) and decoding (evaluate_extraction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.io import same_path
from pipelines.params import at_least

PromptVariant = Literal["image_only", "image_title"]


@dataclass(frozen=True)
class ExtractLoraConfig:
    """E2's adapters on the frozen Base LM's attention and MLP projections (`peft`)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    lr: float = 3.0e-3

    def __post_init__(self) -> None:
        at_least("extract.lora", 1, r=self.r, alpha=self.alpha)
        at_least("extract.lora", 0.0, dropout=self.dropout)
        if not self.lr > 0:
            raise ValueError(f"extract.lora.lr must be positive, got {self.lr!r}")


@dataclass(frozen=True)
class ExtractConfig:
    # One record per item and variant: `image_only` shows the model the image alone (it must see the attributes);
    # `image_title` adds the title and description, from which five fields' labels were drawn by rules (it can copy).
    prompt_variants: list[PromptVariant] = field(default_factory=lambda: ["image_only", "image_title"])
    # The least share of targets that must pass the JSON Schema, else build_sft fails naming the first bad row.
    min_schema_pass: float = 0.99
    # `tiny`: a Llama-style decoder built here with a BPE tokenizer trained on the catalog; or a folder holding a
    # pretrained causal LM (save_pretrained) and its tokenizer.json.
    lm: str = "tiny"
    # The path DVC tracks as the LM (a dep of the stages that build it): the folder extract.lm names; with `tiny`,
    # the code that builds it.
    lm_checkpoint: str = "pipelines/extract/model.py"
    vocab_size: int = 1500  # tiny: BPE entries, special tokens and the 256 bytes included
    hidden: int = 128  # tiny: width (MLP 2x)
    layers: int = 2
    heads: int = 4
    image_tokens: int = 4  # projector tokens per image key
    base_epochs: int = 4  # E0: next-token pre-training on the catalog's titles and descriptions
    # E1/E2: at most this many epochs (early stop on val loss); an epoch shows each train item once, in one of the
    # prompt variants, taking turns between epochs
    epochs: int = 6
    patience: int = 2
    batch_size: int = 32
    lr: float = 3.0e-3  # AdamW, Base pre-training and E1's full fine-tuning
    weight_decay: float = 0.01
    grad_clip: float = 1.0  # max global L2 norm of the gradients (0 = off)
    threads: int = 2  # torch CPU threads while training and decoding: part of the result (reductions split by thread)
    lora: ExtractLoraConfig = field(default_factory=ExtractLoraConfig)
    max_new_tokens: int = 160  # decoding's limit; must exceed the longest train answer (a stop at it = truncation)

    def __post_init__(self) -> None:
        if not self.prompt_variants or len(set(self.prompt_variants)) != len(self.prompt_variants):
            raise ValueError(f"extract.prompt_variants must name each variant once, got {self.prompt_variants!r}")
        at_least("extract", 0.0, min_schema_pass=self.min_schema_pass, weight_decay=self.weight_decay)
        at_least("extract", 0.0, grad_clip=self.grad_clip, base_epochs=self.base_epochs)
        at_least(
            "extract",
            1,
            hidden=self.hidden,
            layers=self.layers,
            heads=self.heads,
            image_tokens=self.image_tokens,
            epochs=self.epochs,
            patience=self.patience,
            batch_size=self.batch_size,
            threads=self.threads,
            max_new_tokens=self.max_new_tokens,
        )
        at_least("extract", 300, vocab_size=self.vocab_size)
        if self.min_schema_pass > 1:
            raise ValueError(f"extract.min_schema_pass must be at most 1, got {self.min_schema_pass!r}")
        if self.hidden % self.heads:
            raise ValueError(f"extract.hidden ({self.hidden}) must be a multiple of extract.heads ({self.heads})")
        if not self.lr > 0:
            raise ValueError(f"extract.lr must be positive, got {self.lr!r}")
        if self.lm != "tiny" and not same_path(self.lm, self.lm_checkpoint):
            raise ValueError(
                f"extract.lm reads {self.lm!r} but extract.lm_checkpoint (the path DVC tracks) is "
                f"{self.lm_checkpoint!r}; set extract.lm_checkpoint: {self.lm} too, so that replacing the LM reruns "
                "train_extractor and what follows"
            )
