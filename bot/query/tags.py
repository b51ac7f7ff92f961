"""Tag normalisation and the alias table (``RL`` = ``强化学习`` = ``Reinforcement Learning``).

Digests tag the same topic many ways (case, width, spacing, language). Queries, channel
topics and the archive all compare tags through one ``TagAliases`` so that ``tag:RL`` finds
an item tagged ``[强化学习]`` everywhere, in SQL and in memory alike.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from importlib import resources

import yaml

from bot.errors import ConfigError

BUILTIN_TABLE = "tag_aliases.yaml"

#: Joiners that vary between spellings of one tag (``Fine-tuning`` = ``Fine tuning``).
_JOINERS = frozenset("-_\u2010\u2011")
#: Brackets and quotes that may wrap a tag (``[RL]``, ``【开源】``, ``"Agent"``).
_WRAPPERS = "[](){}<>《》〈〉【】「」『』〔〕\"'“”‘’`*"
#: Also dropped at the start (``#Agent``) or the end (``开源。``) only, so ``C#`` survives.
_LEADING = _WRAPPERS + "#"
_TRAILING = _WRAPPERS + ".,;:!?，。；：！？、…"


def normalize(tag: str) -> str:
    """Comparable form of a tag: NFKC, case-folded, no whitespace or joiners, unwrapped.

    ``AI 编程``, ``ＡＩ编程`` and ``[ai-编程]`` all become ``ai编程``. A tag made only of
    punctuation keeps its (folded) punctuation rather than becoming empty.
    """
    text = unicodedata.normalize("NFKC", tag).casefold()
    text = "".join(ch for ch in text if not ch.isspace() and ch not in _JOINERS)
    stripped = text.lstrip(_LEADING).rstrip(_TRAILING)
    return stripped or text


@functools.cache
def _builtin_table() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The packaged alias table, parsed once per process."""
    text = resources.files("bot.query").joinpath("data", BUILTIN_TABLE).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"bot/data/{BUILTIN_TABLE}: must be a mapping of name: [aliases]")
    return tuple((str(k), tuple(str(a) for a in (v or []))) for k, v in data.items())


class TagAliases:
    """Groups of equivalent tags, each with a canonical key and a display name.

    The canonical key of a group is the normalised display name; a tag outside every group
    is its own group (its canonical key is its normalised form).
    """

    def __init__(self) -> None:
        self._key_of: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._display: dict[str, str] = {}
        self._spellings: dict[str, list[str]] = {}

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_table(cls, table: Iterable[tuple[str, Iterable[str]]], *, origin: str) -> TagAliases:
        """Build from ``(display, aliases)`` pairs; an alias in two groups is an error."""
        aliases = cls()
        for display, spellings in table:
            key = normalize(display)
            if key in aliases._key_of:
                other = aliases._display[aliases._key_of[key]]
                raise ConfigError(f"{origin}: {display!r} is already listed under {other!r}")
            aliases._new_group(key, display)
            for spelling in spellings:
                norm = normalize(spelling)
                owner = aliases._key_of.get(norm)
                if owner is not None and owner != key:
                    other = aliases._display[owner]
                    raise ConfigError(
                        f"{origin}.{display}: alias {spelling!r} is already listed under {other!r}"
                    )
                aliases._add(key, norm, spelling)
        return aliases

    @classmethod
    def builtin(cls, extra: Mapping[str, Iterable[str]] | None = None) -> TagAliases:
        """The packaged table, with ``tags.aliases`` from config merged over it."""
        aliases = cls.from_table(_builtin_table(), origin=f"bot/data/{BUILTIN_TABLE}")
        if extra:
            aliases._merge(extra)
        return aliases

    def _new_group(self, key: str, display: str) -> None:
        self._key_of[key] = key
        self._members[key] = {key}
        self._display[key] = display
        self._spellings[key] = [display]

    def _add(self, key: str, norm: str, spelling: str) -> None:
        self._key_of[norm] = key
        self._members[key].add(norm)
        if spelling not in self._spellings[key]:
            self._spellings[key].append(spelling)

    def _merge(self, extra: Mapping[str, Iterable[str]]) -> None:
        """Apply user aliases: they join, move or merge groups; user claims must not clash.

        A user key that is already a known tag extends that tag's group (``强化学习:
        [RLHF]`` adds RLHF to RL). An alias owned by another built-in group moves to the
        user's group; an alias that is another group's canonical name merges that group.
        """
        extra = {str(k): [str(a) for a in v] for k, v in extra.items()}
        claimed: dict[str, str] = {}
        for user_key, spellings in extra.items():
            for spelling in [user_key, *spellings]:
                norm = normalize(spelling)
                owner = claimed.setdefault(norm, user_key)
                if owner != user_key:
                    raise ConfigError(
                        f"tags.aliases.{user_key}: alias {spelling!r} is also listed under "
                        f"tags.aliases.{owner}"
                    )
        for user_key, spellings in extra.items():
            key_norm = normalize(user_key)
            target = self._key_of.get(key_norm)
            if target is None:
                self._new_group(key_norm, user_key)
                target = key_norm
            for spelling in spellings:
                norm = normalize(spelling)
                owner = self._key_of.get(norm)
                if owner == target:
                    continue
                if owner is not None and owner == norm:
                    self._absorb(target, owner)
                    continue
                if owner is not None:
                    self._members[owner].discard(norm)
                    self._spellings[owner] = [
                        s for s in self._spellings[owner] if normalize(s) != norm
                    ]
                self._add(target, norm, spelling)

    def _absorb(self, target: str, group: str) -> None:
        """Move every member of ``group`` into ``target`` and drop ``group``."""
        for norm in self._members.pop(group):
            self._key_of[norm] = target
            self._members[target].add(norm)
        del self._display[group]
        for spelling in self._spellings.pop(group):
            if spelling not in self._spellings[target]:
                self._spellings[target].append(spelling)

    # -- lookups ----------------------------------------------------------------------

    def canonical(self, tag: str) -> str:
        """The canonical key of a tag's group (an unknown tag's own normalised form)."""
        norm = normalize(tag)
        return self._key_of.get(norm, norm)

    def display(self, tag: str) -> str:
        """The group's display name (``强化学习`` → ``RL``), or the tag itself if unknown."""
        return self._display.get(self.canonical(tag), tag.strip())

    def same(self, a: str, b: str) -> bool:
        """Whether two tags name the same topic."""
        return self.canonical(a) == self.canonical(b)

    def variants(self, tag: str) -> set[str]:
        """Every normalised form that is the same topic as ``tag`` (for SQL ``IN`` lists)."""
        key = self.canonical(tag)
        return set(self._members.get(key, {key}))

    def groups(self) -> dict[str, list[str]]:
        """Display name → known spellings (display name first), in table order."""
        return {self._display[key]: list(spellings) for key, spellings in self._spellings.items()}
