"""The HTTP app over a built workspace (`make serve`, `python -m serve`): FastAPI routes and the web page.

The library (`pipelines.search`) answers queries; this package loads a build for it (`serve.build`), hands the
service to the routes through a FastAPI dependency (`serve.deps`) and maps its errors to HTTP answers (`serve.app`).
"""

import pipelines  # noqa: F401  (first: pins the numeric ISA before numpy, torch and FAISS load)
