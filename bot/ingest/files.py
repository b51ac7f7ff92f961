"""Ingest: expand files/directories/globs, parse each digest, store it in the archive.

One bad file (or one bad item) never stops the others: every complaint is collected as a
located ``Problem`` and the caller decides the exit status. Parsing is CPU-bound pure
Python, so with many files it runs in worker processes while the main process stores,
``STORE_BATCH`` files per transaction when the archive offers ``store_many`` (a batch the
database rejects is stored again file by file, so only the bad file is lost).
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.errors import DigestbotError, ParseError
from bot.ingest.coverage import Coverage
from bot.ingest.dates import date_in_name
from bot.ingest.formats import Formats
from bot.ingest.parser import parse_bytes
from bot.models import Digest, ParseResult, Problem

if TYPE_CHECKING:
    import datetime as dt

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


def _has_magic(pattern: str) -> bool:
    return any(char in pattern for char in "*?[")


#: What a directory's digests are: markdown, or the contract JSON a pipeline wrote instead.
DIGEST_SUFFIXES = (".md", ".json")


def _markdown_in(directory: Path) -> list[Path]:
    return [
        path
        for path in directory.rglob("*")
        if path.suffix.lower() in DIGEST_SUFFIXES and path.is_file()
    ]


def expand_paths(
    patterns: Iterable[str], *, base: Path | None = None
) -> tuple[list[Path], list[Problem]]:
    """Files named, ``*.md`` and ``*.json`` under directories (recursively) and glob matches.

    Relative patterns are taken relative to ``base`` when given (config ``sources`` are
    relative to the config file). Returns sorted, de-duplicated files and one problem per
    pattern that matched nothing.
    """
    found: dict[Path, Path] = {}
    missing: list[Problem] = []
    for pattern in patterns:
        full = pattern
        if base is not None and not Path(pattern).expanduser().is_absolute():
            full = str(base / pattern)
        full = os.path.expanduser(full)
        matches: list[Path] = []
        candidates = (
            [Path(p) for p in glob.glob(full, recursive=True)] if _has_magic(full) else [Path(full)]
        )
        for candidate in candidates:
            if candidate.is_dir():
                matches.extend(_markdown_in(candidate))
            elif candidate.is_file():
                matches.append(candidate)
        if not matches:
            missing.append(Problem(path=pattern, line=0, message="no digest files match this path"))
        for match in matches:
            found.setdefault(match.resolve(), match)
    return sorted(found.values(), key=lambda p: str(p)), missing


def _parse_one(
    path: Path, formats: Formats | None = None
) -> tuple[str, ParseResult | None, Problem | None]:
    """Read, hash and parse one file (runs in a worker process: returns, never raises)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        message = f"cannot read file: {exc.strerror or exc}"
        return "", None, Problem(path=str(path), line=1, message=message)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        options = (formats or _NO_FORMATS).options_for(path)
        return sha256, parse_bytes(data, str(path), date_in_name(path.name), options), None
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
) -> IngestSummary:
    """Ingest every digest file that ``patterns`` name into ``archive``.

    Never stops at a bad file: parse errors, item problems and storage failures are all
    collected in the summary. Two files for the same date in one run are a problem too
    (the second is skipped), since storing both would make the archive flip between them.
    """
    files, missing = expand_paths(patterns, base=base)
    summary = IngestSummary()
    for problem in missing:
        summary.fail(problem)
    if workers is None:
        # One parser per core: the main process only stores (SQLite has one writer), in
        # batches that leave it waiting for parsed files most of the time.
        workers = max(1, min(os.cpu_count() or 1, MAX_WORKERS))
    dates: dict[dt.date, str] = {}
    bar = _progress_bar(console) if progress and len(files) >= PROGRESS_MIN_FILES else None
    task = bar.add_task("ingest", total=len(files)) if bar else None
    batch = _Batch(archive, summary, batch_size)

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
            elif _accept(path, result, summary, dates):
                advance(batch.add(path, sha256, result.digest))
            else:
                advance(batch.skipped(path))
        advance(batch.flush())
    finally:
        if bar:
            bar.stop()
    return summary


def _accept(
    path: Path, result: ParseResult, summary: IngestSummary, dates: dict[dt.date, str]
) -> bool:
    """Record a parsed file's problems; False if another file already had its date."""
    summary.problems.extend(result.problems)
    summary.coverage[str(path)] = Coverage.of(result)
    date = result.digest.date
    if date in dates:
        message = f"same date {date} as {dates[date]}; not stored"
        summary.fail(Problem(path=str(path), line=1, message=message))
        return False
    dates[date] = str(path)
    return True


class _Batch:
    """Parsed files waiting to be stored together; returns the paths that got done."""

    def __init__(self, archive: _Store, summary: IngestSummary, size: int) -> None:
        self.archive, self.summary, self.size = archive, summary, size
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
        for (_, _, digest), outcome in zip(pending, outcomes, strict=True):
            self._count(digest, outcome)
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
