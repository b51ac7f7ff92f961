"""Schema migrations: a 0.1.0 archive upgrades in place, revisions match schema.py,
read-only archives still answer, and ``digestbot db current|upgrade``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select

from bot.archive import Archive
from bot.archive.migrate import BASELINE, alembic_config, head_revision, include_object
from bot.archive.schema import metadata
from bot.errors import ArchiveError
from tests.support import release_archive
from tests.support.cli import run as run_cli

TABLES = ("digests", "items", "item_tags", "subscriptions", "deliveries", "delivery_messages")
#: The columns of release 0.1.0's tables: later revisions add columns, never drop these.
RELEASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "digests": ("id", "date", "title", "path", "sha256", "item_count", "ingested_at",
                "updated_at"),
    "items": ("id", "digest_id", "date", "rank", "title", "orgs", "orgs_text", "source",
              "published_at", "stars", "url", "summary", "sections", "resources",
              "search_text", "source_norm", "line"),
    "item_tags": ("item_id", "position", "tag", "canonical", "normalized"),
    "subscriptions": ("id", "platform", "channel_id", "thread_id", "schedule", "timezone",
                      "topics", "active", "inactive_reason", "created_by", "created_at",
                      "updated_at"),
    "deliveries": ("id", "platform", "channel_id", "digest_date", "status", "owner",
                   "lease_until", "message_count", "attempts", "error", "snapshot",
                   "created_at", "updated_at"),
    "delivery_messages": ("delivery_id", "idx", "message_id", "posted_at"),
}  # fmt: skip


@pytest.fixture(scope="session")
def release_tree(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    return release_archive.release_tree(tmp_path_factory.mktemp("release-0.1.0"))


def snapshot(url: str) -> dict[str, list[Any]]:
    """Every row of every 0.1.0 table, in a stable order: only the columns 0.1.0 had, so
    the same call compares an archive before and after revisions added columns."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {}
        for name in TABLES:
            table = metadata.tables[name]
            old = [table.c[column] for column in RELEASE_COLUMNS[name]]
            rows[name] = sorted(tuple(row) for row in conn.execute(select(*old)))
    engine.dispose()
    return rows


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return found


