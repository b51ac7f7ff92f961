"""slack-app-manifest.yaml asks for exactly the scopes the code's API calls need, its
HTTP-mode comment names the right keys, and the setup doc tells what happens without an
app token."""

from __future__ import annotations

import logging
import re

import pytest
import yaml

from bot.config import Settings
from bot.platforms import listener_settings
from bot.platforms.slack.scopes import (
    APP_TOKEN_METHODS,
    FEATURE_SCOPES,
    METHOD_SCOPES,
    required_scopes,
)
from tests.conftest import ROOT

MANIFEST_TEXT = (ROOT / "slack-app-manifest.yaml").read_text(encoding="utf-8")
MANIFEST = yaml.safe_load(MANIFEST_TEXT)
SETUP_DOC = (ROOT / "docs" / "slack-setup.md").read_text(encoding="utf-8")
#: ``client.chat_postMessage(`` / ``client.conversations_info(`` and ``"chat.postMessage"``.
_SDK_CALL = re.compile(r"\.(auth|chat|conversations|users|apps|views|reactions|team)_(\w+)\(")
_METHOD_NAME = re.compile(r"\"((?:auth|chat|conversations|users|views|reactions|team)\.\w+)\"")


def called_methods() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        parts = path.relative_to(ROOT / "bot").parts
        if parts[0] == "platforms" and len(parts) > 2 and parts[1] != "slack":
            continue  # another platform's package: its calls are not Slack's
        text = path.read_text(encoding="utf-8")
        for family, name in _SDK_CALL.findall(text):
            parts = name.split("_")
            if family == "apps":  # apps.connections.open: dots all the way
                found.add(f"{family}.{'.'.join(parts)}")
                continue
            found.add(f"{family}.{parts[0]}{''.join(p.title() for p in parts[1:])}")
        found.update(_METHOD_NAME.findall(text))
    return found - APP_TOKEN_METHODS


def test_every_called_method_has_its_scopes_listed() -> None:
    called = called_methods()
    assert {"chat.postMessage", "conversations.history", "auth.test"} <= called
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add these methods and their scopes to METHOD_SCOPES: {unknown}"
    unused = set(METHOD_SCOPES) - called
    assert not unused, f"METHOD_SCOPES lists methods the code no longer calls: {unused}"


def test_the_manifest_asks_for_exactly_the_needed_scopes() -> None:
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needed = {s for m in called_methods() for s in METHOD_SCOPES[m]} | set(FEATURE_SCOPES)
    assert needed == required_scopes()
    assert granted == needed, (
        f"manifest lacks {needed - granted or '-'}; asks needlessly for {granted - needed or '-'}"
    )


def test_the_http_mode_comment_uncomments_into_the_right_keys() -> None:
    """Following the comment (uncomment the url lines) gives Slack's real manifest keys."""
    assert "`request_url:`" in MANIFEST_TEXT
    http = yaml.safe_load(re.sub(r"(?m)^(\s*)# ((?:request_)?url: )", r"\1\2", MANIFEST_TEXT))
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert http["features"]["slash_commands"][0]["url"].endswith("/slack/events")
    assert "url" not in http["settings"]["interactivity"]


def test_the_setup_doc_says_what_happens_without_an_app_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(slack={"bot_token": "xoxb-1", "mode": "socket"})
    with caplog.at_level(logging.WARNING):
        assert listener_settings(settings) is None
    warning = caplog.records[-1].getMessage()
    said = "Slack commands are off; digests are still delivered"
    assert said in warning
    assert said in " ".join(SETUP_DOC.split())
