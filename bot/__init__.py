"""digestbot: daily AI-news digests for team channels, with an archive you can ask."""

from __future__ import annotations

__version__ = "0.1.0"
