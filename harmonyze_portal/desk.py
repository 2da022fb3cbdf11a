"""The legal team's desk: every overdue and soon-due deadline of the four areas in one list
(DOMAIN.md T5).

Each area stores its deadlines in indexed date columns, so each source below is one
``ORDER BY due LIMIT n`` query plus one ``COUNT``: the page costs the same number of queries,
and about the same time, whether 1,000 or 100,000 items are open. The sources are merged in
Python, soonest first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
import openpyxl
from django.conf import settings
from django.db.models import Count, F, Min, QuerySet
from django.urls import reverse

from audits.coverage import type2_coverage
from customers.models import BreachNotice, Customer
from harmonyze_portal.dates import legal_date
from harmonyze_portal.desk_sources import AREAS, RULES, SOURCES, Source
from harmonyze_portal.exports import neutralise_formula
from requests.models import DemandCustomer, DemandView
from requests.models.demands import EXPORT_PERMISSION
from subprocessors.models import Change, DeliveryStatus

DEFAULT_LIMIT = 200
# An exact COUNT reads every matching row (the status is not in the due column's index), so a
# page at 100,000 open items would cost a hundred times one at 1,000: counts stop here and
# show as "1000+".
COUNT_CAP = 1000


@dataclass(frozen=True)
class DeadlineItem:
    area: str
    rule: str
    what: str
    customer: str
    due: date
    days_left: int  # negative: overdue by that many days
    url: str
    record: int = 0  # the pk of the record the deadline belongs to (0: a sealed line)
    restricted: bool = False  # R6: counsel's alone (law-enforcement demands)
    count: int = 1  # items it stands for: a sealed line counts every restricted item it hides

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left

    @property
    def area_label(self) -> str:
        return AREAS.get(self.area, "Restricted")


def restricted_label(count: int) -> str:
    """R6: all that leaves the portal about demands: "1 restricted item — sign in"."""
    return f"{count} restricted item{'' if count == 1 else 's'} — sign in"


def sealed(items: Iterable[DeadlineItem]) -> list[DeadlineItem]:
    """What may leave the portal (R6): the items as they are, except that the restricted ones
    due on the same day become one line, "2 restricted items — sign in", with no agency,
    customer, process, country, rule or record id, and a link to the sign-in page only."""
    kept: list[DeadlineItem] = []
    hidden: dict[date, list[DeadlineItem]] = {}
    for item in items:
        if item.restricted:
            hidden.setdefault(item.due, []).append(item)
        else:
            kept.append(item)
    kept += [
        DeadlineItem(
            area="",
            rule="",
            what=restricted_label(len(group)),
            customer="",
            due=due,
            days_left=group[0].days_left,
            url=reverse("admin:index"),
            restricted=True,
            count=len(group),
        )
        for due, group in hidden.items()
    ]
    return sorted(kept, key=lambda item: item.due)  # stable: the desk's order within a day


@dataclass(frozen=True)
class Desk:
    today: date
    items: list[DeadlineItem]
    counts: dict[str, int]  # per area, every matching item (the list stops at the limit)
    limit: int
    capped: frozenset[str] = frozenset()  # areas whose count stopped at COUNT_CAP per source

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def truncated(self) -> bool:
        return self.total > len(self.items)

    @property
    def restricted_records(self) -> list[int]:
        """The demands whose data the list shows: logged as viewed (R6)."""
        return sorted({item.record for item in self.items if item.restricted and item.record})

    def sealed(self) -> Desk:
        """The desk as it may leave the portal (R6), see :func:`sealed`."""
        return Desk(
            today=self.today,
            items=sealed(self.items),
            counts=self.counts,
            limit=self.limit,
            capped=self.capped,
        )

    @property
    def area_counts(self) -> list[tuple[str, str]]:
        return [
            (label, f"{self.counts.get(area, 0)}{'+' if area in self.capped else ''}")
            for area, label in AREAS.items()
        ]


@dataclass(frozen=True)
class Query:
    """The window and filters every source is cut to."""

    today: date
    start: date | None
    end: date
    customer: Customer | None = None
    area: str | None = None
    rule: str | None = None
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    def wants(self, source: Source) -> bool:
        return (self.area in (None, "", source.area)) and (self.rule in (None, "", source.rule))

    def bound(self, day: date, source: Source, *, upper: bool) -> Any:
        """The column value that corresponds to legal due date ``day``."""
        column_day = day - timedelta(days=source.offset_days)
        if source.model is BreachNotice:
            # A datetime column: the legal day runs from local midnight to the next (T1).
            if upper:
                column_day += timedelta(days=1)
            return datetime.combine(column_day, time.min, tzinfo=self.tz)
        return column_day

    def filter(self, source: Source) -> QuerySet[Any]:
        due = source.due_field
        queryset = source.open_queryset()
        # BreachNotice's bound is the next legal midnight, excluded; dates are inclusive.
        upper = "lt" if source.model is BreachNotice else "lte"
        queryset = queryset.filter(**{f"{due}__{upper}": self.bound(self.end, source, upper=True)})
        if self.start is not None:
            queryset = queryset.filter(
                **{f"{due}__gte": self.bound(self.start, source, upper=False)}
            )
        if self.customer is not None:
            if source.many_customers:
                queryset = queryset.filter(customers=self.customer)
            elif source.model is Customer:
                queryset = queryset.filter(pk=self.customer.pk)
            elif source.customer_field is None:
                queryset = queryset.none()  # not about one customer (S3)
            else:
                queryset = queryset.filter(**{source.customer_field: self.customer})
        return queryset

    def due_date(self, value: Any, source: Source) -> date:
        if isinstance(value, datetime):
            value = legal_date(value, self.tz)
        return value + timedelta(days=source.offset_days)


def visible_sources(user: Any, query: Query) -> list[Source]:
    """Sources the user may view (law enforcement: counsel or those granted it, R4)."""
    return [s for s in SOURCES if query.wants(s) and user.has_perm(s.permission)]


def _customer_name_column(source: Source) -> str | None:
    if source.model is Customer:
        return "legal_name"
    return f"{source.customer_field}__legal_name" if source.customer_field else None


def _rows(source: Source, query: Query, limit: int) -> list[dict[str, Any]]:
    name = _customer_name_column(source)
    queryset = (
        query.filter(source)
        .order_by(source.due_field, "pk")
        .values("pk", source.due_field, *([name] if name else []), *source.fields)
    )
    if source.link_field != "pk":
        queryset = queryset.annotate(link=F(source.link_field))
    rows = list(queryset[:limit])
    for row in rows:
        row["due"] = query.due_date(row[source.due_field], source)
        row["customer"] = (row[name] or "") if name else ""
        row.setdefault("link", row["pk"])
    return rows


def _demand_customers(pks: Iterable[int]) -> dict[int, str]:
    """One query for the customer names of the listed demands (no N+1)."""
    names: dict[int, list[str]] = {}
    for demand_id, name in (
        DemandCustomer.objects.filter(demand_id__in=list(pks))
        .values_list("demand_id", "customer__legal_name")
        .order_by("customer__legal_name")
    ):
        names.setdefault(demand_id, []).append(name)
    return {pk: ", ".join(found) for pk, found in names.items()}


def deadline_items(
    user: Any,
    today: date,
    *,
    area: str | None = None,
    customer: Customer | None = None,
    rule: str | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = DEFAULT_LIMIT,
    count_cap: int = COUNT_CAP,
) -> Desk:
    """Overdue and due-within-the-horizon deadlines the user may see, soonest first (T5).

    Without ``start`` every overdue item is included; ``end`` defaults to today plus
    ``DEADLINE_HORIZON_DAYS``. Two queries per source at most, whatever the number of items:
    the rows (``ORDER BY due LIMIT limit``) and a count that stops at ``count_cap``.
    """
    horizon_end = today + timedelta(days=settings.DEADLINE_HORIZON_DAYS)
    query = Query(
        today=today, start=start, end=end or horizon_end, customer=customer, area=area, rule=rule
    )
    counts = dict.fromkeys(AREAS, 0)
    capped: set[str] = set()
    collected: list[tuple[Source, dict[str, Any]]] = []
    demand_pks: set[int] = set()
    for source in visible_sources(user, query):
        # Ordered by the due column, so the capped count walks its index (not Meta.ordering).
        count = query.filter(source).order_by(source.due_field)[:count_cap].count()
        counts[source.area] += count
        if count >= count_cap:
            capped.add(source.area)
        for row in _rows(source, query, limit):
            collected.append((source, row))
            if source.many_customers:
                demand_pks.add(row["pk"])
    demand_names = _demand_customers(demand_pks) if demand_pks else {}
    collected.sort(key=lambda pair: (pair[1]["due"], pair[0].area, pair[0].rule, pair[1]["pk"]))
    items = [
        DeadlineItem(
            area=source.area,
            rule=source.rule,
            what=source.describe(row),
            customer=demand_names.get(row["pk"], "") if source.many_customers else row["customer"],
            due=row["due"],
            days_left=(row["due"] - today).days,
            url=source.url(row),
            record=row["pk"],
            restricted=source.restricted,
        )
        for source, row in collected[:limit]
    ]
    return Desk(today=today, items=items, counts=counts, limit=limit, capped=frozenset(capped))


class DeadlineFilter(django_filters.FilterSet):
    """The dashboard's filters; the same form drives the page and its CSV/XLSX export."""

    # Labels are explicit: with no model behind the filters, django-filter cannot derive them.
    area = django_filters.ChoiceFilter(
        label="Area", choices=list(AREAS.items()), empty_label="All areas"
    )
    customer = django_filters.ModelChoiceFilter(
        label="Customer",
        queryset=Customer.objects.order_by("legal_name"),
        empty_label="All customers",
    )
    rule = django_filters.ChoiceFilter(
        label="Rule", choices=[(rule, rule) for rule in RULES], empty_label="All rules"
    )
    due = django_filters.DateFromToRangeFilter(label="Due between")

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # The list is built by deadline_items(), not by filtering one queryset.
        kwargs.setdefault("queryset", Customer.objects.none())
        super().__init__(data, **kwargs)

    def deadline_kwargs(self) -> dict[str, Any]:
        """deadline_items() keyword arguments from the valid form (invalid fields ignored)."""
        form = self.form
        form.is_valid()
        data = getattr(form, "cleaned_data", {})
        window = data.get("due")
        return {
            "area": data.get("area") or None,
            "customer": data.get("customer"),
            "rule": data.get("rule") or None,
            "start": window.start.date() if window and window.start else None,
            "end": window.stop.date() if window and window.stop else None,
        }


