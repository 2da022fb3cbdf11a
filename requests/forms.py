"""The public privacy request form (R1–R3): what a data subject, or their agent, sends us."""

from __future__ import annotations

from typing import Any

from django import forms

from harmonyze_portal.public_flow import LinkEmailField
from harmonyze_portal.uploads import validate_pdf
from requests.models import Regime, Right


class PrivacyRequestForm(forms.Form):
    """Checks the request on its own; whether the email is known is never looked at here, so
    every address gets the same answer."""

    name = forms.CharField(
        label="Your name",
        max_length=200,
        error_messages={"required": "Enter your name, so we know whom to answer."},
    )
    email = LinkEmailField(
        label="Your email address",
        help_text="We send a link to this address to confirm the request is yours.",
        required_message="Enter your email address: we send the confirmation link to it.",
        example="jane@example.com",
    )
    right = forms.ChoiceField(
        label="What do you ask for?",
        choices=Right.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what you ask for.",
            "invalid_choice": "Choose one of the requests listed.",
        },
    )
    regime = forms.ModelChoiceField(
        label="Which privacy law applies (where you live)",
        queryset=Regime.objects.all(),
        # No law is chosen for the requester: where they live decides it (R3), and a wrong
        # default would quietly give them the wrong deadline.
        empty_label="Choose where you live",
        to_field_name="code",
        error_messages={
            "required": "Choose the law that applies where you live.",
            "invalid_choice": "Choose one of the laws listed.",
        },
    )
    service_named = forms.CharField(
        label="Which service or company is it about? (if you know)",
        max_length=200,
        required=False,
        help_text="If you used a product of one of our customers, name it: the request may "
        "belong with them.",
    )
    details = forms.CharField(
        label="Details",
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    agent_name = forms.CharField(
        label="Authorized agent's name (only if an agent acts for you)",
        max_length=200,
        required=False,
    )
    agent_email = forms.EmailField(
        label="Authorized agent's email",
        max_length=254,
        required=False,
        error_messages={"invalid": "Enter the agent's whole email address."},
    )
    agent_proof = forms.FileField(
        label="Agent's proof of authority (PDF)",
        required=False,
        validators=[validate_pdf],
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        agent = data.get("agent_name", "").strip()
        if (data.get("agent_email") or data.get("agent_proof")) and not agent:
            self.add_error("agent_name", "Name the authorized agent, or leave the agent out.")
        return data
