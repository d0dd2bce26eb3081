"""Sample applications and facts for the E-licensing tests, built on the GBDUL fixture companies."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from simulators.elicensing.forms import (
    Applicant,
    ApplicantKind,
    Attachment,
    AttachmentKind,
    AuthorizedPerson,
    Consent,
    Contract,
    Counterparty,
    CounterpartyRole,
    Goods,
    LicenceApplication,
    PermitDraft,
    TradeCountry,
    TradeCountryRole,
    TradeType,
)
from simulators.elicensing.records import default_records
from simulators.elicensing.rule_facts import Facts, Payment, PaymentStatus, Registry, RegistryAnswer
from simulators.elicensing.rules_fee import LICENCE_FEE_PURPOSE

ORGANIZATIONS = (
    Path(__file__).resolve().parents[3]
    / "simulators"
    / "legal_entities"
    / "fixtures"
    / "organizations.json"
)
REGISTERED_ON = dt.date(2026, 11, 23)  # a Monday
MRP_2025 = Decimal("3932")
MRP_2026 = Decimal("4325")
FEE_2026 = MRP_2026 * 10

EXPORTER = "200640360888"  # ТОО «Семей Тері», ACTIVE
IMPORTER = "150740415286"  # ТОО «Достық Трейд», ACTIVE
SUSPENDED_COMPANY = "120340058640"  # АО «Орал Металл», SUSPENDED in GBDUL
ENTREPRENEUR_IIN = "610503329218"  # Садыков Нурлан Серикович (a head IIN of the fixtures)
ENTREPRENEUR_NAME = "ИП Садыков Нурлан Серикович"


@cache
def organizations() -> dict[str, dict[str, Any]]:
    entries = json.loads(ORGANIZATIONS.read_text(encoding="utf-8"))
    return {entry["bin"]: entry for entry in entries}


def applicant(bin: str) -> Applicant:
    org = organizations()[bin]
    address = f"{org['address']['city']}, {org['address']['street']}"
    return Applicant(
        kind=ApplicantKind.LEGAL_ENTITY, identifier=bin, name=org["short_name"], address=address
    )


def person() -> AuthorizedPerson:
    return AuthorizedPerson(
        surname="Ахметова",
        first_name="Динара",
        patronymic="Болатовна",
        position="Директор",
        phone="+7 701 555 12 34",
        date=REGISTERED_ON,
    )


def contract_copy(number: str, kind: AttachmentKind = AttachmentKind.CONTRACT) -> Attachment:
    """A small PDF-like copy of contract ``number`` (its bytes name it, so digests differ)."""
    data = f"%PDF-1.7 foreign-trade contract {number} with annexes".encode()
    return Attachment.of(kind, f"{number.replace('/', '-')}.pdf", "application/pdf", data)


def export_application(**changes: Any) -> LicenceApplication:
    """A complete export licence application (leather to Italy) that passes every rule."""
    base = LicenceApplication(
        number="APP-2026-000101",
        valid_from=REGISTERED_ON,
        valid_to=dt.date(2027, 6, 30),
        type=TradeType.EXPORT,
        contract=Contract(number="ST-17/2026", date=dt.date(2026, 10, 1)),
        contract_copy=contract_copy("ST-17/2026"),
        applicant=applicant(EXPORTER),
        counterparty=Counterparty(
            role=CounterpartyRole.BUYER, name="Conceria Toscana S.p.A.", country="IT"
        ),
        trade_country=TradeCountry(role=TradeCountryRole.DESTINATION, country="IT"),
        goods=Goods(
            currency="EUR",
            value=Decimal("184000.00"),
            statistical_value=Decimal("197500.00"),
            origin_country="KZ",
            quantity=Decimal("40000"),
            unit="kg",
            commodity_code="4107129100",
            description="Whole bovine leather, tanned, further prepared",
        ),
        basis="Decision of the EEC Board No. 30 of 21.04.2015",
        authorized_person=person(),
        consent=Consent(given=True, date=REGISTERED_ON, signer="Ахметова Д. Б."),
        fee_payment_reference="PEP-2026-7781",
    )
    return base.model_copy(update=changes)


def import_application(**changes: Any) -> LicenceApplication:
    """A complete import licence application (wheel loaders from China)."""
    base = export_application(
        type=TradeType.IMPORT,
        applicant=applicant(IMPORTER),
        counterparty=Counterparty(
            role=CounterpartyRole.SELLER, name="Shandong Heavy Machinery Co., Ltd.", country="CN"
        ),
        trade_country=TradeCountry(role=TradeCountryRole.DISPATCH, country="CN"),
        goods=Goods(
            currency="USD",
            value=Decimal("960000"),
            statistical_value=Decimal("960000"),
            origin_country="CN",
            quantity=Decimal("12"),
            unit="pcs",
            commodity_code="8429511000",
            description="Front-end shovel loaders",
        ),
    )
    return base.model_copy(update=changes)


def wheat_application(quantity: str = "250000", **changes: Any) -> LicenceApplication:
    """An export of wheat (1001: the 2026 export quota has 250 000 t left), within 2026."""
    base = export_application(valid_to=dt.date(2026, 12, 31), **changes)
    goods = base.goods.model_copy(
        update={
            "commodity_code": "1001990000",
            "description": "Wheat",
            "quantity": Decimal(quantity),
            "unit": "t",
        }
    )
    return base.model_copy(update={"goods": goods})


def permit_draft(**changes: Any) -> PermitDraft:
    """A complete export draft permit (permit rules Annex 1)."""
    app = export_application()
    base = PermitDraft(
        valid_from=app.valid_from,
        valid_to=app.valid_to,
        type=TradeType.EXPORT,
        contract=app.contract,
        applicant=app.applicant,
        counterparty=app.counterparty,
        trade_country=TradeCountry(role=TradeCountryRole.DISPATCH, country="KZ"),
        goods=app.goods,
        additional_info="Shipment in four lots",
        authorized_person=person(),
    )
    return base.model_copy(update=changes)


def registry_answer(identifier: str) -> RegistryAnswer:
    org = organizations().get(identifier)
    if org is None:
        return RegistryAnswer(Registry.GBDUL, found=False)
    return RegistryAnswer(
        Registry.GBDUL,
        found=True,
        active=org["status"] == "ACTIVE",
        names=(org["name"], org["short_name"]),
        status=org["status"],
    )


def fee(payer: str, amount: Decimal = FEE_2026, **changes: Any) -> Payment:
    payment = Payment(
        payer=payer,
        amount=amount,
        status=PaymentStatus.CONFIRMED,
        paid_on=REGISTERED_ON,
        purpose=LICENCE_FEE_PURPOSE,
        reference="PEP-2026-7781",
        payment_id="PEP-SAMPLE-0001",
    )
    return replace(payment, **changes)


def facts_for(app: LicenceApplication, **changes: Any) -> Facts:
    """What the gateway and the packaged records would give for ``app``: the happy defaults."""
    records = default_records()
    facts = Facts(
        registered_on=REGISTERED_ON,
        registry=registry_answer(app.applicant.identifier),
        mrp_by_year={2025: MRP_2025, 2026: MRP_2026},
        payments=(fee(app.applicant.identifier),),
        activity_licence=records.check_activity_licence(app),
        quota=records.check_quota(app, REGISTERED_ON.year),
        eaeu_rules=records.eaeu_rules,
        obligations=records.obligations,
        stopped_contract=records.stopped_basis_document(app),
    )
    return replace(facts, **changes)
