"""Links one area offers on another area's records (an extension point, like desk.py).

An area may not import another (tests/test_layering.py), yet its records can answer another
area's: the sub-processors' agreements answer a customer's request for copies (C6, DPA 5.3).
The area registers a tool for the other model's label in its ``AppConfig.ready()``; every
tracked record's admin page shows the links its tools return, as object tools.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model

# (record, user) -> [(label, url)]: what the user may do with this record elsewhere.
Tool = Callable[[Any, Any], list[tuple[str, str]]]

_registry: dict[str, list[Tool]] = {}


def register(model_label: str, tool: Tool) -> None:
    """Called by an area: ``tool`` offers links on records of ``model_label`` (lower case,
    ``app_label.model_name``). Registering the same tool twice adds it once."""
    tools = _registry.setdefault(model_label.lower(), [])
    if tool not in tools:
        tools.append(tool)


def tools_for(obj: Model | None, user: Any) -> list[tuple[str, str]]:
    """The links the registered tools offer ``user`` on ``obj``."""
    if obj is None or obj.pk is None:
        return []
    return [link for tool in _registry.get(obj._meta.label_lower, []) for link in tool(obj, user)]
