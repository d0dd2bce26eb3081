"""What ELICENSE decides on an application and the signed document it writes for it.

``licence_verdict`` judges a licence application on the facts *and* on what earlier decisions
consumed (a fee pays one licence, an issued licence draws its quota [seed 002, LR p.3, p.7(5)]);
``Judges`` makes the ``Judge`` that ``ApplicationStore.decide`` runs inside the deciding
transaction, and the builders of the licence, refusal, permit or "permit not issued" document,
numbered from the counter the store hands out in that same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from connectors import TransportKey
from simulators.elicensing import documents
from simulators.elicensing.facts import FactsUnavailable
from simulators.elicensing.forms import LicenceApplication, PermitDraft
from simulators.elicensing.grounds import Decision, GroundCode
from simulators.elicensing.grounds import Outcome as DecisionOutcome
from simulators.elicensing.ledger import Judge, Ledger, QuotaDraw, Verdict
from simulators.elicensing.records import QuotaCheck
from simulators.elicensing.rule_facts import Facts, RegistryAnswer
from simulators.elicensing.rules import decide, permit_registry_obstacles
from simulators.elicensing.store import Application, Outcome
from simulators.kit.clock import KZ_TIME, Clock


class MrpUnavailable(FactsUnavailable):
    """KGD has no MRP for a year a fee payment was made in: the fee cannot be judged.

    Not a refusal (the applicant did nothing wrong) and not a transient fault that retrying
    cures by itself: the flow raises an alarm and notifies the support desk at once.
    """

    def __init__(self, years: Sequence[int]) -> None:
        self.years = tuple(years)
        super().__init__(f"KGD has no MRP of {', '.join(map(str, self.years))}")


async def consumed(ledger: Ledger, facts: Facts) -> Facts:
    """``facts`` with what earlier decisions consumed: used payments, the quota drawn down."""
    ids = [p.payment_id for p in facts.payments if p.payment_id]
    uses = await ledger.payment_uses(ids)
    payments = tuple(replace(p, used_by=uses.get(p.payment_id or "")) for p in facts.payments)
    quota = facts.quota
    if quota.key is not None and quota.remaining is not None:
        remaining = await ledger.quota_remaining(quota.key, quota.remaining)
        quota = replace(quota, remaining=remaining)
    return replace(facts, payments=payments, quota=quota)


async def licence_verdict(
    ledger: Ledger,
    form: LicenceApplication,
    facts: Facts,
    registered_on: dt.date,
    builder: Callable[[Decision], Callable[[int], dict[str, Any]]],
) -> Verdict:
    """The decision on what earlier decisions left (unused payments, the quota's balance), and
    what an issued licence consumes; ``builder(decision)`` makes the column values."""
    decision = decide(form, await consumed(ledger, facts))
    if GroundCode.R6 in decision.codes and decision.unknown_mrp_years:
        raise MrpUnavailable(decision.unknown_mrp_years)
    year = registered_on.year
    if decision.outcome is not DecisionOutcome.ISSUE:
        return Verdict(f"refusal-{year}", builder(decision))
    return Verdict(
        f"licence-{form.type.value}-{year}",
        builder(decision),
        fee_payment=decision.fee_payment,
        quota=_draw(form, facts.quota),
    )


def _draw(form: LicenceApplication, quota: QuotaCheck) -> QuotaDraw | None:
    """The quantity an issued licence takes from its quota (None for goods under no quota)."""
    if quota.key is None or quota.remaining is None or form.goods.quantity is None:
        return None
    return QuotaDraw(quota.key, quota.remaining, form.goods.quantity)


@dataclass(frozen=True)
class Judges:
    """The judges of ELICENSE's decisions; documents signed with ``key``, dated by ``clock``."""

    key: TransportKey
    clock: Clock

    def permit(
        self,
        app: Application,
        draft: PermitDraft,
        registry: RegistryAnswer,
        registered_on: dt.date,
    ) -> Judge:
        obstacles = permit_registry_obstacles(draft, registry)

        def build(sequence: int) -> dict[str, Any]:
            today = self.clock.now().astimezone(KZ_TIME).date()
            number = documents.permit_number(draft.type, registered_on.year, sequence)
            permit = documents.issue_permit(draft, number, today)
            return self._decided(Outcome.ISSUED, number, documents.build_permit(permit, self.key))

        def not_issued(sequence: int) -> dict[str, Any]:
            reason = "; ".join(obstacles)
            notice = documents.not_issued(
                draft,
                application_number=app.number,
                application_date=registered_on,
                date=self.clock.now().astimezone(KZ_TIME).date(),
                reason=reason,
            )
            element = documents.build_permit_not_issued(notice, self.key)
            return {**self._decided(Outcome.NOT_ISSUED, None, element), "reason": reason}

        async def judge(ledger: Ledger) -> Verdict:
            if obstacles:
                return Verdict(f"permit-not-issued-{registered_on.year}", not_issued)
            return Verdict(f"permit-{draft.type.value}-{registered_on.year}", build)

        return judge

    def licence(self, form: LicenceApplication, facts: Facts, registered_on: dt.date) -> Judge:
        async def judge(ledger: Ledger) -> Verdict:
            return await licence_verdict(
                ledger,
                form,
                facts,
                registered_on,
                lambda d: self._licence_build(form, d, registered_on),
            )

        return judge

    def _licence_build(
        self, form: LicenceApplication, decision: Decision, registered_on: dt.date
    ) -> Callable[[int], dict[str, Any]]:
        year = registered_on.year

        def build(sequence: int) -> dict[str, Any]:
            today = self.clock.now().astimezone(KZ_TIME).date()
            if decision.outcome is DecisionOutcome.ISSUE:
                number = documents.licence_number(form.type, year, sequence)
                licence = documents.issue_licence(form, number, today)
                element = documents.build_licence(licence, self.key)
                return self._decided(Outcome.ISSUED, number, element)
            number = documents.refusal_number(year, sequence)
            refusal = documents.refuse(
                form, decision, number=number, date=today, application_date=registered_on
            )
            element = documents.build_refusal(refusal, self.key)
            values = self._decided(Outcome.REFUSED, number, element)
            return {**values, "grounds": ",".join(decision.codes)}

        return build

    def _decided(
        self, outcome: Outcome, number: str | None, element: etree._Element
    ) -> dict[str, Any]:
        return {
            "outcome": outcome.value,
            "document_number": number,
            "document_xml": etree.tostring(element, encoding="unicode"),
            "decided_at": self.clock.now(),
        }


__all__ = ["Judges", "MrpUnavailable", "consumed", "licence_verdict"]
