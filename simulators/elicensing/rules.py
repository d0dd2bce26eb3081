"""The licence decision by the seven refusal grounds of licence rules para 7 (order 51-НҚ).

``decide`` runs every rule R1–R7 and refuses with *all* the grounds that apply (T-L18), so an
applicant learns every defect at once. Each rule is a small function returning a ``Ground`` (its
code, the law's wording, a Kazakh title and the specific reasoning) or None. The codes R1–R7 are
ours: the law numbers the grounds but defines no machine-readable codes (``grounds``).

This module holds the decision, the grounds about the applicant and their documents (R1
information, R3 basis documents, R7 consent) and the permit checks; the grounds about the goods
and the trade (R2, R4, R5) are ``rules_trade``'s, the licence fee (R6) is ``rules_fee``'s, and
the facts they all judge are ``rule_facts``'.

Permits have no refusal path in the law (digest §6.B); ``check_permit_draft`` is a structural check
of the draft only — a draft that fails it is an invalid message, not a refused permit.
"""

from __future__ import annotations

import re

from simulators.elicensing.forms import AttachmentKind, LicenceApplication, PermitDraft
from simulators.elicensing.grounds import Decision, Ground, GroundCode, Outcome, ground_of
from simulators.elicensing.records import ActivityLicenceCheck, ActivityLicenceStatus
from simulators.elicensing.rule_facts import Facts, RegistryAnswer, Rule
from simulators.elicensing.rules_fee import fee_check, r6_fee_not_paid
from simulators.elicensing.rules_trade import r2_eaeu_rules, r4_international_obligations, r5_quota


def decide(application: LicenceApplication, facts: Facts) -> Decision:
    """ISSUE, or REFUSE naming every ground that applies (in the order R1…R7)."""
    grounds = tuple(g for rule in RULES if (g := rule(application, facts)) is not None)
    fee = fee_check(application, facts)
    if grounds:
        return Decision(Outcome.REFUSE, grounds, unknown_mrp_years=fee.unknown_mrp_years)
    assert fee.payment is not None  # R6 did not apply, so a payment counts
    return Decision(Outcome.ISSUE, fee_payment=fee.payment.payment_id)


# --- R1: incomplete or unreliable information -----------------------------------------------


def r1_incomplete_or_unreliable(app: LicenceApplication, facts: Facts) -> Ground | None:
    """Missing mandatory fields, an inverted period, a registry mismatch, a bad activity licence."""
    missing = app.missing_fields()
    reasons = [f"missing: {', '.join(missing)}"] if missing else []
    reasons += _inverted_period(app)
    reasons += _registry_mismatch(app, facts.registry)
    reasons += _activity_licence_unreliable(app, facts.activity_licence)
    reasons += _contract_copy_unreliable(app)
    return ground_of(GroundCode.R1, reasons)


def _contract_copy_unreliable(app: LicenceApplication) -> list[str]:
    """The attached copy must be what it says and what field 4 names [LR p.4(2)]."""
    copy, contract = app.contract_copy, app.contract
    if copy is None:
        return []  # named by missing_fields
    reasons = []
    if not copy.matches_digest():
        reasons.append(f"the attached copy «{copy.file_name}» does not match its digest")
    if contract is not None:
        names_contract = bool(contract.number and contract.date)
        if copy.kind is AttachmentKind.CONTRACT and not names_contract:
            reasons.append("a contract copy is attached but field 4 names no contract")
        if copy.kind is AttachmentKind.OTHER_INTENT_DOCUMENT and names_contract:
            reasons.append("field 4 names a contract but the copy is another document of intent")
    return reasons


def _inverted_period(app: LicenceApplication | PermitDraft) -> list[str]:
    if app.valid_from and app.valid_to and app.valid_to < app.valid_from:
        return [f"validity ends ({app.valid_to}) before it starts ({app.valid_from})"]
    return []


