"""Slack Socket Mode for the fake: a websocket that sends envelopes and records the acks.

``apps.connections.open`` on :class:`~tests.fakes.slack_api.FakeSlack` hands out
``ws://127.0.0.1:PORT/socket``; slack_sdk's aiohttp ``SocketModeClient`` (what Bolt's
``AsyncSocketModeHandler`` uses) connects there, gets ``hello`` and then whatever the test
sends. Envelopes sent before a client connects wait in an outbox, so a test can send first
and start the app second. The payload builders also serve HTTP-mode tests.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.server import FakeServer

TEAM = {"id": "T0FAKE0001", "domain": "fake-team"}


def slash_command_payload(
    command: str = "/ai",
    text: str = "",
    *,
    channel_id: str = "C0FAKECHAN",
    user_id: str = "U0FAKEUSER",
    response_url: str = "https://hooks.slack.com/commands/T0FAKE0001/1/fake",
    channel_name: str = "general",
    user_name: str = "tester",
    **extra: str,
) -> dict[str, str]:
    """The form fields Slack sends for a slash command (HTTP body or Socket Mode payload)."""
    return {
        "token": "fake-verification-token",
        "team_id": TEAM["id"],
        "team_domain": TEAM["domain"],
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0FAKEAPP1",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex[:16]}",
        **extra,
    }


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    channel_id: str = "C0FAKECHAN",
    user_id: str = "U0FAKEUSER",
    response_url: str = "https://hooks.slack.com/actions/T0FAKE0001/1/fake",
    message_ts: str = "1700000000.000100",
    block_id: str = "actions",
    is_ephemeral: bool = True,
) -> dict[str, Any]:
    """An ``interactive`` ``block_actions`` payload for a button click."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "tester", "name": "tester", "team_id": TEAM["id"]},
        "api_app_id": "A0FAKEAPP1",
        "token": "fake-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex[:16]}",
        "team": TEAM,
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


class FakeSocketMode:
    """The ``/socket`` websocket of a fake Slack server."""

    def __init__(self, server: FakeServer) -> None:
        self._server = server
        self._sockets: list[web.WebSocketResponse] = []
        self._outbox: list[str] = []
        self.envelopes: list[dict[str, Any]] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.connections = 0

    @property
    def url(self) -> str:
        return f"ws://{self._server.host}:{self._server.port}/socket"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/socket", self._handle)

    def reset(self) -> None:
        self._outbox.clear()
        self.envelopes.clear()
        self.acks.clear()

    @property
    def connected(self) -> bool:
        with self._server._lock:
            return any(not ws.closed for ws in self._sockets)

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets) + 1,
                    "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A0FAKEAPP1"},
                }
            )
        )
        with self._server._lock:
            self._sockets.append(ws)
            self.connections += 1
            pending, self._outbox[:] = list(self._outbox), []
        self._server.record("socket.connect", {})
        for text in pending:
            await ws.send_str(text)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            with self._server._lock:
                if ws in self._sockets:
                    self._sockets.remove(ws)
            self._server.changed()
        return ws

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        self._server.record("socket.ack", message if isinstance(message, dict) else {})
        if envelope_id:
            with self._server._lock:
                self.acks[envelope_id] = {**message, "time": time.time()}
            self._server.changed()

    async def _deliver(self, text: str) -> None:
        with self._server._lock:
            live = [ws for ws in self._sockets if not ws.closed]
            if not live:
                self._outbox.append(text)
                return
        await live[-1].send_str(text)

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    # -- what tests call --------------------------------------------------------------
    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        envelope_id: str | None = None,
    ) -> str:
        """Send (or queue until a client connects) one envelope; returns its id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._server._lock:
            self.envelopes.append(envelope)
        self._server.submit(self._deliver(json.dumps(envelope)))
        return envelope_id

    def send_slash_command(
        self,
        command: str = "/ai",
        text: str = "",
        *,
        channel_id: str = "C0FAKECHAN",
        user_id: str = "U0FAKEUSER",
        response_url: str | None = None,
        **extra: str,
    ) -> str:
        """Send a ``slash_commands`` envelope. Without ``response_url`` the fake makes one."""
        payload = slash_command_payload(
            command,
            text,
            channel_id=channel_id,
            user_id=user_id,
            response_url=response_url or self._response_url(),
            **extra,
        )
        return self.send_envelope("slash_commands", payload)

    def send_block_action(
        self,
        action_id: str,
        value: str,
        *,
        channel_id: str = "C0FAKECHAN",
        user_id: str = "U0FAKEUSER",
        response_url: str | None = None,
        **extra: Any,
    ) -> str:
        """Send an ``interactive`` envelope with a ``block_actions`` button click."""
        payload = block_actions_payload(
            action_id,
            value,
            channel_id=channel_id,
            user_id=user_id,
            response_url=response_url or self._response_url(),
            **extra,
        )
        return self.send_envelope("interactive", payload, accepts_response_payload=False)

    def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        self._server.submit(self._deliver(json.dumps(message)))

    def _response_url(self) -> str:
        new = getattr(self._server, "new_response_url", None)
        return new() if new else "https://hooks.slack.com/commands/T0FAKE0001/1/fake"

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await self._server.wait_until(lambda: self.connections > 0 and self._live(), timeout)

    def wait_connected_sync(self, timeout: float = 5.0) -> None:
        self._server.wait_until_sync(lambda: self.connections > 0 and self._live(), timeout)

    def _live(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """Await the client's ack of ``envelope_id`` (``{"envelope_id", "payload"?, "time"}``)."""
        return await self._server.wait_until(lambda: self.acks.get(envelope_id), timeout)

    def wait_ack_sync(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """Blocking :meth:`wait_ack`, for tests whose client runs in another thread/process."""
        return self._server.wait_until_sync(lambda: self.acks.get(envelope_id), timeout)
