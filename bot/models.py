"""The typed shape of a digest, shared by every layer.

These models are the JSON contract of ``digestbot parse --json`` and ``query --json``:
missing scalars are ``None``, missing lists are ``[]``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

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


#: Item keys added after the first contract: written only when set, so files and
#: consumers of the original contract see exactly the JSON they always saw.
OPTIONAL_KEYS: dict[str, object] = {
    "category": None,
    "score": None,
    "score_scale": None,
    "pipeline_failed": False,
}


class Item(BaseModel):
    """One item of a digest (``rank`` is its number, or its position when unnumbered)."""

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
    category: str | None = None
    """The group heading the item sits under (``## 🔬 学术研究`` → ``学术研究``)."""
    score: float | None = None
    """The rating as written (``8.3`` of ``8.3/10``); ``stars`` is derived from it."""
    score_scale: float | None = None
    """What ``score`` is out of (5 for 🌟 marks, 10, 100)."""
    pipeline_failed: bool = False
    """The curation pipeline wrote a fallback for this item: its summary is not data."""
    line: int | None = Field(default=None, exclude=True)
    """Line of the item heading in the source file (not part of the JSON contract)."""

    @model_serializer(mode="wrap")
    def _drop_unset_extras(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, object]:
        data = handler(self)
        if not info.mode_is_json():
            return data  # Python dumps round-trip every field
        for key, default in OPTIONAL_KEYS.items():
            if key in data and data[key] == default:
                del data[key]
        if self.score_scale == 5 and self.score == self.stars:
            # 🌟 marks out of 5: the score says nothing ``stars`` does not.
            data.pop("score", None)
            data.pop("score_scale", None)
        return data


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
    """What parsing one file gives: the digest (all good items) and every problem found.

    ``dropped`` counts item headings that did not become items (each has a problem).
    """

    digest: Digest
    problems: list[Problem] = Field(default_factory=list)
    dropped: int = 0
