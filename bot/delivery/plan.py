"""What each channel gets: which digest, and which of its items.

Why separate from sending: ``send --dry-run`` and the scheduler's wait-for-digest loop need
the same answer without claiming anything. The rules:

- which date: ``bot.delivery.choice`` (unfinished deliveries first, then the newest new
  digest within ``max_age``); an explicit date ignores them;
- filtered by the channel's topics (queries): an item is kept if it matches ANY topic; no
  topics means the whole digest; nothing matching means nothing is posted that day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.delivery.choice import Choice, choose, local_today
from bot.errors import QueryError
from bot.query import parse_query

if TYPE_CHECKING:
    from bot.archive import Ledger
    from bot.channels import Channel
    from bot.config import Settings
    from bot.models import Digest, Item
    from bot.query import Query, TagAliases


@dataclass(frozen=True)
class DeliveryOptions:
    """Timings of a delivery; tests shorten them, the config may tune them."""

    lease: dt.timedelta = dt.timedelta(minutes=10)
    """How long a claim holds before another run may take it over (renewed while sending)."""
    window: dt.timedelta = dt.timedelta(hours=3)
    """How long transient errors are retried before the delivery is released for later."""
    retry_base: float = 1.0
    retry_cap: float = 60.0
    max_age: dt.timedelta = dt.timedelta(days=2)
    max_future: dt.timedelta = dt.timedelta(days=1)
    """Digests dated further ahead of the channel's today are not delivered (typos)."""
    concurrency: int = 500
    """Channels delivered at once: sends are paced I/O, so this can be large."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> DeliveryOptions:
        """Read ``max_age`` and the ``delivery.*`` keys of the config."""
        section = settings.delivery
        values: dict[str, Any] = {
            "max_age": settings.max_age,
            "max_future": settings.max_future,
            "lease": section.lease,
            "window": section.window,
            "retry_base": section.retry_base.total_seconds(),
            "retry_cap": section.retry_cap.total_seconds(),
            "concurrency": section.concurrency,
        }
        values.update(overrides)
        return cls(**values)


class DigestSource(Protocol):
    """The part of ``bot.archive.Archive`` planning reads."""

    def dates(self) -> list[dt.date]: ...

    def forget(self) -> None:
        """Drop the cached reads: the next plan sees what was ingested a moment ago."""
        self._digests.clear()

    def digest(self, date: dt.date) -> Digest | None: ...


@dataclass(frozen=True)
class Plan:
    """One channel's delivery for one digest: the filtered digest and its payloads."""

    channel: Channel
    digest_date: dt.date
    digest: Digest
    total_items: int
    payloads: list[Any] = field(default_factory=list)
    kind: str = "daily"
    """``daily``, or ``weekly`` for a rollup keyed by its week's Monday (``digest_date``)."""

    @property
    def empty(self) -> bool:
        return not self.digest.items


def topic_queries(channel: Channel, *, today: dt.date) -> list[Query]:
    """Parse the channel's topics; a bad one is an error that names the channel and term."""
    queries = []
    for topic in channel.topics:
        try:
            queries.append(parse_query(topic, today=today))
        except QueryError as exc:
            raise QueryError(f"{channel}: topic {topic!r}: {exc}", term=exc.term) from exc
    return queries


def filter_digest(digest: Digest, queries: Iterable[Query], aliases: TagAliases) -> Digest:
    """The digest with only the items matching any query (all items if there are none)."""
    queries = [q for q in queries if not q.is_empty]
    if not queries:
        return digest
    kept = [
        item for item in digest.items if any(q.matches(item, digest.date, aliases) for q in queries)
    ]
    return digest.model_copy(update={"items": kept})


def item_key(item: Item) -> str:
    """An item's identity within its day: its link, else its title (for addenda)."""
    basis = item.url or " ".join(item.title.split()).casefold()
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()


def describe_topics(channel: Channel) -> str:
    return " | ".join(channel.topics) if channel.topics else "whole digest"


@dataclass(frozen=True)
class NoPlan:
    """Why there is nothing to deliver: no digest chosen (``date`` None) or none stored.

    ``up_to_date``: the channel already has the newest digest (nothing to do), as opposed
    to a digest that was expected and is missing or too old.
    """

    date: dt.date | None = None
    reason: str | None = None
    up_to_date: bool = False


