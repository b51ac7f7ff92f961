"""Pytest fixtures that start the fake Slack and Telegram servers (a few ms each).

Registered for the whole suite through ``pytest_plugins`` in ``tests/conftest.py``. The
servers are imported lazily so that collecting unrelated tests stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack
    from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fresh fake Slack Web API (any ``xoxb-`` token, any channel) for one test."""
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A fresh fake Telegram Bot API for one test; use ``fake_telegram.token``."""
    from tests.fakes.telegram_api import FakeTelegram

    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake_feishu_webhook() -> Iterator[Any]:
    """A fresh fake Feishu custom-robot webhook; ``add_robot(secret)`` gives a URL."""
    from tests.fakes.feishu_webhook import FakeFeishuWebhook

    with FakeFeishuWebhook() as fake:
        yield fake


@pytest.fixture
def fake_dingtalk() -> Iterator[Any]:
    """A fresh fake DingTalk custom-robot webhook."""
    from tests.fakes.dingtalk_api import FakeDingTalk

    with FakeDingTalk() as fake:
        yield fake


@pytest.fixture
def fake_wecom() -> Iterator[Any]:
    """A fresh fake WeCom group-robot webhook."""
    from tests.fakes.wecom_api import FakeWeCom

    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def fake_feishu_api() -> Iterator[Any]:
    """A fresh fake Feishu open API (tenant token, IM send/reply, chats, event delivery)."""
    from tests.fakes.feishu_api import FakeFeishuApi

    with FakeFeishuApi() as fake:
        yield fake
