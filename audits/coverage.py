"""How long the Type 2 report on record keeps covering audit requests (A5).

The team must commission the next report before the gap opens; the dashboard warns
``COVERAGE_WARNING_DAYS`` ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from audits import deadlines
from audits.models import AuditReport

COVERAGE_WARNING_DAYS = 90


@dataclass(frozen=True)
class Type2Coverage:
    today: date
    report: AuditReport | None
    # The last legal date of receipt for which the latest Type 2 report still qualifies.
    covered_through: date | None

    @property
    def gap_from(self) -> date | None:
        """From this date no Type 2 report is within twelve months of a new request."""
        return self.covered_through + timedelta(days=1) if self.covered_through else None

    @property
    def days_left(self) -> int | None:
        """Days from today's legal date to the last covered day (0: today is the last)."""
        return (self.covered_through - self.today).days if self.covered_through else None

    @property
    def warning(self) -> bool:
        return self.days_left is None or self.days_left < COVERAGE_WARNING_DAYS

    def summary(self) -> str:
        if self.report is None or self.gap_from is None or self.days_left is None:
            return "No Type 2 report is on record: no audit request can be offered one (A5)."
        if self.days_left < 0:
            return (
                f"No Type 2 report is within twelve months any more since {self.gap_from} "
                f"({(self.today - self.gap_from).days} days ago): commission the next one (A5)."
            )
        return (
            f"From {self.gap_from} no Type 2 report will be within twelve months of a request "
            f"(A5): {self.days_left} days left, covered by the {self.report}."
        )


def type2_coverage(today: date) -> Type2Coverage:
    """The coverage the latest Type 2 report on record gives, seen from ``today``."""
    report = AuditReport.objects.type2().order_by("-period_end", "-issued_on").first()
    ends = deadlines.type2_coverage_ends(report.period_end) if report else None
    return Type2Coverage(today=today, report=report, covered_through=ends)
