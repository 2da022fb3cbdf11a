"""Who read which demand (R6): the history export of a demand model logs a ``DemandView`` for
each demand its rows are about. The core sends the signal; this area answers it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.dispatch import receiver

from harmonyze_portal.history_export import restricted_history_exported
from requests.models import DemandCustomer, DemandStep, DemandView, LawEnforcementDemand

# Each restricted model's column naming the demand its history rows are about.
DEMAND_COLUMN: dict[type[models.Model], str] = {
    LawEnforcementDemand: "id",
    DemandCustomer: "demand_id",
    DemandStep: "demand_id",
    DemandView: "demand_id",
}


@receiver(restricted_history_exported)
def log_history_export(
    sender: type[models.Model],
    *,
    user: Any,
    path: str,
    since: datetime | None,
    until: datetime | None,
    record: Any,
    **kwargs: Any,
) -> None:
    column = DEMAND_COLUMN.get(sender)
    if column is None:
        return
    rows = sender.history.all()  # type: ignore[attr-defined]
    if since is not None:
        rows = rows.filter(history_date__gte=since)
    if until is not None:
        rows = rows.filter(history_date__lt=until)
    if record is not None:
        rows = rows.filter(**{sender._meta.pk.attname: record})
    # A deleted demand has no row left to log a view of; its history names it.
    shown = LawEnforcementDemand.objects.filter(pk__in=rows.values(column)).values_list(
        "pk", flat=True
    )
    DemandView.log(user=user, demand_ids=list(shown), path=path)
