"""The wording around the content, from jinja2 templates users can override.

Templates render *markdown*. Every ``{{ value }}`` is markdown-escaped by the environment's
``finalize`` hook, so a title or query can never inject formatting or links; the result is
then parsed (``formatters.markdown``) and serialised for each platform, which is where the
one platform escape happens. Content is therefore escaped exactly once per platform.

Lookup order for ``NAME``: ``<templates_dir>/<language>/NAME``, ``<templates_dir>/NAME``,
then the built-in ``formatters/templates/<language>/NAME``. ``labels.j2`` is merged key by
key, so an override file may define only the labels it changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from markupsafe import Markup

from bot.errors import ConfigError
from bot.models import item_path
from formatters import limits
from formatters.escape import safe_url
from formatters.markdown import Line, Span, bold, line, link, parse, parse_inline

if TYPE_CHECKING:
    from bot.chat import SearchReply, SubscriptionReply
    from bot.config import Settings
    from bot.models import Item, Resource

PACKAGE_DIR = Path(__file__).resolve().parent / "templates"
Language = Literal["zh", "en"]
_MD_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def escape_markdown(value: object) -> str:
    """Backslash-escape every ASCII punctuation character (CommonMark allows it for all),
    so the parsed text equals the value exactly and carries no markup."""
    text = "" if value is None else str(value)
    return "".join("\\" + ch if ch in _MD_PUNCT else ch for ch in text)


def code_span(value: object) -> Markup:
    """A markdown code span holding ``value`` verbatim (backticks in it are fenced around)."""
    text = " ".join(str(value).split("\n"))
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or text.startswith(" ") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def _finalize(value: Any) -> str:
    return value if isinstance(value, Markup) else escape_markdown(value)


_WEEKDAYS = {"1-5": "weekdays", "mon-fri": "weekdays", "*": "daily", "0-6": "daily"}
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def describe_schedule(cron: str, labels: Mapping[str, str]) -> str:
    """``0 9 * * 1-5`` → "weekdays 09:00"; anything unusual is shown as the cron itself."""
    fields = cron.split()
    if len(fields) == 5 and fields[2] == "*" and fields[3] == "*":
        minute, hour, dow = fields[0], fields[1], fields[4].lower()
        if minute.isdigit() and hour.isdigit() and dow in _WEEKDAYS:
            return f"{labels[_WEEKDAYS[dow]]} {int(hour):02d}:{int(minute):02d}"
        if minute.isdigit() and hour.isdigit() and dow in _DAY_NAMES:
            day = labels["day_names"].split(",")[_DAY_NAMES.index(dow)]
            return f"{day} {int(hour):02d}:{int(minute):02d}"
    return f"cron {cron}"


def _describe_template_error(name: str, exc: TemplateError) -> str:
    """``FILE:LINE: message`` for syntax errors, ``template NAME: message`` otherwise."""
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}: {exc.message}"
    return f"template {name!r}: {exc}"


class Templates:
    """A jinja2 environment per language with a user directory in front of the built-ins."""

    def __init__(
        self,
        language: Language = "zh",
        templates_dir: str | Path | None = None,
        *,
        web_base_url: str | None = None,
    ) -> None:
        if language not in ("zh", "en"):
            raise ValueError(f"language must be 'zh' or 'en', not {language!r}")
        self.language: Language = language
        #: The web reader's public URL: items get a "web" link to their permalink.
        self.web_base_url = web_base_url.rstrip("/") if web_base_url else None
        self.templates_dir = Path(templates_dir) if templates_dir else None
        self._builtin = FileSystemLoader(str(PACKAGE_DIR / language))
        user: list[FileSystemLoader] = []
        if self.templates_dir:
            user = [
                FileSystemLoader(str(self.templates_dir / language)),
                FileSystemLoader(str(self.templates_dir)),
            ]
        self._user = user
        self.env = Environment(
            loader=ChoiceLoader([*user, self._builtin]),
            autoescape=False,
            finalize=_finalize,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["code"] = code_span
        self.env.filters["md"] = lambda value: Markup(escape_markdown(value))
        self.env.filters["schedule"] = lambda cron: describe_schedule(cron, self.labels)

    @classmethod
    def from_settings(cls, settings: Settings) -> Templates:
        """``language`` and ``templates_dir`` (relative to the config file) from the config."""
        directory = None
        if settings.templates_dir:
            directory = Path(settings.templates_dir)
            if not directory.is_absolute():
                directory = settings.base_dir() / directory
        return cls(settings.language, directory, web_base_url=settings.web.base_url)

    @cached_property
    def labels(self) -> dict[str, str]:
        """Short words (来源/Source …): built-in ``labels.j2`` overlaid with the user's."""
        labels = self._module_vars(Environment(loader=self._builtin))
        if self._user:
            user_env = Environment(loader=ChoiceLoader(self._user))
            labels.update(self._module_vars(user_env))
        return labels

    @staticmethod
    def _module_vars(env: Environment) -> dict[str, str]:
        try:
            module = env.get_template("labels.j2").module
        except TemplateNotFound:
            return {}
        except TemplateError as exc:
            raise ConfigError(_describe_template_error("labels", exc)) from exc
        return {k: str(v) for k, v in vars(module).items() if not k.startswith("_")}

    def label(self, key: str) -> str:
        return self.labels[key]

    def render(self, name: str, **context: Any) -> str:
        """Render ``NAME.md.j2`` to markdown source (values already markdown-escaped)."""
        try:
            template = self.env.get_template(f"{name}.md.j2")
            return template.render(labels=self.labels, lang=self.language, **context).strip()
        except TemplateError as exc:
            raise ConfigError(_describe_template_error(name, exc)) from exc

    def lines(self, name: str, **context: Any) -> list[Line]:
        """Render and parse: the form every platform serialiser takes."""
        return parse(self.render(name, **context))

    def text(self, name: str, **context: Any) -> str:
        """Render to plain text (for plain_text fields and notification fallbacks)."""
        return "\n".join(ln.text for ln in self.lines(name, **context))


