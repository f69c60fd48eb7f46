"""Figures of the package's layering (issue 19), from the code's own imports.

Every ``.py`` under ``flowlab/`` but ``migrations/versions`` counts; an import anywhere
in a file counts, lazy ones inside functions too. Prints the modules that import flask
or werkzeug, those that read ``current_app`` or ``g``, the import cycles between
modules, and the modules over 250 lines. ``python -m tests.layers`` prints them;
``tests/test_layers.py`` holds them.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flowlab"
LONG = 250


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "versions" in path.relative_to(PACKAGE).parts[:-1]:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The names a module imports, resolved to modules of the package or outside."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names
                       if f"{base}.{a.name}" in known)
    return out


def reads_ambient(path: Path) -> bool:
    """Whether a module reads Flask's ``current_app`` or ``g``."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            if {a.name for a in node.names} & {"current_app", "g"}:
                return True
        if (isinstance(node, ast.Attribute) and node.attr in {"current_app", "g"}
                and isinstance(node.value, ast.Name) and node.value.id == "flask"):
            return True
    return False


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def figures() -> dict:
    known = modules()
    raw = {name: imports(name, path, known) for name, path in known.items()}
    graph = {}
    for name, names in raw.items():
        # ``import a.b.c`` loads a and a.b too: an edge to each package on the way.
        edges = set()
        for target in names:
            parts = target.split(".")
            edges.update(".".join(parts[:i]) for i in range(1, len(parts) + 1)
                         if ".".join(parts[:i]) in known)
        edges.discard(name)
        # A package's own __init__ is loaded before its modules: not a cycle.
        graph[name] = {t for t in edges if not name.startswith(t + ".")}
    flask = sorted(n for n, names in raw.items()
                   if any(t.split(".")[0] in {"flask", "werkzeug"} for t in names))
    return {
        "modules": len(known),
        "flask": flask,
        "ambient": sorted(n for n, p in known.items() if reads_ambient(p)),
        "cycles": cycles(graph),
        "long": sorted((len(p.read_text().splitlines()), n) for n, p in known.items()
                       if len(p.read_text().splitlines()) > LONG),
    }


def main() -> None:
    f = figures()
    print(f"modules: {f['modules']}")
    print(f"import flask or werkzeug: {len(f['flask'])} "
          f"({len(f['flask']) / f['modules']:.0%}; at most a third)")
    print(f"read current_app or g: {len(f['ambient'])} (at most 4, all in web/): "
          + ", ".join(f["ambient"]))
    print(f"import cycles: {len(f['cycles'])}")
    for group in f["cycles"]:
        print("  " + " <-> ".join(group))
    print(f"modules over {LONG} lines: {len(f['long'])}")
    for lines, name in f["long"]:
        print(f"  {name}: {lines}")


if __name__ == "__main__":
    main()
