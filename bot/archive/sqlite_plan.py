"""The SQLite search plan: one page of hits, or a count, without touching every match.

SQLite has no planner that weighs text indexes, and items rows are wide, so touching each
match is what costs. ``SqlitePlan`` therefore plans (all orders use covering indexes named
with INDEXED BY); its conditions come from ``bot.archive.conditions`` and its limits from
``PlanLimits``; ``bot.archive.search`` calls it:

1. **Recent window.** Test the newest ~1000 items in result order; if a page's worth
   matches, that is the answer (every older item sorts after them). Common terms end here.
2. **Index sets.** Otherwise estimate each term's frequency from the window and read id
   sets, most selective first: tags, sources and one-word terms (``RL``, ``agent``) from
   their indexes (``item_words`` for words: exact, and a cheap per-row test, since it
   never reads the wide row), other free text from the FTS5 trigram index
   (``bot.archive.sqlite_text``). Intersect them until few candidates remain; test the
   rest of the query per row.
3. **Order.** Sort a few candidates on the by-id index; meet many by walking newest first;
   with no usable set, walk newest first testing every term.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    Select,
    Text,
    and_,
    case,
    exists,
    func,
    literal_column,
    not_,
    select,
    text,
)

from bot.archive.conditions import (
    capped_count,
    column_condition,
    needs_words,
    one_word,
    order_by,
    tag_ids,
    word_condition,
)
from bot.archive.plan_limits import PlanLimits
from bot.archive.schema import items
from bot.archive.sqlite_text import TextSets
from bot.query import TEXT, Clause, Query, TagAliases, fold, name_key

#: Covering indexes (bot/archive/schema.py) the SQLite plan names explicitly.
NEWEST_INDEX = "ix_items_newest"
BY_ID_INDEX = "ix_items_by_id"
TAGS_BY_ITEM_INDEX = "ix_item_tags_item"


#: ``items`` columns as bare SQL, so a FROM can carry SQLite's ``INDEXED BY``.
_C = SimpleNamespace(
    id=literal_column("items.id", Integer),
    date=literal_column("items.date", Date),
    stars=literal_column("items.stars", Integer),
    rank=literal_column("items.rank", Integer),
    source_norm=literal_column("items.source_norm", Text),
    orgs_text=literal_column("items.orgs_text", Text),
    category_norm=literal_column("items.category_norm", Text),
    search_text=literal_column("items.search_text", Text),
)


_TAG_ITEM = literal_column("item_tags.item_id", Integer)
_WORD_ITEM = literal_column("item_words.item_id", Integer)
_WORD = literal_column("item_words.word", Text)
#: The unary ``+`` keeps SQLite from seeking once per alias.
_TAG_NAME_UNINDEXED = literal_column("+item_tags.normalized", Text)


class SqlitePlan:
    """One SQLite search: the recent window, then narrowing through the indexes."""

    def __init__(
        self,
        conn: Connection,
        query: Query,
        aliases: TagAliases,
        limits: PlanLimits | None = None,
        *,
        words: bool = True,
    ) -> None:
        self.conn = conn
        self.limits = limits or PlanLimits()
        self.words = words
        self.query = query
        self.aliases = aliases
        self.texts = TextSets(conn, self.limits, words=words)

    def ids(self, limit: int, offset: int) -> list[int]:
        need = limit + offset
        estimates: dict[Clause, float] | None = None
        if need <= self.limits.window_rows // 4 and self.query.clauses:
            found, oldest = self._recent(need)
            if len(found) >= need or oldest is None:
                return found[offset:]
            estimates = self._estimates(oldest)
            # Few hits in the window: scanning on would be long, so read bigger sets.
            big = len(found) * 4 < need
        candidates, rest = self._candidates(estimates, big=estimates is None or big)
        probes = self._probes(rest)
        if candidates is None:
            stmt = self._select(NEWEST_INDEX, probes)
        elif not candidates:
            return []
        elif len(candidates) <= self.limits.sort_at_most:
            stmt = self._select(BY_ID_INDEX, [_in_ids(candidates), *probes])
        else:
            # Many candidates: walking newest first meets a page of them sooner than
            # sorting them all.
            stmt = self._select(NEWEST_INDEX, [_in_ids(candidates), *probes])
        return list(self.conn.execute(stmt.limit(limit).offset(offset)).scalars())

    def _recent(self, need: int) -> tuple[list[int], Any]:
        """The first ``need`` hits among the newest items (fewer items when a text term must
        read each row), and the date just before that window (None: the whole archive)."""
        size = (
            self.limits.window_rows
            if not any(self._reads_text(c) for c in self.query.clauses)
            else self.limits.window_text
        )
        oldest = self.conn.execute(
            self._from(select(_C.date), NEWEST_INDEX).order_by(_C.date.desc()).limit(1).offset(size)
        ).scalar()
        window = [] if oldest is None else [_C.date > oldest]
        recent = self._select(NEWEST_INDEX, [*window, *self._probes(self.query.clauses)])
        return list(self.conn.execute(recent.limit(need)).scalars()), oldest

    def _reads_text(self, clause: Clause) -> bool:
        """Does testing this clause on a row read the row's (wide) text?"""
        return clause.key == TEXT and one_word(clause, self.words) is None

    def _setlike(self, clause: Clause) -> bool:
        """Tags, sources and one-word terms: exact id sets from their own indexes."""
        return clause.key in ("tag", "source") or one_word(clause, self.words) is not None

    def _estimates(self, oldest: Any) -> dict[Clause, float]:
        """How many items each positive tag, source and word clause should match in the
        archive, extrapolated from the window (cheap tests on cached index pages; other text
        terms would have to read every row, so their own index tells instead)."""
        clauses = [c for c in self.query.clauses if not c.negated and self._setlike(c)]
        if not clauses:
            return {}
        sums = [func.sum(case((self._probe(c), 1), else_=0)) for c in clauses]
        stmt = self._from(select(func.count(), func.max(_C.id), *sums), NEWEST_INDEX)
        row = self.conn.execute(stmt.where(_C.date > oldest)).one()
        rows, total = row[0] or 1, row[1] or 0
        return {c: (hits or 0) * total / rows for c, hits in zip(clauses, row[2:], strict=True)}

    def _candidates(
        self, estimates: dict[Clause, float] | None, *, big: bool
    ) -> tuple[set[int] | None, list[Clause]]:
        """Intersect the id sets the indexes give for positive clauses, rarest first, until
        few candidates are left; a clause whose set is too large to be worth reading
        (``big`` allows larger tag and source sets) is left to be tested per row instead.
        None if no set was read; also returns the clauses left to test."""
        known = estimates or {}
        positive = [
            c for c in self.query.clauses if not c.negated and c.key in ("tag", "source", TEXT)
        ]
        positive.sort(key=lambda c: (not self._setlike(c), known.get(c, 0), -len(str(c.values[0]))))
        candidates: set[int] | None = None
        used: list[Clause] = []
        for clause in positive:
            if candidates is not None and len(candidates) <= self.limits.probe_enough:
                break
            if not self._setlike(clause):
                alone = candidates is None and big and not known
                cap = self.limits.text_set_cap if alone else self.limits.narrow_cap
            else:
                cap = self.limits.count_at_most if big else self.limits.set_read_max
                if known.get(clause, 0) >= cap:
                    continue
            ids = self._ids_of(clause, cap)
            if ids is None or len(ids) >= cap:
                continue
            candidates = set(ids) if candidates is None else candidates & set(ids)
            if not needs_words(clause, self.words):
                used.append(clause)  # a substring set is a superset: still tested per row
        return candidates, [c for c in self.query.clauses if c not in used]

    def _probes(self, clauses: Sequence[Clause]) -> list[ColumnElement[bool]]:
        """Per-row tests, cheapest first: SQLite tests them in order; a tag or a word is one
        seek, and only a text term that is not one word reads the (wide) row."""

        def cost(clause: Clause) -> int:
            if self._reads_text(clause):
                return 2
            return 1 if clause.key in ("tag", TEXT) else 0

        return [self._probe(c) for c in sorted(clauses, key=cost)]

    def count(self, cap: int | None = None) -> int:
        clauses = self.query.clauses
        if len(clauses) == 1 and clauses[0].key in ("tag", "source", TEXT):
            clause = Clause(clauses[0].key, clauses[0].values)
            if not clauses[0].negated:
                direct = self._direct_count(clause, cap)
                if direct is not None:
                    return direct
            elif cap is None:
                direct = self._direct_count(clause)
                if direct is not None:
                    total = self.conn.execute(select(func.count()).select_from(items)).scalar_one()
                    return int(total) - direct
        candidates, rest = self._candidates(None, big=True)
        if candidates is not None and not candidates:
            return 0
        small = candidates is not None and len(candidates) <= self.limits.count_at_most
        if candidates is not None and small and not any(self._reads_text(c) for c in rest):
            return self._count_rows(BY_ID_INDEX, [_in_ids(candidates), *self._probes(rest)], cap)
        # Only common terms: let each index hand over all of its ids.
        conditions, driven = self._indexed()
        return self._count_rows(None if driven else NEWEST_INDEX, conditions, cap)

    def _count_rows(
        self, index: str | None, conditions: Sequence[ColumnElement[bool]], cap: int | None
    ) -> int:
        """Count the items meeting ``conditions``, reading at most ``cap`` of them."""
        what = func.count() if cap is None else literal_column("1")
        stmt = self._from(select(what), index)
        if conditions:
            stmt = stmt.where(and_(*conditions))
        if cap is None:
            return int(self.conn.execute(stmt).scalar_one())
        return capped_count(self.conn, stmt, cap)

    def _from(self, stmt: Select[Any], index: str | None) -> Select[Any]:
        hint = f" INDEXED BY {index}" if index else ""
        return stmt.select_from(text(f"items{hint}"))

    def _select(self, index: str | None, conditions: Sequence[ColumnElement[bool]]) -> Select[Any]:
        stmt = self._from(select(_C.id), index).order_by(*order_by(_C))
        return stmt.where(and_(*conditions)) if conditions else stmt

    def _probe(self, clause: Clause) -> ColumnElement[bool]:
        """A per-row condition: cheap when only a few rows are tested."""
        word = one_word(clause, self.words)
        if word is not None:
            # One seek on item_words' key (item_id, word): the item's text is not read.
            condition: ColumnElement[bool] = exists(
                select(literal_column("1"))
                .select_from(text("item_words"))
                .where(_C.id == _WORD_ITEM, word == _WORD)
            )
        elif clause.key == "tag":
            # One seek to the item's few tags (not one per alias), on the covering index.
            variants = sorted(set().union(*(self.aliases.variants(str(v)) for v in clause.values)))
            condition = exists(
                select(literal_column("1"))
                .select_from(text(f"item_tags INDEXED BY {TAGS_BY_ITEM_INDEX}"))
                .where(_C.id == _TAG_ITEM, _TAG_NAME_UNINDEXED.in_(variants))
            )
        elif clause.key == TEXT:
            term = fold(str(clause.values[0]))
            condition = func.instr(_C.search_text, term) > 0
            boundary = word_condition(_C.search_text, term, "sqlite")
            if boundary is not None:
                condition = and_(condition, boundary)
        elif clause.key == "source":
            # `|| ''` keeps SQLite on the ordered index instead of the source index.
            names = sorted({name_key(str(v)) for v in clause.values})
            condition = _C.source_norm.concat("").in_(names)
        else:
            condition = column_condition(_C, clause)
        return not_(condition) if clause.negated else condition

    def _ids_of(self, clause: Clause, cap: int | None = None) -> list[int] | None:
        """Ids of a positive clause's items (at most ``cap``), or None if no index helps."""
        stmt = self._id_select(clause)
        if stmt is None:
            return None
        # One JSON row instead of thousands of result rows: the Python side costs more.
        capped = (stmt if cap is None else stmt.limit(cap)).subquery()
        packed = select(func.json_group_array(capped.c[0]))
        return json.loads(self.conn.execute(packed).scalar_one())

    def _id_select(self, clause: Clause) -> Select[Any] | None:
        if clause.key == "tag":
            return tag_ids(clause, self.aliases)
        if clause.key == "source":
            names = sorted({name_key(str(v)) for v in clause.values})
            return select(items.c.id).where(items.c.source_norm.in_(names))
        if clause.key == TEXT:
            return self.texts.ids(fold(str(clause.values[0])), exact=False)
        return None

    def _direct_count(self, clause: Clause, cap: int | None = None) -> int | None:
        """Count one positive clause straight from its index (None if none helps)."""
        rows: Select[Any] | None
        if clause.key == "tag":
            ids = tag_ids(clause, self.aliases)
            if cap is None:
                distinct = select(func.count(ids.subquery().c.item_id.distinct()))
                return int(self.conn.execute(distinct).scalar_one())
            rows = ids.distinct()
        elif clause.key == "source":
            names = sorted({name_key(str(v)) for v in clause.values})
            rows = select(items.c.id).where(items.c.source_norm.in_(names))
        else:
            rows = self.texts.ids(fold(str(clause.values[0])))
        if rows is None:
            return None
        if cap is not None:
            return capped_count(self.conn, rows, cap)
        return int(
            self.conn.execute(select(func.count()).select_from(rows.subquery())).scalar_one()
        )

    def _indexed(self) -> tuple[list[ColumnElement[bool]], bool]:
        """Every clause as an index-backed id set where possible (for counting many
        matches); whether some positive id set drives the scan."""
        conditions: list[ColumnElement[bool]] = []
        driven = False
        for clause in self.query.clauses:
            ids: Select[Any] | None = None
            if clause.key == "tag":
                ids = tag_ids(clause, self.aliases)
            elif clause.key == TEXT:
                ids = self.texts.ids(fold(str(clause.values[0])), exact=False)
            if ids is None:
                conditions.append(self._probe(clause))
                continue
            condition = _C.id.in_(ids)
            if needs_words(clause, self.words):
                # The superset from the index, the boundary on each of its rows: a capped
                # count stops reading at the cap.
                boundary = word_condition(_C.search_text, fold(str(clause.values[0])), "sqlite")
                condition = and_(condition, boundary)
            conditions.append(not_(condition) if clause.negated else condition)
            driven = driven or not clause.negated
        return conditions, driven


def _in_ids(ids: set[int]) -> ColumnElement[bool]:
    """``items.id IN (...)`` with the ids as one JSON parameter (binding a thousand
    parameters one by one costs more than the query)."""
    values = select(literal_column("value", Integer)).select_from(
        func.json_each(json.dumps(sorted(ids)))
    )
    return _C.id.in_(values)
