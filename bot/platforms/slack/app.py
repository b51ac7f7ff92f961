"""The Slack adapter: Bolt (async) in front of the command core, over Socket Mode or HTTP.

Thin on purpose: a slash command or a button press becomes a ``CommandRequest``, the
core's ``ReplyEnvelope`` becomes ``formatters.slack`` payloads posted to the request's
response_url. Every command is acknowledged first (Slack allows 3 seconds) and answered
afterwards: ephemeral for queries, in the channel for subscription changes. The
synchronous core (and the rendering) runs on the core's worker threads, so a slow query
never delays the next acknowledgement.
"""

from __future__ import annotations

import logging
import re
import socket
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.chat import CommandCore, CommandRequest, NoticeReply, Reply, actions, is_mutating
from bot.errors import ConfigError
from bot.platforms.slack.http import MAX_BODY_BYTES, REPLAY_WINDOW, events_endpoint
from bot.platforms.slack.listener import missing_key
from bot.platforms.slack.permissions import SlackPermissions
from formatters import ChartImage
from formatters import slack as slack_format

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.config import Settings
    from formatters import SlackMessage, Templates

Answer = list["SlackMessage | ChartImage"]

log = logging.getLogger(__name__)

COMMAND = "/ai"
EVENTS_PATH = "/slack/events"
_ACTION_IDS = re.compile(rf"^({re.escape(actions.MORE)}|{re.escape(actions.DETAILS)})")


def make_web_client(settings: Settings) -> AsyncWebClient:
    """The bot's Web API client, pointed at ``slack.api_url``, retrying 429s/5xx/resets."""
    token = settings.slack.bot_token
    if token is None:
        raise ConfigError("slack.bot_token: required to run the Slack listener (SLACK_BOT_TOKEN)")
    client = AsyncWebClient(
        token=token.get_secret_value(), base_url=settings.slack.api_url, proxy=settings.slack.proxy
    )
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ]
    )
    return client


class Responder:
    """Posts replies to response_urls through one shared HTTP session, with retries.

    Bolt's ``respond`` opens a new session (and connection) per reply; under a burst of
    commands one pooled session is markedly cheaper.
    """

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self._session: aiohttp.ClientSession | None = None

    def _client(self, url: str) -> AsyncWebhookClient:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return AsyncWebhookClient(
            url,
            session=self._session,
            retry_handlers=[
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                AsyncServerErrorRetryHandler(max_retry_count=2),
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
            ],
        )

    def render(self, reply: Reply) -> Answer:
        return slack_format.render_reply(reply, self.templates)

    async def upload(
        self, web: AsyncWebClient, channel_id: str, charts: list[ChartImage]
    ) -> list[SlackMessage]:
        """Post each chart in the command's channel (``files_upload_v2``); a failure becomes
        a notice for the asker, who still gets the text answer."""
        problems: list[SlackMessage] = []
        for chart in charts:
            try:
                await web.files_upload_v2(
                    channel=channel_id,
                    file=chart.png,
                    filename=chart.filename,
                    title=chart.title,
                    alt_txt=chart.alt_text[:1000] or None,
                )
            except (SlackApiError, SlackClientError, aiohttp.ClientError) as exc:
                code = getattr(getattr(exc, "response", None), "data", {}) or {}
                reason = code.get("error") if isinstance(code, dict) else None
                log.warning("slack: uploading a chart to %s failed: %s", channel_id, exc)
                problems += [
                    m
                    for m in self.render(
                        NoticeReply(
                            message=f"I could not post the chart in this channel "
                            f"({reason or type(exc).__name__}); invite me to the channel "
                            "and ask again."
                        )
                    )
                    if not isinstance(m, ChartImage)
                ]
        return problems

    async def send(
        self,
        response_url: str | None,
        public: bool,
        messages: Answer,
        *,
        web: AsyncWebClient | None = None,
        channel_id: str = "",
    ) -> None:
        """Ephemeral for the asker, or ``in_channel`` for announcements (up to 5 posts);
        charts are uploaded to ``channel_id`` first, through the bot's ``web`` client."""
        charts = [m for m in messages if isinstance(m, ChartImage)]
        texts = [m for m in messages if not isinstance(m, ChartImage)]
        if charts and web is not None:
            texts += await self.upload(web, channel_id, charts)
        if not response_url:
            log.warning("slack: a command arrived without a response_url; cannot answer it")
            return
        client = self._client(response_url)
        for message in texts:
            response = await client.send(
                text=message.text,
                blocks=message.blocks,
                response_type="in_channel" if public else "ephemeral",
                replace_original=False,
                unfurl_links=message.unfurl_links,
                unfurl_media=message.unfurl_media,
            )
            if response.status_code >= 300:
                log.warning(
                    "slack: response_url answered %s: %s", response.status_code, response.body
                )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def build_app(settings: Settings, core: CommandCore, responder: Responder) -> AsyncApp:
    """A Bolt app answering ``/ai`` and the "more"/"details" buttons through ``core``."""
    http_mode = settings.slack.mode == "http"
    secret = settings.slack.signing_secret
    if http_mode and (problem := missing_key(settings)):
        raise ConfigError(problem)
    app = AsyncApp(
        client=make_web_client(settings),
        signing_secret=secret.get_secret_value() if secret else "",
        # Socket Mode frames are authenticated by the app token, not signed.
        request_verification_enabled=http_mode,
        process_before_response=False,
        logger=logging.getLogger("slack_bolt"),
    )
    permissions = SlackPermissions(app.client, settings.slack.admins)

    @app.command(COMMAND)
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        user_id = command.get("user_id", "")
        channel_id = command.get("channel_id", "")
        text = command.get("text") or ""
        request = CommandRequest(
            platform="slack",
            channel_id=channel_id,
            user_id=user_id,
            is_admin=await permissions.may_change(user_id, channel_id)
            if is_mutating(text)
            else None,
            text=text,
            anyone_may_start=True,
        )
        public, messages = await core.in_worker(_answer, core, responder, request, None)
        await responder.send(
            command.get("response_url"),
            public,
            messages,
            web=app.client,
            channel_id=request.channel_id,
        )

    @app.action(_ACTION_IDS)
    async def on_button(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        pressed = (body.get("actions") or [{}])[0]
        user_id = (body.get("user") or {}).get("id", "")
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id", ""
        )
        request = CommandRequest(
            platform="slack", channel_id=channel_id, user_id=user_id, is_admin=None, text=""
        )
        value = str(pressed.get("value", ""))
        public, messages = await core.in_worker(_answer, core, responder, request, value)
        await responder.send(body.get("response_url"), public, messages)

    return app


