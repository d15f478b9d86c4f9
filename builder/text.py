"""Text from files made printable: control characters escaped, never sent raw to a terminal.

A graph's name and description, a file name or a JSON snippet may hold NUL, ANSI escape
sequences, other C0/C1 controls, line separators or bidirectional overrides; printed raw they
can rewrite the terminal, hide text or reorder it. :func:`printable` writes each of them as a
Python-style escape (``\\x1b``, ``\\u202e``) and leaves every other character alone.
"""

from __future__ import annotations

import re

# bidirectional embeddings, overrides and isolates (the "Trojan Source" characters)
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with control characters escaped (``\\n`` kept when ``keep_newlines``)."""
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in text.split("\n"))
    return _UNSAFE.sub(_escape, text)


def is_printable(text: str) -> bool:
    """True when ``text`` holds no character :func:`printable` would escape (newlines aside)."""
    return _UNSAFE.search(text.replace("\n", "")) is None

