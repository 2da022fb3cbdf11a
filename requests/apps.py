from __future__ import annotations

from harmonyze_portal import areas


class RequestsConfig(areas.AreaConfig):
    name = "requests"
    verbose_name = "Requests"
    # Public pages this area offers, listed on the landing page: (url name, title, summary).
    public_links: tuple[tuple[str, str, str], ...] = (
        (
            "requests:form",
            "Privacy requests",
            "Ask to see, correct or delete your personal information, or to limit its use.",
        ),
    )
    # Law-enforcement demands and what hangs on them are counsel's alone (R4, R6).
    restricted_models = ("LawEnforcementDemand", "DemandCustomer", "DemandStep", "DemandView")
    restricted_history_permission = "view_demand_history"
    # The R6 view log is evidence about staff, not a matter counsel works on: under "System".
    system_models = ("DemandView",)
    counsel_only_permissions = (
        # R6: exports of demand data (dashboard, transparency report) go to counsel only.
        "export_demands",
        # A regime's periods move every deadline computed from it (R3), like the holidays.
        "add_regime",
        "change_regime",
        "delete_regime",
    )

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from harmonyze_portal.pagecache import invalidate_public_pages
        from requests import access  # noqa: F401  (connects the R6 view log of exports)
        from requests.models import Regime

        # The privacy request form lists the regimes and is served from memory (P8).
        for signal in (post_save, post_delete):
            signal.connect(
                invalidate_public_pages,
                sender=Regime,
                dispatch_uid=f"public-pages-Regime-{signal is post_save}",
            )
