"""A local Telegram Bot API for tests: real HTTP, the Bot API's wire format and refusals.

``Bot(token, base_url=fake.api_url)`` and ``ApplicationBuilder().base_url(fake.api_url)``
talk to it unchanged (PTB posts form fields to ``{base_url}{token}/{method}``). It records
every call, keeps what the bot sent per chat, parses ``parse_mode=HTML`` like Telegram
(:mod:`tests.fakes.telegram_validation`), serves ``getUpdates`` long polls from pushed
updates (or POSTs them to the webhook set with ``setWebhook``), and injects failures:
429 with ``retry_after``, 5xx, dropped connections, kicked/not-found chats and the real
per-chat, per-group and global rate limits.

The fake is built in layers, one module each: chats and sent messages
(:mod:`tests.fakes.telegram_chats`), updates and webhooks
(:mod:`tests.fakes.telegram_updates`), and here the HTTP front, rate limits and the
sending methods.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes.png import check_png
from tests.fakes.server import Fault, TokenBucket, read_params, retry_after_seconds
from tests.fakes.telegram_chats import CHAT_ERRORS
from tests.fakes.telegram_protocol import TelegramFail
from tests.fakes.telegram_protocol import bad_request as _bad
from tests.fakes.telegram_protocol import error_response as _error
from tests.fakes.telegram_protocol import json_field as _json
from tests.fakes.telegram_updates import TelegramUpdates
from tests.fakes.telegram_validation import message_text, validate_reply_markup

__all__ = ["CHAT_ERRORS", "DEFAULT_TOKEN", "SENDING", "FakeTelegram", "TelegramFail"]

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTests_0123456"
SENDING = {"sendmessage", "editmessagetext", "sendphoto"}
#: Telegram's caption limit (characters after entity parsing).
CAPTION_LIMIT = 1024


class FakeTelegram(TelegramUpdates):
    """The fake Bot API. ``api_url`` goes into ``Bot(base_url=...)``; use ``fake.token``."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "digest_test_bot",
        max_poll_timeout: float = 1.0,
    ) -> None:
        super().__init__(token, username, max_poll_timeout)
        self.edits: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._limits: dict[str, tuple[float, float]] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "getchatmember": self._get_chat_member,
            "getchat": self._get_chat,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._true,
            "close": self._true,
            "logout": self._true,
        }

    # -- configuration -------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bot"

    def enforce_rate_limit(
        self,
        per_chat_per_sec: float = 1.0,
        per_group_per_min: float = 20.0,
        global_per_sec: float = 30.0,
        per_chat_burst: float = 1.0,
    ) -> None:
        """Answer 429 + ``retry_after`` to sends beyond Telegram's limits (token buckets)."""
        with self._lock:
            self._limits = {
                "chat": (per_chat_per_sec, per_chat_burst),
                "group": (per_group_per_min / 60.0, per_group_per_min),
                "global": (global_per_sec, global_per_sec),
            }
            self._buckets.clear()

    def disable_rate_limit(self) -> None:
        with self._lock:
            self._limits.clear()

    def _reset_state(self) -> None:
        super()._reset_state()
        self.edits.clear()
        self.callback_answers.clear()
        self.commands.clear()
        self._buckets.clear()

    # -- HTTP ----------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, "Not Found")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await read_params(request)
        if request.content_type.startswith("multipart/"):
            form = await request.post()  # parsed once by read_params; files are kept here
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    value.file.seek(0)
                    params.setdefault("__files__", {})[name] = value.file.read()
        self.record(method, params)
        fault = self.take_fault(method)
        if fault is not None:
            return self._fault_response(request, fault)
        if request.match_info["token"] != self.token:
            self.count("401")
            return _error(401, "Unauthorized")
        handler = self._methods.get(method.lower())
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            if "chat_id" in params:
                self._check_chat(params["chat_id"])
            if method.lower() in SENDING:
                self._rate_limit(str(params.get("chat_id")))
            result = await handler(params)
        except TelegramFail as fail:
            self.count(str(fail.status))
            return _error(fail.status, fail.description, **fail.parameters)
        self.count("ok")
        return web.json_response({"ok": True, "result": result})

    def _fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.drop:
            return self.drop(request)
        if fault.status == 429:
            after = fault.retry_after if fault.retry_after is not None else 1
            description = fault.error or f"Too Many Requests: retry after {after}"
            return _error(429, description, retry_after=after)
        phrases = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return _error(fault.status, fault.error or phrases.get(fault.status, "Error"))

    def _rate_limit(self, chat_id: str) -> None:
        with self._lock:
            if not self._limits:
                return
            keys = [("chat", f"chat:{chat_id}"), ("global", "global")]
            if chat_id.startswith(("-", "@")):
                keys.append(("group", f"group:{chat_id}"))
            buckets = []
            for kind, key in keys:
                rate, burst = self._limits[kind]
                buckets.append(self._buckets.setdefault(key, TokenBucket(rate, burst)))
            now = time.monotonic()
            wait = max(b.wait_time(now) for b in buckets)
            if wait <= 0:
                for b in buckets:
                    b.take(now)
                return
            self.stats["rate_limited"] += 1
        after = retry_after_seconds(wait)
        raise TelegramFail(429, f"Too Many Requests: retry after {after}", retry_after=after)

    # -- methods -------------------------------------------------------------------
    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _store_sent(self, params: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Keep a sent message (a new id in its chat, its thread and time) and return it."""
        chat = self.chat(params["chat_id"])
        thread = params.get("message_thread_id")
        with self._lock:
            record = {
                "message_id": self.next_message_id(chat["id"]),
                "chat_id": chat["id"],
                **fields,
                "message_thread_id": int(thread) if thread not in (None, "") else None,
                "date": int(time.time()),
            }
            self._sent.setdefault(str(params["chat_id"]), []).append(record)
            self.changed()
        return record

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text, entities, markup = self._checked_text(params)
        record = self._store_sent(
            params,
            text=text,
            html=params.get("text"),
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=markup,
            disable_notification=_json(params.get("disable_notification")),
            link_preview_options=_json(params.get("link_preview_options")),
        )
        return self.message_json(record)

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        """A photo uploaded as multipart ``photo``: it must be a complete PNG; the caption
        is parsed like message text and limited to 1024 characters."""
        data = (params.get("__files__") or {}).get("photo")
        if data is None:
            raise _bad("there is no photo in the request")
        try:
            width, height = check_png(data)
        except ValueError as exc:
            raise _bad(f"IMAGE_PROCESS_FAILED: {exc}") from exc
        try:
            caption, entities = message_text(params.get("caption"), params.get("parse_mode"))
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        if len(caption) > CAPTION_LIMIT:
            raise _bad("message caption is too long")
        record = self._store_sent(
            params,
            text="",
            caption=caption,
            caption_entities=entities,
            photo=data,
            photo_size=(width, height),
        )
        message_id = record["message_id"]
        message = self.message_json(record)
        del message["text"]
        sizes = {"file_id": f"photo{message_id}", "file_unique_id": f"u{message_id}"}
        message["photo"] = [{**sizes, "width": width, "height": height, "file_size": len(data)}]
        message["caption"] = caption
        return message

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text, entities, markup = self._checked_text(params)
        if params.get("inline_message_id"):
            return True
        with self._lock:
            found = [
                m
                for m in self._sent.get(str(params.get("chat_id")), [])
                if str(m["message_id"]) == str(params.get("message_id"))
            ]
            if not found:
                raise _bad("message to edit not found")
            record = found[0]
            if (
                record["text"] == text
                and record["entities"] == entities
                and (record["reply_markup"] == markup)
            ):
                raise _bad(
                    "message is not modified: specified new message content and reply "
                    "markup are exactly the same as a current content and reply markup "
                    "of the message"
                )
            record.update(
                text=text,
                html=params.get("text"),
                entities=entities,
                reply_markup=markup,
                parse_mode=params.get("parse_mode"),
                edit_date=int(time.time()),
            )
            self.edits.append(dict(record))
            self.changed()
        return self.message_json(record)

    def _checked_text(
        self, params: dict[str, Any]
    ) -> tuple[str, list[dict[str, Any]], dict[str, Any] | None]:
        try:
            text, entities = message_text(params.get("text"), params.get("parse_mode"))
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        if params.get("entities") and not params.get("parse_mode"):
            entities = _json(params["entities"])
        markup = params.get("reply_markup")
        if markup is not None:
            problems = validate_reply_markup(markup)
            if problems:
                raise _bad(problems[0])
            markup = _json(markup)
        return text, entities, markup

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = _json(params.get("scope")) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = _json(params.get("commands"))
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        for c in commands:
            name = c.get("command", "") if isinstance(c, dict) else ""
            if not (
                1 <= len(name) <= 32
                and all(ch.islower() or ch.isdigit() or ch == "_" for ch in name)
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.commands.pop(self._commands_key(params), None)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if not self.is_callback(query_id):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        with self._lock:
            self.callback_answers.append(dict(params))
            self.changed()
        return True
