"""The Archive facade: schema, storing digests idempotently, reading them back."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from bot.archive import Archive
from bot.archive.migrate import alembic_config, head_revision
from bot.archive.schema import digests, item_tags, items, metadata
from bot.archive.subscriptions import SubscriptionStore
from bot.config import load_settings
from bot.errors import ArchiveError
from bot.ingest import file_sha256, parse_file
from bot.models import Digest, Item
from bot.query import parse_query
from tests.conftest import DATA, REFERENCE_DIGEST

DAY = dt.date(2026, 2, 3)
SECOND_DAY = DATA / "query_2026-02-04.md"


@pytest.fixture(scope="module")
def reference() -> Digest:
    result = parse_file(REFERENCE_DIGEST)
    assert not result.problems
    return result.digest


def store_file(archive: Archive, path: Path) -> str:
    return archive.store(parse_file(path).digest, path=str(path), sha256=file_sha256(path))


def row_count(archive: Archive, table: object) -> int:
    with archive.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_create_schema_is_idempotent(archive: Archive) -> None:
    archive.create_schema()
    names = set(inspect(archive.engine).get_table_names())
    assert set(metadata.tables) <= names
    assert isinstance(archive.subscriptions, SubscriptionStore)
    assert archive.ledger is archive.ledger
    # The text index of each database is in place (not silently skipped).
    if archive.dialect == "sqlite":
        assert "items_fts" in names
    else:
        indexes = {index["name"] for index in inspect(archive.engine).get_indexes("items")}
        assert {"ix_items_search_trgm", "ix_items_orgs_trgm"} <= indexes


def test_store_then_read_back_field_for_field(archive: Archive, reference: Digest) -> None:
    assert archive.store(reference, path="a.md", sha256="1") == "created"
    stored = archive.digest(DAY)
    assert stored == reference
    assert [i.line for i in stored.items] == [i.line for i in reference.items]
    assert archive.digest(DAY + dt.timedelta(days=1)) is None


def test_store_is_idempotent_and_replaces_a_changed_day(
    archive: Archive, reference: Digest
) -> None:
    assert archive.store(reference, path="a.md", sha256="1") == "created"
    assert archive.store(reference, path="a.md", sha256="1") == "unchanged"
    assert row_count(archive, items) == 14
    assert [h.rank for h in archive.search(parse_query("姚顺雨", today=DAY))] == [1]
    edited = reference.model_copy(
        update={
            "title": "AI 每日情报（修订）",
            "items": [
                reference.items[0].model_copy(update={"title": "全新标题 zebracorn"}),
                *reference.items[2:],
            ],
        }
    )
    assert archive.store(edited, path="b.md", sha256="2") == "updated"
    assert archive.digest(DAY) == edited
    assert row_count(archive, items) == 13
    tags_expected = sum(len(i.tags) for i in edited.items)
    assert row_count(archive, item_tags) == tags_expected
    with archive.engine.connect() as conn:
        row = conn.execute(select(digests.c.path, digests.c.sha256, digests.c.item_count)).one()
    assert tuple(row) == ("b.md", "2", 13)
    # The text index follows the edit: new words are found, removed items are gone.
    assert [h.rank for h in archive.search(parse_query("zebracorn", today=DAY))] == [1]
    assert archive.search(parse_query("QAT", today=DAY)) == []
    assert archive.search(parse_query("姚顺雨", today=DAY)) == []


def test_dates_latest_and_item(archive: Archive, reference: Digest) -> None:
    assert archive.latest_date() is None and archive.dates() == []
    store_file(archive, SECOND_DAY)
    archive.store(reference, path="a.md", sha256="1")
    assert archive.dates() == [DAY, dt.date(2026, 2, 4)]
    assert archive.latest_date() == dt.date(2026, 2, 4)
    hit = archive.item(DAY, 7)
    assert hit is not None and hit.date == DAY
    assert Item(**hit.model_dump(exclude={"date"}), line=hit.line) == reference.items[6]
    assert archive.item(DAY, 99) is None


def test_item_without_optional_fields_round_trips(archive: Archive) -> None:
    bare = Digest(date=DAY, title="t", items=[Item(rank=1, title="只有标题")])
    archive.store(bare, path="x.md", sha256="x")
    assert archive.digest(DAY) == bare
    assert archive.count(parse_query("-stars:1 -source:x -org:x -tag:x", today=DAY)) == 1


def test_duplicate_ranks_are_refused_with_the_path(archive: Archive) -> None:
    twice = Digest(date=DAY, title="t", items=[Item(rank=2, title="a"), Item(rank=2, title="b")])
    with pytest.raises(ArchiveError, match=r"x\.md: digest 2026-02-03 has item 2 twice"):
        archive.store(twice, path="x.md", sha256="x")
    assert archive.dates() == []


def test_concurrent_stores_of_one_file_agree(db_url: str, reference: Digest) -> None:
    Archive(db_url).create_schema()
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def ingest() -> None:
        archive = Archive(db_url)
        try:
            barrier.wait()
            outcomes.append(archive.store(reference, path="a.md", sha256="1"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            archive.close()

    threads = [threading.Thread(target=ingest) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(outcomes) == ["created", "unchanged", "unchanged"]
    check = Archive(db_url)
    assert check.digest(DAY) == reference
    assert row_count(check, items) == 14
    check.close()


def test_from_settings_resolves_relative_sqlite_paths_and_aliases(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        "archive:\n  url: sqlite:///data/archive.db\n"
        "tags:\n  aliases:\n    Spatial AI: [空间智能]\n",
        encoding="utf-8",
    )
    (tmp_path / "conf" / "data").mkdir()
    archive = Archive.from_settings(load_settings(config, environ={}))
    try:
        archive.create_schema()
        assert (tmp_path / "conf" / "data" / "archive.db").exists()
        assert archive.aliases.same("空间智能", "spatial-ai")
    finally:
        archive.close()


def test_changed_aliases_apply_without_reingesting(db_url: str, reference: Digest) -> None:
    first = Archive(db_url)
    first.create_schema()
    first.store(reference, path="a.md", sha256="1")
    first.close()
    from bot.query import TagAliases

    second = Archive(db_url, TagAliases.builtin({"RL": ["模型压缩"]}))
    try:
        hits = second.search(parse_query("tag:RL", today=DAY))
        assert [h.rank for h in hits] == [2, 7]
        hits = second.search(parse_query("tag:模型压缩", today=DAY))
        assert [h.rank for h in hits] == [2, 7]
    finally:
        second.close()


def test_database_errors_become_archive_errors(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"archive\.url"):
        Archive("nosuchdialect://x")
    missing = Archive(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with pytest.raises(ArchiveError, match=r"cannot create the schema"):
        missing.create_schema()
    unmigrated = Archive(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ArchiveError, match=r"cannot search"):
        unmigrated.search(parse_query("QAT", today=DAY))


def test_sqlite_archive_made_before_the_text_index_is_reindexed(
    sqlite_url: str, reference: Digest
) -> None:
    archive = Archive(sqlite_url)
    with archive.engine.begin() as conn:
        metadata.create_all(conn)  # today's tables, at today's revision, without the index
        command.stamp(alembic_config(conn), head_revision())
    archive.store(reference, path="a.md", sha256="1")  # no FTS table, no triggers yet
    archive.create_schema()
    assert [h.rank for h in archive.search(parse_query("QAT", today=DAY))] == [2]
    archive.close()


# -- bulk storing (store_many) ------------------------------------------------------------------


def days_like(reference: Digest, count: int, second: Digest) -> list[Digest]:
    """``count`` days made of the two sample digests' items (varied by day in the title)."""
    out = []
    for offset in range(count):
        source = reference if offset % 2 == 0 else second
        day = DAY - dt.timedelta(days=offset)
        changed = [
            item.model_copy(update={"title": f"{item.title} 第{offset}天"}) for item in source.items
        ]
        out.append(source.model_copy(update={"date": day, "items": changed}))
    return out


