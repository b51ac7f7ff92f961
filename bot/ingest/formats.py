"""How a team says what its files look like: the ``formats:`` config section → parse options.

``formats.layouts`` maps a glob (relative to the config file, like ``sources``) to a layout
name; the first glob matching a file wins, else ``auto``. ``formats.labels`` adds field
labels; ``formats.brackets`` says how a leading ``[…]`` in an item heading is read.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ingest.headings import BracketRule
from bot.ingest.labels import LABELS, Labels
from bot.ingest.layout import LayoutName

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["DEFAULT_OPTIONS", "Formats", "ParseOptions"]


@dataclass(frozen=True)
class ParseOptions:
    """What one parse assumes about its file (all ``auto`` by default)."""

    layout: LayoutName = "auto"
    labels: Labels = field(default_factory=lambda: LABELS)
    brackets: BracketRule = "auto"


DEFAULT_OPTIONS = ParseOptions()


@dataclass(frozen=True)
class Formats:
    """The ``formats:`` section, resolved against the config's folder."""

    layouts: tuple[tuple[str, LayoutName], ...] = ()
    labels: Labels = field(default_factory=lambda: LABELS)
    brackets: BracketRule = "auto"
    base: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Formats:
        section = settings.formats
        return cls.of(section.layouts, section.labels, section.brackets, settings.base_dir())

    @classmethod
    def of(
        cls,
        layouts: Mapping[str, LayoutName],
        labels: Mapping[str, str],
        brackets: BracketRule = "auto",
        base: Path | None = None,
    ) -> Formats:
        return cls(
            layouts=tuple(layouts.items()),
            labels=LABELS.with_overrides(labels) if labels else LABELS,
            brackets=brackets,
            base=base,
        )

    def options_for(self, path: str | Path) -> ParseOptions:
        """The options for one file: its layout by the first matching glob."""
        layout: LayoutName = "auto"
        target = Path(path)
        absolute = str(target.resolve()) if self.base is not None else str(target)
        for pattern, name in self.layouts:
            full = pattern
            if self.base is not None and not Path(pattern).expanduser().is_absolute():
                full = str(self.base.resolve() / pattern)
            if fnmatch.fnmatch(absolute, full) or fnmatch.fnmatch(str(target), pattern):
                layout = name
                break
        return ParseOptions(layout=layout, labels=self.labels, brackets=self.brackets)
