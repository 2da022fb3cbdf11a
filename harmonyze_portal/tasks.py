"""Background jobs of the core; each names itself in the history (H1)."""

from __future__ import annotations

from django.tasks import task

from harmonyze_portal.clock import legal_today
from harmonyze_portal.evidence import build_pack
from harmonyze_portal.history import task_acting_as
from harmonyze_portal.models import EvidencePack, PackStatus


@task()
def build_evidence_pack(*, pack_id: int, staff_id: int | None = None) -> str:
    """Build one evidence pack (issue 17) as the staff member who asked for it (H1).

    Idempotent: a pack already built is not built again."""
    with task_acting_as("task: build evidence pack", staff_id=staff_id, reason="Evidence pack"):
        pack = EvidencePack.objects.select_related("customer", "requested_by").get(pk=pack_id)
        if pack.status == PackStatus.DONE:
            return "already built"
        build_pack(pack, today=legal_today())
        return pack.sha256
