"""The tree shows the architecture: layers, no cycles, public names, one error tree.

Every ``import`` of ``bot/`` and ``formatters/`` is read with ``ast``, wherever it is:
module level, inside functions, under ``TYPE_CHECKING``. docs/architecture.md documents
the same layer order (``LAYERS``); a change to one must change the other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: Each layer imports only from itself and the layers before it (docs/architecture.md).
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "bot",
        "bot.errors",
        "bot.models",
        "bot.cron",
        "bot.registry",
        "bot.config",
        "bot.metrics",
        "bot.redact",
        "bot.logs",
    ),
    ("bot.query",),
    ("bot.ingest",),
    ("bot.archive",),
    ("bot.channels",),
    ("bot.chat",),
    ("bot.delivery",),
    ("formatters",),
    ("bot.platforms",),
    ("bot.web",),
    ("bot.runtime",),
    ("bot.cli", "bot.__main__"),
)
#: Libraries worth importing inside a function, so that a setup without them never pays.
HEAVY = ("slack_sdk", "slack_bolt", "telegram", "aiohttp", "lark_oapi", "matplotlib")
MAX_TOP_LEVEL_MODULES = 10
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (``from a.b import c`` → ``a.b.c`` if that is a module)
    names: tuple[str, ...]  # the names taken from ``target`` (empty for ``import a.b``)
    line: int
    in_function: bool
    from_package: str  # what the statement names: ``a.b`` in ``from a.b import c``


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    files = sorted(
        [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("formatters").rglob("*.py")]
    )
    return {_module_name(path): path for path in files}


def _in_function(tree: ast.AST) -> set[int]:
    """ids of import nodes that sit inside a function body."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    return inside


