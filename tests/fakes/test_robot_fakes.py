"""The group-robot fakes refuse what the platforms refuse (checked without our transports)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.fakes.robot_server import FakeRobots, RateLimit


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(url, data=json.dumps(body, ensure_ascii=False).encode(), timeout=5)
    return {"status": response.status_code, **response.json()}


def code(answer: dict[str, Any]) -> int:
    return int(answer.get("errcode", answer.get("code", -1)))


@pytest.fixture(params=["feishu", "dingtalk", "wecom"])
def case(
    request: pytest.FixtureRequest,
    fake_feishu_webhook: FakeRobots,
    fake_dingtalk: FakeRobots,
    fake_wecom: FakeRobots,
) -> tuple[str, FakeRobots]:
    fakes = {"feishu": fake_feishu_webhook, "dingtalk": fake_dingtalk, "wecom": fake_wecom}
    return request.param, fakes[request.param]


def body(platform: str, text: str) -> dict[str, Any]:
    if platform == "feishu":
        card = {"schema": "2.0", "body": {"elements": [{"tag": "markdown", "content": text}]}}
        return {"msg_type": "interactive", "card": card}
    if platform == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": "t", "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def test_limits_markup_mentions_and_unknown_robots(case: tuple[str, FakeRobots]) -> None:
    platform, fake = case
    hook = fake.add_robot()
    assert code(post(hook, body(platform, "**fine** [x](https://e.x/)"))) == 0
    limit = {"feishu": 20_000, "dingtalk": 20_000, "wecom": 4096}[platform]
    assert code(post(hook, body(platform, "中" * (limit // 3 + 1)))) != 0  # over the byte limit
    assert code(post(hook, body(platform, "[x](javascript:alert(1))"))) != 0
    mention = {"feishu": "<at id=all></at>", "dingtalk": "@所有人", "wecom": "<@wangqing>"}
    assert code(post(hook, body(platform, f"hi {mention[platform]}"))) == 0
    assert fake.mentions  # recorded, for tests to assert there are none
    unknown = hook.replace(fake.robot(hook).token, "0" * 24)
    assert code(post(unknown, body(platform, "x"))) == code(fake.error_body(fake.gone_fail()))
    assert len(fake.sent(hook)) == 2


def test_windows_and_dingtalks_throttle(fake_dingtalk: FakeRobots) -> None:
    hook = fake_dingtalk.add_robot()
    fake_dingtalk.enforce_rate_limit(RateLimit(per_window=2, window=60.0, throttle=600.0))
    answers = [code(post(hook, body("dingtalk", f"m{i}"))) for i in range(3)]
    assert answers == [0, 0, 130101]
    assert fake_dingtalk.stats["rate_limited"] == 1


def test_signatures_are_required_from_robots_with_a_secret(
    fake_feishu_webhook: FakeRobots, fake_dingtalk: FakeRobots
) -> None:
    feishu = fake_feishu_webhook.add_robot("s")
    assert code(post(feishu, body("feishu", "x"))) == 19021
    dingtalk = fake_dingtalk.add_robot("SECs")
    assert code(post(dingtalk, body("dingtalk", "x"))) == 310000
    assert urlsplit(dingtalk).path == "/robot/send"


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_a_half_escaped_mention_tag_is_recorded(
    platform: str, fake_dingtalk: FakeRobots, fake_wecom: FakeRobots
) -> None:
    """Escaped content never holds a raw ``<``: a tag whose ``>`` alone was escaped still
    counts as a mention attempt, though markdown-it does not read it as a tag."""
    fake = {"dingtalk": fake_dingtalk, "wecom": fake_wecom}[platform]
    hook = fake.add_robot()
    assert code(post(hook, body(platform, "hi &lt;at id=all&gt; and @\u200ball"))) == 0
    assert fake.mentions == []
    assert code(post(hook, body(platform, "hi <at id=all&gt;"))) == 0
    assert fake.mentions == ["<at"]
