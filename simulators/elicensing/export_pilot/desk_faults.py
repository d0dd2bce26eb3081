"""The desk's refusals as SOAP faults (``Client.ExportPilot.*``), each with the hint an officer or
the holder needs to act on it.
"""

from __future__ import annotations

from connectors import FaultCode

__all__ = [
    "FINDINGS_OPEN",
    "GROUND_NOT_APPLICABLE",
    "NOT_THE_HEAD",
    "NOT_VALID",
    "NOT_YOUR_COMMITTEE",
    "NO_AMENDMENTS",
    "UNKNOWN_APPLICATION",
    "UNKNOWN_PERMIT",
    "WRONG_HOLDER",
    "WRONG_STEP",
]


def _fault(code: str, title: str, hint: str) -> FaultCode:
    return FaultCode(f"Client.ExportPilot.{code}", title, hint)


UNKNOWN_APPLICATION = _fault(
    "UnknownApplication", "No such pilot application", "Use the TMD-YYYY-NNNNNN number."
)
UNKNOWN_PERMIT = _fault(
    "UnknownPermit", "No such pilot permit", "Use the KZ-TMD-… number of an issued permit."
)
NOT_YOUR_COMMITTEE = _fault(
    "NotYourCommittee",
    "The officer does not belong to the committee that handles these goods",
    "Annex 1 goes to INDUSTRY, Annex 2 to TELECOM, Annex 3 to CIVIL_AVIATION (order p.4-6).",
)
WRONG_STEP = _fault(
    "WrongStep",
    "The application is not at this step",
    "Take → approve/refuse → the head signs; another officer may have done this step already.",
)
FINDINGS_OPEN = _fault(
    "FindingsOpen",
    "The review found refusal grounds; the application cannot be approved",
    "Refuse with the grounds listed in findings (Rules p.11), or ask the applicant to re-file.",
)
GROUND_NOT_APPLICABLE = _fault(
    "GroundNotApplicable",
    "A refusal needs grounds of Rules p.11 that apply to these goods, each with a reason",
    "Grounds are 1-7; ground 6 is for Annexes 1-2 only, ground 7 for Annex 3 only.",
)
NOT_THE_HEAD = _fault(
    "NotTheHead",
    "Only the committee's head signs the draft",
    "Rules p.9(3): the draft permit or refusal is signed by the head of the provider.",
)
NOT_VALID = _fault(
    "PermitNotValid",
    "The permit is not valid: it cannot be terminated again",
    "A terminated permit stays «тоқтатылды»; apply for a new permit (Rules p.13).",
)
NO_AMENDMENTS = _fault(
    "NoAmendments",
    "An issued permit cannot be changed, not even technically (Rules p.12)",
    "Terminate it (Rules p.14) and file a new application with customs' execution info (p.13).",
)
WRONG_HOLDER = _fault(
    "WrongHolder",
    "The permit belongs to another holder",
    "Only the holder files the termination application or the execution report.",
)
