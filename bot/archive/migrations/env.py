"""Alembic environment for the archive: runs on the connection ``bot.archive.migrate`` hands
over, or on ``-x url=…`` / ``$DIGESTBOT_ARCHIVE_URL`` when the ``alembic`` command is used.

``render_as_batch`` because SQLite cannot alter most things in place: batch mode copies the
table (``bot.archive.migrate`` turns foreign keys off around it, so no cascade fires).
"""

from __future__ import annotations

import os
from typing import Any

from alembic import context
from sqlalchemy import create_engine

from bot.archive.migrate import include_object
from bot.archive.schema import metadata

config = context.config


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "DIGESTBOT_ARCHIVE_URL", "sqlite:///digestbot.db"
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
