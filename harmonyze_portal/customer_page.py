"""The customer page: where we stand with one customer, on one page (DOMAIN.md T5, C2–C9,
S4–S6, R1–R6, A1–A6).

The page is a list of sections (DPAs, termination clocks, breach notices, objections, requests,
audits ...), each with its rows, their deadlines, rules and links, and the actions that start
from there; a timeline merges every dated row. The core names no area: each area registers its
sections in its own ``<area>/hub.py`` with :func:`register` (``PortalConfig.ready()`` imports
those modules, as it does ``desk.py``), so a new duty adds a section without touching the core
or the customers area.

A section's ``entries`` runs a fixed number of queries whatever the number of rows, and shows at
most ``ROW_LIMIT`` rows with a link to the full list: the page costs the same for a customer
with 3 records or 300. A section whose model the user may not view is not built at all, and a
restricted one (R6, law enforcement) announces the records it showed, which its area logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from harmonyze_portal import desk
from harmonyze_portal.clock import legal_today
from harmonyze_portal.dates import Computation

ROW_LIMIT = 50


@dataclass(frozen=True)
class Entry:
    """One row of a section: a record, what happened when, and what falls due."""

    what: str
    url: str
    rule: str = ""  # "C3", "R1/R3"
    on: date | None = None  # when it happened: its place on the timeline
    due: date | None = None  # what falls due, if anything is still owed or was owed
    due_label: str = ""  # "Delete by", "Object until"
    how: Computation | str | None = None  # how ``due`` was computed (the deadline line)
    status: str = ""
    done: bool = False  # the deadline was met or no longer runs
    record: int = 0  # the pk of the record (R6: logged when restricted)

    def days_left(self, today: date) -> int | None:
        return (self.due - today).days if self.due is not None else None

    def overdue(self, today: date) -> bool:
        return self.due is not None and not self.done and self.due < today


@dataclass(frozen=True)
class Action:
    """Something to start from the page: a link to the admin form or action that does it."""

    label: str
    url: str
    permission: str  # "app.add_model": shown only to those who may do it


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    model: type[Model]  # viewing the section needs the view permission on it
    entries: Callable[[Model, date], list[Entry]]  # (customer, today): a fixed query count
    rules: str = ""  # the rules the section is about, shown in its heading
    order: int = 100
    actions: Callable[[Model], list[Action]] = field(default=lambda customer: [])
    list_url: Callable[[Model], str] | None = None  # every row, when more than ROW_LIMIT
    restricted: bool = False  # R6: counsel's alone; each showing is logged by its area
    # Foreign keys of the section's records whose own files travel with them in an evidence
    # pack (A5: the report offered in lieu), for a requester who may view those records.
    documents_of: tuple[str, ...] = ()
    area: str = ""  # set by register()

    @property
    def permission(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.view_{meta.model_name}"


_registry: dict[str, Section] = {}


def register(area: str, sections: Iterable[Section]) -> None:
    """Called by ``<area>/hub.py``: the area's sections of the customer page."""
    for section in sections:
        _registry[section.key] = replace(section, area=area)


def sections() -> list[Section]:
    return sorted(_registry.values(), key=lambda section: (section.order, section.key))


@dataclass(frozen=True)
class ShownSection:
    section: Section
    entries: list[Entry]
    actions: list[Action]
    more_url: str = ""  # set when the section shows only the first ROW_LIMIT rows


@dataclass(frozen=True)
class TimelineEntry:
    on: date
    section: str
    entry: Entry


@dataclass(frozen=True)
class CustomerPage:
    customer: Model
    today: date
    sections: list[ShownSection]

    @property
    def timeline(self) -> list[TimelineEntry]:
        """Every dated row, latest first."""
        dated = [
            TimelineEntry(entry.on, shown.section.title, entry)
            for shown in self.sections
            for entry in shown.entries
            if entry.on is not None
        ]
        return sorted(dated, key=lambda item: item.on, reverse=True)

    def restricted_records(self) -> dict[type[Model], list[int]]:
        return {
            shown.section.model: sorted({e.record for e in shown.entries if e.record})
            for shown in self.sections
            if shown.section.restricted and shown.entries
        }


def build(user: Any, customer: Model, today: date) -> CustomerPage:
    """The sections ``user`` may view, each with its rows and the actions ``user`` may take."""
    shown = []
    for section in sections():
        if not user.has_perm(section.permission):
            continue
        entries = section.entries(customer, today)
        more = ""
        if len(entries) > ROW_LIMIT:
            entries = entries[:ROW_LIMIT]
            more = section.list_url(customer) if section.list_url else ""
        actions = [a for a in section.actions(customer) if user.has_perm(a.permission)]
        shown.append(ShownSection(section, entries, actions, more))
    return CustomerPage(customer=customer, today=today, sections=shown)


def url(customer: Model) -> str:
    return reverse("customer_page", args=[customer.pk])


def evidence_links(user: Any, customer: Model) -> dict[str, Any]:
    """The evidence pack (issue 17) starts here: its add form with the customer filled in."""
    if not user.has_perm("harmonyze_portal.add_evidencepack"):
        return {}
    from harmonyze_portal.models import EvidencePack

    listing = reverse("admin:harmonyze_portal_evidencepack_changelist")
    return {
        "evidence_pack_url": reverse("admin:harmonyze_portal_evidencepack_add")
        + f"?customer={customer.pk}",
        "evidence_packs_url": f"{listing}?customer__id__exact={customer.pk}",
        "evidence_packs_built": EvidencePack.objects.filter(customer=customer.pk).count(),
    }


def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    """``/staff/customers/<pk>/``: the customer's full picture (admin_view: staff and 2FA)."""
    model = desk.customer_model()
    meta = model._meta
    if not request.user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        raise PermissionDenied
    customer = get_object_or_404(model, pk=pk)
    page = build(request.user, customer, legal_today())
    for restricted_model, pks in page.restricted_records().items():
        # R6: the owning area logs each showing, as it does for the desk.
        desk.restricted_items_shown.send(
            sender=restricted_model, user=request.user, pks=pks, path=request.get_full_path()
        )
    return TemplateResponse(
        request,
        "admin/harmonyze_portal/customer_page.html",
        {
            **admin.site.each_context(request),
            "title": str(customer),
            "page": page,
            "opts": meta,
            "change_url": reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk]),
            "app_label": meta.app_label,
            "app_verbose_name": apps.get_app_config(meta.app_label).verbose_name,
            **evidence_links(request.user, customer),
        },
    )
