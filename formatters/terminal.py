"""Terminal output that content cannot take over.

Digest text, topics typed in chat and queries reach the terminal through ``parse``,
``query``, ``render``, ``subscriptions list`` and the console channel. An ESC in any of
them could clear the screen, forge a hyperlink or retitle the window; every console the
CLI and the console channel print to is a ``SafeConsole``, and JSON output escapes the
controls that ``json.dumps`` leaves raw.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment

from formatters.escape import escape_json_controls, has_controls, strip_controls

__all__ = ["SafeConsole", "safe_json", "strip_controls"]


class SafeConsole(Console):
    """A rich Console that never writes a control character taken from content.

    rich emits its own styles and hyperlinks from ``Style`` objects and control segments,
    so removing control characters from the text of every other segment removes exactly
    what a digest, a topic or a query smuggled in (clear screen, fake OSC 8 links, window
    titles), whatever renderable carried it.
    """

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and has_controls(segment.text):
                yield Segment(strip_controls(segment.text), segment.style)
            else:
                yield segment


def safe_json(data: Any, **kwargs: Any) -> str:
    """``json.dumps(data, ensure_ascii=False, ...)`` with every control character escaped."""
    return escape_json_controls(json.dumps(data, ensure_ascii=False, **kwargs))
