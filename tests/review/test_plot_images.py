"""Plot specs made offline and rendered with vl-convert; notes for plots a revision lacks."""

import xml.etree.ElementTree as ET

import pytest

from pipelines.review.plot_images import offline_spec, render, render_plots, slug, vegalite_version

SPEC = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {
        "values": [
            {"step": "1", "loss": "2.8", "rev": "main"},
            {"step": "2", "loss": "2.3", "rev": "main"},
            {"step": "1", "loss": "2.9", "rev": "workspace"},
            {"step": "2", "loss": "2.1", "rev": "workspace"},
        ]
    },
    "mark": "line",
    "encoding": {
        "x": {"field": "step", "type": "quantitative"},
        "y": {"field": "loss", "type": "quantitative"},
        "color": {"field": "rev", "type": "nominal"},
    },
}


def test_offline_spec_drops_the_schema_url_and_refuses_remote_data():
    clean = offline_spec(SPEC)
    assert "$schema" not in clean and "$schema" in SPEC  # a copy
    with pytest.raises(ValueError, match="URL"):
        offline_spec({"layer": [{"data": {"url": "https://example.com/data.csv"}, "mark": "bar"}]})


def test_vegalite_version_follows_the_schemas_major_version():
    assert vegalite_version(SPEC, ["5.8", "5.21", "5.17", "6.4"]) == "5.21"
    assert vegalite_version({}, ["5.21"]) is None
    assert vegalite_version(SPEC, ["6.4"]) is None


def test_slug_is_a_short_file_name():
    assert (
        slug("Attribute@10 per attribute, baseline vs fine-tuned")
        == "attribute-10-per-attribute-baseline-vs-fine-tuned"
    )
    assert len(slug("x" * 100)) == 60 and slug("@@") == "plot"


def test_render_svg_and_png_offline():
    svg = render(SPEC, "svg")
    assert ET.fromstring(svg).tag.endswith("svg")
    assert render(SPEC, "png").startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="format"):
        render(SPEC, "gif")


def test_render_plots_writes_images_and_notes_a_revision_without_data(tmp_path):
    diff = {
        "data": {
            "Training losses": [{"type": "vega", "revisions": ["workspace", "main"], "content": SPEC}],
            "Learning rate": [{"type": "vega", "revisions": ["workspace"], "content": SPEC}],
            "Broken": [{"type": "vega", "revisions": ["workspace", "main"], "content": {"mark": "nonsense"}}],
        },
        "errors": [
            {
                "name": "Learning rate",
                "rev": "main",
                "source": "reports/train/plots/metrics/lr.tsv",
                "type": "FileNotFoundError",
                "msg": "No such file",
            }
        ],
    }
    images = render_plots(diff, tmp_path, "svg", ["main", "workspace"])
    assert [(image.title, image.file) for image in images] == [
        ("Training losses", "plots/training-losses.svg"),
        ("Learning rate", "plots/learning-rate.svg"),
        ("Broken", None),
    ]
    assert images[0].notes == ()
    assert images[1].notes == ("absent at main: `reports/train/plots/metrics/lr.tsv` (FileNotFoundError)",)
    assert images[2].notes[0].startswith("not rendered:")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["learning-rate.svg", "training-losses.svg"]
