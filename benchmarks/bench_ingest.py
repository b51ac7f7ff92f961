"""Ingest throughput: N generated daily digests → a fresh SQLite archive.

Reports MB/s and files/s for a cold ingest and for a re-run (everything unchanged),
extrapolates to ten years of files (3,650; target < 60 s), and compares the parser's cost
with bare markdown-it-py tokenisation of the same text (the floor any parser on top of
markdown-it pays).

    python benchmarks/bench_ingest.py [--files N] [--workers W] [--sample S] [--per-file]
        [--no-skip]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from markdown_it import MarkdownIt  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.archive import Archive  # noqa: E402
from bot.ingest import (  # noqa: E402
    ingest_paths,
    parse_text,
)

REFERENCE = ROOT / "examples" / "digests" / "2026-02-03.md"
TEN_YEARS = 3650
TARGET_SECONDS = 60.0

TAGS = [
    "LLM", "强化学习", "RL", "Agent", "智能体", "多模态", "开源", "MoE", "量化", "推理",
    "Benchmark", "评测", "自动驾驶", "视频生成", "AI 编程", "具身智能", "机器人", "RAG",
    "Context Learning", "模型发布", "融资", "芯片", "端侧模型", "安全", "对齐", "数据集",
]  # fmt: skip
SOURCES = ["机器之心", "量子位", "新智元", "InfoQ", "Hacker News", "arXiv"]
WORDS = ["新范式", "实战", "全面解析", "开源发布", "性能突破", "深度评测", "工程实践", "路线图"]


def split_items(text: str) -> tuple[str, list[str]]:
    """The reference's preamble and its item blocks (generator-side text surgery only)."""
    parts = re.split(r"(?m)^(?=### \d+\.)", text)
    return parts[0], parts[1:]


def synth_day(day: dt.date, header: str, items: list[str], rng: random.Random) -> str:
    """One realistic day: 10-16 items drawn from the reference, renumbered and varied."""
    chosen = [rng.choice(items) for _ in range(rng.randint(10, 16))]
    out = [re.sub(r"\d{4}-\d{2}-\d{2}", day.isoformat(), header, count=1)]
    for rank, block in enumerate(chosen, start=1):
        block = re.sub(r"^### \d+\.", f"### {rank}.", block, count=1)
        block = re.sub(
            r"(?m)^(### \d+\. (?:\[[^\]]*\] )?)(.*)$",
            lambda m: f"{m[1]}{m[2]} · {rng.choice(WORDS)} {day:%m%d}",
            block,
            count=1,
        )
        tags = " ".join(f"[{t}]" for t in rng.sample(TAGS, rng.randint(2, 6)))
        block = re.sub(r"\*\*标签\*\*: .*", f"**标签**: {tags}", block, count=1)
        block = re.sub(r"🌟+", "🌟" * rng.randint(1, 5), block, count=1)
        source = f"**来源**: {rng.choice(SOURCES)} "
        block = re.sub(r"\*\*来源\*\*: [^|\n]*", source, block, count=1)
        stamp = f"{day.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        block = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", stamp, block, count=1)
        out.append(block)
    return "".join(out)