# --------------------------------------------------------------------------- layout
# Platform-agnostic lines around the content, shared by the Slack, Telegram and console
# formatters: they decide the markup, these decide what is said and in which order.

SECTION_ICONS = {"tech": "🔹", "data": "📊", "insight": "💡", "resources": "🔗", "other": "▪️"}
MAX_STAR_ICONS = 5


def stars_text(stars: int | None) -> str:
    if not stars or stars < 0:
        return ""
    return "🌟" * stars if stars <= MAX_STAR_ICONS else f"🌟×{stars}"


def when_text(item: Item, date: dt.date | None = None) -> str | None:
    """``18:35`` on the digest's own day, else ``2026-02-03 18:35``."""
    if item.published_at is None:
        return None
    if date is not None and item.published_at.date() == date:
        return item.published_at.strftime("%H:%M")
    return item.published_at.strftime("%Y-%m-%d %H:%M")


def display_title(item: Item, number: int | None = None) -> str:
    """``N. [Org/Org] Title`` as in the digest; ``number`` replaces the rank in lists."""
    orgs = "/".join(item.orgs)
    number = item.rank if number is None else number
    title = limits.shown_title(item.title)
    return f"{number}. [{orgs}] {title}" if orgs else f"{number}. {title}"


def title_lines(text: str) -> list[Line]:
    return [line(bold(text))]


def web_url(item: Item, templates: Templates, date: dt.date | None) -> str | None:
    """The item's permalink in the web reader, when ``web.base_url`` is configured."""
    if templates.web_base_url is None or date is None:
        return None
    return templates.web_base_url + item_path(date, item.rank)


def web_spans(item: Item, templates: Templates, date: dt.date | None, sep: str) -> list[Span]:
    """``sep`` and a "web" link to the item's permalink; nothing without ``web.base_url``."""
    url = web_url(item, templates, date)
    return [Span(sep), link(templates.labels["web"], url)] if url else []


def meta_line(
    item: Item,
    templates: Templates,
    date: dt.date | None = None,
    *,
    gap: bool = False,
    web: bool = True,
) -> Line | None:
    labels, colon = templates.labels, templates.labels["colon"]
    parts = []
    if item.source:
        parts.append(f"{labels['source']}{colon}{item.source}")
    when = when_text(item, date)
    if when:
        parts.append(f"{labels['time']}{colon}{when}")
    extra = web_spans(item, templates, date, " · " if parts else "") if web else []
    return line(" · ".join(parts), *extra, gap=gap) if parts or extra else None


