"""The review end to end, in a temp git copy of the project: the committed reports are BASE, edited reports the
working tree; `python -m pipelines.review` writes the report and its images. No pipeline stage runs.

The plots come from `dvc plots diff`; it needs no DVC cache here, since the plot files are `cache: false` outs
committed to git.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from review_project import REPO, Workspace, copy_project

DECLARED_PLOTS = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["plots"]

NEW_CATEGORY = 0.45  # the edited finetuned i2i/category@10 of the workspace
DENIM, NECKLINE = "material@10 denim", "neckline@10"
REGRESSED = ("dresses", "color@10")  # 30 queries
TOO_SMALL = ("cardigans", "color@10")  # 8 queries: under the minimum, never listed
GAINED = ("material=denim", "material@10")  # 29 queries


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _points(x: float) -> str:
    return f"{x:+.1f}"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Workspace, dict]:
    """HEAD~1: committed reports without scoreboard_detail.json; HEAD: the committed reports; working tree: edited."""
    ws = Workspace(tmp_path_factory.mktemp("review") / "project")
    copy_project(ws.root)
    reports = ws.root / "reports"
    detail_text = (reports / "scoreboard_detail.json").read_text()
    ws.run("git", "init", "-q", "-b", "main")
    (reports / "scoreboard_detail.json").unlink()
    ws.commit("an older base without scoreboard_detail.json")
    (reports / "scoreboard_detail.json").write_text(detail_text)
    ws.commit("base: the committed reports")

    base = json.loads(detail_text)["targets"]
    by_category = json.loads((reports / "metrics_by_category.json").read_text())["finetuned"]
    by_value = json.loads((reports / "metrics_by_value.json").read_text())["finetuned"]
    lr = yaml.safe_load((ws.root / "params.yaml").read_text())["train"]["lr"]
    category = json.loads((reports / "metrics.json").read_text())["finetuned"]["i2i/category@10"]
    # denim: the new delta and interval lie clear of the base's interval; neckline: a small move inside it
    hi = base[DENIM]["delta_hi"]
    new = {
        DENIM: {
            "delta": hi + 10,
            "delta_lo": hi + 1,
            "delta_hi": hi + 20,
            "finetuned": round(base[DENIM]["baseline"] + (hi + 10) / 100, 6),
        },
        NECKLINE: {
            "delta": base[NECKLINE]["delta"] + 0.5,
            "delta_lo": base[NECKLINE]["delta_lo"],
            "delta_hi": base[NECKLINE]["delta_hi"],
        },
    }
    _edit_json(reports / "scoreboard_detail.json", lambda d: [d["targets"][k].update(v) for k, v in new.items()])
    _edit_json(reports / "scoreboard.json", lambda d: [d[k].update(delta=v["delta"]) for k, v in new.items()])
    _edit_json(reports / "metrics.json", lambda d: d["finetuned"].update({"i2i/category@10": NEW_CATEGORY}))

    def lower(d):
        d["finetuned"][REGRESSED[0]][REGRESSED[1]] -= 0.25
        d["finetuned"][TOO_SMALL[0]][TOO_SMALL[1]] -= 0.5

    _edit_json(reports / "metrics_by_category.json", lower)
    _edit_json(
        reports / "metrics_by_value.json",
        lambda d: d["finetuned"][GAINED[0]].update({GAINED[1]: d["finetuned"][GAINED[0]][GAINED[1]] + 0.1}),
    )
    csv = reports / "plots/attribute_at_10.csv"
    csv.write_text(
        "".join(
            line.rsplit(",", 1)[0] + ",0.3\n" if line.startswith("neckline,finetuned,") else line
            for line in csv.read_text().splitlines(keepends=True)
        )
    )
    params = yaml.safe_load((ws.root / "params.yaml").read_text())
    params["train"]["lr"] = 0.0005
    (ws.root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return ws, {
        "base": base,
        "new": new,
        "by_category": by_category,
        "by_value": by_value,
        "lr": lr,
        "category": category,
    }


def review(ws: Workspace, *args: str, out: str = "review", check: bool = True):
    result = ws.run(sys.executable, "-m", "pipelines.review", *args, "--out", out, check=check)
    return result, (ws.root / out / "report.md")


def test_report_against_the_working_tree(project):
    ws, data = project
    _, report_path = review(ws, "--base", "HEAD")
    report = report_path.read_text()
    lines = report.splitlines()
    assert len(lines) <= 200
    headings = [line for line in lines if line.startswith("## ")]
    assert [h.split(" (")[0].split(":")[0] for h in headings] == [
        "## Params changed",
        "## Scoreboard",
        "## Headline metrics",
        "## Slices",
        "## Plots",
    ]
    assert lines[0].startswith("# Review: workspace against HEAD (")

    # params: exactly the edited key
    assert f"| `train.lr` | `{json.dumps(data['lr'])}` | `0.0005` |" in lines
    assert "- **Params changed:** 1;" in report

    # scoreboard: both deltas with their intervals, and the verdicts
    base, new = data["base"][DENIM], data["new"][DENIM]
    denim = next(line for line in lines if line.startswith(f"| `{DENIM}`"))
    assert f"{_points(base['delta'])} [{_points(base['delta_lo'])}, {_points(base['delta_hi'])}]" in denim
    assert f"{_points(new['delta'])} [{_points(new['delta_lo'])}, {_points(new['delta_hi'])}]" in denim
    assert denim.endswith("| **up, beyond noise** |")
    assert f"| {base['n']} |" in denim
    neckline = next(line for line in lines if line.startswith(f"| `{NECKLINE}`"))
    assert neckline.endswith("| within noise |")
    assert f"targets moved beyond noise: 1 (`{DENIM}` up)" in report
    assert "lies outside the other revision's 95% interval" in report

    # headline metrics: the edited values only, with the change
    category = data["category"]
    change = f"{category:.4f} | {NEW_CATEGORY:.4f} | {NEW_CATEGORY - category:+.4f}"
    assert f"| `reports/metrics.json` | `finetuned.i2i/category@10` | {change} |" in lines
    assert f"| `reports/scoreboard.json` | `{DENIM}.delta` |" in report
    assert "`baseline.i2i/category@10`" not in report

    # slices: the regressed category and the gained value; the 8-query slice is left out
    old = data["by_category"][REGRESSED[0]][REGRESSED[1]]
    assert (f"| `category={REGRESSED[0]}` | `{REGRESSED[1]}` | 30 | {old:.4f} | {old - 0.25:.4f} | -25.0 |") in lines
    gained = data["by_value"][GAINED[0]][GAINED[1]]
    assert f"| `{GAINED[0]}` | `{GAINED[1]}` | 29 | {gained:.4f} | {gained + 0.1:.4f} | +10.0 |" in lines
    assert f"`category={TOO_SMALL[0]}` | `{TOO_SMALL[1]}`" not in report
    assert "at least 10 queries at both revisions" in report

    # plots: an image per plot dvc.yaml declares, beside the report, each a valid SVG, linked from the report
    images = sorted((report_path.parent / "plots").iterdir())
    assert len(images) == len(DECLARED_PLOTS)
    for image in images:
        assert ET.parse(image).getroot().tag.endswith("svg")
        assert f"](plots/{image.name})" in report
    attribute_plot = next(image for image in images if image.name.startswith("attribute-10")).read_text()
    assert "HEAD" in attribute_plot and "workspace" in attribute_plot  # both revisions in one chart


def test_a_base_without_scoreboard_detail_is_shown_as_absent(project):
    ws, data = project
    result, report_path = review(ws, "--base", "HEAD~1", "--format", "png", out="review-old")
    report = report_path.read_text()
    assert "> `reports/scoreboard_detail.json` is absent at BASE (HEAD~1 (" in report
    denim = next(line for line in report.splitlines() if line.startswith(f"| `{DENIM}`"))
    base, new = data["base"][DENIM], data["new"][DENIM]
    # BASE has no interval; the base delta lies outside HEAD's interval, so the verdict still stands
    assert f"| {_points(round(base['delta'], 4))} | {_points(new['delta'])} [" in denim
    assert denim.endswith("| **up, beyond noise** |")
    assert "FAIL (2 of 5)" in report
    images = list((report_path.parent / "plots").iterdir())
    assert len(images) == len(DECLARED_PLOTS)
    assert all(image.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for image in images)


def test_two_committed_revisions_and_a_ci_link(project):
    ws, _ = project
    _, report_path = review(
        ws, "--base", "HEAD~1", "--head", "HEAD", "--artifact-url", "https://ci.example/run/1", out="review-commits"
    )
    report = report_path.read_text()
    assert report.splitlines()[0].startswith("# Review: HEAD (")
    assert "No param changed." in report and "No slice dropped." in report
    assert "> `reports/scoreboard_detail.json` is absent at BASE" in report
    assert "workflow artifact `review` of [this run](https://ci.example/run/1)" in report and "![" not in report


def test_unknown_revision_and_no_git_repository_are_one_line_errors(project, tmp_path):
    ws, _ = project
    result, _ = review(ws, "--base", "no-such-branch", check=False, out="review-bad")
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown git revision 'no-such-branch'")
    assert result.stderr.count("\n") == 1
    assert not (ws.root / "review-bad").exists()
    outside = Workspace(tmp_path)
    result = outside.run(sys.executable, "-m", "pipelines.review", "--base", "main", check=False)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {tmp_path} is not inside a git repository")
