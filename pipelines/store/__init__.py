"""The key/value store of frozen embeddings: validated reading and atomic, memory-mapped writing."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.store.store import (
        READ_BLOCK as READ_BLOCK,
        LazyRows as LazyRows,
        Store as Store,
        StoreError as StoreError,
        check_built_on as check_built_on,
        check_expected_model as check_expected_model,
        open_store as open_store,
        row_blocks as row_blocks,
        take_rows as take_rows,
        verify_store as verify_store,
        write_store as write_store,
    )
    from pipelines.store.writer import (
        ARRAYS as ARRAYS,
        FORMAT_VERSION as FORMAT_VERSION,
        MANIFEST_FILE as MANIFEST_FILE,
        META_FILE as META_FILE,
        MODEL_KEYS as MODEL_KEYS,
        STORE_FILES as STORE_FILES,
        StoreWriter as StoreWriter,
        create_store as create_store,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
