"""History for every record (DOMAIN.md H1, H2).

Staff changes are attributed by simple-history's ``HistoryRequestMiddleware``. Public forms and
background tasks have no user, so they name themselves with :func:`acting_as`; every historical
row also stores that name in ``history_actor`` so an export never shows an anonymous change.

Tracked models subclass :class:`TrackedModel`. Its querysets refuse ``update()``,
``bulk_create()`` and ``bulk_update()``, which would write rows without history; use ``save()``
or the ``*_with_history`` helpers below.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import models
from django.dispatch import receiver
from simple_history import utils as history_utils
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

SYSTEM_ACTOR = "system"
PUBLIC_FORM = "public form"

_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("history_actor", default=None)
_reason: contextvars.ContextVar[str | None] = contextvars.ContextVar("history_reason", default=None)
_bulk_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("bulk_allowed", default=False)

M = TypeVar("M", bound=models.Model)


class HistoryBypassError(RuntimeError):
    """Raised when code tries to write a tracked model without recording history."""


@contextmanager
def acting_as(actor: str, reason: str | None = None) -> Iterator[None]:
    """Attribute every history row written inside the block to ``actor`` (H1).

    ``acting_as("public form", reason="Notice Form signup")`` or
    ``acting_as("task: send notices")``. A staff user set by the request middleware still wins
    for ``history_user``; the actor name is stored alongside.
    """
    actor_token = _actor.set(actor)
    reason_token = _reason.set(reason)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _reason.reset(reason_token)


def current_actor(user: Any = None) -> str:
    if user is not None and getattr(user, "pk", None) is not None:
        return f"staff: {user.get_username()}"
    return _actor.get() or SYSTEM_ACTOR


class HistoryActorFields(models.Model):
    """Extra columns on every historical table."""

    history_actor = models.CharField(max_length=150, default=SYSTEM_ACTOR)

    class Meta:
        abstract = True


@receiver(pre_create_historical_record)
def _stamp_actor(sender: Any, history_instance: Any, history_user: Any, **kwargs: Any) -> None:
    if not hasattr(history_instance, "history_actor"):
        return
    history_instance.history_actor = current_actor(history_user)
    if not history_instance.history_change_reason and _reason.get():
        history_instance.history_change_reason = _reason.get()


class TrackedQuerySet(models.QuerySet[M]):
    """A queryset that cannot write rows behind simple-history's back."""

    def _refuse(self, method: str, helper: str) -> HistoryBypassError:
        return HistoryBypassError(
            f"{self.model.__name__}.objects.{method}() would change rows without recording "
            f"history (DOMAIN.md H1). Save each object, or use harmonyze_portal.history.{helper}."
        )

    def update(self, **kwargs: Any) -> int:
        # Django's bulk_update() is built on update(); inside the helpers both are allowed.
        if not _bulk_allowed.get():
            raise self._refuse("update", "bulk_update_with_history()")
        return super().update(**kwargs)

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        if not _bulk_allowed.get():
            raise self._refuse("bulk_create", "bulk_create_with_history()")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> int:
        if not _bulk_allowed.get():
            raise self._refuse("bulk_update", "bulk_update_with_history()")
        return super().bulk_update(objs, *args, **kwargs)


class TrackedModel(models.Model):
    """Base for every model of the four areas: history-tracked, bulk writes guarded."""

    history = HistoricalRecords(inherit=True, bases=[HistoryActorFields])
    objects = TrackedQuerySet.as_manager()

    class Meta:
        abstract = True


@contextmanager
def _bulk_writes() -> Iterator[None]:
    token = _bulk_allowed.set(True)
    try:
        yield
    finally:
        _bulk_allowed.reset(token)


def _history_attrs(user: Any) -> dict[str, str]:
    return {"history_actor": current_actor(user)}


def bulk_create_with_history[T: models.Model](
    objs: Sequence[T], model: type[T], *, user: Any = None, reason: str | None = None
) -> list[T]:
    """simple-history's ``bulk_create_with_history`` with the actor recorded."""
    with _bulk_writes():
        return history_utils.bulk_create_with_history(
            objs,
            model,
            default_user=user,
            default_change_reason=reason or _reason.get(),
            custom_historical_attrs=_history_attrs(user),
        )


def bulk_update_with_history[T: models.Model](
    objs: Sequence[T],
    model: type[T],
    fields: list[str],
    *,
    user: Any = None,
    reason: str | None = None,
) -> int:
    """simple-history's ``bulk_update_with_history`` with the actor recorded."""
    with _bulk_writes():
        return history_utils.bulk_update_with_history(
            objs,
            model,
            fields,
            default_user=user,
            default_change_reason=reason or _reason.get(),
            custom_historical_attrs=_history_attrs(user),
        )


def record_history[T: models.Model](
    objs: Sequence[T], model: type[T], *, user: Any = None, reason: str | None = None
) -> None:
    """History rows ("changed") for objects already saved with ``skip_history_when_saving``:
    one INSERT for a batch instead of one per save, same actor and reason as save() gives."""
    model.history.bulk_history_create(  # type: ignore[attr-defined]
        objs,
        update=True,
        default_user=user,
        default_change_reason=reason or _reason.get() or "",
        custom_historical_attrs=_history_attrs(user),
    )


def untracked_models(app_labels: Iterable[str]) -> list[str]:
    """Models of these apps that are not history-tracked or whose default manager lets
    ``update()``/``bulk_*()`` bypass history. Used by the test that walks every model."""
    from django.apps import apps

    problems = []
    for label in app_labels:
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            if not hasattr(model, "history"):
                problems.append(f"{model._meta.label}: no HistoricalRecords")
            elif not issubclass(model._default_manager._queryset_class, TrackedQuerySet):  # type: ignore[attr-defined]
                problems.append(f"{model._meta.label}: default manager is not a TrackedQuerySet")
    return problems
