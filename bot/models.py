"""The typed shape of a digest, shared by every layer.

These models are the JSON contract of ``digestbot parse --json`` and ``query --json``:
missing scalars are ``None``, missing lists are ``[]``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SectionKind = Literal["tech", "data", "insight", "resources", "other"]


class Section(BaseModel):
    """One ``####`` section of an item, kept as markdown so nothing is lost."""

    model_config = ConfigDict(frozen=True)

    kind: SectionKind
    heading: str
    markdown: str


class Resource(BaseModel):
    """A link from the resources section; ``title`` is None for a bare URL."""

    model_config = ConfigDict(frozen=True)

    title: str | None = None
    url: str


class Item(BaseModel):
    """One numbered item of a digest."""

    rank: int
    title: str
    orgs: list[str] = Field(default_factory=list)
    source: str | None = None
    published_at: dt.datetime | None = None
    stars: int | None = None
    tags: list[str] = Field(default_factory=list)
    url: str | None = None
    summary: str | None = None
    sections: list[Section] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)
    line: int | None = Field(default=None, exclude=True)
    """Line of the ``### N.`` heading in the source file (not part of the JSON contract)."""


class Hit(Item):
    """An archived item as a query returns it: an item plus the day it belongs to."""

    date: dt.date


class Digest(BaseModel):
    """One day's digest file."""

    date: dt.date
    title: str
    items: list[Item] = Field(default_factory=list)


def item_path(date: dt.date, rank: int) -> str:
    """The stable path of one archived item in the web reader (its permalink)."""
    return f"/d/{date.isoformat()}/{rank}"


class Problem(BaseModel):
    """A located complaint about input: printed as ``FILE:LINE: message``."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ParseResult(BaseModel):
    """What parsing one file gives: the digest (all good items) and every problem found."""

    digest: Digest
    problems: list[Problem] = Field(default_factory=list)
