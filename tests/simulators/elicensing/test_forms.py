"""The applicant's forms: formats are enforced, completeness is only reported (for R1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from simulators.elicensing.documents import build_application
from simulators.elicensing.forms import (
    Applicant,
    ApplicantKind,
    Contract,
    Goods,
    LicenceApplication,
    PermitDraft,
    TradeType,
)
from tests.simulators.elicensing.samples import (
    EXPORTER,
    applicant,
    export_application,
    import_application,
    permit_draft,
)


def test_complete_samples_miss_nothing():
    assert export_application().missing_fields() == []
    assert import_application().missing_fields() == []
    assert permit_draft().missing_fields() == []


def test_an_empty_application_lists_every_mandatory_field():
    app = LicenceApplication(
        type=TradeType.EXPORT,
        applicant=Applicant(kind=ApplicantKind.LEGAL_ENTITY, identifier=EXPORTER),
    )
    missing = app.missing_fields()
    for label in (
        "validity period (field 2)",
        "contract (field 4)",
        "electronic copy of the contract or of another document of intent (licence rules p.4(2))",
        "applicant name (field 5)",
        "counterparty (fields 6 and 8)",
        "country of dispatch/destination (field 7)",
        "contract currency (field 9)",
        "statistical value (field 11)",
        "commodity code (field 15)",
        "applicant's authorized person (field 18)",
    ):
        assert label in missing
    # Optional by the form or judged elsewhere: field 16, field 17 (R2), consent (R7), fee (R6).
    assert not any("field 16" in m or "field 17" in m or "consent" in m for m in missing)


def test_a_permit_draft_names_its_authorized_person_field_17():
    draft = PermitDraft(type=TradeType.IMPORT, applicant=applicant(EXPORTER))
    assert "applicant's authorized person (field 17)" in draft.missing_fields()


@pytest.mark.parametrize(
    ("contract", "complete"),
    [
        (Contract(number="1", date=dt.date(2026, 1, 1)), True),
        (Contract(other_document="Letter of intent"), True),
        (Contract(number="1"), False),
        (Contract(), False),
    ],
)
def test_contract_or_another_document_of_intent(contract, complete):
    assert (contract.missing() == []) is complete


@pytest.mark.parametrize("identifier", ["200640360880", "20064036088", "2006403608８8"])
def test_a_malformed_bin_is_refused(identifier):
    with pytest.raises(ValidationError, match="BIN/IIN"):
        Applicant(kind=ApplicantKind.LEGAL_ENTITY, identifier=identifier)


@pytest.mark.parametrize(
    "goods",
    [
        {"currency": "eur"},
        {"currency": "EURO"},
        {"origin_country": "KAZ"},
        {"commodity_code": "410712910"},
        {"commodity_code": "41071291OO"},
        {"quantity": Decimal("0")},
        {"value": Decimal("-1")},
    ],
)
def test_malformed_goods_values_are_refused(goods):
    with pytest.raises(ValidationError):
        Goods(**goods)


def test_forms_are_frozen_and_refuse_unknown_fields():
    with pytest.raises(ValidationError):
        Goods(colour="red")
    with pytest.raises(ValidationError):
        export_application().number = "X"  # type: ignore[misc]


def test_amounts_are_written_without_exponent():
    app = export_application(goods=Goods(value=Decimal("1E+3"), quantity=Decimal("2.50")))
    goods = build_application(app).find("goods")
    assert goods.findtext("value") == "1000"
    assert goods.findtext("quantity") == "2.50"