def log_restricted_views(user: Any, desk: Desk, path: str) -> None:
    """R6: every showing of a demand's data inside the portal is logged, one row per demand."""
    DemandView.log(user=user, demand_ids=desk.restricted_records, path=path)


def for_export(user: Any, desk: Desk) -> Desk:
    """R6: a file leaves the portal; only counsel's exports carry the demands themselves."""
    return desk if user.has_perm(EXPORT_PERMISSION) else desk.sealed()


EXPORT_HEADERS = ("Due", "Days left", "Rule", "Area", "What", "Customer", "Link")


def export_rows(desk: Desk, base_url: str = "") -> list[list[Any]]:
    """The rows of the list as shown, one per item, for CSV and XLSX."""
    return [
        [
            item.due,
            item.days_left,
            item.rule,
            item.area_label,
            item.what,
            item.customer,
            base_url + item.url,
        ]
        for item in desk.items
    ]


def export_csv(desk: Desk, base_url: str = "") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADERS)
    for row in export_rows(desk, base_url):
        writer.writerow(
            [neutralise_formula(v.isoformat() if isinstance(v, date) else v) for v in row]
        )
    return buffer.getvalue()


def export_xlsx(desk: Desk, base_url: str = "") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "deadlines"
    sheet.append(EXPORT_HEADERS)
    for row in export_rows(desk, base_url):
        sheet.append([neutralise_formula(value) for value in row])
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class CoverageWarning:
    rule: str
    text: str
    url: str