def headline_lines(
    item: Item, templates: Templates, *, date: dt.date | None = None, summary: bool = True
) -> list[Line]:
    """Linked bold title and stars; source and time; the one-line summary (none for an
    item the curation pipeline failed on: its text is a placeholder, not a summary)."""
    stars = stars_text(item.stars)
    first = line(link(display_title(item), item.url, {"b"}), *(["  " + stars] if stars else []))
    out = [first]
    meta = meta_line(item, templates, date)
    if meta:
        out.append(meta)
    if summary and item.summary and not item.pipeline_failed:
        out.append(Line(tuple(parse_inline(limits.shown_summary(item)))))
    return out


def tag_lines(item: Item) -> list[Line]:
    if not item.tags:
        return []
    return [line("🏷 " + " · ".join(item.tags))]


def compact_lines(
    item: Item, date: dt.date | None, templates: Templates, *, number: int | None = None
) -> list[Line]:
    """A search result: linked title and stars; date, source and tags on one line."""
    stars = stars_text(item.stars)
    title = display_title(item, number)
    first = line(link(title, item.url, {"b"}), *(["  " + stars] if stars else []))
    parts = [p for p in (date.isoformat() if date else None, item.source) if p]
    if item.tags:
        parts.append("🏷 " + " · ".join(item.tags))
    extra = web_spans(item, templates, date, " · " if parts else "")
    return [first, line(" · ".join(parts), *extra)] if parts or extra else [first]


def section_heading(kind: str, heading: str) -> str:
    icon = SECTION_ICONS.get(kind, SECTION_ICONS["other"])
    return heading if heading.startswith(icon) or not heading[:1].isalnum() else f"{icon} {heading}"


def line_hrefs(markdown: str) -> set[str]:
    """The link targets a section's markdown shows, through the chat line model."""
    return {s.href for ln in parse(markdown) for s in ln.spans if s.href}


def missing_resources(
    item: Item, hrefs: Callable[[str], Iterable[str]] = line_hrefs
) -> list[Resource]:
    """Resources whose link no shown section shows (the parser lists them in both places),
    at most ``limits.MAX_RESOURCES``; ``hrefs`` reads a section's link targets (a renderer
    that parsed it already has them)."""
    sections = [markdown for _, markdown in limits.shown_sections(item)[0]]
    shown = "".join(sections)
    linked = {href for markdown in sections for href in hrefs(markdown)}
    missing = [r for r in item.resources if r.url not in shown and safe_url(r.url) not in linked]
    return missing[: limits.MAX_RESOURCES]


def detail_lines(item: Item, templates: Templates) -> list[Line]:
    """Every section (heading in bold, body from markdown), then any resource link the
    sections do not already show, so each resource appears exactly once."""
    out: list[Line] = []
    sections, clipped = limits.shown_sections(item)
    for section, markdown in sections:
        out.append(line(bold(section_heading(section.kind, section.heading)), gap=True))
        out.extend(parse(markdown))
    if clipped:
        out.append(line("… ", link(templates.label("original"), item.url, {"b"}), gap=True))
    missing = missing_resources(item)
    if missing:
        out.append(
            line(bold(section_heading("resources", templates.labels["resources"])), gap=True)
        )
        for resource in missing:
            label = resource.title or resource.url
            spans: list[Span] = [link(label, resource.url)]
            if resource.title and link(label, resource.url).href is None:
                spans.append(Span(f" ({resource.url})"))
            out.append(Line(tuple(spans), "• "))
    return out


def search_header_lines(reply: SearchReply, templates: Templates) -> list[Line]:
    """ "N results for QUERY (first–last)" above a page of hits."""
    return templates.lines(
        "search_header",
        query=reply.query,
        total=reply.total,
        capped=reply.total_capped,
        first=reply.offset + 1,
        last=reply.offset + len(reply.hits),
    )


def next_offset(reply: SearchReply) -> int | None:
    """Offset of the next page, or None when this page is the last."""
    after = reply.offset + len(reply.hits)
    return after if after < reply.total and reply.hits else None


def subscription_lines(reply: SubscriptionReply, templates: Templates) -> list[Line]:
    sub = reply.subscription
    return templates.lines(
        "subscription",
        action=reply.action,
        subscribed=sub is not None,
        active=sub.active if sub else False,
        inactive_reason=sub.inactive_reason if sub else None,
        topics=list(sub.topics) if sub else [],
        topic=reply.topic,
        schedule=reply.schedule,
        timezone=reply.timezone,
        digest=reply.digest,
        weekly_schedule=reply.weekly_schedule,
    )
