"""Ingest: expand files/directories/globs, parse each digest, store it in the archive.

One bad file (or one bad item) never stops the others: every complaint is collected as a
located ``Problem`` and the caller decides the exit status. Parsing is CPU-bound pure
Python, so with many files it runs in worker processes while the main process stores,
``STORE_BATCH`` files per transaction when the archive offers ``store_many`` (a batch the
database rejects is stored again file by file, so only the bad file is lost).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.errors import DigestbotError, ParseError
from bot.ingest.coverage import Coverage
from bot.ingest.dates import date_in_name
from bot.ingest.formats import Formats
from bot.ingest.limits import file_too_big, read_capped
from bot.ingest.parser import parse_bytes
from bot.ingest.paths import expand_paths
from bot.ingest.stable import FileStat, screen, source_stat
from bot.models import Digest, ParseResult, Problem

__all__ = ["IngestSummary", "expand_paths", "ingest_paths"]

#: Show a progress bar only when there is enough work for it to be worth looking at.
PROGRESS_MIN_FILES = 6
#: Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 64
#: Parse processes at most (by default one per core).
MAX_WORKERS = 4
#: Files stored per transaction by ``store_many``.
STORE_BATCH = 100

StoreOutcome = Literal["created", "updated", "unchanged"]
DateConflict = Literal["refuse", "header", "name"]


class _Store(Protocol):
    """The part of ``bot.archive.Archive`` that ingest needs."""

    def store(self, digest: Digest, *, path: str, sha256: str) -> StoreOutcome: ...


class _BulkStore(_Store, Protocol):
    """An archive that can also store many files in one transaction."""

    def store_many(self, entries: Sequence[tuple[Digest, str, str]]) -> list[StoreOutcome]: ...


@dataclass
class IngestSummary:
    """What one ingest run did. ``problems`` holds every complaint, ``errors`` the subset
    that stopped a whole file (or a pattern) from being stored."""

    files: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    items: int = 0
    problems: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)
    """What each parsed file held, by path (``digestbot ingest`` prints one line each)."""

    @property
    def total(self) -> Coverage:
        """The coverage of every parsed file together."""
        return sum(self.coverage.values(), Coverage())

    unsettled: list[str] = field(default_factory=list)
    """Files left for a later run: modified less than ``settle`` ago."""

    @property
    def ok(self) -> bool:
        """True when nothing at all was reported."""
        return not self.problems

    def fail(self, problem: Problem) -> None:
        self.errors.append(problem)
        self.problems.append(problem)

    def line(self) -> str:
        """One-line human summary."""
        return (
            f"{self.files} files: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; {self.items} items; {len(self.problems)} problems"
        )


def _parse_one(
    path: Path, formats: Formats | None = None
) -> tuple[str, ParseResult | None, Problem | None]:
    """Read, hash and parse one file (runs in a worker process: returns, never raises)."""
    try:
        data, truncated = read_capped(path)
    except OSError as exc:
        message = f"cannot read file: {exc.strerror or exc}"
        return "", None, Problem(path=str(path), line=1, message=message)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        options = (formats or _NO_FORMATS).options_for(path)
        result = parse_bytes(data, str(path), date_in_name(path.name), options)
        if truncated:
            result.problems.append(file_too_big(str(path), data))
        return sha256, result, None
    except ParseError as exc:
        return sha256, None, Problem(path=exc.path, line=exc.line, message=exc.message)


_NO_FORMATS = Formats()


def _parsed(files: list[Path], workers: int, formats: Formats) -> Iterator[tuple[Path, Any]]:
    """Parse results in file order; in a pool of ``workers`` processes when there are many
    files (``workers=0``: in this process)."""
    if workers < 1 or len(files) < PARALLEL_MIN_FILES:
        for path in files:
            yield path, _parse_one(path, formats)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        chosen = [formats] * len(files)
        yield from zip(files, pool.map(_parse_one, files, chosen, chunksize=8), strict=True)


def ingest_paths(
    archive: _Store,
    patterns: list[str],
    *,
    progress: bool = False,
    console: Console | None = None,
    base: Path | None = None,
    workers: int | None = None,
    batch_size: int = STORE_BATCH,
    formats: Formats | None = None,
    settle: dt.timedelta | None = None,
    not_after: dt.date | None = None,
    date_conflict: DateConflict = "refuse",
) -> IngestSummary:
    """Ingest every digest file that ``patterns`` name into ``archive``.

    Never stops at a bad file: parse errors, item problems and storage failures are all
    collected in the summary. Two files for the same date in one run are a problem too
    (the second is skipped), since storing both would make the archive flip between them.

    ``settle``: leave files modified less than this long ago for a later run (they may
    still be being written). ``not_after``: refuse digests dated later (a typo in the
    year). ``date_conflict``: a file name's date against its header's (see the config's
    ``date_conflict``). Files the archive's ``source_files`` remembers unchanged are not
    read again.
    """
    all_files, missing = expand_paths(patterns, base=base)
    summary = IngestSummary()
    for problem in missing:
        summary.fail(problem)
    sources = getattr(archive, "source_files", None)
    seen = sources.seen(str(path) for path in all_files) if sources is not None else {}
    screened = screen(all_files, seen, settle=settle)
    files = screened.parse
    summary.files += len(screened.unchanged)
    summary.unchanged += len(screened.unchanged)
    summary.unsettled = [str(path) for path in screened.unsettled]
    if sources is not None and screened.touched:
        sources.remember(
            [
                source_stat(path, screened.stats[path], known.sha256, known.digest_date)
                for path, known in screened.touched
            ]
        )
    checks = _Checks(not_after, date_conflict)
    if workers is None:
        # One parser per core: the main process only stores (SQLite has one writer), in
        # batches that leave it waiting for parsed files most of the time.
        workers = max(1, min(os.cpu_count() or 1, MAX_WORKERS))
    dates: dict[dt.date, str] = dict(screened.dates)
    bar = _progress_bar(console) if progress and len(files) >= PROGRESS_MIN_FILES else None
    task = bar.add_task("ingest", total=len(files)) if bar else None
    batch = _Batch(archive, summary, batch_size, screened.stats, checks.conflicted)

    def advance(paths: list[Path]) -> None:
        if bar is not None and task is not None and paths:
            bar.update(task, advance=len(paths), description=escape(paths[-1].name))

    if bar:
        bar.start()
    try:
        for path, (sha256, result, failure) in _parsed(files, workers, formats or _NO_FORMATS):
            summary.files += 1
            if failure is not None:
                summary.fail(failure)
                advance(batch.skipped(path))
            elif (digest := checks.digest(path, result, summary)) is not None and _accept(
                path, digest, summary, dates
            ):
                advance(batch.add(path, sha256, digest))
            else:
                advance(batch.skipped(path))
        advance(batch.flush())
    finally:
        if bar:
            bar.stop()
    return summary


class _Checks:
    """The date rules a parsed file must pass before it is stored."""

    def __init__(self, not_after: dt.date | None, date_conflict: DateConflict) -> None:
        self.not_after = not_after
        self.date_conflict = date_conflict
        #: Files whose name and header disagree: never remembered as unchanged, so a
        #: change of ``date_conflict`` takes effect without touching them.
        self.conflicted: set[Path] = set()

    def digest(self, path: Path, result: ParseResult, summary: IngestSummary) -> Digest | None:
        """The digest to store (its date settled), or None with a located problem."""
        summary.problems.extend(result.problems)
        summary.coverage[str(path)] = Coverage.of(result)
        digest = result.digest
        named = date_in_name(path.name)
        if named is not None and named != digest.date:
            self.conflicted.add(path)
            if self.date_conflict == "refuse":
                summary.fail(
                    Problem(
                        path=str(path),
                        line=1,
                        message=f"the file name says {named} but the header says "
                        f"{digest.date}; not stored (fix one, or set date_conflict: header "
                        f"or name)",
                    )
                )
                return None
            if self.date_conflict == "name":
                digest = digest.model_copy(update={"date": named})
        if self.not_after is not None and digest.date > self.not_after:
            summary.fail(
                Problem(
                    path=str(path),
                    line=1,
                    message=f"dated {digest.date}, more than a day ahead of today; not "
                    f"stored (a typo in the date would hide the real digests)",
                )
            )
            return None
        return digest


def _accept(path: Path, digest: Digest, summary: IngestSummary, dates: dict[dt.date, str]) -> bool:
    """False (with a problem) if another file already had this digest's date."""
    date = digest.date
    if date in dates:
        message = f"same date {date} as {dates[date]}; not stored"
        summary.fail(Problem(path=str(path), line=1, message=message))
        return False
    dates[date] = str(path)
    return True


