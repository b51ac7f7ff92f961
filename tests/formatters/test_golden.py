"""Golden-file (snapshot) tests: the reference digest and sample replies on every platform.

The expected payloads live in ``tests/formatters/golden/``. After an intended change to
the output, regenerate them and review the diff before committing::

    UPDATE_GOLDEN=1 /work/venv/bin/python -m pytest tests/formatters/test_golden.py

The input is the frozen JSON ``tests/data/formatters_reference_digest.json`` (the parser's
output for ``examples/digests/2026-02-03.md``), so these snapshots move only when the
formatters do.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.channels import Channel
from bot.chat import ErrorReply, HelpReply, SearchReply, SubscriptionReply
from bot.models import Digest, Hit
from formatters import console, slack, telegram
from formatters.templates import Templates

GOLDEN = Path(__file__).resolve().parent / "golden"


def compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:  # show the first differing line, not two 100 kB strings
        for number, (a, e) in enumerate(
            zip(actual.splitlines(), expected.splitlines(), strict=False), 1
        ):
            assert a == e, f"{name}:{number} differs (UPDATE_GOLDEN=1 regenerates after review)"
        assert actual == expected, f"{name}: length differs"


def dump(payloads: list[Any]) -> str:
    return json.dumps(payloads, ensure_ascii=False, indent=1) + "\n"


def replies() -> list[Any]:
    day = dt.date(2026, 2, 3)
    hits = [
        Hit(rank=2, title="INT4 QAT", orgs=["SGLang"], url="https://e.com/2", date=day, stars=5,
            tags=["强化学习", "QAT"], source="机器之心"),
        Hit(rank=7, title="Kimi K2.5", url="https://e.com/7", date=day, stars=4, tags=["RL"]),
    ]  # fmt: skip
    sub = Channel("slack", "C1", "0 9 * * *", "Asia/Shanghai", ("tag:Agent",))
    return [
        HelpReply(),
        SearchReply(query="tag:RL", hits=hits, total=12, offset=0, limit=2),
        SubscriptionReply(action="subscribed", subscription=sub, topic="tag:Agent"),
        ErrorReply(message="unknown query key 'tags:'", example="/ai tag:RL"),
    ]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_slack_golden(reference: Digest, language: str) -> None:
    templates = Templates(language)  # type: ignore[arg-type]
    digest = [m.model_dump() for m in slack.render_digest(reference, templates)]
    compare(f"slack_reference_{language}.json", dump(digest))
    answers = [[m.model_dump() for m in slack.render_reply(r, templates)] for r in replies()]
    compare(f"slack_replies_{language}.json", dump(answers))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_telegram_golden(reference: Digest, language: str) -> None:
    templates = Templates(language)  # type: ignore[arg-type]
    digest = [m.model_dump() for m in telegram.render_digest(reference, templates)]
    compare(f"telegram_reference_{language}.json", dump(digest))
    answers = [[m.model_dump() for m in telegram.render_reply(r, templates)] for r in replies()]
    compare(f"telegram_replies_{language}.json", dump(answers))


def test_console_golden(reference: Digest, templates: Templates) -> None:
    buffer = Console(file=io.StringIO(), width=80, color_system=None, highlight=False)
    for renderable in console.render_digest(reference, templates):
        buffer.print(renderable)
    compare("console_reference_zh.txt", buffer.file.getvalue())  # type: ignore[attr-defined]
