"""The Telegram adapter: a python-telegram-bot ``Application`` in front of the command core.

Thin on purpose: ``/ai …`` (and the short forms ``/subscribe …``, ``/today`` …, with or
without ``@botname``) becomes a ``CommandRequest``; the core's ``ReplyEnvelope`` becomes
``sendMessage`` calls with ``formatters.telegram`` payloads, in the same forum topic.
The only platform decision made here is who is an admin: ``getChatMember`` status
administrator/creator in groups (asked only for commands that change subscriptions),
the user themself in a private chat.

It runs inside the caller's event loop (``initialize``/``start`` + ``start_polling`` or
``start_webhook``), never ``run_polling``, so one process can also run Slack and the
scheduler.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    TypeHandler,
    filters,
)

from bot.chat import VERBS, CommandCore, CommandRequest, ErrorReply, is_mutating
from bot.errors import ConfigError
from bot.platforms.telegram.access import private_allowed
from bot.platforms.telegram.listener import missing_key
from bot.redact import protect_settings_secrets
from formatters import ChartImage, escape_telegram
from formatters import telegram as telegram_format

if TYPE_CHECKING:
    from bot.config import Settings, TelegramSettings
    from formatters import TelegramMessage, Templates

#: Telegram's limit on a photo caption (after entities are parsed).
CAPTION_LIMIT = 1024

log = logging.getLogger(__name__)

#: Short commands (``/today``) are the chat verbs themselves; ``ai`` passes its text through.
SHORT_COMMANDS = VERBS


def menu(templates: Templates) -> list[BotCommand]:
    """The command menu in the configured language: ``/ai`` and each verb with a
    ``menu_<verb>`` label (``labels.j2``, so a templates_dir can reword it)."""
    labels = templates.labels
    names = ["ai", *SHORT_COMMANDS]
    return [BotCommand(name, labels[f"menu_{name}"]) for name in names if f"menu_{name}" in labels]


ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
#: How long update ids are remembered: Telegram gives up re-sending an update within a day.
UPDATE_MEMORY = dt.timedelta(days=1)
#: A polling error younger than this marks the listener as not connected.
UNHEALTHY_AFTER_ERROR = 30.0


def command_text(message_text: str) -> str:
    """The core's text: ``/ai@bot subscribe x`` → ``subscribe x``, ``/today`` → ``today``,
    ``/start`` → ``help``."""
    head, _, rest = message_text.strip().partition(" ")
    name = head.lstrip("/").split("@", 1)[0].lower()
    rest = rest.strip()
    if name == "ai":
        return rest
    if name == "start":
        return "help"
    return f"{name} {rest}".strip()


class TelegramBridge:
    """The handlers: translate updates for the core and its replies for Telegram."""

    def __init__(
        self, core: CommandCore, templates: Templates, access: TelegramSettings | None = None
    ) -> None:
        self.core = core
        self.templates = templates
        self.access = access if access is not None else core.settings.telegram

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        commands = ["ai", "start", *SHORT_COMMANDS]
        # Group -1 runs before the command handlers of the same update.
        application.add_handler(TypeHandler(Update, self.drop_repeats), group=-1)
        application.add_handler(
            CommandHandler(commands, self.on_command, filters=filters.UpdateType.MESSAGES)
        )
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_error_handler(self.on_error)

    async def drop_repeats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An update Telegram (or anyone holding the webhook secret) sends again is handled
        once, by whichever replica saw it first."""
        key = f"telegram:{context.bot.id}:{update.update_id}"
        if not await self.core.first_time(key, UPDATE_MEMORY):
            log.info("telegram: ignored update %s, already handled", update.update_id)
            raise ApplicationHandlerStop

    def _admitted(self, chat: Chat, user_id: int | None) -> bool:
        """Private chats only for ``allow_private`` or ``allowed_users``; groups narrowed
        by ``allowed_chats`` when it is set."""
        access = self.access
        if chat.type == ChatType.PRIVATE:
            return private_allowed(user_id, access.allow_private, access.allowed_users)
        return not access.allowed_chats or chat.id in access.allowed_chats

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        user_id = message.from_user.id if message.from_user else None
        if not self._admitted(message.chat, user_id):
            log.info("telegram: refused chat %s (user %s): not allowed", message.chat_id, user_id)
            await self._send(context, message, self._refusal(message.chat))
            return
        text = command_text(message.text)
        is_admin = await self._is_admin(context, message) if is_mutating(text) else None
        request = CommandRequest(
            platform="telegram",
            channel_id=str(message.chat_id),
            user_id=str(message.from_user.id) if message.from_user else "",
            is_admin=is_admin,
            text=text,
            thread_id=message.message_thread_id if message.is_topic_message else None,
        )
        payloads = await self.core.in_worker(self._answer, request, None)
        await self._send(context, message, payloads)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:
            # "query is too old" after a restart: the spinner times out, the answer still comes.
            log.info("telegram: answerCallbackQuery failed (answering anyway): %s", exc)
        message = query.message
        if not isinstance(message, Message):
            return  # the message is too old to be accessible: nothing to reply under
        if not self._admitted(message.chat, query.from_user.id):
            return
        request = CommandRequest(
            platform="telegram",
            channel_id=str(message.chat_id),
            user_id=str(query.from_user.id),
            is_admin=None,
            text="",
            thread_id=message.message_thread_id if message.is_topic_message else None,
        )
        payloads = await self.core.in_worker(self._answer, request, query.data or "")
        await self._send(context, message, payloads)

    async def _is_admin(self, context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
        """Private chats: yes. Groups: creator/administrator, or the group posting anonymously."""
        chat = message.chat
        if chat.type == ChatType.PRIVATE:
            return True
        if message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an anonymous group admin speaks as the group itself
        if message.from_user is None:
            return False
        try:
            member = await context.bot.get_chat_member(chat.id, message.from_user.id)
        except TelegramError as exc:
            log.warning("telegram: getChatMember failed for chat %s: %s", chat.id, exc)
            return False
        return member.status in ADMIN_STATUSES

    def _refusal(self, chat: Chat) -> list[TelegramMessage]:
        where = "private chats" if chat.type == ChatType.PRIVATE else "this group"
        key = (
            "telegram.allowed_users" if chat.type == ChatType.PRIVATE else "telegram.allowed_chats"
        )
        reply = ErrorReply(
            message=f"This bot does not answer in {where}. Ask its operator to add you to {key}.",
            example=None,
        )
        return telegram_format.render_reply(reply, self.templates)

    def _answer(
        self, request: CommandRequest, action: str | None
    ) -> list[TelegramMessage | ChartImage]:
        """Worker-thread work: answer the command (or button) and render the reply."""
        core = self.core
        envelope = core.handle(request) if action is None else core.handle_action(request, action)
        return core.render_safely(
            envelope, lambda reply: telegram_format.render_reply(reply, self.templates)
        )

    async def _send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        message: Message,
        payloads: list[TelegramMessage | ChartImage],
    ) -> None:
        thread_id = message.message_thread_id if message.is_topic_message else None
        for payload in payloads:
            if isinstance(payload, ChartImage):
                title = payload.title
                if len(title) > CAPTION_LIMIT:
                    title = title[: CAPTION_LIMIT - 1] + "…"
                await context.bot.send_photo(
                    chat_id=message.chat_id,
                    photo=payload.png,
                    filename=payload.filename,
                    caption=escape_telegram(title),
                    parse_mode="HTML",
                    message_thread_id=thread_id,
                )
                continue
            markup = (
                InlineKeyboardMarkup.de_json(payload.reply_markup, context.bot)
                if payload.reply_markup
                else None
            )
            await context.bot.send_message(
                chat_id=message.chat_id,
                text=payload.text,
                parse_mode=payload.parse_mode,
                reply_markup=markup,
                message_thread_id=thread_id,
                link_preview_options=LinkPreviewOptions(is_disabled=not payload.link_preview),
            )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(context.error, RetryAfter):  # rate limited: the reply is dropped, not a bug
            log.warning("telegram: rate limited while answering an update: %s", context.error)
            return
        log.error("telegram: handling an update failed: %s", context.error, exc_info=context.error)


