"""What one parse (or a whole ingest) read: items, fields missing by name, problems, drops.

One line each, for stderr, so a team sees at a glance what a new pipeline's files lose:
``coverage: 14 items, 0 dropped; missing: summary 2, url 1; 1 fallback; 0 problems``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.models import Item, ParseResult

__all__ = ["FIELDS", "Coverage"]

#: Fields counted when missing, in the order they are shown.
FIELDS = ("url", "summary", "source", "published_at", "stars", "tags", "orgs")


def _missing(item: Item) -> list[str]:
    values = {
        "url": item.url,
        "summary": item.summary,
        "source": item.source,
        "published_at": item.published_at,
        "stars": item.stars,
        "tags": item.tags,
        "orgs": item.orgs,
    }
    return [name for name in FIELDS if values[name] is None or values[name] == []]


@dataclass
class Coverage:
    """Counts for one file or many; ``+`` adds them up."""

    items: int = 0
    dropped: int = 0
    problems: int = 0
    fallbacks: int = 0
    missing: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, result: ParseResult) -> Coverage:
        coverage = cls(
            items=len(result.digest.items),
            dropped=result.dropped,
            problems=len(result.problems),
        )
        for item in result.digest.items:
            coverage.fallbacks += item.pipeline_failed
            for name in _missing(item):
                if name == "summary" and item.pipeline_failed:
                    continue  # counted as a fallback
                coverage.missing[name] = coverage.missing.get(name, 0) + 1
        return coverage

    def __add__(self, other: Coverage) -> Coverage:
        missing = dict(self.missing)
        for name, count in other.missing.items():
            missing[name] = missing.get(name, 0) + count
        return Coverage(
            items=self.items + other.items,
            dropped=self.dropped + other.dropped,
            problems=self.problems + other.problems,
            fallbacks=self.fallbacks + other.fallbacks,
            missing=missing,
        )

    def line(self) -> str:
        """``14 items, 0 dropped; missing: summary 2, url 1; 0 problems``."""
        missing = ", ".join(
            f"{name} {self.missing[name]}" for name in FIELDS if self.missing.get(name)
        )
        parts = [
            f"{self.items} items, {self.dropped} dropped",
            f"missing: {missing or 'none'}",
        ]
        if self.fallbacks:
            parts.append(f"{self.fallbacks} pipeline fallbacks")
        parts.append(f"{self.problems} problems")
        return "; ".join(parts)
