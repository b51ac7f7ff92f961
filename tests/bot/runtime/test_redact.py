"""Tokens never reach a log handler, whichever logger prints them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.redact import REDACTOR, protect_settings_secrets


@pytest.fixture
def root_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    saved = set(REDACTOR.secrets)
    httpx_logger = logging.getLogger("httpx")
    httpx_level = httpx_logger.level
    httpx_logger.setLevel(logging.DEBUG)  # listeners quiet httpx; this test wants its records
    yield stream
    httpx_logger.setLevel(httpx_level)
    root.removeHandler(handler)
    root.setLevel(old_level)
    REDACTOR.secrets.clear()
    REDACTOR.secrets.update(saved)


def test_tokens_and_db_password_are_redacted_from_any_logger(
    tmp_path: Path, root_stream: io.StringIO
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "archive:\n  url: postgresql+psycopg://bot:hunter22@db.example/digests\n", encoding="utf-8"
    )
    settings = load_settings(
        config, environ={"TELEGRAM_BOT_TOKEN": "123456:SECRET-abc", "SLACK_BOT_TOKEN": "xoxb-9-9"}
    )
    protect_settings_secrets(settings)

    logging.getLogger("httpx").info(
        "HTTP Request: POST https://api.telegram.org/bot123456:SECRET-abc/getMe"
    )
    logging.getLogger("some.library.child").warning("auth with %s failed", "xoxb-9-9")
    logging.getLogger("sqlalchemy.pool").error("cannot connect as bot:hunter22@db.example")
    try:
        raise RuntimeError("token 123456:SECRET-abc rejected")
    except RuntimeError:
        logging.getLogger("bot.delivery").exception("boom")

    text = root_stream.getvalue()
    assert "SECRET-abc" not in text
    assert "xoxb-9-9" not in text
    assert "hunter22" not in text
    assert text.count("<token>") >= 4
    assert "getMe" in text  # the rest of the message survives
