"""Pytest fixtures that start the fake Slack and Telegram servers (a few ms each).

Registered for the whole suite through ``pytest_plugins`` in ``tests/conftest.py``. The
servers are imported lazily so that collecting unrelated tests stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

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
