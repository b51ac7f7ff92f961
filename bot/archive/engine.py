"""Engine creation and archive URLs: one place that knows SQLite and PostgreSQL differ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ArchiveError
from bot.redact import redact_url_passwords

#: Schemes without a driver that mean PostgreSQL: Heroku, libpq and most hosting panels
#: write ``postgres://``, which SQLAlchemy refuses; both go to psycopg (3).
_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def normalize_url(url: str) -> str:
    """``postgres://…`` and ``postgresql://…`` → ``postgresql+psycopg://…``."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the pragmas a shared SQLite file needs (WAL, FKs, busy wait)."""
    url = normalize_url(url)
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        shown = redact_url_passwords(url)
        hint = ""
        if isinstance(exc, ImportError) and url.startswith("postgresql"):
            hint = ' (install the PostgreSQL driver: pip install "digestbot[postgres]")'
        raise ArchiveError(
            f"archive.url: cannot use {shown!r}: {redact_url_passwords(str(exc))}{hint}"
        ) from exc
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; no fsync per commit
            cursor.close()

    return engine


def resolve_url(url: str, base_dir: Any) -> str:
    """Make a relative SQLite file path absolute against ``base_dir`` (the config's folder)."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        shown = redact_url_passwords(url)
        raise ArchiveError(f"archive.url: cannot use {shown!r}: {exc}") from exc
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:"):
        return url
    path = Path(database).expanduser()
    if path.is_absolute():
        return url
    return parsed.set(database=str(Path(base_dir) / path)).render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"
