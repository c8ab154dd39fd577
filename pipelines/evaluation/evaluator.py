"""One generic retrieval evaluator: runs the task table for any model given as embeddings plus catalog metadata.

A model is only its vectors: image embeddings of the whole catalog (the documents, and the image
queries) and a map from CLIP text features into its space (identity for the frozen baseline, the
trained text head for the fine-tuned model). The public benchmark's image+text documents are built from
the same two (normalize(w * image + (1 - w) * mapped text key)). Baseline and fine-tuned therefore share
every line of search and scoring code, the same queries and the same FAISS index configuration.
Catalog-sized matrices are read or computed a block at a time (LazyRows, take_rows): the indexes and the
query rows are what an evaluation holds, so its memory stays flat as the catalog grows.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np
import pandas as pd

from pipelines.encoders.texts import clip_texts
from pipelines.errors import PipelineError
from pipelines.evaluation.config import EvalConfig
from pipelines.evaluation.metrics import ranked_metric, same_value
from pipelines.evaluation.tasks import Task, TaskTable
from pipelines.index import build_searchable, search, search_excluding_groups
from pipelines.index.config import IndexConfig
from pipelines.index.exact import exact_neighbours
from pipelines.schema import UNKNOWN, raw_column
from pipelines.store import LazyRows, take_rows

log = logging.getLogger(__name__)

GALLERY_RESULTS = 5
REQUIRED_COLUMNS = ("item_id", "group_key", "split", "image_path")


@dataclass(frozen=True)
class Catalog:
    """What every model shares: item metadata, CLIP text keys of the items, and the CLIP prompt encoder."""

    meta: pd.DataFrame  # row i = document i (items.parquet columns)
    text_keys: np.ndarray  # (N, D) CLIP text features of title + desc
    encode_prompts: Callable[[list[str]], np.ndarray]  # prompts -> (M, D) CLIP text features


@dataclass(frozen=True)
class ModelSpace:
    """A model as the evaluator sees it."""

    name: str
    image_embeddings: np.ndarray | LazyRows  # (N, d) L2-normalised, row i = catalog item i
    map_text: Callable[[np.ndarray], np.ndarray]  # (M, D) CLIP text features -> (M, d)


@dataclass(frozen=True)
class ModelRun:
    name: str
    scores: pd.DataFrame  # one row per query-table row, one column per metric (NaN where it does not apply)
    image_neighbours: np.ndarray  # (image queries, >= 5) catalog rows retrieved for the i2i queries
    rankings: dict[str, np.ndarray]  # text and field tasks: (queries, depth) catalog rows, exact inner-product order


def select_queries(meta: pd.DataFrame, max_queries: int, seed: int) -> np.ndarray:
    """Catalog rows of the test split, in catalog order; a seeded subsample of `max_queries` when > 0."""
    rows = np.flatnonzero(meta["split"].to_numpy() == "test")
    if len(rows) == 0:
        raise PipelineError("the catalog has no test-split items to use as queries (meta column 'split')")
    if 0 < max_queries < len(rows):
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_queries, replace=False))
    return rows


def prompt_values(meta: pd.DataFrame, queries: np.ndarray, attribute: str, skip: tuple[str, ...]) -> list[str]:
    """Canonical values of `attribute` among the query items, sorted; `unknown` and `skip` left out."""
    present = set(meta[attribute].to_numpy()[queries]) - {UNKNOWN} - set(skip)
    return sorted(present)


def prompt_text(template: str, value: str) -> str:
    """The prompt for one canonical value: `v_neck` reads as "v neck"."""
    return template.format(value=value.replace("_", " "))


def catalog_texts(meta: pd.DataFrame) -> np.ndarray:
    """Each item's text exactly as its CLIP text key was encoded from."""
    return np.array(clip_texts(meta), dtype=object)


def sample_benchmark_queries(candidates: np.ndarray, max_queries: int, seed: int, task: str) -> np.ndarray:
    """`candidates` (in order), or a sample of `max_queries` of them kept in order; seeded by `seed` and the
    task's name, so every task draws its own sample and adding a task changes no other's."""
    if len(candidates) <= max_queries:
        return candidates
    rng = np.random.default_rng([seed, zlib.crc32(task.encode("utf-8"))])
    return candidates[np.sort(rng.choice(len(candidates), size=max_queries, replace=False))]


