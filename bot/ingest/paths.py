"""Files named by ``sources``: plain paths, directories (``*.md`` inside) and globs.

Why not ``glob.glob(recursive=True)`` and ``Path.rglob``: both follow directory symlinks
without remembering where they have been, so a link back to a parent under a ``**`` glob
makes them walk a/b/a/b/… until the path is too long, hanging ``ingest``, ``send`` and
``run`` (which then did not even stop on SIGTERM). Here every walk follows links but enters
each real directory once.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.models import Problem

__all__ = ["expand_paths", "has_magic", "markdown_in"]


def has_magic(pattern: str) -> bool:
    return any(char in pattern for char in "*?[")


def _walk(
    root: Path, *, max_depth: int | None = None
) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk`` following links, each real directory once, at most ``max_depth`` deep."""
    seen: set[tuple[int, int]] = set()
    root_depth = len(root.parts)
    for current, dirs, files in os.walk(root, followlinks=True):
        here = Path(current)
        try:
            info = here.stat()
        except OSError:
            dirs[:] = []
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen:
            dirs[:] = []
            continue
        seen.add(key)
        if max_depth is not None and len(here.parts) - root_depth >= max_depth:
            dirs[:] = []
        dirs.sort()
        yield here, dirs, sorted(files)


#: What a directory's digests are: markdown, or the contract JSON a pipeline wrote instead.
DIGEST_SUFFIXES = (".md", ".json")


def markdown_in(directory: Path) -> list[Path]:
    """Every digest file (``*.md``, ``*.json``) under ``directory`` (links followed, each
    directory once)."""
    found = []
    for here, _dirs, files in _walk(directory):
        found.extend(here / name for name in files if name.lower().endswith(DIGEST_SUFFIXES))
    return [path for path in found if path.is_file()]


def _match(parts: list[str], pattern: list[str]) -> bool:
    """Glob semantics per path component; ``**`` spans any number of directories and,
    like ``glob``, hidden names match only a pattern that starts with a dot."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        for skip in range(len(parts) + 1):
            if any(part.startswith(".") for part in parts[:skip]):
                break
            if _match(parts[skip:], rest):
                return True
        return False
    if not parts:
        return False
    name = parts[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, head) and _match(parts[1:], rest)


def _glob(pattern: str) -> list[Path]:
    parts = Path(pattern).parts
    split = next(i for i, part in enumerate(parts) if has_magic(part))
    root = Path(*parts[:split]) if split else Path(".")
    rest = list(parts[split:])
    if not root.is_dir():
        return []
    depth = None if "**" in rest else len(rest)
    matches: list[Path] = []
    for here, dirs, files in _walk(root, max_depth=depth):
        for name in [*dirs, *files]:
            path = here / name
            relative = list(path.relative_to(root).parts)
            if _match(relative, rest):
                matches.append(path if split else Path(os.path.relpath(path)))
    return matches


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
        candidates = _glob(full) if has_magic(full) else [Path(full)]
        for candidate in candidates:
            if candidate.is_dir():
                matches.extend(markdown_in(candidate))
            elif candidate.is_file():
                matches.append(candidate)
        if not matches:
            missing.append(Problem(path=pattern, line=0, message="no digest files match this path"))
        for match in matches:
            found.setdefault(match.resolve(), match)
    return sorted(found.values(), key=lambda p: str(p)), missing
