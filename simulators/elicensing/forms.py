"""What the applicant files: the licence application and the draft permit (order 51-НҚ).

Two layers of checking, on purpose:

- *format* is enforced here (a malformed BIN/IIN, currency, country or commodity code, a
  non-positive amount): such a message is structurally invalid and is rejected before any
  decision, like an XSD violation;
- *completeness* is not: a form field left empty is data the law answers with a motivated refusal
  (licence ground R1, "incomplete information"), so most form fields are optional here and
  ``missing_fields`` lists the empty mandatory ones for the rule to name.

Names are neutral where the printed forms disagree (digest §7.9): ``counterparty`` with a role
BUYER/SELLER, ``trade_country`` with a role DISPATCH/DESTINATION.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
)
from pydantic.alias_generators import to_camel

from simulators.kit.identifiers import explain_invalid


def _checked_identifier(value: str) -> str:
    reason = explain_invalid(value)
    if reason is not None:
        raise ValueError(f"not a valid BIN/IIN: {reason}")
    return value


def _plain_decimal(value: Decimal) -> str:
    # str(Decimal("1E+3")) is "1E+3", which xs:decimal refuses; "f" never uses an exponent.
    return format(value, "f")


Identifier = Annotated[str, AfterValidator(_checked_identifier)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
# ISO 3166-1 alpha-2 and ISO 4217 alpha-3: the shape is checked, not membership in the lists.
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# ТН ВЭД / СЭҚ БТН of the EAEU: 10 digits.
CommodityCode = Annotated[str, Field(pattern=r"^[0-9]{10}$")]
Amount = Annotated[Decimal, Field(gt=0), PlainSerializer(_plain_decimal, when_used="json")]


class FormModel(BaseModel):
    """Frozen, strict about unknown fields; field names map to XML element names (camelCase)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )


class TradeType(StrEnum):
    """Field 3: the licence (permit) type."""

    IMPORT = "IMPORT"
    EXPORT = "EXPORT"


class ApplicantKind(StrEnum):
    """Who applies: decides the registry asked (GBDUL for a BIN, GBDFL for an IIN)."""

    LEGAL_ENTITY = "LEGAL_ENTITY"
    INDIVIDUAL_ENTREPRENEUR = "INDIVIDUAL_ENTREPRENEUR"


class CounterpartyRole(StrEnum):
    BUYER = "BUYER"
    SELLER = "SELLER"


class TradeCountryRole(StrEnum):
    DISPATCH = "DISPATCH"
    DESTINATION = "DESTINATION"


class Contract(FormModel):
    """Field 4: the foreign-trade contract, or another document confirming the intentions.

    Licence rules para 4 item 2: without a contract, "another document confirming the intentions
    of the parties" is given instead (for a one-time licence); ``other_document`` describes it.
    """

    number: Text | None = None
    date: dt.date | None = None
    other_document: Text | None = None

    def missing(self) -> list[str]:
        if self.number and self.date:
            return []
        if self.other_document:
            return []
        return ["contract number and date, or another document confirming intentions (field 4)"]


class AttachmentKind(StrEnum):
    """What the attached copy is (LR p.4(2))."""

    CONTRACT = "CONTRACT"  # the foreign-trade contract, its annexes and/or supplements
    OTHER_INTENT_DOCUMENT = "OTHER_INTENT_DOCUMENT"  # another document of the parties' intentions


# xs:base64Binary without line breaks; 10 MB of content at most (a scanned contract, not a film).
Base64 = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9+/]*={0,2}$", min_length=4, max_length=14_000_000)
]


class Attachment(FormModel):
    """The electronic copy of the contract or of another document of intent [LR p.4(2)].

    ``digest`` is the SHA-256 of the content (hex) as the portal computed it at upload: a copy
    whose content does not match it is not a reliable copy (R1).
    """

    kind: AttachmentKind
    file_name: Text
    media_type: Annotated[str, Field(pattern=r"^[a-z]+/[a-z0-9.+-]+$")]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    content: Base64

    @classmethod
    def of(cls, kind: AttachmentKind, file_name: str, media_type: str, data: bytes) -> Attachment:
        """The attachment of ``data``, its digest computed."""
        return cls(
            kind=kind,
            file_name=file_name,
            media_type=media_type,
            digest=hashlib.sha256(data).hexdigest(),
            content=base64.b64encode(data).decode("ascii"),
        )

    def data(self) -> bytes | None:
        """The attached bytes; None when the content is not valid base64."""
        try:
            return base64.b64decode(self.content, validate=True)
        except binascii.Error:
            return None

    def matches_digest(self) -> bool:
        data = self.data()
        return data is not None and hashlib.sha256(data).hexdigest() == self.digest


class Applicant(FormModel):
    """Field 5. The identifier is mandatory and well-formed: every answer is addressed by it."""

    kind: ApplicantKind
    identifier: Identifier
    name: Text | None = None
    address: Text | None = None

    def missing(self) -> list[str]:
        return _absent(self, {"name": "applicant name (field 5)", "address": "applicant address"})


class Counterparty(FormModel):
    """Fields 6 and 8: the foreign party (buyer or seller) and its country."""

    role: CounterpartyRole
    name: Text | None = None
    country: Country | None = None
    address: Text | None = None

    def missing(self) -> list[str]:
        return _absent(self, _COUNTERPARTY_LABELS)