def scope_rows(meta: pd.DataFrame, task: Task) -> np.ndarray:
    """The catalog rows a text or field task draws its queries, documents and relevance from (Task.scope)."""
    if task.scope == "catalog":
        return np.arange(len(meta))
    return np.flatnonzero(meta["split"].to_numpy() == "test")


def text_queries(
    meta: pd.DataFrame, scope: np.ndarray, max_queries: int, seed: int, task: str
) -> tuple[np.ndarray, np.ndarray]:
    """(texts, rows): one query per distinct item text among the `scope` rows, `rows` the first item with it."""
    texts = catalog_texts(meta)
    _, first = np.unique(texts[scope], return_index=True)
    rows = sample_benchmark_queries(scope[np.sort(first)], max_queries, seed, task)
    return texts[rows], rows


def field_queries(
    meta: pd.DataFrame, scope: np.ndarray, field: str, skip: tuple[str, ...], max_queries: int, seed: int, task: str
) -> np.ndarray:
    """The distinct values of kept raw field `field` among the `scope` rows, sorted, `skip` values (case-folded)
    left out; sampled beyond `max_queries`."""
    values = sorted({v for v in meta[raw_column(field)].astype(str).to_numpy()[scope] if v.casefold() not in skip})
    return sample_benchmark_queries(np.array(values, dtype=object), max_queries, seed, task)


def query_text(task: Task, value: str, cfg: EvalConfig) -> str:
    """What the CLIP text tower reads for a prompt or field query: the filled prompt, or the raw value as it is."""
    return str(value) if task.query == "field" else prompt_text(cfg.prompt, value)


def build_query_table(
    meta: pd.DataFrame, queries: np.ndarray, table: TaskTable, cfg: EvalConfig, seed: int = 0
) -> pd.DataFrame:
    """Every query of every task: `task`, `query` (item id, prompted value, text or raw field value), `row`
    (catalog row: the item, or for text queries the first item with that text; -1 for prompts and field
    values), and the query's value of each eval attribute (prompts: the prompted attribute only)."""
    check_meta(meta, [*cfg.attributes, *(["pattern"] if "category" in cfg.attributes and cfg.graphic_patterns else [])])
    check_meta(meta, [raw_column(t.field) for t in table.tasks if t.field])
    frames = []
    for task in table.tasks:
        if task.query == "text":
            texts, rows = text_queries(meta, scope_rows(meta, task), cfg.benchmark.max_queries, seed, task.name)
            frame = pd.DataFrame({"task": task.name, "query": texts, "row": rows})
            for attribute in cfg.attributes:
                frame[attribute] = meta[attribute].to_numpy()[rows]
        elif task.query == "field":
            assert task.field is not None  # parse_task_table requires it of field tasks
            fields = field_queries(
                meta,
                scope_rows(meta, task),
                task.field,
                table.skip_field_values,
                cfg.benchmark.max_queries,
                seed,
                task.name,
            )
            frame = pd.DataFrame({"task": task.name, "query": fields, "row": -1})
            for attribute in cfg.attributes:
                frame[attribute] = UNKNOWN
        elif task.query == "prompt":
            assert task.attribute is not None  # parse_task_table requires it of prompt tasks
            values = prompt_values(meta, queries, task.attribute, table.skip_prompt_values)
            frame = pd.DataFrame({"task": task.name, "query": values, "row": -1})
            for attribute in cfg.attributes:
                frame[attribute] = values if attribute == task.attribute else UNKNOWN
        else:
            frame = pd.DataFrame({"task": task.name, "query": meta["item_id"].to_numpy()[queries], "row": queries})
            for attribute in cfg.attributes:
                frame[attribute] = meta[attribute].to_numpy()[queries]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["row"] = out["row"].astype(np.int64)
    return out


