"""The archive: digests, items and tags, plus subscriptions and the delivery ledger."""

from __future__ import annotations

from bot.archive.store import Archive

__all__ = ["Archive"]
