"""The per-platform escaping helpers and the URL gate."""

from __future__ import annotations

import pytest

from formatters.escape import escape_slack, escape_telegram, safe_url, slack_url
from formatters.line_markup import slack_span, telegram_span
from formatters.lines import Span


def test_slack_escapes_only_its_three_control_characters() -> None:
    assert (
        escape_slack("<!channel> & <@U123> *b* _i_")
        == "&lt;!channel&gt; &amp; &lt;@U123&gt; *b* _i_"
    )
    assert escape_slack("&amp;") == "&amp;amp;"  # already-escaped text stays visible as typed
    assert escape_slack("plain 中文") == "plain 中文"


def test_telegram_escapes_text_and_attributes() -> None:
    assert escape_telegram('<b>"x" & y</b>') == '&lt;b&gt;"x" &amp; y&lt;/b&gt;'
    assert escape_telegram('"x"', attribute=True) == "&quot;x&quot;"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>",
        "ftp://example.com/x",
        "tg://user?id=1",
        "//example.com/x",
        "/relative",
        "https://",
        "http://exa mple.com\n/x",
        "",
        None,
    ],
)
def test_unsafe_urls_are_refused(url: str | None) -> None:
    assert safe_url(url) is None


def test_safe_urls_are_quoted_so_they_cannot_break_out() -> None:
    assert safe_url("https://a.com/p?x=1&y=2#f") == "https://a.com/p?x=1&y=2#f"
    assert safe_url(" https://a.com/a b ") == "https://a.com/a%20b"
    assert safe_url('https://a.com/"><script>') == "https://a.com/%22%3E%3Cscript%3E"
    assert safe_url("https://a.com/中文") == "https://a.com/%E4%B8%AD%E6%96%87"
    assert safe_url("https://a.com/%E4%B8%AD") == "https://a.com/%E4%B8%AD"  # not double-encoded


def test_slack_link_escapes_target_and_text() -> None:
    assert slack_url("https://a.com/?a=1&b=2|x") == "https://a.com/?a=1&amp;b=2%7Cx"
    assert (
        slack_span(Span("<!here> & co", href="https://a.com/?a=1&b=2"))
        == "<https://a.com/?a=1&amp;b=2|&lt;!here&gt; &amp; co>"
    )


def test_telegram_link_escapes_target_and_text() -> None:
    assert (
        telegram_span(Span("<b>", href="https://a.com/?a=1&b=2"))
        == '<a href="https://a.com/?a=1&amp;b=2">&lt;b&gt;</a>'
    )