def check_meta(meta: pd.DataFrame, attributes: list[str]) -> None:
    missing = [c for c in (*REQUIRED_COLUMNS, *attributes) if c not in meta.columns]
    if missing:
        raise PipelineError(
            f"catalog metadata lacks column {missing[0]!r} (expected the items.parquet columns; "
            "a store from before that column existed needs `dvc repro normalize encode_kv`)"
        )


def run_model(
    model: ModelSpace,
    catalog: Catalog,
    query_table: pd.DataFrame,
    table: TaskTable,
    cfg: EvalConfig,
    index_cfg: IndexConfig,
    seed: int,
) -> ModelRun:
    """Score every task's queries: image, title and prompt queries against the whole catalog through an index of
    the model's image embeddings (the `index` params; `seed` draws the training sample), text and field queries
    by exact search over their scope's documents (`exact_rankings`)."""
    meta = catalog.meta
    images = model.image_embeddings
    if not isinstance(images, LazyRows):
        images = np.asanyarray(images)  # a store's memory map stays one: take_rows reads it from the file
    if len(images.shape) != 2 or len(images) != len(meta):
        raise PipelineError(
            f"{model.name}: image embeddings have shape {images.shape}, expected one row per catalog item ({len(meta)})"
        )
    index = build_searchable(images, index_cfg, seed).index
    groups = meta["group_key"].astype(str).to_numpy()
    rankings = exact_rankings(model, catalog, images, query_table, table, cfg)
    scores = pd.DataFrame(index=query_table.index)
    neighbours = np.zeros((0, GALLERY_RESULTS), dtype=np.int64)
    for task in table.tasks:
        rows = np.flatnonzero(query_table["task"].to_numpy() == task.name)
        if len(rows) == 0:
            log.warning("%s: task %s has no queries", model.name, task.name)
            continue
        items = query_table["row"].to_numpy()[rows]
        log.info("%s: %s, %d queries", model.name, task.name, len(rows))
        if task.query == "image":
            depth = max(max(cfg.ks), GALLERY_RESULTS)
            _, ids = search_excluding_groups(index, take_rows(images, items), depth, groups[items], groups)
            neighbours = ids
            for attribute in cfg.attributes:
                values = category_values(meta, cfg) if attribute == "category" else meta[attribute].to_numpy()
                _attribute_scores(scores, rows, ids, values, values[items], attribute, cfg.ks)
            continue
        depth = task.results(table.depth)
        relevant_total = None
        if task.query == "title":
            queries = _map_text(model, take_rows(catalog.text_keys, items), len(items), task)
            ids = _title_search(index, queries, take_rows(images, items), items, groups, depth, task)
            relevant = ids == items[:, None]
        elif task.query == "text":
            ids = rankings[task.name]
            text_ids = _text_ids(meta)
            relevant = same_value(ids, text_ids, text_ids[items])
            in_scope = np.bincount(text_ids[scope_rows(meta, task)], minlength=int(text_ids.max()) + 1)
            relevant_total = in_scope[text_ids[items]]
        else:
            values = query_table["query"].to_numpy()[rows]
            if task.exact:
                ids = rankings[task.name]
            else:
                texts = [query_text(task, v, cfg) for v in values]
                _, ids = search(index, _map_text(model, catalog.encode_prompts(texts), len(values), task), depth)
            doc_values = meta[raw_column(task.field) if task.field else task.attribute].astype(str).to_numpy()
            relevant = same_value(ids, doc_values, values)
        for metric in task.metrics:
            scores.loc[rows, metric] = ranked_metric(metric, relevant, relevant_total)
    return ModelRun(model.name, scores, neighbours[:, :GALLERY_RESULTS] if len(neighbours) else neighbours, rankings)


def category_values(meta: pd.DataFrame, cfg: EvalConfig) -> np.ndarray:
    """The catalog's categories as the category metrics read them: the graphic policy makes a graphic pattern
    (`eval.graphic_patterns`, as pairs uses it) a pattern-only signal, so those items' category counts as unknown,
    neither a query nor a hit (a printed tee's taxonomy says more about the print than the garment)."""
    category = meta["category"].to_numpy().copy()
    category[meta["pattern"].isin(cfg.graphic_patterns).to_numpy()] = UNKNOWN
    return category