def _registry_mismatch(app: LicenceApplication | PermitDraft, answer: RegistryAnswer) -> list[str]:
    who = f"{app.applicant.identifier} in {answer.source}"
    if not answer.found:
        return [f"the applicant {who} is not registered"]
    reasons = []
    if not answer.active:
        reasons.append(f"the applicant {who} is not active (status {answer.status or 'unknown'})")
    name = app.applicant.name
    if name and not any(same_name(name, known) for known in answer.names):
        shown = " / ".join(answer.names) or "no name"
        reasons.append(f"applicant name «{name}» does not match the registry ({shown})")
    return reasons


_QUOTES = re.compile(r"[«»“”„\"'`]")


def _normal_name(name: str) -> str:
    # Registries and forms differ in quotes, case and spacing; nothing else is forgiven.
    return " ".join(_QUOTES.sub('"', name).casefold().split())


def same_name(given: str, known: str) -> bool:
    """The same name as a registry holds it, forgiving quotes, case and spacing only."""
    return _normal_name(given) == _normal_name(known)


def _activity_licence_unreliable(app: LicenceApplication, check: ActivityLicenceCheck) -> list[str]:
    ref, record = app.activity_licence, check.record
    if record is None:
        if ref is not None:
            return [f"activity licence {ref.number} is not in the register"]
        if check.required:
            return [f"the goods need an activity licence ({check.required_activity}); none given"]
        return []
    reasons = []
    if record.holder != app.applicant.identifier:
        reasons.append(f"activity licence {record.number} belongs to {record.holder}")
    if check.required and record.activity != check.required_activity:
        reasons.append(
            f"activity licence {record.number} covers «{record.activity}», "
            f"the goods need «{check.required_activity}»"
        )
    return reasons


# --- R3, R7 ---------------------------------------------------------------------------------


def r3_basis_document_suspended(app: LicenceApplication, facts: Facts) -> Ground | None:
    """A basis document — the activity licence or the contract / document of intent — is
    suspended or terminated [LR p.7(3)]."""
    reasons = []
    record = facts.activity_licence.record
    if record is not None and record.status is not ActivityLicenceStatus.VALID:
        reasons.append(
            f"activity licence {record.number} is {record.status.value} since {record.status_date}"
        )
    stopped = facts.stopped_contract
    if stopped is not None:
        what = "contract" if stopped.kind is AttachmentKind.CONTRACT else "document of intent"
        named = f"{what} No. {stopped.number} of {stopped.date}" if stopped.number else what
        reasons.append(
            f"{named} is {stopped.status.value} since {stopped.status_date} ({stopped.reason})"
        )
    return ground_of(GroundCode.R3, reasons)


def r7_no_consent(app: LicenceApplication, facts: Facts) -> Ground | None:
    consent = app.consent
    if consent is None or not consent.given:
        return Ground.of(GroundCode.R7, "the consent to the use of personal data is not given")
    if consent.date is None or consent.signer is None:
        return Ground.of(GroundCode.R7, "the consent line is not dated and signed")
    return None


RULES: tuple[Rule, ...] = (
    r1_incomplete_or_unreliable,
    r2_eaeu_rules,
    r3_basis_document_suspended,
    r4_international_obligations,
    r5_quota,
    r6_fee_not_paid,
    r7_no_consent,
)


# --- permits --------------------------------------------------------------------------------


def permit_registry_obstacles(draft: PermitDraft, registry: RegistryAnswer) -> tuple[str, ...]:
    """Why the registry answer (PR p.4 ¶2) lets no permit be issued; empty: issue it.

    The same reading as R1's registry part for licences: unknown, not operating (liquidated,
    suspended, an entrepreneur not trading) or another name. There is no refusal for permits, so
    the flow closes such a draft as "not issued" with these reasons (DESIGN.md "Permits").
    """
    return tuple(_registry_mismatch(draft, registry))


def check_permit_draft(draft: PermitDraft) -> tuple[str, ...]:
    """Structural problems of a draft permit; empty means the permit is issued.

    The permit rules define no refusal grounds (digest §6.B): these problems make the *message*
    invalid (rejected like a schema violation), they are not a decision on the permit.
    """
    missing = draft.missing_fields()
    problems = [f"missing: {', '.join(missing)}"] if missing else []
    return tuple(problems + _inverted_period(draft))
