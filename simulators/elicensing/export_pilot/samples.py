"""Complete sample applications for rehearsals (``kzgate demo export-permit``) and tests.

The applicants are GBDUL fixture companies (ACTIVE); contracts, invoices and checkpoints are
invented. Each sample carries exactly the documents its annex needs (Rules p.6), so a sample is
issued unless a test takes something away.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from simulators.elicensing.export_pilot.forms import (
    AdditionalInfo,
    Attachment,
    Buyer,
    DocumentKind,
    ExportPermitApplication,
)
from simulators.elicensing.export_pilot.goods import Annex, entry_for
from simulators.elicensing.export_pilot.rules import DOCUMENTS_BY_ANNEX
from simulators.elicensing.forms import (
    Applicant,
    ApplicantKind,
    AuthorizedPerson,
    Consent,
    Contract,
    Goods,
)

# One exporter per committee, with goods of its annex (order Annexes 1-3).
SAMPLES: dict[Annex, dict[str, Any]] = {
    Annex.INDUSTRY: {
        "bin": "150340437262",
        "name": "АО «Сарыарқа Энерго»",
        "address": "Караганда, ул. Бухар-Жырау, 32",
        "code": "8502204000",
        "description": "Генераторные установки 7,5-375 кВА",
        "origin": "CN",
        "unit": "шт",
    },
    Annex.TELECOM: {
        "bin": "090640751016",
        "name": "ТОО «Астана Софт Девелопмент»",
        "address": "Астана, пр. Мангилик Ел, 55",
        "code": "8471500000",
        "description": "Блоки обработки данных",
        "origin": "KR",
        "unit": "шт",
    },
    Annex.CIVIL_AVIATION: {
        "bin": "230740502921",
        "name": "ТОО «Ертіс Транс»",
        "address": "Павлодар, ул. Лермонтова, 90",
        "code": "8807300000",
        "description": "Части воздушных судов",
        "origin": "US",  # ground 6 does not reach Annex 3 goods (Rules p.11(6))
        "unit": "шт",
    },
}
BORDER_CHECKPOINT = "Қорғас (автомобильный пункт пропуска)"


def sample_application(
    annex: Annex, on: dt.date, *, value: str = "125000.00", quantity: str = "10", **changes: Any
) -> ExportPermitApplication:
    """A complete application for ``annex`` goods to Russia, dated ``on`` (the filing day)."""
    s = SAMPLES[annex]
    entry = entry_for(s["code"])
    assert entry is not None and entry.annex is annex
    documents = [_attachment(kind, on, value) for kind in DOCUMENTS_BY_ANNEX[annex]]
    application = ExportPermitApplication(
        authorized_body=annex.committee,
        valid_from=on,
        valid_to=dt.date(on.year, 12, 31),
        contract=Contract(number=f"EX-{on.year}-{annex.value:02d}", date=on - dt.timedelta(30)),
        applicant=Applicant(
            kind=ApplicantKind.LEGAL_ENTITY,
            identifier=s["bin"],
            name=s["name"],
            address=s["address"],
        ),
        buyer=Buyer(name="ООО «Уралтехснаб»", address="Екатеринбург", country="RU"),
        destination_country="RU",
        goods=Goods(
            currency="USD",
            value=Decimal(value),
            statistical_value=Decimal(value),
            origin_country=s["origin"],
            quantity=Decimal(quantity),
            unit=s["unit"],
            commodity_code=s["code"],
            description=s["description"],
        ),
        additional_info=AdditionalInfo(border_checkpoint=BORDER_CHECKPOINT),
        authorized_person=AuthorizedPerson(
            surname="Ахметова",
            first_name="Динара",
            position="Директор",
            phone="+7 701 555 12 34",
            date=on,
        ),
        consent=Consent(given=True, date=on, signer="Ахметова Д."),
        documents=tuple(documents),
    )
    return application.model_copy(update=changes)


def _attachment(kind: DocumentKind, on: dt.date, value: str) -> Attachment:
    extra: dict[str, Any] = {}
    if kind is DocumentKind.INVOICE:
        extra = {"amount": Decimal(value), "currency": "USD"}
    if kind is DocumentKind.CONTRACT:
        extra = {"valid_until": dt.date(on.year + 1, 6, 30)}
    return Attachment(kind=kind, number=f"{kind.value[:3]}-1", date=on - dt.timedelta(7), **extra)


def without(app: ExportPermitApplication, kind: DocumentKind) -> ExportPermitApplication:
    """The application with every attachment of ``kind`` removed."""
    kept = tuple(d for d in app.documents if d.kind is not kind)
    return app.model_copy(update={"documents": kept})
