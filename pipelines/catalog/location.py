"""Where a local catalog lives: find its table and images in a folder or a Kaggle zip, and copy them out."""

from __future__ import annotations

import logging
import os
import posixpath
import re
import shutil
import threading
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from pipelines.catalog.formats import CatalogFormat, format_for_csv
from pipelines.catalog.table import CatalogError

log = logging.getLogger(__name__)

# Kaggle downloads nest the table one or two folders down (fashion-product-images-small/myntradataset/).
MAX_DEPTH = 3
# Folders that hold tens of thousands of files and never the table: not worth walking.
_SKIP_DIRS = {"images", "styles", "__MACOSX"}
COPY_THREADS = 8
_IMAGES_MEMBER = re.compile(r"^((?:[^/]+/)*)images/")


class CatalogFiles(Protocol):
    """A catalog's table and images, wherever they are stored."""

    where: str  # the catalog folder (or zip) as named in messages
    table_where: str  # the table, as named in messages

    def read_table(self) -> bytes: ...

    def find_images(self, images: Sequence[str], lines: Sequence[int]) -> list[bool]:
        """Which of `images` (paths relative to the catalog folder) exist; one outside the folder is an error."""

    def copy_images(self, images: Sequence[str], out_dir: Path) -> None:
        """Copy each image to `out_dir / image` (plain copies: DVC moves outputs into its cache)."""


def locate_catalog(path: Path, fmt: CatalogFormat) -> CatalogFiles:
    """Open a folder, a zip or the table file itself as a catalog in layout `fmt`."""
    if not path.exists():
        raise CatalogError(f"data.source: {path} does not exist (expected a folder or a .zip holding {fmt.csv})")
    if path.is_file():
        if zipfile.is_zipfile(path):
            return ZipCatalog.open(path, fmt)
        if path.name == fmt.csv:
            return _directory_catalog(path.parent, fmt)
        raise CatalogError(f"data.source: {path} is neither a folder, a .zip, nor a file called {fmt.csv}")
    candidates, others = _find_tables(path, fmt.csv)
    if not candidates:
        hint = f"; found {others[0]}, use data.source {others[1]}:{path}" if others else ""
        raise CatalogError(f"data.source: no {fmt.csv} found in {path} or up to {MAX_DEPTH} folders below{hint}")
    with_images = [c for c in candidates if (c.parent / "images").is_dir()]
    if not with_images:
        raise CatalogError(
            f"{candidates[0]}: no images/ folder beside it (expected {fmt.image.format(id='<id>', id3='<id3>')})"
        )
    if len(candidates) > 1:
        log.info("found %d copies of %s; using %s", len(candidates), fmt.csv, with_images[0])
    return _directory_catalog(with_images[0].parent, fmt)


def _find_tables(root: Path, name: str) -> tuple[list[Path], tuple[str, str] | None]:
    """Every `name` under `root` (shallowest first), and another layout's table if `name` is absent."""
    found: list[tuple[int, str]] = []
    other: tuple[str, str] | None = None
    base_depth = len(root.parts)
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).parts) - base_depth
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and depth < MAX_DEPTH)
        if name in files:
            found.append((depth, os.path.join(folder, name)))
        for f in files:
            fmt = format_for_csv(f)
            if other is None and fmt is not None and f != name:
                other = (os.path.join(folder, f), fmt.name)
    return [Path(p) for _, p in sorted(found)], other


def _directory_catalog(root: Path, fmt: CatalogFormat) -> DirectoryCatalog:
    return DirectoryCatalog(root=root, table=root / fmt.csv)


@dataclass
class DirectoryCatalog:
    """A catalog unpacked in a folder: `<root>/<table>` and `<root>/images/...`."""

    root: Path
    table: Path
    where: str = field(init=False)
    table_where: str = field(init=False)

    def __post_init__(self) -> None:
        self.where = str(self.root)
        self.table_where = str(self.table)
        self._real_root = os.path.realpath(self.root)

    def read_table(self) -> bytes:
        try:
            return self.table.read_bytes()
        except OSError as exc:
            raise CatalogError(f"{self.table}: cannot read ({exc.strerror})") from None

    def find_images(self, images: Sequence[str], lines: Sequence[int]) -> list[bool]:
        present = []
        for image, line in zip(images, lines, strict=True):
            full = os.path.join(self.root, image)
            if not os.path.isfile(full):
                present.append(False)
                continue
            # Ids are digits only, but a symlinked file or folder can still point anywhere.
            real = os.path.realpath(full)
            if os.path.commonpath([real, self._real_root]) != self._real_root:
                raise CatalogError(
                    f"{self.table}: line {line}: image {image} resolves to {real}, outside the catalog folder "
                    f"{self._real_root}"
                )
            present.append(True)
        return present

    def copy_images(self, images: Sequence[str], out_dir: Path) -> None:
        def copy(image: str) -> None:
            try:
                shutil.copyfile(self.root / image, out_dir / image)
            except OSError as exc:
                raise CatalogError(f"{self.root / image}: cannot copy image ({exc.strerror})") from None

        _parallel_copy(images, out_dir, copy)


