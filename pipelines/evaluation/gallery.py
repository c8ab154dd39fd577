"""The weakness gallery: a self-contained HTML page of the worst image->image queries and their top results."""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from pipelines.evaluation.evaluator import attribute_column
from pipelines.evaluation.tasks import I2I
from pipelines.schema import UNKNOWN

log = logging.getLogger(__name__)

THUMBNAIL = 96


def worst_queries(per_query: pd.DataFrame, model: str, attributes: list[str], k: int, count: int) -> pd.DataFrame:
    """The `count` image->image queries with the lowest mean attribute@k over `attributes` (known ones) for
    `model`; ties keep catalog order. Adds a `gallery_score` column."""
    rows = per_query[per_query["task"] == I2I]
    scores = rows[[f"{model}/{attribute_column(a, k)}" for a in attributes]].mean(axis=1, skipna=True)
    ranked = rows.assign(gallery_score=scores).dropna(subset=["gallery_score"])
    return ranked.sort_values("gallery_score", kind="stable").head(count)


def render_gallery(
    worst: pd.DataFrame,
    neighbours: dict[str, np.ndarray],
    query_rows: np.ndarray,
    meta: pd.DataFrame,
    attributes: list[str],
    k: int,
    root: Path,
    title: str,
) -> str:
    """HTML with one row per query: the query, then each model's top results, every result labelled with the
    attributes in which it differs from the query. `neighbours[model][i]` are the results of image query
    `query_rows[i]`; image paths in `meta` are relative to `root`. Images are inlined as base64 JPEG thumbnails."""
    position = {int(row): i for i, row in enumerate(query_rows)}
    thumbs: dict[int, str] = {}

    def thumb(row: int) -> str:
        if row not in thumbs:
            thumbs[row] = _thumbnail(root / str(meta["image_path"].iat[row]))
        return thumbs[row]

    models = list(neighbours)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:16px}table{border-collapse:collapse}"
        "td{vertical-align:top;padding:4px;border-top:1px solid #ddd;font-size:11px;width:104px}"
        ".miss{color:#b00020}.hit{color:#1b5e20}img{display:block;width:96px;height:96px;object-fit:contain;"
        "background:#f4f4f4}.q{background:#fff8e1}th{text-align:left;font-size:12px}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Worst {len(worst)} test queries of the fine-tuned model by mean attribute@{k} over "
        f"{', '.join(attributes)} (own group excluded); under each query its attribute@{k} per model "
        f"({' → '.join(models)}). Each result lists the query's known attributes: matched in "
        "<span class='hit'>green</span>, missed in <span class='miss'>red</span> with the result's value "
        "(an unknown value counts as a miss, as in the metric).</p><table>",
        "<tr><th>query</th>"
        + "".join(f"<th colspan='{_width(neighbours)}'>{html.escape(m)}</th>" for m in models)
        + "</tr>",
    ]
    for _, query in worst.iterrows():
        row = int(query["row"])
        scores = "; ".join(
            f"{attribute_column(a, k)}: " + " → ".join(_score(query[f"{m}/{attribute_column(a, k)}"]) for m in models)
            for a in attributes
        )
        facts = "<br>".join(f"{a}: {html.escape(str(meta[a].iat[row]))}" for a in attributes)
        cells = [
            f"<td class='q'><img src='{thumb(row)}' alt='query'><b>{html.escape(str(meta['item_id'].iat[row]))}</b>"
            f"<br>{facts}<br><small>{html.escape(scores)}</small></td>"
        ]
        for model in models:
            for result in neighbours[model][position[row]]:
                cells.append(_result_cell(int(result), row, meta, attributes, thumb))
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table></body></html>\n")
    return "\n".join(parts)


def _score(value: float) -> str:
    return f"{float(value):.2f}" if pd.notna(value) else "–"


def _width(neighbours: dict[str, np.ndarray]) -> int:
    return max((ids.shape[1] for ids in neighbours.values()), default=0)


def _result_cell(
    result: int, query: int, meta: pd.DataFrame, attributes: list[str], thumb: Callable[[int], str]
) -> str:
    if result < 0:
        return "<td>(no result)</td>"
    labels = []
    for attribute in attributes:
        mine, theirs = str(meta[attribute].iat[query]), str(meta[attribute].iat[result])
        if mine == UNKNOWN:
            continue
        css = "hit" if mine == theirs else "miss"
        text = attribute if mine == theirs else f"{attribute}: {theirs}"
        labels.append(f"<span class='{css}'>{html.escape(text)}</span>")
    return (
        f"<td><img src='{thumb(result)}' alt='result'>{html.escape(str(meta['item_id'].iat[result]))}"
        f"<br>{'<br>'.join(labels)}</td>"
    )


def _thumbnail(path: Path) -> str:
    """A base64 JPEG data URI of the image, fitted into THUMBNAIL pixels; a grey tile when it cannot be read."""
    image: Image.Image
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
            image.thumbnail((THUMBNAIL, THUMBNAIL))
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("gallery: cannot read %s (%s); showing a blank tile", path, exc)
        image = Image.new("RGB", (THUMBNAIL, THUMBNAIL), (200, 200, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
