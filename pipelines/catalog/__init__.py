"""The catalog: data sources, the Myntra/H&M readers, Kaggle download, subsampling and the raw layout."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.catalog.formats import CatalogFormat, catalog_format
    from pipelines.catalog.kaggle import KaggleError, download_kaggle, kaggle_cache_dir
    from pipelines.catalog.location import locate_catalog
    from pipelines.catalog.raw import MANIFEST_FILE, RawCatalog, ingest_catalog, read_raw_catalog
    from pipelines.catalog.sources import ACCEPTED_FORMS, CatalogSource, SourceError, parse_source
    from pipelines.catalog.subsample import stratified_subsample
    from pipelines.catalog.table import CatalogError, CatalogTable, parse_catalog_table, write_catalog_table

__getattr__, __all__ = lazy_exports(__name__, __file__)
