"""Schema migrations with Alembic: upgrade an archive in place, from any release.

Revisions live in ``bot/archive/migrations/versions/`` (``0001`` is release 0.1.0's schema).
An archive is in one of three states:

- empty: the tables of ``schema.py`` are created at once and stamped with the head
  revision (Alembic's recommended start; a test proves the revisions build the same);
- made by 0.1.0 (tables, no ``alembic_version``): stamped ``0001``, then upgraded;
- versioned: upgraded from its revision to the head.

After an upgrade, ``install_text_search`` re-installs the FTS5 / pg_trgm objects. A
revision with long work (``0006`` indexing the words of every archived item) reports it
through ``REPORT``: ``Archive.create_schema(progress=True)`` draws it as a progress bar. SQLite
runs revisions with foreign keys off: batch mode copies and drops tables, and a drop with
foreign keys on would cascade into ``item_tags`` and ``delivery_messages``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Connection, Engine, create_engine, inspect, text

from bot.archive.schema import install_text_search, is_managed, metadata
from bot.errors import ArchiveError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
#: The tables of release 0.1.0: an unversioned archive must have all of them.
BASELINE_TABLES = frozenset(
    {"digests", "items", "item_tags", "subscriptions", "deliveries", "delivery_messages"}
)
#: ``Config.attributes`` key of the callback revisions report long work to (what, items
#: done, of how many): ``0006`` writing the word rows of an archive's items.
REPORT = "report"
Report = Callable[[str, int, int], None]
#: Serialises upgrades of one PostgreSQL database by replicas starting together.
_PG_LOCK_KEY = 0x6469676573740001


@dataclass(frozen=True)
class SchemaState:
    """Where an archive stands: its revision (None: unversioned) and the code's head."""

    current: str | None
    head: str
    has_tables: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if not self.has_tables:
            return f"empty (will be created at {self.head})"
        if self.current is None:
            return f"release 0.1.0, unversioned (upgrade to {self.head})"
        if self.up_to_date:
            return f"{self.current} (head)"
        return f"{self.current} (upgrade to {self.head})"


def alembic_config(connection: Connection | None = None, report: Report | None = None) -> Config:
    """Alembic's configuration for our script directory, optionally bound to a connection
    and given a progress callback for long revisions."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    if report is not None:
        config.attributes[REPORT] = report
    return config


def include_object(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for autogenerate: our tables, not the text-search
    objects (``install_text_search`` owns them), and an index only on its own dialect."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return is_managed(type_, name) and (only is None or only == dialect)

    return include


def head_revision() -> str:
    """The newest revision shipped (read once per script directory)."""
    return _head(str(MIGRATIONS))


@cache
def _head(directory: str) -> str:
    config = alembic_config()
    config.set_main_option("script_location", directory)
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise ArchiveError(f"no schema revisions in {directory}")
    return head


def state(conn: Connection) -> SchemaState:
    """The archive's revision without writing anything (a read-only file stays usable)."""
    has_tables = inspect(conn).has_table("digests")
    current = MigrationContext.configure(conn).get_current_revision() if has_tables else None
    return SchemaState(current=current, head=head_revision(), has_tables=has_tables)


def upgrade(engine: Engine, report: Report | None = None) -> tuple[SchemaState, SchemaState]:
    """Bring the archive to the head revision; returns the states before and after.
    ``report`` hears of long work (what, items done, of how many) as revisions do it."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # no effect inside a transaction
            conn.commit()
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                before = state(conn)
                _bring_to_head(conn, before, report)
                install_text_search(conn)
                if sqlite and before.has_tables and not before.up_to_date:
                    # A batch copy keeps item ids; refill the text index to be sure.
                    conn.exec_driver_sql("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
                    _check_foreign_keys(conn)
                after = state(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    return before, after


@contextlib.contextmanager
def progress_bar(console: Console | None = None) -> Iterator[Report]:
    """A ``Report`` drawn as a rich progress bar (on stderr), shown only once a revision
    has long work to report, so an archive already at the head prints nothing."""
    bar = Progress(
        TextColumn("[progress.description]{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
    )
    tasks: dict[str, Any] = {}

    def report(what: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done)

    try:
        yield report
    finally:
        if tasks:
            bar.stop()


def _bring_to_head(conn: Connection, before: SchemaState, report: Report | None) -> None:
    config = alembic_config(conn, report)
    if not before.has_tables:
        metadata.create_all(conn)
        command.stamp(config, "head")
        return
    if before.current is None:
        missing = BASELINE_TABLES - set(inspect(conn).get_table_names())
        if missing:
            raise ArchiveError(
                f"the archive has no schema version and lacks {', '.join(sorted(missing))}: "
                "it was not made by digestbot 0.1.0 or later"
            )
        command.stamp(config, BASELINE)
    if not before.up_to_date:
        command.upgrade(config, "head")


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise ArchiveError(f"the upgrade broke foreign keys: {broken[:5]}")


def new_revision(message: str, *, directory: Path = MIGRATIONS) -> Path:
    """Write the next revision (``NNNN_message.py``) with the operations Alembic finds
    between the revisions so far and ``schema.py``: change schema.py, run this, read the
    file it wrote (batch mode for SQLite is already on), commit both."""
    config = alembic_config()
    config.set_main_option("script_location", str(directory))
    script = ScriptDirectory.from_config(config)
    number = max((int(rev.revision) for rev in script.walk_revisions()), default=0) + 1
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'head.db'}")
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            written = command.revision(
                config, message=message, autogenerate=True, rev_id=f"{number:04d}"
            )
        engine.dispose()
    scripts = written if isinstance(written, list) else [written]
    return Path(scripts[0].path)  # type: ignore[union-attr]


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        raise SystemExit('usage: python -m bot.archive.migrate revision "what changed"')
    print(new_revision(sys.argv[2]))
