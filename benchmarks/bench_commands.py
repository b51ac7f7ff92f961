"""Slash-command latency of the HTTP-mode Slack app over a 100,000-item archive.

Fires ``--commands`` (200) signed ``/ai`` slash commands, ``--concurrency`` (50) at a
time, at the real Bolt app serving ``/slack/events``, and measures for each:

- **ack**: until the HTTP response to the command (Slack gives up after 3 s);
- **answer**: until the fake Slack received the reply on the command's response_url.

Targets: p99 ack ≤ 300 ms, p99 answer ≤ 1 s. The app runs in its own process (as in
production) so the fake Slack and this load generator do not share its interpreter; the
archive is built with bulk inserts by ``bench_query.build`` (``--db`` keeps it for reuse).
Queries are a mix of tag, free-text (3+ and 2-character Chinese) and combined queries,
``today`` and ``help``.

    python benchmarks/bench_commands.py [--items 100000] [--commands 200] [--concurrency 50]
                                        [--pg URL | --db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import aiohttp  # noqa: E402
from bench_query import percentile  # noqa: E402
from bench_query import target as archive_url  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.chat.core import DEFAULT_WORKERS  # noqa: E402
from bot.query import parse_query  # noqa: E402

console = Console()
SECRET = "bench-signing-secret-0123456789ab"
TARGET_ACK_MS = 300.0
TARGET_ANSWER_MS = 1000.0


def command_texts(rng: random.Random, count: int, distinct: bool) -> list[str]:
    """The query mix; ``distinct`` makes every query different (no count is reused)."""
    from bench_query import QUERIES

    pool = [text for texts in QUERIES.values() for text in texts]
    extras = ["today", "help", "tag:RL", "tag:Agent stars:4"]
    texts = [rng.choice(extras) if rng.random() < 0.1 else rng.choice(pool) for _ in range(count)]
    if distinct:  # a since: long before the archive: same matches, a different query
        start = dt.date(1990, 1, 1)
        texts = [
            t if t in ("today", "help") else f"{t} since:{start + dt.timedelta(days=i)}"
            for i, t in enumerate(texts)
        ]
    return texts


# -- the app process -------------------------------------------------------------------------


def serve(url: str, api_url: str, workers: int) -> None:
    """Child process: run the HTTP-mode Slack app until stdin closes."""
    from bot.archive import Archive
    from bot.chat import CommandCore
    from bot.config import Settings
    from bot.platforms.slack.app import start_slack
    from formatters.templates import Templates

    settings = Settings(
        slack={
            "bot_token": "xoxb-bench",
            "signing_secret": SECRET,
            "mode": "http",
            "api_url": api_url,
        }
    )

    async def run() -> None:
        archive = Archive(url)
        core = CommandCore(archive, settings, workers=workers)
        listener = await start_slack(settings, core, Templates(), host="127.0.0.1", port=0)
        print(f"READY {listener.port}", flush=True)
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, sys.stdin.readline):  # "stats" until EOF
            print(f"STATS {json.dumps(core_stats())}", flush=True)
        await listener.stop()
        archive.close()

    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx("asyncio.run(run())", globals(), locals(), os.environ["BENCH_PROFILE"])
    else:
        asyncio.run(run())


def core_stats() -> dict[str, float]:
    """The app's own command latency (bot.metrics): how long answering took, summed."""
    from bot.metrics import REGISTRY

    found = {"count": 0.0, "sum": 0.0}
    for metric in REGISTRY.collect():
        if metric.name == "digestbot_command_latency_seconds":
            for sample in metric.samples:
                if sample.name.endswith("_count"):
                    found["count"] += sample.value
                elif sample.name.endswith("_sum"):
                    found["sum"] += sample.value
    return found


def ask_stats(child: subprocess.Popen[str]) -> dict[str, float]:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("stats\n")
    child.stdin.flush()
    line = child.stdout.readline().split(maxsplit=1)
    return json.loads(line[1]) if line and line[0] == "STATS" else {"count": 0.0, "sum": 0.0}


# -- the load generator ----------------------------------------------------------------------


