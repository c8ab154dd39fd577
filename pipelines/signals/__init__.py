"""Prototype concept signals: per-dimension prototypes, calibrated scores and their gating rule."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.signals.export import (
        SIGNAL_COLUMNS as SIGNAL_COLUMNS,
        ConceptSignals as ConceptSignals,
        active_signal_labels as active_signal_labels,
        export_signals as export_signals,
        read_signal_labels as read_signal_labels,
        signals_report as signals_report,
    )
    from pipelines.signals.gating import (
        GatingRule as GatingRule,
        calibrate as calibrate,
        candidates as candidates,
        gate as gate,
        rank_concepts as rank_concepts,
    )
    from pipelines.signals.prototypes import (
        ConceptPrototypes as ConceptPrototypes,
        build_prototypes as build_prototypes,
        concept_order as concept_order,
        load_prototypes as load_prototypes,
        refine_prototypes as refine_prototypes,
        save_prototypes as save_prototypes,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
