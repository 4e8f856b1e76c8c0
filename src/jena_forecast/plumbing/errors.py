"""The one exception type for mistakes a user can fix: bad data, bad params, bad paths."""


class PipelineError(Exception):
    """A user-facing error: its message names the file, row or param and what was expected."""
