"""The one exception type a user sees: a sentence that says what was expected, what was found, and where."""


class PipelineError(Exception):
    """Bad input or configuration; the stage prints the message as one line and exits non-zero."""
