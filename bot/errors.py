"""The one error hierarchy.

Every failure a user can cause or see is a ``DigestbotError``. Lower layers convert
library exceptions at their edge (``raise ConfigError(...) from exc``); the CLI and the
chat adapters turn these into one clear message each, in one place.
"""

from __future__ import annotations


class DigestbotError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing message."""


class ConfigError(DigestbotError):
    """The configuration is unreadable or invalid; the message names file and key."""


class ParseError(DigestbotError):
    """A digest file cannot be parsed at all (e.g. no date). Names file and line."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class QueryError(DigestbotError):
    """A query term is malformed; the message names the term and the valid keys."""

    def __init__(self, message: str, term: str | None = None) -> None:
        self.term = term
        super().__init__(message)


class ArchiveError(DigestbotError):
    """The archive database is unreachable or inconsistent."""


class CommandError(DigestbotError):
    """A chat command cannot be carried out (unknown command, bad arguments)."""

    def __init__(self, message: str, example: str | None = None) -> None:
        self.example = example
        super().__init__(message)


class PermissionDenied(CommandError):
    """The user may not change this channel's subscriptions."""


class DeliveryError(DigestbotError):
    """Posting to a channel failed."""

    def __init__(self, message: str, *, permanent: bool = False, code: str | None = None) -> None:
        self.permanent = permanent
        self.code = code
        super().__init__(message)


class TransientDeliveryError(DeliveryError):
    """Worth retrying: rate limits, 5xx, timeouts, dropped connections."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the channel is gone, the bot was removed, the token revoked."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, permanent=True, code=code)
