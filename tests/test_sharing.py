"""Sharing built artifacts through a real DVC remote (a local folder) and a bare git remote, as the README shows.

Clone A builds the tiny project once, `dvc push` + `git push`; a fresh clone B pulls instead of recomputing. Then an
experiment run in A travels to B with `dvc exp push` / `dvc exp pull` / `dvc exp apply`. No network is used.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from test_end_to_end import AFTER_TRAIN, STAGES, Workspace, ran_stages, tiny_project

from pipelines.io import sha256_file

METRICS = ["reports/scoreboard.json", "reports/metrics.json", "reports/train/metrics.json", "reports/index.json"]
EXP_METRICS = ["reports/scoreboard.json", "reports/metrics.json", "reports/train/metrics.json"]
EXP = "shared-lr"


def _digests(root: Path, rel: str) -> dict[str, str]:
    """sha256 of every file of an out (a file or a folder), keyed by its path in the repo."""
    path = root / rel
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return {str(p.relative_to(root)): sha256_file(p) for p in files}


def _cached_outs(root: Path) -> list[str]:
    """The outs dvc.lock records that go through the DVC cache (and so through the remote), not through git."""
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    cached = []
    for stage in stages.values():
        for out in stage.get("outs", []):
            name, opts = next(iter(out.items())) if isinstance(out, dict) else (out, {})
            if opts.get("cache", True):
                cached.append(name)
    return cached


def _up_to_date(ws: Workspace) -> None:
    assert json.loads(ws.dvc("status", "--json").stdout) == {}
    assert json.loads(ws.dvc("status", "-c", "--json").stdout) == {}, "the cache and the remote differ"


@dataclass
class Shared:
    a: Workspace
    b: Workspace
    dvc_remote: Path
    git_remote: Path


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Shared:
    base = tmp_path_factory.mktemp("sharing")
    root_a, root_b = base / "clone-a", base / "clone-b"
    dvc_remote, git_remote = base / "dvc-remote", base / "origin.git"
    a = tiny_project(root_a)
    a.run("git", "init", "-q", "--bare", "-b", "main", str(git_remote))
    a.run("git", "init", "-q", "-b", "main")
    a.dvc("remote", "add", "-d", "storage", str(dvc_remote))
    a.run("git", "remote", "add", "origin", str(git_remote))
    a.commit("tiny profile, remote storage")  # DVCLive (train) needs a HEAD commit
    assert ran_stages(a.dvc("repro").stdout) == STAGES  # the only full build of this module
    a.commit("built")
    a.dvc("push", "--run-cache")  # the outs and the run-cache (each stage's deps -> outs), for `dvc repro --pull`
    a.run("git", "push", "-q", "origin", "main")
    _up_to_date(a)

    a.run("git", "clone", "-q", str(git_remote), str(root_b))
    b = Workspace(root_b)
    assert not any((root_b / out).exists() for out in _cached_outs(root_b)), "a git clone must hold no DVC out"
    b.dvc("pull")
    return Shared(a, b, dvc_remote, git_remote)


@pytest.mark.slow
def test_a_fresh_clone_pulls_instead_of_recomputing(shared):
    a, b = shared.a, shared.b
    assert (b.root / ".dvc/config").read_text() == (a.root / ".dvc/config").read_text()  # the remote came via git
    assert b.dvc("status").stdout.strip().endswith("Data and pipelines are up to date.")
    _up_to_date(b)
    repro = b.dvc("repro")
    assert ran_stages(repro.stdout) == [], repro.stdout
    for name in METRICS:
        assert (b.root / name).read_bytes() == (a.root / name).read_bytes(), name
    for out in _cached_outs(a.root):  # what actually travelled through the DVC remote
        assert _digests(b.root, out) == _digests(a.root, out), out
    assert b.run("git", "status", "--porcelain").stdout == ""


@pytest.mark.slow
def test_a_cold_clone_reproduces_by_pulling_and_runs_no_stage(shared, tmp_path):
    """`dvc repro --pull` on a fresh clone with nothing in its cache: every stage is restored (from the pulled
    outs or the run-cache), none executes, and the workspace ends as clone A built it."""
    a = shared.a
    a.run("git", "clone", "-q", str(shared.git_remote), str(tmp_path / "clone-c"))
    c = Workspace(tmp_path / "clone-c")
    assert not (c.root / ".dvc/cache").exists()
    repro = c.dvc("repro", "--pull")
    assert ran_stages(repro.stdout) == [], repro.stdout
    for out in _cached_outs(a.root):
        assert _digests(c.root, out) == _digests(a.root, out), out
    assert c.run("git", "status", "--porcelain").stdout == ""
    _up_to_date(c)


@pytest.mark.slow
def test_an_experiment_travels_through_both_remotes(shared):
    a, b = shared.a, shared.b
    exp = a.dvc("exp", "run", "-n", EXP, "-S", "train.lr=0.01", "-S", "train.epochs=2")
    assert sorted(ran_stages(exp.stdout)) == sorted(AFTER_TRAIN)
    metrics_a = {name: (a.root / name).read_bytes() for name in EXP_METRICS}
    model_a = _digests(a.root, "artifacts/model")
    eval_a = _digests(a.root, "artifacts/eval")

    a.dvc("exp", "push", "origin", EXP)  # the exp ref to git, its cached outs to the DVC remote
    assert EXP in b.dvc("exp", "list", "origin").stdout
    b.dvc("exp", "pull", "origin", EXP)
    b.dvc("exp", "apply", EXP)
    for name, content in metrics_a.items():
        assert (b.root / name).read_bytes() == content, name
    assert _digests(b.root, "artifacts/model") == model_a
    assert _digests(b.root, "artifacts/eval") == eval_a
    assert yaml.safe_load((b.root / "params.yaml").read_text())["train"]["lr"] == 0.01
    assert b.dvc("status").stdout.strip().endswith("Data and pipelines are up to date.")
    assert EXP in b.dvc("exp", "show", "--json").stdout


@pytest.mark.slow
def test_a_registered_model_is_fetched_back_by_its_stage(shared, tmp_path):
    """The registry in DVC's own terms: dvc.yaml's `artifacts:`, a version and a stage as gto's git tags, and
    `dvc artifacts get` fetching that stage's files through the DVC remote (the README's three commands), from a
    teammate's fresh clone of the committed build."""
    gto = str(Path(sys.executable).with_name("gto"))
    shared.a.run("git", "clone", "-q", str(shared.git_remote), str(tmp_path / "clone-d"))
    d = Workspace(tmp_path / "clone-d")
    declared = yaml.safe_load((d.root / "dvc.yaml").read_text())["artifacts"]
    assert {name: spec["type"] for name, spec in declared.items()} == {
        "retrieval-heads": "model",
        "faiss-index": "model",
    }
    assert all(spec["path"] in _cached_outs(d.root) and spec["desc"] and spec["labels"] for spec in declared.values())
    d.run(gto, "register", "retrieval-heads", "--version", "v1.0.0")
    d.run(gto, "assign", "retrieval-heads", "--version", "v1.0.0", "--stage", "prod")
    tags = d.run("git", "tag").stdout.split()
    assert {"retrieval-heads@v1.0.0", "retrieval-heads#prod#1"} <= set(tags)
    shown = d.run(gto, "show", "--json").stdout
    assert "v1.0.0" in shown and "prod" in shown
    d.run("git", "push", "-q", "origin", "--tags")
    fetched = tmp_path / "heads"
    d.dvc("artifacts", "get", str(shared.git_remote), "retrieval-heads", "--stage", "prod", "-o", str(fetched))
    d.dvc("pull", "artifacts/model")  # the committed heads, to compare with
    assert {p.name: sha256_file(p) for p in fetched.iterdir()} == {
        Path(k).name: v for k, v in _digests(d.root, "artifacts/model").items()
    }
