"""The extractor: a decoder-only language model (`transformers`) reading a projector's tokens of the frozen CLIP image
key, then the prompt, and writing the answer.

A sequence is `prefix + body`: the prefix is the part of the prompt every record shares (the system prompt and the
schema, up to the image), the body is the image's `image_tokens` placeholder tokens, the record's own prompt text
and, in training, the answer. The prefix is run once per batch and its key/value cache repeated over the batch's
rows, so the schema costs one row of compute per batch instead of one per record. Bodies are left-padded (pads sit
between prefix and body, masked, with positions that skip them), the layout training and generation share.

The tiny LM is a Llama-style config built here; `ExtractorModel.load_lm(path)` loads a pretrained causal LM and its
`tokenizer.json` from a folder instead (the special tokens added, the embeddings resized).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pipelines.extract.tokenizer import EOS, IMAGE, PAD, SPECIAL_TOKENS, special_id

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import DynamicCache, PreTrainedModel

TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class LmSpec:
    """What rebuilds the tiny LM before its weights load (kept in the artifact's card)."""

    vocab_size: int
    hidden: int
    layers: int
    heads: int
    max_positions: int = 2048

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RotaryTable(nn.Module):
    """Llama's default rotary embedding as a table computed once with Python's `math` (IEEE double, rounded to
    float32). transformers computes cos/sin with torch's float32 `cos`/`sin`, which run MKL's VML, whose kernels MKL
    picks by CPU vendor whatever MKL_CBWR says: the table gives the same bytes on any x86-64 machine."""

    cos: Tensor
    sin: Tensor

    def __init__(self, head_dim: int, base: float, positions: int) -> None:
        super().__init__()
        inverse = [1.0 / base ** (i / head_dim) for i in range(0, head_dim, 2)]
        angles = [[p * f for f in inverse] for p in range(positions)]
        cos = torch.tensor([[math.cos(a) for a in row] for row in angles], dtype=torch.float32)
        sin = torch.tensor([[math.sin(a) for a in row] for row in angles], dtype=torch.float32)
        self.register_buffer("cos", torch.cat([cos, cos], dim=-1), persistent=False)
        self.register_buffer("sin", torch.cat([sin, sin], dim=-1), persistent=False)

    def forward(self, x: Tensor, position_ids: Tensor) -> tuple[Tensor, Tensor]:
        return self.cos[position_ids].to(x.dtype), self.sin[position_ids].to(x.dtype)


def tiny_lm(spec: LmSpec) -> PreTrainedModel:
    """A Llama-style decoder of the spec's size (MLP 2x wide, tied input/output embeddings), seeded by the caller."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(  # type: ignore[call-arg]
        vocab_size=spec.vocab_size,
        hidden_size=spec.hidden,
        intermediate_size=2 * spec.hidden,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.heads,
        max_position_embeddings=spec.max_positions,
        tie_word_embeddings=True,
        pad_token_id=0,
        bos_token_id=None,
        eos_token_id=1,
        attn_implementation="sdpa",
    )
    lm = LlamaForCausalLM(config)
    theta = float(config.rope_parameters["rope_theta"])  # type: ignore[index,arg-type]
    lm.model.rotary_emb = RotaryTable(spec.hidden // spec.heads, theta, spec.max_positions)
    return lm


def load_pretrained_lm(path: Path) -> tuple[PreTrainedModel, Tokenizer]:
    """A causal LM saved with `save_pretrained` in `path`, with the `tokenizer.json` beside it; the extractor's
    special tokens are added to the tokenizer and the embeddings resized to match."""
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    if not (path / TOKENIZER_FILE).is_file():
        raise FileNotFoundError(f"extract.lm: {path} has no {TOKENIZER_FILE} (a folder written by save_pretrained)")
    tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    lm = AutoModelForCausalLM.from_pretrained(str(path), attn_implementation="sdpa")
    if int(lm.get_input_embeddings().num_embeddings) < tokenizer.get_vocab_size():  # type: ignore[arg-type]
        lm.resize_token_embeddings(tokenizer.get_vocab_size())
    return lm, tokenizer


class ImageProjector(nn.Module):
    """Frozen image key -> `tokens` LM input embeddings: the key standardised with train-split statistics, then one
    linear map per token (a single (D, tokens * hidden) matrix)."""

    mean: Tensor
    scale: Tensor

    def __init__(self, image_dim: int, hidden: int, tokens: int) -> None:
        super().__init__()
        self.tokens, self.hidden = tokens, hidden
        self.linear = nn.Linear(image_dim, tokens * hidden)
        self.register_buffer("mean", torch.zeros(image_dim))
        self.register_buffer("scale", torch.ones(image_dim))

    @torch.no_grad()
    def set_statistics(self, keys: Tensor) -> None:
        keys = F.normalize(keys.float(), dim=-1)
        self.mean.copy_(keys.mean(dim=0))
        self.scale.copy_(1.0 / keys.std(dim=0).clamp_min(1e-6))

    def forward(self, keys: Tensor) -> Tensor:
        x = (F.normalize(keys, dim=-1) - self.mean) * self.scale
        out: Tensor = self.linear(x).view(len(keys), self.tokens, self.hidden)
        return out


@dataclass
class Batch:
    """Left-padded bodies: ids (B, L), attention mask (B, L), the image keys of the rows (B, D) or None (text only),
    and for training the loss mask (B, L): True where the next token is a target."""

    ids: Tensor
    mask: Tensor
    images: Tensor | None
    loss_mask: Tensor | None = None


def left_pad(rows: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row) :] = torch.tensor(row)
            mask[i, width - len(row) :] = 1
    return ids, mask


class ExtractorModel(nn.Module):
    """The LM, the image projector and the tokenizer's special ids, with the shared-prefix forward pass."""

    def __init__(self, lm: PreTrainedModel, tokenizer: Tokenizer, image_dim: int, image_tokens: int) -> None:
        super().__init__()
        self.lm = lm  # a LlamaForCausalLM (or any causal LM); LoRA layers are injected into it in place
        self.tokenizer = tokenizer
        hidden = int(lm.get_input_embeddings().embedding_dim)  # type: ignore[arg-type]
        self.projector = ImageProjector(image_dim, hidden, image_tokens)
        self.pad_id, self.eos_id = special_id(tokenizer, PAD), special_id(tokenizer, EOS)
        self.image_id = special_id(tokenizer, IMAGE)

    @property
    def image_tokens(self) -> int:
        return self.projector.tokens

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text).ids)

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=False))

    def embed(self, batch: Batch) -> Tensor:
        """Token embeddings of the bodies, the image placeholders replaced by the projector's tokens."""
        embeddings: Tensor = self.lm.get_input_embeddings()(batch.ids)
        if batch.images is None:
            return embeddings
        place = batch.ids == self.image_id
        counts = place.sum(dim=1)
        if bool((counts != self.image_tokens).any()):
            raise ValueError(f"every body with an image must hold {self.image_tokens} image tokens")
        projected = self.projector(batch.images).to(embeddings.dtype)
        return embeddings.masked_scatter(place.unsqueeze(-1), projected)

    def prefix_cache(self, prefix: list[int], rows: int) -> DynamicCache | None:
        """The key/value cache of the shared prefix, computed once and repeated for `rows` rows (None: no prefix)."""
        if not prefix:
            return None
        base = self.lm.get_decoder()  # type: ignore[no-untyped-call]
        out = base(input_ids=torch.tensor([prefix]), use_cache=True)
        cache: DynamicCache = out.cache
        cache.batch_repeat_interleave(rows)
        return cache

    def hidden_states(
        self, prefix: list[int], batch: Batch, *, use_cache: bool = False
    ) -> tuple[Tensor, DynamicCache | None]:
        """The last layer's states over the bodies (B, L, hidden), after the shared prefix; with `use_cache`, the
        cache of prefix and bodies for generation."""
        rows = len(batch.ids)
        cache = self.prefix_cache(prefix, rows)
        mask = torch.cat([torch.ones((rows, len(prefix)), dtype=torch.long), batch.mask], dim=1)
        positions = (len(prefix) + batch.mask.cumsum(dim=1) - 1).clamp_min(len(prefix))
        decoder = self.lm.get_decoder()  # type: ignore[no-untyped-call]
        out = decoder(
            inputs_embeds=self.embed(batch),
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=use_cache or cache is not None,
        )
        return out.last_hidden_state, (out.cache if use_cache else None)

    def logits(self, states: Tensor) -> Tensor:
        result: Tensor = self.lm.get_output_embeddings()(states)  # type: ignore[no-untyped-call]
        return result

    def loss(self, prefix: list[int], batch: Batch) -> Tensor:
        """Mean cross-entropy of the next token over the loss mask's positions (the answer's tokens)."""
        assert batch.loss_mask is not None
        states, _ = self.hidden_states(prefix, batch)
        where = batch.loss_mask[:, :-1]
        targets = batch.ids[:, 1:][where]
        return F.cross_entropy(self.logits(states[:, :-1][where]).float(), targets)
