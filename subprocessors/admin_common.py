"""What the sub-processor area's admin modules share."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html

from harmonyze_portal.templatetags.portal_rules import rule_filter


def ruled(value: object, rule: str) -> str:
    """A computed date with the rule that computed it (T5)."""
    if value is None:
        return "–"
    return format_html("{} <small>({})</small>", value, rule_filter(rule))


def error_messages(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, exc: Exception
) -> None:
    problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    for message in problems:
        model_admin.message_user(request, message, messages.ERROR)
