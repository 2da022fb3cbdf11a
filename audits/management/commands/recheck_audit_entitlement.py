"""`manage.py recheck_audit_entitlement`: bring the stored A1 checks up to the revised rule.

Run once after upgrading to the revised A1 (yearly audits counted from start to anniversary,
additional audits not counted); a second run changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audits.services import entitlement_recheck
from harmonyze_portal.wording import counted


class Command(BaseCommand):
    help = "Recompute the stored yearly-audit entitlement (A1) of every confirmed audit request."

    def handle(self, *args: Any, **options: Any) -> None:
        changed, problems = entitlement_recheck(actor="command: recheck_audit_entitlement")
        for request in changed:
            verdict = "entitled" if request.entitled else "not entitled"
            self.stdout.write(f"{request}: now {verdict}")
        for problem in problems:
            self.stderr.write(f"Not saved, correct it in the admin: {problem}")
        self.stdout.write(f"{counted(len(changed), 'audit request')} rechecked.")
