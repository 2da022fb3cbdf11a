"""The rule texts, read from their one source, ``docs/rules.md`` (DOMAIN.md T5).

Wherever the portal shows a rule ID (the dashboard, a list, a change page, an export, the
calendar, the digest) it carries the rule's meaning and clause from here: ``<abbr>`` with a
link to ``/staff/rules/#C3`` in HTML (the ``rule`` filter in ``templatetags/portal_rules.py``),
:func:`explain` in text. The staff rules page is the same document, rendered.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

HEADING = re.compile(r"^### ([TCSRAH][0-9])\. (.+)$", re.MULTILINE)
SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
# A quote: "> " lines, then "> — SOURCE clause" (DPA 9, PP 5, SCC Clause 10(a), ...).
QUOTE = re.compile(r"((?:^> (?!— ).+\n)+)^> — (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Quote:
    text: str
    clause: str  # "DPA 9", "PP 4", "SCC Clause 10(a)"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    group: str  # "Customers and their DPAs", ...
    meaning: str  # the plain-words paragraphs, joined
    quotes: tuple[Quote, ...]

    @property
    def clauses(self) -> str:
        """Where the rule comes from: "DPA 9", "DPA 5.1; PP 5" ..."""
        return "; ".join(dict.fromkeys(quote.clause for quote in self.quotes))

    @property
    def summary(self) -> str:
        """One line: "C3. Delete customer data within 90 days of termination (DPA 9)"."""
        source = f" ({self.clauses})" if self.quotes else ""
        return f"{self.id}. {self.title}{source}"

    @property
    def anchor(self) -> str:
        return f"/staff/rules/#{self.id}"


def rules_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "rules.md"


def parse(text: str) -> dict[str, Rule]:
    """The rules of a rules document, in document order."""
    found = list(HEADING.finditer(text))
    parsed: dict[str, Rule] = {}
    for match, following in zip(found, [*found[1:], None], strict=True):
        body = text[match.end() : following.start() if following else len(text)]
        body = SECTION.split(body, maxsplit=1)[0]  # a "## Group" heading ends the rule
        groups = SECTION.findall(text[: match.start()])
        quotes = tuple(
            Quote(" ".join(line[2:] for line in q.group(1).splitlines()), q.group(2).strip())
            for q in QUOTE.finditer(body)
        )
        prose = " ".join(
            line.strip()
            for line in body.strip().splitlines()
            if line.strip() and not line.startswith(">")
        )
        parsed[match.group(1)] = Rule(
            id=match.group(1),
            title=match.group(2).strip(),
            group=groups[-1] if groups else "",
            meaning=prose,
            quotes=quotes,
        )
    return parsed


@functools.cache
def all_rules() -> dict[str, Rule]:
    """Every rule of ``docs/rules.md``, by ID (read once per process)."""
    return parse(rules_path().read_text(encoding="utf-8"))


def get(rule_id: str) -> Rule | None:
    return all_rules().get(rule_id.strip())


def explain(rule_id: str) -> str:
    """The rule ID with its meaning, for text outputs (CSV, calendar, digest): "C3 (Delete
    customer data within 90 days of termination, DPA 9)"; an unknown ID as it is."""
    rule = get(rule_id)
    if rule is None:
        return rule_id
    source = f", {rule.clauses}" if rule.quotes else ""
    return f"{rule.id} ({rule.title}{source})"


def rules_page(request: HttpRequest) -> HttpResponse:
    """``/staff/rules/``: every rule, in plain words, with its clause quoted; one anchor each.
    Staff only, like every admin page (``admin.site.admin_view`` in the URLs)."""
    groups: dict[str, list[Rule]] = {}
    for rule in all_rules().values():
        groups.setdefault(rule.group, []).append(rule)
    return TemplateResponse(
        request,
        "admin/harmonyze_portal/rules.html",
        {
            **admin.site.each_context(request),
            "title": "The rules the portal enforces",
            "groups": groups,
        },
    )
