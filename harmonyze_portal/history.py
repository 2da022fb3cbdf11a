"""History for every record (DOMAIN.md H1, H2).

Staff changes are attributed by simple-history's ``HistoryRequestMiddleware``. Public forms and
background tasks have no user, so they name themselves with :func:`acting_as`; every historical
row also stores that name in ``history_actor`` so an export never shows an anonymous change.
Work a staff member starts is theirs (H1): the bulk helpers take the signed-in member, and a task
queued from an admin page carries the member's id (:func:`acting_staff_id`) and runs inside
:func:`task_acting_as`, so its rows name that member ("task: send notices for staff: counsel").

Tracked models subclass :class:`TrackedModel`. Its querysets refuse ``update()``,
``bulk_create()`` and ``bulk_update()``, which would write rows without history; use ``save()``
or the ``*_with_history`` helpers below.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, router, transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from simple_history import utils as history_utils
from simple_history.manager import HistoryDescriptor, HistoryManager
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record
from simple_history.utils import get_change_reason_from_object

from harmonyze_portal import history_insert

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
PUBLIC_FORM = "public form"

_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("history_actor", default=None)
_reason: contextvars.ContextVar[str | None] = contextvars.ContextVar("history_reason", default=None)
_bulk_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("bulk_allowed", default=False)
# The staff member a task runs for, when one queued it.
_staff: contextvars.ContextVar[Any] = contextvars.ContextVar("history_staff", default=None)

M = TypeVar("M", bound=models.Model)


class HistoryBypassError(RuntimeError):
    """Raised when code tries to write a tracked model without recording history."""


@contextmanager
def acting_as(actor: str, reason: str | None = None, *, for_user: Any = None) -> Iterator[None]:
    """Attribute every history row written inside the block to ``actor`` (H1).

    ``acting_as("public form", reason="Notice Form signup")`` or
    ``acting_as("task: send notices")``. A staff user set by the request middleware still wins
    for ``history_user``; the actor name is stored alongside. ``for_user`` is the staff member
    the work is done for (a task queued from an admin page): the rows are theirs.
    """
    actor_token = _actor.set(actor)
    reason_token = _reason.set(reason)
    # A nested block keeps the member the outer task runs for.
    staff_token = _staff.set(for_user if _is_user(for_user) else _staff.get())
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _reason.reset(reason_token)
        _staff.reset(staff_token)


@contextmanager
def task_acting_as(
    actor: str, *, staff_id: int | None, reason: str | None = None
) -> Iterator[None]:
    """A background task's history rows: named ``actor``, and the staff member's whose id the
    task was queued with (H1: work a staff member starts is theirs). A member since removed,
    or no id (cron), leaves the task on its own."""
    from django.contrib.auth import get_user_model

    user = get_user_model()._default_manager.filter(pk=staff_id).first() if staff_id else None
    with acting_as(actor, reason, for_user=user):
        yield


def _is_user(user: Any) -> bool:
    return user is not None and getattr(user, "pk", None) is not None


def _staff_actor(user: Any) -> str:
    return f"staff: {user.get_username()}"


def acting_user(user: Any = None) -> Any:
    """The staff member whose work is being written now (H1), or None: ``user`` when given,
    else the member a task runs for, else the one signed in to the current admin request."""
    if _is_user(user):
        return user
    if _staff.get() is not None:
        return _staff.get()
    request_user = getattr(getattr(HistoricalRecords.context, "request", None), "user", None)
    if request_user is not None and request_user.is_authenticated:
        return request_user
    return None


def current_reason() -> str | None:
    """The reason the surrounding :func:`acting_as` block gives its rows, if any."""
    return _reason.get()


def acting_staff_id() -> int | None:
    """The id a task queued now should carry, so its history names who started it (H1)."""
    user = acting_user()
    return int(user.pk) if user is not None else None


def current_actor(user: Any = None) -> str:
    staff = _staff.get()
    if staff is not None and (not _is_user(user) or user.pk == staff.pk):
        return f"{_actor.get() or SYSTEM_ACTOR} for {_staff_actor(staff)}"[:150]
    if _is_user(user):
        return _staff_actor(user)
    return _actor.get() or SYSTEM_ACTOR


def _history_user(request: Any = None, **kwargs: Any) -> Any:
    """simple-history's ``get_user``: the member a task runs for, else the signed-in one."""
    if _staff.get() is not None:
        return _staff.get()
    return getattr(request, "user", None)


