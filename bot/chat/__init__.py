"""Chat: the platform-agnostic command core.

A platform adapter turns its request into a ``CommandRequest``; ``CommandCore`` answers
with a ``ReplyEnvelope`` of domain replies (``replies``), which the formatters render.
``grammar`` reads verbs and schedules, ``subscriptions`` changes what a channel receives,
``actions`` encodes the "more"/"details" buttons.
"""

from __future__ import annotations

from bot.chat import actions
from bot.chat.core import CommandCore
from bot.chat.grammar import (
    VERBS,
    ScheduleSpec,
    WeeklySpec,
    check_zone,
    is_mutating,
    parse_digest,
    parse_schedule,
    parse_weekly,
)
from bot.chat.replies import (
    DigestReply,
    ErrorReply,
    HelpReply,
    ItemDetailReply,
    NoticeReply,
    Reply,
    ReplyEnvelope,
    SearchReply,
    SubscriptionReply,
    TrendsReply,
    WeekReply,
)
from bot.chat.request import CommandRequest
from bot.chat.settings import effective_channel
from bot.chat.subscriptions import SubscriptionCommands

__all__ = [
    "VERBS",
    "CommandCore",
    "CommandRequest",
    "DigestReply",
    "ErrorReply",
    "HelpReply",
    "ItemDetailReply",
    "NoticeReply",
    "Reply",
    "ReplyEnvelope",
    "ScheduleSpec",
    "SearchReply",
    "SubscriptionCommands",
    "SubscriptionReply",
    "TrendsReply",
    "WeekReply",
    "WeeklySpec",
    "actions",
    "check_zone",
    "effective_channel",
    "is_mutating",
    "parse_digest",
    "parse_schedule",
    "parse_weekly",
]
