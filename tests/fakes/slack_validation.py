"""Check Slack message payloads the way the Slack Web API does.

Pure functions, shared by the fake server and by formatter tests. Block structure is checked
with slack_sdk's own models (``Block.parse(b).to_dict()``), then the rules slack_sdk lets
through but Slack refuses (unknown types, properties slack_sdk drops, empty text, a
``mrkdwn`` header) are checked here. Errors read like Slack's:
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_URL = 3000
MAX_BLOCK_ID = 255
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTON_VALUE = 2000  # docs.slack.dev/reference/block-kit/block-elements/button-element

_LIVE_MENTION = re.compile(
    r"<(?:!(?:channel|here|everyone)(?:\|[^>]*)?|!subteam\^[^>|]+(?:\|[^>]*)?"
    r"|@[UWB][A-Z0-9]+(?:\|[^>]*)?|#C[A-Z0-9]+(?:\|[^>]*)?)>"
)
_LINK_NAMES = re.compile(r"(?<![\w<])@(?:channel|here|everyone)\b")
_HERE = "\x00"  # stands for the block's JSON pointer in cached errors
_RICH_MENTIONS = {"user", "usergroup", "broadcast", "channel"}


class SlackPayloadError(ValueError):
    """A payload Slack would refuse: ``error`` is the API error code, ``errors`` details."""

    def __init__(self, error: str, errors: list[str] | None = None) -> None:
        super().__init__(error if not errors else f"{error}: {'; '.join(errors)}")
        self.error = error
        self.errors = errors or []


def decode_json_param(value: Any) -> Any:
    """Form-encoded calls carry JSON as strings; JSON calls carry the objects themselves."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def parse_blocks(value: Any) -> list[Any]:
    """Decode ``blocks`` (a JSON string or a list); raise SlackPayloadError like Slack."""
    try:
        blocks = decode_json_param(value)
    except ValueError as exc:
        raise SlackPayloadError("invalid_blocks_format", [f"invalid JSON: {exc}"]) from exc
    if not isinstance(blocks, list):
        raise SlackPayloadError("invalid_blocks_format", ["blocks must be an array"])
    return blocks


def validate_blocks(blocks: list[Any]) -> list[str]:
    """Problems with ``blocks``, each ending in a ``[json-pointer:...]`` like Slack's."""
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        where = f"/blocks/{i}"
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            errors.append(f"must provide an object with a type [json-pointer:{where}]")
            continue
        try:
            found = _cached_block_errors(json.dumps(raw, sort_keys=True))
        except (TypeError, ValueError):
            found = _block_errors(raw)
        errors.extend(e.replace(_HERE, where) for e in found)
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            if block_id in block_ids:
                errors.append(f"duplicate block_id: {block_id} [json-pointer:{where}/block_id]")
            block_ids.add(block_id)
    return errors


@functools.lru_cache(maxsize=4096)
def _cached_block_errors(block_json: str) -> tuple[str, ...]:
    """Block models are slow; a fan-out posts the same blocks to hundreds of channels."""
    return _block_errors(json.loads(block_json))


def _block_errors(raw: dict[str, Any]) -> tuple[str, ...]:
    """One block's problems, located relative to the placeholder ``_HERE``."""
    try:
        parsed = Block.parse(raw)
        rendered = parsed.to_dict() if parsed is not None else None
    except SlackObjectFormationError as exc:
        return (f"{exc} [json-pointer:{_HERE}]",)
    if rendered is None:
        return (f"unsupported type: {raw['type']} [json-pointer:{_HERE}/type]",)
    return (*_diff(raw, rendered, _HERE), *_limits(raw, _HERE))


def _diff(raw: Any, rendered: Any, where: str) -> Iterator[str]:
    """What slack_sdk silently dropped or coerced is what Slack would have refused."""
    if isinstance(raw, dict):
        if not isinstance(rendered, dict):
            yield f"must provide a {type(rendered).__name__} [json-pointer:{where}]"
            return
        for key, value in raw.items():
            if key not in rendered:
                if value in ("", [], {}):
                    yield f"must be more than 0 characters [json-pointer:{where}/{key}]"
                elif value is not None:
                    yield f"invalid additional property: {key} [json-pointer:{where}/{key}]"
            else:
                yield from _diff(value, rendered[key], f"{where}/{key}")
    elif isinstance(raw, list):
        if not isinstance(rendered, list) or len(raw) != len(rendered):
            yield f"invalid array [json-pointer:{where}]"
            return
        for i, (a, b) in enumerate(zip(raw, rendered, strict=True)):
            yield from _diff(a, b, f"{where}/{i}")
    elif isinstance(rendered, dict | list):
        yield f"must provide an object [json-pointer:{where}]"


