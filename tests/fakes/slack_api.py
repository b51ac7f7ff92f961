"""A local Slack Web API for tests: real HTTP, Slack's wire format, Slack's refusals.

``WebClient(base_url=fake.api_url)`` / ``AsyncWebClient`` / Bolt talk to it unchanged. It
records every call, keeps the posted messages per channel (``conversations.history`` and
``conversations.replies`` read them back as Slack would: thread replies only in replies),
validates payloads with :mod:`tests.fakes.slack_validation`, and injects failures: 429 with
``Retry-After``, 5xx, dropped connections, permanent channel errors and the real
~1 msg/s/channel limit of ``chat.postMessage``.

The fake is built in layers: channels, their history and paging
(:mod:`tests.fakes.slack_channels`), and here the HTTP front, auth, rate limits, the
posting methods and ``response_url``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from aiohttp import web

from tests.fakes.server import Fault, TokenBucket, read_params, retry_after_seconds
from tests.fakes.slack_channels import Channel
from tests.fakes.slack_files import SlackFiles
from tests.fakes.slack_protocol import SlackFail
from tests.fakes.slack_protocol import flag as _flag
from tests.fakes.slack_protocol import request_token as _token
from tests.fakes.slack_socket import FakeSocketMode
from tests.fakes.slack_validation import SlackPayloadError, check_slack_message, find_live_mentions
from tests.fakes.slack_validation import decode_json_param as _json

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "CHANNEL_METHODS",
    "POSTING_METHODS",
    "TEAM_ID",
    "Channel",
    "FakeSlack",
    "Mention",
    "SlackFail",
    "sign_request",
]

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yaml"
TEAM_ID = "T0FAKE0001"
BOT_USER_ID = "U0FAKEBOT1"
BOT_ID = "B0FAKEBOT1"
APP_ID = "A0FAKEAPP1"
CHANNEL_METHODS = {
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "conversations.history",
    "conversations.replies",
    "conversations.info",
    "conversations.join",
}
#: Methods that need the bot to be a member (posting to a public channel does not: the
#: bot has ``chat:write.public``, as the manifest asks).
MEMBER_METHODS = {
    "conversations.history",
    "conversations.replies",
    "files.completeUploadExternal",
}
POSTING_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral"}


def manifest_scopes() -> list[str]:
    """The bot scopes slack-app-manifest.yaml requests."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return list(manifest["oauth_config"]["scopes"]["bot"])


class Mention(NamedTuple):
    """A live mention found in something the bot posted."""

    where: str
    mention: str


