"""Forming an export declaration (seed 004 Annex 5, para 1 exclusions, para 10 processes 4-5 and
condition 2): what the procedure excludes, who the declarant is, whether the goods need a permit
and the cited documents cover them, and whether KEDEN's own customs record can bear the quantity.
Each refusal reason carries the remedy the declarant needs (para 8(3)).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from simulators.customs.declarations import (
    Declarant,
    DeclarationItem,
    ExportDeclaration,
    PaymentMethod,
    PermitDocument,
    Reason,
)
from simulators.customs.models import CustomsRecord, RecordStatus, TradeType

__all__ = ["PermitGoods", "exclusions", "identification", "permit_check", "record_problem"]


@dataclass(frozen=True)
class PermitGoods:
    """Goods under non-tariff measures: a declaration of them needs a permit document.

    Prefixes of the commodity code (a 4-digit heading covers every code under it). KEDEN knows
    the list from the measures in force [design: the list is a fixture, not a legal text].
    """

    prefixes: tuple[str, ...]

    def needs_permit(self, code: str) -> bool:
        return any(code.startswith(p) for p in self.prefixes)


def exclusions(declaration: ExportDeclaration) -> list[Reason]:
    """The cases in which the paperless export form does not apply (title L29; para 1 L993-1008)."""
    found = []
    if declaration.procedure != "EXPORT":
        found.append(
            Reason(
                "NOT_EXPORT_PROCEDURE",
                f"the paperless form covers the export customs procedure only, "
                f"not {declaration.procedure} (Annex 5 title and para 1)",
                "Declare goods under other procedures on the general (non-paperless) form.",
            )
        )
    if declaration.payment_method is PaymentMethod.CUSTOMS_POS_TERMINAL:
        found.append(
            Reason(
                "PAYMENT_AT_CUSTOMS_TERMINAL",
                "customs payments through a POS terminal in a customs building exclude the "
                "paperless form (Annex 5 para 1(1))",
                "Pay customs payments from the personal account, or declare on paper.",
            )
        )
    if declaration.payment_method is PaymentMethod.CUSTOMS_CASH_DESK:
        found.append(
            Reason(
                "PAYMENT_AT_CUSTOMS_CASH_DESK",
                "customs payments at a bank cash desk in a customs building exclude the "
                "paperless form (Annex 5 para 1(2))",
                "Pay customs payments from the personal account, or declare on paper.",
            )
        )
    if declaration.duty_benefit_claimed or declaration.tariff_preference_claimed:
        found.append(
            Reason(
                "DUTY_BENEFIT_OR_PREFERENCE",
                "goods claiming customs-payment benefits or tariff preferences are outside the "
                "paperless form (Annex 5 para 1(4))",
                "Declare goods with benefits or preferences on the general form.",
            )
        )
    return found


def identification(declarant: Declarant, declarant_id: str) -> list[Reason]:
    """Condition 2 (L1132-1136): the declarant's data exists and is valid in GBDUL/GBDFL."""
    if not declarant.found:
        return [
            Reason(
                "DECLARANT_NOT_FOUND",
                f"{declarant_id} is in neither the legal-entities nor the individuals database "
                "(Annex 5 para 10, process 4 and condition 2)",
                "Check the BIN/IIN, or register the entity before declaring.",
            )
        ]
    if not declarant.active:
        return [
            Reason(
                "DECLARANT_NOT_ACTIVE",
                f"{declarant_id} is {declarant.status or 'not active'} in the state database "
                "(Annex 5 para 10, condition 2)",
                "Only an active declarant may declare; resolve the registry status first.",
            )
        ]
    return []


def permit_check(
    declaration: ExportDeclaration,
    documents: Sequence[PermitDocument],
    goods: PermitGoods,
    today: date,
    reserved: Mapping[str, Decimal] | None = None,
) -> list[Reason]:
    """The goods against the permit documents E-licensing holds (para 1(3) L1002-1005, para 10
    process 4-5 L1122-1136): every item under a measure cites a document that exists, is the
    declarant's, covers the code, the destination and today, is VALID, and — summed over the
    declaration's items and the declarations already registered against it (``reserved``) —
    has that much quantity left [design: holder/code/country/dates/quantity matching].
    """
    by_number = {d.number: d for d in documents}
    reserved = reserved or {}
    wanted: dict[str, Decimal] = defaultdict(Decimal)
    reasons: list[Reason] = []
    for index, item in enumerate(declaration.items, start=1):
        if not item.permit_numbers:
            if goods.needs_permit(item.code) or _covers_any(documents, item.code):
                reasons.append(_no_permit(item, index))
            continue
        for number in item.permit_numbers:
            document = by_number.get(number)
            problem = _mismatch(declaration, item, index, number, document, today)
            if problem is not None:
                reasons.append(problem)
                continue
            wanted[number] += item.quantity
    for number, quantity in wanted.items():
        document = by_number[number]
        left = document.remaining_quantity - reserved.get(number, Decimal(0))
        if quantity > left:
            reasons.append(
                Reason(
                    "PERMIT_QUANTITY_EXCEEDED",
                    f"{number} has {left} {document.unit} left"
                    + (
                        f" ({reserved[number]} held by declarations in work)"
                        if number in reserved
                        else ""
                    )
                    + f"; the declaration asks for {quantity}",
                    "Declare at most the remaining quantity, or obtain a new licence/permit "
                    "for the rest.",
                    permit_number=number,
                )
            )
    return reasons


