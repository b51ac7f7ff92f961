"""Ingest: digest files in, typed ``Digest`` models and located problems out.

``parser`` reads one file's markdown-it token stream, ``fields`` reads single field values,
``files`` expands paths and globs and stores what it parsed, ``sources`` waits for a late
file. Nothing here knows about storage, chat or platforms.
"""

from __future__ import annotations

from bot.ingest.fields import date_in_name
from bot.ingest.files import expand_paths, ingest_paths
from bot.ingest.parser import file_sha256, parse_bytes, parse_file, parse_text
from bot.ingest.sources import SourceWatcher

__all__ = [
    "SourceWatcher",
    "date_in_name",
    "expand_paths",
    "file_sha256",
    "ingest_paths",
    "parse_bytes",
    "parse_file",
    "parse_text",
]
