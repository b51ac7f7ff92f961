"""Web reader latency over a synthetic 100,000-item archive (target: p99 < 20 ms, warm).

Builds the archive with ``bench_query.build`` (``--db`` keeps it for reuse, ``--pg`` uses
PostgreSQL), serves it exactly as ``digestbot run`` does (``start_http_server``, the reader
on its worker threads) and requests pages over real HTTP, one at a time, from a client in
the same process (so the figures include the client's own share). After a warm-up pass:

- **day** ``/d/DATE`` and **item** ``/d/DATE/RANK`` of random days ("first visit": pages
  not requested before, so their markdown is rendered for the first time) and the same
  pages again ("repeat");
- **tags** ``/tags`` (counts kept under the archive's stamp; the first, cold count is
  reported on its own) and **search** ``/search?q=tag:…``;
- **feed** ``/feed.atom?q=…``: a full answer against a conditional request with the
  ETag it returned (must be 304 with an empty body).

"p50/p90/p99" are wall-clock; "cpu" is the CPU time the process (client and server, all
threads) spent on each request, which stays meaningful when other work shares the cores.

    python benchmarks/bench_web.py [--items 100000] [--runs 300] [--pg URL | --db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import aiohttp  # noqa: E402
from bench_query import build, percentile  # noqa: E402
from bench_query import target as archive_url  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.archive import Archive  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.runtime import bound_port, start_http_server  # noqa: E402

console = Console(width=140)
TARGET_P99_MS = 20.0
TAG_QUERIES = ["tag:RL", "tag:Agent", "tag:视频生成", "tag:MoE", "tag:开源", "tag:具身智能"]


#: CPU milliseconds of the last ``timed`` request (this process: client and server).
LAST_CPU: list[float] = [0.0]


async def timed(
    session: aiohttp.ClientSession, path: str, headers: dict[str, str] | None = None
) -> tuple[float, int, bytes, aiohttp.ClientResponse]:
    """Wall-clock ms of one request; its CPU ms (all threads) goes to ``LAST_CPU``."""
    began, cpu = time.perf_counter(), time.process_time()
    async with session.get(path, headers=headers or {}) as response:
        body = await response.read()
    elapsed = (time.perf_counter() - began) * 1000
    LAST_CPU[0] = (time.process_time() - cpu) * 1000
    return elapsed, response.status, body, response


Samples = tuple[list[float], list[float]]


async def series(session: aiohttp.ClientSession, paths: list[str], expect: int = 200) -> Samples:
    """Wall-clock and CPU milliseconds of each request, in order."""
    wall, cpu = [], []
    for path in paths:
        elapsed, status, _, _ = await timed(session, path)
        if status != expect:
            raise SystemExit(f"{path}: HTTP {status}, expected {expect}")
        wall.append(elapsed)
        cpu.append(LAST_CPU[0])
    return wall, cpu


async def expect_304(session: aiohttp.ClientSession, path: str, headers: dict[str, str]) -> float:
    """Time a conditional request that must be answered 304 with an empty body."""
    elapsed, status, body, _ = await timed(session, path, headers)
    if status != 304 or body:
        raise SystemExit(f"{path} with {list(headers)}: HTTP {status}, {len(body)} bytes")
    return elapsed


def row(table: Table, name: str, samples: Samples, note: str = "") -> None:
    wall, cpu = samples
    p99 = percentile(wall, 0.99)
    verdict = "ok" if p99 < TARGET_P99_MS else "over"
    table.add_row(
        name,
        str(len(wall)),
        f"{statistics.median(wall):.2f}",
        f"{percentile(wall, 0.9):.2f}",
        f"{p99:.2f}",
        note or verdict,
        f"{statistics.median(cpu):.2f}",
        f"{percentile(cpu, 0.99):.2f}",
    )


async def measure(url: str, runs: int, seed: int) -> None:
    archive = Archive(url)
    settings = Settings(web={"enabled": True, "port": 0})
    runner = await start_http_server(settings, archive=archive, scheduler=None, listeners=[])
    base = f"http://127.0.0.1:{bound_port(runner)}"
    rng = random.Random(seed)
    dates = archive.dates()
    try:
        async with aiohttp.ClientSession(base_url=base) as session:
            warm = rng.sample(dates, 30)
            cold_tags, _, _, _ = await timed(session, "/tags")
            await series(session, [f"/d/{d}" for d in warm] + [f"/d/{d}/1" for d in warm])
            await series(session, ["/tags", *(f"/search?q={q}" for q in TAG_QUERIES)])

            days = [f"/d/{d}" for d in rng.sample(dates, runs)]
            items = [f"/d/{d}/{rng.randint(1, 14)}" for d in rng.sample(dates, runs)]
            searches = [f"/search?q={rng.choice(TAG_QUERIES)}" for _ in range(runs)]
            table = Table(title=f"web reader over {len(dates):,} days ({archive.dialect}; ms)")
            columns = ("page", "requests", "p50", "p90", "p99", f"p99 < {TARGET_P99_MS:g}",
                       "cpu p50", "cpu p99")  # fmt: skip
            for name in columns:
                table.add_column(name, justify="left" if name == "page" else "right")
            row(table, "day, first visit", await series(session, days))
            row(table, "day, repeat", await series(session, days))
            row(table, "item, first visit", await series(session, items))
            row(table, "item, repeat", await series(session, items))
            row(table, "tags", await series(session, ["/tags"] * runs))
            row(table, "search tag:…, 20 hits", await series(session, searches), note="—")

            feed_path = "/feed.atom?q=tag:RL"
            full: Samples = ([], [])
            conditional: Samples = ([], [])
            for _ in range(max(20, runs // 5)):
                elapsed, status, body, response = await timed(session, feed_path)
                assert status == 200 and body.startswith(b"<?xml"), status
                full[0].append(elapsed)
                full[1].append(LAST_CPU[0])
                etag = {"If-None-Match": response.headers["ETag"]}
                conditional[0].append(await expect_304(session, feed_path, etag))
                conditional[1].append(LAST_CPU[0])
                since = {"If-Modified-Since": response.headers["Last-Modified"]}
                await expect_304(session, feed_path, since)
            row(table, "feed, full (50 entries)", full, note="—")
            row(table, "feed, 304 (If-None-Match)", conditional, note="—")
            console.print(table)
            load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
            console.print(f"load average during the run: {load} on {os.cpu_count()} cores")
            ratio = statistics.median(full[0]) / statistics.median(conditional[0])
            console.print(
                f"first /tags (tag counts computed cold): {cold_tags:.0f} ms; "
                f"feed: 304 answered {ratio:.0f}x faster than the full feed (p50), empty body, "
                "If-Modified-Since also 304"
            )
    finally:
        await runner.cleanup()
        archive.close()


async def prepare_and_measure(args: argparse.Namespace) -> None:
    reuse = bool(args.db and Path(args.db).exists())
    with archive_url(args.pg, args.db) as url:
        archive = Archive(url)
        archive.create_schema()
        build(archive, args.items, args.per_day, args.seed, insert_rows=not reuse)
        archive.close()
        await measure(url, args.runs, args.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=14)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--pg", metavar="URL", help="benchmark PostgreSQL instead of SQLite")
    parser.add_argument("--seed", type=int, default=20260203)
    parser.add_argument("--db", metavar="PATH", help="SQLite file to build (or reuse if it exists)")
    asyncio.run(prepare_and_measure(parser.parse_args()))


if __name__ == "__main__":
    main()
