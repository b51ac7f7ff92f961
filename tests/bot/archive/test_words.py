"""The word index: ``item_words`` holds exactly ``words(search_text)`` of every item, through
stores, re-ingests, moved days and bulk batches; revision 0006 fills it for an archive made
at 0005; one-word terms answered from it equal the in-memory matcher."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, select

from bot.archive import Archive
from bot.archive.bulk import item_row, tag_row
from bot.archive.migrate import alembic_config, head_revision
from bot.archive.schema import (
    WORD_MAX_CHARS,
    digests,
    install_text_search,
    item_tags,
    item_words,
    items,
)
from bot.ingest import file_sha256, parse_file
from bot.models import Digest, Item
from bot.query import TagAliases, parse_query, words
from tests.conftest import DATA, REFERENCE_DIGEST
from tests.support.cli import run as run_cli

FILES = [REFERENCE_DIGEST, DATA / "query_2026-02-04.md"]
DAY = dt.date(2026, 2, 3)
NEXT = dt.date(2026, 2, 4)
#: One-word terms (common, rare, digits, a word only inside another) and their neighbours.
TERMS = ["qat", "RL", "rl", "agent", "starlink", "link", "2026", "https", "moe", "kimi",
         "K2", "-rl", "RL 框架", "gpt-4", "强化", "tag:RL qat", "-qat tag:LLM",
         "source:量子位 rl"]  # fmt: skip


@pytest.fixture(scope="module")
def days() -> list[Digest]:
    return [parse_file(path).digest for path in FILES]


def stored_words(archive: Archive) -> set[tuple[int, str]]:
    with archive.engine.connect() as conn:
        return {(row.item_id, row.word) for row in conn.execute(select(item_words))}


def expected_words(archive: Archive) -> set[tuple[int, str]]:
    """What the index must hold: the tokenizer's words of each stored item's text."""
    with archive.engine.connect() as conn:
        rows = conn.execute(select(items.c.id, items.c.search_text)).all()
    return {
        (row.id, word)
        for row in rows
        for word in words(row.search_text)
        if len(word) <= WORD_MAX_CHARS
    }


def assert_in_step(archive: Archive) -> None:
    expected = expected_words(archive)
    assert expected, "no items stored"
    assert stored_words(archive) == expected


def ranks(archive: Archive, text: str, today: dt.date = NEXT) -> list[tuple[dt.date, int]]:
    return [(h.date, h.rank) for h in archive.search(parse_query(text, today=today), limit=1000)]


def in_memory(archive: Archive, stored: list[Digest], text: str) -> list[tuple[dt.date, int]]:
    query = parse_query(text, today=NEXT)
    hits = [
        (d.date, item.stars or 0, item.rank)
        for d in stored
        for item in d.items
        if query.matches(item, d.date, archive.aliases)
    ]
    hits.sort(key=lambda h: (-h[0].toordinal(), -h[1], h[2]))
    return [(date, rank) for date, _, rank in hits]


def assert_matches_memory(archive: Archive, stored: list[Digest]) -> None:
    for text in TERMS:
        want = in_memory(archive, stored, text)
        assert ranks(archive, text) == want, text
        assert archive.count(parse_query(text, today=NEXT)) == len(want), text


def test_stores_and_reingests_keep_the_word_rows_in_step(
    archive: Archive, days: list[Digest]
) -> None:
    reference, second = days
    archive.store(reference, path="a.md", sha256="1")
    assert_in_step(archive)
    assert ranks(archive, "zebracorn", DAY) == []
    first = reference.items[0]
    addendum = first.model_copy(update={"rank": 99, "title": "Late news: quokkabench", "line": 0})
    edited = reference.model_copy(
        update={
            "items": [
                first.model_copy(update={"title": "全新标题 zebracorn", "summary": None}),
                *reference.items[2:],
                addendum,
            ]
        }
    )
    assert archive.store(edited, path="a.md", sha256="2") == "updated"
    assert_in_step(archive)
    assert ranks(archive, "zebracorn", DAY) == [(DAY, 1)]
    assert ranks(archive, "quokkabench", DAY) == [(DAY, 99)]
    assert_matches_memory(archive, [edited])
    # The file's header moves to another day: the old day, and its words, go.
    moved = second.model_copy(update={"date": DAY + dt.timedelta(days=10)})
    assert archive.store(moved, path="a.md", sha256="3") == "created"
    assert archive.dates() == [moved.date]
    assert_in_step(archive)
    assert ranks(archive, "zebracorn", DAY) == []


def test_a_bulk_batch_writes_the_same_word_rows(db_url: str, days: list[Digest]) -> None:
    """Big batches take the bulk path (SQLite's text index filled in one statement)."""
    archive = Archive(db_url, bulk_fts_min_items=1)
    archive.create_schema()
    try:
        entries = [(d, str(p), file_sha256(p)) for d, p in zip(days, FILES, strict=True)]
        assert archive.store_many(entries) == ["created", "created"]
        assert_in_step(archive)
        assert_matches_memory(archive, days)
    finally:
        archive.close()


def test_a_word_longer_than_the_index_keeps_is_matched_on_the_text(archive: Archive) -> None:
    long = "x" * (WORD_MAX_CHARS + 1)
    digest = Digest(
        date=DAY,
        title="t",
        items=[Item(rank=1, title=f"hash {long} end"), Item(rank=2, title=f"hash {long}y")],
    )
    archive.store(digest, path="a.md", sha256="1")
    assert_in_step(archive)
    assert (1, long) not in stored_words(archive)
    assert ranks(archive, long, DAY) == [(DAY, 1)] == in_memory(archive, [digest], long)
    assert ranks(archive, "hash", DAY) == [(DAY, 1), (DAY, 2)]
    assert archive.count(parse_query(f"-{long}", today=DAY)) == 1


@pytest.fixture
def archive_at_0005(db_url: str, days: list[Digest]) -> Iterator[str]:
    """An archive created at revision 0005 and filled as 0005's code did (no word rows)."""
    engine = create_engine(db_url)
    aliases = TagAliases.builtin()
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
        install_text_search(conn)
        for number, (digest, path) in enumerate(zip(days, FILES, strict=True), start=1):
            conn.execute(
                insert(digests),
                {"id": number, "date": digest.date, "title": digest.title, "path": str(path),
                 "sha256": file_sha256(path), "item_count": len(digest.items),
                 "ingested_at": now, "updated_at": now},
            )  # fmt: skip
            for item in digest.items:
                item_id = conn.execute(
                    insert(items).values(item_row(item, number, digest.date))
                ).inserted_primary_key[0]
                for position, tag in enumerate(item.tags):
                    conn.execute(insert(item_tags).values(tag_row(item_id, position, tag, aliases)))
    assert "item_words" not in inspect(engine).get_table_names()
    engine.dispose()
    yield db_url


def test_revision_0006_indexes_the_words_of_an_archive_made_at_0005(
    archive_at_0005: str, days: list[Digest]
) -> None:
    archive = Archive(archive_at_0005)
    try:
        before, after = archive.create_schema()
        assert (before.current, after.current) == ("0005", head_revision())
        assert_in_step(archive)
        assert_matches_memory(archive, days)
        # New stores after the upgrade keep it in step too.
        assert archive.store(days[0], path="a.md", sha256="new") == "updated"
        assert_in_step(archive)
    finally:
        archive.close()


def test_db_upgrade_draws_the_word_indexing_as_a_progress_bar(
    archive_at_0005: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f'archive:\n  url: "{archive_at_0005}"\n', encoding="utf-8")
    capsys.readouterr()
    assert run_cli(["--config", str(config), "db", "upgrade"]) == 0
    out, err = capsys.readouterr()
    assert f"upgraded from 0005 to {head_revision()}" in out
    assert "indexing words" in err and "18/18" in err  # the two days' 14 + 4 items
    assert run_cli(["--config", str(config), "db", "upgrade"]) == 0
    assert "indexing words" not in capsys.readouterr().err  # nothing to do, no bar


def test_a_read_only_archive_before_the_word_index_still_finds_words(
    archive_at_0005: str, days: list[Digest]
) -> None:
    """Read as it is (its revision not upgraded), one-word terms use the text."""
    archive = Archive(archive_at_0005)
    try:
        archive._words = False  # what open_for_reading sets when the upgrade is refused
        assert_matches_memory(archive, days)
    finally:
        archive.close()
