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

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

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
from formatters.lines import Line
from formatters.markdown import parse

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
