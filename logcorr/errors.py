"""Exit codes (the contract's) and the one error type the CLI turns into a one-line message."""
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # the command ran
    FINDINGS = 1  # --fail-on matched, or `rules check` failed
    USAGE = 2  # unusable input or usage: a one-line reason on stderr


class UsageError(Exception):
    """Input or usage the command cannot work with; the message is shown as one line."""
