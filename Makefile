# The two commands of the README: `make repro` runs the pipeline, `make test` runs the tests.
# Both create .venv and install everything on first use (torch and torchvision from this machine's disk).
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup repro test test-fast lint deps bench review serve

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $@

repro: $(STAMP)
	dvc repro

# The browser test (tests/serve/test_browser.py) drives Debian's Chromium through Playwright (never a downloaded
# browser); `make test` installs the package when it is missing, with sudo unless it runs as root.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

test: $(STAMP) $(CHROMIUM)
	pytest

test-fast: $(STAMP)
	pytest -m 'not slow'

# Style and types: ruff's lint (E, F, I, B, UP) and format check over the tree, mypy --strict on the library,
# the stages and the server (versions pinned in the dev extra, configuration in pyproject.toml).
lint: $(STAMP)
	ruff check .
	ruff format --check .
	mypy

# `make serve [PORT=8000]`: the search page and API on http://127.0.0.1:$(PORT), over this workspace's build
# (`make repro` first; a missing build is one `error:` line naming what to run).
PORT ?= 8000
serve: $(STAMP)
	python -m serve --host 127.0.0.1 --port $(PORT)

# `make deps`: rewrite each stage's code deps in dvc.yaml from its import closure (run it after moving code;
# tests/test_stage_deps.py fails, naming the stage and file, while dvc.yaml differs from what it writes).
deps: $(STAMP)
	python -m pipelines.closure --write

bench: $(STAMP)
	python benchmarks/encode_throughput.py
	python benchmarks/index_recall.py
	python benchmarks/mining_speed.py
	python benchmarks/normalize_throughput.py
	python benchmarks/search_latency.py
	python benchmarks/serve_load.py

# `make review BASE=<git rev> [HEAD=<git rev>]`: BASE's committed results against the working tree (or HEAD),
# written to review/report.md with the plots beside it; nothing is rerun. REVIEW_FLAGS passes more options.
ifneq ($(filter review,$(MAKECMDGOALS)),)
ifeq ($(BASE),)
$(error usage: make review BASE=<git rev> [HEAD=<git rev>] [REVIEW_FLAGS='--format png'])
endif
endif
review: $(STAMP)
	python -m pipelines.review --base '$(BASE)' $(if $(HEAD),--head '$(HEAD)') --out review $(REVIEW_FLAGS)
