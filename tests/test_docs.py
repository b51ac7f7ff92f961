"""Every CLI command and option, and every config key, is documented."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel

from bot.cli import commands  # noqa: F401  (registers the commands)
from bot.cli.app import app
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
    leaf = key.rsplit(".", 1)[-1]
    assert re.search(rf"^\s*#?\s*(- )?{re.escape(leaf)}:", EXAMPLE, re.M), (
        f"config key {key} is missing from config.example.yaml"
    )


def test_every_chat_command_is_documented() -> None:
    from bot.chat import VERBS
    from bot.platforms.telegram.app import MENU

    for verb in VERBS:
        assert f"`/ai {verb}" in README, f"/ai {verb} is missing from README.md's chat commands"
    for command in MENU:
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