@cache
def imports() -> tuple[Import, ...]:
    found: list[Import] = []
    known = modules()
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside = _in_function(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(
                        Import(name, alias.name, (), node.lineno, id(node) in inside, alias.name)
                    )
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    target, names = (submodule, ()) if submodule in known else (base, (alias.name,))
                    found.append(Import(name, target, names, node.lineno, id(node) in inside, base))
    return tuple(found)


def _project(target: str) -> str | None:
    """The project module an import lands in (a name inside a module counts as the module)."""
    known = modules()
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in modules()}
    for imp in imports():
        target = _project(imp.target)
        if target is not None and target != imp.source:
            edges[imp.source].add(target)
    return edges


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            matches = module == prefix or (prefix != "bot" and module.startswith(prefix + "."))
            if matches and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS and the docs"
    return best[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _where(imp: Import) -> str:
    return f"{modules()[imp.source].relative_to(ROOT)}:{imp.line}"


def test_the_graph_is_read() -> None:
    edges = graph()
    assert "bot.delivery.deliverer" in edges["bot.delivery"]
    assert any(imp.in_function for imp in imports())


def test_no_import_cycles_counting_imports_inside_functions() -> None:
    assert _cycles(graph()) == []


def test_a_cycle_would_be_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_layer_imports_only_earlier_layers() -> None:
    upward = [
        f"{_where(imp)}: {imp.source} imports {target}"
        for imp in imports()
        if (target := _project(imp.target)) is not None and layer_of(target) > layer_of(imp.source)
    ]
    assert upward == []


def _heavy_modules() -> set[str]:
    """Project modules that import a heavy library at module level (directly or not)."""
    edges: dict[str, set[str]] = {name: set() for name in modules()}
    heavy: set[str] = set()
    for imp in imports():
        if imp.in_function:
            continue
        if imp.target.split(".")[0] in HEAVY:
            heavy.add(imp.source)
        elif (target := _project(imp.target)) is not None and target != imp.source:
            edges[imp.source].add(target)
    changed = True
    while changed:
        more = {name for name, targets in edges.items() if targets & heavy} - heavy
        heavy |= more
        changed = bool(more)
    return heavy


def test_imports_inside_functions_only_defer_heavy_libraries() -> None:
    heavy = _heavy_modules()
    needless = [
        f"{_where(imp)}: {imp.target}"
        for imp in imports()
        if imp.in_function
        and imp.target.split(".")[0] not in HEAVY
        and _project(imp.target) not in heavy
    ]
    assert needless == []


def _packages() -> list[str]:
    return [
        name for name, path in modules().items() if path.name == "__init__.py" and name != "bot"
    ]


@cache
def _exports(package: str) -> frozenset[str]:
    tree = ast.parse(modules()[package].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def _outside_imports() -> Iterator[tuple[Import, str]]:
    """Imports that reach into a package from outside it, with that package."""
    for imp in imports():
        for package in _packages():
            inside = imp.source == package or imp.source.startswith(package + ".")
            if not inside and (
                imp.from_package == package or imp.from_package.startswith(package + ".")
            ):
                yield imp, package


def test_code_outside_a_package_uses_only_its_public_names() -> None:
    private = []
    for imp, package in _outside_imports():
        if imp.from_package != package:
            # ``from bot.archive.store import Archive``: reaching past the package's door.
            # A subpackage (``bot.platforms.slack``) is a package of its own, and a plain
            # ``import bot.platforms`` takes the package itself.
            if imp.from_package not in _packages() and imp.names:
                private.append(f"{_where(imp)}: {imp.from_package} (use {package})")
            continue
        for name in imp.names:
            if name not in _exports(package):
                private.append(f"{_where(imp)}: {package}.{name} is not in its __all__")
    assert private == []


def test_every_package_states_its_public_names() -> None:
    for package in _packages():
        init = modules()[package].read_text(encoding="utf-8")
        assert '"""' in init.split("\n", 1)[0] and "TODO" not in init, f"{package}: docstring"
    assert all(_exports(p) for p in ("bot.archive", "bot.chat", "bot.delivery", "formatters"))


def test_bot_has_at_most_ten_top_level_modules() -> None:
    top = sorted(path.name for path in ROOT.joinpath("bot").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_is_over_400_lines(module: str) -> None:
    lines = modules()[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module}: {lines} lines"


def test_every_exception_class_is_in_bot_errors() -> None:
    errors_tree = ast.parse(ROOT.joinpath("bot/errors.py").read_text(encoding="utf-8"))
    known = {n.id for n in ast.walk(errors_tree) if isinstance(n, ast.Name)} | {
        "Exception",
        "BaseException",
    }
    known |= {c.name for c in ast.walk(errors_tree) if isinstance(c, ast.ClassDef)}
    elsewhere = []
    for name, path in modules().items():
        if name == "bot.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
            }
            if any(b in known or b.endswith(("Error", "Exception")) for b in bases):
                elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}")
    assert elsewhere == []


def test_the_documented_layers_are_these() -> None:
    doc = ROOT.joinpath("docs/architecture.md").read_text(encoding="utf-8")
    order = " → ".join(
        "core" if index == 0 else layer[0].removeprefix("bot.")
        for index, layer in enumerate(LAYERS)
    )
    assert order in doc, f"docs/architecture.md must state the layer order: {order}"


def _package(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "formatters":
        return "formatters"
    if parts[1:2] and any(parts[1] == layer[0].removeprefix("bot.") for layer in LAYERS[1:]):
        return "cli" if module == "bot.__main__" else parts[1]
    return "core"


def test_the_documented_graph_is_the_real_one() -> None:
    doc = ROOT.joinpath("docs/architecture.md").read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    for line in doc.splitlines():
        name, arrow, targets = line.partition(" → ")
        if arrow and name.strip().isidentifier() and ("," in targets or targets == "core"):
            documented[name.strip()] = {t.strip() for t in targets.split(",")}
    real: dict[str, set[str]] = {}
    for source, targets in graph().items():
        for target in targets:
            a, b = _package(source), _package(target)
            if a != b and a != "core":
                real.setdefault(a, set()).add(b)
    assert documented == real


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("formatters", "bot.config"),  # formatters are handed what they need
        ("bot.chat.replies", "bot.archive.subscriptions"),  # replies carry no storage rows
        ("bot.delivery", "formatters"),  # delivery is handed templates and transports
    ],
)
def test_no_arrow_into(importer: str, forbidden: str) -> None:
    found = [
        f"{_where(imp)}: {imp.target}"
        for imp in imports()
        if (imp.source == importer or imp.source.startswith(importer + "."))
        and (target := _project(imp.target)) is not None
        and (target == forbidden or target.startswith(forbidden + "."))
    ]
    assert found == []
