"""The audit request's workflow, as staff move it in the admin (A2–A6).

received → under review → report offered → (accepted in lieu | plan negotiation) → final plan
agreed → scheduled → in progress → completed, or withdrawn from any open step.

Deliberately simple: a map of the next steps staff may choose, and what each step needs on
the record. "Report offered" is reached only through the offer action (it sends the email and
records the confirmation of no material changes); "awaiting email confirmation" only through
the public form. Plan agreed and scheduled may go back to negotiation when the plan reopens.
"""

from __future__ import annotations

from datetime import date, datetime

from audits.models import AuditStatus, OfferAnswer

S = AuditStatus

NEXT_STEPS: dict[str, frozenset[str]] = {
    # Staff may record a plan received by email for a public submission never confirmed.
    S.UNCONFIRMED: frozenset({S.RECEIVED, S.WITHDRAWN}),
    S.RECEIVED: frozenset({S.UNDER_REVIEW, S.NEGOTIATION, S.PLAN_AGREED, S.WITHDRAWN}),
    S.UNDER_REVIEW: frozenset({S.NEGOTIATION, S.PLAN_AGREED, S.WITHDRAWN}),
    S.REPORT_OFFERED: frozenset({S.ACCEPTED_IN_LIEU, S.NEGOTIATION, S.WITHDRAWN}),
    S.NEGOTIATION: frozenset({S.PLAN_AGREED, S.WITHDRAWN}),
    S.PLAN_AGREED: frozenset({S.SCHEDULED, S.NEGOTIATION, S.WITHDRAWN}),
    S.SCHEDULED: frozenset({S.IN_PROGRESS, S.NEGOTIATION, S.WITHDRAWN}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.WITHDRAWN}),
    S.ACCEPTED_IN_LIEU: frozenset(),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# Where a request staff enter by hand may start.
FIRST_STEPS = frozenset({S.RECEIVED, S.UNDER_REVIEW, S.NEGOTIATION})
NEEDS_AGREED_PLAN = frozenset({S.PLAN_AGREED, S.SCHEDULED, S.IN_PROGRESS, S.COMPLETED})


def label(status: str) -> str:
    return str(AuditStatus(status).label)


def status_error(
    old: str | None,
    new: str,
    *,
    offered_at: datetime | None,
    offer_answer: str,
    final_plan_agreed_on: date | None,
) -> str | None:
    """Why a request may not move from ``old`` (None: a new request) to ``new``, or None.

    The other values are those being saved, so a step and what it needs (the agreed date for
    "final plan agreed", say) can be recorded in the same save.
    """
    if new == S.REPORT_OFFERED and old != S.REPORT_OFFERED:
        return (
            "Offer the report with the action “Offer the Type 2 report in lieu”: it sends the "
            "offer and records the confirmation of no material changes (A5)."
        )
    if new == S.UNCONFIRMED and old != S.UNCONFIRMED:
        return "Only the public form's email confirmation waits in this status."
    if old is None:
        if new not in FIRST_STEPS:
            allowed = ", ".join(f"“{label(s)}”" for s in sorted(FIRST_STEPS, key=_order))
            return f"A request entered by staff starts as one of {allowed}."
    elif new != old and new not in NEXT_STEPS[old]:
        steps = sorted(NEXT_STEPS[old], key=_order)
        allowed = ", ".join(f"“{label(s)}”" for s in steps) if steps else "no other status"
        return f"From “{label(old)}” the request can move to {allowed}, not to “{label(new)}”."
    if new == S.ACCEPTED_IN_LIEU and (
        offered_at is None or offer_answer != OfferAnswer.ACCEPTED_ALL
    ):
        return (
            "“Report accepted in lieu” needs an offer the customer accepted for all controls; "
            "if only some, continue with plan negotiation for the others (A5)."
        )
    if new in NEEDS_AGREED_PLAN and final_plan_agreed_on is None:
        return f"“{label(new)}” needs the date the final plan was agreed (A4)."
    return None


def _order(status: str) -> int:
    return list(AuditStatus.values).index(status)
