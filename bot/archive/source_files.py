"""What ingest last saw of each source file: size, mtime and hash.

Why in the archive: ``send`` and ``run`` ingest ``sources`` before every delivery and
every poll; re-reading and re-parsing hundreds of unchanged files each time cost seconds.
With this table an unchanged file costs one ``stat``, shared by every process and replica
that uses the archive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.archive.schema import source_files
from bot.errors import ArchiveError
from bot.ingest import SourceStat


class SourceFiles:
    """Reads and writes the ``source_files`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def seen(self, paths: Iterable[str]) -> dict[str, SourceStat]:
        wanted = list(paths)
        found: dict[str, SourceStat] = {}
        try:
            with self.engine.connect() as conn:
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    for row in conn.execute(
                        select(source_files).where(source_files.c.path.in_(chunk))
                    ):
                        found[row.path] = SourceStat(
                            row.path, row.size, int(row.mtime_ns), row.sha256, row.digest_date
                        )
        except SQLAlchemyError as exc:
            raise ArchiveError(f"source files: cannot read: {exc}") from exc
        return found

    def remember(self, stats: Sequence[SourceStat]) -> None:
        if not stats:
            return
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "path": s.path,
                "size": s.size,
                "mtime_ns": str(s.mtime_ns),
                "sha256": s.sha256,
                "digest_date": s.digest_date,
                "checked_at": now,
            }
            for s in stats
        ]
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        delete(source_files).where(source_files.c.path.in_([s.path for s in stats]))
                    )
                    conn.execute(insert(source_files), rows)
                return
            except IntegrityError:
                # Another process remembered the same file at the same moment; it is only
                # a cache, so one retry, then leave it to the next run.
                if attempt == 2:
                    return
            except SQLAlchemyError as exc:
                raise ArchiveError(f"source files: cannot write: {exc}") from exc
