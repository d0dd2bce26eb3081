"""F3 review: the documents each annex needs (Rules p.6) and refusal grounds 1-7 (Rules p.11);
the head's personal signature and ELICENSE's transport signature on the decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from signxml import XMLVerifier
from signxml.verifier import SignatureConfiguration

from connectors import TransportKey, TrustStore, sign_payload
from connectors.wsse.pki import ensure_personal_certificate
from simulators.elicensing.documents import DocumentError
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.forms import (
    AdditionalInfo,
    Attachment,
    DocumentKind,
    ExportPermit,
    Signatory,
)
from simulators.elicensing.export_pilot.goods import Annex, Committee
from simulators.elicensing.export_pilot.rules import Facts, findings
from simulators.elicensing.export_pilot.samples import sample_application, without
from simulators.elicensing.forms import Consent, Contract
from simulators.elicensing.rule_facts import Registry, RegistryAnswer
from tests.pki import make_test_pki
from tests.simulators.elicensing.samples import registry_answer

DAY = dt.date(2026, 11, 23)


def codes(app, registry: RegistryAnswer | None = None) -> list[int]:
    facts = Facts(DAY, registry or registry_answer(app.applicant.identifier))
    return [g.code for g in findings(app, facts)]


@pytest.mark.parametrize("annex", list(Annex))
def test_a_complete_application_of_each_annex_has_no_ground(annex: Annex) -> None:
    assert codes(sample_application(annex, DAY)) == []


def test_ground_1_invoice_value_contradicts_field_10() -> None:
    app = sample_application(Annex.INDUSTRY, DAY)
    invoice = Attachment(kind=DocumentKind.INVOICE, amount=Decimal("99000"), currency="USD")
    app = without(app, DocumentKind.INVOICE).model_copy(
        update={"documents": (*without(app, DocumentKind.INVOICE).documents, invoice)}
    )
    [g] = findings(app, Facts(DAY, registry_answer(app.applicant.identifier)))
    assert g.code == 1 and "99000" in g.reasoning and "field 10" in g.reasoning


def test_ground_1_name_not_the_registrys() -> None:
    app = sample_application(Annex.TELECOM, DAY)
    app = app.model_copy(update={"applicant": app.applicant.model_copy(update={"name": "ТОО X"})})
    assert codes(app) == [1]


def test_ground_2_applicant_not_an_active_participant() -> None:
    app = sample_application(Annex.TELECOM, DAY)
    liquidated = RegistryAnswer(
        Registry.GBDUL, found=True, active=False, names=(app.applicant.name,), status="LIQUIDATED"
    )
    assert codes(app, liquidated) == [2]
    assert codes(app, RegistryAnswer(Registry.GBDUL, found=False)) == [2]


def test_ground_3_no_consent() -> None:
    app = sample_application(Annex.INDUSTRY, DAY, consent=Consent(given=False))
    assert codes(app) == [3]


@pytest.mark.parametrize(
    "kind",
    [
        DocumentKind.CONTRACT,
        DocumentKind.INVOICE,
        DocumentKind.IMPORT_DECLARATION,
        DocumentKind.TECHNICAL_SPECIFICATION,
    ],
)
def test_ground_4_a_document_of_items_1_to_4_missing(kind: DocumentKind) -> None:
    for annex in Annex:
        assert codes(without(sample_application(annex, DAY), kind)) == [4]


def test_ground_4_no_border_checkpoint_or_wrong_committee() -> None:
    app = sample_application(Annex.INDUSTRY, DAY, additional_info=AdditionalInfo(note="x"))
    [g] = findings(app, Facts(DAY, registry_answer(app.applicant.identifier)))
    assert g.code == 4 and "border crossing point" in g.reasoning
    misaddressed = sample_application(Annex.INDUSTRY, DAY, authorized_body=Committee.TELECOM)
    [g] = findings(misaddressed, Facts(DAY, registry_answer(misaddressed.applicant.identifier)))
    assert g.code == 4 and "INDUSTRY committee" in g.reasoning


def test_ground_4_a_refiling_after_a_change_without_customs_execution_info() -> None:
    app = sample_application(Annex.INDUSTRY, DAY, replaces="KZ-TMD-IND-2026-000001")
    [g] = findings(app, Facts(DAY, registry_answer(app.applicant.identifier)))
    assert g.code == 4 and "CUSTOMS_EXECUTION_INFO" in g.reasoning


def test_ground_5_the_contract_has_ended() -> None:
    app = sample_application(Annex.TELECOM, DAY)
    ended = Attachment(kind=DocumentKind.CONTRACT, number="C-9", valid_until=DAY - dt.timedelta(1))
    rest = without(app, DocumentKind.CONTRACT).documents
    assert codes(app.model_copy(update={"documents": (*rest, ended)})) == [5]


@pytest.mark.parametrize("annex", [Annex.INDUSTRY, Annex.TELECOM])
@pytest.mark.parametrize("origin", ["GB", "US", "DE", "FR"])
def test_ground_6_origin_gb_us_or_eu_for_annexes_1_and_2(annex: Annex, origin: str) -> None:
    app = sample_application(annex, DAY)
    app = app.model_copy(update={"goods": app.goods.model_copy(update={"origin_country": origin})})
    assert codes(app) == [6]


@pytest.mark.parametrize("annex", [Annex.INDUSTRY, Annex.TELECOM])
def test_ground_6_no_certificate_of_origin(annex: Annex) -> None:
    assert codes(without(sample_application(annex, DAY), DocumentKind.ORIGIN_DOCUMENT)) == [6]


def test_ground_6_does_not_reach_aviation_goods_of_us_origin() -> None:
    app = sample_application(Annex.CIVIL_AVIATION, DAY)
    assert app.goods.origin_country == "US" and codes(app) == []


def test_ground_7_no_operator_certificate_for_annex_3_only() -> None:
    aviation = without(
        sample_application(Annex.CIVIL_AVIATION, DAY), DocumentKind.OPERATOR_CERTIFICATE
    )
    assert codes(aviation) == [7]
    # an Annex 1 good needs no operator certificate (the sample carries none)
    industry = sample_application(Annex.INDUSTRY, DAY)
    assert not industry.documents_of(DocumentKind.OPERATOR_CERTIFICATE) and codes(industry) == []


# --- signatures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_pki(tmp_path_factory.mktemp("pilot-pki"))


def _permit() -> ExportPermit:
    app = sample_application(Annex.INDUSTRY, DAY)
    return ExportPermit(
        authorized_body=Committee.INDUSTRY,
        number=documents.permit_number(Committee.INDUSTRY, 2026, 1),
        valid_from=DAY,
        valid_to=dt.date(2026, 12, 31),
        contract=app.contract or Contract(),
        applicant=app.applicant,
        buyer=app.buyer,
        destination_country="RU",
        goods=app.goods,
        additional_info=app.additional_info,
        authorized_person=app.authorized_person,
        annex=1,
        application_number="TMD-2026-000001",
        issue_date=DAY,
        signed_by=Signatory(name="Серік Жұмабаев", position="Төраға"),
    )


def test_the_head_signs_personally_and_elicense_certifies(pki: Path) -> None:
    cert, key = ensure_personal_certificate(pki, "head-industry", "Серік Жұмабаев", "Head")
    head = TransportKey.from_files(cert, key)
    system = TransportKey.from_files(pki / "ELICENSE.pem", pki / "ELICENSE.key")
    certified = documents.certify(documents.sign_by_head(_permit(), head), system)
    documents.validate(certified)
    # offline, with the standard tool: the decision with the head's certificate …
    inner = documents.decision_in(certified)
    XMLVerifier().verify(inner, x509_cert=cert.read_bytes())
    # … and the whole with ELICENSE's
    top_level = SignatureConfiguration(location="./")  # the wrapper's own, not the head's
    outer = XMLVerifier().verify(
        certified, x509_cert=(pki / "ELICENSE.pem").read_bytes(), expect_config=top_level
    )
    assert outer.signed_xml is not None
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    head_cert, system_cert = documents.verify_certified(
        certified, TrustStore.from_dir(pki), now=now
    )
    assert documents.common_name(head_cert) == "Серік Жұмабаев"
    assert documents.common_name(system_cert) == "ELICENSE"
    assert head_cert.public_key().public_numbers() != system_cert.public_key().public_numbers()
    assert isinstance(documents.parse_decision(certified), ExportPermit)


def test_a_decision_signed_with_the_system_key_is_not_the_heads(pki: Path) -> None:
    system = TransportKey.from_files(pki / "ELICENSE.pem", pki / "ELICENSE.key")
    element = documents.build(_permit())
    sign_payload(element, system)
    certified = documents.certify(element, system)
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    with pytest.raises(DocumentError, match="system key ELICENSE"):
        documents.verify_certified(certified, TrustStore.from_dir(pki), now=now)
