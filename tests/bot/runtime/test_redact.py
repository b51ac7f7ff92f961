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


def test_url_passwords_are_redacted_even_when_no_secret_is_configured(
    root_stream: io.StringIO,
) -> None:
    from bot.config import Settings

    protect_settings_secrets(Settings())
    logging.getLogger("some.pool").error(
        "cannot reach postgres://bot:s3cr%40t@db.example:5432/x nor redis://:pw99@cache/0"
    )
    text = root_stream.getvalue()
    assert "s3cr%40t" not in text and "pw99" not in text
    assert "postgres://bot:***@db.example:5432/x" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:***@h/db"),
        ("see https://example.com/a:b@c", "see https://example.com/a:b@c"),  # no userinfo
        ("sqlite:///digestbot.db", "sqlite:///digestbot.db"),
        ("a postgres://:only@h b", "a postgres://:***@h b"),
    ],
)
def test_redact_url_passwords(text: str, expected: str) -> None:
    from bot.redact import redact_url_passwords

    assert redact_url_passwords(text) == expected


def test_a_missing_driver_error_does_not_print_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.cli import run

    config = tmp_path / "config.yaml"
    config.write_text(
        "archive:\n  url: postgresql+pg8000://bot:hunter22@db.example/digests\n", encoding="utf-8"
    )
    assert run(["--config", str(config), "query", "tag:RL"]) == 1
    err = capsys.readouterr().err
    assert "hunter22" not in err and "bot:***@db.example" in err
