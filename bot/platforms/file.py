"""Appending digests to a JSONL file: an audit trail, and a safe target for rehearsals.

Line 0 of a delivery describes the digest, lines 1..n are its items in the parsed-JSON
contract (``bot.models``), each wrapped with channel, kind, date and index (a Monday's
digest and that week's rollup share the date, so the kind tells them apart). Because the file can be
read back, ``find_posted`` really reconciles: a crash between append and ledger record never
writes a line twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.delivery import Transport
from bot.errors import PermanentDeliveryError

if TYPE_CHECKING:
    from rich.console import Console

    from bot.channels import Channel
    from bot.config import Settings
    from bot.models import Digest


class FileTransport(Transport):
    """Writes one JSON object per message to ``channels[].path`` (relative to the config)."""

    platform = "file"
    reconciles = True

    @classmethod
    def from_settings(
        cls, settings: Settings, *, console: Console | None = None, **options: Any
    ) -> FileTransport:
        options.setdefault("base_dir", settings.base_dir())
        return cls(**options)

    def __init__(self, base_dir: Path | None = None) -> None:
        self.base_dir = base_dir or Path.cwd()

    def path_of(self, channel: Channel) -> Path:
        if not channel.path:
            raise PermanentDeliveryError(
                f"{channel}: channels[].path is required for the file platform", code="no_path"
            )
        path = Path(channel.path).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def render(self, digest: Digest, templates: Any) -> list[dict[str, Any]]:
        head = {
            "kind": "digest",
            "date": digest.date.isoformat(),
            "title": digest.title,
            "items": len(digest.items),
        }
        items = [{"kind": "item", **item.model_dump(mode="json")} for item in digest.items]
        return [head, *items]

    def describe(self, payload: dict[str, Any]) -> str:
        if payload.get("kind") == "digest":
            return f"digest header: {payload.get('title')} ({payload.get('items')} items)"
        return f"item {payload.get('rank')}: {str(payload.get('title'))[:80]}"

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: dict[str, Any],
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        line = json.dumps(
            {
                "channel": channel.id,
                "kind": channel.kind,
                "date": digest_date.isoformat(),
                "index": message_index,
                "payload": payload,
            },
            ensure_ascii=False,
        )
        await asyncio.to_thread(self._append, self.path_of(channel), line)
        return _message_id(channel.kind, digest_date, message_index)

    async def find_posted(
        self,
        channel: Channel,
        digest_date: dt.date,
        index: int,
        *,
        parent_id: str | None = None,
        since: dt.datetime | None = None,
    ) -> str | None:
        path = self.path_of(channel)
        found = await asyncio.to_thread(
            self._scan, path, channel.id, channel.kind, digest_date.isoformat(), index
        )
        return _message_id(channel.kind, digest_date, index) if found else None

    @staticmethod
    def _append(path: Path, line: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size:
                with path.open("rb") as tail:
                    tail.seek(-1, os.SEEK_END)
                    if tail.read(1) != b"\n":  # a torn line from a crash: keep ours separate
                        line = "\n" + line
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise PermanentDeliveryError(
                f"{path}: cannot append: {exc.strerror}", code="io"
            ) from exc

    @staticmethod
    def _scan(path: Path, channel_id: str, kind: str, date: str, index: int) -> bool:
        if not path.exists():
            return False
        with path.open(encoding="utf-8") as handle:
            for raw in handle:
                try:
                    entry = json.loads(raw)
                except json.JSONDecodeError:
                    continue  # a torn last line from a crash mid-write
                # Lines written before kinds were recorded are daily.
                found = (entry.get("channel"), entry.get("kind", "daily"), entry.get("date"))
                if found == (channel_id, kind, date) and entry.get("index") == index:
                    return True
        return False


def _message_id(kind: str, digest_date: dt.date, index: int) -> str:
    day = digest_date.isoformat()
    return f"{day}#{index}" if kind == "daily" else f"{day}/{kind}#{index}"
