from __future__ import annotations

from harmonyze_portal import areas


class AuditsConfig(areas.AreaConfig):
    name = "audits"
    verbose_name = "Audits"
    # Public pages this area offers, listed on the landing page: (url name, title, summary).
    public_links: tuple[tuple[str, str, str], ...] = (
        (
            "audits:plan",
            "Audit plans",
            "Send your company's proposed audit plan and see the earliest start it allows.",
        ),
    )
