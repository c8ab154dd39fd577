"""The catalog: data sources, the Myntra/H&M readers, Kaggle download, subsampling and the raw layout."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.catalog.formats import CatalogFormat as CatalogFormat, catalog_format as catalog_format
    from pipelines.catalog.kaggle import (
        KaggleError as KaggleError,
        download_kaggle as download_kaggle,
        kaggle_cache_dir as kaggle_cache_dir,
    )
    from pipelines.catalog.location import locate_catalog as locate_catalog
    from pipelines.catalog.raw import (
        MANIFEST_FILE as MANIFEST_FILE,
        RawCatalog as RawCatalog,
        ingest_catalog as ingest_catalog,
        read_raw_catalog as read_raw_catalog,
    )
    from pipelines.catalog.sources import (
        ACCEPTED_FORMS as ACCEPTED_FORMS,
        CatalogSource as CatalogSource,
        SourceError as SourceError,
        parse_source as parse_source,
    )
    from pipelines.catalog.subsample import stratified_subsample as stratified_subsample
    from pipelines.catalog.table import (
        CatalogError as CatalogError,
        CatalogTable as CatalogTable,
        parse_catalog_table as parse_catalog_table,
        write_catalog_table as write_catalog_table,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
