"""Thin tasks (issue 12): the task and the services share ``subprocessors.delivery`` and never
import each other, not even inside a function; the admin modules import no aggregator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

AREA = Path(__file__).resolve().parents[2] / "subprocessors"


def imported_modules(module: str) -> set[str]:
    """Every module ``subprocessors/<module>.py`` imports, at the top or inside a function."""
    tree = ast.parse((AREA / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("tasks", "subprocessors.services"),
        ("services", "subprocessors.tasks"),
        ("delivery", "subprocessors.tasks"),
        ("delivery", "subprocessors.services"),
    ],
)
def test_tasks_and_services_never_import_each_other(module: str, forbidden: str) -> None:
    assert forbidden not in imported_modules(module), (
        f"subprocessors/{module}.py imports {forbidden}: put the shared work in "
        "subprocessors/delivery.py, which both call."
    )


def test_the_task_only_calls_the_delivery_module() -> None:
    assert "subprocessors.delivery" in imported_modules("tasks")
    # Mail and transactions are the delivery module's business, not the task's.
    assert not {"django.core.mail", "django.db.transaction"} & imported_modules("tasks")


def test_the_admin_is_an_aggregator_and_its_parts_do_not_import_it() -> None:
    parts = sorted(path.stem for path in AREA.glob("admin_*.py"))
    assert {"admin_common", "admin_objections"} <= set(parts)
    for part in parts:
        assert "subprocessors.admin" not in imported_modules(part), part
        lines = (AREA / f"{part}.py").read_text().count("\n")
        assert lines <= 400, f"subprocessors/{part}.py has {lines} lines: split it"
