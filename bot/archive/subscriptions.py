"""Channels added or changed at runtime (``/ai subscribe``), and channels marked inactive.

A row overrides the config's channel of the same (platform, channel_id): its non-null
schedule/timezone win, its topics replace the config's, and ``active=False`` stops delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.archive.schema import subscriptions
from bot.errors import ArchiveError


class Subscription(BaseModel):
    """One channel's stored delivery settings."""

    platform: str
    channel_id: str
    thread_id: int | None = None
    schedule: str | None = None
    timezone: str | None = None
    topics: list[str] = Field(default_factory=list)
    digest: str | None = None
    """``daily``, ``weekly`` or ``both``; None: the config's (or daily)."""
    weekly_schedule: str | None = None
    active: bool = True
    inactive_reason: str | None = None
    created_by: str | None = None
    updated_at: dt.datetime | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SubscriptionStore:
    """CRUD over the subscriptions table; each call is its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _connect(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        """A connection whose database errors leave as ``ArchiveError`` naming the action."""
        try:
            with self.engine.begin() if write else self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ArchiveError(f"subscriptions: cannot {action}: {detail}") from exc

    def list(self, platform: str | None = None, *, active_only: bool = False) -> list[Subscription]:
        stmt = select(subscriptions).order_by(subscriptions.c.platform, subscriptions.c.channel_id)
        if platform:
            stmt = stmt.where(subscriptions.c.platform == platform)
        if active_only:
            stmt = stmt.where(subscriptions.c.active.is_(True))
        with self._connect("list the channels") as conn:
            return [_to_model(row._mapping) for row in conn.execute(stmt)]

    def get(self, platform: str, channel_id: str) -> Subscription | None:
        stmt = select(subscriptions).where(
            subscriptions.c.platform == platform, subscriptions.c.channel_id == channel_id
        )
        with self._connect(f"read {platform}:{channel_id}") as conn:
            row = conn.execute(stmt).first()
        return _to_model(row._mapping) if row else None

    def upsert(self, platform: str, channel_id: str, **fields: Any) -> Subscription:
        """Create the channel's row or update the given fields (schedule, topics, active, …)."""
        allowed = set(Subscription.model_fields) - {"platform", "channel_id", "updated_at"}
        unknown = set(fields) - allowed
        if unknown:
            raise TypeError(f"unknown subscription fields: {sorted(unknown)}")
        now = _now()
        where = (subscriptions.c.platform == platform) & (subscriptions.c.channel_id == channel_id)
        with self._connect(f"save {platform}:{channel_id}", write=True) as conn:
            exists = conn.execute(select(subscriptions).where(where)).first()
            if exists:
                # Only what differs is written: repeating a command (or a replayed request)
                # leaves the row, and its updated_at, as it was.
                changed = {k: v for k, v in fields.items() if exists._mapping[k] != v}
                if changed:
                    conn.execute(
                        update(subscriptions).where(where).values(**changed, updated_at=now)
                    )
            else:
                values = {"topics": [], "active": True, **fields}
                conn.execute(
                    insert(subscriptions).values(
                        platform=platform,
                        channel_id=channel_id,
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                )
        found = self.get(platform, channel_id)
        assert found is not None
        return found

    def deactivate(self, platform: str, channel_id: str, reason: str) -> Subscription:
        """Stop delivering to a channel after a permanent error, keeping the reason."""
        return self.upsert(platform, channel_id, active=False, inactive_reason=reason)

    def remove(self, platform: str, channel_id: str) -> bool:
        with self._connect(f"remove {platform}:{channel_id}", write=True) as conn:
            result = conn.execute(
                delete(subscriptions).where(
                    subscriptions.c.platform == platform, subscriptions.c.channel_id == channel_id
                )
            )
        return result.rowcount > 0


def _to_model(row: Any) -> Subscription:
    data = dict(row)
    data["topics"] = list(data.get("topics") or [])
    return Subscription.model_validate(
        {k: v for k, v in data.items() if k in Subscription.model_fields}
    )
