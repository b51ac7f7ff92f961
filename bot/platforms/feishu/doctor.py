"""``digestbot doctor`` for Feishu/Lark: the app bot and the custom robots.

The app bot (``feishu.app_id``): the tenant token and the bot's identity in one call
(``GET /open-apis/bot/v3/info``), the listener's settings, and for each chat it posts to
whether the bot is in that chat (``im/v1/chats/:chat_id/members/is_in_chat``, asked with
the bot's own token). Custom robots: the webhook's shape and a signed probe without
``msg_type``. A wrong token answers 19001 whatever the body (measured), so a refusal as a
message (19002 "params error, msg_type need", or 9499) proves the token; a wrong signature
answers 19021, but whether Feishu checks it before the message is undocumented, so a
signed robot's 19002 leaves the secret a warning. Nothing is posted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.errors import DigestbotError
from bot.platforms.checks import Check
from bot.platforms.feishu.api import FeishuApi
from bot.platforms.feishu.listener import missing_key
from bot.platforms.feishu.transport import FeishuTransport
from bot.platforms.robot_probe import RobotShape, check_robots, config_key

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.config import Settings

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
#: ``activate_status`` of an app the tenant has enabled.
_ENABLED = 2

FEISHU = RobotShape(
    title="Feishu/Lark",
    hosts=frozenset({"open.feishu.cn", "open.larksuite.com"}),
    path="/open-apis/bot/v2/hook/",
    token_param=None,
    token_ok=lambda token: bool(_UUID.fullmatch(token)),
    token_form="a UUID",
    probe={},
    reached=frozenset({19002, 9499}),
    token_first=True,
    signature_first=False,
    refused={
        19001: "the webhook's token is invalid (robot removed?); copy the robot's webhook "
        "URL into {key}.webhook again",
        19021: "the signature was refused: {key}.secret is wrong, or missing while the "
        "robot signs, or this machine's clock is off by over an hour",
        19024: "the robot is secured by keywords",
    },
    softer={
        "key words": "the robot is secured by keywords: every digest card must contain "
        "one; use signing and set {key}.secret instead",
    },
)


async def check_feishu(settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    """Rows for the app bot (when configured) and one per Feishu channel."""
    transport = FeishuTransport(
        FeishuTransport.robots_from(settings), chat_ids=FeishuTransport.chat_ids_from(settings)
    )
    rows = await check_robots(settings, channels, transport, FEISHU)
    chats = [c for c in channels if c.key not in rows]
    feishu = settings.feishu
    if not feishu.app_id:
        for channel in chats:
            rows[channel.key] = Check(
                channel.key,
                "fail",
                f"no webhook and no app bot: set {config_key(settings, channel)}.webhook, "
                "or feishu.app_id and feishu.app_secret",
            )
        return list(rows.values())
    app_rows = [_listener(settings)]
    if feishu.app_secret is None:
        app_rows.insert(0, Check("feishu", "fail", "feishu.app_secret is not set"))
        return app_rows + list(rows.values())
    api = FeishuApi(feishu.app_id, feishu.app_secret.get_secret_value(), domain=feishu.api_url)
    identity = await _identity(api)
    app_rows.insert(0, identity)
    for channel in chats:
        if identity.status == "fail":
            rows[channel.key] = Check(channel.key, "fail", "the app bot's credentials fail")
        else:
            chat_id = transport.chat_id_of(channel)
            rows[channel.key] = await _in_chat(api, settings, channel, chat_id)
    return app_rows + list(rows.values())


def _listener(settings: Settings) -> Check:
    feishu = settings.feishu
    problem = missing_key(settings)
    if problem and feishu.app_secret is not None:
        return Check("feishu listener", "fail", problem)
    if feishu.mode == "http":
        where = f"{feishu.host}:{feishu.port}/feishu/events"
        return Check("feishu listener", "ok", f"HTTP mode on {where}, encrypt key and token set")
    return Check("feishu listener", "ok", "long connection (websocket): no public URL needed")


async def _identity(api: FeishuApi) -> Check:
    try:
        bot = await api.bot_info()
    except DigestbotError as exc:
        return Check("feishu", "fail", str(exc).removeprefix("feishu: "))
    name, open_id = bot.get("app_name", "?"), bot.get("open_id", "?")
    status = bot.get("activate_status")
    if status is not None and status != _ENABLED:
        return Check(
            "feishu",
            "warn",
            f"bot/v3/info: {name} ({open_id}) is not enabled in the tenant "
            f"(activate_status {status}); publish the app version and have it approved",
        )
    return Check("feishu", "ok", f"bot/v3/info: {name} ({open_id}), tenant token works")


async def _in_chat(api: FeishuApi, settings: Settings, channel: Channel, chat_id: str) -> Check:
    key = config_key(settings, channel)
    try:
        inside = await api.is_in_chat(chat_id)
    except DigestbotError as exc:
        return Check(channel.key, "fail", f"{key}: {exc}")
    if inside:
        return Check(channel.key, "ok", f"the app bot is in {chat_id}")
    return Check(
        channel.key,
        "fail",
        f"{key}: the app bot is not in {chat_id}; add it to the group (settings → bots)",
    )
