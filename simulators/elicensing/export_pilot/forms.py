"""The pilot's documents as models: the application (Rules Annex 2), the permit (Annex 3), the
reasoned refusal (Annex 5), the termination decision (Annex 4), the holder's termination
application (Rules p.14 а) and execution report (p.16).

Form fields 4–15 and 17 reuse E-licensing's blocks (``simulators.elicensing.forms``): the pilot is
the export part of the same permit service (order p.1) and its forms print the same fields.
Field 16 (additional information) is split into ``borderCheckpoint`` — Rules Annex 1 row 8
item 7) requires the border crossing point there — and free text. Like E-licensing's inputs, the
application's fields are optional: an empty field is a refusal ground (Rules p.11(4)), not a
broken message.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from simulators.elicensing.export_pilot.goods import Committee
from simulators.elicensing.forms import (
    Amount,
    Applicant,
    AuthorizedPerson,
    Consent,
    Contract,
    Country,
    Currency,
    FormModel,
    Goods,
    Text,
)

PERMIT_NUMBER = r"^KZ-TMD-(IND|TEL|AVI)-[0-9]{4}-[0-9]{6}$"
REFUSAL_NUMBER = r"^KZ-TMD-RF-[0-9]{4}-[0-9]{6}$"
TERMINATION_NUMBER = r"^KZ-TMD-TR-[0-9]{4}-[0-9]{6}$"
COMMITTEE_CODES = {
    Committee.INDUSTRY: "IND",
    Committee.TELECOM: "TEL",
    Committee.CIVIL_AVIATION: "AVI",
}


class DocumentKind(StrEnum):
    """The attachments of Rules Annex 1 row 8 (items 1–6) and of a re-filing (Rules p.13)."""

    CONTRACT = "CONTRACT"  # 1) сыртқы сауда шарты (келісімшарт)
    INVOICE = "INVOICE"  # 2) шот-фактуралар (инвойстар)
    IMPORT_DECLARATION = "IMPORT_DECLARATION"  # 3) тауарларға арналған кедендік декларация
    IMPORT_APPLICATION = "IMPORT_APPLICATION"  # 3) әкелу туралы өтініш
    TECHNICAL_SPECIFICATION = "TECHNICAL_SPECIFICATION"  # 4) техникалық сипаттамалары
    ORIGIN_DOCUMENT = "ORIGIN_DOCUMENT"  # 5) шығарылған елін растайтын құжат
    OPERATOR_CERTIFICATE = "OPERATOR_CERTIFICATE"  # 6) эксплуатант сертификаты
    TERMINATION_APPLICATION = "TERMINATION_APPLICATION"  # p.13: тоқтату туралы өтініш
    CHANGE_DOCUMENTS = "CHANGE_DOCUMENTS"  # p.13: өзгерістерді растайтын құжаттар
    CUSTOMS_EXECUTION_INFO = "CUSTOMS_EXECUTION_INFO"  # p.13: рұқсаттың орындалуы туралы мәлімет


class Attachment(FormModel):
    """One attached document: what it is and the data on it the review compares with the form.

    ``amount``/``currency`` for an invoice (compared with fields 9–10), ``country`` for an origin
    document (field 12), ``valid_until`` for a document with a term (a contract that ended is a
    basis document "terminated", Rules p.11(5)).
    """

    kind: DocumentKind
    number: Text | None = None
    date: dt.date | None = None
    valid_until: dt.date | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    country: Country | None = None
    issuer: Text | None = None


class Buyer(FormModel):
    """Fields 6 and 8: the buyer (Сатып алушы) and the buyer's country."""

    name: Text | None = None
    address: Text | None = None
    country: Country | None = None


class AdditionalInfo(FormModel):
    """Field 16 (Қосымша ақпарат): the border crossing point (item 7) and anything else."""

    border_checkpoint: Text | None = None
    note: Text | None = None


class ExportPermitApplication(FormModel):
    """Rules Annex 2 «Жекелеген тауарлар түрлерiнiң экспортына өтініш» (application for export)."""

    authorized_body: Committee | None = None  # header "Уәкілетті орган": may be left to routing
    valid_from: dt.date | None = None  # field 2
    valid_to: dt.date | None = None
    contract: Contract | None = None  # field 4
    applicant: Applicant  # field 5
    buyer: Buyer | None = None  # fields 6, 8
    destination_country: Country | None = None  # field 7 (Межелі ел)
    goods: Goods | None = None  # fields 9–15
    additional_info: AdditionalInfo | None = None  # field 16
    authorized_person: AuthorizedPerson | None = None  # field 17
    consent: Consent | None = None  # restricted personal data (Rules p.11(3))
    replaces: Text | None = None  # p.13: the permit this application replaces
    documents: Annotated[tuple[Attachment, ...], Field(alias="document")] = ()

    def documents_of(self, kind: DocumentKind) -> list[Attachment]:
        return [d for d in self.documents if d.kind is kind]


