"""The in-process validators must reject what the platforms reject (else tests prove nothing)."""

from __future__ import annotations

import pytest

from tests.formatters.validators import check_slack_message, check_telegram_html, live_mentions


@pytest.mark.parametrize(
    "html",
    [
        "<b>unclosed",
        "<b><i>x</b></i>",
        "<script>x</script>",
        '<a href="javascript:alert(1)">x</a>',
        "a < b",
        "a & b",
        "&nbsp;",
        "<blockquote><blockquote>x</blockquote></blockquote>",
        "<code><b>x</b></code>",
        "x" * 4097,
        "🚀" * 2049,
        "   ",
    ],
)
def test_bad_telegram_html_is_rejected(html: str) -> None:
    with pytest.raises(AssertionError):
        check_telegram_html(html)


def test_good_telegram_html_passes_and_counts_visible_utf16() -> None:
    visible = check_telegram_html(
        '<b>a</b> &lt;&amp;&gt; <a href="https://e.com/?a=1&amp;b=2">l</a>' + "🚀" * 2040
    )
    assert visible.startswith("a <&> l")


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]},
        {
            "text": "t",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        },
        {
            "text": "t",
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        },
        {"text": "t", "blocks": [{"type": "divider"}] * 51},
        {"text": "t", "blocks": [{"type": "bogus"}]},
        {
            "text": "t",
            "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11}],
        },
    ],
)
def test_bad_slack_payloads_are_rejected(payload: dict) -> None:
    with pytest.raises(Exception):  # noqa: B017 - AssertionError or SlackObjectFormationError
        check_slack_message(payload)


def test_live_mentions_are_found_and_our_links_are_not() -> None:
    assert live_mentions("hi <!channel> and <@U1> <#C1|x>") == ["<!channel>", "<@U1>", "<#C1|x>"]
    assert live_mentions("<https://e.com|ok> &lt;!here&gt; > quote") == []
    assert live_mentions("<javascript:x|y>") == ["<javascript:x|y>"]
