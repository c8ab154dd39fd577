"""Attribute-aware fashion retrieval: the library the DVC stages are built from."""
