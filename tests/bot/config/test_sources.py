"""Where settings come from: DIGESTBOT_ variables, secret files, .env, and their order."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_nested_variables_override_the_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  port: 9000\ntimezone: UTC\n")
    settings = load_settings(
        path,
        environ={
            "DIGESTBOT_HTTP__PORT": "8080",
            "DIGESTBOT_SLACK__BOT_TOKEN": "xoxb-nested",
            "DIGESTBOT_TIMEZONE": "Europe/Berlin",
            "DIGESTBOT_CHANNELS": '[{"platform": "console", "id": "env"}]',
        },
        env_file=None,
    )
    assert settings.http.port == 8080
    assert settings.timezone == "Europe/Berlin"
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-nested"
    assert [c.id for c in settings.channels] == ["env"]


def test_short_secret_names_keep_working_and_nested_names_win(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    settings = load_settings(
        path,
        environ={"SLACK_BOT_TOKEN": "xoxb-short", "TELEGRAM_BOT_TOKEN": "1:short"},
        env_file=None,
    )
    assert settings.slack.bot_token and settings.slack.bot_token.get_secret_value() == "xoxb-short"
    both = load_settings(
        path,
        environ={"SLACK_BOT_TOKEN": "xoxb-short", "DIGESTBOT_SLACK__BOT_TOKEN": "xoxb-long"},
        env_file=None,
    )
    assert both.slack.bot_token and both.slack.bot_token.get_secret_value() == "xoxb-long"


def test_secret_files_then_dotenv_then_environment(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "slack_bot_token").write_text("xoxb-from-file\n", encoding="utf-8")
    (secrets / "DIGESTBOT_TELEGRAM__TOKEN").write_text("1:from-file", encoding="utf-8")
    (secrets / "DIGESTBOT_ARCHIVE__URL").write_text("sqlite:///secret.db", encoding="utf-8")
    (secrets / "unrelated").write_text("not ours", encoding="utf-8")
    dotenv = tmp_path / ".env"
    dotenv.write_text("DIGESTBOT_TELEGRAM__TOKEN=1:from-dotenv\nDIGESTBOT_HTTP__PORT=7000\n")
    path = write(tmp_path, f"secrets_dir: {secrets}\nhttp:\n  port: 6000\n")
    settings = load_settings(path, environ={"DIGESTBOT_HTTP__PORT": "8000"}, env_file=dotenv)
    assert settings.slack.bot_token
    assert settings.slack.bot_token.get_secret_value() == "xoxb-from-file"  # file < nothing else
    assert settings.telegram.token and settings.telegram.token.get_secret_value() == "1:from-dotenv"
    assert settings.archive.url == "sqlite:///secret.db"
    assert settings.http.port == 8000  # environment > .env > YAML
    from_env = load_settings(
        write(tmp_path, ""), environ={"DIGESTBOT_SECRETS_DIR": str(secrets)}, env_file=None
    )
    assert from_env.archive.url == "sqlite:///secret.db"


def test_a_bad_variable_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={"DIGESTBOT_HTTP__PORT": "eighty"}, env_file=None)
    assert "environment: DIGESTBOT_HTTP__PORT: http.port:" in str(info.value)
    with pytest.raises(ConfigError, match=r"http\.prot: unknown key \(did you mean 'port'\?\)"):
        load_settings(path, environ={"DIGESTBOT_HTTP__PROT": "1"}, env_file=None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("timezone: UTC\nlog_level: LOUD\n", ":2: log_level: unknown log level 'LOUD'"),
        ("templates_dir: no-such-dir\n", ":1: templates_dir: no such folder"),
        ("shedule: '0 9 * * *'\n", ":1: shedule: unknown key (did you mean 'schedule'?)"),
        (
            "channels:\n  - platform: console\n    id: x\n    topcs: []\n",
            ":4: channels.0.topcs: unknown key (did you mean 'topics'?)",
        ),
        ("timezone: Asia/Shangai\n", "did you mean 'Asia/Shanghai'?"),
        ("timezone: europe/berlin\n", "did you mean 'Europe/Berlin'?"),
        ("schedule: '25:00 weekdays'\n", "'25:00' is not a time"),
        ("schedule: '08:30 someday'\n", "'someday' is not a set of days"),
    ],
)
def test_located_errors_with_suggestions(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={}, env_file=None)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_log_level_is_case_insensitive(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "log_level: debug\n"), environ={}).log_level == "DEBUG"


def test_schedules_read_like_ai_schedule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schedule: '08:30 weekdays'\n"
        "channels:\n"
        "  - {platform: console, id: a, schedule: '07:15 weekends Europe/Berlin'}\n"
        "  - {platform: console, id: b, schedule: '0 9 * * 1-5'}\n",
    )
    settings = load_settings(path, environ={}, env_file=None)
    assert settings.schedule == "30 8 * * mon-fri"
    first, second = settings.channels
    assert (first.schedule, first.timezone) == ("15 7 * * sat,sun", "Europe/Berlin")
    assert second.schedule == "0 9 * * 1-5"


def test_a_mistyped_variable_is_warned_about_with_a_suggestion(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {
        "DIGESTBOT_SHEDULE": "08:30",
        "DIGESTBOT_TEST_PG_URL": "postgresql://x",  # another tool's name: warned, not refused
        "DIGESTBOT_ARCHIVE_URL": "sqlite:///a.db",
        "DIGESTBOT_CONFIG": "x.yaml",
    }
    with caplog.at_level("WARNING"):
        settings = load_settings(write(tmp_path, ""), environ=environ, env_file=None)
    assert settings.schedule == "0 9 * * *" and settings.archive.url == "sqlite:///a.db"
    warnings = [r.getMessage() for r in caplog.records]
    assert (
        "environment: DIGESTBOT_SHEDULE is not a setting (did you mean DIGESTBOT_SCHEDULE?)"
        in warnings
    )
    assert len(warnings) == 2  # SHEDULE and TEST_PG_URL; the loader's own names are known


def test_a_configured_secrets_dir_must_exist_the_default_may_not(tmp_path: Path) -> None:
    path = write(tmp_path, f"secrets_dir: {tmp_path / 'missing'}\n")
    with pytest.raises(ConfigError, match=r"secrets_dir: cannot read .*missing"):
        load_settings(path, environ={}, env_file=None)
    assert load_settings(write(tmp_path, ""), environ={}, env_file=None).secrets_dir is None
