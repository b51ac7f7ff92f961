"""Bounds on what a digest file may bring in, applied before the parser sees the text.

A curation pipeline that goes wrong can write a 5-million-character line, an inline
``data:`` image or terminal escape sequences. Each is harmless once bounded here, in one
linear pass: the parser, the archive and every formatter then only ever see lines of at
most ``MAX_LINE_CHARS``, files of at most ``MAX_FILE_BYTES``, no ``data:`` URIs and no
control characters. Every cut is reported as a located problem, and the item keeps its
link, so the reader can still get the whole text from the source.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.models import Problem

#: Bytes read from one digest file; a real digest is well under 1 MB.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Characters kept of one line; a real digest's longest line is under 1,000.
MAX_LINE_CHARS = 8_000
ELLIPSIS = " …"

#: Control characters other than tab and the line ends (normalised to ``\n`` before):
#: ESC, BEL, C1 controls, DEL.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: An inline ``data:`` URI (``data:image/png;base64,...``), up to the end of the URL.
_DATA_URI = re.compile(r"\bdata:[\w.+-]+/[\w.+-]+[;,][^\s)\]>\"']*", re.IGNORECASE)
#: A line longer than the cap: the kept head, then the rest of the line.
_LONG_LINE = re.compile(rf"(?m)^([^\n]{{{MAX_LINE_CHARS}}})[^\n]+")


def read_capped(path: str | Path) -> tuple[bytes, bool]:
    """At most ``MAX_FILE_BYTES`` of the file, cut after its last complete line;
    True when the file was longer."""
    with Path(path).open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) <= MAX_FILE_BYTES:
        return data, False
    cut = data.rfind(b"\n", 0, MAX_FILE_BYTES)
    return data[: cut + 1 if cut >= 0 else MAX_FILE_BYTES], True


def bound_text(text: str, path: str) -> tuple[str, list[Problem]]:
    """The text without controls and ``data:`` URIs, each line cut to the cap; the cuts
    as problems (one per long line, located).

    Line ends are normalised first, as markdown-it does: removing a control character
    between a lone ``\\r`` and a ``\\n`` would otherwise merge two lines into one, and every
    line number after it would point one line too early."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    text = _DATA_URI.sub("", text)
    problems: list[Problem] = []
    if len(text) <= MAX_LINE_CHARS:
        return text, problems

    seen = [0, 1]  # position counted up to, and the line number there

    def cut(match: re.Match[str]) -> str:
        seen[1] += text.count("\n", seen[0], match.start())
        seen[0] = match.start()
        line = seen[1]
        problems.append(
            Problem(
                path=path,
                line=line,
                message=f"line of {match.end() - match.start():,} characters cut to "
                f"{MAX_LINE_CHARS:,} (the item's link has the full text)",
            )
        )
        return match[1] + ELLIPSIS

    return _LONG_LINE.sub(cut, text), problems


def file_too_big(path: str, data: bytes) -> Problem:
    """The problem reported when a file is cut at ``MAX_FILE_BYTES``."""
    return Problem(
        path=path,
        line=data.count(b"\n") + 1,
        message=f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; "
        "everything after this line is ignored",
    )
