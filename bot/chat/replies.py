"""Reply models: what command handlers return and formatters render.

Handlers never build Block Kit or HTML; they return one of these, and each platform's
formatter turns it into payloads. ``ErrorReply`` is how every user-facing failure looks.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.archive import Rollup, Trends
from bot.channels import Channel
from bot.config import DEFAULT_WEEKLY_SCHEDULE
from bot.models import Digest, Hit


class SearchReply(BaseModel):
    """A page of query results, newest first; ``offset + len(hits) < total`` means "more"."""

    kind: Literal["search"] = "search"
    query: str
    hits: list[Hit]
    total: int
    offset: int = 0
    limit: int = 10
    total_capped: bool = False
    """The count stopped at ``total``: there are at least that many ("1000+")."""
    more_key: str | None = None
    """The archive key of ``query`` for platforms whose buttons cannot carry it."""


class DigestReply(BaseModel):
    """The headlines of one digest (``/ai today``, ``/ai latest``)."""

    kind: Literal["digest"] = "digest"
    digest: Digest


class ItemDetailReply(BaseModel):
    """One item in full: sections and resources (the "details" button)."""

    kind: Literal["detail"] = "detail"
    hit: Hit


class HelpReply(BaseModel):
    kind: Literal["help"] = "help"


class SubscriptionReply(BaseModel):
    """What a channel will receive after a change, or a listing of its settings."""

    kind: Literal["subscription"] = "subscription"
    action: Literal["subscribed", "unsubscribed", "scheduled", "scheduled_weekly", "listed"]
    subscription: Channel | None = None
    """None after ``unsubscribe all``/``unsubscribe`` removed the channel entirely."""
    topic: str | None = None
    schedule: str = "0 9 * * *"
    timezone: str = "Asia/Shanghai"
    digest: str = "daily"
    """``daily``, ``weekly`` or ``both``."""
    weekly_schedule: str = DEFAULT_WEEKLY_SCHEDULE


class WeekReply(BaseModel):
    """A weekly rollup (``/ai week``, ``/ai week last``): the week's best items by day."""

    kind: Literal["week"] = "week"
    rollup: Rollup


class TrendsReply(BaseModel):
    """The chart reply: tag trends as a picture plus one text line per tag.

    Formatters turn it into a ``formatters.payloads.ChartImage`` (PNG bytes, drawn by
    ``formatters.chart``) followed by text messages; each adapter uploads the image the way
    its platform expects, and a reader who cannot see images still gets the text.
    """

    kind: Literal["trends"] = "trends"
    trends: Trends
    channel_id: str | None = None
    """Where the chart goes (the command's channel), so the text can say so."""


class ErrorReply(BaseModel):
    """A helpful failure: what went wrong and an example of what would work."""

    kind: Literal["error"] = "error"
    message: str
    example: str | None = None


class NoticeReply(BaseModel):
    kind: Literal["notice"] = "notice"
    message: str


Reply = (
    SearchReply
    | DigestReply
    | ItemDetailReply
    | HelpReply
    | SubscriptionReply
    | WeekReply
    | TrendsReply
    | ErrorReply
    | NoticeReply
)


class ReplyEnvelope(BaseModel):
    """A reply plus whether it should be visible to the whole channel (announcements)."""

    reply: Reply = Field(discriminator="kind")
    public: bool = False
