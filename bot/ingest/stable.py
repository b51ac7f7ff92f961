"""Which source files to parse now: settled ones that changed since they were stored.

Why: a digest file is written by another process. Ingesting it half-written delivered the
first items as the whole day; a file counts as written once its size and mtime have not
changed for ``sources_settle`` (30 s by default; pipelines that write elsewhere and rename
into place can set 0). And re-reading hundreds of unchanged files before every delivery
cost seconds: a file whose size and mtime match what the archive's ``source_files`` table
remembers is skipped without being read; one whose stat changed but whose bytes did not
(a ``touch``, a copy) is skipped after hashing, without being parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SourceStat:
    """One source file as ingest last stored (or found unchanged) it."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    digest_date: dt.date | None = None


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int


@dataclass
class Screened:
    """The files to parse, and the ones left alone (with why)."""

    parse: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    unsettled: list[Path] = field(default_factory=list)
    stats: dict[Path, FileStat] = field(default_factory=dict)
    #: Dates of unchanged files (another file claiming one of them is still a clash).
    dates: dict[dt.date, str] = field(default_factory=dict)
    #: Unchanged files whose stat moved (touched): remembered again with the new stat.
    touched: list[tuple[Path, SourceStat]] = field(default_factory=list)


def sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def screen(
    files: list[Path],
    seen: dict[str, SourceStat],
    *,
    settle: dt.timedelta | None,
    now: float | None = None,
) -> Screened:
    """Sort ``files`` into to-parse, unchanged (per ``seen``: path → stored stat) and
    still being written (modified less than ``settle`` ago)."""
    now = time.time() if now is None else now
    out = Screened()
    for path in files:
        try:
            info = path.stat()
        except OSError:
            out.parse.append(path)  # the parser reports the read error, located
            continue
        stat = FileStat(info.st_size, info.st_mtime_ns)
        out.stats[path] = stat
        if settle and now - info.st_mtime < settle.total_seconds():
            out.unsettled.append(path)
            continue
        known = seen.get(str(path))
        if known is not None and known.size == stat.size and known.mtime_ns == stat.mtime_ns:
            out.unchanged.append(path)
        elif known is not None and known.size == stat.size and sha256_of(path) == known.sha256:
            out.unchanged.append(path)
            out.touched.append((path, known))
        else:
            out.parse.append(path)
            continue
        if known.digest_date is not None:
            out.dates[known.digest_date] = str(path)
    return out


def source_stat(path: Path, stat: FileStat, sha256: str, date: dt.date | None) -> SourceStat:
    return SourceStat(str(path), stat.size, stat.mtime_ns, sha256, date)
