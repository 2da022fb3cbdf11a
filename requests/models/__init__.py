from requests.models.demands import (
    DemandCustomer,
    DemandStep,
    DemandView,
    Disclosure,
    LawEnforcementDemand,
    LegalProcess,
    StepKind,
)
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
    "DemandCustomer",
    "DemandStep",
    "DemandView",
    "Disclosure",
    "LawEnforcementDemand",
    "LegalProcess",
    "Outcome",
    "PeriodUnit",
    "Regime",
    "Right",
    "Role",
    "StepKind",
    "VerificationMethod",
]
