"""`data.source`: which catalog ingest reads (the generated sample, a local Myntra/H&M copy, or Kaggle)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.catalog.formats import catalog_format, format_names
from pipelines.errors import PipelineError
from pipelines.io import same_path

ACCEPTED_FORMS = (
    "sample",
    "myntra:<folder or zip>",
    "myntra:kaggle[:<owner>/<dataset>]",
    "hm:<folder or zip>",
    "hm:kaggle[:<competition>]",
    "myntra or hm alone (reads the folder or zip in data.catalog)",
)

_DATASET_SLUG = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
_COMPETITION_SLUG = re.compile(r"^[A-Za-z0-9][\w-]*$")


class SourceError(PipelineError):
    """`data.source` is not one of the accepted forms."""


@dataclass(frozen=True)
class CatalogSource:
    """A parsed `data.source`: exactly one of `path` / `kaggle` is set unless kind is "sample"."""

    spec: str  # the param as written
    kind: str  # "sample" or a catalog format name (formats.yaml: myntra, hm)
    path: Path | None = None  # local folder, zip, or the CSV itself
    kaggle: str | None = None  # dataset slug (myntra) or competition name (hm)


def parse_source(spec: str, catalog: str | None = None) -> CatalogSource:
    """Parse `data.source`; an unknown form is an error that lists the accepted ones.

    `catalog` is `data.catalog`, the path DVC tracks: a bare `myntra` / `hm` reads it, and a source naming a
    local folder or zip must name that same path, or a change to the catalog would not rerun ingest.
    """
    text = spec.strip()
    if text == "sample":
        return CatalogSource(spec=spec, kind="sample")
    if text in format_names() and catalog is not None:
        return CatalogSource(spec=spec, kind=text, path=Path(catalog).expanduser())
    scheme, sep, rest = text.partition(":")
    if not sep or scheme not in format_names():
        raise SourceError(
            f"params.yaml: data.source {spec!r} is not an accepted form; use one of: {', '.join(ACCEPTED_FORMS)}"
        )
    if not rest:
        raise SourceError(f"params.yaml: data.source {spec!r} names no folder, zip or kaggle slug after '{scheme}:'")
    if rest == "kaggle" or rest.startswith("kaggle:"):
        return CatalogSource(spec=spec, kind=scheme, kaggle=_kaggle_slug(spec, scheme, rest[len("kaggle:") :]))
    if catalog is not None and not same_path(rest, catalog):
        raise SourceError(
            f"params.yaml: data.source {spec!r} reads {rest!r} but data.catalog (the path DVC tracks) is "
            f"{catalog!r}; set data.catalog: {rest} too (or data.source: {scheme} alone), so that editing the "
            "catalog reruns ingest"
        )
    return CatalogSource(spec=spec, kind=scheme, path=Path(rest).expanduser())


def _kaggle_slug(spec: str, scheme: str, slug: str) -> str:
    info = catalog_format(scheme).kaggle
    if not slug:
        return info.default
    pattern, expected = (
        (_DATASET_SLUG, "<owner>/<dataset>") if info.kind == "dataset" else (_COMPETITION_SLUG, "<competition>")
    )
    if not pattern.match(slug):
        raise SourceError(
            f"params.yaml: data.source {spec!r}: a {scheme} Kaggle {info.kind} is named {expected} "
            f"(e.g. {info.default}), got {slug!r}"
        )
    return slug