def _covers_any(documents: Iterable[PermitDocument], code: str) -> bool:
    # E-licensing holds a document of this declarant for these goods: the goods are under a
    # measure even if KEDEN's list missed them, so the declaration must rely on it.
    return any(code in d.codes for d in documents)


def _no_permit(item: DeclarationItem, index: int) -> Reason:
    return Reason(
        "PERMIT_ABSENT",
        f"goods {item.code} are under non-tariff measures and the item cites no permit document "
        "held in the E-licensing database (Annex 5 para 1(3) and para 10, process 5)",
        "Obtain the licence/permit through E-licensing and cite its number on the item.",
        item=index,
    )


def _mismatch(
    declaration: ExportDeclaration,
    item: DeclarationItem,
    index: int,
    number: str,
    document: PermitDocument | None,
    today: date,
) -> Reason | None:
    if document is None:
        return Reason(
            "PERMIT_NOT_IN_DATABASE",
            f"{number} is not in the E-licensing database for declarant "
            f"{declaration.declarant_id} (Annex 5 para 1(3), para 10 condition 2)",
            "Cite a licence/permit issued to the declarant through E-licensing.",
            item=index,
            permit_number=number,
        )
    checks = (
        (
            document.holder_id != declaration.declarant_id,
            "PERMIT_HOLDER_MISMATCH",
            f"{number} is held by {document.holder_id}, not the declarant",
            "Only the holder may declare against its licence/permit.",
        ),
        (
            document.trade_type is not TradeType.EXPORT,
            "PERMIT_NOT_FOR_EXPORT",
            f"{number} is an {document.trade_type.value.lower()} document",
            "Cite an export licence/permit.",
        ),
        (
            item.code not in document.codes,
            "PERMIT_CODE_MISMATCH",
            f"{number} covers {', '.join(document.codes)}, not {item.code}",
            "Declare the goods under the code the licence/permit names, or obtain one for it.",
        ),
        (
            not document.allows_destination(item.destination_country),
            "PERMIT_COUNTRY_MISMATCH",
            f"{number} names {document.trade_country} "
            f"({document.trade_country_role.value.lower()}), the item goes to "
            f"{item.destination_country}",
            "Declare the destination the licence/permit names.",
        ),
        (
            document.unit != item.unit,
            "PERMIT_UNIT_MISMATCH",
            f"{number} counts in {document.unit}, the item in {item.unit}",
            "Declare the quantity in the licence/permit's unit.",
        ),
        (
            document.status is not RecordStatus.VALID,
            "PERMIT_NOT_VALID",
            f"{number} is {document.status.value}",
            "A terminated, expired or exhausted document cannot cover goods; obtain a new one.",
        ),
        (
            not document.valid_from <= today <= document.valid_to,
            "PERMIT_NOT_VALID",
            f"{number} is valid {document.valid_from}..{document.valid_to}, not on {today}",
            "Declare within the licence/permit's validity.",
        ),
    )
    for failed, code, text, remedy in checks:
        if failed:
            return Reason(code, text, remedy, item=index, permit_number=number)
    return None


def record_problem(
    number: str,
    quantity: Decimal,
    record: CustomsRecord | None,
    now: datetime,
    held: Decimal = Decimal(0),
) -> Reason | None:
    """The document against KEDEN's own customs record (F6 item 10: one model of status for
    F1 licences, F2 permits and — later — F3 permits): it must be there, VALID at ``now`` (not
    terminated «тоқтатылды», expired or exhausted) and have ``quantity`` left beyond what other
    declarations in work ``held`` [design]."""
    if record is None:
        return Reason(
            "PERMIT_NOT_IN_RECORDS",
            f"{number} has no customs record in KEDEN",
            "Wait until E-licensing has registered the document with customs, then declare.",
            permit_number=number,
        )
    status = record.status_on(now)
    if status is not RecordStatus.VALID:
        why = f" ({record.status_reason})" if record.status_reason else ""
        return Reason(
            "PERMIT_NOT_VALID",
            f"{number} is {status.value} in KEDEN's records{why}",
            "A terminated, expired or exhausted document cannot cover goods; obtain a new one.",
            permit_number=number,
        )
    left = record.remaining_quantity - held
    if quantity > left:
        return Reason(
            "PERMIT_QUANTITY_EXCEEDED",
            f"{number} has {left} {record.content.unit} left in KEDEN's records"
            + (f" ({held} held by declarations in work)" if held else "")
            + f"; the declaration asks for {quantity}",
            "Declare at most the remaining quantity, or obtain a new licence/permit for the rest.",
            permit_number=number,
        )
    return None
