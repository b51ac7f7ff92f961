"""Every CLI command and option, and every config key, is documented."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel

from bot.cli import app
from bot.config import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "config.example.yaml").read_text(encoding="utf-8")


def _cli_commands() -> list[tuple[str, Any]]:
    group = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found.append((name, command))
        if hasattr(command, "commands"):
            found.extend((f"{name} {sub}", cmd) for sub, cmd in command.commands.items())
    return found


def _config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation: Any = field.annotation
        inner = getattr(annotation, "__args__", (None,))[0] if annotation else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_config_keys(annotation, f"{prefix}{name}."))
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            keys.extend(_config_keys(inner, f"{prefix}{name}[]."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def _example_keys(text: str) -> set[str]:
    """Full key paths (``telegram.port``, ``channels[].path``) in a commented YAML example:
    commented-out keys (``#   thread_id: 42``) count, prose comments do not."""
    keys: set[str] = set()
    stack: list[tuple[int, str]] = []  # (column, path) of the enclosing keys
    for raw in text.splitlines():
        line = re.sub(r"^( *)# ?(?=\s*(- )?[A-Za-z_]+:)", r"\1", raw)
        match = re.match(r"^( *)(- )?([A-Za-z_]+):", line)
        if not match:
            continue
        column = len(match[1]) + (2 if match[2] else 0)
        if match[2]:  # the first key of a list item: its parent is the list
            while stack and stack[-1][0] >= column - 1:
                stack.pop()
            stack.append((column - 1, (stack[-1][1] if stack else "") + "[]"))
        while stack and stack[-1][0] >= column:
            stack.pop()
        path = f"{stack[-1][1]}.{match[3]}" if stack else match[3]
        keys.add(path)
        stack.append((column, path))
    return keys


EXAMPLE_KEYS = _example_keys(EXAMPLE)


def test_example_keys_are_read_as_full_paths() -> None:
    assert {"telegram.port", "slack.port", "http.port", "channels[].thread_id"} <= EXAMPLE_KEYS
    without = EXAMPLE.replace("  port: 8443 ", "  other: 8443 ")
    assert "telegram.port" not in _example_keys(without)
    assert "port" not in EXAMPLE_KEYS


def test_there_are_commands_and_keys_to_check() -> None:
    names = [name for name, _ in _cli_commands()]
    assert {"parse", "ingest", "query"} <= set(names)
    assert "channels[].topics" in _config_keys(Settings)


@pytest.mark.parametrize(("name", "command"), _cli_commands(), ids=lambda v: str(v))
def test_every_cli_command_and_option_is_in_the_readme(name: str, command: Any) -> None:
    if hasattr(command, "commands"):
        assert f"digestbot {name}" in README
        return
    top = name.split()[0]
    assert f"digestbot {top}" in README, f"`digestbot {name}` is not documented in README.md"
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert opt in README, f"option {opt} of `digestbot {name}` is not in README.md"


@pytest.mark.parametrize("key", _config_keys(Settings))
def test_every_config_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README or re.search(rf"`{re.escape(key)}[`,]", README), (
        f"config key {key} is missing from README.md's configuration table"
    )
    assert key in EXAMPLE_KEYS, f"config key {key} is missing from config.example.yaml"


def test_every_chat_command_is_documented() -> None:
    from bot.chat import VERBS
    from bot.platforms.telegram.app import menu
    from formatters import Templates

    for verb in VERBS:
        assert f"`/ai {verb}" in README, f"/ai {verb} is missing from README.md's chat commands"
    for command in menu(Templates("en")):
        assert f"`/{command.command}" in README, f"Telegram /{command.command} is not in README.md"
    assert "`/ai QUERY`" in README


def test_every_query_key_is_documented() -> None:
    from bot.query import KEYS

    for key in KEYS:
        assert f"`{key}:" in README, f"query key {key}: is missing from README.md"


def test_operating_features_are_documented() -> None:
    """doctor, --version, JSON logs and environment overrides (with their precedence)."""
    for needle in (
        "`digestbot doctor`",
        "`digestbot --version`",
        "`digestbot db upgrade`",
        "`log_format`",
        "DIGESTBOT_WEB__PORT=8080",
        "Order of precedence",
        "secrets_dir",
        "`.env`",
        "--show",
    ):
        assert needle in README, f"{needle} is not documented in README.md"
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "sqlite3" in operations and ".backup" in operations and "pg_dump" in operations