class HistoryActorFields(models.Model):
    """Extra columns on every historical table: who acted, and what the record was called
    when this version was written (so an export names records without rebuilding them)."""

    history_actor = models.CharField(max_length=150, default=SYSTEM_ACTOR)
    history_record = models.TextField(blank=True, default="", db_default="")

    class Meta:
        abstract = True


def type_name(model: Any) -> str:
    """A model's name as the exports and History pages write it: "Public holiday"."""
    return capfirst(str(model._meta.verbose_name))


def unnamed(model: Any, pk: Any) -> str:
    """How a record without a kept name is called: its type and id, "Customer #12"."""
    return f"{type_name(model)} #{pk}"


def person_name(user: Any) -> str:
    """A staff member as history names them: full name, else username."""
    full_name = getattr(user, "get_full_name", lambda: "")()
    return str(full_name or user.get_username())


def record_label(instance: models.Model) -> str:
    """The name a history row keeps for its record: ``str()``, a person's name for staff.

    A ``__str__`` that fails must not fail the save it names, so any error gives the record's
    type and id instead (logged; the export shows the same for unnamed rows).
    """
    try:
        if isinstance(instance, AbstractBaseUser):
            return person_name(instance)
        return str(instance)
    except Exception:
        logger.exception("Could not name %s #%s for its history", instance._meta.label, instance.pk)
        return unnamed(instance, instance.pk)


@receiver(pre_create_historical_record)
def _stamp_actor(
    sender: Any, instance: Any, history_instance: Any, history_user: Any, **kwargs: Any
) -> None:
    if not hasattr(history_instance, "history_actor"):
        return
    history_instance.history_actor = current_actor(history_user)
    history_instance.history_record = record_label(instance)
    if not history_instance.history_change_reason and _reason.get():
        history_instance.history_change_reason = _reason.get()


class LabelledHistoryManager(HistoryManager):
    """simple-history's manager, whose bulk path also keeps each record's name.

    ``bulk_history_create`` sends no signal and takes one set of extra attributes for all rows,
    so it is written out here with :func:`record_label` per object; everything else is the
    library's (simple-history 3.13, ``HistoryManager.bulk_history_create``).
    """

    def bulk_history_create(
        self,
        objs: Iterable[Any],
        batch_size: int | None = None,
        update: bool = False,
        default_user: Any = None,
        default_change_reason: str = "",
        default_date: Any = None,
        custom_historical_attrs: dict[str, Any] | None = None,
    ) -> Any:
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return None
        history_type = "~" if update else "+"
        rows = []
        for instance in objs:
            row = self.model(
                history_date=getattr(instance, "_history_date", default_date or timezone.now()),
                history_user=getattr(
                    instance,
                    "_history_user",
                    default_user or self.model.get_default_history_user(instance),
                ),
                history_change_reason=get_change_reason_from_object(instance)
                or default_change_reason,
                history_type=history_type,
                **{
                    field.attname: getattr(instance, field.attname)
                    for field in self.model.tracked_fields
                },
                **(custom_historical_attrs or {}),
            )
            row.history_record = record_label(instance)
            if hasattr(self.model, "history_relation"):
                row.history_relation_id = instance.pk
            rows.append(row)
        return self.model.objects.bulk_create(rows, batch_size=batch_size)


