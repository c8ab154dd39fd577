"""The key/value store of frozen embeddings: validated reading and atomic, memory-mapped writing."""

from pipelines.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "store": [
            "Store",
            "StoreError",
            "check_built_on",
            "check_expected_model",
            "open_store",
            "verify_store",
            "write_store",
        ],
        "writer": [
            "ARRAYS",
            "FORMAT_VERSION",
            "MANIFEST_FILE",
            "META_FILE",
            "MODEL_KEYS",
            "STORE_FILES",
            "StoreWriter",
            "create_store",
        ],
    },
)