def generate(folder: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    header, items = split_items(REFERENCE.read_text(encoding="utf-8"))
    end = dt.date(2026, 2, 3)
    paths = []
    for offset in range(count):
        day = end - dt.timedelta(days=offset)
        path = folder / f"{day:%Y}" / f"{day.isoformat()}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(synth_day(day, header, items, rng), encoding="utf-8")
        paths.append(path)
    return paths


def tokenize_vs_parse(texts: list[str]) -> tuple[float, float]:
    """Median seconds per file: bare markdown-it tokenisation vs our full parse."""
    md = MarkdownIt("commonmark").enable("table")
    bare, ours = [], []
    for text in texts:
        start = time.perf_counter()
        md.parse(text)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        parse_text(text, "bench.md")
        ours.append(time.perf_counter() - start)
    return statistics.median(bare), statistics.median(ours)


class TimedArchive:
    """Wraps Archive.store/store_many to split ingest time into storing vs everything else
    (``--per-file``: without store_many, as before bulk ingest)."""

    def store_many(self, entries):
        start = time.perf_counter()
        try:
            return self.archive.store_many(entries)
        finally:
            self.store_seconds += time.perf_counter() - start

    def __init__(self, archive: Archive, *, remember: bool = True) -> None:
        self.archive = archive
        self.store_seconds = 0.0
        # What ingest last saw of each file: an unchanged one is skipped after a stat.
        # ``--no-skip`` leaves it out, to measure re-reading and re-parsing everything.
        self.source_files = archive.source_files if remember else None

    def store(self, digest, *, path: str, sha256: str):
        start = time.perf_counter()
        try:
            return self.archive.store(digest, path=path, sha256=sha256)
        finally:
            self.store_seconds += time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (parse workers): stable on a busy box."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class PerFileArchive(TimedArchive):
    """Only ``store``: ingest stores file by file."""

    store_many = None  # type: ignore[assignment]


def timed_ingest(
    url: str, folder: Path, workers: int | None, bulk: bool = True, remember: bool = True
) -> tuple[float, float, float, object]:
    """(wall s, CPU s, seconds inside Archive.store, summary) of one ingest run."""
    archive = Archive(url)
    try:
        archive.create_schema()
        kind = TimedArchive if bulk else PerFileArchive
        timed = kind(archive, remember=remember)
        start, cpu = time.perf_counter(), cpu_seconds()
        summary = ingest_paths(timed, [str(folder)], progress=False, workers=workers)
        wall = time.perf_counter() - start
        return wall, cpu_seconds() - cpu, timed.store_seconds, summary
    finally:
        archive.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="parse processes (0: none; default: one per core, up to 4)",
    )
    parser.add_argument("--sample", type=int, default=100, help="files for the parse-cost ratio")
    parser.add_argument(
        "--per-file", action="store_true", help="store file by file (no store_many), as before"
    )
    parser.add_argument(
        "--no-skip",
        action="store_true",
        help="re-read and re-parse unchanged files (no source_files bookkeeping), as before",
    )
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp) / "digests"
        paths = generate(folder, args.files)
        size = sum(p.stat().st_size for p in paths)
        url = f"sqlite:///{Path(tmp) / 'archive.db'}"
        remember = not args.no_skip
        cold, cold_cpu, cold_store, summary = timed_ingest(
            url, folder, args.workers, not args.per_file, remember
        )
        assert summary.ok and summary.created == args.files, summary
        warm, warm_cpu, warm_store, again = timed_ingest(
            url, folder, args.workers, not args.per_file, remember
        )
        assert again.unchanged == args.files, again
        texts = [p.read_text(encoding="utf-8") for p in paths[: args.sample]]
        bare, ours = tokenize_vs_parse(texts)

    mb = size / 1e6
    table = Table(title=f"ingest: {args.files} files, {mb:.1f} MB, {summary.items} items")
    columns = ("run", "wall s", "CPU s", "in store()", "MB/s", "files/s", f"{TEN_YEARS} files")
    for column in columns:
        table.add_column(column, justify="right")
    runs = (
        ("cold (all created)", cold, cold_cpu, cold_store),
        ("re-run (unchanged)", warm, warm_cpu, warm_store),
    )
    for name, seconds, cpu, stored in runs:
        rate = args.files / seconds
        table.add_row(
            name,
            f"{seconds:.2f}",
            f"{cpu:.2f}",
            f"{stored:.2f}",
            f"{mb / seconds:.2f}",
            f"{rate:.1f}",
            f"{TEN_YEARS / rate:.1f} s",
        )
    console.print(table)
    ratio = Table(title=f"parser vs bare MarkdownIt().parse (median of {len(texts)} files)")
    for column in ("bare tokenise ms", "parse_text ms", "ratio"):
        ratio.add_column(column, justify="right")
    ratio.add_row(f"{bare * 1e3:.2f}", f"{ours * 1e3:.2f}", f"{ours / bare:.2f}x")
    console.print(ratio)
    estimate = TEN_YEARS / (args.files / cold)
    verdict = "OK" if estimate < TARGET_SECONDS else "OVER TARGET"
    console.print(f"10 years ≈ {estimate:.1f} s (target < {TARGET_SECONDS:.0f} s): {verdict}")
    workers = "auto" if args.workers is None else args.workers
    per_file = cold_cpu / args.files
    console.print(
        f"cold CPU per file {per_file * 1e3:.1f} ms (store() wall share "
        f"{cold_store / cold:.0%}); {TEN_YEARS} files ≈ {TEN_YEARS * per_file:.0f} CPU-s"
    )
    load = os.getloadavg()[0]
    console.print(f"workers: {workers}; load average {load:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
