"""`python -m serve`: serve the built workspace over HTTP (`make serve`)."""

from serve.app import main

if __name__ == "__main__":
    main()
