"""Greedy decoding of the extractor's answers, free or constrained by the grammar, a batch of records at a time.

The prompt batch (shared prefix, left-padded bodies ending in the assistant marker) is run once with a cache, then
one token per step for every row. Free decoding takes the argmax over the vocabulary; constrained decoding the
argmax over the tokens `Grammar.allowed` gives, so its output is a valid record by construction. A row stops at
EOS; a row still going after `max_new_tokens` is truncated (reported, never silently cut into a record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from pipelines.extract.grammar import Grammar
from pipelines.extract.model import Batch, ExtractorModel, left_pad
from pipelines.extract.sequences import Example


@dataclass(frozen=True)
class Generation:
    text: str  # the answer's text, EOS excluded
    tokens: int  # tokens generated (EOS included)
    truncated: bool  # no EOS within max_new_tokens


@torch.no_grad()
def generate(
    model: ExtractorModel,
    prefix: list[int],
    examples: Sequence[Example],
    images: Tensor,
    row_of: dict[str, int],
    *,
    max_new_tokens: int,
    grammar: Grammar | None,
    batch_size: int,
) -> list[Generation]:
    """Greedy answers for `examples` (bodies without answers), in order."""
    model.eval()
    out: list[Generation] = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        out += _generate_batch(model, prefix, chunk, images, row_of, max_new_tokens, grammar)
    return out


def _generate_batch(
    model: ExtractorModel,
    prefix: list[int],
    chunk: Sequence[Example],
    images: Tensor,
    row_of: dict[str, int],
    max_new_tokens: int,
    grammar: Grammar | None,
) -> list[Generation]:
    ids, mask = left_pad([e.body[: e.answer_start] for e in chunk], model.pad_id)
    rows = torch.tensor([row_of[e.item_id] for e in chunk])
    states, cache = model.hidden_states(prefix, Batch(ids, mask, images[rows]), use_cache=True)
    decoder = model.lm.get_decoder()  # type: ignore[no-untyped-call]
    attention = torch.cat([torch.ones((len(chunk), len(prefix)), dtype=torch.long), mask], dim=1)
    positions = len(prefix) + mask.sum(dim=1, keepdim=True)
    last = states[:, -1]
    produced: list[list[int]] = [[] for _ in chunk]
    finished = [False] * len(chunk)
    automata = [grammar.start() for _ in chunk] if grammar is not None else None
    for _ in range(max_new_tokens):
        logits = model.logits(last).float()
        if automata is not None:
            assert grammar is not None
            allowed = torch.full_like(logits, float("-inf"))
            for i, state in enumerate(automata):
                if not finished[i]:
                    allowed[i, grammar.allowed(state)] = 0.0
            logits = logits + allowed
        tokens = logits.argmax(dim=-1)
        for i, token in enumerate(tokens.tolist()):
            if finished[i]:
                continue
            produced[i].append(token)
            if automata is not None:
                assert grammar is not None
                grammar.advance(automata[i], token)
            finished[i] = token == model.eos_id
        if all(finished):
            break
        attention = torch.cat([attention, torch.ones((len(chunk), 1), dtype=torch.long)], dim=1)
        step = decoder(
            input_ids=tokens[:, None],
            attention_mask=attention,
            position_ids=positions,
            cache=cache,
            use_cache=True,
        )
        cache, positions, last = step.cache, positions + 1, step.last_hidden_state[:, -1]
    return [
        Generation(model.decode([t for t in tokens if t != model.eos_id]), len(tokens), not done)
        for tokens, done in zip(produced, finished, strict=True)
    ]
