"""The typer application shell: global options, the consoles and per-invocation state.

Each command lives in its own module under ``bot/cli/``; ``bot.cli.commands`` registers
them on ``app`` and holds ``main``, the one place errors become messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from bot import __version__, logs
from bot.config import Settings, load_settings
from bot.redact import protect_settings_secrets
from formatters import SafeConsole

app = typer.Typer(
    name="digestbot",
    help=(
        "Daily AI-news digests for team chats (Slack, Telegram, Feishu/Lark, DingTalk, "
        "WeCom), with a searchable archive."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: Human output goes to stdout; problems and progress go to stderr.
out = SafeConsole(highlight=False, soft_wrap=True)
err = SafeConsole(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class State:
    """Per-invocation state shared by commands: the config path and lazily loaded settings."""

    config_path: str | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
            logs.configure(self._settings.log_level, self._settings.log_format)
            protect_settings_secrets(self._settings)
        return self._settings


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"digestbot {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None,
        "--config",
        "-c",
        help="Config file (default: $DIGESTBOT_CONFIG, else ./config.yaml, else built-ins).",
        metavar="PATH",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version and exit.",
    ),
) -> None:
    ctx.obj = State(config_path=config)


def state(ctx: typer.Context) -> State:
    """The State of this invocation (typer passes it down from the root callback)."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj
