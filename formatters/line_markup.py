"""Lines → Slack mrkdwn, Telegram HTML or plain text, and Telegram's visible length.

The serialisers live apart from the markdown parser because templates and formatters
build lines directly too; this is the one place where platform escaping happens, on raw
span text, so nothing is escaped twice. Serialising and measuring are cached per line:
the splitters measure the same lines many times while packing messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from formatters.escape import escape_slack, escape_telegram, slack_url
from formatters.lines import Line, Span

ZWSP = "\u200b"
_SLACK_MARKS = (("b", "*"), ("i", "_"), ("s", "~"))


def clear_caches() -> None:
    """Forget serialised and measured lines (benchmarks use it to measure cold runs)."""
    slack_line.cache_clear()
    _line_units.cache_clear()


def merge(spans: Iterable[Span]) -> list[Span]:
    """Join neighbours with identical formatting so markup is emitted once per run."""
    out: list[Span] = []
    for span in spans:
        if not span.text:
            continue
        if out and out[-1].styles == span.styles and out[-1].href == span.href:
            out[-1] = Span(out[-1].text + span.text, span.styles, span.href)
        else:
            out.append(span)
    return out


def slack_span(span: Span, before: str = "", after: str = "") -> str:
    """One span as mrkdwn; ``before``/``after`` are the neighbouring characters.

    Slack only honours ``*bold*`` next to whitespace or punctuation, so a zero-width
    space separates markers from letters (CJK text has no spaces).
    """
    text = span.text
    core = text.strip()
    if not core:
        return escape_slack(text)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    target = slack_url(span.href) if span.href else None
    if target:
        body = f"<{target}|{escape_slack(core)}>"
    elif "code" in span.styles and "`" not in core:
        body = f"`{escape_slack(core)}`"
    else:
        body = escape_slack(core)
    marks = "".join(mark for style, mark in _SLACK_MARKS if style in span.styles)
    if marks:
        zw_before = ZWSP if not lead and before and _glued(before[-1]) else ""
        zw_after = ZWSP if not trail and after and _glued(after[0]) else ""
        body = f"{zw_before}{marks}{body}{marks[::-1]}{zw_after}"
    return f"{escape_slack(lead)}{body}{escape_slack(trail)}"


def _glued(ch: str) -> bool:
    """Would a marker next to ``ch`` be ignored by Slack (letters, CJK, CJK punctuation)?"""
    return not (ch.isspace() or (ch.isascii() and not ch.isalnum()))


@lru_cache(maxsize=8192)
def slack_line(ln: Line) -> str:
    """A line as mrkdwn (without code fences; see ``to_mrkdwn``). Cached: packing measures
    the same lines many times."""
    if ln.kind == "code":
        return escape_slack(ln.text)
    spans = merge(ln.spans)
    parts = [escape_slack(ln.prefix)]
    for index, span in enumerate(spans):
        before = spans[index - 1].text if index else ln.prefix
        after = spans[index + 1].text if index + 1 < len(spans) else ""
        parts.append(slack_span(span, before, after))
    text = "".join(parts)
    return f"> {text}" if ln.kind == "quote" else text


def to_mrkdwn(lines: Sequence[Line]) -> str:
    """Lines → one mrkdwn string; consecutive code lines share one ``` fence."""
    out: list[str] = []
    code_run: list[str] = []

    def flush() -> None:
        if code_run:
            out.append("```" + "\n".join(code_run) + "```")
            code_run.clear()

    for ln in lines:
        if ln.gap:
            flush()
            out.append("")
        if ln.kind == "code":
            code_run.append(slack_line(ln) or " ")
            continue
        flush()
        out.append(slack_line(ln))
    flush()
    return "\n".join(out)


def telegram_span(span: Span) -> str:
    """One span as Telegram HTML; a link never contains ``<code>`` (the API forbids it)."""
    body = escape_telegram(span.text)
    if span.href:
        body = f'<a href="{escape_telegram(span.href, attribute=True)}">{body}</a>'
    elif "code" in span.styles:
        body = f"<code>{body}</code>"
    for style in ("s", "i", "b"):
        if style in span.styles and span.text.strip():
            body = f"<{style}>{body}</{style}>"
    return body


def telegram_line(ln: Line, *, code: bool = False) -> str:
    if ln.kind == "code":
        text = escape_telegram(ln.text)
        return f"<code>{text}</code>" if code and ln.text else text
    return escape_telegram(ln.prefix) + "".join(telegram_span(s) for s in merge(ln.spans))


def to_telegram_html(lines: Sequence[Line], *, nested: bool = False) -> str:
    """Lines → Telegram HTML. ``nested`` output will sit inside a blockquote, where
    blockquotes and ``<pre>`` cannot appear: quotes become italic, code becomes ``<code>``."""
    out: list[str] = []
    run: list[str] = []
    run_kind: str | None = None

    def flush() -> None:
        nonlocal run_kind
        if run:
            body = "\n".join(run)
            out.append(
                f"<pre>{body}</pre>" if run_kind == "code" else f"<blockquote>{body}</blockquote>"
            )
            run.clear()
        run_kind = None

    for ln in lines:
        if ln.gap:
            flush()
            out.append("")
        if nested:
            html = telegram_line(ln, code=True)
            out.append(f"<i>{html}</i>" if ln.kind == "quote" and ln.spans else html)
            continue
        if ln.kind == "text":
            flush()
            out.append(telegram_line(ln))
            continue
        if run_kind != ln.kind:
            flush()
            run_kind = ln.kind
        run.append(telegram_line(ln))
    flush()
    return "\n".join(out)


def to_plain(lines: Sequence[Line]) -> str:
    """Lines → plain text (fallbacks, previews, tests)."""
    out: list[str] = []
    for ln in lines:
        if ln.gap:
            out.append("")
        out.append(("> " if ln.kind == "quote" else "") + ln.text)
    return "\n".join(out)


def utf16_len(text: str) -> int:
    """Telegram counts UTF-16 code units: characters outside the BMP count two."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@lru_cache(maxsize=8192)
def _line_units(ln: Line) -> int:
    return utf16_len(ln.text)


def telegram_len(lines: Sequence[Line]) -> int:
    """Visible length of ``to_telegram_html(lines)`` after entity parsing."""
    if not lines:
        return 0
    return sum(_line_units(ln) + 1 + (1 if ln.gap else 0) for ln in lines) - 1
