"""Chat state that every replica must share: requests already handled, and button keys.

A signed Slack request replayed within its five-minute window, a Slack retry copy, or a
Telegram update delivered twice must change nothing; with two replicas behind one
PostgreSQL archive the second copy may reach the other replica, so the memory of what was
handled lives in the archive, not in the process. A primary-key insert decides who saw a
request first, the same way the delivery ledger's unique claim does.

Telegram buttons carry at most 64 bytes, too few for a long query's "more" page: the
query is stored here under a short key derived from its text (the same query always gets
the same key, so storing it again is a no-op).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.archive.schema import button_queries, seen_requests
from bot.errors import ArchiveError

#: How often (seconds) expired request marks are swept; between sweeps, inserts only.
SWEEP_EVERY = 60.0
#: Length of a button key (hex digits of the query's SHA-256): 48 bits, ample for a cache.
BUTTON_KEY_LENGTH = 12


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SeenRequests:
    """Remembers request ids until they expire; ``first_time`` is atomic across replicas."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._swept_at = 0.0

    def first_time(self, key: str, ttl: dt.timedelta) -> bool:
        """True the first time ``key`` is seen within ``ttl``; False for every later copy."""
        try:
            return self._first_time(key, ttl)
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ArchiveError(f"archive: cannot record request {key!r}: {detail}") from exc

    def _first_time(self, key: str, ttl: dt.timedelta) -> bool:
        now = _now()
        self._sweep(now)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(seen_requests).values(key=key, expires_at=now + ttl))
        except IntegrityError:
            return self._expired_mark_replaced(key, now, ttl)
        return True

    def _expired_mark_replaced(self, key: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """A mark past its expiry that the sweep has not removed yet: take it over."""
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(seen_requests).where(
                    seen_requests.c.key == key, seen_requests.c.expires_at < now
                )
            ).rowcount
            if not gone:
                return False
            try:
                with conn.begin_nested():
                    conn.execute(insert(seen_requests).values(key=key, expires_at=now + ttl))
            except IntegrityError:
                return False
        return True

    def _sweep(self, now: dt.datetime) -> None:
        if time.monotonic() - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = time.monotonic()
        with self.engine.begin() as conn:
            conn.execute(delete(seen_requests).where(seen_requests.c.expires_at < now))


class ButtonQueries:
    """Queries stored under short keys, for platforms whose buttons carry few bytes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def key_of(query: str) -> str:
        return hashlib.sha256(query.encode("utf-8")).hexdigest()[:BUTTON_KEY_LENGTH]

    def put(self, query: str) -> str:
        """Store ``query`` (idempotent) and return its key."""
        key = self.key_of(query)
        if self.get(key) == query:
            return key
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(button_queries).values(key=key, query=query, created_at=_now()))
        except IntegrityError:
            pass  # stored meanwhile by another worker or replica
        return key

    def get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(button_queries.c.query).where(button_queries.c.key == key)
            ).scalar()
