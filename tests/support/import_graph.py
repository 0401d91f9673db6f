"""The import graph of our packages: modules, their imports, circles, and the map of
features drawn in docs/architecture.md (``python -m tests.support.import_graph``
prints it)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("smartcrop", "smartcrop_cli", "api", "pipelines", "assets", "resources")
# The small core every feature may use; drawn as one box without its arrows.
CORE = {
    "settings",
    "db",
    "errors",
    "logging_setup",
    "lookups",
    "netfetch",
    "migrations",
}


def _under_type_checking(tree: ast.AST) -> set[int]:
    """Nodes inside ``if TYPE_CHECKING:``: imports for the type checker only."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(child) for child in ast.walk(node))
    return inside


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
        package = (
            name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        )
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


def feature_of(module: str) -> str | None:
    """``smartcrop.identity.users`` -> ``smartcrop.identity``, ``api.deps`` -> ``api``;
    the core's modules -> ``smartcrop core``."""
    parts = module.split(".")
    if parts[0] != "smartcrop":
        return parts[0]
    if len(parts) == 1:
        return None
    return "smartcrop core" if parts[1] in CORE else f"smartcrop.{parts[1]}"


def feature_map(graph: dict[str, set[str]]) -> str:
    """A Mermaid flowchart of which feature imports which (arrows to the core left out:
    every feature uses it)."""
    edges: set[tuple[str, str]] = set()
    nodes: set[str] = set()
    for module, targets in graph.items():
        source = feature_of(module)
        if source is None:
            continue
        nodes.add(source)
        for target in targets:
            to = feature_of(target)
            if to is None or to == source or to == "smartcrop core":
                continue
            edges.add((source, to))

    def node(name: str) -> str:
        return name.replace(".", "_").replace(" ", "_") + f'["{name}"]'

    lines = ["flowchart LR"]
    lines += [f"  {node(a)} --> {node(b)}" for a, b in sorted(edges)]
    lines += [f"  {node(n)}" for n in sorted(nodes - {n for e in edges for n in e})]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(feature_map(import_graph(REPO_ROOT, OUR_PACKAGES)), end="")
