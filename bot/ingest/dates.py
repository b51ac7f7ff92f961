"""Dates and times as digests write them: headers, front matter, file names, item times.

``2026-02-03``, ``2026/2/10``, ``2026.2.10``, ``2026年6月15日（周日）``, with or without a
time; a time alone (``⏰ *18:34*``) belongs to the digest's own date. Regexes here look at
one header line, one file name or one field value, never at the document.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.errors import FieldError

__all__ = [
    "date_in_name",
    "find_date",
    "front_matter",
    "header_date",
    "parse_time",
]

_SEP = r"(?:[-/.]|\s*年\s*)"
_DATE = re.compile(
    rf"(?<!\d)(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}})(?:[-/.]|\s*月\s*)(?P<d>\d{{1,2}})(?:\s*日)?(?!\d)"
)
_CLOCK = re.compile(r"(?<!\d)(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?(?!\d)")
_FRONT_KEYS = re.compile(r"^(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>.*)$")


def _date_of(match: re.Match[str]) -> dt.date:
    return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))


def header_date(content: str) -> tuple[str, dt.date | None, str | None]:
    """Split ``Title | YYYY-MM-DD`` into (title, date, complaint about a bad date).

    The last date in the header is the digest's; the title is what is left, without the
    separators and a trailing weekday (``（周日）``).
    """
    matches = list(_DATE.finditer(content))
    if not matches:
        return content.strip(), None, None
    match = matches[-1]
    after = re.sub(r"^\s*[（(][^）)]{1,8}[）)]", "", content[match.end() :])
    title = (content[: match.start()] + after).strip(" \t|｜-–—:：·")
    try:
        return title, _date_of(match), None
    except ValueError:
        return title, None, f"invalid date {match[0]!r} in the header"


def find_date(text: str) -> dt.date | None:
    """The first valid date in a short text (a paragraph under the title), or None."""
    for match in _DATE.finditer(text):
        try:
            return _date_of(match)
        except ValueError:
            continue
    return None


def date_in_name(name: str) -> dt.date | None:
    """A date in a file name (``2026-02-03.md``, ``2026-2-2.md``), used when the text has none."""
    return find_date(name)


def front_matter(lines: list[str]) -> tuple[int, dict[str, str]]:
    """YAML front matter at the top (``---`` … ``---``): (lines it takes, its scalar keys).

    Only flat ``key: value`` pairs are read (``date``, ``title``); (0, {}) when there is none.
    """
    if not lines or lines[0].strip() != "---":
        return 0, {}
    for end in range(1, min(len(lines), 60)):
        if lines[end].strip() in ("---", "..."):
            found: dict[str, str] = {}
            for line in lines[1:end]:
                match = _FRONT_KEYS.match(line.strip())
                if match is not None:
                    found[match["key"].lower()] = match["value"].strip().strip("\"'")
            return end + 1, found
    return 0, {}


def parse_time(value: str, day: dt.date | None = None) -> dt.datetime:
    """A date with an optional time (``2026-02-03 18:35``, ``2026年2月3日 9:05``, ``T``,
    seconds, a trailing ``UTC``) → naive datetime; a time alone takes ``day``."""
    text = value.strip().strip("*_` ")
    match = _DATE.match(text)
    rest = text[match.end() :] if match else text
    clock = _CLOCK.match(rest.lstrip(" T"))
    if match is None and (clock is None or day is None):
        raise FieldError(f"unparseable time {value!r} (expected YYYY-MM-DD HH:MM)")
    try:
        date = _date_of(match) if match is not None else day
        assert date is not None
        if clock is None:
            return dt.datetime(date.year, date.month, date.day)
        return dt.datetime(
            date.year,
            date.month,
            date.day,
            int(clock["H"]),
            int(clock["M"]),
            int(clock["S"] or 0),
        )
    except ValueError as exc:
        raise FieldError(f"invalid time {value!r}: {exc}") from exc
