"""The labs' boundaries, read from their own imports: the sandbox only through its
public module, and no Flask outside the labs' Flask glue."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

LABS = Path(__file__).parent.parent / "flowlab" / "labs"
GLUE = {"__init__.py", "attacker.py"}  # init_app, and the attacker's own app


def _imports(path: Path) -> set[str]:
    """Every module a file imports, relative imports made absolute."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "flowlab.labs".split(".")[: 2 - node.level + 1] if node.level else []
            module = ".".join([*base, node.module or ""]).strip(".")
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_labs_use_the_sandbox_only_through_its_public_module():
    for path in LABS.glob("*.py"):
        for name in _imports(path):
            if name.startswith("flowlab.sandbox"):
                assert name.startswith("flowlab.sandbox.public"), (path.name, name)


def test_lab_modules_import_no_flask_outside_the_glue():
    for path in LABS.glob("*.py"):
        if path.name in GLUE:
            continue
        flask = {n for n in _imports(path) if n.split(".")[0] in ("flask", "werkzeug")}
        assert not flask, (path.name, flask)


def test_the_weak_switches_are_read_only_by_the_labs():
    """The keys of the learner's weak server (``content/weak-server.toml``) and of
    the labs' vulnerable variants are read in ``flowlab/labs`` only: no sandbox
    issuer can be switched by them."""
    root = LABS.parent
    switches = tomllib.loads((root.parent / "content" / "weak-server.toml")
                             .read_text(encoding="utf-8"))["switch"]
    keys = {key for switch in switches for key in switch["server"]}
    for folder in (root / "sandbox", root / "web" / "sandbox"):
        for path in folder.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not [k for k in keys if re.search(rf"\b{k}\b", text)], path
