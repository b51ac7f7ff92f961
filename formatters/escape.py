"""The one escaping helper per platform, and the one URL gate.

Every piece of digest content reaches a payload through exactly one of these functions,
applied once, at serialization time (see ``formatters.markdown``). Keeping them in one
small module is what makes "nothing injected" checkable.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

#: Schemes we are willing to emit as a live link. Anything else is rendered as text.
SAFE_SCHEMES = frozenset({"http", "https"})

#: Characters kept as-is when re-quoting a URL (RFC 3986 reserved + unreserved + '%').
_URL_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


#: C0 controls except tab and newline, DEL, and the C1 controls (``\x9b`` is a one-byte
#: CSI on many terminals): what a terminal would obey rather than show.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Remove terminal control characters (ESC sequences lose their ESC and show as text)."""
    return _CONTROLS.sub("", text)


def has_controls(text: str) -> bool:
    return _CONTROLS.search(text) is not None


def escape_json_controls(json_text: str) -> str:
    """``json.dumps(..., ensure_ascii=False)`` leaves C1 controls raw: escape them too."""
    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m[0]):04x}", json_text)


def escape_slack(text: str) -> str:
    """Slack mrkdwn control characters are only ``&``, ``<`` and ``>``.

    Escaping them is enough to make ``<!channel>``, ``<@U1>`` or ``<#C1|x>`` inert text.
    """
    if "&" not in text and "<" not in text and ">" not in text:
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_telegram(text: str, *, attribute: bool = False) -> str:
    """Telegram HTML: ``<``, ``>``, ``&`` always; ``"`` too inside attribute values."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


def safe_url(url: str | None) -> str | None:
    """The URL normalised for emission, or None when it must not become a link.

    Only absolute http(s) URLs with a host pass; ``javascript:``, ``data:``, relative and
    malformed URLs are refused. Whitespace, quotes and angle brackets are percent-encoded
    so the result cannot break out of ``<url|text>`` or ``href="..."``.
    """
    if not url:
        return None
    url = url.strip()
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def slack_url(url: str | None) -> str | None:
    """A safe URL ready to sit inside ``<...|...>``: ``|`` percent-encoded, ``&`` escaped."""
    safe = safe_url(url)
    if safe is None:
        return None
    return safe.replace("|", "%7C").replace("&", "&amp;")


# --------------------------------------------------------------- the group-robot platforms

#: Marks an ``@`` as text: a zero-width space after it, so ``@all``, ``@所有人`` and
#: ``@13800001111`` never address anyone, on any of the three.
MENTION_BREAK = "\u200b"
#: Markdown punctuation that could open emphasis, code, a link or image (``[``), a heading
#: or a table; ``(`` only matters after ``]`` and ``>`` is an entity anyway.
_MD_SPECIALS = frozenset("\\`*_[]#~|")
#: Numeric character references Feishu's card markdown resolves (and nothing else parses).
_FEISHU_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    **{ch: f"&#{ord(ch)};" for ch in "*_~`[]#\\|"},
}


def _defuse_mentions(text: str) -> str:
    return text.replace("@", "@" + MENTION_BREAK) if "@" in text else text


def escape_feishu(text: str) -> str:
    """Feishu card markdown: ``<at …>`` and other tags, markers and links become text."""
    out = "".join(_FEISHU_ENTITIES.get(ch, ch) for ch in text)
    return _defuse_mentions(out)


def feishu_plain(text: str) -> str:
    """Feishu ``plain_text``: shown as is, so only ``@`` needs defusing."""
    return _defuse_mentions(text)


def _escape_robot_markdown(text: str) -> str:
    out = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _MD_SPECIALS:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return _defuse_mentions("".join(out))


def escape_dingtalk(text: str) -> str:
    """DingTalk markdown: markers escaped, tags as entities, no ``@`` addresses anyone."""
    return _escape_robot_markdown(text)


def escape_wecom(text: str) -> str:
    """WeCom markdown: as DingTalk; ``<@userid>`` and ``<font>`` become text too."""
    return _escape_robot_markdown(text)


def markdown_url(url: str | None) -> str | None:
    """A safe URL that cannot end the ``(...)`` of a markdown link early."""
    safe = safe_url(url)
    if safe is None:
        return None
    return safe.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def feishu_post_text(text: str) -> str:
    """Feishu ``post`` ``text`` elements and ``text`` messages: shown as is, except that an
    ``<at …>`` tag would address people. A zero-width space after ``<`` keeps any tag text,
    and one after ``@`` keeps ``@所有人`` and ``@all`` from addressing anyone."""
    if "<" in text:
        text = text.replace("<", "<" + MENTION_BREAK)
    return _defuse_mentions(text)
