"""The XML documents: schema-valid, round-trip, and field 18 verifies offline (signxml too)."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidSignature

from connectors import GatewayError, TransportKey, errors, sign_payload, verify_payload
from simulators.elicensing import documents
from simulators.elicensing.documents import (
    DocumentError,
    Licence,
    MotivatedRefusal,
    Permit,
    build_application,
    build_licence,
    build_permit,
    build_permit_draft,
    build_refusal,
    issue_licence,
    issue_permit,
    licence_number,
    parse_application,
    parse_licence,
    parse_permit,
    parse_permit_draft,
    parse_refusal,
    permit_number,
    refusal_number,
    refuse,
    to_bytes,
    validate,
    verify_document,
)
from simulators.elicensing.forms import Contract, LicenceApplication, TradeType
from simulators.elicensing.rules import decide
from tests.simulators.elicensing.samples import (
    REGISTERED_ON,
    SUSPENDED_COMPANY,
    applicant,
    export_application,
    facts_for,
    import_application,
    permit_draft,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def _pem(key: TransportKey) -> bytes:
    return key.certificate.public_bytes(serialization.Encoding.PEM)


def _wire(element: etree._Element) -> etree._Element:
    """What a receiver parses: the serialized bytes, read again."""
    return etree.fromstring(to_bytes(element))


def the_licence(app: LicenceApplication | None = None, sequence: int = 1) -> Licence:
    app = app or export_application()
    number = licence_number(app.type, REGISTERED_ON.year, sequence)
    return issue_licence(app, number, REGISTERED_ON)


def the_refusal() -> MotivatedRefusal:
    app = export_application(applicant=applicant(SUSPENDED_COMPANY), consent=None)
    decision = decide(app, facts_for(app, payments=()))
    return refuse(
        app,
        decision,
        number=refusal_number(2026, 17),
        date=REGISTERED_ON,
        application_date=REGISTERED_ON,
    )


def the_permit() -> Permit:
    return issue_permit(permit_draft(), permit_number(TradeType.EXPORT, 2026, 3), REGISTERED_ON)


# --- numbers --------------------------------------------------------------------------------


def test_numbers_follow_the_documented_formats():
    assert licence_number(TradeType.EXPORT, 2026, 42) == "KZ-EX-2026-000042"
    assert licence_number(TradeType.IMPORT, 2027, 999_999) == "KZ-IM-2027-999999"
    assert permit_number(TradeType.IMPORT, 2026, 1) == "KZ-PIM-2026-000001"
    assert refusal_number(2026, 7) == "KZ-RF-2026-000007"


@pytest.mark.parametrize("sequence", [0, 1_000_000])
def test_a_sequence_out_of_six_digits_is_refused(sequence):
    with pytest.raises(ValueError):
        licence_number(TradeType.EXPORT, 2026, sequence)


# --- schema and round trips -----------------------------------------------------------------


@pytest.mark.parametrize("make", [export_application, import_application])
def test_application_validates_and_round_trips(make):
    app = make()
    element = _wire(build_application(app))
    validate(element)
    assert parse_application(element) == app


def test_incomplete_application_is_schema_valid_so_that_r1_can_answer_it():
    app = LicenceApplication(type=TradeType.IMPORT, applicant=applicant(SUSPENDED_COMPANY))
    element = _wire(build_application(app))
    validate(element)
    assert parse_application(element) == app


def test_application_children_are_unqualified_in_form_order():
    element = build_application(export_application())
    assert element.tag == f"{{{documents.NAMESPACE}}}LicenceApplication"
    names = [child.tag for child in element]
    assert names[:4] == ["number", "validFrom", "validTo", "type"]
    assert names.index("counterparty") < names.index("tradeCountry") < names.index("goods")


def test_application_inside_shep_data_is_found():
    data = etree.Element("data")
    data.append(build_application(export_application()))
    assert parse_application(_wire(data)) == export_application()


def test_other_document_of_intent_round_trips():
    app = export_application(contract=Contract(other_document="Protocol of intent No. 3"))
    assert parse_application(_wire(build_application(app))) == app


def test_licence_validates_and_round_trips(elicense_key):
    licence = the_licence()
    element = _wire(build_licence(licence, elicense_key))
    validate(element)
    assert parse_licence(element) == licence
    assert element[-1].tag == f"{DS}Signature"  # field 18, the last child


def test_import_licence_shows_import(elicense_key):  # T-L02: field 3 despite the Annex 2 defect
    licence = the_licence(import_application())
    element = _wire(build_licence(licence, elicense_key))
    assert element.findtext("type") == "IMPORT"
    assert element.findtext("number").startswith("KZ-IM-2026-")


def test_unsigned_licence_is_not_schema_valid(elicense_key):
    element = build_licence(the_licence(), elicense_key)
    element.remove(element[-1])
    with pytest.raises(DocumentError, match="xmldsig"):
        validate(element)


def test_refusal_validates_round_trips_and_names_its_grounds(elicense_key):
    refusal = the_refusal()
    element = _wire(build_refusal(refusal, elicense_key))
    validate(element)
    assert parse_refusal(element) == refusal
    assert [g.findtext("code") for g in element.findall("ground")] == ["R1", "R6", "R7"]
    assert element.find("ground").findtext("titleKk").startswith("Мәліметтердің")


def test_permit_draft_and_permit_validate_and_round_trip(elicense_key):
    draft = permit_draft()
    draft_element = _wire(build_permit_draft(draft))
    validate(draft_element)
    assert parse_permit_draft(draft_element) == draft
    permit = the_permit()
    element = _wire(build_permit(permit, elicense_key))
    validate(element)
    assert parse_permit(element) == permit
    assert element.find("authorizedPerson").findtext("surname") == "Ахметова"


def test_documents_with_signature_of_the_sender_still_validate(portal_key):
    element = build_application(export_application())
    sign_payload(element, portal_key)
    assert parse_application(_wire(element)) == export_application()


def test_a_broken_document_is_a_document_error():
    element = build_application(export_application())
    element.find("goods").find("commodityCode").text = "12345"
    with pytest.raises(DocumentError, match="commodityCode"):
        parse_application(_wire(element))


def test_a_bad_bin_passes_the_schema_shape_but_not_the_model():
    element = build_application(export_application())
    element.find("applicant").find("identifier").text = "200640360880"  # wrong check digit
    with pytest.raises(DocumentError, match="check digit"):
        parse_application(_wire(element))


# --- issuing --------------------------------------------------------------------------------


def test_an_incomplete_application_cannot_become_a_licence():
    app = export_application(counterparty=None)
    with pytest.raises(ValueError, match="counterparty"):
        the_licence(app)


def test_only_a_refusal_decision_has_a_motivated_refusal():
    app = export_application()
    with pytest.raises(ValueError, match="REFUSE"):
        refuse(
            app,
            decide(app, facts_for(app)),
            number=refusal_number(2026, 1),
            date=REGISTERED_ON,
            application_date=REGISTERED_ON,
        )


# --- field 18: the signature ----------------------------------------------------------------


def test_signed_licence_verifies_with_signxml(elicense_key):
    data = to_bytes(build_licence(the_licence(), elicense_key))
    result = XMLVerifier().verify(data, x509_cert=_pem(elicense_key))
    assert etree.QName(result.signed_xml).localname == "Licence"
    assert result.signed_xml.findtext("number") == "KZ-EX-2026-000001"


@pytest.mark.parametrize("build", ["refusal", "permit"])
def test_signed_refusal_and_permit_verify_with_signxml(build, elicense_key):
    if build == "refusal":
        element = build_refusal(the_refusal(), elicense_key)
    else:
        element = build_permit(the_permit(), elicense_key)
    XMLVerifier().verify(to_bytes(element), x509_cert=_pem(elicense_key))


def test_signed_licence_verifies_with_the_gateway(elicense_key, trust):
    element = _wire(build_licence(the_licence(), elicense_key))
    assert verify_payload(element, trust, now=NOW) == elicense_key.certificate
    assert verify_document(element, trust, now=NOW) == elicense_key.certificate


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("goods/quantity", "40001"),
        ("applicant/identifier", "150740415286"),
        ("validTo", "2027-12-31"),
        ("number", "KZ-EX-2026-000002"),
    ],
)
def test_editing_one_field_after_signing_fails_verification(path, value, elicense_key, trust):
    element = _wire(build_licence(the_licence(), elicense_key))
    element.find(path).text = value
    tampered = _wire(element)
    with pytest.raises((InvalidDigest, InvalidSignature)):
        XMLVerifier().verify(to_bytes(tampered), x509_cert=_pem(elicense_key))
    with pytest.raises(GatewayError) as caught:
        verify_payload(tampered, trust, now=NOW)
    assert caught.value.fault is errors.PAYLOAD_SIG_INVALID


def test_a_licence_signed_by_another_system_is_rejected(portal_key, trust):  # T-X02
    element = _wire(build_licence(the_licence(), portal_key))
    verify_payload(element, trust, now=NOW)  # intact and trusted …
    with pytest.raises(DocumentError, match="EGOV_PORTAL, not ELICENSE"):
        verify_document(element, trust, now=NOW)  # … but not E-licensing's


def test_a_licence_is_dated_and_carries_every_form_field(elicense_key):
    element = _wire(build_licence(the_licence(), elicense_key))
    for path in (
        "validFrom",
        "contract/number",
        "contract/date",
        "applicant/name",
        "counterparty/role",
        "counterparty/country",
        "tradeCountry/role",
        "goods/currency",
        "goods/value",
        "goods/statisticalValue",
        "goods/originCountry",
        "goods/quantity",
        "goods/unit",
        "goods/commodityCode",
        "goods/description",
        "basis",
    ):
        assert element.findtext(path), path
    assert element.findtext("issueDate") == dt.date(2026, 11, 23).isoformat()
