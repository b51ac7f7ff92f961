"""Source paths and globs, including symlink loops under ``**``."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.ingest import expand_paths
from tests.bot.ingest.test_files import write_days
from tests.conftest import ROOT


def looped_tree(root: Path) -> Path:
    """digests/{2025/a.md, 2025/loop -> .., up -> ../digests}: links back to ancestors."""
    base = root / "digests"
    write_days(base / "2025", 2, dt.date(2025, 1, 1))
    (base / "2025" / "loop").symlink_to("..", target_is_directory=True)
    (base / "up").symlink_to(base, target_is_directory=True)
    return base


def test_a_symlink_loop_under_a_double_star_glob_is_followed_once(tmp_path: Path) -> None:
    base = looped_tree(tmp_path)
    files, missing = expand_paths([f"{base}/**/*.md", str(base)])
    assert missing == []
    assert sorted(p.name for p in files) == ["2025-01-01.md", "2025-01-02.md"]


def test_globs_keep_their_meaning(tmp_path: Path) -> None:
    write_days(tmp_path / "a", 2, dt.date(2025, 1, 1))
    write_days(tmp_path / "a" / "deeper", 1, dt.date(2025, 2, 1))
    (tmp_path / "a" / ".hidden.md").write_text("# x | 2025-03-01\n", encoding="utf-8")
    names = lambda pattern: sorted(p.name for p in expand_paths([pattern])[0])  # noqa: E731
    assert names(f"{tmp_path}/a/*.md") == ["2025-01-01.md", "2025-01-02.md"]
    assert names(f"{tmp_path}/a/**/*.md") == ["2025-01-01.md", "2025-01-02.md", "2025-02-01.md"]
    assert names(f"{tmp_path}/*/deeper/2025-0?-01.md") == ["2025-02-01.md"]
    assert names(f"{tmp_path}/a/*") == ["2025-01-01.md", "2025-01-02.md", "2025-02-01.md"]


@pytest.mark.slow
def test_ingest_on_a_looped_tree_finishes_and_sigterm_works(tmp_path: Path) -> None:
    base = looped_tree(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"archive:\n  url: sqlite:///{tmp_path / 'a.db'}\nsources: ['{base}/**/*.md']\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "ingest"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "2 created" in done.stdout
    config.write_text(config.read_text() + "channels: [{platform: console, id: t}]\n")
    service = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 60
    assert service.stderr is not None
    while time.monotonic() < deadline:  # up means it walked the tree at start
        line = service.stderr.readline()
        seen.append(line)
        if "service: running" in line or not line:
            break
    assert "service: running" in seen[-1], "".join(seen)
    service.send_signal(signal.SIGTERM)
    _, err = service.communicate(timeout=30)
    assert service.returncode == 0, "".join(seen) + err