class AnswerWatch:
    """Notices response_url posts at the fake as they arrive (one poller, not one each)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.seen = 0
        self.first: dict[str, float] = {}
        self.events: dict[str, asyncio.Event] = {}

    def expect(self, response_id: str) -> asyncio.Event:
        return self.events.setdefault(response_id, asyncio.Event())

    async def run(self) -> None:
        while True:
            calls = self.fake.calls[self.seen :]
            self.seen += len(calls)
            for call in calls:
                rid = call.params.get("response_id") if call.method == "response_url" else None
                if rid is not None and rid not in self.first:
                    self.first[rid] = call.time
                    self.expect(rid).set()
            await asyncio.sleep(0.002)


async def fire(
    port: int, fake: Any, texts: list[str], concurrency: int, release_on_ack: bool
) -> tuple[list[float], list[float]]:
    """Send ``texts`` as signed commands with at most ``concurrency`` in flight.

    A command is in flight until its answer arrives (a user waiting for a reply), or only
    until its ack with ``release_on_ack`` (an open-loop burst: all 200 arrive within ~1 s).
    """
    from tests.fakes import sign_request, slash_command_payload

    url = f"http://127.0.0.1:{port}/slack/events"
    gate = asyncio.Semaphore(concurrency)
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    statuses: list[int] = []
    watch = AnswerWatch(fake)

    async def one(session: aiohttp.ClientSession, text: str) -> None:
        async with gate:
            response_url = fake.new_response_url()
            rid = response_url.rsplit("/", 1)[-1]
            answered = watch.expect(rid)
            body = urlencode(slash_command_payload("/ai", text, response_url=response_url))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **sign_request(body, SECRET),
            }
            sent_at[rid] = began = time.time()
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                acks.append((time.time() - began) * 1000)
                statuses.append(response.status)
            if not release_on_ack:
                await asyncio.wait_for(answered.wait(), timeout=60)
        await asyncio.wait_for(answered.wait(), timeout=60)

    watcher = asyncio.create_task(watch.run())
    connector = aiohttp.TCPConnector(limit=concurrency)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(one(session, text) for text in texts))
    finally:
        watcher.cancel()
    answers = [(watch.first[rid] - began) * 1000 for rid, began in sent_at.items()]
    bad = [s for s in statuses if s != 200]
    if bad:
        console.print(f"[red]{len(bad)} commands were not acknowledged with 200: {set(bad)}[/red]")
    return acks, answers


def add_missing_indexes(archive: Any) -> None:
    """Create indexes the schema gained after a reused ``--db`` archive was built
    (``create_schema`` adds missing tables only): searches name some of them."""
    from bot.archive.schema import metadata

    with archive.engine.begin() as conn:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=14)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--pg", metavar="URL", help="benchmark PostgreSQL instead of SQLite")
    parser.add_argument(
        "--db", metavar="PATH", help="keep the SQLite archive here (reused if it has the items)"
    )
    parser.add_argument("--seed", type=int, default=20260203)
    parser.add_argument(
        "--distinct", action="store_true", help="make every query unique (no count reuse)"
    )
    parser.add_argument(
        "--release-on-ack",
        action="store_true",
        help="count a command as in flight only until its ack (open-loop burst)",
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="the app's command worker threads"
    )
    parser.add_argument(
        "--serve", nargs=2, metavar=("ARCHIVE_URL", "API_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve, args.workers)
        return

    from bench_query import build

    from bot.archive import Archive
    from tests.fakes import FakeSlack

    with archive_url(args.pg, args.db) as url:
        archive = Archive(url)
        archive.create_schema()
        add_missing_indexes(archive)
        if archive.count(parse_query("", today=dt.date.today())) < args.items:
            began = time.perf_counter()
            build(archive, args.items, args.per_day, args.seed)
            built = time.perf_counter() - began
            console.print(f"{archive.dialect}: built {args.items:,} items in {built:.1f} s")
        archive.close()
        texts = command_texts(random.Random(args.seed), args.commands, args.distinct)
        with FakeSlack() as fake:
            child = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--serve",
                    url,
                    fake.api_url,
                    "--workers",
                    str(args.workers),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            try:
                assert child.stdout is not None
                ready = child.stdout.readline().split()
                if not ready or ready[0] != "READY":
                    raise SystemExit("the app process did not start")
                port = int(ready[1])
                # Warm up: first auth.test, first SQLite pages, Bolt's lazy imports.
                asyncio.run(fire(port, fake, texts[:5], 5, False))
                fake.reset()
                before = ask_stats(child)
                began = time.perf_counter()
                acks, answers = asyncio.run(
                    fire(port, fake, texts, args.concurrency, args.release_on_ack)
                )
                wall = time.perf_counter() - began
                after = ask_stats(child)
                rejected = sum(v for k, v in fake.stats.items() if k.startswith("error:"))
            finally:
                if child.stdin is not None:
                    child.stdin.close()
                child.wait(timeout=30)
    answered = after["count"] - before["count"]
    core_ms = 1000 * (after["sum"] - before["sum"]) / max(answered, 1)
    report(args, acks, answers, rejected)
    console.print(
        f"wall time {wall:.1f} s ({args.commands / wall:.0f} commands/s); the command core "
        f"(query + archive, in the app's worker threads) took {core_ms:.0f} ms per command"
    )


def report(
    args: argparse.Namespace, acks: list[float], answers: list[float], rejected: int
) -> None:
    table = Table(
        title=f"{args.commands} signed /ai commands, {args.concurrency} at a time, "
        f"{args.items:,}-item archive, {args.workers} workers"
        f"{', distinct queries' if args.distinct else ''}"
        f"{', released on ack' if args.release_on_ack else ''} (ms)"
    )
    for name in ("measure", "n", "p50", "p99", "max", "target p99", "p99 / target"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    for name, samples, goal in (
        ("ack", acks, TARGET_ACK_MS),
        ("answer", answers, TARGET_ANSWER_MS),
    ):
        p99 = percentile(samples, 0.99)
        table.add_row(
            name,
            str(len(samples)),
            f"{statistics.median(samples):.0f}",
            f"{p99:.0f}",
            f"{max(samples):.0f}",
            f"≤ {goal:.0f}",
            f"{p99 / goal:.2f}" + (" ✓" if p99 <= goal else " ✗"),
        )
    console.print(table)
    if len(answers) < args.commands or rejected:
        console.print(
            f"[red]answers: {len(answers)}/{args.commands}, rejected payloads: {rejected}[/red]"
        )


if __name__ == "__main__":
    main()
