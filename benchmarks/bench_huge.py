"""Peak memory and time for a huge digest: ingest, then render for every platform.

Generates a digest of ``--mb`` megabytes (the reference digest's items repeated with new
ranks) in which one item carries a ``--line`` character line and an inline ``data:``
image, then measures, in a fresh child process so that generating the file is not
counted:

- peak RSS (``resource.getrusage``) after imports, after ingest, after rendering;
- the time of each phase, and how many Slack/Telegram messages the biggest item became.

It also times the query tokenizer on 10k/20k/40k characters of quote-heavy text (with the
query length cap lifted), whose growth should be linear (ratio ~2 per doubling).

The child runs under an address-space limit (``--limit-gb``, default 4), so a regression
fails with MemoryError instead of taking the machine down.

    python benchmarks/bench_huge.py [--mb 50] [--line 5000000] [--limit-gb 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE = ROOT / "examples" / "digests" / "2026-02-03.md"
DAY = "2026-02-07"


def generate(path: Path, megabytes: float, line_chars: int) -> int:
    """Write the huge digest; return its size in bytes."""
    text = REFERENCE.read_text(encoding="utf-8")
    body = text[text.index("### 1.") :]
    items = re.split(r"(?m)^(?=### \d+\. )", body)
    items = [item for item in items if item.startswith("### ")]
    target = int(megabytes * 1024 * 1024)
    rank = 1
    with path.open("w", encoding="utf-8") as out:
        out.write(f"# AI 每日情报 | {DAY}\n\n## 📊 今日情报\n\n")
        huge = (
            "### 1. [Org] An item with one enormous line\n"
            "**来源**: 机器之心 | **时间**: 2026-02-07 10:00\n"
            "**价值**: 🌟🌟🌟 **标签**: [LLM]\n"
            "**链接**: https://example.com/huge\n\n"
            "> 🎯 **一句话摘要**：" + "长" * 20_000 + "\n\n"
            "#### 🔹 核心技术/实现逻辑\n\n"
            "- " + ("word " * (line_chars // 5 + 1))[:line_chars] + "\n"
            "- ![inline](data:image/png;base64," + "A" * 1_000_000 + ")\n\n"
        )
        out.write(huge)
        written = len(huge.encode("utf-8"))
        rank = 2
        while written < target:
            for item in items:
                chunk = re.sub(r"^### \d+\.", f"### {rank}.", item, count=1)
                out.write(chunk)
                written += len(chunk.encode("utf-8"))
                rank += 1
                if written >= target:
                    break
    return path.stat().st_size


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(path: Path) -> dict[str, object]:
    """The child: ingest into a fresh SQLite archive, then render every platform."""
    import datetime as dt

    from bot.archive import Archive
    from bot.ingest import ingest_paths
    from formatters import console, slack, telegram
    from formatters.templates import Templates

    report: dict[str, object] = {"rss_after_imports_mb": round(rss_mb(), 1)}
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(f"sqlite:///{tmp}/huge.db")
        archive.create_schema()
        started = time.perf_counter()
        summary = ingest_paths(archive, [str(path)], workers=1)
        report["ingest_s"] = round(time.perf_counter() - started, 2)
        report["ingest_problems"] = [str(p)[:160] for p in summary.problems[:3]]
        report["rss_after_ingest_mb"] = round(rss_mb(), 1)
        digest = archive.digest(dt.date.fromisoformat(DAY))
        archive.close()
    assert digest is not None
    report["items"] = len(digest.items)
    templates = Templates()
    started = time.perf_counter()
    huge = digest.model_copy(update={"items": digest.items[:1]})
    report["slack_messages_huge_item"] = len(slack.render_digest(huge, templates)) - 1
    report["telegram_messages_huge_item"] = len(telegram.render_digest(huge, templates)) - 1
    report["slack_messages"] = len(slack.render_digest(digest, templates))
    report["telegram_messages"] = len(telegram.render_digest(digest, templates))
    report["console_renderables"] = len(console.render_digest(digest, templates))
    report["render_s"] = round(time.perf_counter() - started, 2)
    report["peak_rss_mb"] = round(rss_mb(), 1)
    return report


def tokenizer_times() -> list[tuple[int, float]]:
    """Seconds to tokenize quote-heavy queries of growing length (caps lifted)."""
    import datetime as dt

    from bot.query import language

    language.MAX_QUERY_CHARS = language.MAX_TERMS = 10**9
    times = []
    for size in (10_000, 20_000, 40_000):
        text = ('"a"b tag:"x"y ' * size)[:size]
        started = time.perf_counter()
        with contextlib.suppress(language.QueryError):
            language.parse_query(text, today=dt.date(2026, 2, 3))
        times.append((size, time.perf_counter() - started))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--line", type=int, default=5_000_000)
    parser.add_argument("--limit-gb", type=float, default=4.0)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        limit = int(args.limit_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            print(json.dumps(measure(args.child)))
        except MemoryError:
            print(json.dumps({"error": f"MemoryError above {args.limit_gb} GB"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{DAY}.md"
        size = generate(path, args.mb, args.line)
        print(f"digest: {size / 1024 / 1024:.1f} MB with one {args.line:,}-character line")
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(path), "--limit-gb", str(args.limit_gb)],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0 or not child.stdout.strip():
            print(child.stderr[-2000:])
            sys.exit(1)
        report = json.loads(child.stdout.strip().splitlines()[-1])
    for key, value in report.items():
        print(f"  {key}: {value}")
    times = tokenizer_times()
    print("query tokenizer (quote-heavy text):")
    for size, seconds in times:
        print(f"  {size:>6,} chars: {seconds * 1000:8.1f} ms")
    print(f"  growth 10k→40k: ×{times[-1][1] / max(times[0][1], 1e-9):.1f} (linear: ~×4)")


if __name__ == "__main__":
    main()
