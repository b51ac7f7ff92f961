"""Feishu's long connection for the fake open API: lark-oapi's ``ws.Client`` talks to it.

The protocol, as the SDK speaks it (``lark_oapi/ws/client.py``, ``ws/const.py``,
``ws/pb/pbbp2_pb2.py``):

- ``POST /callback/ws/endpoint`` with ``{"AppID", "AppSecret"}`` answers ``{"code": 0,
  "data": {"URL": "ws://…?device_id=…&service_id=…", "ClientConfig": {…}}}``. Wrong
  credentials get a non-zero business code, which the SDK treats as final
  (``ClientException``): no reconnect loop. ``busy`` answers code 1 (system busy), which
  the SDK retries.
- Every websocket message is a serialized pbbp2 ``Frame``. ``method`` 0 is a control
  frame (header ``type`` = ``ping``/``pong``; a pong may carry a new ``ClientConfig``),
  ``method`` 1 a data frame with headers ``type`` (``event``/``card``), ``message_id``,
  ``sum``/``seq`` (a payload split over several frames) and ``trace_id``.
- The client answers each data frame by sending the frame back with a JSON ``Response``
  payload (``code`` 200, callbacks' answers base64 in ``data``); the fake records those
  acks and counts any other code as a failure.

Card callbacks (``card.action.trigger``) travel as ``type=event`` frames, as Feishu sends
them over the long connection; a ``type=card`` frame (old-style card callbacks, which the
long connection does not carry) is something the SDK drops unanswered.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

if TYPE_CHECKING:
    from tests.fakes.server import FakeServer

CONTROL, DATA = 0, 1
#: The endpoint's answer to credentials it does not know (final for the SDK).
REFUSED = 1000040351
SYSTEM_BUSY = 1
SERVICE_ID = 7


@dataclass
class Ack:
    """The client's answer to one data frame."""

    message_id: str
    code: int
    data: Any
    at: float = field(default_factory=time.time)


