"""The code keeps the package table of docs/architecture.md: every package listed, imports only
down its row (absolute and relative, at any depth of the code), no cycle, no private name taken
from another package, no re-export, no reaching into another module's private attributes; and
every module's doctests pass."""

from __future__ import annotations

import ast
import doctest
import importlib
import re
from functools import cache

import pytest
from support import DASK_EXTRA, PLOT_EXTRA, REPO

PACKAGE = REPO / "windowclf"
MODULES = sorted(
    ".".join(p.relative_to(PACKAGE).with_suffix("").parts) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py"
)
# attributes of the standard library that start with an underscore and are public all the same
PUBLIC_UNDERSCORED = {"_asdict", "_replace", "_fields", "_make", "_field_defaults", "_exit", "_getframe"}


def _package(module: str) -> str:
    """The row of ``module`` ("tags.schemes" -> "tags"; "errors" -> "errors"; "__init__" -> the top)."""
    return module.split(".")[0]


@cache
def _table() -> dict:
    """package -> the packages it may import, from the table in docs/architecture.md."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Packages", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[2]
    names = set(rows)
    allowed = {}
    for name, rule in rows.items():
        listed = set(re.findall(r"`(\w+)`", rule))
        if rule.startswith("everything"):  # "everything above but `batch`, `cli`" / "everything but itself"
            listed = names - listed - {name}
        allowed[name] = listed
    return allowed


def _tree(module: str) -> ast.Module:
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    return ast.parse(path.read_text(encoding="utf-8"))


@cache
def _imports(module: str) -> tuple:
    """(windowclf module imported, names taken from it) for every import in ``module``'s code."""
    found = []
    package_parts = module.split(".")[:-1]
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == "windowclf" or node.module.startswith("windowclf.")):
                target = node.module[len("windowclf.") :] if node.module != "windowclf" else ""
            else:
                continue
            names = tuple(alias.name for alias in node.names)
            if not target:  # from windowclf import x: a module or a public name of the top
                found.extend((name, ()) for name in names if name != "__version__")
            else:
                found.append((target, names))
        elif isinstance(node, ast.Import):
            found.extend((a.name[len("windowclf.") :], ()) for a in node.names if a.name.startswith("windowclf."))
    return tuple(found)


def test_every_package_is_in_the_table():
    packages = {_package(m) for m in MODULES if m != "__init__"}
    assert sorted(_table()) == sorted(packages)


@pytest.mark.parametrize("module", [m for m in MODULES if m != "__init__"])
def test_a_module_imports_only_what_its_row_allows(module):
    own = _package(module)
    for target, _ in _imports(module):
        other = _package(target)
        assert other == own or other in _table()[own], f"{module} imports {target}"


@pytest.mark.parametrize("module", MODULES)
def test_no_private_name_crosses_a_package(module):
    own = _package(module)
    for target, names in _imports(module):
        if _package(target) != own:
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private, f"{module} imports {private} from {target}"


@pytest.mark.parametrize("module", [m for m in MODULES if not m.endswith("__init__")])
def test_a_module_exports_only_what_it_defines(module):
    """No re-export shims: every name of a module's __all__ is defined in the module itself."""
    tree = _tree(module)
    defined = set()
    exported: list = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defined.add(target.id)
                    if target.id == "__all__":
                        exported = list(ast.literal_eval(node.value))
    assert set(exported) <= defined, f"{module} re-exports {sorted(set(exported) - defined)}"


@pytest.mark.parametrize("module", MODULES)
def test_no_module_reaches_into_another_modules_private_attributes(module):
    """``x._name`` only where ``x`` is self or cls, or ``_name`` is defined in this module."""
    tree = _tree(module)
    own = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    own |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)}
    own |= {
        t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__") or name in PUBLIC_UNDERSCORED:
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        assert name in own, f"{module}:{node.lineno} reads {ast.unparse(node)}"


def test_packages_import_one_way():
    graph: dict = {}
    for module in MODULES:
        if module == "__init__":
            continue
        graph.setdefault(_package(module), set()).update(
            _package(t) for t, _ in _imports(module) if _package(t) != _package(module)
        )
    _assert_acyclic(graph)


def test_modules_import_one_way():
    resolve = set(MODULES)

    def as_module(target: str) -> str | None:
        if target in resolve:
            return target
        if f"{target}.__init__" in resolve:
            return None  # a package: its modules are imported by name
        return None

    graph = {m: {t for t, _ in _imports(m) if as_module(t) and t != m} for m in MODULES if m != "__init__"}
    _assert_acyclic(graph)


def _assert_acyclic(graph: dict) -> None:
    done, active = set(), []

    def visit(node):
        assert node not in active, "import cycle: " + " -> ".join(active[active.index(node) :] + [node])
        if node in done:
            return
        active.append(node)
        for dep in graph.get(node, ()):
            visit(dep)
        active.pop()
        done.add(node)

    for node in graph:
        visit(node)


@pytest.mark.parametrize("module", MODULES)
def test_doctests_pass(module):
    if module == "cli.plots":
        pytest.importorskip("matplotlib", reason=PLOT_EXTRA)
    if module == "batch.on_dask":
        pytest.importorskip("distributed", reason=DASK_EXTRA)
    name = "windowclf" if module == "__init__" else "windowclf." + module.removesuffix(".__init__")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