class Signatory(FormModel):
    """Who signed a decision: the head of the committee (p.9(3)) or an authorized person."""

    name: Text
    position: Text


class ExportPermit(FormModel):
    """Rules Annex 3 «Жекелеген тауарлар түрлерiнiң экспортына рұқсат»: fields 1–17, signed by
    the head (p.9(3)) with a personal key; field 18 is the transport signature of the wrapper."""

    authorized_body: Committee
    number: Annotated[str, Field(pattern=PERMIT_NUMBER)]  # field 1
    valid_from: dt.date  # field 2, within the calendar year of issue (p.10)
    valid_to: dt.date
    type: Annotated[str, Field(pattern="^EXPORT$")] = "EXPORT"  # field 3 «ЭКСПОРТ»
    contract: Contract
    applicant: Applicant
    buyer: Buyer
    destination_country: Country
    goods: Goods
    additional_info: AdditionalInfo
    authorized_person: AuthorizedPerson
    annex: Annotated[int, Field(ge=1, le=3)]
    application_number: Text
    issue_date: dt.date
    signed_by: Signatory


class Ground(FormModel):
    """One refusal ground of Rules p.11 (codes 1–7 are the sub-paragraph numbers)."""

    code: Annotated[int, Field(ge=1, le=7)]
    title: Text
    title_kk: Text
    reasoning: Text


class ExportPermitRefusal(FormModel):
    """Rules Annex 5 «Дәлелді бас тарту» (reasoned refusal), signed by the head (p.9(3))."""

    authorized_body: Committee
    number: Annotated[str, Field(pattern=REFUSAL_NUMBER)]
    date: dt.date
    addressee: Applicant
    application_number: Text
    application_date: dt.date
    grounds: Annotated[tuple[Ground, ...], Field(min_length=1, alias="ground")]
    signed_by: Signatory


class TerminationGround(StrEnum):
    """Rules p.14 (seed L1056-1074): the cases in which the issuer terminates a permit."""

    A = "а"  # the holder's application, on paper or electronic
    B = "б"  # founding documents / IE identity document changed (p.13)
    V = "в"  # unreliable information discovered
    G = "г"  # a basis document ceased to be valid
    D = "д"  # violations in performing the contract
    E = "е"  # the permit would not have been issued had the procedure been followed
    ZH = "ж"  # a court decision


class ExportPermitTermination(FormModel):
    """Rules Annex 4 «Рұқсаттың қолданылуын тоқтату туралы шешім» (termination decision).

    The form prints the provider and the grounds only; the number, date and permit number are
    added because a message that names no permit could not be acted on (digest §6.3).
    """

    authorized_body: Committee
    number: Annotated[str, Field(pattern=TERMINATION_NUMBER)]
    date: dt.date
    permit_number: Annotated[str, Field(pattern=PERMIT_NUMBER)]
    holder: Applicant
    ground: TerminationGround
    reasoning: Text
    status: Annotated[str, Field(pattern="^тоқтатылды$")] = "тоқтатылды"  # p.15
    signed_by: Signatory


class SubmissionChannel(StrEnum):
    """Rules p.14 а): the holder's termination application comes on paper or electronically."""

    ELECTRONIC = "ELECTRONIC"
    PAPER = "PAPER"


class TerminationApplication(FormModel):
    """The holder's application to terminate a permit (Rules p.14 а)."""

    permit_number: Annotated[str, Field(pattern=PERMIT_NUMBER)]
    holder: Applicant
    reason: Text
    channel: SubmissionChannel = SubmissionChannel.ELECTRONIC


class ExecutionReport(FormModel):
    """The holder's report on a permit's execution (Rules p.16): exported quantity, note."""

    permit_number: Annotated[str, Field(pattern=PERMIT_NUMBER)]
    holder: Applicant
    exported_quantity: Annotated[Amount | None, Field()] = None
    note: Text | None = None


class ExportPilotScopeRequest(FormModel):
    """Does this export need a pilot permit? (order p.2–3, 11) — asked by the portal or KEDEN."""

    commodity_code: Annotated[str, Field(pattern=r"^[0-9]{10}$")]
    destination_country: Country
    origin_country: Country | None = None
    date: dt.date
    evidence: tuple[str, ...] = ()
    specific_goods_licence: Text | None = None


__all__ = [
    "AdditionalInfo",
    "Attachment",
    "Buyer",
    "DocumentKind",
    "ExecutionReport",
    "ExportPermit",
    "ExportPermitApplication",
    "ExportPermitRefusal",
    "ExportPermitTermination",
    "ExportPilotScopeRequest",
    "Ground",
    "Signatory",
    "SubmissionChannel",
    "TerminationApplication",
    "TerminationGround",
]
