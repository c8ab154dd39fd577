"""A stage's import closure (`stage_files`, `files_hash`) and the dvc.yaml code deps written from it (`make deps`)."""

from pipelines.closure.imports import files_hash, stage_files

__all__ = ["files_hash", "stage_files"]
