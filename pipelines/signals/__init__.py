"""Prototype concept signals: per-dimension prototypes, calibrated scores and the seed's gating rule."""

from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "export": ["SIGNAL_COLUMNS", "ConceptSignals", "active_signal_labels", "export_signals", "signals_report"],
        "gating": ["GatingRule", "calibrate", "candidates", "gate", "rank_concepts"],
        "prototypes": [
            "ConceptPrototypes",
            "build_prototypes",
            "concept_order",
            "load_prototypes",
            "refine_prototypes",
            "save_prototypes",
        ],
    },
)
