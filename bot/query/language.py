"""The query language: ``tag:RL source:量子位 -org:Google "quoted phrase"``.

``parse_query`` turns text into an immutable ``Query``; ``Query.matches`` evaluates it on one
item in memory with exactly the semantics ``bot.archive.search`` gives it in SQL, so a
channel's topics filter a digest the same way ``/ai query`` searches the archive.

Semantics (both paths):
- ``tag:`` — the item has a tag in the same alias group (``bot.query.tags``).
- ``source:`` — the source equals the value after ``name_key`` (NFKC, case, spaces).
- ``org:`` — the value (after ``name_key``) is a substring of one of the item's orgs.
- ``date:`` / ``since:`` / ``until:`` — the digest date equals / is on or after / on or before.
- ``stars:N`` — at least N stars (an item without stars has 0).
- ``category:`` — the category equals the value after ``name_key``.
- free words and phrases — in ``item_search_text`` after ``fold``; an ASCII end of a term
  must be on a word boundary (``bot.query.text``), so ``RL`` does not match "Starlink".
- the same key repeated is OR, different terms AND, ``-`` negates any term. A bare ``OR``
  is refused with a hint rather than searched for.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.errors import QueryError
from bot.models import Item
from bot.query.tags import TagAliases
from bot.query.text import fold, item_search_text, name_key, orgs_text, term_matches
from bot.query.tokens import ALL_QUOTES, COLONS, DOUBLE, MINUS, QUOTES, Term, show, terms

__all__ = [
    "KEYS",
    "TEXT",
    "Clause",
    "Query",
    "Value",
    "fold",
    "item_search_text",
    "name_key",
    "orgs_text",
    "parse_query",
]

KEYS: tuple[str, ...] = (
    "tag", "source", "org", "category", "date", "since", "until", "stars",
)  # fmt: skip
TEXT = "text"
"""The pseudo-key of free words and quoted phrases."""

_ORDER = {key: index for index, key in enumerate((*KEYS, TEXT))}
_VALID = ", ".join(KEYS)
_DATE_KEYS = frozenset({"date", "since", "until"})
_RELATIVE_DAYS = {"today": 0, "今天": 0, "yesterday": 1, "昨天": 1}

_KEYLIKE = re.compile(r"[A-Za-z]+")

Value = str | int | dt.date

#: Longest query accepted (chat commands, topics, ``digestbot query``).
MAX_QUERY_CHARS = 2_000
#: Most terms in one query: each is a condition in SQL, and SQLite allows 1,000 at most.
MAX_TERMS = 64


# -- the Query value --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """One AND-ed condition: any of ``values`` for ``key`` (OR), possibly negated."""

    key: str
    values: tuple[Value, ...]
    negated: bool = False

    def __str__(self) -> str:
        sign = "-" if self.negated else ""
        if self.key == TEXT:
            return " ".join(sign + _render(str(v), free=True) for v in self.values)
        return " ".join(f"{sign}{self.key}:{_render_value(v)}" for v in self.values)

    def test(self, view: _ItemView) -> bool:
        """Whether the item satisfies the clause (negation applied)."""
        return any(view.has(self.key, value) for value in self.values) != self.negated


@dataclass(frozen=True)
class Query:
    """A parsed query: clauses in canonical order, so equal queries compare equal."""

    clauses: tuple[Clause, ...] = ()

    @classmethod
    def of(cls, clauses: Iterable[Clause]) -> Query:
        """Canonical form: positive same-key terms merged (OR), duplicates dropped, sorted."""
        merged: dict[str, list[Value]] = {}
        singles: list[Clause] = []
        for clause in clauses:
            if clause.key != TEXT and not clause.negated:
                merged.setdefault(clause.key, []).extend(clause.values)
            else:
                singles.extend(Clause(clause.key, (v,), clause.negated) for v in clause.values)
        result = {
            Clause(key, tuple(sorted(dict.fromkeys(values), key=_render_value)))
            for key, values in merged.items()
        }
        result.update(singles)
        return cls(tuple(sorted(result, key=_clause_order)))

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    def __str__(self) -> str:
        return " ".join(str(clause) for clause in self.clauses)

    def values(self, key: str) -> list[Value]:
        """The positive values given for ``key`` (e.g. the tags a channel follows)."""
        return [v for c in self.clauses if c.key == key and not c.negated for v in c.values]

    def matches(self, item: Item, date: dt.date, aliases: TagAliases) -> bool:
        """Evaluate on one item of the digest of ``date``, exactly as the archive search does."""
        view = _ItemView(item, date, aliases)
        return all(clause.test(view) for clause in self.clauses)


@dataclass
class _ItemView:
    """One item with its matching forms computed on first use."""

    item: Item
    date: dt.date
    aliases: TagAliases
    _cache: dict[str, object] = field(default_factory=dict)

    def _get(self, name: str) -> object:
        if name not in self._cache:
            item = self.item
            if name == "tags":
                self._cache[name] = {self.aliases.canonical(tag) for tag in item.tags}
            elif name == "source":
                self._cache[name] = name_key(item.source or "")
            elif name == "orgs":
                self._cache[name] = orgs_text(item.orgs)
            elif name == "category":
                self._cache[name] = name_key(item.category or "")
            else:
                self._cache[name] = item_search_text(item)
        return self._cache[name]

    def has(self, key: str, value: Value) -> bool:
        if key == "tag":
            return self.aliases.canonical(str(value)) in self._get("tags")  # type: ignore[operator]
        if key == "source":
            return self._get("source") == name_key(str(value))
        if key == "org":
            return name_key(str(value)) in self._get("orgs")  # type: ignore[operator]
        if key == "category":
            return self._get("category") == name_key(str(value))
        if key == "date":
            return self.date == value
        if key == "since":
            return self.date >= value  # type: ignore[operator]
        if key == "until":
            return self.date <= value  # type: ignore[operator]
        if key == "stars":
            return (self.item.stars or 0) >= value  # type: ignore[operator]
        return term_matches(fold(str(value)), self._get("text"))  # type: ignore[arg-type]


def _clause_order(clause: Clause) -> tuple[int, bool, str]:
    return (_ORDER[clause.key], clause.negated, str(clause))


def _render_value(value: Value) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return _render(value, free=False)


def _render(value: str, *, free: bool) -> str:
    """Quote a value when the tokenizer would otherwise split or misread it."""
    plain = bool(value) and not any(ch.isspace() or ch in ALL_QUOTES for ch in value)
    if free and plain:
        plain = value[0] not in MINUS and not any(ch in COLONS for ch in value)
        plain = plain and value != "OR"  # bare, it is refused as an operator
    if plain:
        return value
    escaped = value.replace("\\", "\\\\")
    for quote in DOUBLE:
        escaped = escaped.replace(quote, "\\" + quote)
    return f'"{escaped}"'


# -- parsing ----------------------------------------------------------------------------------


def parse_query(text: str, *, today: dt.date) -> Query:
    """Parse query text; raise QueryError naming the bad term (and the valid keys)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is {len(text):,} characters long; at most {MAX_QUERY_CHARS:,} are "
            "allowed (a few terms find anything: tag:RL since:2026-02-01)",
            term=text[:40],
        )
    text = text.replace("\x00", " ")  # no database stores NUL; it separates nothing here
    tokens = list(terms(text, _VALID))
    if len(tokens) > MAX_TERMS:
        raise QueryError(
            f"the query has {len(tokens)} terms; at most {MAX_TERMS} are allowed "
            f"(the {MAX_TERMS + 1}th is {show(tokens[MAX_TERMS].raw)})",
            term=tokens[MAX_TERMS].raw,
        )
    for pos, token in enumerate(tokens):
        if token.raw == "OR":
            raise QueryError(
                '"OR" is not an operator: the same key repeated already means either '
                "(tag:RL tag:Agent), different terms must all match; to search for the "
                'word itself, quote it: "OR"',
                term=token.raw,
            )
        if pos + 1 < len(tokens):
            _check_unquoted_tag(token, tokens[pos + 1])
    return Query.of(_clause(token, today) for token in tokens)


