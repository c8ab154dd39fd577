"""dvc.yaml's code deps, written from each stage's import closure: `make deps` (`python -m pipelines.closure --write`).

A stage's deps are its code deps, then every other dep (the templated catalog or checkpoint path, data inputs) in
the order dvc.yaml already gives them. Code deps are the project files the stage's script loads
(`stage_files`): its own `stages/` files first, then each project folder the stage loads whole (every file under
it), then the remaining files, each group sorted. Only the `deps:` entries of each stage are rewritten; the rest
of dvc.yaml, comments included, is kept byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.closure.imports import PROJECT_PACKAGES, ROOT, stage_files

DVC_YAML = "dvc.yaml"
CMD = re.compile(r"python -m (stages\.\w+)")
PROJECT_DIRS = tuple(f"{package}/" for package in PROJECT_PACKAGES)
TEMPLATED = re.compile(r"\$\{[^}]+\}")
WIDTH = 120


@dataclass(frozen=True)
class DepsChange:
    """How one stage's deps in dvc.yaml differ from what `make deps` writes (no file missing or extra: the order)."""

    stage: str
    missing: list[str]  # loaded, not listed
    extra: list[str]  # listed, but not loaded or no longer there

    def describe(self) -> str:
        if self.missing:
            return f"stage {self.stage!r} loads {self.missing[0]}, which dvc.yaml does not list ({self.missing})"
        if self.extra:
            return f"stage {self.stage!r} lists {self.extra[0]} in dvc.yaml but never loads it ({self.extra})"
        return f"stage {self.stage!r}: its deps are not in the order `make deps` writes"


def is_code_dep(dep: str) -> bool:
    return dep.startswith(PROJECT_DIRS) and not TEMPLATED.search(dep)


def stage_module(stage: str, spec: dict[str, Any]) -> str:
    match = CMD.fullmatch(str(spec.get("cmd", "")))
    if not match:
        raise ValueError(f"dvc.yaml: stage {stage!r}: cmd must be `python -m stages.<name>`, got {spec.get('cmd')!r}")
    return match[1]


def code_deps(module: str, root: Path = ROOT) -> list[str]:
    """A stage's code deps as dvc.yaml lists them: stage files, whole folders, then single files."""
    loaded = set(stage_files(module, root))
    folders = _whole_folders(loaded, root)
    covered = {f for f in loaded if any(f.startswith(folder + "/") for folder in folders)}
    rest = sorted(loaded - covered)
    stage_own = [f for f in rest if f.startswith("stages/")]
    return stage_own + sorted(folders) + [f for f in rest if not f.startswith("stages/")]


def _whole_folders(loaded: set[str], root: Path) -> set[str]:
    """The outermost project sub-folders (below a package root) every file of which the stage loads."""
    candidates = {str(Path(f).parent) for f in loaded if len(Path(f).parts) > 2}
    candidates |= {str(p) for c in list(candidates) for p in Path(c).parents if len(p.parts) > 1}

    def whole(folder: str) -> bool:
        files = [p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        return bool(files) and all(p.relative_to(root).as_posix() in loaded for p in files)

    full = {c for c in candidates if whole(c)}
    return {c for c in full if not any(str(p) in full for p in Path(c).parents)}


def declared_files(deps: list[str], root: Path = ROOT) -> set[str]:
    """The project files a deps list covers (a folder covers every file under it; a missing path stays as named)."""
    files: set[str] = set()
    for dep in deps:
        if not is_code_dep(dep):
            continue
        path = root / dep
        if path.is_dir():
            files.update(
                p.relative_to(root).as_posix() for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            )
        else:
            files.add(dep)
    return files


def generated_deps(stage: str, spec: dict[str, Any], root: Path = ROOT) -> list[str]:
    """The deps `make deps` writes for a stage: its code deps, then its other deps as listed."""
    others = [dep for dep in spec.get("deps", []) if not is_code_dep(dep)]
    return code_deps(stage_module(stage, spec), root) + others


def stage_change(stage: str, spec: dict[str, Any], root: Path = ROOT) -> DepsChange | None:
    """How `stage`'s deps in dvc.yaml differ from what `make deps` writes, or None if they do not."""
    written = list(spec.get("deps", []))
    wanted = generated_deps(stage, spec, root)
    if written == wanted:
        return None
    loaded, listed = declared_files(wanted, root), declared_files(written, root)
    return DepsChange(stage, sorted(loaded - listed), sorted(listed - loaded))


def stages(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """dvc.yaml's stages, as parsed."""
    result: dict[str, dict[str, Any]] = yaml.safe_load((root / DVC_YAML).read_text(encoding="utf-8"))["stages"]
    return result


def changes(root: Path = ROOT) -> list[DepsChange]:
    """Every stage whose deps in dvc.yaml differ from what `make deps` writes."""
    return [change for stage, spec in stages(root).items() if (change := stage_change(stage, spec, root))]


def render(text: str, root: Path = ROOT) -> str:
    """dvc.yaml's text with every stage's `deps:` entry replaced by the generated one."""
    lines = text.splitlines(keepends=True)
    for stage, spec in yaml.safe_load(text)["stages"].items():
        start, end = _deps_span(lines, stage)
        lines[start:end] = _format("    deps: [", generated_deps(stage, spec, root))
    return "".join(lines)


def write(root: Path = ROOT) -> list[str]:
    """Rewrite dvc.yaml's deps in place; returns the stages whose deps changed."""
    path = root / DVC_YAML
    before = path.read_text(encoding="utf-8")
    after = render(before, root)
    if after == before:
        return []
    old, new = yaml.safe_load(before)["stages"], yaml.safe_load(after)["stages"]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(after, encoding="utf-8")
    tmp.replace(path)
    return [stage for stage in new if new[stage].get("deps") != old[stage].get("deps")]


def _deps_span(lines: list[str], stage: str) -> tuple[int, int]:
    """[start, end) of the lines holding `stage`'s `deps:` entry (flow or block style)."""
    in_stages, in_stage = False, False
    for i, line in enumerate(lines):
        if re.match(r"stages:\s*$", line):
            in_stages = True
        elif in_stages and re.match(rf"  {re.escape(stage)}:\s*$", line):
            in_stage = True
        elif in_stage and re.match(r"  \S", line):
            break
        elif in_stage and re.match(r"    deps:", line):
            end = i + 1
            while end < len(lines) and (lines[end].startswith("      ") or lines[end].startswith("    - ")):
                end += 1
            return i, end
    raise ValueError(f"dvc.yaml: stage {stage!r} has no `deps:` entry")


def _format(opening: str, items: list[str]) -> list[str]:
    """A flow sequence wrapped at WIDTH, continuation lines aligned after the bracket."""
    if not items:
        return [opening + "]\n"]
    quoted = [f'"{item}"' if TEMPLATED.search(item) or ":" in item else item for item in items]
    indent = " " * len(opening)
    lines, line = [], opening
    for n, item in enumerate(quoted):
        piece = item + ("]" if n == len(quoted) - 1 else ",")
        if line not in (opening, indent) and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line + "\n")
            line = indent
        line += piece if line in (opening, indent) else " " + piece
    return [*lines, line + "\n"]
