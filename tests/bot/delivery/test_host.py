"""``DeliveryHost`` says exactly what ``backlog`` and ``addendum`` use of the deliverer, and
the real ``Deliverer`` provides it (the project runs no type checker, so this test does)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from pathlib import Path

from bot.delivery import Deliverer
from bot.delivery.host import DeliveryHost
from tests.support.delivery_world import World

DELIVERY = Path(__file__).resolve().parents[3] / "bot" / "delivery"
METHODS = {"transport", "held", "deliver", "deliver_addenda"}


def _used(module: str) -> set[str]:
    """Every ``deliverer.NAME`` in a module."""
    tree = ast.parse((DELIVERY / module).read_text(encoding="utf-8"))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "deliverer"
    }


def _members() -> set[str]:
    return set(DeliveryHost.__annotations__) | METHODS


def test_the_protocol_is_exactly_what_the_steps_use() -> None:
    assert _used("backlog.py") | _used("addendum.py") == _members()
    functions = inspect.getmembers(DeliveryHost, inspect.isfunction)
    assert {name for name, _ in functions if not name.startswith("_")} == METHODS


def test_the_deliverer_provides_every_member_with_compatible_calls(
    make_world: Callable[..., World],
) -> None:
    deliverer = make_world([{"platform": "slack", "id": "C1"}]).deliverer
    assert isinstance(deliverer, Deliverer)
    for name in DeliveryHost.__annotations__:
        assert hasattr(deliverer, name), name
    assert callable(deliverer.clock)
    for name in METHODS:
        wanted = inspect.signature(getattr(DeliveryHost, name)).parameters
        given = inspect.signature(getattr(Deliverer, name)).parameters
        assert inspect.iscoroutinefunction(getattr(DeliveryHost, name)) == (
            inspect.iscoroutinefunction(getattr(Deliverer, name))
        ), name
        for param in wanted.values():
            assert param.name in given, f"Deliverer.{name} lacks {param.name}"
            assert given[param.name].kind == param.kind, f"Deliverer.{name}({param.name})"
            if param.default is not inspect.Parameter.empty:
                assert given[param.name].default == param.default, f"{name}({param.name})"
        extra = [p for p in given.values() if p.name not in wanted]
        assert all(p.default is not inspect.Parameter.empty for p in extra), name
