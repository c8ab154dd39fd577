"""One wrapper around open_clip: builds the backbone with its own transforms and encodes L2-normalised features."""

from __future__ import annotations

import contextlib
import difflib
import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from open_clip.transformer import text_global_pool

from pipelines.encoders.config import ModelConfig
from pipelines.encoders.device import resolve_device
from pipelines.encoders.images import Transform
from pipelines.errors import PipelineError
from pipelines.store.writer import check_model_description

log = logging.getLogger(__name__)

UNTRAINED = "none"
HALF_PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}
PRECISIONS = ("fp32", *HALF_PRECISIONS)


def check_arch(arch: str) -> None:
    """Raise a PipelineError listing close names when open_clip does not know `arch`."""
    if arch.startswith(("hf-hub:", "local-dir:")):
        return
    known = open_clip.list_models()
    if arch not in known:
        close = difflib.get_close_matches(arch, known, n=5, cutoff=0.5)
        hint = f"close names: {', '.join(close)}" if close else f"e.g. {', '.join(known[:5])}"
        raise PipelineError(f"model.arch {arch!r} is not an open_clip architecture ({hint})")


def check_precision(precision: str, device_type: str) -> None:
    """Half precisions run on CUDA only."""
    if precision != "fp32" and device_type != "cuda":
        raise PipelineError(
            f"model.precision {precision} needs a CUDA device, but the model runs on {device_type}; "
            "set model.precision to fp32 on CPU"
        )


