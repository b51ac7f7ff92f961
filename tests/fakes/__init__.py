"""Local fake Slack Web API and Telegram Bot API servers for tests (real HTTP, real clients).

Start them with the ``fake_slack`` / ``fake_telegram`` fixtures (``tests/fakes/fixtures.py``)
or as context managers: ``with FakeSlack() as slack: WebClient(base_url=slack.api_url)``.
The validators (``slack_validation``, ``telegram_validation``) are plain functions that
formatter tests can use without any server.
"""

from __future__ import annotations

from tests.fakes.server import Call, FakeServer, TokenBucket
from tests.fakes.slack_api import FakeSlack, Mention, sign_request
from tests.fakes.slack_socket import FakeSocketMode, block_actions_payload, slash_command_payload
from tests.fakes.slack_validation import find_live_mentions, validate_slack_message
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_validation import (
    parse_telegram_html,
    utf16_len,
    validate_reply_markup,
    validate_telegram_html,
    validate_telegram_message,
)

__all__ = [
    "Call",
    "FakeServer",
    "FakeSlack",
    "FakeSocketMode",
    "FakeTelegram",
    "Mention",
    "TokenBucket",
    "block_actions_payload",
    "find_live_mentions",
    "parse_telegram_html",
    "sign_request",
    "slash_command_payload",
    "utf16_len",
    "validate_reply_markup",
    "validate_slack_message",
    "validate_telegram_html",
    "validate_telegram_message",
]