def _answer(
    core: CommandCore, responder: Responder, request: CommandRequest, action: str | None
) -> tuple[bool, Answer]:
    """Worker-thread work: answer the command (or button) and render the reply."""
    envelope = core.handle(request) if action is None else core.handle_action(request, action)
    return envelope.public, core.render_safely(envelope, responder.render)


class SlackListener:
    """A running Slack app: a Socket Mode connection or an HTTP server for /slack/events."""

    name = "slack"

    def __init__(
        self,
        app: AsyncApp,
        responder: Responder,
        *,
        handler: AsyncSocketModeHandler | None = None,
        runner: web.AppRunner | None = None,
        port: int | None = None,
    ) -> None:
        self.app = app
        self.responder = responder
        self.handler = handler
        self.runner = runner
        self.port = port
        self._stopped = False

    @property
    def mode(self) -> str:
        return "socket" if self.handler is not None else "http"

    @property
    def connected(self) -> bool:
        """Socket: the websocket session is open; HTTP: the server is accepting requests."""
        if self._stopped:
            return False
        if self.handler is not None:
            client = self.handler.client
            session = client.current_session
            return not client.closed and session is not None and not session.closed
        return self.runner is not None and bool(self.runner.sites)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.handler is not None:
            await self.handler.close_async()
        if self.runner is not None:
            await self.runner.cleanup()
        await self.responder.close()
        await _close_client_session(self.app.client)


async def _close_client_session(client: AsyncWebClient) -> None:
    session = getattr(client, "session", None)
    if session is not None and not session.closed:
        await session.close()


async def start_slack(
    settings: Settings,
    core: CommandCore,
    templates: Templates,
    *,
    host: str | None = None,
    port: int | None = None,
) -> SlackListener:
    """Start the Slack listener in the running loop (Socket Mode, or HTTP on ``port``)."""
    responder = Responder(templates)
    app = build_app(settings, core, responder)
    if settings.slack.mode == "http":
        secret = settings.slack.signing_secret
        assert secret is not None  # build_app checked it for HTTP mode
        handler = events_endpoint(app, secret.get_secret_value(), _first_time(core))
        return await _start_http(
            app,
            responder,
            handler,
            settings.slack.host if host is None else host,
            settings.slack.port if port is None else port,
        )
    problem = missing_key(settings)
    if problem:
        raise ConfigError(problem)
    app_token = settings.slack.app_token
    assert app_token is not None  # missing_key checked it for Socket Mode
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    await check_app_token(app_token.get_secret_value(), settings.slack.api_url)
    handler = AsyncSocketModeHandler(
        app,
        app_token.get_secret_value(),
        logger=logging.getLogger("slack_bolt.socket_mode"),
        proxy=settings.slack.proxy,
    )
    await handler.connect_async()
    log.info("slack: connected in Socket Mode")
    return SlackListener(app, responder, handler=handler)


async def check_app_token(app_token: str, api_url: str) -> None:
    """Ask for a Socket Mode URL once before connecting: a rejected app token is then one
    clear error, instead of the socket client retrying it forever in the background."""
    from slack_sdk.errors import SlackApiError

    client = AsyncWebClient(base_url=api_url)
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        raise ConfigError(
            f"slack.app_token: Slack refused the app token ({code or exc.response.status_code}); "
            "create an app-level token with connections:write (SLACK_APP_TOKEN)"
        ) from None


async def _start_http(
    app: AsyncApp, responder: Responder, handler: Any, host: str, port: int
) -> SlackListener:
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_post(EVENTS_PATH, handler)
    runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        await runner.cleanup()
        raise ConfigError(
            f"slack.host/slack.port: cannot listen on {host}:{port}: {exc.strerror}"
        ) from exc
    await web.SockSite(runner, sock).start()
    bound = sock.getsockname()[1]
    log.info("slack: serving %s on %s:%s (HTTP mode)", EVENTS_PATH, host, bound)
    return SlackListener(app, responder, runner=runner, port=bound)


def _first_time(core: CommandCore) -> Any:
    """Whether a request id is new (``CommandCore.first_time``, within the replay window)."""

    async def first_time(key: str) -> bool:
        return await core.first_time(key, REPLAY_WINDOW)

    return first_time
