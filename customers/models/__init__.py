from customers.models.accounts import Contact, Customer, CustomerDomain
from customers.models.assistance import AssistanceRequest, ProhibitedDataFinding
from customers.models.breach_log import BreachMessage, BreachRemediation
from customers.models.breaches import Breach, BreachNotice
from customers.models.dpas import DPA, DeletionCertificate

__all__ = [
    "DPA",
    "AssistanceRequest",
    "Breach",
    "BreachMessage",
    "BreachNotice",
    "BreachRemediation",
    "Contact",
    "Customer",
    "CustomerDomain",
    "DeletionCertificate",
    "ProhibitedDataFinding",
]
