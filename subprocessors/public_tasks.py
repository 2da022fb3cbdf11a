"""The Notice Form's work that waits for the response (S2). Kept apart from ``tasks.py``, the
Notice fan-out: this one only records a signup and emails its owner."""

from __future__ import annotations

from django.tasks import task

from harmonyze_portal.public_flow import after_the_response
from subprocessors import services


@task()
@after_the_response
def request_signup(*, email: str, ip: str | None) -> int:
    """S2: record the signup (or not, for an address already pending or active) and email
    the owner; the view answered the same page to every address. Returns the signup's id."""
    return services.signup_request(email=email, ip=ip).pk
