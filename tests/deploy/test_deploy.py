"""deploy/: the systemd unit, the Dockerfile (built from the wheel) and compose.yaml.

No container engine runs here, so what can be checked is checked: the unit with
``systemd-analyze verify`` (and its keys), the Dockerfile's steps against pyproject and a
wheel built the Dockerfile's way from only the files it copies, and compose.yaml's names
against the settings they must fill.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from bot.config import load_settings
from tests.conftest import ROOT
from tests.support.cli import run as run_cli

DEPLOY = ROOT / "deploy"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def unit_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def test_the_systemd_unit_runs_the_service_and_upgrades_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sections = unit_sections((DEPLOY / "digestbot.service").read_text(encoding="utf-8"))
    service = dict(sections["Service"])
    assert service["ExecStart"].endswith("digestbot run")
    assert service["ExecStartPre"].endswith("digestbot db upgrade")
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "on-failure"
    assert service["User"] == "digestbot" and service["NoNewPrivileges"] == "yes"
    environment = [v for k, v in sections["Service"] if k == "Environment"]
    assert "DIGESTBOT_CONFIG=/etc/digestbot/config.yaml" in environment
    assert dict(sections["Install"])["WantedBy"] == "multi-user.target"
    assert "network-online.target" in dict(sections["Unit"])["After"]
    for command in (service["ExecStart"], service["ExecStartPre"]):
        args = shlex.split(command)[1:]
        assert run_cli([*args, "--help"]) == 0, f"{command}: not a digestbot command"
    capsys.readouterr()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    digestbot = Path(sys.executable).with_name("digestbot")
    text = (DEPLOY / "digestbot.service").read_text(encoding="utf-8")
    unit = tmp_path / "digestbot.service"
    unit.write_text(text.replace("/opt/digestbot/bin/digestbot", str(digestbot)), "utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    problems = [line for line in done.stderr.splitlines() if str(unit) in line or "Unknown" in line]
    assert done.returncode == 0 and not problems, done.stderr


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, args = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), args.strip()))
    return stages


def test_the_dockerfile_builds_a_wheel_and_installs_only_that() -> None:
    build, final = dockerfile_stages()
    requires = PYPROJECT["project"]["requires-python"]
    minimum = tuple(int(n) for n in requires.removeprefix(">=").split("."))
    for stage in (build, final):
        image = stage[0][1].split()[0]
        version = re.match(r"python:(\d+)\.(\d+)", image)
        assert version and tuple(map(int, version.groups())) >= minimum, image
    runs = [args for op, args in build if op == "RUN"]
    assert any(re.search(r"pip wheel .*--no-deps .*\s\.$", run) for run in runs), runs
    installs = [args for op, args in final if op == "RUN" and "pip install" in args]
    (install,) = installs
    extras = re.search(r"digestbot-\*\.whl\)\[([\w,]+)\]", install)
    assert extras, install
    assert set(extras[1].split(",")) <= set(PYPROJECT["project"]["optional-dependencies"])
    assert ("ENTRYPOINT", '["digestbot"]') in final and ("CMD", '["run"]') in final
    env = dict(
        pair.split("=", 1)
        for args in (a for op, a in final if op == "ENV")
        for pair in args.split()
    )
    settings = load_settings(None, environ=env, env_file=None)  # the names are real settings
    assert (settings.log_format, settings.http.port) == ("json", 8080)


@pytest.mark.slow
def test_the_files_the_dockerfile_copies_build_a_complete_wheel(tmp_path: Path) -> None:
    """pip wheel from only what the build stage copies: the way .ci/run installs (pip
    reading pyproject), and the package data (migrations, templates, tags) is inside."""
    build, _ = dockerfile_stages()
    src = tmp_path / "src"
    src.mkdir()
    for op, args in build:
        if op != "COPY":
            continue
        *sources, _dest = args.split()
        for name in sources:
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(path, src / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("digestbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "bot/archive/migrations/env.py" in names
    assert any(n.startswith("bot/archive/migrations/versions/0001") for n in names)
    assert "bot/query/data/tag_aliases.yaml" in names
    assert "formatters/templates/zh/help.md.j2" in names


def test_compose_runs_digestbot_on_postgresql_with_secret_files(tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"digestbot", "postgres"}
    bot = services["digestbot"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]
    context = (DEPLOY / bot["build"]["context"]).resolve()
    assert (context / bot["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    # The secret files, mounted in /run/secrets, fill real settings.
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    for name in bot["secrets"]:
        value = {
            "DIGESTBOT_ARCHIVE__URL": "postgresql+psycopg://digestbot:pw@postgres/digestbot",
            "TELEGRAM_BOT_TOKEN": "1:abc",
        }.get(name, "xoxb-x" if "SLACK" in name else "x")
        (secrets / name).write_text(value, encoding="utf-8")
    environ = {k: v for k, v in bot["environment"].items() if k != "DIGESTBOT_CONFIG"}
    environ["DIGESTBOT_SECRETS_DIR"] = str(secrets)
    settings = load_settings(None, environ=environ, env_file=None)
    assert settings.archive.url.startswith("postgresql+psycopg://digestbot:pw@postgres/")
    assert settings.slack.bot_token is not None and settings.telegram.token is not None
    assert settings.sources == ["/srv/digests/*.md"]
    assert {s for s in compose["secrets"]} >= set(bot["secrets"])
