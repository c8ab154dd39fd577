"""One numeric ISA: every entry point pins before numpy, torch or FAISS loads, and a forced different kernel level
in the environment changes no byte (while the opt-out, given the same environment, does)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines import numerics

REPO = Path(__file__).resolve().parents[1]
# Every library told to use a kernel level other than the pin's: what a different CPU would pick by itself.
FORCED = {
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "MKL_CBWR": "AVX2",
    "OPENBLAS_CORETYPE": "Prescott",
    "FAISS_SIMD_LEVEL": "NONE",
    "FAISS_OPT_LEVEL": "generic",
}
ENTRY_POINTS = [
    *(f"stages.{p.stem}" for p in sorted((REPO / "stages").glob("*.py")) if p.stem != "__init__"),
    "serve.app",
    *(str(p.relative_to(REPO)) for p in sorted((REPO / "benchmarks").glob("*.py"))),
]
needs_avx2 = pytest.mark.skipif(
    bool(numerics._unpinnable()), reason=f"no common ISA to pin here: {numerics._unpinnable() or ''}"
)


def _python(code: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> str:
    base = {k: v for k, v in os.environ.items() if k not in numerics.PIN and k != numerics.OPT_OUT}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@needs_avx2
def test_the_pin_overrides_what_the_environment_asks_for():
    out = _python("import os, pipelines; print(repr({k: os.environ[k] for k in pipelines.numerics.PIN}))", FORCED)
    assert eval(out) == numerics.PIN


def test_the_opt_out_leaves_every_library_its_own_choice():
    code = "import os, pipelines; print(repr({k: os.environ[k] for k in pipelines.numerics.PIN})); "
    code += "print(pipelines.numerics.describe())"
    first, second = _python(code, {**FORCED, numerics.OPT_OUT: "native"}).splitlines()
    assert eval(first) == FORCED
    assert second.startswith("numerics NOT pinned (PIPELINES_ISA=native)") and "will differ" in second


@pytest.mark.parametrize(
    ("machine", "flags", "reason"),
    [
        ("aarch64", None, "this CPU is aarch64, not x86-64"),
        ("x86_64", {"sse4_2", "avx"}, "this x86-64 CPU lacks AVX2 and FMA"),
        ("x86_64", None, "this system has no /proc/cpuinfo to check for AVX2"),
    ],
)
def test_a_cpu_without_the_common_level_is_told_plainly(monkeypatch, machine, flags, reason):
    monkeypatch.setattr(numerics.platform, "machine", lambda: machine)
    monkeypatch.setattr(numerics, "cpu_flags", lambda: flags)
    monkeypatch.setattr(numerics, "_state", None)
    with monkeypatch.context() as env:
        env.setattr(numerics.os, "environ", {})  # pin() must not touch this process's environment
        state = numerics.pin()
        assert state == numerics.Pin(False, reason, state.preloaded)
        assert numerics.os.environ == {}
        assert numerics.describe().startswith(f"numerics NOT pinned ({reason})")
        assert numerics.environment() == {}


@needs_avx2
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_pins_before_a_numeric_library_loads(entry):
    """Import the entry point; at its first import of numpy, torch or FAISS the pin must already be in force (one
    that loads none of them, like the sweep benchmark, needs none). The check stops the process right there, so no
    heavy library actually loads."""
    load = (
        f"importlib.import_module({entry!r})"
        if not entry.endswith(".py")
        else f"s = importlib.util.spec_from_file_location('bench', {entry!r}); "
        "s.loader.exec_module(importlib.util.module_from_spec(s))"
    )
    code = f"""
        import importlib, importlib.util, os, sys

        def report(first):
            numerics = sys.modules.get("pipelines.numerics")
            state = numerics and numerics._state
            print(first, bool(state and state.pinned and not state.preloaded), flush=True)
            os._exit(0)

        class Watch:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("numpy", "torch", "faiss"):
                    report(name)
                return None

        sys.meta_path.insert(0, Watch())
        sys.path.insert(0, "benchmarks")
        {load}
        report("-")
    """
    first, pinned = _python(code).split()
    assert first == "-" or pinned == "True", f"{entry} imports {first} before pipelines pins the numeric ISA"


def _md5s(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@needs_avx2
@pytest.mark.slow
def test_encode_kv_writes_the_same_store_whatever_kernels_the_environment_asks_for(run_stage, tmp_path):
    spec = importlib.util.spec_from_file_location("encode_kv_tests", REPO / "tests/stages/test_encode_kv.py")
    encode_kv_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(encode_kv_tests)
    runs = {"plain": {}, "forced": FORCED, "forced, opted out": {**FORCED, numerics.OPT_OUT: "native"}}
    stores = {}
    for name, env in runs.items():
        root = tmp_path / name.replace(", ", "_")
        root.mkdir()
        encode_kv_tests.make_repo(root)
        clean = {k: "" for k in numerics.PIN} | {numerics.OPT_OUT: ""}  # the test process's own pin, unset
        result = run_stage("encode_kv", root, env={**clean, **env})
        assert result.returncode == 0, result.stderr[-3000:]
        stores[name] = _md5s(root / "artifacts/store")
    assert stores["forced"] == stores["plain"]
    # The control: the same forced environment without the pin writes other float bytes.
    assert stores["forced, opted out"]["image_keys.npy"] != stores["plain"]["image_keys.npy"]


FAISS_BYTES = """
    import hashlib
    import pipelines  # first, as every entry point
    import faiss
    import numpy as np
    from pipelines.index import build_searchable, search
    from pipelines.index.config import IndexConfig

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:200] + 0.1 * rng.standard_normal((200, 64)).astype(np.float32)
    for factory in ("Flat", "HNSW32"):
        built = build_searchable(vectors, IndexConfig(factory=factory, ef_search=32), seed=0)
        scores, ids = search(built.index, queries, k=10)
        graph = faiss.serialize_index(built.index).tobytes()
        print(factory, hashlib.md5(graph + scores.tobytes() + ids.tobytes()).hexdigest())
"""


@needs_avx2
def test_faiss_exact_search_and_hnsw_build_give_the_same_bytes_under_a_forced_simd_level():
    plain = _python(FAISS_BYTES)
    assert _python(FAISS_BYTES, FORCED) == plain
    opted_out = _python(FAISS_BYTES, {**FORCED, numerics.OPT_OUT: "native"})
    # The control: FAISS's generic kernels, unpinned, round the inner products differently.
    assert opted_out.splitlines() != plain.splitlines()
