"""Ingest: digest files in, typed ``Digest`` models and located problems out.

``parser`` reads one file's markdown-it token stream: ``layout`` decides which headings are
items and categories, ``body`` reads an item's fields, and single values come from
``fields``, ``dates``, ``ratings``, ``headings`` and ``labels``; ``repeats`` drops repeated
items and spots pipeline fallbacks; ``contract`` reads the contract JSON instead of
markdown; ``formats`` turns the ``formats:`` config into parse options; ``coverage`` says
what was read and what is missing. ``files`` expands paths and globs and stores what it
parsed, ``sources`` waits for a late file. Nothing here knows about chat or platforms.
"""

from __future__ import annotations

from bot.ingest.coverage import Coverage
from bot.ingest.dates import date_in_name
from bot.ingest.files import IngestSummary, expand_paths, ingest_paths
from bot.ingest.formats import DEFAULT_OPTIONS, Formats, ParseOptions
from bot.ingest.parser import file_sha256, parse_bytes, parse_file, parse_text
from bot.ingest.sources import SourceWatcher
from bot.ingest.stable import SourceStat

__all__ = [
    "DEFAULT_OPTIONS",
    "Coverage",
    "Formats",
    "IngestSummary",
    "ParseOptions",
    "SourceStat",
    "SourceWatcher",
    "date_in_name",
    "expand_paths",
    "file_sha256",
    "ingest_paths",
    "parse_bytes",
    "parse_file",
    "parse_text",
]