class _Batch:
    """Parsed files waiting to be stored together; returns the paths that got done."""

    def __init__(
        self,
        archive: _Store,
        summary: IngestSummary,
        size: int,
        stats: dict[Path, FileStat],
        uncached: set[Path],
    ) -> None:
        self.archive, self.summary, self.size, self.stats = archive, summary, size, stats
        self.uncached = uncached
        self.sources = getattr(archive, "source_files", None)
        self.bulk = callable(getattr(archive, "store_many", None))
        self.pending: list[tuple[Path, str, Digest]] = []
        self.done: list[Path] = []

    def add(self, path: Path, sha256: str, digest: Digest) -> list[Path]:
        self.pending.append((path, sha256, digest))
        return self.flush() if not self.bulk or len(self.pending) >= self.size else []

    def skipped(self, path: Path) -> list[Path]:
        """A file that will not be stored (counted for progress in order with the rest)."""
        if not self.pending:
            return [path]
        self.done.append(path)
        return []

    def flush(self) -> list[Path]:
        pending, self.pending = self.pending, []
        outcomes: list[StoreOutcome | None] | None = None
        if self.bulk and len(pending) > 1:
            entries = [(digest, str(path), sha256) for path, sha256, digest in pending]
            try:
                outcomes = list(cast(_BulkStore, self.archive).store_many(entries))
            except DigestbotError:
                outcomes = None  # one file spoils the batch: find it file by file
        if outcomes is None:
            outcomes = [self._store_one(path, sha256, digest) for path, sha256, digest in pending]
        remember = []
        for (path, sha256, digest), outcome in zip(pending, outcomes, strict=True):
            self._count(digest, outcome)
            if outcome is not None and path in self.stats and path not in self.uncached:
                remember.append(source_stat(path, self.stats[path], sha256, digest.date))
        if self.sources is not None and remember:
            self.sources.remember(remember)
        done, self.done = [*self.done, *(path for path, _, _ in pending)], []
        return done

    def _store_one(self, path: Path, sha256: str, digest: Digest) -> StoreOutcome | None:
        try:
            return self.archive.store(digest, path=str(path), sha256=sha256)
        except DigestbotError as exc:
            self.summary.fail(Problem(path=str(path), line=1, message=f"cannot store: {exc}"))
            return None

    def _count(self, digest: Digest, outcome: StoreOutcome | None) -> None:
        if outcome is None:
            return
        if outcome == "created":
            self.summary.created += 1
        elif outcome == "updated":
            self.summary.updated += 1
        else:
            self.summary.unchanged += 1
        self.summary.items += len(digest.items)


def _progress_bar(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=False,
    )
