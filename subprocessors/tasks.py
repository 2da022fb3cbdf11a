"""Background jobs of the sub-processor area: each names itself in the history (H1) and calls
``subprocessors.delivery``, which the services call too."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.tasks import default_task_backend, task

from harmonyze_portal.history import task_acting_as
from subprocessors import delivery

ACTOR = "task: send notices"


@task()
def send_change_notices(*, change_id: int, staff_id: int | None = None) -> dict[str, int]:
    """Send every queued delivery of the change (S6) and refresh its Notice date (S3); come
    back when the failed ones have waited out their back-off, where the backend can defer
    (elsewhere the cron's ``retry_notices`` does).

    ``staff_id`` is the staff member who published the change or asked for the retry: the
    deliveries' history names them (H1). The cron's retries carry none.
    """
    with task_acting_as(ACTOR, staff_id=staff_id, reason="Notice delivery"):
        sent, failed = delivery.send_notices(change_id=change_id)
    retry_at = delivery.retry_at(change_id=change_id)
    if retry_at is not None and default_task_backend.supports_defer:
        send_change_notices.using(run_after=retry_at).enqueue(
            change_id=change_id, staff_id=staff_id
        )
    return {"sent": sent, "failed": failed}


@receiver(delivery.sending_requested, dispatch_uid="subprocessors-send-change-notices")
def _enqueue_sending(sender: Any, *, change_id: int, staff_id: int | None, **kwargs: Any) -> None:
    send_change_notices.enqueue(change_id=change_id, staff_id=staff_id)
