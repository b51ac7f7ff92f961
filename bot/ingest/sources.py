"""Waiting for the day's digest: poll the ``sources`` globs until it appears, or give up loudly.

Why: the digest file is written by another process and may land after 09:00. At its time a
channel with nothing new waits, re-ingesting ``sources`` every ``poll_interval``, for up to
``wait_for_digest``, then logs a warning that names the channel and the globs. Many channels
waiting at once share one ingest per poll (a lock and a minimum gap), so ten channels at
09:00 do not parse the same files ten times.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.ingest.files import DateConflict, ingest_paths
from bot.ingest.formats import Formats

log = logging.getLogger(__name__)

T = TypeVar("T")


class SourceWatcher:
    """Ingests ``patterns`` on demand (at most once per ``min_gap``) and waits for a condition."""

    def __init__(
        self,
        archive: Any,
        patterns: list[str],
        *,
        base: Path | None = None,
        poll_interval: dt.timedelta = dt.timedelta(minutes=5),
        wait_for_digest: dt.timedelta = dt.timedelta(hours=3),
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        formats: Formats | None = None,
        settle: dt.timedelta | None = None,
        not_after: Callable[[], dt.date] | None = None,
        date_conflict: DateConflict = "refuse",
    ) -> None:
        self.archive = archive
        self.patterns = list(patterns)
        self.base = base
        self.formats = formats
        self.poll_interval = poll_interval
        self.wait_for_digest = wait_for_digest
        self.sleep = sleep
        self.settle = settle
        self.not_after = not_after
        self.date_conflict = date_conflict
        self._lock = asyncio.Lock()
        self._last_ingest: float | None = None
        self._unsettled = False
        self.ingests = 0

    async def refresh(self, *, force: bool = False) -> bool:
        """Ingest the sources unless another waiter just did (new files become digests).

        True when a day was created or changed. A file still being written (modified
        less than ``settle`` ago) is left for a poll soon after it settles."""
        if not self.patterns:
            return False
        async with self._lock:
            gap = self.poll_interval.total_seconds() / 2
            if self._unsettled and self.settle is not None:
                gap = min(gap, self.settle.total_seconds())
            now = time.monotonic()
            if not force and self._last_ingest is not None and now - self._last_ingest < gap:
                return False
            changed = await asyncio.to_thread(self._ingest)
            self._last_ingest = time.monotonic()
            return changed

    def _ingest(self) -> bool:
        summary = ingest_paths(
            self.archive,
            self.patterns,
            base=self.base,
            formats=self.formats,
            settle=self.settle,
            not_after=self.not_after() if self.not_after else None,
            date_conflict=self.date_conflict,
        )
        self.ingests += 1
        self._unsettled = bool(summary.unsettled)
        for path in summary.unsettled:
            log.info("sources: %s is still being written; ingesting it once it settles", path)
        if summary.created or summary.updated:
            log.info("sources: %s", summary.line())
        for problem in summary.errors:
            # A glob that matches nothing yet is the normal state while waiting.
            if problem.line == 0:
                log.debug("sources: %s", problem)
            else:
                log.warning("sources: %s", problem)
        return bool(summary.created or summary.updated)

    async def wait_for(
        self,
        ready: Callable[[], T | None],
        *,
        what: str,
        timeout: dt.timedelta | None = None,
    ) -> T | None:
        """Poll until ``ready()`` returns a value; None (with a warning) after the timeout."""
        limit = (timeout if timeout is not None else self.wait_for_digest).total_seconds()
        started = time.monotonic()
        while True:
            await self.refresh()
            value = await asyncio.to_thread(ready)
            if value is not None:
                return value
            waited = time.monotonic() - started
            if waited >= limit:
                log.warning(
                    "%s: no new digest after waiting %s; sources %s had nothing new. "
                    "Check that today's digest file was written, or raise wait_for_digest.",
                    what,
                    dt.timedelta(seconds=round(waited)),
                    self.patterns or "(none configured)",
                )
                return None
            interval = self.poll_interval.total_seconds()
            if self._unsettled and self.settle is not None:
                interval = min(interval, self.settle.total_seconds() + 1.0)
            await self.sleep(min(interval, max(0.0, limit - waited)))
