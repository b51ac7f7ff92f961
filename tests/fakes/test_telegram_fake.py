"""The fake Telegram Bot API answers real python-telegram-bot clients the way Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import AIORateLimiter, ApplicationBuilder, CommandHandler, ContextTypes, ExtBot

from tests.fakes.telegram_api import FakeTelegram

GROUP = -1001234567890
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def _bot(fake: FakeTelegram) -> Bot:
    return Bot(fake.token, base_url=fake.api_url)


def _seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_and_valid_html(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        assert bot.username == fake_telegram.username
        assert bot.id == fake_telegram.bot_id
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("更多", callback_data="more:2")]])
        html = '😀 <b>CL-bench</b> &amp; <a href="https://example.com">链接</a>'
        message = await bot.send_message(
            GROUP, html, parse_mode="HTML", reply_markup=markup, message_thread_id=7
        )
        second = await bot.send_message(GROUP, "plain <b>", parse_mode=None)
    assert message.text == "😀 CL-bench & 链接"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 3, 8),
        ("text_link", 14, 2),
    ]
    assert message.chat.type == "supergroup"
    assert message.reply_markup == markup
    assert second.message_id == message.message_id + 1 and second.text == "plain <b>"
    sent = fake_telegram.sent(GROUP)
    assert [s["html"] for s in sent] == [html, "plain <b>"]
    assert sent[0]["parse_mode"] == "HTML" and sent[0]["message_thread_id"] == 7
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more:2"
    assert fake_telegram.sent(str(GROUP)) == sent


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<div>x</div>", 'unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'can\'t find end tag corresponding to start tag "b"'),
        ("AT&T", 'unsupported html entity "&" at byte offset 2'),
        ("😀" * 2048 + "a", "message is too long"),
        ("<b> </b>", "message text is empty"),
    ],
)
async def test_bad_html_is_a_bad_request(
    fake_telegram: FakeTelegram, text: str, description: str
) -> None:
    async with _bot(fake_telegram) as bot:
        with pytest.raises(BadRequest) as info:
            await bot.send_message(1, text, parse_mode="HTML")
        assert (await bot.send_message(1, "😀" * 2048, parse_mode="HTML")).text == "😀" * 2048
    # PTB strips "Bad Request: " and capitalises the first letter
    assert description in info.value.message.lower()
    assert len(fake_telegram.sent(1)) == 1


async def test_wire_format_of_errors_and_bodies(fake_telegram: FakeTelegram) -> None:
    url = f"{fake_telegram.api_url}{fake_telegram.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/sendMessage", json={"chat_id": 5, "text": "<i>x", "parse_mode": "HTML"}
        ) as r:
            assert r.status == 400
            body = await r.json()
        assert body["ok"] is False and body["error_code"] == 400
        assert body["description"].startswith("Bad Request: can't parse entities: ")
        async with http.get(f"{url}/sendMessage", params={"chat_id": "5", "text": "hi"}) as r:
            assert (await r.json())["result"]["chat"] == {
                "id": 5,
                "type": "private",
                "first_name": "User5",
            }
        fake_telegram.fail_next("sendMessage", status=429, retry_after=4)
        async with http.post(f"{url}/sendMessage", data={"chat_id": "5", "text": "x"}) as r:
            assert r.status == 429
            assert await r.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 4",
                "parameters": {"retry_after": 4},
            }
        async with http.post(f"{url}/noSuchMethod") as r:
            assert r.status == 404
            assert (await r.json())["description"] == "Not Found: method not found"


async def test_injected_failures_map_to_ptb_errors(fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_chat(-5, "kicked")
    fake_telegram.fail_chat(-6, "not_found")
    async with _bot(fake_telegram) as bot:
        fake_telegram.fail_next("sendMessage", status=429, retry_after=7)
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(1, "x")
        assert _seconds(retry.value) == 7
        with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
            await bot.send_message(-5, "x")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(-6, "x")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message("not-a-chat", "x")
        fake_telegram.fail_next("sendMessage", status=500)
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")
        fake_telegram.fail_next("sendMessage", drop=True)
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        assert (await bot.send_message(1, "ok")).text == "ok"
    assert fake_telegram.stats["429"] == 1 and fake_telegram.stats["dropped"] == 1
    assert [s["text"] for s in fake_telegram.sent(1)] == ["ok"]


async def test_wrong_token_is_unauthorized(fake_telegram: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("987654321:wrong", base_url=fake_telegram.api_url):
            pass
    assert fake_telegram.stats["401"] == 1


async def test_aio_rate_limiter_survives_injected_429(fake_telegram: FakeTelegram) -> None:
    bot = ExtBot(
        fake_telegram.token,
        base_url=fake_telegram.api_url,
        rate_limiter=AIORateLimiter(max_retries=2),
    )
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    async with bot:
        message = await bot.send_message(GROUP, "<b>digest</b>", parse_mode="HTML")
    assert message.text == "digest"
    assert fake_telegram.stats["429"] == 1
    assert len(fake_telegram.calls_to("sendMessage")) == 2
    assert len(fake_telegram.sent(GROUP)) == 1


async def test_enforced_rate_limits(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        fake_telegram.enforce_rate_limit(per_chat_per_sec=1, global_per_sec=100)
        await bot.send_message(1, "a")
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(1, "b")
        assert _seconds(retry.value) >= 1
        await bot.send_message(2, "other chat")

        fake_telegram.enforce_rate_limit(
            per_chat_per_sec=100, per_chat_burst=10, per_group_per_min=2, global_per_sec=100
        )
        await bot.send_message(-5, "1")
        await bot.send_message(-5, "2")
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(-5, "3")
        assert _seconds(retry.value) >= 20  # 2/min refills one message every 30 s
        await bot.send_message(3, "private chats have no per-minute limit")
        await bot.send_message(3, "private chats have no per-minute limit")

        fake_telegram.enforce_rate_limit(per_chat_per_sec=100, global_per_sec=2)
        await bot.send_message(10, "x")
        await bot.send_message(11, "x")
        with pytest.raises(RetryAfter):
            await bot.send_message(12, "x")
        fake_telegram.disable_rate_limit()
        await bot.send_message(12, "x")
    assert fake_telegram.stats["rate_limited"] == 3


async def test_application_polling_answers_group_command(fake_telegram: FakeTelegram) -> None:
    app = ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.api_url).build()
    seen: list[list[str]] = []

    async def ai(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(list(context.args or []))
        assert update.effective_message is not None
        await update.effective_message.reply_html(f"<b>query</b> {' '.join(context.args or [])}")

    app.add_handler(CommandHandler("ai", ai))
    fake_telegram.push_message(GROUP, "/ai@other_bot tag:X", chat_type="supergroup", user_id=42)
    fake_telegram.push_message(GROUP, f"/ai@{fake_telegram.username} tag:RL", user_id=42)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        sent = await fake_telegram.wait_for_sent(GROUP, 1, timeout=5)
        await app.updater.stop()
        await app.stop()
    assert seen == [["tag:RL"]]
    assert sent[0]["text"] == "query tag:RL" and sent[0]["parse_mode"] == "HTML"
    assert fake_telegram.pending_count() == 0
    assert fake_telegram.calls_to("deleteWebhook")


async def test_callback_queries(fake_telegram: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("details", callback_data="d:1")]])
    async with _bot(fake_telegram) as bot:
        message = await bot.send_message(GROUP, "results", reply_markup=markup)
        fake_telegram.push_callback(GROUP, 42, "d:1", message.message_id)
        (update,) = await bot.get_updates(timeout=1)
        query = update.callback_query
        assert query is not None and query.data == "d:1" and query.from_user.id == 42
        assert query.message is not None and query.message.message_id == message.message_id
        assert await bot.answer_callback_query(query.id, text="ok")
        with pytest.raises(BadRequest, match="query id is invalid"):
            await bot.answer_callback_query("12345")
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert fake_telegram.callback_answers[0]["text"] == "ok"


async def test_edit_message_text(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        message = await bot.send_message(1, "<b>page 1</b>", parse_mode="HTML")
        edited = await bot.edit_message_text(
            "<b>page 2</b>", 1, message.message_id, parse_mode="HTML"
        )
        assert edited.text == "page 2" and edited.edit_date is not None
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("<b>page 2</b>", 1, message.message_id, parse_mode="HTML")
        with pytest.raises(BadRequest, match="to edit not found"):
            await bot.edit_message_text("x", 1, 999)
    assert fake_telegram.sent(1)[0]["html"] == "<b>page 2</b>"
    assert len(fake_telegram.edits) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (None, ChatMemberMember),
        ("administrator", ChatMemberAdministrator),
        ("creator", ChatMemberOwner),
        ("left", ChatMemberLeft),
        ("kicked", ChatMemberBanned),
    ],
)
async def test_get_chat_member(fake_telegram: FakeTelegram, status: str | None, cls: type) -> None:
    if status is not None:
        fake_telegram.set_member_status(GROUP, 42, status)
    async with _bot(fake_telegram) as bot:
        member = await bot.get_chat_member(GROUP, 42)
        other = await bot.get_chat_member(GROUP, 43)
    assert isinstance(member, cls) and member.user.id == 42
    assert isinstance(other, ChatMemberMember)


async def test_commands_and_chat(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        await bot.set_my_commands([("ai", "Search the digest archive"), ("help", "Help")])
        assert [c.command for c in await bot.get_my_commands()] == ["ai", "help"]
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([("Bad-Name", "x")])
        fake_telegram.set_chat(GROUP, type="supergroup", title="AI news", is_forum=True)
        chat = await bot.get_chat(GROUP)
        assert chat.title == "AI news" and chat.is_forum
        message = await bot.send_message(GROUP, "topic", message_thread_id=3)
        assert message.message_thread_id == 3 and message.is_topic_message


async def test_reply_markup_is_validated(fake_telegram: FakeTelegram) -> None:
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    async with _bot(fake_telegram) as bot:
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(1, "x", reply_markup=long_data)
    assert fake_telegram.sent(1) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_delivery_to_ptb_webhook_server(fake_telegram: FakeTelegram) -> None:
    port = _free_port()
    app = ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.api_url).build()
    got: list[str] = []

    async def ai(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        got.append(" ".join(context.args or []))

    app.add_handler(CommandHandler("ai", ai))
    async with app:
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="tg",
            webhook_url=f"http://127.0.0.1:{port}/tg",
            secret_token="s3cret_token",
        )
        try:
            assert fake_telegram.webhook == {
                "url": f"http://127.0.0.1:{port}/tg",
                "secret_token": "s3cret_token",
                "allowed_updates": None,
            }
            async with _bot(fake_telegram) as bot:
                with pytest.raises(Conflict):
                    await bot.get_updates()
                assert (await bot.get_webhook_info()).url.endswith("/tg")
            update = fake_telegram.push_message(-5, "/ai pushed")  # POSTed to the webhook
            await fake_telegram.wait_until(lambda: got, timeout=5)
            again = {**update, "update_id": update["update_id"] + 1000}
            forged = await fake_telegram.deliver_webhook_async(again, secret_token="forged")
            assert forged == 403
            assert await fake_telegram.deliver_webhook_async(again) == 200
            await fake_telegram.wait_until(lambda: len(got) >= 2, timeout=5)
        finally:
            await app.updater.stop()
            await app.stop()
    assert got == ["pushed", "pushed"]
    assert [status for _, status in fake_telegram.webhook_deliveries] == [200, 403, 200]


async def test_long_poll_waits_for_a_pushed_update(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        assert await bot.get_updates(timeout=0) == ()

        async def push_later() -> None:
            await asyncio.sleep(0.1)
            fake_telegram.push_message(1, "hello", chat_type="private")

        task = asyncio.create_task(push_later())
        updates = await bot.get_updates(timeout=1)
        await task
    assert [u.message.text for u in updates if u.message] == ["hello"]


def test_reset(fake_telegram: FakeTelegram) -> None:
    fake_telegram.push_message(1, "x")
    fake_telegram.fail_chat(1, "blocked")
    fake_telegram.reset()
    assert fake_telegram.pending_count() == 0 and fake_telegram.calls == []
    assert not fake_telegram.stats and fake_telegram.sent(1) == []


def test_sync_webhook_helpers_from_a_plain_test(fake_telegram: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        bot = Bot(fake_telegram.token, base_url=fake_telegram.api_url)
        assert asyncio.run(bot.set_webhook(url, secret_token="abc"))
        update = fake_telegram.push_message(-7, "/ai auto")
        fake_telegram.wait_until_sync(lambda: fake_telegram.webhook_deliveries, timeout=5)
        assert fake_telegram.deliver_webhook(update, secret_token=None) == 200
    finally:
        server.shutdown()
        thread.join(5)
    assert [secret for secret, _ in received] == ["abc", None]
    assert received[0][1] == update and received[0][1]["message"]["text"] == "/ai auto"
