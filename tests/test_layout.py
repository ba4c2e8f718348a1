"""The code keeps the README's code map: every module listed, imports only down its row, no
cycle, one job per module of at most 400 lines; and every module's doctests pass."""

import ast
import doctest
import importlib
import re

import pytest

from conftest import REPO

PACKAGE = REPO / "windowclf"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _code_map() -> dict:
    """module -> the windowclf modules it may import, from the README's "Code map" table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Code map", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = set(re.findall(r"`(\w+)`", cells[2]))
    return rows


def _imports(module: str) -> set:
    """The windowclf modules ``module`` imports (relative imports, at any depth of its code)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found - {module, "__version__"}


def test_every_module_is_in_the_code_map():
    assert sorted(_code_map()) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_only_what_its_row_allows(module):
    assert _imports(module) <= _code_map()[module]


def test_imports_flow_one_way():
    graph = {m: _imports(m) for m in MODULES}
    done, active = set(), []

    def visit(m):
        assert m not in active, "import cycle: " + " -> ".join(active[active.index(m):] + [m])
        if m in done:
            return
        active.append(m)
        for dep in graph[m]:
            visit(dep)
        active.pop()
        done.add(m)

    for m in MODULES:
        visit(m)


@pytest.mark.parametrize("module", MODULES)
def test_no_module_is_over_400_lines(module):
    assert len((PACKAGE / f"{module}.py").read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize("module", MODULES)
def test_doctests_pass(module):
    if module == "plots":
        pytest.importorskip("matplotlib")
    result = doctest.testmod(importlib.import_module(f"windowclf.{module}"), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
