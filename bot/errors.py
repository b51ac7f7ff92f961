"""The one error hierarchy.

Every failure a user can cause or see is a ``DigestbotError``; ``str(err)`` is a complete,
user-facing message. Lower layers convert library exceptions at their edge
(``raise ConfigError(...) from exc``); the CLI (``bot.cli.commands.main``) and the command core
(``bot.chat.core``) turn them into one clear message each, in one place::

    DigestbotError
    ├── ConfigError                  the configuration is unreadable or invalid
    ├── UsageError                   a command line that cannot work as written (option)
    ├── ParseError                   a digest file cannot be read at all (path, line)
    ├── FieldError                   one value in a digest is malformed: reported, item kept
    │   └── HeadingError             an item heading cannot be read: reported, item skipped
    ├── QueryError                   a query term is malformed (term)
    ├── ArchiveError                 the database is unreachable or inconsistent
    │   └── LostClaim                another sender took over this delivery's ledger row
    ├── CommandError                 a chat command cannot be carried out (example)
    │   └── PermissionDenied         this user may not change this channel
    ├── MalformedRequest             a signed platform request whose body is not one
    └── DeliveryError                the platform rejected this payload (code)
        ├── TransientDeliveryError   worth retrying (code, retry_after, maybe_posted)
        ├── WindowClosed             transient errors outlasted ``delivery.window``
        ├── PermanentDeliveryError   this channel is gone: deactivate it (code)
        └── PlatformUnavailable      the whole platform refuses us (token, key): pause it
"""

from __future__ import annotations


class DigestbotError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing message."""


class ConfigError(DigestbotError):
    """The configuration is unreadable or invalid; the message names file and key."""


class UsageError(DigestbotError):
    """A command line that cannot be carried out as written (exit status 2, like click's)."""

    option: str | None

    def __init__(self, message: str, option: str | None = None) -> None:
        self.option = option
        super().__init__(message)


class ParseError(DigestbotError):
    """A digest file cannot be parsed at all (e.g. no date). Names file and line."""

    path: str
    line: int
    message: str

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class FieldError(DigestbotError):
    """One value in a digest (a time, a rating, a link) is present but malformed.

    Never raised out of the parser: it becomes a located ``Problem`` (``FILE:LINE``) and the
    item is kept with that field empty, because one bad value must not cost the item.
    """


class HeadingError(FieldError):
    """An item heading cannot be read (no number in a numbered file, no title): the item
    is skipped, reported where it stands and counted as dropped."""


class QueryError(DigestbotError):
    """A query term is malformed; the message names the term and the valid keys."""

    term: str | None

    def __init__(self, message: str, term: str | None = None) -> None:
        self.term = term
        super().__init__(message)


class ArchiveError(DigestbotError):
    """The archive database is unreachable or inconsistent."""


class LostClaim(ArchiveError):
    """Another sender took over this delivery's ledger row: stop, do not post or record.

    Why an archive error: it is the ledger's answer to a write whose owner no longer holds
    the row, and the sender must stop at once rather than retry.
    """


class CommandError(DigestbotError):
    """A chat command cannot be carried out (unknown command, bad arguments)."""

    example: str | None

    def __init__(self, message: str, example: str | None = None) -> None:
        self.example = example
        super().__init__(message)


class PermissionDenied(CommandError):
    """The user may not change this channel's subscriptions."""


class MalformedRequest(DigestbotError):
    """A correctly signed platform request whose body cannot be what it claims (HTTP 400)."""


class DeliveryError(DigestbotError):
    """Posting failed: the platform rejected this payload. The channel stays active."""

    code: str | None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        self.code = code
        super().__init__(message)


class TransientDeliveryError(DeliveryError):
    """Worth retrying: rate limits, 5xx, timeouts, dropped connections.

    ``retry_after`` is the platform's hint in seconds (None: use the backoff);
    ``maybe_posted`` says the request may have reached the platform, so the sender looks
    for the message before posting it again.
    """

    retry_after: float | None
    maybe_posted: bool

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        maybe_posted: bool = False,
    ) -> None:
        self.retry_after = retry_after
        self.maybe_posted = maybe_posted
        super().__init__(message, code=code)


class WindowClosed(DeliveryError):
    """Transient errors lasted past ``delivery.window``: release the row for a later run."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help this channel: it is gone, archived, or the bot was removed."""


class PlatformUnavailable(DeliveryError):
    """The whole platform refuses us (revoked token, bad key, wrong API URL).

    Not the channel's fault: deliveries to that platform pause and stay retryable, and
    deliver as soon as the credentials work again.
    """
