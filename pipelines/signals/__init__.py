"""Prototype concept signals: per-dimension prototypes, calibrated scores and their gating rule."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.signals.export import (
        SIGNAL_COLUMNS,
        ConceptSignals,
        active_signal_labels,
        export_signals,
        read_signal_labels,
        signals_report,
    )
    from pipelines.signals.gating import GatingRule, calibrate, candidates, gate, rank_concepts
    from pipelines.signals.prototypes import (
        ConceptPrototypes,
        build_prototypes,
        concept_order,
        load_prototypes,
        refine_prototypes,
        save_prototypes,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
