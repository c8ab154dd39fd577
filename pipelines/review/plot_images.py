"""Both revisions' DVC plots overlaid (`dvc plots diff --json`), rendered offline to SVG or PNG with vl-convert."""

from __future__ import annotations

import copy
import json
import logging
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.review.revisions import Side

log = logging.getLogger(__name__)

FORMATS = ("svg", "png")
PNG_SCALE = 1.5

PLOTS_DIR = "plots"  # beside report.md


@dataclass(frozen=True)
class PlotImage:
    """One plot of dvc.yaml: the image file (relative to the review folder) or why there is none."""

    title: str
    file: str | None
    notes: tuple[str, ...] = ()


def plots_diff(root: Path, base: Side, head: Side) -> tuple[dict[str, Any], list[str]]:
    """`dvc plots diff --json BASE [HEAD]`: filled Vega-Lite specs per plot id, and notes on what failed.

    DVC reads each revision's plot files from git (our plots are `cache: false` outs, committed) or, for
    cached outs, from the DVC cache; the working tree side reads the files on disk. Nothing is rerun.
    """
    revs = [base.name] + ([head.name] if not head.is_workspace else [])
    command = [sys.executable, "-m", "dvc", "plots", "diff", "--json", *revs]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    try:
        diff = json.loads(result.stdout)
    except json.JSONDecodeError:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        log.warning("dvc plots diff failed: %s", reason)
        return {}, [f"`dvc plots diff` failed ({reason}); no plots rendered"]
    notes = [f"`dvc plots diff` exited {result.returncode}"] if result.returncode not in (0, 1) else []
    return diff, notes


def offline_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy that needs nothing from the network: no `$schema`, and data inline (a `url` is refused)."""
    clean = copy.deepcopy(dict(spec))
    clean.pop("$schema", None)
    if _has_data_url(clean):
        raise ValueError("the spec loads its data from a URL; only inline data is rendered offline")
    return clean


def _has_data_url(node: Any) -> bool:
    if isinstance(node, Mapping):
        if isinstance(node.get("data"), Mapping) and "url" in node["data"]:
            return True
        return any(_has_data_url(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_data_url(value) for value in node)
    return False


def vegalite_version(spec: Mapping[str, Any], available: list[str]) -> str | None:
    """The newest bundled Vega-Lite of the spec's major version (`$schema: .../vega-lite/v5.json`)."""
    match = re.search(r"vega-lite/v(\d+)", str(spec.get("$schema", "")))
    if not match:
        return None
    same_major = [version for version in available if version.split(".")[0] == match.group(1)]
    return max(same_major, key=lambda version: tuple(int(part) for part in version.split(".")), default=None)


def render(spec: Mapping[str, Any], image_format: str) -> bytes:
    """One Vega-Lite spec to SVG or PNG bytes; `allowed_base_urls=[]` forbids any fetch."""
    import vl_convert

    version = vegalite_version(spec, vl_convert.get_vegalite_versions())
    clean = offline_spec(spec)
    if image_format == "svg":
        return vl_convert.vegalite_to_svg(clean, vl_version=version, allowed_base_urls=[]).encode("utf-8")
    if image_format == "png":
        return vl_convert.vegalite_to_png(clean, vl_version=version, scale=PNG_SCALE, allowed_base_urls=[])
    raise ValueError(f"image format must be one of {FORMATS}, got {image_format!r}")


def slug(title: str) -> str:
    """A file name for a plot id: lower case words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "plot"


def render_plots(diff: Mapping[str, Any], review_dir: Path, image_format: str, expected: list[str]) -> list[PlotImage]:
    """Write one image per plot id into `review_dir/plots/`; note the revisions (of `expected`) a plot lacks and why."""
    errors: dict[str, list[str]] = {}
    for error in diff.get("errors") or []:
        source = f"`{error['source']}`" if error.get("source") else "its data"
        errors.setdefault(error.get("name", ""), []).append(
            f"absent at {error.get('rev', '?')}: {source} ({error.get('type', 'error')})"
        )
    out_dir = review_dir / PLOTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    images, used = [], set()
    for title, entries in (diff.get("data") or {}).items():
        for entry in (item for item in entries if item.get("type") == "vega"):
            revisions = tuple(entry.get("revisions") or ())
            notes = list(dict.fromkeys(errors.get(title, [])))
            notes += [
                f"no data at {rev} (the plot's files or fields differ there)"
                for rev in expected
                if rev not in revisions and not any(f"absent at {rev}:" in note for note in notes)
            ]
            name = slug(title)
            while name in used:
                name += "-2"
            used.add(name)
            file = f"{name}.{image_format}"
            written: str | None = f"{PLOTS_DIR}/{file}"
            try:
                (out_dir / file).write_bytes(render(entry["content"], image_format))
            except ValueError as exc:
                log.warning("plot %r not rendered: %s", title, exc)
                notes.append(f"not rendered: {str(exc).splitlines()[0]}")
                written = None
            images.append(PlotImage(title, written, tuple(notes)))
    return images
