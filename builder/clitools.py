"""What every command-line module shares: exit codes, the one-line user error, graph loading,
printing with control characters escaped, and the input-shape parser.

The feature commands (training, export, evaluation, data, X-ray) import these from here, not
from :mod:`builder.cli`, which imports them in turn when it builds the parser: so the command
modules form no import cycle.
"""

from __future__ import annotations

import signal
import sys
from typing import TextIO

from builder.fileformat import GraphFileError
from builder.graph import Graph
from builder.text import printable

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_BAD_INPUT = 0, 1, 2
# The reader of stdout went away (``summary … | head``): the shell's code for death by SIGPIPE.
EXIT_PIPE_CLOSED = 128 + getattr(signal, "SIGPIPE", 13)


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def load_graph(path: str) -> Graph:
    """Load a graph file for a command (GraphFileError becomes a one-line CliError)."""
    from builder import fileformat

    try:
        return fileformat.load(path)
    except GraphFileError as exc:
        raise CliError(str(exc)) from None


def say(text: str, stream: TextIO | None = None) -> None:
    """Print ``text`` with control characters escaped (file names and graph names are data)."""
    print(printable(text, keep_newlines=True), file=stream or sys.stdout)


def parse_shape(text: str, flag: str = "--input") -> tuple[int, int, int]:
    """``3x32x32`` → ``(3, 32, 32)``; CliError naming ``flag`` unless each size fits an Input block."""
    from builder import catalog

    try:
        return catalog.parse_input_shape(text, flag)
    except ValueError as exc:
        raise CliError(str(exc)) from None
