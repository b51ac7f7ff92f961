"""Weekly rollup, tag trends and chart latency over bench_query's synthetic archive.

Times ``select_rollup`` (a random ISO week, top 10, repeats dropped), ``count_trends``
(the default 8 weeks and a 52-week period, top 5 tags) and drawing the chart
(``formatters.chart``), p50 and p99 in ms. Baseline, as a ratio: trends counted the naive
way, one ``Archive.count`` per (tag, week), which is what ``digestbot query`` would do.

    python benchmarks/bench_weekly.py [--items 100000] [--runs 50] [--pg URL] [--db PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_query import build, console, percentile, target  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.archive import Archive, count_trends, select_rollup  # noqa: E402
from bot.query import IsoWeek, parse_query  # noqa: E402
from formatters.rollup import chart_image  # noqa: E402
from formatters.templates import Templates  # noqa: E402


def samples(run: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        out.append((time.perf_counter() - began) * 1000)
    return out


def naive_trends(archive: Archive, tags: list[str], weeks: list[IsoWeek], today: dt.date) -> None:
    for tag in tags:
        for week in weeks:
            text = f'tag:"{tag}" since:{week.monday} until:{week.sunday}'
            archive.count(parse_query(text, today=today))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=14)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pg", metavar="URL", help="benchmark PostgreSQL instead of SQLite")
    parser.add_argument("--seed", type=int, default=20260203)
    parser.add_argument("--db", metavar="PATH", help="SQLite file to build (or reuse if it exists)")
    args = parser.parse_args()

    reuse = bool(args.db and Path(args.db).exists())
    rng = random.Random(args.seed)
    with target(args.pg, args.db) as url:
        archive = Archive(url)
        archive.create_schema()
        generated = build(archive, args.items, args.per_day, args.seed, insert_rows=not reuse)
        today = generated[-1][0]
        first = generated[0][0]
        weeks = [IsoWeek.of(first).shift(n) for n in range(1, (today - first).days // 7)]
        templates = Templates("zh")
        default = parse_query("", today=today)
        year = parse_query(f"since:{today - dt.timedelta(days=364)}", today=today)
        trends = count_trends(archive, default, today=today)
        rows = {
            "rollup (random week)": samples(
                lambda: select_rollup(archive, rng.choice(weeks)), args.runs
            ),
            "trends, 8 weeks": samples(
                lambda: count_trends(archive, default, today=today), args.runs
            ),
            "trends, 52 weeks": samples(lambda: count_trends(archive, year, today=today), 10),
            "chart PNG (5 lines)": samples(lambda: chart_image(trends, templates), 10),
        }
        tags = [s.tag for s in trends.series]
        eight = [IsoWeek.parse(w) for w in trends.weeks]
        naive = samples(lambda: naive_trends(archive, tags, eight, today), 5)
        archive.close()
    table = Table(title=f"{args.items:,} items ({url.split(':', 1)[0]}); ms")
    for name in ("what", "p50", "p99", "vs count per tag×week (p50)"):
        table.add_column(name, justify="left" if name == "what" else "right")
    for name, found in rows.items():
        ratio = ""
        if name == "trends, 8 weeks":
            ratio = f"{percentile(naive, 0.5) / percentile(found, 0.5):.1f}× faster"
        table.add_row(
            name, f"{percentile(found, 0.5):.1f}", f"{percentile(found, 0.99):.1f}", ratio
        )
    table.add_row(
        f"naive: {len(tags)} tags × {len(eight)} weeks of counts",
        f"{percentile(naive, 0.5):.1f}",
        f"{percentile(naive, 0.99):.1f}",
        "",
    )
    console.print(table)


if __name__ == "__main__":
    main()
