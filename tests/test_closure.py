"""The import closure a stage's deps must cover: imports anywhere, parent packages, lazy exports, named data files."""

from pathlib import Path

from pipelines.closure import dvc_yaml, files_hash, stage_files


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_closure_follows_lazy_exports_function_imports_and_data_files(tmp_path):
    _write(
        tmp_path,
        {
            "stages/__init__.py": "",
            "stages/fit.py": "from pipelines.kit import train\n\ndef main():\n    from pipelines.extra import helper\n",
            "pipelines/__init__.py": "",
            "pipelines/lazy.py": "def lazy_exports(package, init_file): ...\n",
            "pipelines/kit/__init__.py": "from typing import TYPE_CHECKING\nfrom pipelines.lazy import lazy_exports\n"
            "if TYPE_CHECKING:\n    from pipelines.kit.loop import train\n    from .unused import other\n"
            "__getattr__, __all__ = lazy_exports(__name__, __file__)\n",
            "pipelines/kit/loop.py": "from pathlib import Path\nTABLE = Path(__file__).with_name('table.yaml')\n"
            "DIR = Path(__file__).parent / 'data'\nfrom . import losses\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import pipelines.never\n",
            "pipelines/kit/losses.py": "",
            "pipelines/kit/unused.py": "import pipelines.never\n",
            "pipelines/kit/table.yaml": "a: 1\n",
            "pipelines/kit/data/one.csv": "x\n",
            "pipelines/kit/notes.txt": "not named by any module\n",
            "pipelines/extra.py": "import numpy\nhelper = 1\n",
            "pipelines/never.py": "",
        },
    )
    assert stage_files("stages.fit", tmp_path) == [
        "pipelines/__init__.py",
        "pipelines/extra.py",
        "pipelines/kit/__init__.py",
        "pipelines/kit/data/one.csv",
        "pipelines/kit/loop.py",
        "pipelines/kit/losses.py",
        "pipelines/kit/table.yaml",
        "pipelines/lazy.py",
        "stages/__init__.py",
        "stages/fit.py",
    ]


def test_files_hash_changes_with_any_byte(tmp_path):
    _write(tmp_path, {"a.py": "x = 1\n", "b.yaml": "k: v\n"})
    before = files_hash(["a.py", "b.yaml"], tmp_path)
    assert files_hash(["b.yaml", "a.py"], tmp_path) == before
    (tmp_path / "b.yaml").write_text("k: w\n")
    assert files_hash(["a.py", "b.yaml"], tmp_path) != before


DVC_YAML = """\
stages:
  fit:
    # a comment the writer keeps
    cmd: python -m stages.fit
    deps: [pipelines/gone.py, "${model.checkpoint}", data/raw]
    params: [seed]
    outs: [artifacts/model]
"""


def test_make_deps_writes_the_closure_folders_whole_and_keeps_the_rest(tmp_path):
    _write(
        tmp_path,
        {
            "dvc.yaml": DVC_YAML,
            "stages/__init__.py": "",
            "stages/fit.py": "from pipelines.kit import loop\nimport pipelines.tools.one\n",
            "pipelines/__init__.py": "",
            "pipelines/kit/__init__.py": "",
            "pipelines/kit/loop.py": "",
            "pipelines/tools/__init__.py": "",
            "pipelines/tools/one.py": "",
            "pipelines/tools/two.py": "",  # never loaded, so the folder is listed file by file
        },
    )
    (change,) = dvc_yaml.changes(tmp_path)
    assert change.missing[0] == "pipelines/__init__.py" and change.extra == ["pipelines/gone.py"]
    assert "stage 'fit' loads pipelines/__init__.py" in change.describe()

    assert dvc_yaml.write(tmp_path) == ["fit"]
    text = (tmp_path / "dvc.yaml").read_text()
    assert text == DVC_YAML.replace(
        '[pipelines/gone.py, "${model.checkpoint}", data/raw]',
        "[stages/__init__.py, stages/fit.py, pipelines/kit, pipelines/__init__.py, pipelines/tools/__init__.py,\n"
        '           pipelines/tools/one.py, "${model.checkpoint}", data/raw]',
    )
    assert dvc_yaml.changes(tmp_path) == []
    assert dvc_yaml.write(tmp_path) == [] and (tmp_path / "dvc.yaml").read_text() == text