def exact_rankings(
    model: ModelSpace,
    catalog: Catalog,
    images: np.ndarray | LazyRows,
    query_table: pd.DataFrame,
    table: TaskTable,
    cfg: EvalConfig,
) -> dict[str, np.ndarray]:
    """Ranked catalog rows of every exact (text and field) task's queries: exact inner product over the task's
    documents within its scope, as the public harness ranks by exact cosine. Tasks that share documents and scope
    share one pass over them (one thread, block by block: see exact_neighbours)."""
    meta = catalog.meta
    passes: dict[tuple[str, str], list[tuple[Task, np.ndarray]]] = {}
    for task in table.tasks:
        rows = np.flatnonzero(query_table["task"].to_numpy() == task.name)
        if not task.exact or len(rows) == 0:
            continue
        if task.query == "text":
            clip = take_rows(catalog.text_keys, query_table["row"].to_numpy()[rows])
        else:
            clip = catalog.encode_prompts([query_text(task, v, cfg) for v in query_table["query"].to_numpy()[rows]])
        passes.setdefault((task.documents, task.scope), []).append((task, _map_text(model, clip, len(rows), task)))
    rankings = {}
    for (documents, _), members in passes.items():
        scope = scope_rows(meta, members[0][0])
        mixed = documents != "image"
        vectors = _mixed_documents(model, catalog, images, cfg.benchmark.image_weight) if mixed else images
        depth = max(task.results(table.depth) for task, _ in members)
        local = exact_neighbours(_subset(vectors, scope), np.concatenate([q for _, q in members]), depth)
        ids = np.where(local >= 0, scope[np.maximum(local, 0)], -1)
        start = 0
        for task, queries in members:
            rankings[task.name] = ids[start : start + len(queries), : task.results(table.depth)]
            start += len(queries)
    return rankings


def _subset(vectors: np.ndarray | LazyRows, rows: np.ndarray) -> np.ndarray | LazyRows:
    """`vectors[rows]` (sorted rows), computed a block at a time; `vectors` itself when `rows` are all of them."""
    if len(rows) == len(vectors):
        return vectors
    return LazyRows((len(rows), vectors.shape[1]), lambda wanted: take_rows(vectors, rows[wanted]))


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    rows = np.array(vectors, dtype=np.float32, order="C")  # a copy: faiss normalises in place
    faiss.normalize_L2(rows)
    return rows


def mix_documents(images: np.ndarray, texts: np.ndarray, image_weight: float) -> np.ndarray:
    """The benchmark's image+text documents: normalize(w * image + (1 - w) * text), each side L2-normalised first
    (row by row: _mixed_documents hands it one block of rows at a time)."""
    return _unit_rows(image_weight * _unit_rows(images) + (1.0 - image_weight) * _unit_rows(texts))


def _mixed_documents(
    model: ModelSpace, catalog: Catalog, images: np.ndarray | LazyRows, image_weight: float
) -> LazyRows:
    """The model's image+text documents: its own image embeddings and its map of the CLIP text keys, mixed for
    the rows asked (a block at a time when an index is built from them)."""

    def mixed(rows: np.ndarray) -> np.ndarray:
        image = take_rows(images, rows)
        texts = np.asarray(model.map_text(take_rows(catalog.text_keys, rows)), dtype=np.float32)
        if texts.shape != image.shape:
            raise PipelineError(
                f"{model.name} image+text documents: the text side maps to shape {texts.shape}, "
                f"the images are {image.shape}"
            )
        return mix_documents(image, texts, image_weight)

    return LazyRows(images.shape, mixed)


def _text_ids(meta: pd.DataFrame) -> np.ndarray:
    """The id of each item's distinct text (items with identical texts share one)."""
    return pd.factorize(pd.Series(catalog_texts(meta)), sort=False)[0].astype(np.int64)


def attribute_column(attribute: str, k: int) -> str:
    return f"{attribute}@{k}"