_COUNTERPARTY_LABELS = {
    "name": "counterparty name (field 6)",
    "country": "counterparty country (field 8)",
}


class TradeCountry(FormModel):
    """Field 7: the country of dispatch or of destination (the forms disagree which)."""

    role: TradeCountryRole
    country: Country | None = None

    def missing(self) -> list[str]:
        return _absent(self, {"country": "country of dispatch/destination (field 7)"})


class Goods(FormModel):
    """Fields 9–15: one goods line (the law is silent on several lines; one licence, one code)."""

    currency: Currency | None = None
    value: Amount | None = None
    statistical_value: Amount | None = None
    origin_country: Country | None = None
    quantity: Amount | None = None
    unit: Text | None = None
    commodity_code: CommodityCode | None = None
    description: Text | None = None

    def missing(self) -> list[str]:
        return _absent(self, _GOODS_LABELS)


_GOODS_LABELS = {
    "currency": "contract currency (field 9)",
    "value": "value (field 10)",
    "statistical_value": "statistical value (field 11)",
    "origin_country": "country of origin (field 12)",
    "quantity": "quantity (field 13)",
    "unit": "unit of measurement (field 14)",
    "commodity_code": "commodity code (field 15)",
    "description": "goods description (field 15)",
}


class AuthorizedPerson(FormModel):
    """The applicant's authorized person: field 18 of the application, field 17 of a permit."""

    surname: Text | None = None
    first_name: Text | None = None
    patronymic: Text | None = None  # "if any"
    position: Text | None = None
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{5,20}$")] | None = None
    date: dt.date | None = None

    def missing(self) -> list[str]:
        return _absent(
            self,
            {
                "surname": "authorized person's surname",
                "first_name": "authorized person's first name",
                "position": "authorized person's position",
                "phone": "authorized person's telephone",
            },
        )


class Consent(FormModel):
    """The consent line: use of legally protected secrets / restricted personal data (R7)."""

    given: bool
    date: dt.date | None = None
    signer: Text | None = None


class ActivityLicenceReference(FormModel):
    """Para 4 item 3: the activity licence held (a copy, or information on holding it)."""

    number: Text
    issued_on: dt.date | None = None


class LicenceApplication(FormModel):
    """The application for an import (Annex 2) or export (Annex 1) licence."""

    number: Text | None = None  # field 1: assigned by E-licensing at registration
    valid_from: dt.date | None = None  # field 2, inclusive
    valid_to: dt.date | None = None  # field 2, inclusive ("қоса алғанда")
    type: TradeType
    contract: Contract | None = None
    contract_copy: Attachment | None = None  # LR p.4(2): the copy itself, not only field 4
    applicant: Applicant
    counterparty: Counterparty | None = None
    trade_country: TradeCountry | None = None
    goods: Goods = Goods()
    additional_info: Text | None = None  # field 16, optional
    basis: Text | None = None  # field 17; mandatory only where an EAEU rule says so (R2)
    authorized_person: AuthorizedPerson | None = None
    consent: Consent | None = None  # judged by R7, not by completeness
    fee_payment_reference: Text | None = None  # optional: PEP is asked anyway
    activity_licence: ActivityLicenceReference | None = None

    def missing_fields(self) -> list[str]:
        """The mandatory form fields left empty, labelled with their form field numbers."""
        missing = _common_missing(self)
        if self.contract_copy is None:
            missing.append(CONTRACT_COPY_LABEL)
        return missing + _sub_missing(
            self.authorized_person, "applicant's authorized person (field 18)"
        )


CONTRACT_COPY_LABEL = (
    "electronic copy of the contract or of another document of intent (licence rules p.4(2))"
)


class PermitDraft(FormModel):
    """The draft permit (permit rules, Annexes 1/2): same goods block, no fee, no basis.

    Field 1 (permit number) is assigned at issue, so it is not part of the draft.
    """

    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    type: TradeType
    contract: Contract | None = None
    applicant: Applicant
    counterparty: Counterparty | None = None
    trade_country: TradeCountry | None = None
    goods: Goods = Goods()
    additional_info: Text | None = None  # field 16
    authorized_person: AuthorizedPerson | None = None  # field 17

    def missing_fields(self) -> list[str]:
        return _common_missing(self) + _sub_missing(
            self.authorized_person, "applicant's authorized person (field 17)"
        )


def _absent(model: BaseModel, labels: dict[str, str]) -> list[str]:
    return [label for name, label in labels.items() if getattr(model, name) is None]


def _sub_missing(
    part: Contract | Counterparty | TradeCountry | AuthorizedPerson | None, label: str
) -> list[str]:
    return [label] if part is None else part.missing()


def _common_missing(form: LicenceApplication | PermitDraft) -> list[str]:
    missing = []
    if form.valid_from is None or form.valid_to is None:
        missing.append("validity period (field 2)")
    missing += _sub_missing(form.contract, "contract (field 4)")
    missing += form.applicant.missing()
    missing += _sub_missing(form.counterparty, "counterparty (fields 6 and 8)")
    missing += _sub_missing(form.trade_country, "country of dispatch/destination (field 7)")
    return missing + form.goods.missing()
