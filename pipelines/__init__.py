"""Attribute-aware fashion retrieval: the library the DVC stages are built from.

Importing it pins the numeric libraries' kernels to one ISA before any of them loads (`pipelines.numerics`).
"""

from pipelines import numerics

numerics.pin()
