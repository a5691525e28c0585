"""Exit codes (the contract's) and the one error type the CLI turns into a one-line message."""
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # the command ran
    FINDINGS = 1  # --fail-on matched, or `rules check` failed
    USAGE = 2  # unusable input or usage: a one-line reason on stderr
    INTERNAL = 3  # an internal error (a bug): one line on stderr, the traceback with --debug
    INTERRUPTED = 130  # stopped by the user (Ctrl-C), as a shell reports it


class UsageError(Exception):
    """Input or usage the command cannot work with; the message is shown as one line."""
