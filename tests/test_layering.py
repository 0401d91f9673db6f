"""The layers stay layers: the domain imports nothing above it, and no modules import
each other in a circle.

``api``, ``pipelines``, ``assets`` and ``resources`` import ``smartcrop``; the
``smartcrop`` command (``smartcrop_cli``) imports them all. The domain knows neither
Dagster nor FastAPI: an import the other way, even one inside a function, makes a
circle (the CLI once lived in ``smartcrop/`` and imported ``api``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.import_graph import (
    OUR_PACKAGES,
    circles,
    feature_map,
    feature_of,
    import_graph,
)

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


def test_the_architecture_doc_draws_the_features_as_they_import_each_other() -> None:
    """docs/architecture.md's map is the one drawn from the imports: it stays true."""
    drawn = feature_map(import_graph(REPO_ROOT, OUR_PACKAGES))
    doc = (REPO_ROOT / "docs" / "architecture.md").read_text()
    assert f"```mermaid\n{drawn}```" in doc, (
        "docs/architecture.md's feature map is out of date; replace it with the output"
        " of: python -m tests.support.import_graph\n" + drawn
    )


def test_the_core_imports_no_feature_but_the_state_names() -> None:
    """Settings, the database and the other core modules sit under every feature. The
    one feature module they may read is ``workflow.states``, the single definition of
    the work-item states that the schema's checks and partial indexes name; it
    imports nothing of the features in turn."""
    graph = import_graph(REPO_ROOT, OUR_PACKAGES)
    allowed = {"smartcrop.workflow.states", "smartcrop.workflow.audit"}
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if feature_of(module) == "smartcrop core"
        for target in targets
        if feature_of(target) not in (None, "smartcrop core") and target not in allowed
    )
    assert not wrong, "\n".join(wrong)
    state_imports = {
        target
        for target in graph["smartcrop.workflow.states"]
        | graph["smartcrop.workflow.audit"]
    }
    assert all(
        feature_of(target) == "smartcrop core" or target in allowed
        for target in state_imports
    ), state_imports
