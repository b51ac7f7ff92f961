"""Query latency over a synthetic 100,000-item archive (target: p99 < 20 ms on SQLite).

Builds an archive of realistic mixed Chinese/English items (titles, summaries, sections,
tags spelled every way the alias table knows) in a temporary SQLite file, or in a fresh
schema of a PostgreSQL database with ``--pg URL``, then times ``Archive.search`` (one page
of 20 hits, as ``/ai query`` asks for) for ``tag:`` queries, free text of 3+ characters,
common whole words (``attention``, ``rl``: the word index), 2-character Chinese words and
combined queries, common and rare terms mixed; "+count" adds an uncapped ``Archive.count``
(what "1-20 of N" costs without a cap). Ends with the database's size on disk.

Baselines, as ratios:
- "plain SQL": the straightforward statement (``conditions.where``: LIKE scans, no FTS5, no
  planning) on the same database, p99 against p99;
- "python scan": ``Query.matches`` over every item in memory, p50 against p50.

    python benchmarks/bench_query.py [--items 100000] [--runs 200] [--pg URL] [--db PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import insert, select, text

from bot.archive import Archive
from bot.archive import conditions as search
from bot.archive.bulk import item_row, tag_row
from bot.archive.schema import FTS_TABLE, digests, item_tags, item_words, items
from bot.archive.words import word_rows
from bot.models import Item, Resource, Section
from bot.query import Query, TagAliases, parse_query

console = Console(width=150)

ORGS = [
    "OpenAI", "Google", "Google DeepMind", "Meta", "Anthropic", "腾讯混元", "阿里通义",
    "字节跳动", "Moonshot AI", "阶跃星辰", "智谱", "DeepSeek", "xAI", "NVIDIA", "Microsoft",
    "清华大学", "北京大学", "MIT", "Stanford", "复旦", "上海AI Lab", "百度", "华为", "Mistral",
    "SGLang", "vLLM", "Apple", "Amazon", "Waymo", "Tesla", "小米", "商汤",
]  # fmt: skip
SOURCES = ["机器之心", "量子位", "新智元", "36氪", "InfoQ", "arXiv", "Hacker News", "AI科技评论"]
PRODUCTS = [
    "Kimi K2.5", "Qwen3-235B", "GPT-5.1", "Claude 5", "Gemini 3 Pro", "DeepSeek-V4", "Step 3.5",
    "Llama 5", "Grok Imagine", "Sora 2", "Veo 4", "GLM-5", "混元 T2", "豆包 2.0", "文心 5",
    "Codex", "Cursor", "SWE-agent", "OpenClaw", "pMF", "CL-bench", "slime", "Marlin",
]  # fmt: skip
ZH_HEAD = [
    "强化学习", "显存", "多模态", "智能体", "推理", "量化", "长上下文", "代码生成", "视频生成",
    "具身智能", "自动驾驶", "混合专家", "数据中心", "开源社区", "模型压缩", "检索增强", "世界模型",
    "评测基准", "安全对齐", "端侧部署", "分布式训练", "注意力机制", "奖励模型", "合成数据",
    "蒸馏", "微调", "预训练", "后训练", "算力调度", "向量数据库", "知识图谱", "语音合成",
    "图像编辑", "机器人", "芯片", "编译器", "调度器", "缓存", "稀疏化", "路由",
]  # fmt: skip
ZH_WEIGHTS = [1 / (i + 5) ** 1.3 for i in range(len(ZH_HEAD))]
ZH_TAIL = [
    "框架", "优化", "方案", "能力", "质量", "平台", "技术", "生态", "瓶颈", "实践", "范式",
    "架构", "策略", "效率", "成本", "稳定性", "可扩展性", "基准", "流水线", "工具链",
]  # fmt: skip
EN = [
    "Transformer", "Mixture-of-Experts", "Rollout", "Reward Model", "Tensor Core", "KV Cache",
    "Speculative Decoding", "Flow Matching", "Diffusion", "Benchmark", "Context Learning",
    "Agent Swarm", "Tool Use", "Chain-of-Thought", "Scaling Law", "Fine-tuning", "INT4 QAT",
    "FlashAttention", "LoRA", "RLHF", "DPO", "GRPO", "PPO", "vLLM", "Triton", "CUDA Graph",
    "Prefill", "Decode", "Paged Attention", "Ring Attention", "MTP", "NVFP4", "FP8", "BF16",
    "Sparse Attention", "Linear Attention", "State Space Model", "Mamba", "RWKV", "ViT",
    "CLIP", "DiT", "VAE", "U-Net", "Latent Space", "Tokenizer", "Embedding", "Reranker",
    "Function Calling", "MCP", "A2A", "Computer Use", "Browser Agent", "Code Interpreter",
    "Long Horizon", "Self-Play", "Curriculum", "Distillation", "Pruning", "Quantization",
]  # fmt: skip
VERBS = ["实现了", "提出了", "发布了", "验证了", "突破了", "优化了", "开源了", "揭示了"]
PHRASES = [
    "吞吐提升 {n} 倍", "成本降低 {n}%", "在 {b} 上达到 {n}.{m} 分", "参数量 {n}B",
    "训练 {n}k 步后收敛", "延迟降至 {n} ms", "覆盖 {n} 种语言", "上下文扩展到 {n}K tokens",
]  # fmt: skip
BENCHES = ["SWE-Bench", "AIME-2024", "MMLU", "GPQA", "ImageNet", "HumanEval", "LiveCodeBench"]
EXTRA_TAGS = ["研究论文", "工程实践", "模型发布", "行业趋势", "融资", "基础设施", "产品动态"]


class Synth:
    """Deterministic generator of digest items.

    Sentences come from a pre-built pool (tens of thousands, each with its own numbers) so
    that generating 100,000 items takes seconds, while topic words keep a Zipf-like spread.
    """

    def __init__(self, seed: int, pool: int = 40_000) -> None:
        self.rng = random.Random(seed)
        groups = TagAliases.builtin().groups()
        self.tag_spellings = [s for spellings in groups.values() for s in spellings]
        self.tag_weights = [1.0 / (1 + i % 17) for i in range(len(self.tag_spellings))]
        self.sentences = [self.sentence() for _ in range(pool)]
        self.bullets = [f"- **{self.rng.choice(EN)}**：{s}" for s in self.sentences]

    def sentence(self) -> str:
        r = self.rng
        phrase = r.choice(PHRASES).format(
            n=r.randint(1, 999), m=r.randint(0, 9), b=r.choice(BENCHES)
        )
        return f"{r.choice(ORGS)} {r.choice(VERBS)}{self.zh()}，{r.choice(EN)} {phrase}。"

    def zh(self) -> str:
        # Zipf-like: a few topics are everywhere, most are rare, as in real news.
        head = self.rng.choices(ZH_HEAD, ZH_WEIGHTS)[0]
        return head + self.rng.choice(ZH_TAIL)

    def item(self, rank: int, date: dt.date) -> Item:
        r = self.rng
        tags = list(
            dict.fromkeys(r.choices(self.tag_spellings, self.tag_weights, k=r.randint(2, 4)))
        )
        if r.random() < 0.5:
            tags.append(r.choice(EXTRA_TAGS))
        sections = [
            Section(
                kind="tech",
                heading="核心技术/实现逻辑",
                markdown="\n".join(r.sample(self.bullets, 3)),
            ),
            Section(
                kind="data",
                heading="实验数据/关键结论",
                markdown="\n".join(r.sample(self.bullets, 3)),
            ),
        ]
        return Item(
            rank=rank,
            title=f"{r.choice(PRODUCTS)}：{self.zh()}与{r.choice(EN)} {self.zh()}",
            orgs=r.sample(ORGS, r.randint(0, 2)),
            source=r.choice(SOURCES),
            published_at=dt.datetime.combine(date, dt.time(r.randint(0, 23), r.randint(0, 59))),
            stars=r.choice([None, 1, 2, 3, 3, 4, 4, 5]),
            tags=tags,
            url=f"https://mp.weixin.qq.com/s/{r.getrandbits(64):016x}",
            summary=r.choice(self.sentences) + r.choice(self.sentences),
            sections=sections,
            resources=[Resource(title="论文", url=f"https://arxiv.org/abs/25{r.randrange(10**4)}")],
        )


def build(
    archive: Archive, total: int, per_day: int, seed: int, *, insert_rows: bool = True
) -> list[tuple[dt.date, Item]]:
    """Generate ``total`` items and bulk-insert them with the store's own row functions."""
    began = time.perf_counter()
    synth = Synth(seed)
    days = -(-total // per_day)
    start = dt.date(2026, 2, 3) - dt.timedelta(days=days - 1)
    now = dt.datetime.now(dt.UTC)
    generated: list[tuple[dt.date, Item]] = []
    digest_rows: list[dict[str, object]] = []
    item_rows: list[dict[str, object]] = []
    tag_rows: list[dict[str, object]] = []
    words: list[dict[str, object]] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("generating items", total=total)
        for day_index in range(days):
            date = start + dt.timedelta(days=day_index)
            count = min(per_day, total - day_index * per_day)
            digest_rows.append(
                {"id": day_index + 1, "date": date, "title": "AI 每日情报", "path": f"{date}.md",
                 "sha256": f"{day_index:064x}", "item_count": count, "ingested_at": now,
                 "updated_at": now}
            )  # fmt: skip
            for rank in range(1, count + 1):
                item = synth.item(rank, date)
                generated.append((date, item))
                if insert_rows:
                    item_id = len(generated)
                    item_rows.append({"id": item_id, **item_row(item, day_index + 1, date)})
                    tag_rows += [
                        tag_row(item_id, pos, tag, archive.aliases)
                        for pos, tag in enumerate(item.tags)
                    ]
                    words += word_rows(item_id, str(item_rows[-1]["search_text"]))
            progress.advance(task, count)
    generating = time.perf_counter() - began
    if not insert_rows:
        console.print(f"generated {total:,} items in {generating:.1f} s (reusing the archive)")
        return generated
    began = time.perf_counter()
    with console.status("inserting rows and indexing them"):
        with archive.engine.begin() as conn:
            if archive.dialect == "sqlite":
                # Bulk load: index the text once at the end instead of row by row through
                # the triggers (create_schema below puts them back).
                for trigger in ("items_fts_insert", "items_fts_delete", "items_fts_update"):
                    conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
            conn.execute(insert(digests), digest_rows)
            for batch in range(0, len(item_rows), 20_000):
                conn.execute(insert(items), item_rows[batch : batch + 20_000])
            conn.execute(insert(item_tags), tag_rows)
            for batch in range(0, len(words), 100_000):
                conn.execute(insert(item_words), words[batch : batch + 100_000])
            if archive.dialect == "sqlite":
                conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            else:
                conn.execute(text("ANALYZE"))
        archive.create_schema()
    inserting = time.perf_counter() - began
    megabytes = sum(len(str(row["search_text"]).encode()) for row in item_rows) / 1e6
    console.print(
        f"{archive.dialect}: generated {total:,} items ({megabytes:.0f} MB of search text) in "
        f"{generating:.1f} s, inserted and indexed in {inserting:.1f} s ({len(words):,} word rows)"
    )
    return generated


QUERIES = {
    "tag:": ["tag:RL", "tag:Agent", "tag:视频生成", "tag:MoE", "tag:开源", "tag:量化",
             "tag:具身智能", "tag:LLM", "tag:自动驾驶", "tag:Benchmark", "tag:联邦学习",
             "tag:RLHF", "tag:智能体 tag:多智能体"],
    "text 3+ chars": ["显存带宽", "Transformer", "推理加速", "kv cache", "SWE-Bench",
                      "量化感知", "Kimi K2.5", "吞吐提升 37 倍", "speculative", "世界模型",
                      "稀疏化工具链", "ring attention", "不存在的词"],
    "common word": ["attention", "model", "agent", "qat", "rl", "cache", "https", "tokens"],
    "text 2-char zh": ["强化", "显存", "开源", "量化", "推理", "具身", "智谱", "路由", "稀疏",
                       "编译", "羊驼"],
    "combined": ["tag:RL source:量子位 强化学习", "tag:Agent stars:4 since:2020-01-01",
                 "org:openai -tag:LLM 推理", "source:机器之心 tag:多模态 显存",
                 "tag:视频生成 tag:多模态 -source:36氪 质量", "stars:5 开源 until:2025-12-31",
                 "tag:具身智能 编译 -org:google", "source:arxiv 稀疏化 stars:3"],
}  # fmt: skip


def timings(run: Callable[[Query], object], queries: list[Query]) -> list[float]:
    """Milliseconds per call, one call per query in ``queries``."""
    samples = []
    for query in queries:
        began = time.perf_counter()
        run(query)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def plain_search(archive: Archive, query: Query) -> list[int]:
    """The naive statement: the plain WHERE (LIKE scans, no FTS, no planning), one page."""
    stmt = select(items.c.id).order_by(*search.order_by()).limit(20)
    condition = search.where(query, archive.aliases, archive.dialect)
    with archive.engine.connect() as conn:
        return list(conn.execute(stmt if condition is None else stmt.where(condition)).scalars())


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def database_megabytes(archive: Archive) -> float:
    """The archive's size on disk: the SQLite file (and its WAL), or the schema's relations."""
    with archive.engine.connect() as conn:
        if archive.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return int(pages) * int(size) / 1e6
        total = conn.execute(
            text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
        ).scalar_one()
        return int(total or 0) / 1e6


@contextmanager
def target(pg_url: str | None, db: str | None) -> Iterator[str]:
    """A temporary SQLite file (or ``--db``), or a fresh PostgreSQL schema dropped afterwards."""
    if db:
        yield f"sqlite:///{Path(db).resolve()}"
        return
    if not pg_url:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema},public"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=14)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--scan-runs", type=int, default=5, help="runs of the python scan")
    parser.add_argument("--pg", metavar="URL", help="benchmark PostgreSQL instead of SQLite")
    parser.add_argument("--seed", type=int, default=20260203)
    parser.add_argument("--db", metavar="PATH", help="SQLite file to build (or reuse if it exists)")
    args = parser.parse_args()

    reuse = bool(args.db and Path(args.db).exists())
    with target(args.pg, args.db) as url:
        archive = Archive(url)
        archive.create_schema()
        generated = build(archive, args.items, args.per_day, args.seed, insert_rows=not reuse)
        today = generated[-1][0]
        table = Table(title=f"Archive.search, one page of 20 hits ({args.runs} runs each; ms)")
        columns = ["query", "p50", "p99", "+count p50", "+count p99", "plain SQL p50",
                   "plain SQL p99", "python scan p50", "p99 vs plain", "p50 vs scan"]  # fmt: skip
        for name in columns:
            table.add_column(name, justify="left" if name == "query" else "right")
        for category, texts in QUERIES.items():
            queries: list[Query] = [parse_query(t, today=today) for t in texts]
            picks = [queries[i % len(queries)] for i in range(args.runs)]
            random.Random(category).shuffle(picks)
            for query in queries:  # warm the caches once per query
                archive.search(query, limit=20)
            fast = timings(lambda q: archive.search(q, limit=20), picks)
            paged = timings(lambda q: (archive.search(q, limit=20), archive.count(q)), picks)
            few = picks[: max(len(queries), args.runs // 5)]
            plain = timings(lambda q: plain_search(archive, q), few)
            scan_picks = picks[: args.scan_runs]
            scan = timings(
                lambda q: [i for d, i in generated if q.matches(i, d, archive.aliases)],
                scan_picks,
            )
            p50, p99 = statistics.median(fast), percentile(fast, 0.99)
            table.add_row(
                category,
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{statistics.median(paged):.2f}",
                f"{percentile(paged, 0.99):.2f}",
                f"{statistics.median(plain):.2f}",
                f"{percentile(plain, 0.99):.2f}",
                f"{statistics.median(scan):.0f}",
                f"{percentile(plain, 0.99) / p99:.1f}x",
                f"{statistics.median(scan) / p50:.0f}x",
            )
        console.print(table)
        console.print(f"database size: {database_megabytes(archive):.1f} MB")
        archive.close()


if __name__ == "__main__":
    main()