def build_application(
    settings: Settings, core: CommandCore, templates: Templates
) -> Application[Any, Any, Any, Any, Any, Any]:
    """An Application on ``telegram.api_url`` with rate limiting and the command handlers."""
    token = settings.telegram.token
    if token is None:
        raise ConfigError(
            "telegram.token: required to run the Telegram listener (TELEGRAM_BOT_TOKEN)"
        )
    builder = (
        ApplicationBuilder()
        .token(token.get_secret_value())
        .base_url(settings.telegram.api_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(8)
    )
    if settings.telegram.proxy:
        builder = builder.proxy(settings.telegram.proxy).get_updates_proxy(settings.telegram.proxy)
    application = builder.build()
    TelegramBridge(core, templates, settings.telegram).install(application)
    return application


def quiet_token_logging() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the token."""
    httpx_logger = logging.getLogger("httpx")
    if httpx_logger.getEffectiveLevel() < logging.WARNING:
        httpx_logger.setLevel(logging.WARNING)


class TelegramListener:
    """A running Application: polling ``getUpdates`` or serving the webhook."""

    name = "telegram"

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], mode: str) -> None:
        self.application = application
        self.mode = mode
        self.port: int | None = None
        self.last_error_at: float | None = None
        self._stopped = False

    def polling_error(self, error: TelegramError) -> None:
        """PTB retries polling by itself; remember the failure for /healthz."""
        self.last_error_at = time.monotonic()
        log.warning("telegram: polling failed (will retry): %s", error)

    @property
    def connected(self) -> bool:
        updater = self.application.updater
        if self._stopped or updater is None or not updater.running:
            return False
        recent = self.last_error_at is not None and (
            time.monotonic() - self.last_error_at < UNHEALTHY_AFTER_ERROR
        )
        return not recent

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()


async def start_telegram(
    settings: Settings,
    core: CommandCore,
    templates: Templates,
    *,
    listen: str | None = None,
    port: int | None = None,
    poll_timeout: float = 10.0,
) -> TelegramListener:
    """Start the Telegram listener in the running loop (polling, or webhook on ``port``)."""
    telegram = settings.telegram
    secret = telegram.webhook_secret
    problem = missing_key(settings)
    if problem:
        raise ConfigError(problem)
    quiet_token_logging()
    protect_settings_secrets(settings)
    application = build_application(settings, core, templates)
    listener = TelegramListener(application, telegram.mode)
    await application.initialize()
    try:
        await application.bot.set_my_commands(menu(templates))
        await application.start()
        assert application.updater is not None
        if telegram.mode == "webhook":
            assert telegram.webhook_url is not None and secret is not None
            listener.port = telegram.port if port is None else port
            await application.updater.start_webhook(
                listen=telegram.host if listen is None else listen,
                port=listener.port,
                url_path=urlsplit(telegram.webhook_url).path.lstrip("/"),
                webhook_url=telegram.webhook_url,
                secret_token=secret.get_secret_value(),
                allowed_updates=["message", "callback_query"],
            )
        else:
            await application.updater.start_polling(
                timeout=int(poll_timeout),
                allowed_updates=["message", "callback_query"],
                error_callback=listener.polling_error,
            )
    except BaseException:
        await listener.stop()
        raise
    log.info("telegram: listening (%s) as @%s", telegram.mode, application.bot.username)
    return listener