@pytest.mark.slow
def test_an_archive_built_by_release_0_1_0_upgrades_in_place(
    db_url: str,
    release_tree: Path | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if release_tree is not None:
        config = release_archive.build(release_tree, tmp_path / "old", db_url)
    elif db_url.startswith("sqlite"):  # no git history here: the stored copy, built that way
        release_archive.stored_copy(Path(db_url.removeprefix("sqlite:///")))
        config = tmp_path / "config.yaml"
        config.write_text(
            f"timezone: UTC\narchive:\n  url: {db_url}\nsources: [{release_archive.DIGEST}]\n"
            "channels:\n  - {platform: console, id: terminal}\n",
            encoding="utf-8",
        )
    else:
        pytest.skip("building a PostgreSQL archive with 0.1.0 needs git and its history")
    before = snapshot(db_url)
    assert revision_of(db_url) is None
    assert len(before["items"]) == 14 and before["deliveries"][0][4] == "done"
    assert len(before["delivery_messages"]) == before["deliveries"][0][7]
    assert len(before["subscriptions"]) == 1

    code = run_cli(["--config", str(config), "send", "--date", "2026-02-03", "--channel",
                    "console:terminal"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "already delivered" in out
    assert "Kimi" not in out  # no item of the digest was posted again
    assert revision_of(db_url) == head_revision()
    assert snapshot(db_url) == before  # items, tags, subscriptions and the ledger intact

    assert run_cli(["--config", str(config), "query", "--json", "tag:RL"]) == 0
    assert '"rank": 2' in capsys.readouterr().out  # text search works on the upgraded archive
    engine = create_engine(db_url)
    names = set(inspect(engine).get_table_names())
    if engine.dialect.name == "postgresql":
        names |= {ix["name"] for ix in inspect(engine).get_indexes("items")}
        assert {"ix_items_search_trgm", "ix_items_orgs_trgm"} <= names
    else:
        assert {"items_fts", "items_fts_vocab"} <= names
    engine.dispose()
    assert run_cli(["--config", str(config), "db", "current"]) == 0
    assert f"{head_revision()} (head)" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore:autogenerate skipping")
def test_revisions_build_exactly_the_tables_of_schema_py(db_url: str) -> None:
    """Adding a column to schema.py without a revision fails here."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": include_object(conn.dialect.name)},
        )
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_a_fresh_archive_is_stamped_at_head_and_upgrade_is_idempotent(db_url: str) -> None:
    archive = Archive(db_url)
    before, after = archive.create_schema()
    assert (before.has_tables, after.current) == (False, head_revision())
    again_before, again_after = archive.create_schema()
    assert again_before == again_after and again_after.up_to_date
    archive.close()


def test_an_unversioned_archive_that_is_not_ours_is_refused(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    metadata.tables["digests"].create(engine)
    engine.dispose()
    archive = Archive(sqlite_url)
    with pytest.raises(ArchiveError, match=r"lacks .*items"):
        archive.create_schema()
    archive.close()


def test_db_commands_upgrade_an_old_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = release_archive.stored_copy(tmp_path / "archive.db")
    config = tmp_path / "config.yaml"
    config.write_text(f"archive:\n  url: sqlite:///{db}\n", encoding="utf-8")
    assert run_cli(["--config", str(config), "db", "current"]) == 1
    assert "0.1.0, unversioned" in capsys.readouterr().out
    assert run_cli(["--config", str(config), "db", "upgrade"]) == 0
    assert f"upgraded from 0.1.0 (unversioned) to {head_revision()}" in capsys.readouterr().out
    assert run_cli(["--config", str(config), "db", "upgrade"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert run_cli(["--config", str(config), "db", "current"]) == 0
    engine = create_engine(f"sqlite:///{db}")
    assert "items_fts" in inspect(engine).get_table_names()  # the text index survived
    engine.dispose()
    assert head_revision() >= BASELINE


@pytest.mark.parametrize("old", [False, True], ids=["current", "0.1.0"])
def test_a_read_only_archive_answers_query(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: bool
) -> None:
    db = tmp_path / "archive.db"
    if old:
        release_archive.stored_copy(db)
    else:
        writable = _cfg(tmp_path, f"sqlite:///{db}")
        assert run_cli(["--config", str(writable), "ingest", str(release_archive.DIGEST)]) == 0
    db.chmod(0o444)
    # root ignores file modes: open it read-only as SQLite would for anyone else
    url = f"sqlite:///file:{db}?mode=ro&uri=true" if os.geteuid() == 0 else f"sqlite:///{db}"
    config = _cfg(tmp_path, url)
    capsys.readouterr()
    assert run_cli(["--config", str(config), "query", "--json", "tag:RL"]) == 0
    assert '"rank": 2' in capsys.readouterr().out
    # A whole word: from the word index, or (0.1.0 has none) from the text.
    assert run_cli(["--config", str(config), "query", "--json", "QAT"]) == 0
    out = capsys.readouterr().out
    assert '"rank": 2' in out and out.count('"rank"') == 1


def _cfg(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f'archive:\n  url: "{url}"\n', encoding="utf-8")
    return path


NEXT_REVISION = """
import shutil, sys
from pathlib import Path
from sqlalchemy import Column, Integer, create_engine, text
from bot.archive import migrate
from bot.archive.schema import items
from tests.support import release_archive

KIMI = "SELECT count(*) FROM items_fts WHERE items_fts MATCH 'kimi'"
tmp = Path(sys.argv[1])
versions = tmp / "migrations"
shutil.copytree(migrate.MIGRATIONS, versions)
items.append_column(Column("weight", Integer))  # the change a helper makes to schema.py
written = migrate.new_revision("add item weight", directory=versions)
# A hand-written revision that rebuilds the table (what batch mode does for most changes).
(versions / "versions" / "9999_rebuild.py").write_text(
    "from alembic import op\\n"
    "import sqlalchemy as sa\\n"
    f"revision = '9999'\\ndown_revision = '{written.name[:4]}'\\n"
    "branch_labels = depends_on = None\\n"
    "def upgrade():\\n"
    "    with op.batch_alter_table('items', recreate='always') as batch:\\n"
    "        batch.add_column(sa.Column('flags', sa.Text))\\n"
    "def downgrade():\\n    pass\\n"
)
migrate.MIGRATIONS = versions
db = release_archive.stored_copy(tmp / "archive.db")
engine = create_engine(f"sqlite:///{db}")
with engine.connect() as conn:
    before = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
              ("items", "item_tags", "deliveries", "delivery_messages")]
    before.append(conn.execute(text(KIMI)).scalar())
before_state, after_state = migrate.upgrade(engine)
with engine.connect() as conn:
    after = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
             ("items", "item_tags", "deliveries", "delivery_messages")]
    columns = [row[1] for row in conn.execute(text("PRAGMA table_info(items)"))]
    after.append(conn.execute(text(KIMI)).scalar())
print(written.name, before_state.current, after_state.current, before, after,
      "weight" in columns, "flags" in columns)
"""


@pytest.mark.slow
def test_adding_a_revision_is_one_command_and_keeps_every_row(tmp_path: Path) -> None:
    """What the integrator does for a new column: change schema.py, write the revision with
    ``python -m bot.archive.migrate revision``; a 0.1.0 archive then upgrades through it
    (and through a table rebuild) without losing tags, ledger messages or the text index."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-c", NEXT_REVISION, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    from bot.archive.migrate import MIGRATIONS

    number = len(list((MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1
    assert line.startswith(f"{number:04d}_add_item_weight.py None 9999 "), line
    assert line.endswith("True True"), line  # both new columns are there
    before, after = ([int(n) for n in c.split(",")] for c in re.findall(r"\[([\d, ]+)\]", line))
    # nothing lost: items, tags, ledger rows, their messages, text-index hits
    assert before == after and after[-1] > 0, line
