"""The DVC stages (`python -m stages.<name>`): thin scripts over the `pipelines` library.

Importing `pipelines` here, before a stage's own imports, pins the numeric libraries' kernels to one ISA before
numpy, torch or FAISS load (`pipelines.numerics`).
"""

import pipelines  # noqa: F401
