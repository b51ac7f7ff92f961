"""Fan-out: the reference digest to N Slack channels and N Telegram groups at once.

Both fakes enforce the platforms' real limits with token buckets (Slack: 1 msg/s per
channel; Telegram: 1 msg/s per chat, 20/min per group, 30/s overall) and answer 429 to
anything faster. The whole production path runs: ledger claims and records in a real
archive, the real formatters, slack_sdk and python-telegram-bot over HTTP, our pacing.
Each fake runs in its own process, so the bot under test has an interpreter to itself.

The lower bound: Slack channels are served in parallel, each needing (messages - 1) s;
Telegram needs the largest of (messages - 1) s per chat, the per-group bucket, and
(groups × messages - 30) / 30 s for the global bucket. Both platforms run at once, so the
bound is the larger of the two.

Reports the wall time against the lower bound those limits allow (ratio; target ≤ 1.15),
the 429s received, and messages lost or duplicated (target 0 / 0).

Then the group robots: ``--robots`` groups (default 50) on each of Feishu, DingTalk and
WeCom, each group its own robot, receiving ``--days`` digests one day after another (a
single digest of 3, 3 and 12 messages fits every robot's window at once, so its bound is
nothing but round trips; several days fill the windows). The fakes enforce each robot's
windows (Feishu 5/s and 100/min, DingTalk 20/min then a 10-minute throttle, WeCom 20/min)
scaled by ``--time-scale`` so the run takes seconds, not hours; the bound per robot is the
least time its messages need under those windows, and the ratio is scale-free.

    python benchmarks/bench_fanout.py [--channels N] [--slack N] [--telegram N] [--db URL]
                                      [--robots N] [--days D] [--time-scale S]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.archive import Archive  # noqa: E402
from bot.channels import Channel  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.delivery import Deliverer, DeliveryOptions, Outcome  # noqa: E402
from bot.ingest import ingest_paths  # noqa: E402
from bot.platforms.dingtalk.transport import DingTalkTransport  # noqa: E402
from bot.platforms.feishu.transport import FeishuTransport  # noqa: E402
from bot.platforms.robot import Robot, RobotTransport  # noqa: E402
from bot.platforms.slack.transport import SlackTransport  # noqa: E402
from bot.platforms.telegram.transport import TelegramTransport  # noqa: E402
from bot.platforms.wecom.transport import WeComTransport  # noqa: E402
from formatters.templates import Templates  # noqa: E402
from tests.fakes import FakeSlack, FakeTelegram  # noqa: E402
from tests.fakes.dingtalk_api import FakeDingTalk  # noqa: E402
from tests.fakes.feishu_webhook import FakeFeishuWebhook  # noqa: E402
from tests.fakes.robot_server import RateLimit  # noqa: E402
from tests.fakes.wecom_api import FakeWeCom  # noqa: E402

REFERENCE = ROOT / "examples" / "digests" / "2026-02-03.md"
DAY = dt.date(2026, 2, 3)
TARGET_RATIO = 1.15

# The platforms' limits, as the fakes enforce them (rate per second, burst).
SLACK_PER_CHANNEL = (1.0, 1.0)
TELEGRAM_PER_CHAT = (1.0, 1.0)
TELEGRAM_PER_GROUP = (20 / 60, 20.0)
TELEGRAM_GLOBAL = (30.0, 30.0)


def bucket_time(messages: int, rate: float, burst: float) -> float:
    """Least time for ``messages`` requests through a token bucket that starts full."""
    return max(0.0, (messages - burst) / rate)


def lower_bounds(
    slack_channels: int, slack_msgs: int, groups: int, tg_msgs: int
) -> dict[str, float]:
    slack = bucket_time(slack_msgs, *SLACK_PER_CHANNEL) if slack_channels else 0.0
    telegram = 0.0
    if groups:
        telegram = max(
            bucket_time(tg_msgs, *TELEGRAM_PER_CHAT),
            bucket_time(tg_msgs, *TELEGRAM_PER_GROUP),
            bucket_time(groups * tg_msgs, *TELEGRAM_GLOBAL),
        )
    return {"slack": slack, "telegram": telegram, "all": max(slack, telegram)}


ROBOT_TRANSPORTS: dict[str, type[RobotTransport]] = {
    "feishu": FeishuTransport,
    "dingtalk": DingTalkTransport,
    "wecom": WeComTransport,
}
ROBOT_FAKES: dict[str, Any] = {
    "feishu": FakeFeishuWebhook,
    "dingtalk": FakeDingTalk,
    "wecom": FakeWeCom,
}


def scaled_limits(platform: str, scale: float) -> tuple[tuple[int, float], ...]:
    return tuple((n, w * scale) for n, w in ROBOT_TRANSPORTS[platform].default_limits)


def robot_bound(messages: int, limits: tuple[tuple[int, float], ...]) -> float:
    """Least time for ``messages`` to one robot: message k waits floor(k / N) windows."""
    return max((((messages - 1) // n) * w for n, w in limits), default=0.0)


def serve_robots(platform: str, count: int, scale: float) -> dict[str, Any]:
    fake = ROBOT_FAKES[platform]().start()
    limit = fake.LIMIT
    fake.enforce_rate_limit(
        RateLimit(
            limit.per_window,
            limit.window * scale,
            limit.per_second,
            limit.throttle * scale,
            second=limit.second * scale,
        )
    )
    hooks = [fake.add_robot("SECbench") for _ in range(count)]
    print(json.dumps({"url": hooks}), flush=True)
    sys.stdin.readline()
    report = {
        "messages": {
            hook: [m.get("markdown") or m.get("text") for m in fake.sent(hook)] for hook in hooks
        },
        "429": fake.stats["rate_limited"],
    }
    fake.stop()
    return report


def serve(platform: str) -> int:
    """Run one fake in this (separate) process, so its CPU work (payload validation) competes
    neither with the bot under test nor with the other fake for an interpreter lock: a fake
    starved of CPU would stamp queued requests as arriving together and answer 429s the
    real platform would not. Prints the URL; on a line "report" on stdin prints everything
    it received, as JSON."""
    ids = json.loads(sys.stdin.readline())
    if platform in ROBOT_FAKES:
        count, scale = ids
        print(json.dumps(serve_robots(platform, count, scale), default=str), flush=True)
        return 0
    if platform == "slack":
        with FakeSlack() as slack:
            slack.enforce_rate_limit(*SLACK_PER_CHANNEL)
            print(json.dumps({"url": slack.api_url}), flush=True)
            sys.stdin.readline()
            report = {
                "messages": {cid: slack.messages(cid) for cid in ids},
                "429": slack.stats["rate_limited"],
            }
    else:
        with FakeTelegram() as telegram:
            telegram.enforce_rate_limit(
                per_chat_per_sec=TELEGRAM_PER_CHAT[0],
                per_group_per_min=TELEGRAM_PER_GROUP[0] * 60,
                global_per_sec=TELEGRAM_GLOBAL[0],
                per_chat_burst=TELEGRAM_PER_CHAT[1],
            )
            print(json.dumps({"url": telegram.api_url, "token": telegram.token}), flush=True)
            sys.stdin.readline()
            report = {
                "messages": {str(chat): telegram.sent(chat) for chat in ids},
                "429": telegram.stats["rate_limited"],
            }
    print(json.dumps(report, default=str), flush=True)
    return 0


class Fake:
    """One fake in a child process (``--serve PLATFORM``), driven over a pipe."""

    def __init__(self, platform: str, ids: list[Any]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", platform],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(ids) + "\n")
        self.process.stdin.flush()
        self.info = json.loads(self.process.stdout.readline())

    def report(self) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        report = json.loads(self.process.stdout.readline())
        self.process.wait(timeout=30)
        return report


class Fakes:
    """Both fakes, each in its own process."""

    def __init__(self, slack_ids: list[str], chats: list[int]) -> None:
        self.slack = Fake("slack", slack_ids)
        self.telegram = Fake("telegram", chats)
        self.slack_url = self.slack.info["url"]
        self.telegram_url = self.telegram.info["url"]
        self.token = self.telegram.info["token"]

    def report(self) -> dict[str, Any]:
        slack, telegram = self.slack.report(), self.telegram.report()
        return {
            "slack": slack["messages"],
            "telegram": telegram["messages"],
            "slack_429": slack["429"],
            "telegram_429": telegram["429"],
        }


def check_slack(
    messages: dict[str, list[dict[str, Any]]], channels: list[str], expected: list[str]
) -> tuple[int, int]:
    lost = duplicated = 0
    for cid in channels:
        posted = messages.get(cid, [])
        indices = Counter(m["metadata"]["event_payload"]["index"] for m in posted)
        lost += sum(1 for i in range(len(expected)) if indices[i] == 0)
        duplicated += sum(count - 1 for count in indices.values() if count > 1)
        texts = [m["text"] for m in sorted(posted, key=lambda m: m["ts"])]
        if not duplicated and texts != expected[: len(texts)]:
            lost += 1  # out of order or altered counts as lost
    return lost, duplicated


def check_telegram(
    sent: dict[str, list[dict[str, Any]]], chats: list[int], expected: list[str]
) -> tuple[int, int]:
    lost = duplicated = 0
    want = Counter(expected)
    for chat in chats:
        got = Counter(m["html"] for m in sent.get(str(chat), []))
        lost += sum((want - got).values())
        duplicated += sum((got - want).values())
    return lost, duplicated


async def deliver(
    archive: Archive, fakes: Fakes, channels: list[Channel]
) -> tuple[float, list[Any], dict[str, float]]:
    transports = {
        "slack": SlackTransport("xoxb-bench", base_url=fakes.slack_url, per_channel_interval=1.0),
        "telegram": TelegramTransport(
            fakes.token, base_url=fakes.telegram_url, per_chat_interval=1.0
        ),
    }
    deliverer = Deliverer(
        archive,
        transports,
        templates=Templates(),
        aliases=archive.aliases,
        owner="bench",
        options=DeliveryOptions(concurrency=len(channels) or 1),
    )
    finished: dict[str, float] = {}
    started = time.perf_counter()

    def done(result: Any) -> None:
        finished[result.channel.platform] = time.perf_counter() - started

    try:
        results = await deliverer.deliver_all(channels, date=DAY, on_result=done)
    finally:
        for transport in transports.values():
            await transport.close()
    return time.perf_counter() - started, results, finished


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--channels", type=int, default=200, help="Slack channels and Telegram groups each"
    )
    parser.add_argument("--slack", type=int, help="Slack channels (default: --channels)")
    parser.add_argument("--telegram", type=int, help="Telegram groups (default: --channels)")
    parser.add_argument("--db", help="archive URL (default: a fresh SQLite file)")
    parser.add_argument("--robots", type=int, default=50, help="groups on each robot platform")
    parser.add_argument("--days", type=int, default=7, help="digests each robot group receives")
    parser.add_argument(
        "--time-scale", type=float, default=0.25, help="robot rate windows × this (1 = real time)"
    )
    parser.add_argument(
        "--serve", choices=["slack", "telegram", *ROBOT_FAKES], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    n_slack = args.channels if args.slack is None else args.slack
    n_tg = args.channels if args.telegram is None else args.telegram
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bot.delivery").setLevel(logging.ERROR)  # one line per channel is noise here
    console = Console()
    ok = True
    if n_slack or n_tg:
        ok = chat_fanout(args, n_slack, n_tg, console)
    if args.robots:
        ok = robot_fanout(args, console) and ok
    return 0 if ok else 1


def chat_fanout(args: argparse.Namespace, n_slack: int, n_tg: int, console: Console) -> bool:
    slack_ids = [f"C{i:05d}" for i in range(n_slack)]
    chats = [-(1_000_000 + i) for i in range(n_tg)]
    fakes = Fakes(slack_ids, chats)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        archive.create_schema()
        ingest_paths(archive, [str(REFERENCE)])
        digest = archive.digest(DAY)
        assert digest is not None
        slack_payloads = SlackTransport("x").render(digest, Templates())
        tg_payloads = TelegramTransport(fakes.token).render(digest, Templates())
        schedule = Settings().schedule
        channels = [Channel("slack", cid, schedule, "UTC") for cid in slack_ids] + [
            Channel("telegram", str(chat), schedule, "UTC") for chat in chats
        ]
        bounds = lower_bounds(n_slack, len(slack_payloads), n_tg, len(tg_payloads))
        console.print(
            f"delivering {len(slack_payloads)} Slack messages to {n_slack} channels and "
            f"{len(tg_payloads)} Telegram messages to {n_tg} groups "
            f"({n_slack * len(slack_payloads) + n_tg * len(tg_payloads)} posts); "
            f"lower bound {bounds['all']:.1f}s"
        )
        wall, results, finished = asyncio.run(deliver(archive, fakes, channels))
        archive.close()
    report = fakes.report()
    outcomes = Counter(r.outcome for r in results)
    s_lost, s_dup = check_slack(report["slack"], slack_ids, [p.text for p in slack_payloads])
    t_lost, t_dup = check_telegram(report["telegram"], chats, [p.text for p in tg_payloads])
    s_429, t_429 = report["slack_429"], report["telegram_429"]

    table = Table(title=f"fan-out: {n_slack} Slack channels + {n_tg} Telegram groups")
    for column in ("", "wall s", "bound s", "ratio", "429s", "lost", "duplicated"):
        table.add_column(column, justify="right")

    def ratio(value: float, bound: float) -> str:
        return f"{value / bound:.3f}" if bound else "-"

    if n_slack:
        table.add_row(
            "Slack",
            f"{finished.get('slack', 0):.1f}",
            f"{bounds['slack']:.1f}",
            ratio(finished.get("slack", 0), bounds["slack"]),
            str(s_429),
            str(s_lost),
            str(s_dup),
        )
    if n_tg:
        table.add_row(
            "Telegram",
            f"{finished.get('telegram', 0):.1f}",
            f"{bounds['telegram']:.1f}",
            ratio(finished.get("telegram", 0), bounds["telegram"]),
            str(t_429),
            str(t_lost),
            str(t_dup),
        )
    total_ratio = wall / bounds["all"] if bounds["all"] else 0.0
    table.add_row(
        "all",
        f"{wall:.1f}",
        f"{bounds['all']:.1f}",
        ratio(wall, bounds["all"]),
        str(s_429 + t_429),
        str(s_lost + t_lost),
        str(s_dup + t_dup),
        style="bold",
    )
    console.print(table)
    console.print(f"outcomes: {dict((k.value, v) for k, v in outcomes.items())}")
    ok = (
        total_ratio <= TARGET_RATIO
        and s_lost + t_lost + s_dup + t_dup == 0
        and outcomes.get(Outcome.DELIVERED, 0) == len(channels)
    )
    console.print(
        f"target: ratio ≤ {TARGET_RATIO}, 0 lost, 0 duplicated → "
        + ("[green]met[/green]" if ok else "[red]not met[/red]")
    )
    return ok


def day_copies(directory: Path, days: int) -> list[dt.date]:
    """The reference digest under ``days`` consecutive dates, as files to ingest."""
    text = REFERENCE.read_text(encoding="utf-8")
    dates = [DAY + dt.timedelta(days=i) for i in range(days)]
    for day in dates:
        (directory / f"{day.isoformat()}.md").write_text(
            text.replace(DAY.isoformat(), day.isoformat()), encoding="utf-8"
        )
    return dates


async def deliver_robots(
    archive: Archive, hooks: dict[str, list[str]], dates: list[dt.date], scale: float
) -> tuple[dict[str, float], list[Any]]:
    transports: dict[str, RobotTransport] = {}
    channels: list[Channel] = []
    for platform, urls in hooks.items():
        robots = {f"g{i}": Robot(url, "SECbench") for i, url in enumerate(urls)}
        transports[platform] = ROBOT_TRANSPORTS[platform](
            robots, limits=scaled_limits(platform, scale), rate_window=600 * scale
        )
        channels += [Channel(platform, cid, "0 9 * * *", "UTC") for cid in robots]
    deliverer = Deliverer(
        archive,
        transports,
        templates=Templates(),
        aliases=archive.aliases,
        owner="bench",
        options=DeliveryOptions(concurrency=len(channels) or 1),
    )
    started = time.perf_counter()
    finished: dict[str, float] = {}
    results: list[Any] = []

    async def one_platform(platform: str) -> None:
        mine = [c for c in channels if c.platform == platform]
        for day in dates:  # a group gets its days in order; the groups in parallel
            results.extend(await deliverer.deliver_all(mine, date=day))
        finished[platform] = time.perf_counter() - started

    try:
        await asyncio.gather(*(one_platform(p) for p in hooks))
    finally:
        for transport in transports.values():
            await transport.close()
    return finished, results


def robot_fanout(args: argparse.Namespace, console: Console) -> bool:
    count, scale, days = args.robots, args.time_scale, args.days
    fakes = {p: Fake(p, [count, scale]) for p in ROBOT_FAKES}
    hooks = {p: fake.info["url"] for p, fake in fakes.items()}
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(args.db or f"sqlite:///{Path(tmp) / 'robots.db'}")
        archive.create_schema()
        dates = day_copies(Path(tmp), days)
        ingest_paths(archive, [str(Path(tmp) / "*.md")])
        digest = archive.digest(DAY)
        assert digest is not None
        payloads = {p: ROBOT_TRANSPORTS[p]({}).render(digest, Templates()) for p in ROBOT_FAKES}
        finished, results = asyncio.run(deliver_robots(archive, hooks, dates, scale))
        archive.close()
    table = Table(title=f"robots: {count} groups each × {days} digests (windows × {scale:g})")
    for column in ("", "msgs/digest", "wall s", "bound s", "ratio", "rate-limited", "lost", "dup"):
        table.add_column(column, justify="right")
    ok = True
    for platform, fake in fakes.items():
        report = fake.report()
        per_digest = len(payloads[platform])
        bound = robot_bound(per_digest * days, scaled_limits(platform, scale))
        lost = duplicated = 0
        for hook in hooks[platform]:
            got = Counter(report["messages"].get(hook, []))
            want = per_digest * days
            total = sum(got.values())
            lost += max(0, want - total)
            duplicated += max(0, total - want)
        wall = finished.get(platform, 0.0)
        ratio = wall / bound if bound else float("inf")
        # With no window filled the bound is 0 and only round trips and the ledger remain.
        ok = ok and lost == duplicated == 0 and (not bound or ratio <= TARGET_RATIO)
        table.add_row(
            platform,
            str(per_digest),
            f"{wall:.2f}",
            f"{bound:.2f}",
            f"{ratio:.3f}" if bound else "-",
            str(report["429"]),
            str(lost),
            str(duplicated),
        )
    console.print(table)
    outcomes = Counter(r.outcome for r in results)
    console.print(f"outcomes: {dict((k.value, v) for k, v in outcomes.items())}")
    ok = ok and outcomes.get(Outcome.DELIVERED, 0) == 3 * count * days
    console.print(
        f"target: ratio ≤ {TARGET_RATIO}, 0 lost, 0 duplicated → "
        + ("[green]met[/green]" if ok else "[red]not met[/red]")
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())
