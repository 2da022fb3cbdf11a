from customers.models.accounts import Contact, Customer, CustomerDomain
from customers.models.assistance import AssistanceRequest, ProhibitedDataFinding
from customers.models.breach_log import BreachMessage, BreachRemediation
from customers.models.breaches import Breach, BreachNotice
from customers.models.dpas import DPA, DeletionCertificate
from customers.models.holds import LegalHold
from customers.models.instructions import Instruction, InstructionNotice, InstructionResponse

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
    "Instruction",
    "InstructionNotice",
    "InstructionResponse",
    "LegalHold",
    "ProhibitedDataFinding",
]
