"""build_sft's chat records as the extractor's token sequences: the shared prefix and one body per record.

A record's user turn is `Schema:\\n...\\nImage: <image:ID>` (then, in `image_title`, the title and description).
Everything before the image reference is the same in every record: with the system prompt it is the prefix. The
body is the image's placeholder tokens, the rest of the user turn, the assistant marker and, for training, the
answer and EOS; `answer_start` is the body index of the answer's first token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.errors import PipelineError
from pipelines.extract.tokenizer import ASSISTANT, EOS, IMAGE, SYSTEM, USER

IMAGE_REFERENCE = re.compile(r"<image:[^>]*>")


class RecordError(PipelineError):
    """An SFT record that is not the chat build_sft writes."""


@dataclass(frozen=True)
class Example:
    item_id: str
    variant: str  # the prompt variant (image_only, image_title)
    body: list[int]
    answer_start: int  # len(body) when the body holds no answer (generation)
    target: str  # the answer JSON build_sft wrote


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of one build_sft file; a line that is not a record names the file and line."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
            roles = [m["role"] for m in record["messages"]]
            if roles != ["system", "user", "assistant"]:
                raise ValueError(f"roles are {roles}, expected system, user, assistant")
        except (ValueError, KeyError, TypeError) as exc:
            raise RecordError(f"{path}: line {number}: not an SFT chat record ({exc})") from None
        records.append(record)
    return records


def split_prompt(record: dict[str, Any]) -> tuple[str, str]:
    """(prefix text, the user turn after the image reference)."""
    system, user, _ = (m["content"] for m in record["messages"])
    parts = IMAGE_REFERENCE.split(user)
    if len(parts) != 2:
        raise RecordError(f"item {record.get('item_id')!r}: the user turn must hold one <image:...> reference")
    return f"{SYSTEM}{system}{USER}{parts[0]}", parts[1]


def shared_prefix(records: Sequence[dict[str, Any]]) -> str:
    """The prefix text every record shares (a record with another one is refused, naming it)."""
    prefix = split_prompt(records[0])[0]
    for record in records:
        if split_prompt(record)[0] != prefix:
            raise RecordError(
                f"item {record['item_id']!r}: its system prompt or schema differs from the first record's"
            )
    return prefix


def examples(records: Sequence[dict[str, Any]], encode: Any, image_tokens: int, *, with_answer: bool) -> list[Example]:
    """One Example per record; `encode` maps text to token ids."""
    out = []
    for record in records:
        _, rest = split_prompt(record)
        target = record["messages"][2]["content"]
        prompt = encode(IMAGE * image_tokens + rest + ASSISTANT)
        answer = encode(target + EOS) if with_answer else []
        out.append(Example(str(record["item_id"]), record["variant"], prompt + answer, len(prompt), target))
    return out
