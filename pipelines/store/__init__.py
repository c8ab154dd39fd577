"""The key/value store of frozen embeddings: validated reading and atomic, memory-mapped writing."""

from typing import TYPE_CHECKING

from pipelines.lazy import lazy_exports

if TYPE_CHECKING:
    from pipelines.store.store import (
        READ_BLOCK,
        LazyRows,
        Store,
        StoreError,
        check_built_on,
        check_expected_model,
        open_store,
        row_blocks,
        take_rows,
        verify_store,
        write_store,
    )
    from pipelines.store.writer import (
        ARRAYS,
        FORMAT_VERSION,
        MANIFEST_FILE,
        META_FILE,
        MODEL_KEYS,
        STORE_FILES,
        StoreWriter,
        create_store,
    )

__getattr__, __all__ = lazy_exports(__name__, __file__)
