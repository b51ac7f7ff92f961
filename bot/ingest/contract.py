"""The contract JSON (``digestbot parse --json``) as an input file: a pipeline may skip
markdown altogether. Validation errors are located (line of the JSON, the field's path)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from bot.errors import ParseError
from bot.ingest.ratings import Rating
from bot.models import Digest, ParseResult, Problem

__all__ = ["parse_contract"]


def parse_contract(text: str, path: str) -> ParseResult:
    """Read one day's contract JSON; items with a repeated rank are reported and dropped."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(path, exc.lineno, f"not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ParseError(path, 1, "expected a JSON object with date, title and items")
    problems: list[Problem] = []
    items = data.get("items")
    kept: list[Any] = []
    seen: set[Any] = set()
    for number, raw in enumerate(items if isinstance(items, list) else []):
        rank = raw.get("rank") if isinstance(raw, dict) else None
        if rank in seen:
            where = _line_of(text, rank)
            problems.append(
                Problem(
                    path=path,
                    line=where,
                    message=f"items[{number}]: duplicate rank {rank}; this item is skipped",
                )
            )
            continue
        seen.add(rank)
        kept.append(_with_stars(raw))
    if isinstance(items, list):
        data = {**data, "items": kept}
    try:
        digest = Digest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ParseError(path, 1, f"{where}: {first['msg']}") from exc
    return ParseResult(digest=digest, problems=problems, dropped=len(problems))


def _with_stars(raw: Any) -> Any:
    """Derive ``stars`` from ``score`` and ``score_scale`` when only the score is given."""
    if not isinstance(raw, dict) or raw.get("stars") is not None:
        return raw
    score, scale = raw.get("score"), raw.get("score_scale")
    if isinstance(score, int | float) and isinstance(scale, int | float) and scale > 0:
        return {**raw, "stars": Rating(score=float(score), scale=float(scale)).stars}
    return raw


def _line_of(text: str, rank: Any) -> int:
    """The line of the second ``"rank": N`` (best effort; 1 when not found)."""
    needle = f'"rank": {json.dumps(rank)}'
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    return text.count("\n", 0, second) + 1 if second >= 0 else 1
