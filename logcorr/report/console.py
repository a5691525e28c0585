"""Where the text goes: colour or not (`--color`, NO_COLOR, FORCE_COLOR), and the reading progress."""
from __future__ import annotations

import os
from typing import IO, Mapping

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

COLOR_CHOICES = ("auto", "always", "never")
PROGRESS_BYTES = 8 * 1024 * 1024  # smaller bundles are read too fast to need a progress display


def colour_wanted(choice: str, stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    """`always` and `never` decide; `auto` follows NO_COLOR (set and not empty: no colour), then
    FORCE_COLOR (set and not empty or 0: colour), then whether `stream` is a terminal (not dumb)."""
    env = os.environ if environ is None else environ
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return _is_terminal(stream) and env.get("TERM") != "dumb"


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False


def console(stream: IO[str], colour: bool) -> Console:
    """A console that writes plain text, or coloured text, to `stream`, never wrapping lines."""
    return Console(file=stream, force_terminal=colour, no_color=not colour,
                   color_system=("auto" if _is_terminal(stream) else "standard") if colour else None,
                   highlight=False, markup=False, emoji=False, soft_wrap=True, _environ={})


class ReadProgress:
    """A transient progress bar (files and bytes) on `stream`, shown for large bundles only, when
    `stream` is a terminal. Call it as the reader's progress; close it when the reading is done."""

    def __init__(self, stream: IO[str], enabled: bool = True):
        self.enabled = enabled and _is_terminal(stream)
        self.stream = stream
        self.bar: Progress | None = None
        self.task = None

    def __call__(self, files_done: int, files: int, bytes_done: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_BYTES:
            return
        if self.bar is None:
            self.bar = Progress(TextColumn("reading"), BarColumn(),
                                TextColumn("{task.fields[files_done]}/{task.fields[files]} files"),
                                DownloadColumn(), TimeElapsedColumn(), transient=True,
                                console=Console(file=self.stream, highlight=False, markup=False))
            self.task = self.bar.add_task("reading", total=total, files_done=0, files=files)
            self.bar.start()
        self.bar.update(self.task, completed=bytes_done, files_done=files_done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __enter__(self) -> ReadProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
