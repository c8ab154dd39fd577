"""Download a Kaggle dataset or competition zip (once, into a cache folder) with the `kaggle` package."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from pipelines.catalog.formats import CatalogFormat
from pipelines.errors import PipelineError

log = logging.getLogger(__name__)

_DONE = ".complete"  # written last: its presence means the folder holds a whole download


class KaggleError(PipelineError):
    """The Kaggle download cannot run: no credentials, no network, or Kaggle refused."""


def kaggle_cache_dir() -> Path:
    """Where downloads are kept between runs: $XDG_CACHE_HOME (or ~/.cache)/fashion-retrieval/kaggle."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fashion-retrieval" / "kaggle"


def download_kaggle(fmt: CatalogFormat, slug: str, cache_dir: Path | None = None) -> Path:
    """The downloaded zip of `slug` (a dataset for Myntra, a competition for H&M), reused when cached."""
    target = (cache_dir or kaggle_cache_dir()) / slug.replace("/", "__")
    cached = _cached(target)
    if cached is not None:
        log.info("using the cached Kaggle download %s", cached)
        return cached
    api = _authenticated_api(fmt, slug)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    log.info("downloading Kaggle %s %s into %s", fmt.kaggle.kind, slug, target)
    try:
        if fmt.kaggle.kind == "dataset":
            api.dataset_download_files(slug, path=str(partial), unzip=False, quiet=False)
        else:
            api.competition_download_files(slug, path=str(partial), quiet=False)
    except Exception as exc:  # the kaggle client raises requests', urllib3's and its own errors
        shutil.rmtree(partial, ignore_errors=True)
        raise KaggleError(_download_failure(fmt, slug, exc)) from None
    zips = sorted(partial.glob("*.zip"))
    if not zips:
        shutil.rmtree(partial, ignore_errors=True)
        raise KaggleError(f"Kaggle {fmt.kaggle.kind} {slug}: the download left no .zip in {partial}")
    (partial / _DONE).write_text(zips[0].name + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return target / zips[0].name


def _cached(target: Path) -> Path | None:
    done = target / _DONE
    if not done.is_file():
        return None
    archive = target / done.read_text(encoding="utf-8").strip()
    return archive if archive.is_file() else None


def _authenticated_api(fmt: CatalogFormat, slug: str) -> Any:
    """A KaggleApi with credentials, or a KaggleError that says how to provide them."""
    page = fmt.kaggle.url.format(slug=slug)
    no_credentials = KaggleError(
        f"cannot download {page}: no Kaggle credentials found; put kaggle.json in ~/.kaggle (or set "
        f"KAGGLE_USERNAME and KAGGLE_KEY, or KAGGLE_API_TOKEN), or download the {fmt.kaggle.kind} by hand "
        f"and point data.source at the folder or zip ({fmt.name}:<path>)"
    )
    # Importing kaggle authenticates and prints a help page when it finds no credentials;
    # authenticate() itself calls exit(1). Both are turned into the one sentence above.
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
    except ImportError:
        raise KaggleError(
            f"cannot download {page}: the kaggle package is not installed; install the project's "
            f"dependencies, or download the {fmt.kaggle.kind} by hand and point data.source at it "
            f"({fmt.name}:<path>)"
        ) from None
    except SystemExit:
        log.debug("kaggle said: %s", chatter.getvalue())
        raise no_credentials from None
    except Exception as exc:  # a token check that needs the network
        log.debug("kaggle said: %s", chatter.getvalue())
        raise KaggleError(_download_failure(fmt, slug, exc)) from None
    return api


def _download_failure(fmt: CatalogFormat, slug: str, exc: Exception) -> str:
    page = fmt.kaggle.url.format(slug=slug)
    manual = f"or download the {fmt.kaggle.kind} by hand and point data.source at the folder or zip ({fmt.name}:<path>)"
    status = getattr(getattr(exc, "response", None), "status_code", None) or getattr(exc, "status", None)
    if status in (401, 403):
        accept = " and that you accepted the competition rules" if fmt.kaggle.kind == "competition" else ""
        return f"Kaggle refused the download of {page} (HTTP {status}): check your credentials{accept}, {manual}"
    if status == 404:
        return f"Kaggle has no {fmt.kaggle.kind} {slug!r} (HTTP 404 for {page}): check the name, {manual}"
    name = type(exc).__name__
    if "Connection" in name or "Timeout" in name or "Resolution" in name or isinstance(exc, OSError):
        return f"cannot reach Kaggle to download {page} (no network: {name}); connect and rerun, {manual}"
    return f"the Kaggle download of {page} failed ({name}: {str(exc)[:200]}); {manual}"
