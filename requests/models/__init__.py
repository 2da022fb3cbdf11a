from requests.models.demands import DemandView, Disclosure, LawEnforcementDemand, LegalProcess
from requests.models.dsr import (
    Channel,
    DataSubjectRequest,
    DSRStatus,
    Outcome,
    PeriodUnit,
    Regime,
    Right,
    Role,
    VerificationMethod,
)

__all__ = [
    "Channel",
    "DSRStatus",
    "DataSubjectRequest",
    "DemandView",
    "Disclosure",
    "LawEnforcementDemand",
    "LegalProcess",
    "Outcome",
    "PeriodUnit",
    "Regime",
    "Right",
    "Role",
    "VerificationMethod",
]
