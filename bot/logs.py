"""Log output for operators: text or one JSON object a line, and less noise.

- ``log_format: json`` prints each record as one JSON object (time, level, logger,
  message, and the structured fields a record carries: a delivery line has ``channel``,
  ``platform``, ``date`` and ``outcome``), for Loki, CloudWatch, journald and friends.
- APScheduler logs two INFO lines per job run; the reload job alone runs 1,440 times a
  day. Those lines are demoted to DEBUG.
- python-telegram-bot's rate limiter logs a 429 it passes on as an ERROR with a traceback,
  although the delivery engine retries it after ``retry_after``: demoted to INFO, no
  traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "digestbot"
#: Structured fields copied from a record (``extra=``) into its JSON object.
FIELDS = ("channel", "platform", "date", "outcome", "posted", "total", "error")


class JsonFormatter(logging.Formatter):
    """One JSON object a line; non-ASCII kept readable; a traceback as one string field."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, default=str)


class Demote(logging.Filter):
    """Lowers matching records to ``level`` (and drops their traceback), then lets them
    through only if the logger is enabled for that level."""

    def __init__(self, level: int, prefixes: tuple[str, ...] = (), *, traceback: bool = True):
        super().__init__()
        self.level = level
        self.prefixes = prefixes
        self.traceback = traceback

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= self.level:
            return True
        if self.prefixes and not str(record.msg).startswith(self.prefixes):
            return True
        record.levelno, record.levelname = self.level, logging.getLevelName(self.level)
        if not self.traceback:
            record.exc_info, record.exc_text = None, None
        return logging.getLogger(record.name).isEnabledFor(self.level)


#: logger name → the filter that demotes its routine lines.
DEMOTIONS = {
    "apscheduler.executors.default": Demote(logging.DEBUG, ("Running job", "Job ")),
    # One INFO line per HTTP request (the Bot API URLs even carry the token, redacted).
    "httpx": Demote(logging.DEBUG, ("HTTP Request",)),
    "telegram.ext.AIORateLimiter": Demote(logging.INFO, ("Rate limit hit",), traceback=False),
}


def install(stream: object = None) -> None:
    """Install the stderr handler (unless the host already set up logging) and the
    demotions; called once by the CLI entry point, before the config is read."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for name, demote in DEMOTIONS.items():
        logger = logging.getLogger(name)
        if demote not in logger.filters:
            logger.addFilter(demote)


def configure(level: str, log_format: str) -> None:
    """Apply the config's ``log_level`` and ``log_format`` to our handler."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        if handler.get_name() == HANDLER_NAME:
            handler.setFormatter(
                JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
            )
    # Alembic narrates every migration step at INFO; `db upgrade` prints its own summary.
    quiet = root.level > logging.DEBUG
    logging.getLogger("alembic").setLevel(logging.WARNING if quiet else logging.NOTSET)
