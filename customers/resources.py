"""The legal team's spreadsheet of customers and their DPAs, imported through the admin.

One row is one customer with its current DPA (C2). The preview is import-export's dry run in a
transaction that is rolled back, so every rule below, and every database constraint, is checked
before anything is written. A confirmed import writes the whole file or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from import_export import resources
from import_export.fields import Field
from import_export.resources import Diff

from customers.import_cells import IsoDateWidget, TextWidget, cell_text
from customers.import_termination import TERMINATION_COLUMNS, plan_termination
from customers.models import DPA, Customer, CustomerDomain
from customers.models.accounts import validate_domain
from customers.models.dpas import DPAStatus
from harmonyze_portal.history import acting_as

# How a spreadsheet may name each transfer mechanism (DPA 3.2), after normalising case,
# punctuation and spaces; the value is the DPA flag it sets.
TRANSFER_TERMS = {
    "eu sccs module two": "eu_sccs_module_two",
    "eu sccs module 2": "eu_sccs_module_two",
    "uk addendum": "uk_addendum",
    "swiss fadp": "swiss_fadp",
    "swiss fadp adaptation": "swiss_fadp",
}
KNOWN_TERMS = "EU SCCs Module Two; UK Addendum; Swiss FADP"
_TERM_FLAGS = ("eu_sccs_module_two", "uk_addendum", "swiss_fadp")
# Optional DPA cells: blank leaves what is stored (for a new DPA, the standard default).
_OPTIONAL_DPA_COLUMNS = (
    "governing_law",
    "courts",
    "supervisory_authority",
    "supervisory_authority_country",
    "deviations",
)
# DPA model fields as the spreadsheet names them, so a model error lands on its column.
_DPA_COLUMN = {
    "version": "dpa_version",
    "signed_on": "dpa_signed_on",
    "effective_on": "dpa_effective_on",
    **dict.fromkeys(_TERM_FLAGS, "transfer_terms"),
    **{name: name for name in _OPTIONAL_DPA_COLUMNS},
}


def parse_domains(text: str) -> list[str]:
    """Comma, semicolon or space separated; written like the admin stores them."""
    domains = []
    for part in re.split(r"[,;\s]+", text):
        domain = part.strip().lower().removeprefix("@")
        if domain and domain not in domains:
            domains.append(domain)
    return domains


def parse_transfer_terms(text: str) -> tuple[dict[str, bool], list[str]]:
    """The DPA flags the terms set, and the terms nobody knows (semicolon separated)."""
    flags = dict.fromkeys(_TERM_FLAGS, False)
    unknown = []
    for part in re.split(r"[;\n|]+", text):
        if not part.strip():
            continue
        key = " ".join(re.sub(r"[^a-z0-9]+", " ", part.lower()).split())
        if key in TRANSFER_TERMS:
            flags[TRANSFER_TERMS[key]] = True
        else:
            unknown.append(part.strip())
    return flags, unknown


@dataclass
class RowPlan:
    """What one valid row writes besides the customer itself."""

    customer_changed: bool = False
    new_domains: list[str] = field(default_factory=list)
    dpa: DPA | None = None
    dpa_changed: bool = False
    supersede: DPA | None = None

    @property
    def changes_anything(self) -> bool:
        return self.customer_changed or bool(self.new_domains) or self.dpa_changed


class _Diff(Diff):
    """The preview shows the domains and DPA columns too, which are not Customer fields."""

    def __init__(self, resource: Any, instance: Any, new: bool) -> None:
        super().__init__(resource, instance, new)
        self.left = self._values(resource, instance)

    def compare_with(self, resource: Any, instance: Any) -> None:
        self.right = self._values(resource, instance) if instance is not None else []

    @staticmethod
    def _values(resource: Any, instance: Any) -> list[Any]:
        return [resource.export_field(f, instance) for f in resource.get_import_fields()]


class CustomerImportResource(resources.ModelResource):
    """Customers with their current DPA. An existing customer (same legal name) is updated:
    listed domains are added, a new DPA version supersedes the one in force, the same version
    is corrected in place. Nothing is deleted, and blank optional cells keep what is stored."""

    legal_name = Field(attribute="legal_name", column_name="legal_name", widget=TextWidget())
    domains = Field(column_name="domains")
    agreement_effective_on = Field(
        attribute="agreement_effective_on",
        column_name="agreement_effective_on",
        widget=IsoDateWidget(),
    )
    dpa_version = Field(column_name="dpa_version")
    dpa_signed_on = Field(column_name="dpa_signed_on")
    dpa_effective_on = Field(column_name="dpa_effective_on")
    transfer_terms = Field(column_name="transfer_terms")
    governing_law = Field(column_name="governing_law")
    courts = Field(column_name="courts")
    supervisory_authority = Field(column_name="supervisory_authority")
    supervisory_authority_country = Field(column_name="supervisory_authority_country")
    deviations = Field(column_name="deviations")
    # C3, C4, C9: optional; see customers.import_termination.
    termination_date = Field(column_name="termination_date")
    terminated_by = Field(column_name="terminated_by")
    termination_reason = Field(column_name="termination_reason")
    confirm_conflicts = Field(column_name="confirm_conflicts")

    class Meta:
        model = Customer
        fields = (
            "legal_name",
            "domains",
            "agreement_effective_on",
            "dpa_version",
            "dpa_signed_on",
            "dpa_effective_on",
            "transfer_terms",
            "governing_law",
            "courts",
            "supervisory_authority",
            "supervisory_authority_country",
            "deviations",
            *TERMINATION_COLUMNS,
        )
        import_id_fields = ["legal_name"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        # Tracked models refuse bulk writes (H1): every row is saved object by object.
        use_bulk = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._names: dict[str, int] = {}
        self._domains: dict[str, tuple[int, str]] = {}
        self._plan = RowPlan()

    @classmethod
    def get_diff_class(cls) -> type[Diff]:
        return _Diff

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        # "Legal name " and "legal_name" are the same column.
        dataset.headers = [
            "_".join(str(header or "").strip().lower().split()) for header in dataset.headers
        ]
        self._names.clear()
        self._domains.clear()

    # --- Reading a row: every rule is checked before anything is saved.

    def import_instance(self, instance: Customer, row: dict[str, Any], **kwargs: Any) -> None:
        number = kwargs.get("row_number", 0)
        before = (instance.legal_name, instance.agreement_effective_on)
        errors: dict[str, list[str]] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)

        terminating = plan_termination(instance, row, errors)
        plan = RowPlan(
            customer_changed=instance.pk is None
            or terminating
            or before != (instance.legal_name, instance.agreement_effective_on)
        )
        self._plan = plan
        name = instance.legal_name
        if name:
            first = self._names.setdefault(name.casefold(), number)
            if first != number:
                errors.setdefault("legal_name", []).append(
                    f"{name} is also on row {first} of this file: one row per customer."
                )
        plan.new_domains = self._check_domains(instance, row, number, errors)
        self._plan_dpa(instance, row, plan, errors)
        if errors:
            raise ValidationError(errors)

    def _check_domains(
        self, customer: Customer, row: dict[str, Any], number: int, errors: dict[str, list[str]]
    ) -> list[str]:
        problems = errors.setdefault("domains", [])
        owned = set(customer.domains.values_list("domain", flat=True)) if customer.pk else set()
        new = []
        for domain in parse_domains(cell_text(row, "domains")):
            try:
                validate_domain(domain)
            except ValidationError as exc:
                problems.extend(exc.messages)
                continue
            first_row, first_name = self._domains.setdefault(domain, (number, customer.legal_name))
            if first_row != number:
                problems.append(
                    f"{domain} is also listed on row {first_row} of this file ({first_name})."
                )
                continue
            other = (
                CustomerDomain.objects.filter(domain__iexact=domain)
                .exclude(customer_id=customer.pk)
                .select_related("customer")
                .first()
            )
            if other is not None:
                problems.append(f"{domain} already belongs to {other.customer}.")
            elif domain not in owned:
                new.append(domain)
        if not problems:
            del errors["domains"]
        return new

    def _plan_dpa(
        self,
        customer: Customer,
        row: dict[str, Any],
        plan: RowPlan,
        errors: dict[str, list[str]],
    ) -> None:
        columns = ("dpa_version", "dpa_signed_on", "dpa_effective_on", "transfer_terms")
        if not any(cell_text(row, column) for column in (*columns, *_OPTIONAL_DPA_COLUMNS)):
            return  # a customer without its DPA on file yet
        bad: dict[str, list[str]] = {}
        for column in columns:
            if not cell_text(row, column):
                bad[column] = ["Required when the row has a DPA."]
        dates: dict[str, date | None] = {}
        for column in ("dpa_signed_on", "dpa_effective_on"):
            try:
                dates[column] = IsoDateWidget().clean(row.get(column))
            except ValueError as exc:
                bad[column] = [str(exc)]
        flags, unknown = parse_transfer_terms(cell_text(row, "transfer_terms"))
        for term in unknown:
            bad.setdefault("transfer_terms", []).append(
                f"Unknown transfer term {term!r}; the known ones are {KNOWN_TERMS} "
                "(separate them with semicolons)."
            )
        version = cell_text(row, "dpa_version")

        current = DPA.objects.in_force().filter(customer_id=customer.pk).first()
        if current is not None and current.version == version:
            dpa = current
        else:
            dpa = DPA(version=version, status=DPAStatus.IN_FORCE)
            if customer.pk and DPA.objects.filter(customer=customer, version=version).exists():
                bad.setdefault("dpa_version", []).append(
                    f"DPA {version} of {customer} is on record as superseded; the import "
                    "records the current DPA only."
                )
            plan.supersede = current
        tracked = ["signed_on", "effective_on", *_TERM_FLAGS, *_OPTIONAL_DPA_COLUMNS]
        before = [getattr(dpa, name) for name in tracked]
        dpa.customer = customer
        dpa.signed_on = dates.get("dpa_signed_on")  # type: ignore[assignment]
        dpa.effective_on = dates.get("dpa_effective_on")  # type: ignore[assignment]
        if not unknown:
            for flag, value in flags.items():
                setattr(dpa, flag, value)
        for column in _OPTIONAL_DPA_COLUMNS:
            if cell_text(row, column):
                setattr(dpa, column, cell_text(row, column))

        # DPA.clean compares with the Agreement once the customer exists; a customer this
        # file creates is checked here.
        agreement = customer.agreement_effective_on
        effective = dpa.effective_on
        if customer.pk is None and agreement and effective and effective < agreement:
            bad.setdefault("dpa_effective_on", []).append(
                "The DPA cannot take effect before the customer's Agreement "
                f"({agreement:%Y-%m-%d})."
            )
        # Columns already refused are not checked again by the model.
        skip = {model for model, column in _DPA_COLUMN.items() if column in bad}
        try:
            dpa.full_clean(exclude=["customer", "signed_file", *skip])
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                if key in skip:
                    continue
                known = bad.setdefault(_DPA_COLUMN.get(key, NON_FIELD_ERRORS), [])
                known.extend(message for message in messages if message not in known)
        for column, messages in bad.items():
            errors.setdefault(column, []).extend(messages)
        plan.dpa = dpa
        plan.dpa_changed = dpa.pk is None or before != [getattr(dpa, name) for name in tracked]

    def skip_row(
        self,
        instance: Customer,
        original: Customer,
        row: dict[str, Any],
        import_validation_errors: Any = None,
    ) -> bool:
        if import_validation_errors:
            return False
        return not self._plan.changes_anything

    # --- Writing a row: the customer, its domains and its DPA together, or none of them.

    def save_instance(
        self, instance: Customer, is_create: bool, row: dict[str, Any], **kwargs: Any
    ) -> None:
        plan = self._plan
        reason = f"Imported from {kwargs.get('file_name') or 'a spreadsheet'}"
        # The request's user is the history_user (middleware); the reason goes on every row.
        with acting_as("spreadsheet import", reason=reason), transaction.atomic():
            if plan.customer_changed:
                super().save_instance(instance, is_create, row, **kwargs)
            for domain in plan.new_domains:
                CustomerDomain(customer=instance, domain=domain).save()
            if plan.dpa is not None and plan.dpa_changed:
                if plan.supersede is not None:
                    plan.supersede.status = DPAStatus.SUPERSEDED
                    plan.supersede.save()
                plan.dpa.customer = instance
                plan.dpa.save()

    # --- How the current state reads in the preview.

    def _dpa(self, customer: Customer) -> DPA | None:
        if customer.pk is None:
            return None
        return DPA.objects.in_force().filter(customer=customer).first()

    def _dpa_value(self, customer: Customer, name: str) -> str:
        dpa = self._dpa(customer)
        value = getattr(dpa, name, None) if dpa else None
        if isinstance(value, date):
            return value.isoformat()
        return "" if value is None else str(value)

    def dehydrate_domains(self, customer: Customer) -> str:
        if customer.pk is None:
            return ""
        return ", ".join(customer.domains.values_list("domain", flat=True))

    def dehydrate_dpa_version(self, customer: Customer) -> str:
        return self._dpa_value(customer, "version")

    def dehydrate_dpa_signed_on(self, customer: Customer) -> str:
        return self._dpa_value(customer, "signed_on")

    def dehydrate_dpa_effective_on(self, customer: Customer) -> str:
        return self._dpa_value(customer, "effective_on")

    def dehydrate_transfer_terms(self, customer: Customer) -> str:
        dpa = self._dpa(customer)
        return "; ".join(dpa.transfer_terms) if dpa else ""

    def dehydrate_governing_law(self, customer: Customer) -> str:
        return self._dpa_value(customer, "governing_law")

    def dehydrate_courts(self, customer: Customer) -> str:
        return self._dpa_value(customer, "courts")

    def dehydrate_supervisory_authority(self, customer: Customer) -> str:
        return self._dpa_value(customer, "supervisory_authority")

    def dehydrate_supervisory_authority_country(self, customer: Customer) -> str:
        return self._dpa_value(customer, "supervisory_authority_country")

    def dehydrate_deviations(self, customer: Customer) -> str:
        return self._dpa_value(customer, "deviations")

    def dehydrate_termination_date(self, customer: Customer) -> str:
        return customer.termination_date.isoformat() if customer.termination_date else ""

    def dehydrate_terminated_by(self, customer: Customer) -> str:
        return customer.terminated_by

    def dehydrate_termination_reason(self, customer: Customer) -> str:
        return customer.termination_reason

    def dehydrate_confirm_conflicts(self, customer: Customer) -> str:
        return "yes" if customer.confirm_termination_conflicts else ""
