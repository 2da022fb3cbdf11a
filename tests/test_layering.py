"""Layering (STYLE.md "Layers"): the core is the ground, the areas stand on it.

- ``harmonyze_portal`` imports no area: it defines extension points that the areas answer.
- An area imports the core and ``customers``, never another area (its migrations aside).
- No import cycle between the modules of one package.

Imports are read from the source with ``ast``: module-level and function-level ``import`` and
``from … import``, relative imports, and calls with a literal module or app name
(``import_module("…")``, ``__import__("…")``, ``include("…")``, ``apps.get_model("…")``).
Nothing is imported, so a violation is found even in code no test runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harmonyze_portal.areas import areas

ROOT = Path(__file__).resolve().parent.parent
CORE = "harmonyze_portal"
SHARED_AREA = "customers"  # the one area the others may import
# Calls whose first argument, a literal, names a module ("pkg.mod") or an app label.
STRING_IMPORTS = frozenset({"import_module", "__import__", "include", "get_model"})
# The root URLconf mounts each area's URLs by name, as settings.INSTALLED_APPS names the
# areas: the project's wiring, not a dependency of the core's code on an area's.
WIRING = frozenset({"harmonyze_portal/urls.py", "harmonyze_portal/settings.py"})


@dataclass(frozen=True)
class Import:
    path: str  # relative to the project, e.g. "harmonyze_portal/desk.py"
    line: int
    module: str  # the module imported, e.g. "customers.models"
    names: tuple[str, ...] = ()  # for "from module import a, b": a and b

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, source: str | None = None) -> Iterator[Import]:
    """Every import in the file, wherever it is (module level, function, class, if-block)."""
    relative = path.relative_to(ROOT).as_posix()
    tree = ast.parse(source if source is not None else path.read_text(), filename=relative)
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(relative, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield Import(relative, node.lineno, base, tuple(a.name for a in node.names))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in STRING_IMPORTS and literal and first.value:
                yield Import(relative, node.lineno, first.value)


def top(module: str) -> str:
    return module.split(".")[0]


def python_files(package: str, *, migrations: bool) -> list[Path]:
    return sorted(
        path
        for path in (ROOT / package).rglob("*.py")
        if migrations or "migrations" not in path.relative_to(ROOT).parts
    )


def area_labels() -> list[str]:
    return [area.name for area in areas()]


def core_modules() -> list[pytest.ParameterSet]:
    return [
        pytest.param(path, id=rel)
        for path in python_files(CORE, migrations=True)
        if (rel := path.relative_to(ROOT).as_posix()) not in WIRING
    ]


@pytest.mark.parametrize("path", core_modules())
def test_the_core_imports_no_area(path: Path) -> None:
    found = [str(i) for i in imports_of(path) if top(i.module) in area_labels()]
    assert found == [], "the core imports an area; register from the area instead"


def dotted_names(path: Path) -> Iterator[tuple[int, str]]:
    """String constants that start with an area's label and a dot or colon: a model label
    ("requests.demandview"), a permission ("requests.view_demand_history"), a URL name."""
    labels = tuple(f"{label}{sep}" for label in area_labels() for sep in ".:")
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if node.value.startswith(labels) and " " not in node.value:
            yield node.lineno, node.value


@pytest.mark.parametrize("path", core_modules())
def test_the_core_names_no_area_model_or_permission(path: Path) -> None:
    """What the core must know of an area's models (R6 restrictions, for one) the area
    declares on its AppConfig (harmonyze_portal.areas, harmonyze_portal.restricted)."""
    assert list(dotted_names(path)) == []


def area_modules() -> list[pytest.ParameterSet]:
    return [
        pytest.param(path, id=rel)
        for label in area_labels()
        for path in python_files(label, migrations=False)
        if (rel := path.relative_to(ROOT).as_posix())
    ]


@pytest.mark.parametrize("path", area_modules())
def test_an_area_imports_only_the_core_and_customers(path: Path) -> None:
    own = path.relative_to(ROOT).parts[0]
    allowed = {own, SHARED_AREA}
    found = [
        str(i)
        for i in imports_of(path)
        if top(i.module) in area_labels() and top(i.module) not in allowed
    ]
    assert found == [], "an area imports another area; only customers and the core are shared"


# --- Import cycles inside one package.


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (at any level, or by string)."""
    files = {module_name(path): path for path in python_files(package, migrations=False)}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for found in imports_of(path):
            targets = [f"{found.module}.{n}" for n in found.names] + [found.module]
            # "from pkg import mod" imports the module pkg.mod; "from mod import name" imports mod.
            target = next((t for t in targets if t in files), None)
            if target is not None and target != name:
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def packages() -> list[pytest.ParameterSet]:
    return [pytest.param(package, id=package) for package in [CORE, *area_labels()]]


@pytest.mark.parametrize("package", packages())
def test_no_import_cycle_inside_a_package(package: str) -> None:
    assert cycles(import_graph(package)) == []


# --- The reader itself: what it must spot.

SNEAKY = """
import customers
from requests.models import LawEnforcementDemand
from .sibling import helper
from . import tasks


def later():
    from audits import deadlines
    import_module("subprocessors.feeds")
    apps.get_model("requests.DemandView")
    return importlib.import_module(f"{name}.demo")  # a computed name: discovery, allowed
"""


def test_the_reader_spots_imports_anywhere_and_string_imports() -> None:
    path = ROOT / "subprocessors" / "services.py"
    found = [(i.module, i.names) for i in imports_of(path, SNEAKY)]
    assert found == [
        ("customers", ()),
        ("requests.models", ("LawEnforcementDemand",)),
        ("subprocessors.sibling", ("helper",)),
        ("subprocessors", ("tasks",)),
        ("audits", ("deadlines",)),
        ("subprocessors.feeds", ()),
        ("requests.DemandView", ()),
    ]


def test_cycles_are_found_through_several_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
