"""The catalog: data sources, the Myntra/H&M readers, Kaggle download, subsampling and the raw layout."""

from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "formats": ["CatalogFormat", "catalog_format"],
        "kaggle": ["KaggleError", "download_kaggle", "kaggle_cache_dir"],
        "location": ["locate_catalog"],
        "raw": ["MANIFEST_FILE", "RawCatalog", "ingest_catalog", "read_raw_catalog"],
        "sources": ["ACCEPTED_FORMS", "CatalogSource", "SourceError", "parse_source"],
        "subsample": ["stratified_subsample"],
        "table": ["CatalogError", "CatalogTable", "parse_catalog_table", "write_catalog_table"],
    },
)