def _attribute_scores(
    scores: pd.DataFrame,
    rows: np.ndarray,
    ids: np.ndarray,
    doc_values: np.ndarray,
    query_values: np.ndarray,
    attribute: str,
    ks: list[int],
) -> None:
    """attribute@K per query (`query_values`: the `rows`' own values): share of the top K whose value equals the
    query's. Queries whose own value is unknown are skipped (NaN); unknown results and empty slots count as misses."""
    mine = query_values
    known = mine != UNKNOWN
    hits = same_value(ids[known], doc_values, mine[known])
    for k in ks:
        column = attribute_column(attribute, k)
        scores.loc[rows, column] = np.nan
        scores.loc[rows[known], column] = ranked_metric(f"attribute@{k}", hits)


def _map_text(model: ModelSpace, clip: np.ndarray, rows: int, task: Task) -> np.ndarray:
    mapped = np.asarray(model.map_text(np.asarray(clip, dtype=np.float32)), dtype=np.float32)
    if mapped.ndim != 2 or len(mapped) != rows or mapped.shape[1] != model.image_embeddings.shape[1]:
        raise PipelineError(
            f"{model.name}: {task.name} text queries map to shape {mapped.shape}, expected "
            f"({rows}, {model.image_embeddings.shape[1]}) to search its image embeddings"
        )
    return mapped


def _title_search(
    index: faiss.Index,
    queries: np.ndarray,
    query_images: np.ndarray,
    items: np.ndarray,
    groups: np.ndarray,
    depth: int,
    task: Task,
) -> np.ndarray:
    """Ranked ids for title queries. With exclude `group_others` the other items of the query's group
    (other views under the same title) are removed and the item itself is ranked by its exact score;
    a tie with another product ranks the item after it (the pessimistic choice)."""
    if task.exclude == "none":
        return search(index, queries, depth)[1]
    scores, ids = search_excluding_groups(index, queries, depth, groups[items], groups)
    own = np.einsum("ij,ij->i", queries, query_images)
    position = ((scores >= own[:, None]) & (ids >= 0)).sum(axis=1)
    column = np.arange(depth)[None, :]
    shifted = np.concatenate([np.full((len(ids), 1), -1, dtype=ids.dtype), ids[:, :-1]], axis=1)
    return np.where(column < position[:, None], ids, np.where(column == position[:, None], items[:, None], shifted))


def evaluate_models(
    models: list[ModelSpace],
    catalog: Catalog,
    queries: np.ndarray,
    table: TaskTable,
    cfg: EvalConfig,
    index_cfg: IndexConfig,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, ModelRun]]:
    """Run every model on the same query table, each searched with an `index_cfg` index. `seed` draws the
    benchmark's query samples and each index's training sample. Returns the per-query table (the query columns,
    then `<model>/<metric>` for each model) and the runs."""
    query_table = build_query_table(catalog.meta, queries, table, cfg, seed)
    # Prompts and field values are encoded by the CLIP text tower once, in one call for every task, then
    # mapped by each model.
    encoded: dict[str, np.ndarray] = {}

    def encode_once(prompts: list[str]) -> np.ndarray:
        missing = [p for p in dict.fromkeys(prompts) if p not in encoded]
        if missing:
            encoded.update(zip(missing, np.asarray(catalog.encode_prompts(missing), dtype=np.float32), strict=True))
        return np.stack([encoded[p] for p in prompts])

    tasks = {task.name: task for task in table.tasks if task.query in ("prompt", "field")}
    asked = query_table[query_table["task"].isin(list(tasks))]
    if len(asked):
        encode_once([query_text(tasks[t], v, cfg) for t, v in zip(asked["task"], asked["query"], strict=True)])

    shared = Catalog(catalog.meta, catalog.text_keys, encode_once)
    runs = {m.name: run_model(m, shared, query_table, table, cfg, index_cfg, seed) for m in models}
    per_query = query_table.copy()
    for name, run in runs.items():
        per_query = pd.concat([per_query, run.scores.add_prefix(f"{name}/")], axis=1)
    return per_query, runs
