"""Who may get the bot's posts in a private chat: the rule the listener and the sender share.

Why here: ``telegram.allow_private`` (and ``allowed_users``) decide which private chats the
bot answers, and a private chat that subscribed while it was on must not keep receiving
digests once it is off. Such a chat is held, not deactivated: turning the setting back on
(or listing the user) resumes its deliveries. Private chat ids are the user's id, positive;
groups, supergroups and channels are negative (Bot API dialog ids), ``@name`` a channel.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.channels import Channel


def private_user(chat_id: str) -> int | None:
    """The user of a private chat id (a positive number), or None for any other chat."""
    try:
        value = int(chat_id)
    except ValueError:
        return None
    return value if value > 0 else None


def private_allowed(
    user_id: int | None, allow_private: bool, allowed_users: Collection[int]
) -> bool:
    """May the bot talk with this user in a private chat?"""
    return allow_private or (user_id is not None and user_id in allowed_users)


def private_chat_held(
    channel: Channel, allow_private: bool, allowed_users: Collection[int]
) -> str | None:
    """Why a subscribed private chat gets no posts now, or None. A private chat the config
    itself lists (``channels[]``) was the operator's choice and is never held."""
    user = private_user(channel.id)
    if user is None or channel.origin != "subscription":
        return None
    if private_allowed(user, allow_private, allowed_users):
        return None
    return (
        "private chat, and telegram.allow_private is off (the user is not in "
        "telegram.allowed_users): held, not posted; turn telegram.allow_private on or add "
        f"{user} to telegram.allowed_users to resume, or: digestbot subscriptions remove "
        f"telegram {channel.id}"
    )
