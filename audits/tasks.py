"""Background jobs of the audits area: the public form's work that waits for the response."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from audits import services
from harmonyze_portal.public_flow import after_the_response


@task()
@after_the_response
def receive_plan(**plan: Any) -> int | None:
    """A2: match and record (or answer) an audit plan sent from the public form; returns the
    id of the plan recorded. The view answered the same page to every sender."""
    recorded = services.plan_receive(**plan)
    return recorded.pk if recorded is not None else None
