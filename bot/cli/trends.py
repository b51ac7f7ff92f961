"""``digestbot trends [QUERY] [--since D] [--until D] [--out chart.png]``: tag trends.

Prints one line per tag (its total in the period and the change against the period of the
same length before it) and, with ``--out``, writes the chart the chat command would post:
items per ISO week for the tags the query names, or the period's five most frequent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from bot.archive import Archive, count_trends
from bot.chat import TrendsReply
from bot.cli.app import err, out, state
from bot.errors import ConfigError
from bot.query import parse_query
from formatters import Templates, chart_image, console


def trends(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            help='Tags to draw and filters, e.g. "tag:RL tag:Agent -source:量子位".',
            metavar="[QUERY]",
        ),
    ] = "",
    since: Annotated[
        str | None, typer.Option("--since", help="First day of the period.", metavar="D")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day of the period.", metavar="D")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the chart as a PNG here.", metavar="PATH")
    ] = None,
) -> None:
    """Items per week for the most frequent tags (or the tags named), as text and a chart."""
    settings = state(ctx).settings
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    extra = [f"{key}:{value}" for key, value in (("since", since), ("until", until)) if value]
    query = parse_query(" ".join([text, *extra]), today=today)
    archive = Archive.from_settings(settings)
    try:
        archive.create_schema()
        result = count_trends(archive, query, today=today)
    finally:
        archive.close()
    templates = Templates(**settings.template_options())
    for renderable in console.render_reply(TrendsReply(trends=result), templates):
        out.print(renderable, soft_wrap=False)
    if output is None:
        return
    chart = chart_image(result, templates)
    if chart is None:
        raise ConfigError(
            f"--out {output}: no chart drawn (no tagged items in the period, or no CJK font "
            "for these tag names: install fonts-noto-cjk)"
        )
    try:
        output.write_bytes(chart.png)
    except OSError as exc:
        raise ConfigError(f"--out {output}: cannot write: {exc.strerror}") from exc
    err.print(f"chart: {output} ({len(chart.png)} bytes, {chart.title})", highlight=False)
