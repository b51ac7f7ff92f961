"""Config loading: defaults, YAML, env secrets, and errors that name file, line and key."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from tests.conftest import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIGESTBOT_CONFIG", raising=False)
    settings = load_settings(None, environ={})
    assert settings.archive.url == "sqlite:///digestbot.db"
    assert settings.config_path is None
    assert settings.max_age == dt.timedelta(days=2)
    assert settings.wait_for_digest == dt.timedelta(hours=3)
    assert settings.channels == []


def test_config_yaml_in_cwd_and_env_var_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIGESTBOT_CONFIG", raising=False)
    write(tmp_path, "timezone: Europe/Berlin\n")
    assert load_settings(None, environ={}).timezone == "Europe/Berlin"
    other = tmp_path / "other.yaml"
    other.write_text("timezone: UTC\n", encoding="utf-8")
    monkeypatch.setenv("DIGESTBOT_CONFIG", str(other))
    assert load_settings(None, environ={}).timezone == "UTC"


def test_example_config_is_valid() -> None:
    settings = load_settings(ROOT / "config.example.yaml", environ={})
    assert [c.platform for c in settings.channels] == ["console"]
    assert settings.sources == ["examples/digests/*.md"]


def test_unknown_nested_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "timezone: UTC\nchannels:\n  - platform: slack\n    id: C1\n    shedule: '0 9 * * *'\n",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert f"{path}:5:" in message
    assert "channels.0.shedule" in message
    assert "unknown key" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: UTC\n\narchiv:\n  url: sqlite:///x.db\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: archiv: unknown key"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("timezone: Mars/Olympus\n", "timezone: unknown timezone 'Mars/Olympus'"),
        ("schedule: '61 9 * * *'\n", "schedule: invalid cron expression"),
        ("max_age: soon\n", "max_age"),
        ("slack:\n  mode: carrier-pigeon\n", "slack.mode"),
        ("channels:\n  - platform: irc\n    id: '#ai'\n", "channels.0.platform"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: UTC\nchannels: [\n  - oops\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: invalid YAML"):
        load_settings(path, environ={})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_secrets_come_from_env_and_are_never_printed(tmp_path: Path) -> None:
    path = write(tmp_path, "slack:\n  mode: http\n")
    settings = load_settings(
        path,
        environ={
            "SLACK_BOT_TOKEN": "xoxb-secret-123",
            "SLACK_SIGNING_SECRET": "sig-456",
            "TELEGRAM_BOT_TOKEN": "123:ABC",
        },
    )
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-secret-123"
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:ABC"
    dumped = repr(settings) + str(settings.model_dump())
    assert "xoxb-secret-123" not in dumped
    assert "sig-456" not in dumped


def test_durations_and_numeric_channel_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "max_age: 36h\nwait_for_digest: 90m\npoll_interval: 30\n"
        "channels:\n  - platform: telegram\n    id: -1001234\n    thread_id: 7\n",
    )
    settings = load_settings(path, environ={})
    assert settings.max_age == dt.timedelta(hours=36)
    assert settings.wait_for_digest == dt.timedelta(minutes=90)
    assert settings.poll_interval == dt.timedelta(seconds=30)
    assert settings.channels[0].id == "-1001234"
    assert settings.base_dir() == tmp_path.resolve()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("slack:\n  signing_secret: ''\n", "slack.signing_secret: must not be empty"),
        ("telegram:\n  token: '  '\n", "telegram.token: must not be empty"),
        ("telegram:\n  webhook_secret: 'has spaces!'\n", "telegram.webhook_secret: must be 1-256"),
    ],
)
def test_unusable_secrets_are_refused_at_load(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert fragment in str(info.value)
    assert "has spaces" not in str(info.value)  # the secret itself is never echoed


def test_web_keys_and_their_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "timezone: UTC\n"), environ={})
    web = settings.web
    assert (web.enabled, web.host, web.port, web.base_url, web.token) == (
        False, "127.0.0.1", None, None, None,
    )  # fmt: skip
    text = "web:\n  enabled: true\n  port: 8080\n  base_url: https://news.example.com/\n"
    settings = load_settings(write(tmp_path, text), environ={"DIGESTBOT_WEB_TOKEN": "tok-123"})
    assert settings.web.port == 8080 and settings.web.enabled
    assert settings.web.base_url == "https://news.example.com"
    assert settings.web.token is not None and settings.web.token.get_secret_value() == "tok-123"


def test_http_keys_are_aliases_of_web(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "http:\n  host: 0.0.0.0\n  port: 9100\n"), environ={})
    assert (settings.web.host, settings.web.port) == ("0.0.0.0", 9100)
    same = "http:\n  port: 9100\nweb:\n  port: 9100\n"
    assert load_settings(write(tmp_path, same), environ={}).web.port == 9100


def test_web_and_http_disagreeing_is_a_located_error(tmp_path: Path) -> None:
    text = "timezone: UTC\nhttp:\n  port: 9100\nweb:\n  enabled: true\n  port: 8080\n"
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), environ={})
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:6: web.port: 8080 differs from")
    assert "http.port: 9100" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("web:\n  enabled: true\n", ":1: web.port: the reader is enabled"),
        ("web:\n  base_url: javascript:alert(1)\n", ":2: web.base_url: 'javascript:alert(1)'"),
        ("web:\n  base_url: news.example.com\n", ":2: web.base_url: 'news.example.com' is not"),
        ("web:\n  token: ''\n", ":2: web.token: must not be empty"),
    ],
)
def test_bad_web_values_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_settings(write(tmp_path, text), environ={})


def test_robot_channels_take_webhooks_and_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DT_SECRET", "SECfromenv")
    path = write(
        tmp_path,
        "channels:\n"
        "  - platform: dingtalk\n"
        "    id: ai-team\n"
        "    webhook: https://oapi.dingtalk.com/robot/send?access_token=tok123\n"
        "    secret: ${DT_SECRET}\n"
        "  - platform: feishu\n"
        "    id: app-chat\n"
        "    chat_id: oc_abc\n",
    )
    settings = load_settings(path, environ={})
    robot = settings.channels[0]
    assert robot.secret is not None and robot.secret.get_secret_value() == "SECfromenv"
    assert "tok123" not in repr(settings) and "SECfromenv" not in repr(settings)
    assert {"SECfromenv", robot.webhook.get_secret_value()} <= set(settings.secret_values())  # type: ignore[union-attr]
    assert settings.channels[1].chat_id == "oc_abc"


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("platform: wecom\n    id: g", "channels.0: webhook: required for the wecom platform"),
        ("platform: feishu\n    id: g", "chat_id or webhook: set exactly one"),
        (
            "platform: feishu\n    id: g\n    chat_id: oc_1\n    webhook: https://x.y/hook",
            "chat_id or webhook: set exactly one",
        ),
        ("platform: wecom\n    id: g\n    webhook: ftp://x/y", "channels.0.webhook: must be"),
        (
            "platform: wecom\n    id: g\n    webhook: https://x.y/h\n    secret: s",
            "secret: not used",
        ),
        (
            "platform: dingtalk\n    id: g\n    webhook: https://x.y/h\n    secret: ${NOPE_UNSET}",
            "NOPE_UNSET is not set",
        ),
        (
            "platform: slack\n    id: C1\n    webhook: https://x.y/h",
            "webhook: not used by the slack",
        ),
    ],
)
def test_robot_channel_keys_are_checked_with_the_key_named(
    tmp_path: Path, entry: str, fragment: str
) -> None:
    path = write(tmp_path, f"channels:\n  - {entry}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert fragment in str(caught.value)
    assert re.search(rf"{re.escape(str(path))}:[2-5]: ", str(caught.value))


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("delivery:\n  lease: 0s\n", "delivery.lease"),
        ("poll_interval: 0s\n", "poll_interval"),
        ("max_age: -1\n", "max_age"),
        ("http:\n  port: 70000\n", "http.port"),
        ("slack:\n  port: -1\n", "slack.port"),
        ("telegram:\n  port: 65536\n", "telegram.port"),
        ("feishu:\n  port: 65536\n", "feishu.port"),
        ("schedule: '0 9 31 2 *'\n", "schedule"),
        ("schedule: '* * * * *'\n", "schedule"),
        (
            "channels:\n  - platform: console\n    id: t\n    schedule: '*/5 * * * *'\n",
            "channels.0.schedule",
        ),
        ("sources_settle: -5\n", "sources_settle"),
    ],
)
def test_timings_that_break_the_guarantees_are_refused_naming_the_key(
    tmp_path: Path, yaml_text: str, key: str
) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert f": {key}: " in str(info.value)
    assert f"{path}:" in str(info.value)


def test_sensible_timings_still_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schedule: '0 * * * *'\nmax_age: 0s\nsources_settle: 0s\nhttp:\n  port: 0\n"
        "date_conflict: name\n",
    )
    settings = load_settings(path, environ={})
    assert settings.sources_settle == dt.timedelta(0) and settings.date_conflict == "name"
