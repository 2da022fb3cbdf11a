from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from simple_history import register

from harmonyze_portal.history import HistoryActorFields, TrackedModel, TrackedQuerySet


class PublicHolidayQuerySet(TrackedQuerySet["PublicHoliday"]):
    def between(self, start: date, end: date) -> set[date]:
        return set(self.filter(date__range=(start, end)).values_list("date", flat=True))


PublicHolidayManager = models.Manager.from_queryset(PublicHolidayQuerySet)


class PublicHoliday(TrackedModel):
    """A day on which statutory deadlines do not end (DOMAIN.md T4).

    Contractual DPA deadlines ignore it (T2, T3).
    """

    date = models.DateField(unique=True)
    name = models.CharField(max_length=120)

    objects: ClassVar[PublicHolidayManager] = PublicHolidayManager()

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


# Staff accounts are records too (H1): who was given which role, who was deactivated. The
# password hash and the login timestamp are left out of the history on purpose.
register(
    get_user_model(),
    app="harmonyze_portal",
    bases=[HistoryActorFields],
    excluded_fields=["password", "last_login"],
    m2m_fields=["groups"],
)


class StaffDeletionRefused(PermissionDenied):
    pass


@receiver(pre_delete, sender=get_user_model())
def _refuse_user_deletion(
    sender: type[models.Model], instance: models.Model, **kwargs: object
) -> None:
    # Users are actors in every history row; deleting one would blank the "who" of H1.
    raise StaffDeletionRefused(
        f"Staff account {instance} cannot be deleted; deactivate it instead (is_active = False)."
    )
