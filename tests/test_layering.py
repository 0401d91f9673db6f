"""The layers stay layers: the domain imports nothing above it, and no modules import
each other in a circle.

``api``, ``pipelines``, ``assets`` and ``resources`` import ``smartcrop``; the
``smartcrop`` command (``smartcrop_cli``) imports them all. The domain knows neither
Dagster nor FastAPI: an import the other way, even one inside a function, makes a
circle (the CLI once lived in ``smartcrop/`` and imported ``api``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DOMAIN = REPO_ROOT / "smartcrop"
ABOVE_THE_DOMAIN = {
    "api",
    "pipelines",
    "assets",
    "resources",
    "smartcrop_cli",
    "dagster",
    "dagster_graphql",
    "dagster_webserver",
    "dagster_postgres",
    "dagster_aws",
    "fastapi",
    "starlette",
    "uvicorn",
}
OUR_PACKAGES = ("smartcrop", "smartcrop_cli", "api", "pipelines", "assets", "resources")


def _under_type_checking(tree: ast.AST) -> set[int]:
    """Nodes inside ``if TYPE_CHECKING:``: imports for the type checker only."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(child) for child in ast.walk(node))
    return inside


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every absolute module name imported anywhere in the tree, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (at run time, anywhere in the file).

    ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to
    ``a.b``; an import of a module we do not have climbs to its nearest package of
    ours (``a.b.missing`` -> ``a.b``). Imports under ``if TYPE_CHECKING:`` never run
    and are left out.
    """
    files = {
        module_name(root, path): path
        for package in packages
        for path in (root / package).rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        skip = _under_type_checking(tree)
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package[: len(package) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in files else base)
        edges = set()
        for target in targets:
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_domain_imports_nothing_above_it() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) > 40  # the walk really found the package
    wrong = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
        for path in files
        for line, name in imported_modules(ast.parse(path.read_text(), str(path)))
        if name.split(".")[0] in ABOVE_THE_DOMAIN
    ]
    assert not wrong, "\n".join(wrong)


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = import_graph(REPO_ROOT, OUR_PACKAGES)
    assert len(graph) > 150  # every package was walked
    assert "smartcrop.identity.tokens" in graph["api.deps"]
    found = circles(graph)
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_check_sees_imports_inside_functions() -> None:
    source = (
        "def f():\n"
        "    from api.app import create_app\n"
        "    import pipelines.runner\n"
        "    importlib.import_module('assets.ingestion')\n"
        "from . import sibling\n"
    )
    names = [name for _, name in imported_modules(ast.parse(source))]
    assert names == ["api.app", "pipelines.runner", "assets.ingestion"]


def test_the_circle_check_finds_a_circle_through_a_package(tmp_path: Path) -> None:
    """A module importing its own package's ``__init__``, which imports it back, is a
    circle; so is one through a function-level import. A TYPE_CHECKING import is not."""
    pkg = tmp_path / "shop"
    (pkg / "orders").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "orders" / "__init__.py").write_text("from shop.orders.cart import add\n")
    (pkg / "orders" / "cart.py").write_text("from shop.orders import pricing\n")
    (pkg / "orders" / "pricing.py").write_text(
        "def price():\n    from shop.orders import cart\n"
    )
    (pkg / "stock.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from shop.orders import cart\n"
    )
    graph = import_graph(tmp_path, ["shop"])
    assert graph["shop.orders"] == {"shop.orders.cart"}
    assert graph["shop.stock"] == set()
    assert circles(graph) == [["shop.orders.cart", "shop.orders.pricing"]]
