"""``digestbot doctor`` for group robots: is the webhook right, without posting in the group.

A robot's webhook is its credential, so the check is in two steps. First the shape: the
URL's host and path, the token in it, the secret's form — reported with the token blanked
(``bot.redact``), never printed. Then a *probe*: one request signed exactly as a delivery
is, whose body no robot posts (no message type, or a message without its required
fields). A robot that does not exist, or refuses the signature, answers with its
credential code: a failure, whatever else the platform checks. A "bad message" answer
proves the token (or signature) right only where it is established that the platform
checks it before the message (``RobotShape.token_first`` / ``signature_first``);
elsewhere, and for answers not documented for this, the row stays a warning: the URL
looks right, but only a real post would tell. Either way nothing appears in the group.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from bot.platforms.checks import Check, Status
from bot.platforms.robot import Answer, Robot, RobotTransport, parse_json
from bot.redact import blank_secrets

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.config import Settings

_RANK: dict[Status, int] = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class RobotShape:
    """What a platform's webhook looks like and how its probe answers are read."""

    title: str
    #: The platform's own webhook hosts (another host works through a proxy: noted only).
    hosts: frozenset[str]
    path: str
    #: Where the token sits: a query parameter, or None for the last path segment.
    token_param: str | None
    #: Does the token look like this platform's (a UUID, 64 hex digits, ...)?
    token_ok: Callable[[str], bool]
    token_form: str
    #: The probe's body: a request the platform refuses as a message.
    probe: dict[str, Any]
    #: Answer codes refusing the probe as a message (nothing posted): past the credential
    #: checks, if the platform makes those first.
    reached: frozenset[int]
    #: Is it established (measured, documented) that the platform checks the token before
    #: the message, and the signature before the message? Only then does a "bad message"
    #: answer prove them right; otherwise it is a warning.
    token_first: bool
    signature_first: bool
    #: Answer codes meaning "the robot refused us", each with what to fix (``{key}`` is
    #: the ``channels[N]`` entry).
    refused: dict[int, str]
    #: A secret check: None when the secret looks right, else what is wrong with it.
    secret_problem: Callable[[str], str | None] = lambda secret: None
    #: Answer messages (lower case) that turn a refusal into a warning, with the advice.
    softer: dict[str, str] = field(default_factory=dict)


def config_key(settings: Settings, channel: Channel) -> str:
    """``channels[N]`` of this channel in the config, or where it came from (chat)."""
    for index, entry in enumerate(settings.channels):
        if entry.platform == channel.platform and entry.id == channel.id:
            return f"channels[{index}]"
    return f"subscription {channel.platform}:{channel.id}"


def worst(rows: Sequence[Check]) -> Status:
    return max((row.status for row in rows), key=_RANK.__getitem__, default="ok")


def merge(area: str, parts: Sequence[Check]) -> Check:
    """One row for a channel (the doctor shows one per channel): the worst status wins."""
    return Check(area, worst(parts), "; ".join(part.detail for part in parts))


def shape_checks(shape: RobotShape, robot: Robot, key: str) -> list[Check]:
    """The URL's host, path and token, and the secret's form — the token never shown."""
    parts = urlsplit(robot.webhook)
    host = parts.hostname or ""
    token = _token(shape, robot.webhook)
    rows: list[Check] = []
    where = host if host in shape.hosts else f"{host}, not {shape.title}'s own host (a proxy?)"
    if not parts.path.startswith(shape.path):
        rows.append(
            Check(key, "fail", f"{key}.webhook: path is not {shape.path}…; copy the robot's URL")
        )
    elif not token:
        what = f"?{shape.token_param}=" if shape.token_param else "the last path segment"
        rows.append(Check(key, "fail", f"{key}.webhook: no token in {what}; copy the URL again"))
    elif not shape.token_ok(token):
        rows.append(
            Check(
                key,
                "warn",
                f"{key}.webhook: the token is not {shape.token_form} (cut short when copied?)",
            )
        )
    else:
        rows.append(Check(key, "ok", f"webhook on {where}, with a token"))
    if robot.secret:
        problem = shape.secret_problem(robot.secret)
        if problem:
            rows.append(Check(key, "warn", f"{key}.secret: {problem}"))
    return rows