class FakeLongConnection:
    """The websocket side of :class:`~tests.fakes.feishu_api.FakeFeishuApi`."""

    def __init__(self, server: FakeServer, app_id: str, app_secret: str) -> None:
        self.server = server
        self.app_id = app_id
        self.app_secret = app_secret
        self.client_config: dict[str, int] = {
            "ReconnectCount": -1,
            "ReconnectInterval": 1,
            "ReconnectNonce": 0,
            "PingInterval": 120,
        }
        self.sockets: list[web.WebSocketResponse] = []
        self.connections = 0
        self.acks: list[Ack] = []
        self.failures: list[str] = []
        self.pings = 0
        self.busy = False
        """Answer the endpoint with "system busy" (the SDK retries after ReconnectInterval)."""
        self._devices: set[str] = set()
        self._sent: dict[str, bytes] = {}
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/callback/ws/endpoint", self._endpoint)
        app.router.add_get("/ws", self._socket)

    # -- the handshake ----------------------------------------------------------------
    async def _endpoint(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = {}
        self.server.record("ws.endpoint", {"AppID": body.get("AppID")})
        if body.get("AppID") != self.app_id or body.get("AppSecret") != self.app_secret:
            self.server.count("ws_refused")
            return web.json_response({"code": REFUSED, "msg": "app_id or app_secret invalid"})
        if self.busy:
            self.server.count("ws_busy")
            return web.json_response({"code": SYSTEM_BUSY, "msg": "system busy"})
        device = secrets.token_hex(8)
        with self.server._lock:
            self._devices.add(device)
        url = f"ws://{self.server.host}:{self.server.port}/ws?device_id={device}&service_id={SERVICE_ID}"
        return web.json_response(
            {"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": self.client_config}}
        )

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        device = request.query.get("device_id", "")
        with self.server._lock:
            known = device in self._devices
            self._devices.discard(device)  # a URL serves one connection
        if not known:
            return web.Response(
                status=403,
                headers={"handshake-status": "403", "handshake-msg": "unknown device_id"},
            )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        with self.server._lock:
            self.sockets.append(ws)
            self.connections += 1
        self.server.changed()
        try:
            async for message in ws:
                if message.type == WSMsgType.BINARY:
                    await self._received(ws, message.data)
                else:
                    self._fail(f"a non-binary websocket message: {message.type}")
        finally:
            with self.server._lock:
                if ws in self.sockets:
                    self.sockets.remove(ws)
            self.server.changed()
        return ws

    def _fail(self, problem: str) -> None:
        with self.server._lock:
            self.failures.append(problem)
        self.server.changed()

    async def _received(self, ws: web.WebSocketResponse, raw: bytes) -> None:
        frame = Frame()
        try:
            frame.ParseFromString(raw)
        except Exception as exc:
            self._fail(f"not a pbbp2 Frame: {exc}")
            return
        headers = {h.key: h.value for h in frame.headers}
        if frame.method == CONTROL:
            if headers.get("type") != "ping":
                self._fail(f"unexpected control frame {headers}")
                return
            with self.server._lock:
                self.pings += 1
            pong = _frame(CONTROL, {"type": "pong"}, json.dumps(self.client_config).encode())
            await ws.send_bytes(pong.SerializeToString())
            return
        message_id = headers.get("message_id", "")
        try:
            answer = json.loads(frame.payload)
            code = int(answer["code"])
        except (ValueError, KeyError, TypeError):
            self._fail(f"an unreadable answer to {message_id}: {frame.payload[:100]!r}")
            return
        data = answer.get("data")
        if data:
            data = json.loads(base64.b64decode(data))
        with self.server._lock:
            self.acks.append(Ack(message_id, code, data))
            if code != 200:
                self.failures.append(f"{message_id}: answered with code {code}")
        self.server.changed()

    # -- Feishu's side ------------------------------------------------------------------
    @property
    def connected(self) -> int:
        with self.server._lock:
            return len(self.sockets)

    def send(self, payload: dict[str, Any], *, kind: str = "event", parts: int = 1) -> str:
        """Push one event (or callback) to the connected client; returns the frame's id."""
        message_id = f"msg_{next(self._ids)}"
        body = json.dumps(payload, ensure_ascii=False).encode()
        with self.server._lock:
            self._sent[message_id] = body
        self.server.run(self._push(message_id, body, kind, parts))
        return message_id

    def redeliver(self, message_id: str) -> str:
        """Send an event again (Feishu does when it is not sure it arrived): a new frame,
        the same payload and so the same ``event_id``."""
        with self.server._lock:
            body = self._sent[message_id]
        return self.send(json.loads(body))

    async def _push(self, message_id: str, body: bytes, kind: str, parts: int) -> None:
        if not self.sockets:
            raise RuntimeError("no long connection is open")
        size = -(-len(body) // parts)
        chunks = [body[i * size : (i + 1) * size] for i in range(parts)]
        trace = secrets.token_hex(8)
        for seq, chunk in enumerate(chunks):
            headers = {
                "type": kind,
                "message_id": message_id,
                "sum": str(parts),
                "seq": str(seq),
                "trace_id": trace,
            }
            frame = _frame(DATA, headers, chunk)
            await self.sockets[-1].send_bytes(frame.SerializeToString())

    def drop(self) -> None:
        """Close every connection abruptly, as a network failure or a server restart does."""

        async def close_all() -> None:
            for ws in list(self.sockets):
                await ws.close(code=1011, message=b"server restart")

        self.server.run(close_all())

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()

    def ack_for(self, message_id: str) -> Ack | None:
        with self.server._lock:
            return next((a for a in self.acks if a.message_id == message_id), None)

    async def wait_ack(self, message_id: str, timeout: float = 10.0) -> Ack:
        ack = await self.server.wait_until(lambda: self.ack_for(message_id), timeout=timeout)
        assert ack is not None
        return ack


def _frame(method: int, headers: dict[str, str], payload: bytes) -> Frame:
    frame = Frame()
    frame.SeqID = 0
    frame.LogID = 0
    frame.service = SERVICE_ID
    frame.method = method
    for key, value in headers.items():
        header = frame.headers.add()
        header.key = key
        header.value = value
    frame.payload = payload
    return frame