def explain_no_date(
    archive: DigestSource,
    ledger: Ledger,
    channel: Channel,
    *,
    max_age: dt.timedelta,
) -> NoPlan:
    """Why ``choose_date`` found nothing: an empty archive, the newest digest already
    received, or the newest digest older than ``max_age`` (said, not silently skipped)."""
    dates = archive.dates()
    if not dates:
        return NoPlan(reason="the archive has no digest yet (check `sources`)")
    newest = max(dates)
    last = ledger.last_delivered_date(channel.platform, channel.id)
    if last is not None and newest <= last:
        return NoPlan(reason=f"nothing new since {last}", up_to_date=True)
    return NoPlan(
        reason=f"skipped {newest}: older than max_age ({_age(max_age)}); "
        f"`digestbot send --date {newest}` sends it anyway"
    )


def _age(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g}d" if hours >= 24 and hours % 24 == 0 else f"{hours:g}h"


#: How long a digest read from the archive is reused by concurrent deliveries.
DIGEST_CACHE_SECONDS = 5.0


class Planner:
    """Chooses, filters and renders each channel's digest, sharing the work between channels.

    Why the caches: at 09:00 hundreds of channels plan the same digest at once; one archive
    read per date and one rendering per (platform, topics) serve them all, while a file
    re-ingested later is still picked up by the next run (reads expire after a few seconds).
    """

    def __init__(
        self,
        archive: DigestSource,
        ledger: Ledger,
        render: Callable[[str, Digest], list[Any]],
        *,
        aliases: TagAliases,
        clock: Callable[[], dt.datetime],
        max_age: dt.timedelta,
    ) -> None:
        self.archive = archive
        self.max_age = max_age
        self.ledger = ledger
        self.render = render
        self.aliases = aliases
        self.clock = clock
        #: How far ahead of a channel's today a digest may be dated (``max_future``).
        self.max_future = dt.timedelta(days=1)
        self._digests: dict[dt.date, tuple[float, Digest | None]] = {}
        self._rendered: dict[tuple[Any, ...], tuple[Digest, Digest, list[Any]]] = {}

    def choose(self, channel: Channel) -> Choice:
        """The channel's next digest date, within this planner's ``max_age``."""
        return choose(
            self.archive,
            self.ledger,
            channel,
            now=self.clock(),
            max_age=self.max_age,
            max_future=self.max_future,
        )

    def choose_date(self, channel: Channel) -> dt.date | None:
        return self.choose(channel).date

    def plan(self, channel: Channel, *, date: dt.date | None) -> Plan | NoPlan:
        chosen = date if date is not None else self.choose_date(channel)
        if chosen is None:
            return explain_no_date(self.archive, self.ledger, channel, max_age=self.max_age)
        digest = self.digest(chosen)
        if digest is None:
            return NoPlan(chosen, f"no digest for {chosen} in the archive")
        today = local_today(channel, self.clock())
        key = (channel.platform, chosen, channel.topics, today)
        cached = self._rendered.get(key)
        # The entry holds the digest it was rendered from: a re-read (edited) digest is a new
        # object and misses, and holding it keeps its id from being reused by another.
        if cached is None or cached[0] is not digest:
            filtered = filter_digest(digest, topic_queries(channel, today=today), self.aliases)
            payloads = self.render(channel.platform, filtered) if filtered.items else []
            if len(self._rendered) > 256:
                self._rendered.clear()
            cached = self._rendered[key] = (digest, filtered, payloads)
        _, filtered, payloads = cached
        return Plan(channel, chosen, filtered, len(digest.items), list(payloads))

    def forget(self) -> None:
        """Drop the cached reads: the next plan sees what was ingested a moment ago."""
        self._digests.clear()

    def digest(self, date: dt.date) -> Digest | None:
        """The archived digest of ``date``, re-read at most every few seconds."""
        now = time.monotonic()
        hit = self._digests.get(date)
        if hit is not None and now - hit[0] < DIGEST_CACHE_SECONDS:
            return hit[1]
        digest = self.archive.digest(date)
        self._digests[date] = (now, digest)
        return digest
