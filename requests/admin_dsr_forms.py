"""The forms of the data subject request admin: staff entry (R2, R3), the redirect to the
customer (R1) and the year of the metrics report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator

from customers.models import Customer
from harmonyze_portal.admin import ChangeReasonForm


class DSRForm(ChangeReasonForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "received_on" in self.fields:
            # Staff enter requests received by email or letter: the date is theirs to give.
            self.fields["received_on"].required = True

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("verification_method") and not cleaned.get("verified_on"):
            self.add_error("verified_on", "Give the date the identity was verified (R2).")
        return cleaned


class RedirectForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.order_by("legal_name"),
        help_text="Suggested from the requester's email domain or the service they named (R1).",
    )
    message = forms.CharField(
        label="Reply to the data subject",
        widget=forms.Textarea(attrs={"rows": 14, "cols": 90}),
        help_text="Edit before sending. Choosing another customer and pressing “Redraft” "
        "writes the reply for that customer.",
    )
    inform_customer = forms.BooleanField(
        label="Also inform the customer's privacy contact",
        required=False,
        help_text="Always done when the customer's DPA includes the SCCs: notifying it is then "
        "mandatory (SCC Clause 10(a), R1), ticked or not.",
    )


class MetricsForm(forms.Form):
    year = forms.IntegerField(min_value=2000)

    def __init__(self, *args: Any, this_year: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].validators.append(MaxValueValidator(this_year))
        self.fields["year"].widget.attrs["max"] = this_year