async def probe(transport: RobotTransport, shape: RobotShape, robot: Robot, key: str) -> Check:
    """Post the probe (signed like a delivery) and read the answer; nothing is posted."""
    request = transport.sign(robot, dict(shape.probe), dt.datetime.now(dt.UTC).timestamp())
    content = json.dumps(request.body).encode()
    try:
        async with (
            aiohttp.ClientSession(timeout=transport.timeout) as session,
            session.post(
                request.url,
                data=content,
                headers={"Content-Type": "application/json; charset=utf-8"},
            ) as reply,
        ):
            answer = Answer(reply.status, parse_json(await reply.read()))
    except (aiohttp.ClientError, TimeoutError) as exc:
        # The library's message holds the URL, and with it the token.
        return Check(key, "fail", f"{type(exc).__name__} reaching the robot; is it reachable?")
    return read_answer(transport, shape, robot, key, answer)


def read_answer(
    transport: RobotTransport, shape: RobotShape, robot: Robot, key: str, answer: Answer
) -> Check:
    data = answer.data
    code = next((data[k] for k in transport.code_keys if k in data), None)
    message = str(next((data[k] for k in transport.message_keys if k in data), ""))
    said = blank_secrets(message, [robot.webhook, robot.secret or "", _token(shape, robot.webhook)])
    said = said[:120]
    if isinstance(code, int) and code in shape.reached:
        refused = f"the probe was refused as a message (code {code}), nothing was posted"
        if not shape.token_first:
            return Check(
                key,
                "warn",
                f"format ok; cannot be verified without posting: {refused}, and "
                f"{shape.title} does not document checking the token before the message",
            )
        if robot.secret and not shape.signature_first:
            return Check(
                key,
                "warn",
                f"token accepted: {refused}; {key}.secret cannot be verified without "
                f"posting ({shape.title} does not document checking it first)",
            )
        signed = " and signature" if robot.secret else ""
        return Check(key, "ok", f"token{signed} accepted: {refused}")
    if isinstance(code, int) and code in shape.refused:
        lowered = message.lower()
        for needle, advice in shape.softer.items():
            if needle in lowered:
                return Check(key, "warn", f"code {code} ({said}): {advice.format(key=key)}")
        return Check(key, "fail", f"code {code} ({said}): {shape.refused[code].format(key=key)}")
    if answer.status_code == 429 or code in transport.rate_limited_codes:
        return Check(key, "warn", "rate limited just now: format ok, try the doctor again later")
    return Check(
        key,
        "warn",
        f"format ok; cannot be verified without posting (the probe got HTTP "
        f"{answer.status_code}, code {code})",
    )


async def check_robots(
    settings: Settings,
    channels: Sequence[Channel],
    transport: RobotTransport,
    shape: RobotShape,
) -> dict[str, Check]:
    """One row per channel that has a webhook, keyed by channel key; one probe per robot."""
    rows: dict[str, Check] = {}
    probed: dict[tuple[str, str | None], tuple[str, Check]] = {}
    try:
        for channel in channels:
            robot = transport.robots.get(channel.id)
            if robot is None:
                continue
            key = config_key(settings, channel)
            parts = shape_checks(shape, robot, key)
            if worst(parts) != "fail":
                same = (robot.webhook, robot.secret)  # one probe per robot and secret
                if same not in probed:
                    probed[same] = (key, await probe(transport, shape, robot, key))
                first, answer = probed[same]
                parts.append(Check(key, answer.status, answer.detail.replace(first, key)))
            rows[channel.key] = merge(channel.key, parts)
    finally:
        await transport.close()
    return rows


async def check_webhook_platform(
    settings: Settings, channels: Sequence[Channel], transport: RobotTransport, shape: RobotShape
) -> list[Check]:
    """The doctor of a platform whose channels are all robots (DingTalk, WeCom): a row
    per channel, and a channel without a webhook fails."""
    rows = await check_robots(settings, channels, transport, shape)
    for channel in channels:
        if channel.key not in rows:
            rows[channel.key] = Check(
                channel.key, "fail", "no webhook configured (channels[].webhook)"
            )
    return list(rows.values())


def _token(shape: RobotShape, webhook: str) -> str:
    parts = urlsplit(webhook)
    if shape.token_param:
        return (parse_qs(parts.query).get(shape.token_param) or [""])[0]
    if not parts.path.startswith(shape.path):
        return ""
    return parts.path[len(shape.path) :].strip("/")