def _limits(block: dict[str, Any], where: str) -> Iterator[str]:
    """The limits Slack enforces that slack_sdk's models do not all check."""
    kind = block["type"]
    block_id = block.get("block_id")
    if isinstance(block_id, str) and len(block_id) > MAX_BLOCK_ID:
        yield f"must be less than {MAX_BLOCK_ID + 1} characters [json-pointer:{where}/block_id]"
    text = block.get("text")
    if kind == "header":
        if not isinstance(text, dict) or text.get("type") != "plain_text":
            yield f"must be a plain_text object [json-pointer:{where}/text]"
        yield from _text_len(text, MAX_HEADER_TEXT, f"{where}/text")
    elif kind == "section":
        yield from _text_len(text, MAX_SECTION_TEXT, f"{where}/text")
        fields = block.get("fields") or []
        if len(fields) > MAX_FIELDS:
            yield f"no more than {MAX_FIELDS} items allowed [json-pointer:{where}/fields]"
        for j, field in enumerate(fields):
            yield from _text_len(field, MAX_FIELD_TEXT, f"{where}/fields/{j}")
    elif kind == "context":
        elements = block.get("elements") or []
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            limit = MAX_CONTEXT_ELEMENTS
            yield f"no more than {limit} items allowed [json-pointer:{where}/elements]"
    for j, element in enumerate(_elements(block)):
        if element.get("type") == "button":
            yield from _text_len(element.get("text"), MAX_BUTTON_TEXT, f"{where}/elements/{j}/text")
            value = element.get("value")
            if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
                pointer = f"{where}/elements/{j}/value"
                limit = MAX_BUTTON_VALUE + 1
                yield f"must be less than {limit} characters [json-pointer:{pointer}]"
            url = element.get("url")
            if isinstance(url, str) and len(url) > MAX_URL:
                pointer = f"{where}/elements/{j}/url"
                yield f"must be less than {MAX_URL + 1} characters [json-pointer:{pointer}]"


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e for e in block.get("elements") or [] if isinstance(e, dict)]
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        found.append(accessory)
    return found


def _text_len(obj: Any, limit: int, where: str) -> Iterator[str]:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        size = len(obj["text"])
        if size > limit:
            yield f"must be less than {limit + 1} characters [json-pointer:{where}/text]"
        elif size == 0:
            yield f"must be more than 0 characters [json-pointer:{where}/text]"


def validate_metadata(value: Any) -> list[str]:
    """``metadata`` must be ``{"event_type": str, "event_payload": object}``."""
    try:
        metadata = decode_json_param(value)
    except ValueError:
        return ["invalid_metadata_format"]
    if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
        return ["invalid_metadata_format"]
    if not isinstance(metadata.get("event_payload", {}), dict):
        return ["invalid_metadata_schema"]
    return []


def check_slack_message(payload: Mapping[str, Any]) -> None:
    """Raise SlackPayloadError(error, errors) if Slack would refuse this message payload."""
    text = payload.get("text")
    blocks_value = payload.get("blocks")
    blocks: list[Any] = []
    if blocks_value not in (None, ""):
        blocks = parse_blocks(blocks_value)
        errors = validate_blocks(blocks)
        if errors:
            raise SlackPayloadError("invalid_blocks", errors)
    if not text and not blocks and not payload.get("attachments"):
        raise SlackPayloadError("no_text")
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise SlackPayloadError("msg_too_long")
    if payload.get("metadata") not in (None, ""):
        problems = validate_metadata(payload["metadata"])
        if problems:
            raise SlackPayloadError(problems[0])


def validate_slack_message(payload: Mapping[str, Any]) -> list[str]:
    """Every problem Slack would report, as ``"code"`` or ``"code: detail"`` strings."""
    try:
        check_slack_message(payload)
    except SlackPayloadError as exc:
        return [f"{exc.error}: {e}" for e in exc.errors] or [exc.error]
    return []


def _mrkdwn_strings(node: Any) -> Iterator[str]:
    """Strings Slack renders as mrkdwn (plain_text never notifies anybody)."""
    if isinstance(node, list):
        for child in node:
            yield from _mrkdwn_strings(child)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind in ("mrkdwn", "markdown") and isinstance(node.get("text"), str):
            yield node["text"]
        if kind in _RICH_MENTIONS and (
            "user_id" in node or "usergroup_id" in node or "range" in node or "channel_id" in node
        ):
            target = node.get("user_id") or node.get("usergroup_id") or node.get("channel_id")
            yield f"<rich_text {kind}:{target or node.get('range')}>"
        for key, child in node.items():
            if key != "text" or not isinstance(child, str):
                yield from _mrkdwn_strings(child)


def find_live_mentions(payload: Mapping[str, Any]) -> list[str]:
    """Mentions that would notify people (``<!here>``, ``<@U1>``, ``<#C1>``, ...)."""
    strings: list[str] = []
    if isinstance(payload.get("text"), str):
        strings.append(payload["text"])
    for key in ("blocks", "attachments"):
        value = payload.get(key)
        if value in (None, ""):
            continue
        try:
            strings.extend(_mrkdwn_strings(decode_json_param(value)))
        except ValueError:
            continue
    found: list[str] = []
    link_names = str(payload.get("link_names", "")).lower() in ("1", "true")
    for s in strings:
        if s.startswith("<rich_text "):
            found.append(s)
            continue
        found.extend(m.group(0) for m in _LIVE_MENTION.finditer(s))
        if link_names:
            found.extend(m.group(0) for m in _LINK_NAMES.finditer(s))
    return found