def sign_request(
    body: str | bytes, signing_secret: str, timestamp: int | None = None
) -> dict[str, str]:
    """Headers that make an HTTP-mode request pass Bolt's signature check."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    # Slack signs the bytes it sends (slack_sdk's helper would decode them first).
    digest = hmac.new(signing_secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


class FakeSlack(SlackFiles):
    """The fake Slack Web API. ``api_url`` goes into ``WebClient(base_url=...)``."""

    def __init__(
        self,
        *,
        token: str | None = None,
        app_token: str | None = None,
        channels: Mapping[str, str] | list[str] | None = None,
    ) -> None:
        """``token``/``app_token``: the only valid ones (default: any ``xoxb-``/``xapp-``).

        ``channels``: ids (or id→name) of the channels that exist; by default any exists.
        """
        super().__init__()
        self.token = token
        self.app_token = app_token
        #: Reported in ``x-oauth-scopes`` on every bot-token answer, as Slack does: by
        #: default what slack-app-manifest.yaml asks for (what installing it grants).
        self.scopes: list[str] = manifest_scopes()
        self._failing: dict[str, str] = {}
        self._limit: tuple[float, float] | None = None
        self._buckets: dict[str, TokenBucket] = {}
        self._ids = itertools.count(1)
        self.ephemerals: list[dict[str, Any]] = []
        self._responses: list[dict[str, Any]] = []
        self._mentions: list[Mention] = []
        self.socket = FakeSocketMode(self)
        names = (
            channels.items()
            if isinstance(channels, Mapping)
            else ((c, c.lower()) for c in channels or [])
        )
        for cid, name in names:
            self.add_channel(cid, name)
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.info": self._info,
            "conversations.join": self._join,
            "users.info": self._users_info,
            "apps.connections.open": self._connections_open,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    # -- configuration -------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def fail_channel(self, channel: str, error: str = "channel_not_found") -> None:
        """Every later call naming ``channel`` fails with ``error`` (HTTP 200, ``ok:false``)."""
        with self._lock:
            self._failing[channel] = error

    def enforce_rate_limit(self, per_channel_per_sec: float = 1.0, burst: float = 1.0) -> None:
        """``chat.postMessage`` beyond this rate per channel gets 429 + ``Retry-After``."""
        with self._lock:
            self._limit = (per_channel_per_sec, burst)
            self._buckets.clear()

    def disable_rate_limit(self) -> None:
        with self._lock:
            self._limit = None

    def new_response_url(self) -> str:
        """A fresh ``response_url`` served by this fake."""
        return f"{self.base_url}/response/R{next(self._ids):08d}"

    async def _before_stop(self) -> None:
        await self.socket.close_all()

    def _reset_state(self) -> None:
        super()._reset_state()
        self._failing.clear()
        self._buckets.clear()
        self.ephemerals.clear()
        self._responses.clear()
        self._mentions.clear()
        self.socket.reset()

    # -- inspection ----------------------------------------------------------------
    def responses(self, response_url: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies posted to response URLs (all, or those posted to ``response_url``)."""
        with self._lock:
            rid = response_url.rstrip("/").rsplit("/", 1)[-1] if response_url else None
            return [dict(r) for r in self._responses if rid is None or r["response_id"] == rid]

    def live_mentions(self) -> list[Mention]:
        """Live mentions in anything the bot posted; a test asserts this is empty."""
        with self._lock:
            return list(self._mentions)

    async def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        return await self.wait_until(
            lambda: self.responses() if len(self._responses) >= count else [], timeout
        )

    def wait_for_responses_sync(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        return self.wait_until_sync(
            lambda: self.responses() if len(self._responses) >= count else [], timeout
        )

    # -- HTTP ----------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        self.file_routes(app)
        self.socket.routes(app)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await read_params(request)
        token = _token(request, params)
        self.record(method, params)
        fault = self.take_fault(method)
        if fault is not None and not fault.lose_response:
            return self._fault_response(request, fault)
        try:
            self._check_token(method, token)
            handler = self._methods.get(method)
            if handler is None:
                raise SlackFail("unknown_method")
            channel = params.get("channel")
            if method in CHANNEL_METHODS:
                self._check_channel(channel, method)
            if method == "chat.postMessage":
                limited = self._rate_limited(str(channel))
                if limited is not None:
                    return limited
            body = await handler(params)
            if fault is not None:  # done, but the answer never reaches the client
                return self.drop(request)
        except SlackFail as fail:
            self.count(f"error:{fail.error}")
            return web.json_response({"ok": False, "error": fail.error, **fail.extra})
        except SlackPayloadError as exc:
            self.count(f"error:{exc.error}")
            extra = {"errors": exc.errors} if exc.errors else {}
            return web.json_response({"ok": False, "error": exc.error, **extra})
        self.count("ok")
        headers = (
            {} if method == "apps.connections.open" else {"x-oauth-scopes": ",".join(self.scopes)}
        )
        return web.json_response({"ok": True, **body}, headers=headers)

    def _fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.drop:
            return self.drop(request)
        headers = {}
        if fault.status == 429:
            headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 1)
        error = fault.error or ("ratelimited" if fault.status == 429 else "internal_error")
        body = {"ok": False, "error": error}
        return web.json_response(body, status=fault.status, headers=headers)

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise SlackFail("not_authed")
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                raise SlackFail("not_allowed_token_type")
            if self.app_token is not None and token != self.app_token:
                raise SlackFail("invalid_auth")
            return
        if token.startswith("xapp-"):
            raise SlackFail("not_allowed_token_type")
        valid = token == self.token if self.token is not None else token.startswith("xoxb-")
        if not valid:
            raise SlackFail("invalid_auth")

    def _check_channel(self, channel: Any, method: str) -> None:
        if not channel:
            raise SlackFail("channel_not_found")
        with self._lock:
            if channel in self._failing:
                raise SlackFail(self._failing[channel])
            if self._known:
                known = self._known.get(str(channel))
                if known is None:
                    raise SlackFail("channel_not_found")
                if (method in POSTING_METHODS or method == "conversations.join") and known.archived:
                    raise SlackFail("is_archived")
                if method in POSTING_METHODS and not known.member and known.private:
                    raise SlackFail("not_in_channel")
                if method in MEMBER_METHODS and not known.member:
                    raise SlackFail("not_in_channel")

    def _rate_limited(self, channel: str) -> web.Response | None:
        with self._lock:
            if self._limit is None:
                return None
            rate, burst = self._limit
            bucket = self._buckets.setdefault(channel, TokenBucket(rate, burst))
            wait = bucket.wait_time()
            if wait <= 0:
                bucket.take()
                return None
            self.stats["429"] += 1
            self.stats["rate_limited"] += 1
        return web.json_response(
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(retry_after_seconds(wait))},
        )

    # -- state helpers -------------------------------------------------------------
    def _note_mentions(self, where: str, payload: Mapping[str, Any]) -> None:
        for mention in find_live_mentions(payload):
            self._mentions.append(Mention(where, mention))

    # -- methods -------------------------------------------------------------------
    async def _api_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"args": params}

    async def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "digestbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    async def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        check_slack_message(params)
        channel = str(params["channel"])
        thread_ts = params.get("thread_ts") or None
        with self._lock:
            if thread_ts is not None and self._find(channel, thread_ts) is None:
                raise SlackFail("thread_not_found")
            message = {
                "type": "message",
                "channel": channel,
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "team": TEAM_ID,
                "ts": self._next_ts(),
                "text": params.get("text") or "",
                "blocks": _json(params["blocks"]) if params.get("blocks") else [],
                "metadata": _json(params["metadata"]) if params.get("metadata") else None,
                "thread_ts": thread_ts,
                "reply_broadcast": _flag(params.get("reply_broadcast")) or None,
            }
            self._channel(channel).messages.append(message)
            if thread_ts is not None:
                parent = self._find(channel, thread_ts)
                assert parent is not None
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = message["ts"]
            self._note_mentions(f"chat.postMessage {channel}", params)
            self.changed()
        return {"channel": channel, "ts": message["ts"], "message": self._public(message)}

    async def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params["channel"]), str(params.get("ts") or "")
        with self._lock:
            message = self._find(channel, ts)
            if message is None:
                raise SlackFail("message_not_found")
        check_slack_message({**params, "text": params.get("text") or message["text"]})
        with self._lock:
            if params.get("text") is not None:
                message["text"] = params["text"]
            if params.get("blocks") is not None:
                message["blocks"] = _json(params["blocks"]) if params["blocks"] else []
            if params.get("metadata"):
                message["metadata"] = _json(params["metadata"])
            message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
            self._note_mentions(f"chat.update {channel}", params)
            self.changed()
        return {
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": self._public(message),
        }

    async def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user"):
            raise SlackFail("user_not_in_channel")
        check_slack_message(params)
        ts = self._next_ts()
        entry = {
            "channel": str(params["channel"]),
            "user": params["user"],
            "ts": ts,
            "text": params.get("text") or "",
            "blocks": _json(params["blocks"]) if params.get("blocks") else [],
            "thread_ts": params.get("thread_ts"),
        }
        with self._lock:
            self.ephemerals.append(entry)
            self._note_mentions(f"chat.postEphemeral {entry['channel']}", params)
            self.changed()
        return {"message_ts": ts}

    async def _join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        with self._lock:
            known = self._known.get(channel)
            if known is not None and known.private:
                raise SlackFail("method_not_supported_for_channel_type")
            if known is not None:
                known.member = True
        info = await self._info(params)
        return {"channel": info["channel"]}

    async def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.socket.url}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        try:
            payload = await request.json()
        except ValueError:
            self.record("response_url", {"response_id": rid, "invalid": True})
            return web.Response(status=400, text="invalid_payload")
        self.record("response_url", {"response_id": rid, **payload})
        if not payload.get("delete_original"):
            try:
                check_slack_message(payload)
            except SlackPayloadError as exc:
                self.count(f"error:{exc.error}")
                return web.Response(status=400, text=exc.error)
        with self._lock:
            self._responses.append({"response_id": rid, "url": str(request.url), **payload})
            self._note_mentions(f"response_url {rid}", payload)
            self.changed()
        return web.Response(text="ok")
