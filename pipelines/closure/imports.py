"""The project files a stage loads: its import closure (lazy package exports included) and the data files it names.

DVC reruns a stage only when a declared dep changes, so a stage's code deps in dvc.yaml are this set (written by
`make deps`, see pipelines/closure/dvc_yaml.py), and the training resume key hashes it so a checkpoint from other
code is never resumed.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from pipelines.lazy import is_type_checking, type_checking_exports

PROJECT_PACKAGES = ("pipelines", "stages")
ROOT = Path(__file__).resolve().parents[2]


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The source file of a project module (`pkg/mod.py` or `pkg/__init__.py`), or None if there is none."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def stage_files(module: str, root: Path = ROOT) -> list[str]:
    """Every project file `module` loads, as sorted repo-relative POSIX paths.

    Follows every import statement (including those inside functions, so optional code paths count, but not
    those under `if TYPE_CHECKING:`), the parent packages each import runs, the names a package exports lazily
    (pipelines/lazy.py), and the
    data files or folders beside a module that it names by a string literal (`Path(__file__).with_name(...)`).
    """
    root = root.resolve()
    seen: set[str] = set()
    files: set[Path] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen or name.split(".")[0] not in PROJECT_PACKAGES:
            continue
        seen.add(name)
        path = module_file(name, root)
        if path is None:
            continue
        files.add(path)
        parent = name.rpartition(".")[0]
        if parent:
            pending.append(parent)
        is_package = path.name == "__init__.py"
        tree = _parse(path)
        pending.extend(_imported_modules(tree, name, is_package, root))
        files.update(_named_data_files(tree, path.parent))
    return sorted(p.relative_to(root).as_posix() for p in files)


def files_hash(paths: list[str], root: Path = ROOT) -> str:
    """Content fingerprint of files (names and bytes), e.g. of `stage_files(...)`."""
    digest = hashlib.sha256()
    for rel in sorted(paths):
        digest.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node of `tree` except those under a top-level `if TYPE_CHECKING:` (never run, so never loaded)."""
    for node in tree.body:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for other in node.orelse:
                yield from ast.walk(other)
        else:
            yield from ast.walk(node)


def _imported_modules(tree: ast.Module, name: str, is_package: bool, root: Path) -> list[str]:
    found: list[str] = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            found.append(base)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if module_file(sub, root) is not None:
                    found.append(sub)
                else:
                    lazy = _lazy_table(base, root).get(alias.name)
                    if lazy:
                        found.append(lazy)
    return found


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = name.split(".")
    package = package if is_package else package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _lazy_table(package: str, root: Path) -> dict[str, str]:
    """{exported name: module} a package exports lazily (its `if TYPE_CHECKING:` imports, see pipelines/lazy.py)."""
    path = module_file(package, root)
    if path is None or path.name != "__init__.py":
        return {}
    return type_checking_exports(_parse(path), package)


def _named_data_files(tree: ast.Module, folder: Path) -> set[Path]:
    entries = {
        p.name: p
        for p in folder.iterdir()
        if p.suffix != ".py" and p.name != "__pycache__" and not (p / "__init__.py").is_file()
    }
    named: set[Path] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in entries:
            entry = entries[node.value]
            if entry.is_dir():
                named.update(f for f in entry.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
            else:
                named.add(entry)
    return named
