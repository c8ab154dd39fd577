"""`python -m pipelines.search`: serve the built workspace over HTTP (`make serve`)."""

from pipelines.search.server import main

if __name__ == "__main__":
    main()
