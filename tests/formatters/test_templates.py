"""jinja2 templates: languages, user overrides, escaping of values, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from formatters.line_markup import to_plain
from formatters.templates import (
    PACKAGE_DIR,
    Templates,
    code_span,
    describe_schedule,
    escape_markdown,
)


def test_chinese_by_default_english_on_request() -> None:
    zh, en = Templates(), Templates("en")
    assert (zh.label("source"), zh.label("time"), zh.label("tags"), zh.label("details")) == (
        "来源",
        "时间",
        "标签",
        "详情",
    )
    assert (en.label("source"), en.label("time"), en.label("tags"), en.label("more")) == (
        "Source",
        "Time",
        "Tags",
        "More",
    )
    assert set(zh.labels) == set(en.labels)
    assert sorted(p.name for p in (PACKAGE_DIR / "zh").iterdir()) == sorted(
        p.name for p in (PACKAGE_DIR / "en").iterdir()
    )
    with pytest.raises(ValueError, match="language"):
        Templates("fr")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "**bold** _it_ `code` [link](https://e.com) <!here> &amp; # heading",
        "1. not a list\n- not a bullet\n> not a quote",
        "$x$ \\escaped\\ | pipes | ~~del~~ <b>tag</b>",
    ],
)
def test_values_are_escaped_so_they_render_verbatim(value: str) -> None:
    lines = Templates("en").lines("notice", message=value)
    assert "\n".join(ln.text for ln in lines) == value
    assert all(not span.styles and span.href is None for ln in lines for span in ln.spans)


def test_code_filter_survives_backticks() -> None:
    assert code_span("tag:RL") == "`tag:RL`"
    assert code_span("a`b") == "``a`b``"
    lines = Templates().lines("search_header", query="x `y` z", total=0, first=1, last=0)
    assert "x `y` z" in to_plain(lines)
    assert escape_markdown("a*b") == "a\\*b"


def test_describe_schedule() -> None:
    labels = Templates("en").labels
    assert describe_schedule("0 9 * * *", labels) == "Daily 09:00"
    assert describe_schedule("30 7 * * 1-5", labels) == "Weekdays 07:30"
    assert describe_schedule("0 9 1 * *", labels) == "cron 0 9 1 * *"


def test_user_directory_overrides_templates_and_some_labels(tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "labels.j2").write_text('{% set source = "出处" %}', encoding="utf-8")
    (tmp_path / "notice.md.j2").write_text("📣 {{ message }}", encoding="utf-8")
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "notice.md.j2").write_text("Notice: {{ message }}", encoding="utf-8")
    zh = Templates("zh", tmp_path)
    assert zh.label("source") == "出处" and zh.label("time") == "时间"  # merged key by key
    assert zh.text("notice", message="hi") == "📣 hi"
    assert Templates("en", tmp_path).text("notice", message="hi") == "Notice: hi"
    assert "/ai subscribe" in zh.text("help")  # not overridden: the built-in one


def test_from_settings_resolves_templates_dir_against_the_config(tmp_path: Path) -> None:
    (tmp_path / "mytemplates").mkdir()
    (tmp_path / "mytemplates" / "notice.md.j2").write_text("custom {{ message }}", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text("language: en\ntemplates_dir: mytemplates\n", encoding="utf-8")
    settings = load_settings(config, environ={})
    templates = Templates(**settings.template_options())
    assert templates.language == "en"
    assert templates.text("notice", message="x") == "custom x"


def test_broken_user_templates_give_located_errors(tmp_path: Path) -> None:
    (tmp_path / "notice.md.j2").write_text("line one\n{% if %}\n", encoding="utf-8")
    (tmp_path / "error.md.j2").write_text("{{ no_such_value }}", encoding="utf-8")
    templates = Templates("zh", tmp_path)
    with pytest.raises(ConfigError, match=r"notice\.md\.j2:2: "):
        templates.text("notice", message="x")
    with pytest.raises(ConfigError, match=r"template 'error'.*no_such_value"):
        templates.text("error", message="x", example=None)
