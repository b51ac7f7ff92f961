"""Render time per digest for each platform (target: < 20 ms for the reference digest).

Renders ``examples/digests/2026-02-03.md`` (14 items, 45 kB) ``--runs`` times per platform
and reports p50/p99 in two conditions:

- **cold**: the formatters' caches are cleared before every run, so each run pays
  markdown-it-py's tokenisation of every section (the first channel of the morning);
- **warm**: the cache is kept (every further channel and platform that morning, since the
  sections are parsed once per process and the lines are immutable).

It also prints the floor, bare ``MarkdownIt.parse`` of the same section text, and the
payload sizes, so a regression can be told apart from markdown-it's own cost.

    python benchmarks/bench_render.py [--runs 200] [--file PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.ingest import parse_file  # noqa: E402
from bot.models import Digest  # noqa: E402
from formatters import console as console_fmt  # noqa: E402
from formatters import markdown, slack, telegram  # noqa: E402
from formatters.templates import Templates  # noqa: E402

TARGET_MS = 20.0
out = Console()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(run: Callable[[], object], runs: int, *, cold: bool) -> list[float]:
    run()  # import-time and jinja2 compilation costs are not per-digest costs
    samples = []
    for _ in range(runs):
        if cold:
            markdown.clear_caches()
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def console_render(digest: Digest, templates: Templates) -> None:
    """Console renderables are lazy; render them to a buffer so the cost is counted."""
    sink = Console(file=open("/dev/null", "w"), width=80, color_system=None)  # noqa: SIM115
    for renderable in console_fmt.render_digest(digest, templates):
        sink.print(renderable)
    sink.file.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--file", type=Path, default=ROOT / "examples" / "digests" / "2026-02-03.md"
    )
    args = parser.parse_args()

    digest = parse_file(args.file).digest
    templates = Templates("zh")
    sections = [s.markdown for item in digest.items for s in item.sections]
    platforms: dict[str, Callable[[], object]] = {
        "slack": lambda: slack.render_digest(digest, templates),
        "telegram": lambda: telegram.render_digest(digest, templates),
        "console (to 80 cols)": lambda: console_render(digest, templates),
    }

    table = Table(
        title=f"render {args.file.name}: {len(digest.items)} items, {args.runs} runs each"
    )
    for column in ("platform", "cache", "p50 ms", "p99 ms", f"p50 / {TARGET_MS:.0f} ms target"):
        table.add_column(column, justify="right" if "ms" in column else "left")
    for name, run in platforms.items():
        for cold in (True, False):
            samples = measure(run, args.runs, cold=cold)
            p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
            table.add_row(
                name,
                "cold" if cold else "warm",
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{p50 / TARGET_MS:.2f}×",
            )

    md = markdown.parser()
    floor = measure(lambda: [md.parse(s) for s in sections], args.runs, cold=False)
    table.add_row(
        "markdown-it parse only",
        "-",
        f"{percentile(floor, 0.5):.2f}",
        f"{percentile(floor, 0.99):.2f}",
        "",
    )
    out.print(table)

    slack_messages = slack.render_digest(digest, templates)
    telegram_messages = telegram.render_digest(digest, templates)
    blocks = sum(len(m.blocks) for m in slack_messages)
    out.print(
        f"slack: {len(slack_messages)} messages, {blocks} blocks · "
        f"telegram: {len(telegram_messages)} messages, "
        f"{statistics.mean(len(m.text) for m in telegram_messages):.0f} chars of HTML on average"
    )


if __name__ == "__main__":
    main()
