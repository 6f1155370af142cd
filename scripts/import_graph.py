"""The import graph of ``app``: every import at any depth (inside functions too), except those
under ``if TYPE_CHECKING:``. Prints the strongly connected components (the import cycles) and the
imports that hold them together; exits 1 if there is any cycle (``make lint`` runs it).

An import ``from app.x import y`` counts as an edge to ``app.x.y`` when that is a module, else to
``app.x``; importing ``app.x.y`` also imports the package ``app.x`` (its ``__init__``), so that edge
is counted as well.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "app"


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, depth: int) -> Iterator[tuple[ast.Import | ast.ImportFrom, int]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:
                yield from _imports(orelse, depth)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, depth
        inner = depth + 1 if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else depth
        yield from _imports(child, inner)


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], bool]]:
    """Edges, and for each edge whether every import making it sits inside a function."""
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    deferred: dict[tuple[str, str], bool] = {}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        for node, depth in _imports(tree, 0):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base_parts = name.split(".") if is_package else name.split(".")[:-1]
                if node.level:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in known else base)
            for target in targets:
                for candidate in [*_parents(target), target]:
                    if candidate in known and candidate != name and not name.startswith(candidate + "."):
                        edges[name].add(candidate)
                        key = (name, candidate)
                        deferred[key] = deferred.get(key, True) and depth > 0
    return edges, deferred


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(result, key=len, reverse=True)


def imports_in_functions() -> int:
    """How many import statements of ``app`` modules sit inside a function."""
    count = 0
    for path in modules().values():
        for node, depth in _imports(ast.parse(path.read_text()), 0):
            if depth == 0:
                continue
            if isinstance(node, ast.ImportFrom):
                count += node.level > 0 or (node.module or "").split(".")[0] == PACKAGE
            else:
                count += any(alias.name.split(".")[0] == PACKAGE for alias in node.names)
    return count


def main() -> int:
    edges, deferred = graph()
    cycles = strongly_connected(edges)
    total_edges = sum(len(t) for t in edges.values())
    print(
        f"{len(edges)} modules, {total_edges} import edges, {len(cycles)} import cycle(s); "
        f"{imports_in_functions()} imports of app modules inside functions"
    )
    for component in cycles:
        members = set(component)
        inner = [(a, b) for a in component for b in sorted(edges[a]) if b in members]
        in_functions = sum(1 for edge in inner if deferred[edge])
        print(
            f"\ncycle of {len(component)} modules "
            f"({in_functions} of its {len(inner)} edges are imports in functions):"
        )
        for a, b in inner:
            print(f"  {a} -> {b}{'   (in a function)' if deferred[(a, b)] else ''}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