BULK_QUERIES = [
    "", "QAT", "强化", "tag:RL", "-tag:RL", "source:量子位", "org:openai", "第3天",
    "第12天 tag:LLM", "模型 -source:量子位", "stars:4", "since:2026-01-30",
]  # fmt: skip


def answers(archive: Archive) -> list[tuple[list[tuple[dt.date, int]], int]]:
    found = []
    for text in BULK_QUERIES:
        query = parse_query(text, today=DAY)
        hits = archive.search(query, limit=1000)
        found.append(([(h.date, h.rank) for h in hits], archive.count(query)))
    return found


def fts_is_consistent(archive: Archive) -> bool:
    """SQLite: the trigram index matches ``items`` exactly (FTS5's own integrity check)."""
    if archive.dialect != "sqlite":
        return True
    with archive.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO items_fts(items_fts, rank) VALUES ('integrity-check', 1)")
        trigger = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            ("items_fts_insert",),
        ).scalar_one()
    return trigger == 1


@pytest.mark.parametrize("bulk_fts_min", [1, 10**9], ids=["one-statement-fts", "fts-trigger"])
def test_store_many_equals_storing_file_by_file(
    db_url: str,
    tmp_path: Path,
    reference: Digest,
    bulk_fts_min: int,
) -> None:
    days = days_like(reference, 21, parse_file(SECOND_DAY).digest)
    bulk = Archive(db_url, bulk_fts_min_items=bulk_fts_min)
    bulk.create_schema()
    entries = [(d, f"{d.date}.md", f"sha-{d.date}") for d in days]
    assert bulk.store_many(entries[:10]) == ["created"] * 10
    # Unchanged, changed (one item fewer) and new days in one batch.
    edited = days[3].model_copy(update={"items": days[3].items[1:]})
    mixed = [entries[0], (edited, "edited.md", "sha-edited"), *entries[10:]]
    assert bulk.store_many(mixed) == ["unchanged", "updated"] + ["created"] * 11
    assert fts_is_consistent(bulk)
    assert bulk.digest(days[3].date) == edited
    assert bulk.digest(days[20].date) == days[20]
    expected = answers(bulk)

    single_url = f"sqlite:///{tmp_path / 'single.db'}"
    single = Archive(single_url)
    single.create_schema()
    for digest, path, sha256 in entries:
        single.store(digest, path=path, sha256=sha256)
    single.store(edited, path="edited.md", sha256="sha-edited")
    assert answers(single) == expected
    assert row_count(single, items) == row_count(bulk, items)
    assert row_count(single, item_tags) == row_count(bulk, item_tags)
    # Per-file stores after a bulk one keep the text index in step (the trigger is back).
    later = reference.model_copy(update={"date": DAY + dt.timedelta(days=1)})
    assert bulk.store(later, path="later.md", sha256="later") == "created"
    assert [h.date for h in bulk.search(parse_query("QAT", today=DAY), limit=1)] == [later.date]
    assert fts_is_consistent(bulk)
    single.close()
    bulk.close()