class TrackedQuerySet(models.QuerySet[M]):
    """A queryset that cannot write rows behind simple-history's back."""

    def _refuse(self, method: str, helper: str) -> HistoryBypassError:
        return HistoryBypassError(
            f"{self.model.__name__}.objects.{method}() would change rows without recording "
            f"history (docs/rules.md H1). Save each object, or use "
            f"harmonyze_portal.history.{helper}."
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


class CachedHistoryDescriptor(HistoryDescriptor):
    """``Model.history`` whose manager class is built once per model.

    simple-history 3.13 builds a new class with ``Manager.from_queryset()`` (an
    ``inspect.getmembers`` scan of the queryset) on every access, and it reads the attribute on
    every save to find the history model: about a quarter of what history adds to a save.
    """

    @cached_property
    def _manager(self) -> type[HistoryManager]:
        return self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self._manager(self.model, instance)


class TrackedHistoricalRecords(HistoricalRecords):
    """simple-history's ``HistoricalRecords`` with the cached ``history`` descriptor, and each
    history row inserted by one cached statement (:mod:`harmonyze_portal.history_insert`)."""

    def create_historical_record(
        self, instance: Any, history_type: str, using: str | None = None
    ) -> None:
        """simple-history 3.13's ``create_historical_record``, the same steps and signals, but
        the row is written by :func:`history_insert.insert` instead of its ``save()``. Models
        with history of many-to-many fields or a history relation keep the library's path."""
        manager = getattr(instance, self.manager_name)
        history_model = manager.model
        using = using if self.use_base_model_db else None
        if (
            history_model._history_m2m_fields
            or getattr(history_model, "history_relation", None) is not None
            or not history_insert.supported(history_model, using)
        ):
            super().create_historical_record(instance, history_type, using=using)
            return
        history_date = getattr(instance, "_history_date", timezone.now())
        history_user = self.get_history_user(instance)
        reason = self.get_change_reason_for_object(instance, history_type, using)
        row = history_model(
            history_date=history_date,
            history_type=history_type,
            history_user=history_user,
            history_change_reason=reason,
            **{
                field.attname: getattr(instance, field.attname)
                for field in self.fields_included(instance)
            },
        )
        signal = {
            "sender": history_model,
            "instance": instance,
            "history_date": history_date,
            "history_user": history_user,
            "history_change_reason": reason,
            "history_instance": row,
            "using": using,
        }
        pre_create_historical_record.send(**signal)
        history_insert.insert(row, using)
        post_create_historical_record.send(**signal)

    def finalize(self, sender: Any, **kwargs: Any) -> None:
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            setattr(
                sender,
                self.manager_name,
                CachedHistoryDescriptor(
                    descriptor.model,
                    manager=descriptor.manager_class,
                    queryset=descriptor.queryset_class,
                ),
            )


class TrackedModel(models.Model):
    """Base for every model of the four areas: history-tracked, bulk writes guarded."""

    history = TrackedHistoricalRecords(
        inherit=True,
        bases=[HistoryActorFields],
        history_manager=LabelledHistoryManager,
        get_user=_history_user,
    )
    objects = TrackedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The change and its history row commit together or not at all (H1): outside a
        # transaction simple-history writes the row in a second one, after the record's own
        # has committed. savepoint=False: inside a caller's transaction this adds no query.
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)


@contextmanager
def _bulk_writes() -> Iterator[None]:
    token = _bulk_allowed.set(True)
    try:
        yield
    finally:
        _bulk_allowed.reset(token)


def _history_attrs(user: Any) -> dict[str, str]:
    return {"history_actor": current_actor(user)}


# The bulk helpers below write their rows without simple-history's signal, so they resolve the
# acting staff member themselves: the caller's ``user``, else the task's or the request's (H1).


def bulk_create_with_history[T: models.Model](
    objs: Sequence[T], model: type[T], *, user: Any = None, reason: str | None = None
) -> list[T]:
    """simple-history's ``bulk_create_with_history`` with the actor recorded."""
    user = acting_user(user)
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
    user = acting_user(user)
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
    user = acting_user(user)
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


def name_unnamed_versions(batch_size: int = 1000) -> dict[str, int]:
    """Give ``history_record`` to the history rows written before that column existed, each
    named from its own version (``row.instance``) by :func:`record_label`. Idempotent; batched,
    one short transaction per batch, so it runs beside a live portal. Returns rows named per
    historical model. (It writes a derived column of history rows, not a tracked record.)
    """
    from django.apps import apps

    named: dict[str, int] = {}
    for history in apps.get_models():
        record_model = getattr(history, "instance_type", None)
        columns = {field.name for field in history._meta.concrete_fields}
        if record_model is None or "history_record" not in columns:
            continue
        manager = history._default_manager
        last = 0
        while True:
            rows: list[Any] = list(
                manager.filter(history_record="", history_id__gt=last).order_by("history_id")[
                    :batch_size
                ]
            )
            if not rows:
                break
            for row in rows:
                record = row.instance
                row.history_record = record_label(record) or unnamed(record, record.pk)
            with transaction.atomic():
                manager.bulk_update(rows, ["history_record"])
            last = rows[-1].history_id
            named[history._meta.label] = named.get(history._meta.label, 0) + len(rows)
    return named
