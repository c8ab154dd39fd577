"""Schemathesis hooks for tests/serve/test_schemathesis.py: the two rules of the API that OpenAPI cannot state.

1. A search needs some query: non-blank `q`, `like` or an uploaded `image` (none at all is a 400 naming `q`). Each
   is optional on its own, and OpenAPI cannot say "at least one of these", so a case the schema allows can lack all
   three: it gets `q` filled in.
2. An upload must be an image Pillow decodes (else 415); the schema can only say "binary", and Schemathesis draws
   arbitrary text for it, so a case's `image` is left out (uploads of real images, and of every kind of bad one,
   are tests/serve/test_server.py's).

Both act before each call on positive cases only (those the schema allows) and touch nothing else; negative cases
are sent as generated.
"""

from __future__ import annotations

from typing import Any

import schemathesis

FALLBACK_QUERY = "red t-shirts"


def _fill(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    values = {name: value for name, value in values.items() if name != "image"}
    text = values.get("q")
    if not ((isinstance(text, str) and text.strip()) or values.get("like")):
        values["q"] = FALLBACK_QUERY
    return values


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    if case.operation.path != "/api/search" or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.method.upper() == "GET":
        case.query = _fill(case.query or {})
    else:
        case.body = _fill(case.body)
