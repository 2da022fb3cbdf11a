"""The restricted-model registry (DOMAIN.md R6): what the areas declare counsel's alone.

Each area names its restricted models on its AppConfig (:class:`~harmonyze_portal.areas.
AreaConfig`); the roles, the history export and the dashboard read them here, so the core never
names an area's model.
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.db import models

from harmonyze_portal.areas import areas


def restricted_models() -> tuple[type[models.Model], ...]:
    """Every model an area declares restricted, in INSTALLED_APPS order (their historical
    models are restricted with them: see :func:`is_restricted`)."""
    return tuple(area.get_model(name) for area in areas() for name in area.restricted_models)


def _tracked(model: type[models.Model] | models.Model) -> type[models.Model]:
    """The model itself, for a model, an instance or a historical model of either."""
    cls = model if isinstance(model, type) else type(model)
    # simple_history's historical models point at the model they record.
    instance_type: type[models.Model] | None = getattr(cls, "instance_type", None)
    return instance_type or cls


def is_restricted(model: type[models.Model] | models.Model) -> bool:
    """Whether ``model`` (a class, an instance, or the historical model of one) is restricted."""
    label = _tracked(model)._meta.label_lower
    return any(label == other._meta.label_lower for other in restricted_models())


def history_permission(model: type[models.Model] | models.Model) -> str:
    """The permission (``app_label.codename``) that exporting a restricted model's history
    needs besides the view permission. Fails closed: without a declaration, a permission that
    no role holds."""
    opts = _tracked(model)._meta
    for area in areas():
        if area.label == opts.app_label and area.restricted_history_permission:
            return f"{area.label}.{area.restricted_history_permission}"
    return f"{opts.app_label}.view_restricted_history_undeclared"


def counsel_only_permissions() -> frozenset[tuple[str, str]]:
    """``(app_label, codename)`` of every permission the areas reserve for counsel: all those of
    their restricted models and of those models' history, and the ones they name."""
    # The roles sync asks once per permission and role: cached on the declarations themselves,
    # so that a declaration changed at run time (a test's) is still read.
    return _reserved(
        tuple(
            (
                area.label,
                area.restricted_models,
                area.counsel_only_permissions,
                area.restricted_history_permission,
            )
            for area in areas()
        )
    )


@functools.cache
def _reserved(
    declarations: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...],
) -> frozenset[tuple[str, str]]:
    reserved: set[tuple[str, str]] = set()
    for label, model_names, codenames, history_codename in declarations:
        for model in (apps.get_model(label, name) for name in model_names):
            names = [model._meta.model_name]
            manager = getattr(model._meta, "simple_history_manager_attribute", None)
            if manager is not None:
                names.append(getattr(model, manager).model._meta.model_name)
            reserved.update(
                (label, f"{action}_{name}")
                for action in model._meta.default_permissions
                for name in names
            )
        reserved.update((label, codename) for codename in codenames)
        if history_codename:
            reserved.add((label, history_codename))
    return frozenset(reserved)
