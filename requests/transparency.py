"""The half-yearly transparency report of law-enforcement and government demands (R5).

Exact counts by country, legal process and outcome, except national-security process: US law
(50 U.S.C. 1874) lets a provider publish those only in bands of 250 starting at zero, so they
are left out of every exact table and shown as one band.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date

from harmonyze_portal.exports import neutralise_formula
from harmonyze_portal.pdf import render_pdf
from requests.models import DemandOutcome, LawEnforcementDemand, LegalProcess

BAND_WIDTH = 250


def band(count: int) -> str:
    """R5: ``0`` → "0–249", ``250`` → "250–499": the band a national-security count falls in."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    low = count // BAND_WIDTH * BAND_WIDTH
    return f"{low}–{low + BAND_WIDTH - 1}"


def half_year_bounds(year: int, half: int) -> tuple[date, date]:
    if half not in (1, 2):
        raise ValueError(f"half must be 1 or 2, not {half!r}")
    return (
        (date(year, 1, 1), date(year, 6, 30))
        if half == 1
        else (date(year, 7, 1), date(year, 12, 31))
    )


@dataclass(frozen=True)
class TransparencyReport:
    year: int
    half: int
    start: date
    end: date
    total: int  # exact, without national-security process
    by_country: list[tuple[str, int]]
    by_process: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]
    national_security_band: str
    demand_ids: tuple[int, ...] = ()  # the demands counted: their views are logged (R6)

    @property
    def period(self) -> str:
        return f"{self.year} H{self.half} ({self.start:%Y-%m-%d} to {self.end:%Y-%m-%d})"

    def rows(self) -> list[tuple[str, str, str]]:
        """Section, item, count: the report as one table (CSV, PDF)."""
        rows = [("Total (exact)", "All demands except national-security process", str(self.total))]
        rows += [("By country", country, str(n)) for country, n in self.by_country]
        rows += [("By legal process", process, str(n)) for process, n in self.by_process]
        rows += [("By outcome", outcome, str(n)) for outcome, n in self.by_outcome]
        rows.append(
            (
                "National security (band)",
                LegalProcess.NATIONAL_SECURITY.label,
                self.national_security_band,
            )
        )
        return rows


def transparency_report(*, year: int, half: int) -> TransparencyReport:
    """R5: the demands received in the half-year, counted."""
    start, end = half_year_bounds(year, half)
    demands = list(LawEnforcementDemand.objects.in_half_year(year, half))
    national_security = [d for d in demands if d.legal_process == LegalProcess.NATIONAL_SECURITY]
    exact = [d for d in demands if d.legal_process != LegalProcess.NATIONAL_SECURITY]
    countries = Counter(d.country for d in exact)
    processes = Counter(d.legal_process for d in exact)
    outcomes = Counter(d.outcome for d in exact)
    return TransparencyReport(
        year=year,
        half=half,
        start=start,
        end=end,
        total=len(exact),
        by_country=sorted(countries.items()),
        by_process=[
            (process.label, processes[process.value])
            for process in LegalProcess
            if process != LegalProcess.NATIONAL_SECURITY
        ],
        by_outcome=[(outcome.value, outcomes[outcome]) for outcome in DemandOutcome],
        national_security_band=band(len(national_security)),
        demand_ids=tuple(d.pk for d in demands),
    )


HEADERS = ("Section", "Item", "Demands")


def report_csv(report: TransparencyReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in report.rows():
        writer.writerow([neutralise_formula(value) for value in row])
    return out.getvalue()


def report_pdf(report: TransparencyReport) -> bytes:
    return render_pdf("requests/transparency_report.html", {"report": report, "headers": HEADERS})
