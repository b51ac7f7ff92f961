"""Markdown → lines → Slack mrkdwn / Telegram HTML / plain text."""

from __future__ import annotations

from formatters.line_markup import (
    slack_span,
    telegram_len,
    to_mrkdwn,
    to_plain,
    to_telegram_html,
    utf16_len,
)
from formatters.lines import Line, Span, bold
from formatters.markdown import parse, parse_inline
from tests.fakes.telegram_validation import check_telegram_html


def mrkdwn(source: str) -> str:
    return to_mrkdwn(parse(source))


def html(source: str, *, nested: bool = False) -> str:
    out = to_telegram_html(parse(source), nested=nested)
    check_telegram_html(out)
    return out


def test_inline_formatting() -> None:
    assert (
        mrkdwn("**bold** and *it* and ~~del~~ and `code`") == "*bold* and _it_ and ~del~ and `code`"
    )
    assert html("**bold** and *it* and ~~del~~ and `code`") == (
        "<b>bold</b> and <i>it</i> and <s>del</s> and <code>code</code>"
    )


def test_links() -> None:
    assert (
        mrkdwn("see [the paper](https://a.org/p?x=1&y=2)")
        == "see <https://a.org/p?x=1&amp;y=2|the paper>"
    )
    assert html("see [the paper](https://a.org/p?x=1&y=2)") == (
        'see <a href="https://a.org/p?x=1&amp;y=2">the paper</a>'
    )
    assert mrkdwn("**[bold link](https://a.org)**") == "*<https://a.org|bold link>*"
    assert mrkdwn("<https://a.org/x>") == "<https://a.org/x|https://a.org/x>"


def test_unsafe_links_stay_visible_as_text() -> None:
    assert mrkdwn("[x](javascript:alert(1))") == "[x](javascript:alert(1))"  # not even a link
    assert mrkdwn("[f](ftp://h/x)") == "f (ftp://h/x)"
    assert html("[f](ftp://h/x) [r](rel/x)") == "f (ftp://h/x) r (rel/x)"


def test_data_uris_are_dropped_not_shown() -> None:
    """An inline image or link's bytes are no text to show (a 1 MB image was 1 MB of text)."""
    payload = "data:image/png;base64," + "A" * 100_000
    assert html(f"![alt]({payload})") == "alt"
    assert mrkdwn(f"![]({payload}) after").strip() == "after"
    assert html(f"[x]({payload})") == "x"


def test_raw_html_and_mentions_are_text() -> None:
    source = "<!channel> <@U1> <#C1|x> <script>alert(1)</script> &amp; &lt;"
    inert = "&lt;!channel&gt; &lt;@U1&gt; &lt;#C1|x&gt; &lt;script&gt;alert(1)&lt;/script&gt;"
    assert mrkdwn(source) == inert + " &amp; &lt;"
    assert html(source) == inert + " &amp; &lt;"
    assert mrkdwn("<div>\nblock\n</div>") == "&lt;div&gt;\nblock\n&lt;/div&gt;"


def test_lists_nest_with_bullets_and_numbers() -> None:
    source = "* a\n    - b\n        - c\n* d\n\n1. one\n2. two"
    assert to_plain(parse(source)) == "• a\n    ◦ b\n        ▪ c\n• d\n\n1. one\n2. two"
    assert html(source).startswith("• a\n    ◦ b")


def test_loose_list_paragraphs_keep_indentation() -> None:
    assert to_plain(parse("- first\n\n  second para\n- next")) == "• first\n\n  second para\n• next"


def test_headings_are_bold_and_quotes_are_quotes() -> None:
    assert mrkdwn("# Title\n\ntext\n\n> quoted **b**") == "*Title*\n\ntext\n\n> quoted *b*"
    assert html("# Title\n\n> quoted") == "<b>Title</b>\n\n<blockquote>quoted</blockquote>"
    assert html("> quoted", nested=True) == "<i>quoted</i>"  # no blockquote inside a blockquote


def test_code_blocks() -> None:
    source = "```py\nif a < b:\n    pass\n```"
    assert mrkdwn(source) == "```if a &lt; b:\n    pass```"
    assert html(source) == "<pre>if a &lt; b:\n    pass</pre>"
    assert html(source, nested=True) == "<code>if a &lt; b:</code>\n<code>    pass</code>"


def test_latex_becomes_code() -> None:
    assert mrkdwn("predict $x \\to u$ then $$v$$") == "predict `x \\to u` then `v`"
    assert mrkdwn("costs $5 and $10 today") == "costs $5 and $10 today"  # prices are not math
    assert mrkdwn("$$\nE = mc^2\n$$") == "```E = mc^2```"


def test_small_tables_are_aligned_code() -> None:
    source = "| Model | 分数 |\n|---|---|\n| A | 1 |\n| 长名字 | 22 |"
    assert to_plain(parse(source)).splitlines() == [
        "Model  | 分数",
        "-------+-----",
        "A      | 1",
        "长名字 | 22",
    ]
    assert html(source).startswith("<pre>Model")


def test_wide_or_linked_tables_become_bullet_rows() -> None:
    source = "| Name | Link |\n|---|---|\n| paper | [p](https://a.org) |"
    assert mrkdwn(source) == "• *Name:* paper · *Link:* <https://a.org|p>"


def test_slack_markers_get_zero_width_spaces_next_to_letters() -> None:
    assert mrkdwn("具有**序列依赖性**，即") == "具有\u200b*序列依赖性*\u200b，即"
    assert mrkdwn("a **b**: c") == "a *b*: c"
    # Markers never wrap whitespace (Slack would ignore them).
    assert slack_span(bold(" x "), "a", "b") == " *x* "


def test_softbreaks_are_lines_and_inline_joins_them() -> None:
    assert to_plain(parse("one\ntwo")) == "one\ntwo"
    assert [s.text for s in parse_inline("one\ntwo")] == ["one", " ", "two"]


def test_telegram_length_counts_visible_utf16() -> None:
    lines = [Line((Span("<&>"),)), Line((Span("🚀"),), gap=True)]
    assert telegram_len(lines) == 3 + 1 + 1 + 2
    assert telegram_len(lines) == utf16_len(check_telegram_html(to_telegram_html(lines)))


def test_inline_keeps_list_markers_of_a_summary() -> None:
    assert (
        "".join(s.text for s in parse_inline("2026. A year of agents")) == "2026. A year of agents"
    )
    assert "".join(s.text for s in parse_inline("- dash start")) == "• dash start"
