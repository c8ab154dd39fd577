"""The answer's grammar as a token automaton (constrained decoding), and the reading of any answer text (free or not).

Every schema-valid answer is `{"category":V,"color":V,...,"neckline":V,"confidence":{"category":C,...}}`: twenty
slots, each a choice among a field's values (or confidence numbers) between fixed punctuation and keys. `Grammar`
keeps one trie of token sequences per slot, each alternative the slot's value with the fixed text that follows it
(the first slot also holds the opening, the last ends in EOS). Alternatives never prefix one another (each ends in
`,"<key>":` or `}}`), so a path through the tries is exactly one valid answer and a decoder that only picks
allowed tokens cannot emit an invalid record; it ends after at most `Grammar.longest` tokens.

Confidence numbers are those JSON writes with at most two decimals in [0, 1]: 0, 1, 1.0, 0.d and 0.dd.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.schema import FIELDS, vocabulary

END = -1  # a trie node's key marking the end of an alternative
INVALID = "<invalid>"  # a field's prediction when the answer gives no string value for it
CONFIDENCES = ("0", "1", "1.0", *(f"0.{d}" for d in range(10)), *(f"0.{d:02d}" for d in range(1, 100) if d % 10))

Trie = dict[int, "Trie"]


KEYS = (*FIELDS, *FIELDS)  # the slots' keys: the values, then the confidences


def frame(i: int) -> tuple[str, str]:
    """The fixed text before and after slot `i`'s choice."""
    if i + 1 == len(KEYS):
        after = "}}"
    elif i + 1 == len(FIELDS):
        after = f',"confidence":{{{json.dumps(KEYS[i + 1])}:'
    else:
        after = f",{json.dumps(KEYS[i + 1])}:"
    return (f"{{{json.dumps(KEYS[0])}:" if i == 0 else ""), after


def choices(i: int) -> list[str]:
    """Slot `i`'s choices as JSON text: the field's values, or the confidence numbers."""
    return [json.dumps(v) for v in vocabulary()[KEYS[i]]] if i < len(FIELDS) else list(CONFIDENCES)


def slots() -> list[list[str]]:
    """The answer's slots as text alternatives, in order, each choice inside its frame."""
    out = []
    for i in range(len(KEYS)):
        before, after = frame(i)
        out.append([before + choice + after for choice in choices(i)])
    return out


@dataclass
class GrammarState:
    slot: int = 0
    node: Trie | None = None
    done: bool = False


@dataclass
class Grammar:
    """Token tries per slot; `allowed(state)` lists the tokens that keep the answer valid."""

    tries: list[Trie]
    longest: int  # tokens in the longest valid answer (EOS included)

    @classmethod
    def build(cls, encode: Callable[[str], list[int]], eos_id: int) -> Grammar:
        tries, longest = [], 0
        choices = slots()
        for i, alternatives in enumerate(choices):
            root: Trie = {}
            most = 0
            for text in alternatives:
                tokens = encode(text) + ([eos_id] if i + 1 == len(choices) else [])
                node = root
                for token in tokens:
                    if END in node:
                        raise ValueError(f"slot {i}: an alternative is a prefix of {text!r}")
                    node = node.setdefault(token, {})
                if node:
                    raise ValueError(f"slot {i}: {text!r} is a prefix of another alternative")
                node[END] = {}
                most = max(most, len(tokens))
            tries.append(root)
            longest += most
        return cls(tries, longest)

    def start(self) -> GrammarState:
        return GrammarState(0, self.tries[0])

    def allowed(self, state: GrammarState) -> list[int]:
        assert state.node is not None and not state.done
        return [token for token in state.node if token != END]

    def advance(self, state: GrammarState, token: int) -> None:
        assert state.node is not None
        node = state.node[token]  # KeyError: a token the grammar does not allow
        if END in node:
            state.slot += 1
            state.done = state.slot == len(self.tries)
            state.node = None if state.done else self.tries[state.slot]
        else:
            state.node = node


@dataclass
class Answer:
    """What an answer text says: JSON validity, the JSON Schema's verdict, and per field the value and confidence
    (INVALID / None where the answer gives none)."""

    text: str
    truncated: bool
    valid_json: bool = False
    schema_pass: bool = False
    values: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float | None] = field(default_factory=dict)


def read_answer(text: str, truncated: bool, validator: Any) -> Answer:
    """Parse an answer; never raises: invalid JSON or values outside the schema are counted by the caller."""
    answer = Answer(text, truncated, values=dict.fromkeys(FIELDS, INVALID), confidence=dict.fromkeys(FIELDS))
    try:
        parsed = json.loads(text)
    except ValueError:
        return answer
    answer.valid_json = True
    if not isinstance(parsed, dict):
        return answer
    answer.schema_pass = not any(True for _ in validator.iter_errors(parsed))
    confidence = parsed.get("confidence")
    for name in FIELDS:
        if isinstance(parsed.get(name), str):
            answer.values[name] = parsed[name]
        if isinstance(confidence, dict):
            number = confidence.get(name)
            if isinstance(number, (int, float)) and not isinstance(number, bool) and 0 <= number <= 1:
                answer.confidence[name] = float(number)
    return answer


def answer_text(values: dict[str, str], confidence: dict[str, float]) -> str:
    """The answer JSON a classifier row writes for its predictions (the SFT targets' compact form)."""
    payload = {**{name: values[name] for name in FIELDS}, "confidence": {n: confidence[n] for n in FIELDS}}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def check_alignment(encode: Callable[[str], list[int]], targets: Sequence[str]) -> None:
    """Raise naming the first target whose tokens are not the concatenation of its slots' tokens (a tokenizer whose
    merges cross the punctuation would make the grammar's paths differ from how training spelled the answers)."""
    for target in targets:
        parsed = json.loads(target)
        chosen = [json.dumps(parsed[n]) for n in FIELDS] + [json.dumps(parsed["confidence"][n]) for n in FIELDS]
        pieces = []
        for i, choice in enumerate(chosen):
            before, after = frame(i)
            pieces += encode(before + choice + after)
        if encode(target) != pieces:
            raise ValueError(f"the tokenizer splits answer {target!r} across its grammar slots")
