"""The layers (docs/architecture.md, "Layers"): control → processes → kernel, and no process imports another.

Every ``import`` and ``from … import`` in every .py file of the layered packages counts, wherever it is
(module level, inside a function, under ``if TYPE_CHECKING:``), and so does ``importlib.import_module``
with a literal name. Relative imports are resolved against the file's package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KERNEL = "switchboard"
CONTROL = "control"
PROCESSES = ("web", "orchestrator", "worker")
# The repository's own top-level packages and folders: an import of anything else is a library.
PROJECT = {KERNEL, CONTROL, *PROCESSES, "plugins", "sfemu", "tests", "benchmarks", "scripts"}
# What each layered package may import of the project (besides itself). A name allows that module and
# everything below it.
ALLOWED: dict[str, tuple[str, ...]] = {
    KERNEL: (),
    "web": (KERNEL,),
    "orchestrator": (KERNEL,),
    "worker": (KERNEL,),
    "plugins": (KERNEL,),  # a plugin's hooks and their markers are the kernel's (switchboard.hookspecs)
    "sfemu": (KERNEL,),
    CONTROL: (KERNEL, *PROCESSES, "plugins", "sfemu"),
}


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import in ``tree``, the file of ``module``: ``names`` are the
    absolute names ``from module import a, b`` brings in (``module.a``, ``module.b``), else []."""
    found: list[tuple[int, str, list[str]]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = ".".join(p for p in (base, node.module) if p)
            names = [".".join(p for p in (target, a.name) if p) for a in node.names if a.name != "*"]
            found.append((node.lineno, target, names))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value, []))
    return found


def allowed(importer: str, target: str) -> bool:
    """Whether package ``importer`` may import module ``target``."""
    top = target.split(".")[0]
    if top not in PROJECT or top == importer:
        return True
    return any(target == name or target.startswith(name + ".") for name in ALLOWED[importer])


def violations(root: Path) -> list[str]:
    """``file:line: imports X (...)`` for every import in a layered package that breaks the layers."""
    bad: list[str] = []
    for package in ALLOWED:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            is_package = path.name == "__init__.py"
            parts = rel.with_suffix("").parts
            module = ".".join(parts[:-1] if is_package else parts)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
            for line, target, names in imported_modules(tree, module, is_package):
                if target and allowed(package, target):
                    continue
                # ``from switchboard import hookspecs``: the names may be modules, allowed where the package is not.
                for culprit in [n for n in names if not allowed(package, n)] if names else [target]:
                    bad.append(f"{rel.as_posix()}:{line}: imports {culprit} ({package} may import only "
                               f"{', '.join(ALLOWED[package]) or 'itself'} of the project)")
    return bad


def test_no_import_goes_up_or_sideways_between_processes() -> None:
    bad = violations(REPO)
    assert not bad, "imports across the layers:\n" + "\n".join(bad)


@pytest.mark.parametrize(("package", "source", "culprit"), [
    ("web", "from orchestrator import presence_service\n", "orchestrator.presence_service"),
    ("orchestrator", "def f():\n    import worker.tasks\n", "worker.tasks"),
    ("switchboard", "from web.auth import current_user\n", "web.auth"),
    ("switchboard", "from control import cli\n", "control.cli"),
    ("worker", "from control.stack import Stack\n", "control.stack"),
    ("sfemu", "import importlib\nimportlib.import_module('worker.tasks')\n", "worker.tasks"),
    ("plugins", "from orchestrator.model import Model\n", "orchestrator.model"),
    ("plugins", "from orchestrator import presence_service\n", "orchestrator.presence_service"),
    ("orchestrator", "from .. import worker\n", "worker"),
])
def test_the_check_catches_a_bad_import(tmp_path: Path, package: str, source: str, culprit: str) -> None:
    for pkg in ALLOWED:
        (tmp_path / pkg).mkdir()
    (tmp_path / package / "bad.py").write_text(source)
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{package}/bad.py:") and culprit in found[0], found


def test_allowed_imports_pass(tmp_path: Path) -> None:
    for pkg in ALLOWED:
        (tmp_path / pkg).mkdir()
    (tmp_path / "web" / "ok.py").write_text("from switchboard import contracts\nfrom . import ok\n")
    (tmp_path / "plugins" / "ok.py").write_text("from switchboard.hookspecs import hookimpl\n"
                                                "from switchboard import hookspecs\n")
    (tmp_path / "control" / "ok.py").write_text("import web\nimport orchestrator\nimport worker\n")
    assert violations(tmp_path) == []
