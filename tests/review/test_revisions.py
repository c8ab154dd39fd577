"""Reading a file at a git revision or on disk; unknown revisions and a missing repository are one clear error."""

import pytest

from pipelines.review.revisions import ReviewError, Side, Snapshot, repo_root, resolve_side


def test_read_at_a_revision_and_in_the_working_tree(git_repo):
    (git_repo.root / "reports").mkdir()
    (git_repo.root / "reports/m.json").write_text('{"a": 1}')
    git_repo.commit("first")
    (git_repo.root / "reports/m.json").write_text('{"a": 2}')
    (git_repo.root / "params.yaml").write_text("train:\n  lr: 0.1\n")
    root = repo_root(git_repo.root / "reports")
    assert root == git_repo.root.resolve()
    base = resolve_side(root, "HEAD")
    assert base.sha and len(base.sha) == 40 and base.label == f"HEAD ({base.sha[:7]})"
    assert Snapshot(root, base).read_json("reports/m.json") == {"a": 1}
    assert Snapshot(root, base).read_yaml("params.yaml") is None  # not committed: absent at HEAD
    assert Snapshot(root, base).read_text("reports") is None  # a folder is no file
    workspace = resolve_side(root, None)
    assert workspace == Side("workspace") and workspace.label == "workspace"
    assert Snapshot(root, workspace).read_json("reports/m.json") == {"a": 2}
    assert Snapshot(root, workspace).read_yaml("params.yaml") == {"train": {"lr": 0.1}}
    assert Snapshot(root, workspace).read_json("reports/none.json") is None


def test_unknown_revision_and_no_repository(git_repo, tmp_path):
    (git_repo.root / "f").write_text("x")
    git_repo.commit("first")
    with pytest.raises(ReviewError, match="unknown git revision 'no-such-branch'"):
        resolve_side(git_repo.root, "no-such-branch")
    with pytest.raises(ReviewError, match="unknown git revision '--all'"):
        resolve_side(git_repo.root, "--all")
    outside = tmp_path / "plain"
    outside.mkdir()
    with pytest.raises(ReviewError, match="is not inside a git repository"):
        repo_root(outside)


def test_invalid_json_names_the_file_and_revision(git_repo):
    (git_repo.root / "bad.json").write_text("{nope")
    git_repo.commit("first")
    with pytest.raises(ReviewError, match=r"bad.json at HEAD \(\w{7}\) is not valid JSON"):
        Snapshot(git_repo.root, resolve_side(git_repo.root, "HEAD")).read_json("bad.json")
