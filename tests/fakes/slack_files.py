"""The fake Slack's file uploads: the three steps ``files_upload_v2`` takes.

``files.getUploadURLExternal`` (filename, length) hands out an upload URL and a file id;
the client POSTs the raw bytes there, which must be a real PNG of exactly ``length``
bytes; ``files.completeUploadExternal`` (the file ids, ``channel_id``) shares the uploaded
files in the channel, where they appear as a message with ``files``, as on Slack.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from aiohttp import web

from tests.fakes.png import check_png
from tests.fakes.slack_channels import SlackChannels
from tests.fakes.slack_protocol import SlackFail

MAX_UPLOAD = 1024 * 1024 * 1024


class SlackFiles(SlackChannels):
    """Upload URLs, uploaded bytes and shared files (``files`` lists what was shared)."""

    def __init__(self) -> None:
        super().__init__()
        self._file_ids = itertools.count(1)
        self._pending: dict[str, dict[str, Any]] = {}
        self.files: list[dict[str, Any]] = []

    def _reset_state(self) -> None:
        super()._reset_state()
        self._pending.clear()
        self.files.clear()

    def file_routes(self, app: web.Application) -> None:
        app.router.add_post("/upload/{file_id}", self._handle_upload)

    async def _get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            raise SlackFail("invalid_arguments") from None
        if not filename or not 0 < length <= MAX_UPLOAD:
            raise SlackFail("invalid_arguments")
        file_id = f"F{next(self._file_ids):09d}"
        with self._lock:
            self._pending[file_id] = {"id": file_id, "name": filename, "length": length}
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.record("upload", {"file_id": file_id, "bytes": len(data)})
        with self._lock:
            pending = self._pending.get(file_id)
        if pending is None:
            return web.Response(status=404, text="unknown upload")
        if len(data) != pending["length"]:
            return web.Response(status=400, text=f"expected {pending['length']} bytes")
        if pending["name"].lower().endswith(".png"):
            try:
                pending["size"] = check_png(data)
            except ValueError as exc:
                self.count("error:invalid_png")
                return web.Response(status=400, text=str(exc))
        with self._lock:
            pending["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            wanted = json.loads(params.get("files") or "[]")
        except ValueError:
            raise SlackFail("invalid_arguments") from None
        channel = params.get("channel_id")
        if channel:
            self._check_channel(channel, "files.completeUploadExternal")
        shared = []
        with self._lock:
            for entry in wanted:
                pending = self._pending.get(str(entry.get("id")))
                if pending is None or "data" not in pending:
                    raise SlackFail("file_not_found")
                shared.append({**pending, "title": entry.get("title") or pending["name"]})
            for entry in shared:
                del self._pending[entry["id"]]
                self.files.append({**entry, "channel": channel})
            if channel:
                self._channel(str(channel)).messages.append(
                    {
                        "type": "message",
                        "subtype": "file_share",
                        "channel": channel,
                        "ts": self._next_ts(),
                        "text": params.get("initial_comment") or "",
                        "files": [_public(entry) for entry in shared],
                        "thread_ts": params.get("thread_ts") or None,
                    }
                )
            self.changed()
        return {"files": [_public(entry) for entry in shared]}

    def _check_channel(self, channel: Any, method: str) -> None:
        raise NotImplementedError


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "name": entry["name"],
        "title": entry["title"],
        "mimetype": "image/png" if entry["name"].lower().endswith(".png") else "",
        "size": entry["length"],
    }
