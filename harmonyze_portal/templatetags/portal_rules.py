"""``{{ item.rule|rule }}``: a rule ID that explains itself (DOMAIN.md T5).

The ID becomes ``<a href="/staff/rules/#C3"><abbr title="C3. Delete customer data within 90
days of termination (DPA 9)">C3</abbr></a>``: its meaning on hover, its text and clause one
click away. Several IDs in one value ("R1/R3", "Due (C6)") each get theirs; an ID the rules
document does not know stays plain text. Text already marked safe (a help text, a header with
a checkbox) keeps its markup: only the IDs in its text, outside tags, change.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, SafeString, mark_safe

from harmonyze_portal import rules

register = template.Library()

RULE_ID = re.compile(r"\b[TCSRAH][0-9]\b")
TAG = re.compile(r"(<[^>]*>)")


def rule_html(rule_id: str, *, link: bool = True) -> SafeString:
    rule = rules.get(rule_id)
    if rule is None:
        return format_html("{}", rule_id)
    abbr = format_html('<abbr title="{}">{}</abbr>', rule.summary, rule.id)
    if not link:
        return abbr
    return format_html('<a class="rule-link" href="{}">{}</a>', rule.anchor, abbr)


def _explained(value: object, *, link: bool) -> SafeString:
    text = value if isinstance(value, SafeData) else str(value if value is not None else "")
    html = str(conditional_escape(text))
    parts = TAG.split(html)
    # Odd parts are tags (left alone); even parts are text, already escaped.
    for index in range(0, len(parts), 2):
        parts[index] = RULE_ID.sub(lambda m: str(rule_html(m.group(0), link=link)), parts[index])
    return mark_safe("".join(parts))  # noqa: S308 - escaped by conditional_escape above


@register.filter(name="rule")
def rule_filter(value: object) -> SafeString:
    """Every rule ID in ``value`` as a link to its rule, with its meaning on hover."""
    return _explained(value, link=True)


@register.filter(name="rule_abbr")
def rule_abbr(value: object) -> SafeString:
    """The same, without the link, where the text is itself a link (a sortable list header)."""
    return _explained(value, link=False)


@register.filter(name="rule_text")
def rule_text(value: object) -> str:
    """The rule with its meaning, for text: "C3 (Delete customer data ..., DPA 9)"."""
    return rules.explain(str(value or ""))
