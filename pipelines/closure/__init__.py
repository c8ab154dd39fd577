"""A stage's import closure (`stage_files`, `files_hash`) and the dvc.yaml code deps written from it (`make deps`)."""

from pipelines.closure.imports import ROOT, files_hash, module_file, stage_files

__all__ = ["ROOT", "files_hash", "module_file", "stage_files"]
