"""Build an archive with release 0.1.0's own code, to test upgrading it in place.

The release commit's tree is extracted with ``git archive`` and its ``digestbot`` runs in
a subprocess (same interpreter and dependencies): ``ingest`` the sample digest, ``send``
it to a console channel (a done ledger row with its messages) and ``subscriptions add``
a Telegram chat. Run as a script to refresh the stored SQLite copy used when the git
history is not available::

    python -m tests.support.release_archive tests/data/archive-0.1.0.db.gz
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RELEASE_COMMIT = "519e76538800432c2984f1ff076a1a57f515bded"
STORED = ROOT / "tests" / "data" / "archive-0.1.0.db.gz"
DIGEST = ROOT / "examples" / "digests" / "2026-02-03.md"
CHANNEL = {"platform": "console", "id": "terminal"}
SUBSCRIPTION = ("telegram", "-100123", "tag:RL", "30 8 * * 1-5")


def release_tree(dest: Path) -> Path | None:
    """The release's source tree under ``dest``, or None without git or its history."""
    if shutil.which("git") is None:
        return None
    done = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", RELEASE_COMMIT],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def build(tree: Path, workdir: Path, archive_url: str) -> Path:
    """Run 0.1.0's ingest, send and subscriptions add on ``archive_url``; the config path."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "timezone": "UTC",
                "archive": {"url": archive_url},
                "sources": [str(DIGEST)],
                "channels": [CHANNEL],
            }
        ),
        encoding="utf-8",
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT_", "SLACK_", "TELE"))
    }
    env["PYTHONPATH"] = str(tree)
    platform, chat, topic, schedule = SUBSCRIPTION
    for args in (
        ["ingest"],
        ["send", "--date", "2026-02-03"],
        ["subscriptions", "add", platform, chat, "--topic", topic, "--schedule", schedule],
    ):
        subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(config), *args],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    return config


def main(target: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tree = release_tree(Path(tmp) / "src")
        if tree is None:
            raise SystemExit("git and the release commit are needed to build the archive")
        db = Path(tmp) / "archive.db"
        build(tree, Path(tmp) / "work", f"sqlite:///{db}")
        subprocess.run(["sqlite3", str(db), "VACUUM"], check=False)
        with db.open("rb") as raw, gzip.open(target, "wb") as packed:
            shutil.copyfileobj(raw, packed)


def stored_copy(dest: Path) -> Path:
    """The stored 0.1.0 SQLite archive, unpacked to ``dest``."""
    with gzip.open(STORED, "rb") as packed, dest.open("wb") as raw:
        shutil.copyfileobj(packed, raw)
    return dest


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(STORED))
