"""The public forms of the sub-processor area: the Notice Form (S2) and an objection (S4)."""

from __future__ import annotations

from django import forms

from harmonyze_portal.public_flow import LinkEmailField


class NoticeSignupForm(forms.Form):
    email = LinkEmailField(
        label="Your work email address",
        required_message="Enter the email address that should receive the notices.",
        example="dpo@example.com",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label="Why do you object to this change?",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": "Tell us why you object, so counsel can answer you.",
            "max_length": "Keep the reason under 10,000 characters; send more to the legal inbox.",
        },
    )