def _check_unquoted_tag(token: Term, following: Term) -> None:
    """``tag:Reinforcement Learning`` meant the two-word tag: say how to write it."""
    if token.colon is None or following.colon is not None or following.negated:
        return
    if following.raw[:1] in QUOTES:
        return
    key, value = token.text[: token.colon].casefold(), token.text[token.colon + 1 :]
    if key != "tag" or not value or token.raw.endswith(tuple(ALL_QUOTES)):
        return
    both = f"{value} {following.text}"
    aliases = _builtin_aliases()
    if len(aliases.variants(both)) > 1 and len(aliases.variants(value)) == 1:
        raise QueryError(
            f'"{token.raw} {following.raw}": a tag with a space needs quotes, write tag:"{both}"',
            term=f"{token.raw} {following.raw}",
        )


_ALIASES: list[TagAliases] = []


def _builtin_aliases() -> TagAliases:
    """The built-in alias table, loaded on first use (only for the hint above)."""
    if not _ALIASES:
        _ALIASES.append(TagAliases.builtin())
    return _ALIASES[0]


def _clause(token: Term, today: dt.date) -> Clause:
    if token.colon is not None:
        prefix, value = token.text[: token.colon], token.text[token.colon + 1 :]
        key = prefix.casefold()
        if key in KEYS:
            return Clause(key, (_value(key, value, token, today),), token.negated)
        if _KEYLIKE.fullmatch(prefix) and not value.startswith("//"):
            hint = difflib.get_close_matches(key, KEYS, n=1)
            did_you_mean = f'did you mean "{hint[0]}:"? ' if hint else ""
            raise QueryError(
                f'unknown key "{prefix}" in {show(token.raw)}; valid keys: {_VALID} '
                f"({did_you_mean}to search for the text itself, put it in quotes)",
                term=token.raw,
            )
    if not fold(token.text):
        raise QueryError(f"empty phrase {show(token.raw)}: put words between the quotes", token.raw)
    return Clause(TEXT, (token.text,), token.negated)


def _value(key: str, value: str, token: Term, today: dt.date) -> Value:
    value = value.strip()
    if not value:
        raise QueryError(
            f"empty value in {show(token.raw)}: write {key}:VALUE, e.g. {_EXAMPLES[key]}; "
            f"valid keys: {_VALID}",
            term=token.raw,
        )
    if key in _DATE_KEYS:
        return _date(value, token, today)
    if key == "stars":
        digits = value.removesuffix("+")
        if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= 5:
            return int(digits)
        raise QueryError(
            f'bad value "{value}" in {show(token.raw)}: stars takes a number from 1 to 5 '
            "(at least that many stars), e.g. stars:4",
            term=token.raw,
        )
    return value


_EXAMPLES = {
    "tag": "tag:RL",
    "source": "source:量子位",
    "org": "org:Google",
    "category": "category:学术研究",
    "date": "date:2026-02-03",
    "since": "since:2026-02-01",
    "until": "until:yesterday",
    "stars": "stars:4",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: str, token: Term, today: dt.date) -> dt.date:
    relative = _RELATIVE_DAYS.get(value.casefold())
    if relative is not None:
        return today - dt.timedelta(days=relative)
    if _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise QueryError(
        f'bad date "{value}" in {show(token.raw)}: use YYYY-MM-DD, today or yesterday',
        term=token.raw,
    )