def test_store_many_is_all_or_nothing(archive: Archive, reference: Digest) -> None:
    good = [(reference, "a.md", "1")]
    other = reference.model_copy(update={"date": DAY + dt.timedelta(days=1)})
    with pytest.raises(ArchiveError, match=r"b\.md: same date 2026-02-03 as a\.md"):
        archive.store_many([*good, (reference, "b.md", "2")])
    twice = Digest(date=DAY, title="t", items=[Item(rank=2, title="a"), Item(rank=2, title="b")])
    with pytest.raises(ArchiveError, match=r"x\.md: digest 2026-02-03 has item 2 twice"):
        archive.store_many([(other, "o.md", "o"), (twice, "x.md", "x")])
    assert archive.dates() == []
    assert archive.store_many([]) == []
    assert archive.store_many([(other, "o.md", "o"), *good]) == ["created", "created"]
    assert archive.dates() == [DAY, other.date]


def test_postgres_scheme_urls_mean_postgresql_with_psycopg(pg_url: str) -> None:
    """``postgres://`` (Heroku, libpq) and a bare ``postgresql://`` work as PostgreSQL."""
    from bot.archive.engine import normalize_url

    assert normalize_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    for scheme in ("postgres://", "postgresql://"):
        url = scheme + pg_url.split("://", 1)[1]
        archive = Archive(url)
        try:
            archive.create_schema()
            assert archive.dialect == "postgresql" and archive.latest_date() is None
        finally:
            archive.close()
