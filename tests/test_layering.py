"""The domain stays the domain: nothing under smartcrop/ imports the parts above it.

``api``, ``pipelines`` and ``assets`` import ``smartcrop``; the ``smartcrop`` command
(``smartcrop_cli``) imports them all. An import the other way, even one inside a
function, makes a circle (the CLI once lived in ``smartcrop/`` and imported ``api``).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DOMAIN = REPO_ROOT / "smartcrop"
ABOVE_THE_DOMAIN = {"api", "pipelines", "assets", "smartcrop_cli"}


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
