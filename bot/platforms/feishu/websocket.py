"""The SDK's long connection (``lark.ws.Client``) run in a thread we can stop and watch.

lark-oapi's client blocks in ``start()`` on an event loop it keeps in a module global and
offers no way to stop: it reconnects forever and its thread would outlive the bot. So
the client gets a loop of its own in a thread of ours; ``stop`` turns its reconnecting
off, closes the connection on that loop (the client's own ``_disconnect``), stops the
loop and cancels what is left, so nothing lingers. ``connected`` is whether a websocket
is open right now (what ``/healthz`` shows); a refusal the SDK treats as final (wrong
app id or secret) is kept in ``failure`` and raised by ``wait_connected``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from bot.errors import PlatformUnavailable

if TYPE_CHECKING:
    import lark_oapi as lark

log = logging.getLogger(__name__)

#: How long ``stop`` waits for the client's thread to end.
STOP_TIMEOUT = 10.0


class FeishuWebsocket:
    """One ``lark.ws.Client`` in a daemon thread, with a real ``stop``."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        handler: lark.EventDispatcherHandler,
        *,
        domain: str,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self.handler = handler
        self.domain = domain.rstrip("/")
        self.failure: str | None = None
        self.reconnects = 0
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._ready = threading.Event()

    @property
    def connected(self) -> bool:
        client, thread = self._client, self._thread
        return (
            not self._stopping
            and thread is not None
            and thread.is_alive()
            and client is not None
            and client._conn is not None
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)
        self._thread.start()
        self._ready.wait(STOP_TIMEOUT)

    async def wait_connected(self, timeout: float) -> bool:
        """True once connected; False if still trying after ``timeout`` (the SDK goes on
        retrying); ``PlatformUnavailable`` if the connection was refused for good."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected:
                return True
            if self.failure is not None:
                raise PlatformUnavailable(self.failure, code="ws_refused")
            if self._thread is not None and not self._thread.is_alive():
                break
            await asyncio.sleep(0.02)
        if self.failure is not None:
            raise PlatformUnavailable(self.failure, code="ws_refused")
        return self.connected

    def _run(self) -> None:
        import lark_oapi as lark
        import lark_oapi.ws.client as ws_client
        from lark_oapi.ws.exception import ClientException

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        original = ws_client.loop
        ws_client.loop = loop  # the SDK's methods use the module's loop
        self._loop = loop
        client = lark.ws.Client(
            self.app_id,
            self._secret,
            event_handler=self.handler,
            domain=self.domain,
            log_level=lark.LogLevel.WARNING,
        )
        client.on_reconnecting = self._reconnecting
        client.on_reconnected = self._reconnected
        self._client = client
        self._ready.set()
        try:
            client.start()
        except ClientException as exc:
            self.failure = (
                f"feishu: the long connection was refused ({exc}); "
                "check feishu.app_id and feishu.app_secret"
            )
            log.error("%s", self.failure)
        except Exception as exc:
            if not self._stopping:
                self.failure = f"feishu: the long connection stopped: {type(exc).__name__}"
                log.exception("feishu: the long connection stopped")
        finally:
            _finish(loop)
            ws_client.loop = original

    def _reconnecting(self) -> None:
        if not self._stopping:
            log.warning("feishu: the long connection was lost; reconnecting")

    def _reconnected(self) -> None:
        self.reconnects += 1
        log.info("feishu: the long connection is back")

    def stop(self) -> None:
        """End the connection and the thread (idempotent)."""
        if self._stopping:
            return
        self._stopping = True
        client, loop, thread = self._client, self._loop, self._thread
        if client is None or loop is None or thread is None or not thread.is_alive():
            return
        if loop.is_running():
            closing = asyncio.run_coroutine_threadsafe(_shutdown(client), loop)
            with contextlib.suppress(Exception):
                closing.result(STOP_TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            log.warning("feishu: the long connection's thread did not end")


async def _shutdown(client: Any) -> None:
    """On the client's loop: no more reconnecting, its loops cancelled, the socket closed.

    The task ``start()`` blocks on is left alone: stopping the loop ends it."""
    client._auto_reconnect = False
    current = asyncio.current_task()
    tasks = [
        t
        for t in asyncio.all_tasks()
        if t is not current and getattr(t.get_coro(), "__name__", "") != "_select"
    ]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=2.0)
    await client._disconnect()


def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the client's remaining tasks (receive and ping loops) and close its loop."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    with contextlib.suppress(Exception):
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.close()


__all__ = ["FeishuWebsocket"]
