"""`manage.py build_evidence_pack --customer "Acme Corp" --from 2026-01-01 --to 2026-12-31
--by counsel`: build one customer's evidence pack now, in this process (issue 17).

The pack is recorded like one asked for in the admin: for the staff member named by ``--by``
(H1), who must be allowed to build packs, and with law-enforcement demands only when
``--include-law-enforcement`` is given by counsel (R6). Prints where the ZIP is and its SHA-256.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from harmonyze_portal.clock import legal_today
from harmonyze_portal.evidence import build_pack
from harmonyze_portal.history import acting_as
from harmonyze_portal.models import EvidencePack


def legal_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date: write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Build a customer's evidence pack for a period (ZIP: summary PDF, CSVs, documents)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customer", required=True, help="The customer's id or legal name.")
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--by", required=True, help="Username of the staff member asking.")
        parser.add_argument(
            "--include-law-enforcement",
            action="store_true",
            help="Include law-enforcement demands (R6: counsel only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = legal_day(options["start"]), legal_day(options["end"])
        user = get_user_model()._default_manager.filter(username=options["by"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active staff member is called {options['by']!r}.")
        if not user.has_perm("harmonyze_portal.add_evidencepack"):
            raise CommandError(f"{user.get_username()} may not build evidence packs.")
        customer = self.customer(options["customer"])
        pack = EvidencePack(
            customer=customer,
            period_start=start,
            period_end=end,
            include_law_enforcement=options["include_law_enforcement"],
            requested_by=user,
        )
        try:
            pack.full_clean()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with acting_as("command: build evidence pack", "Evidence pack", for_user=user):
            try:
                pack.save()
            except PermissionDenied as error:
                raise CommandError(str(error)) from None
            build_pack(pack, today=legal_today())
        self.stdout.write(f"{pack.file.path}\nSHA-256 {pack.sha256}")

    def customer(self, value: str) -> Any:
        model = apps.get_model(settings.PORTAL_CUSTOMER_MODEL)
        lookup = Q(legal_name__iexact=value) | (Q(pk=int(value)) if value.isdigit() else Q())
        found = list(model._default_manager.filter(lookup)[:2])
        if len(found) != 1:
            raise CommandError(f"No single customer matches {value!r}.")
        return found[0]
