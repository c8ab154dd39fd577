"""Where the stages read and write, relative to the repository root: the one place a stage takes a path from.

dvc.yaml names the same paths as deps and outs (tests/test_paths.py checks that each one here is named there).
Folders end in `_DIR`; everything else is a file.
"""

from __future__ import annotations

from pathlib import Path

# ingest, normalize
RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")
ITEMS = PROCESSED_DIR / "items.parquet"
DATA_PROFILE_JSON = Path("reports/data_profile.json")
DATA_PROFILE_MD = Path("reports/data_profile.md")

# build_sft (the attribute extractor's SFT data)
SFT_DIR = Path("data/sft")  # train.jsonl, val.jsonl, eval.jsonl and the JSON Schema their targets pass
SFT_SCHEMA_NAME = "attributes.schema.json"
SFT_REPORT = Path("reports/sft.json")
# train_extractor, evaluate_extraction (the extractor's variants and their comparison)
EXTRACTOR_DIR = Path("artifacts/extractor")  # card.json, tokenizer.json, base.pt (E0), sft.pt (E1), lora.pt (E2)
EXTRACTOR_LIVE_DIR = Path("reports/extractor")  # DVCLive per phase: base/, sft/, lora/ (train and val loss by epoch)
EXTRACTOR_REPORT = Path("reports/extractor.json")  # sizes, epochs and best val losses per phase
EXTRACTION_METRICS = Path("reports/extraction.json")  # the headline: a DVC metric
EXTRACTION_DETAIL = Path("reports/extraction_detail.json")  # every row's metrics, per field and label source
EXTRACTION_REPORT = Path("reports/extraction.md")  # extraction_report: the table with the heads, targets, failures
EXTRACTION_COMPARISON = Path("reports/extraction_comparison.json")  # the heads' row, targets met: a DVC metric
EXTRACTION_TARGETS = Path("reports/extraction_targets.json")  # each target with its numbers, the heads' full row
EXTRACTION_ANSWERS_DIR = Path("artifacts/extraction")  # <row>.jsonl: every row's answer per eval item
EXTRACTION_CONFUSION_DIR = Path("reports/extraction_confusion")  # <field>.csv: DVC confusion plots of E2

# encode_kv, export_signals, build_index
STORE_DIR = Path("artifacts/store")
SIGNALS_DIR = Path("artifacts/signals")
SIGNALS = SIGNALS_DIR / "signals.parquet"
PROTOTYPES = SIGNALS_DIR / "prototypes.pt"
SIGNALS_REPORT = Path("reports/signals.json")
INDEX_DIR = Path("artifacts/index")
IMAGE_INDEX = INDEX_DIR / "image.faiss"
INDEX_METRICS = Path("reports/index.json")  # recall@10 per index: the DVC metric
INDEX_DETAIL = Path("reports/index_detail.json")  # factory, rows, dim, size and search knobs per index

# mine_negatives, build_pairs
MINING_DIR = Path("artifacts/mining")
HARD_NEGATIVES = MINING_DIR / "hard_negatives.parquet"
MINING_REPORT = Path("reports/mining.json")
PAIRS_DIR = Path("artifacts/pairs")
PAIRS = PAIRS_DIR / "pairs.parquet"
PAIRS_STATS = Path("reports/pairs_stats.json")

# train
CHECKPOINTS_DIR = Path("artifacts/checkpoints")  # resume state per params hash; deliberately not a DVC out
MODEL_DIR = Path("artifacts/model")
TRAIN_LIVE_DIR = Path("reports/train")  # DVCLive: per-epoch curves (plots/metrics/*.tsv), best epoch (metrics.json)
TRAIN_REPORT = Path("reports/train.json")

# evaluate
EVAL_DIR = Path("artifacts/eval")
PER_QUERY = EVAL_DIR / "per_query.parquet"
RUN_CARD = EVAL_DIR / "run.json"
METRICS = Path("reports/metrics.json")  # the headline: a DVC metric
METRICS_DETAIL = Path("reports/metrics_detail.json")  # every metric at every K, with query counts
METRICS_CI = Path("reports/metrics_ci.json")
METRICS_BY_CATEGORY = Path("reports/metrics_by_category.json")
METRICS_BY_VALUE = Path("reports/metrics_by_value.json")
PLOTS_DIR = Path("reports/plots")
RECALL_CURVE = PLOTS_DIR / "recall_at_k.csv"
ATTRIBUTE_BARS = PLOTS_DIR / "attribute_at_10.csv"
GALLERY = Path("reports/gallery.html")
LEADERBOARD = Path("reports/leaderboard.md")  # the public KAGL benchmark's tasks beside its published rows
BENCHMARK_GROUND_TRUTH = Path("reports/benchmark_ground_truth.tsv")  # the benchmark queries asked, what is relevant
IMAGE_ROOT = Path(".")  # items' image_path is relative to the repository root
# Frozen-CLIP prompt features by content hash, reused by the next run (a sweep); like the checkpoints, deliberately
# not an out: it never changes a result, only spares loading open_clip and the backbone.
PROMPT_CACHE_DIR = Path("artifacts/prompt_cache")

# scoreboard
SCOREBOARD = Path("reports/scoreboard.json")  # per target: baseline, finetuned, delta, pass (a DVC metric)
SCOREBOARD_DETAIL = Path("reports/scoreboard_detail.json")  # intervals, query counts, status, notes, verdict
SCOREBOARD_MD = Path("reports/scoreboard.md")

# rerank (and the search service, which reads the same build)
RERANK_DIR = Path("artifacts/rerank")
POLICY = RERANK_DIR / "policy.json"
RERANK_METRICS = Path("reports/rerank.json")  # six headline values: a DVC metric
RERANK_DETAIL = Path("reports/rerank_detail.json")  # every metric per strategy and query kind, the policy's training
RERANK_REPORT = Path("reports/rerank.md")  # example queries with their explained results
