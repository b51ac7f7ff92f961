"""Formatters: domain models in, platform API payloads out. No I/O happens here.

``markdown`` parses digest markdown into the line model (``lines``), ``line_markup``
serialises lines as Slack mrkdwn, Telegram HTML or plain text with the one escaper per
platform (``escape``), ``split`` packs lines into messages within each platform's limits.
``slack``, ``telegram`` and ``console`` turn digests and chat replies into their payloads
(``payloads``), with the wording from ``templates`` and the shared layout from ``layout``.
"""

from __future__ import annotations

from formatters import console, slack, telegram
from formatters.payloads import SlackMessage, TelegramMessage
from formatters.templates import Templates

__all__ = ["SlackMessage", "TelegramMessage", "Templates", "console", "slack", "telegram"]