class ClipEncoder:
    """A frozen open_clip model with its own preprocessing and tokenizer.

    Attributes: `model` (eval mode, on `device`), `preprocess` (open_clip's validation
    transform: PIL image -> tensor), `tokenizer`, `device`, `dim` (embedding width) and
    `description` ({arch, pretrained, untrained, precision, seed}, device-independent, the
    `model` entry of a store manifest).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        preprocess: Transform,
        tokenizer: Callable[[list[str]], torch.Tensor],
        device: torch.device,
        description: dict[str, Any],
        dim: int,
    ) -> None:
        self.model: Any = model  # open_clip's CLIP: its encode_image / encode_text are untyped
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.device = device
        self.description = description
        self.dim = dim

    @classmethod
    def from_config(cls, model_cfg: ModelConfig, seed: int, device: str = "auto") -> ClipEncoder:
        return cls.build(model_cfg.arch, model_cfg.pretrained, model_cfg.precision, device, seed)

    @classmethod
    def from_manifest(cls, model: Mapping[str, Any], device: str = "auto") -> ClipEncoder:
        """Rebuild the backbone a store was encoded with (same weights, bit for bit, for `none`)."""
        check_model_description(model, "store manifest")
        encoder = cls.build(model["arch"], model["pretrained"], model["precision"], device, int(model["seed"]))
        if encoder.description["untrained"] != model["untrained"]:
            raise PipelineError(
                f"store manifest says untrained={model['untrained']} for pretrained={model['pretrained']!r}, "
                "which this code would build differently; re-encode the store"
            )
        return encoder

    @classmethod
    def build(cls, arch: str, pretrained: str, precision: str, device: str, seed: int) -> ClipEncoder:
        check_arch(arch)
        if precision not in PRECISIONS:
            raise PipelineError(f"model.precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        torch_device = resolve_device(device)
        check_precision(precision, torch_device.type)
        model, preprocess = _create(arch, pretrained, seed)
        model.eval().requires_grad_(False).to(torch_device)
        description = {
            "arch": arch,
            "pretrained": pretrained,
            "untrained": pretrained == UNTRAINED,
            "precision": precision,
            "seed": int(seed),
        }
        encoder = cls(model, preprocess, open_clip.get_tokenizer(arch), torch_device, description, dim=0)
        config = open_clip.get_model_config(arch)
        encoder.dim = (
            int(config["embed_dim"]) if config and "embed_dim" in config else encoder.encode_texts([""]).shape[1]
        )
        log.info(
            "backbone %s (pretrained=%s) on %s, %s, dim %d", arch, pretrained, torch_device, precision, encoder.dim
        )
        return encoder

    @contextlib.contextmanager
    def _autocast(self) -> Iterator[None]:
        dtype = HALF_PRECISIONS.get(self.description["precision"])
        if dtype is None:
            yield
        else:
            with torch.autocast(device_type=self.device.type, dtype=dtype):
                yield

    def encode_images(self, pixels: torch.Tensor) -> np.ndarray:
        """A preprocessed batch (B, 3, H, W) -> (B, dim) float32, L2-normalised."""
        with torch.inference_mode(), self._autocast():
            features = self.model.encode_image(pixels.to(self.device, non_blocking=True))
        return _normalised(features)

    def encode_texts(self, texts: list[str], batch_size: int = 256, *, trim: bool = True) -> np.ndarray:
        """Texts (truncated to the context length by the tokenizer) -> (len, dim) float32, L2-normalised.

        With `trim` (and a text tower that allows it, see `trims_text`), each batch runs only up to
        its longest text's end token instead of the full context length.
        """
        out = []
        for start in range(0, len(texts), batch_size):
            tokens = self.tokenizer(list(texts[start : start + batch_size])).to(self.device)
            with torch.inference_mode(), self._autocast():
                if trim and self.trims_text:
                    features = _encode_text_trimmed(self.model, tokens)
                else:
                    features = self.model.encode_text(tokens)
            out.append(_normalised(features))
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    @functools.cached_property
    def trims_text(self) -> bool:
        """Whether padding after the pooled end token can be dropped without changing a text key.

        True for open_clip's own text tower with a causal attention mask and end-token pooling: no
        position attends to a later one, and the pooled position is the end token, so tokens after
        the longest text's end token in a batch affect nothing that is kept.
        """
        model = self.model
        if not isinstance(model, open_clip.model.CLIP) or model.text_pool_type not in ("argmax", "eos"):
            return False
        mask = getattr(model, "attn_mask", None)
        if mask is None or mask.ndim != 2:
            return False
        upper = torch.ones_like(mask, dtype=torch.bool).triu(1)
        return bool(torch.isneginf(mask[upper]).all() and (mask[~upper] == 0).all())


def _pooled_positions(model: Any, tokens: torch.Tensor) -> torch.Tensor:
    """The position text_global_pool reads in each row: the end token (the highest id, or the eos id)."""
    if model.text_pool_type == "eos":
        positions: torch.Tensor = (tokens == model.text_eos_id).int().argmax(dim=-1)
        return positions
    return tokens.argmax(dim=-1)


def _encode_text_trimmed(model: Any, tokens: torch.Tensor) -> torch.Tensor:
    """open_clip's CLIP.encode_text on the tokens up to the batch's last pooled position (exact: causal mask)."""
    length = int(_pooled_positions(model, tokens).max()) + 1
    tokens = tokens[:, :length]
    cast_dtype = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = text_global_pool(x, tokens, model.text_pool_type, eos_token_id=getattr(model, "text_eos_id", None))
    if model.text_projection is not None:
        projection = model.text_projection
        x = projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection
    features: torch.Tensor = x
    return features


def _normalised(features: torch.Tensor) -> np.ndarray:
    # Normalise in fp32: half-precision norms lose digits the retrieval scores need.
    normalised: np.ndarray = F.normalize(features.float(), dim=-1).cpu().numpy()
    return normalised


def _create(arch: str, pretrained: str, seed: int) -> tuple[torch.nn.Module, Transform]:
    if pretrained == UNTRAINED:
        log.warning(
            "model.pretrained is 'none': %s gets seeded random weights (seed %d); every embedding comes from an "
            "UNTRAINED backbone (set model.pretrained to an open_clip tag or a checkpoint file for real features)",
            arch,
            seed,
        )
        # A forked RNG: same seed -> same weights, without disturbing the caller's global torch state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=None)
        return model, preprocess
    tags = [] if arch.startswith(("hf-hub:", "local-dir:")) else open_clip.list_pretrained_tags_by_model(arch)
    if pretrained in tags:
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=pretrained)
        except Exception as exc:  # open_clip wraps download failures in RuntimeError; hub errors vary
            log.debug("download of %s/%s failed: %s", arch, pretrained, exc)
            raise PipelineError(
                f"model.pretrained: the open_clip weights for tag {pretrained!r} of {arch} could not be downloaded "
                f"here; download the checkpoint on a machine with network access and set model.pretrained to "
                f"its local file path"
            ) from None
        return model, preprocess
    path = Path(pretrained)
    if path.is_file():
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=str(path))
        except Exception as exc:  # torch.load / state-dict mismatch errors
            raise PipelineError(f"{path}: cannot load it as a {arch} checkpoint ({exc})") from None
        return model, preprocess
    if path.suffix or "/" in pretrained:
        raise PipelineError(f"model.pretrained: checkpoint file {pretrained!r} not found")
    listed = ", ".join(tags) if tags else "none for this architecture"
    raise PipelineError(
        f"model.pretrained {pretrained!r} is neither 'none', an open_clip tag for {arch} (tags: {listed}), "
        "nor an existing checkpoint file"
    )