@dataclass
class ZipCatalog:
    """A catalog still inside its Kaggle zip: members are read directly, nothing else is extracted."""

    path: Path
    prefix: str  # folder of the table inside the zip, "" or "myntradataset/"
    table_member: str
    members: frozenset[str]
    where: str = field(init=False)
    table_where: str = field(init=False)

    def __post_init__(self) -> None:
        self.where = f"{self.path} ({self.prefix or '/'})"
        self.table_where = f"{self.path} (member {self.table_member})"
        self._local = threading.local()
        self._opened: list[zipfile.ZipFile] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, fmt: CatalogFormat) -> ZipCatalog:
        try:
            with zipfile.ZipFile(path) as archive:
                names = frozenset(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise CatalogError(f"{path}: not a readable zip ({exc})") from None
        tables = sorted(
            (n for n in names if posixpath.basename(n) == fmt.csv and n.count("/") <= MAX_DEPTH),
            key=lambda n: (n.count("/"), n),
        )
        if not tables:
            raise CatalogError(f"{path}: the zip holds no {fmt.csv} (up to {MAX_DEPTH} folders deep)")
        image_dirs = {m.group(1) for m in map(_IMAGES_MEMBER.match, names) if m}
        with_images = [t for t in tables if t[: -len(fmt.csv)] in image_dirs]
        if not with_images:
            raise CatalogError(f"{path}: no images/ folder beside {tables[0]} in the zip")
        table = with_images[0]
        prefix = table[: -len(fmt.csv)]
        return cls(path=path, prefix=prefix, table_member=table, members=names)

    def _archive(self) -> zipfile.ZipFile:
        # A ZipFile's handle is not safe to share between threads; each thread opens its own.
        archive = getattr(self._local, "archive", None)
        if archive is None:
            archive = self._local.archive = zipfile.ZipFile(self.path)
            with self._lock:
                self._opened.append(archive)
        return archive

    def close(self) -> None:
        with self._lock:
            for archive in self._opened:
                archive.close()
            self._opened.clear()
        self._local = threading.local()

    def _member(self, image: str, line: int | None = None) -> str:
        name = posixpath.normpath(self.prefix + image)
        if not name.startswith(self.prefix) or name.startswith("../") or "/../" in name:
            where = f"{self.table_where}: line {line}: " if line else ""
            raise CatalogError(f"{where}image {image} lies outside the catalog folder {self.where}")
        return name

    def read_table(self) -> bytes:
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.table_member)
        except (zipfile.BadZipFile, OSError) as exc:
            raise CatalogError(f"{self.table_where}: cannot read ({exc})") from None

    def find_images(self, images: Sequence[str], lines: Sequence[int]) -> list[bool]:
        return [self._member(image, line) in self.members for image, line in zip(images, lines, strict=True)]

    def copy_images(self, images: Sequence[str], out_dir: Path) -> None:
        def copy(image: str) -> None:
            member = self._member(image)
            try:
                with self._archive().open(member) as src, open(out_dir / image, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (zipfile.BadZipFile, OSError) as exc:
                raise CatalogError(f"{self.path} (member {member}): cannot extract image ({exc})") from None

        try:
            _parallel_copy(images, out_dir, copy)
        finally:
            self.close()


def _parallel_copy(images: Sequence[str], out_dir: Path, copy: Callable[[str], None]) -> None:
    for folder in sorted({posixpath.dirname(i) for i in images}):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    with (
        ThreadPoolExecutor(max_workers=COPY_THREADS) as pool,
        tqdm(total=len(images), desc="copy images", unit="img", disable=None) as bar,
    ):
        for _ in pool.map(copy, images):
            bar.update()
