"""Keep secrets out of logs, whatever logs them.

python-telegram-bot logs its API URL (which contains the bot token) at DEBUG, httpx logs
every request URL at INFO, and a database URL may carry a password. One filter holds every
secret the configuration knows; it sits on the root handlers (so records from any logger
are cleaned) and on the known noisy loggers (for handlers installed by someone else).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

#: ``scheme://user:PASSWORD@`` in any text: database URLs, proxy URLs.
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@")

#: Loggers known to print URLs that contain tokens.
NOISY_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "httpx", "slack_sdk", "slack_bolt")


def blank_secrets(text: str, secrets: Iterable[str], mark: str = "<token>") -> str:
    """``text`` with every secret replaced by ``mark`` (a library message quoting a token)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mark)
    return text


class RedactSecrets(logging.Filter):
    """Replaces every registered secret in a record's message with ``<token>``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        """``text`` without the registered secrets and without URL passwords."""
        return redact_url_passwords(blank_secrets(text, self.secrets))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # Format the traceback now, so the redacted text is what every handler prints.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def redact_url_passwords(text: str) -> str:
    """``postgresql://bot:hunter2@db/x`` → ``postgresql://bot:***@db/x``, anywhere in text."""
    return _URL_PASSWORD.sub(r"\1***@", text)


REDACTOR = RedactSecrets()


def redact_text(text: str) -> str:
    """What the CLI prints for an error: every known secret and URL password removed."""
    return REDACTOR.redact(text)


def redact_in_logs(secret: str, *logger_names: str) -> None:
    """Keep ``secret`` out of log records: on the root handlers and the named loggers."""
    if not secret or len(secret) < 4:
        return
    REDACTOR.secrets.add(secret)
    install_redactor(*logger_names)


def install_redactor(*logger_names: str) -> None:
    """Put the one filter on the root handlers and the named (default: noisy) loggers."""
    for handler in logging.getLogger().handlers:
        if REDACTOR not in handler.filters:
            handler.addFilter(REDACTOR)
    for name in logger_names or NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if REDACTOR not in logger.filters:
            logger.addFilter(REDACTOR)


def protect_settings_secrets(settings: Settings) -> None:
    """Register every secret of the configuration (tokens, signing secrets, DB password)."""
    install_redactor()
    for secret in settings.secret_values():
        redact_in_logs(secret)