def coverage_warnings(user: Any, today: date, *, limit: int = 20) -> list[CoverageWarning]:
    """What may leave the team exposed: a Type 2 report about to age out (A5), notices that
    failed for some recipients (S6), breach notices pending (C5). One query each."""
    warnings: list[CoverageWarning] = []
    if user.has_perm("audits.view_auditreport"):
        coverage = type2_coverage(today)
        if coverage.warning:
            url = (
                reverse("admin:audits_auditreport_change", args=[coverage.report.pk])
                if coverage.report
                else reverse("admin:audits_auditreport_changelist")
            )
            warnings.append(CoverageWarning("A5", coverage.summary(), url))
    if user.has_perm("subprocessors.view_delivery") and user.has_perm("subprocessors.view_change"):
        # S3: a delivery failed for good holds the Notice date, and the earliest access date,
        # until it is sent or counsel records the decision to proceed without the address.
        for change in (
            Change.objects.gate_held()
            .select_related("subprocessor", "replaces")
            .order_by("-published_at", "-pk")[:limit]
        ):
            holding = change.holding_deliveries  # type: ignore[attr-defined]
            warnings.append(
                CoverageWarning(
                    "S3",
                    f"{change}: the gate is held by {holding} delivery(ies) that failed for good; "
                    "no Notice date or earliest access date until they are sent or counsel "
                    "proceeds without them.",
                    reverse("admin:subprocessors_delivery_changelist")
                    + f"?change__id__exact={change.pk}&status={DeliveryStatus.FAILED}",
                )
            )
    if user.has_perm("customers.view_breachnotice"):
        pending = BreachNotice.objects.pending().aggregate(
            count=Count("pk"), first=Min("notice_due_at")
        )
        if pending["count"]:
            first = legal_date(pending["first"], ZoneInfo(settings.TIME_ZONE))
            warnings.append(
                CoverageWarning(
                    "C5",
                    f"{pending['count']} breach notice(s) pending, the first due {first}.",
                    reverse("admin:customers_breachnotice_changelist") + "?notified_at__isempty=1",
                )
            )
    return warnings
