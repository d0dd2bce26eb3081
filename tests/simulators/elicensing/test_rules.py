"""The licence decision: each refusal ground alone, several at once, the happy paths."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from simulators.elicensing.forms import (
    CONTRACT_COPY_LABEL,
    ActivityLicenceReference,
    Applicant,
    ApplicantKind,
    AttachmentKind,
    Consent,
    Contract,
    Counterparty,
    CounterpartyRole,
    Goods,
    TradeCountry,
    TradeCountryRole,
    TradeType,
)
from simulators.elicensing.grounds import GROUND_TITLES, GroundCode, Outcome
from simulators.elicensing.records import (
    EaeuRules,
    InternationalObligation,
    QuotaCheck,
    QuotaKind,
)
from simulators.elicensing.rule_facts import PaymentStatus, Registry, RegistryAnswer
from simulators.elicensing.rules import RULES, check_permit_draft, decide
from tests.simulators.elicensing.samples import (
    ENTREPRENEUR_IIN,
    ENTREPRENEUR_NAME,
    EXPORTER,
    FEE_2026,
    MRP_2025,
    REGISTERED_ON,
    SUSPENDED_COMPANY,
    applicant,
    contract_copy,
    export_application,
    facts_for,
    fee,
    import_application,
    permit_draft,
)


def only(decision, code: GroundCode) -> str:
    """The reasoning of the single ground ``code`` the decision refuses with."""
    assert decision.outcome is Outcome.REFUSE
    assert decision.codes == (code,)
    return decision.grounds[0].reasoning


# --- happy paths ----------------------------------------------------------------------------


def test_export_licence_is_issued():
    app = export_application()
    decision = decide(app, facts_for(app))
    assert decision.outcome is Outcome.ISSUE
    assert decision.grounds == ()


def test_import_licence_is_issued():
    app = import_application()
    assert decide(app, facts_for(app)).outcome is Outcome.ISSUE


def test_one_time_licence_on_another_document_of_intent_is_issued():  # T-L05
    app = export_application(
        contract=Contract(other_document="Letter of intent No. 5"),
        contract_copy=contract_copy("LOI-5", AttachmentKind.OTHER_INTENT_DOCUMENT),
    )
    assert decide(app, facts_for(app)).outcome is Outcome.ISSUE


def test_r1_without_the_contract_copy():  # LR p.4(2)
    app = export_application(contract_copy=None)
    assert CONTRACT_COPY_LABEL in only(decide(app, facts_for(app)), GroundCode.R1)


def test_r1_a_contract_copy_that_does_not_match_its_digest():
    copy = contract_copy("ST-17/2026")
    tampered = copy.model_copy(update={"digest": "0" * 64})
    app = export_application(contract_copy=tampered)
    assert "does not match its digest" in only(decide(app, facts_for(app)), GroundCode.R1)


def test_r1_the_copy_is_not_what_field_4_names():
    app = export_application(
        contract_copy=contract_copy("LOI-5", AttachmentKind.OTHER_INTENT_DOCUMENT)
    )
    reasoning = only(decide(app, facts_for(app)), GroundCode.R1)
    assert "field 4 names a contract but the copy is another document of intent" in reasoning


@pytest.mark.parametrize(
    ("contract", "applicant_bin", "status"),
    [
        (Contract(number="ST-09/2025", date=dt.date(2025, 3, 1)), EXPORTER, "TERMINATED"),
        (Contract(number="SH-44/2026", date=dt.date(2026, 2, 15)), "150740415286", "SUSPENDED"),
    ],
    ids=["terminated", "suspended"],
)
def test_r3_a_stopped_contract_is_a_stopped_basis_document(contract, applicant_bin, status):
    app = export_application(
        applicant=applicant(applicant_bin),
        contract=contract,
        contract_copy=contract_copy(contract.number),
    )
    facts = facts_for(app, payments=(fee(applicant_bin),))
    reasoning = only(decide(app, facts), GroundCode.R3)
    assert f"contract No. {contract.number} of {contract.date} is {status}" in reasoning


def test_r3_the_same_contract_number_of_another_holder_is_not_stopped():
    app = export_application(
        contract=Contract(number="SH-44/2026", date=dt.date(2026, 2, 15)),
        contract_copy=contract_copy("SH-44/2026"),
    )
    assert decide(app, facts_for(app)).outcome is Outcome.ISSUE


def test_individual_entrepreneur_is_checked_against_gbdfl_and_issued():  # T-L04
    app = export_application(
        applicant=Applicant(
            kind=ApplicantKind.INDIVIDUAL_ENTREPRENEUR,
            identifier=ENTREPRENEUR_IIN,
            name=ENTREPRENEUR_NAME.upper(),  # case and spacing are not a mismatch
            address="Костанай, ул. Байтурсынова, 12",
        )
    )
    gbdfl = RegistryAnswer(Registry.GBDFL, found=True, active=True, names=(ENTREPRENEUR_NAME,))
    facts = facts_for(app, registry=gbdfl, payments=(fee(ENTREPRENEUR_IIN),))
    assert decide(app, facts).outcome is Outcome.ISSUE


def test_individual_entrepreneur_whose_activity_ended_is_refused_r1():
    app = export_application(
        applicant=Applicant(
            kind=ApplicantKind.INDIVIDUAL_ENTREPRENEUR,
            identifier=ENTREPRENEUR_IIN,
            name=ENTREPRENEUR_NAME,
            address="Костанай",
        )
    )
    ended = RegistryAnswer(
        Registry.GBDFL, found=True, active=False, names=(ENTREPRENEUR_NAME,), status="TERMINATED"
    )
    facts = facts_for(app, registry=ended, payments=(fee(ENTREPRENEUR_IIN),))
    assert "not active (status TERMINATED)" in only(decide(app, facts), GroundCode.R1)


def test_goods_under_activity_licensing_with_a_valid_licence_are_issued():  # T-L06
    app = import_application(
        applicant=applicant("090640751016"),
        goods=import_application().goods.model_copy(update={"commodity_code": "8543709000"}),
        activity_licence=ActivityLicenceReference(number="AL-2020-000101"),
    )
    assert decide(app, facts_for(app)).outcome is Outcome.ISSUE


def test_quota_goods_within_the_remaining_quota_are_issued():
    app = export_application(
        applicant=applicant("170640582744"),
        valid_to=dt.date(2026, 12, 31),
        goods=export_application().goods.model_copy(
            update={"commodity_code": "1001990000", "quantity": Decimal("250000"), "unit": "t"}
        ),
    )
    assert decide(app, facts_for(app)).outcome is Outcome.ISSUE


# --- R1 -------------------------------------------------------------------------------------


def test_r1_missing_mandatory_fields_are_named():
    app = export_application(
        counterparty=None, goods=export_application().goods.model_copy(update={"quantity": None})
    )
    reasoning = only(decide(app, facts_for(app)), GroundCode.R1)
    assert "counterparty (fields 6 and 8)" in reasoning
    assert "quantity (field 13)" in reasoning


def test_r1_applicant_not_in_the_registry():
    app = export_application()
    facts = facts_for(app, registry=RegistryAnswer(Registry.GBDUL, found=False))
    assert "is not registered" in only(decide(app, facts), GroundCode.R1)


def test_r1_applicant_not_active():
    app = export_application(applicant=applicant(SUSPENDED_COMPANY))
    reasoning = only(decide(app, facts_for(app)), GroundCode.R1)
    assert "not active (status SUSPENDED)" in reasoning


def test_r1_applicant_name_mismatch():
    app = export_application(
        applicant=applicant(EXPORTER).model_copy(update={"name": "ТОО «Семей Былғары»"})
    )
    assert "does not match the registry" in only(decide(app, facts_for(app)), GroundCode.R1)


def test_r1_full_and_short_registry_names_and_other_quotes_both_match():
    full = export_application(
        applicant=applicant(EXPORTER).model_copy(
            update={"name": 'Товарищество с ограниченной ответственностью "Семей Тері"'}
        )
    )
    assert decide(full, facts_for(full)).outcome is Outcome.ISSUE


def test_r1_inverted_validity_period():
    app = export_application(valid_from=dt.date(2026, 12, 20), valid_to=dt.date(2026, 12, 1))
    assert "ends (2026-12-01) before it starts" in only(decide(app, facts_for(app)), GroundCode.R1)


def test_r1_goods_need_an_activity_licence_and_none_is_held():
    app = import_application(
        goods=import_application().goods.model_copy(update={"commodity_code": "8543709000"})
    )
    assert "need an activity licence (CRYPTOGRAPHY)" in only(
        decide(app, facts_for(app)), GroundCode.R1
    )


def test_r1_referenced_activity_licence_of_another_holder():
    app = import_application(activity_licence=ActivityLicenceReference(number="AL-2020-000101"))
    assert "belongs to 090640751016" in only(decide(app, facts_for(app)), GroundCode.R1)


def test_r1_referenced_activity_licence_unknown():
    app = import_application(activity_licence=ActivityLicenceReference(number="AL-1999-999999"))
    assert "not in the register" in only(decide(app, facts_for(app)), GroundCode.R1)


# --- R2 … R7 --------------------------------------------------------------------------------


def test_r2_validity_longer_than_the_configured_limit():
    app = export_application(valid_to=dt.date(2027, 11, 23))  # a year and a day
    reasoning = only(decide(app, facts_for(app)), GroundCode.R2)
    assert "exceeds 12 months (last day 2027-11-22)" in reasoning


def test_r2_exactly_the_limit_passes_and_the_limit_is_configurable():
    app = export_application(valid_to=dt.date(2027, 11, 22))
    assert decide(app, facts_for(app)).outcome is Outcome.ISSUE
    strict = facts_for(app, eaeu_rules=EaeuRules(max_validity_months=6))
    assert "exceeds 6 months" in only(decide(app, strict), GroundCode.R2)


def test_r2_validity_starting_before_registration():
    app = export_application(valid_from=dt.date(2026, 11, 1))
    assert "before the application was filed" in only(decide(app, facts_for(app)), GroundCode.R2)


def test_r2_quota_goods_beyond_the_calendar_year():
    app = export_application(
        applicant=applicant("170640582744"),
        goods=export_application().goods.model_copy(
            update={"commodity_code": "1001990000", "quantity": Decimal("10"), "unit": "t"}
        ),
    )
    assert "must end within 2026" in only(decide(app, facts_for(app)), GroundCode.R2)


def test_r2_goods_needing_a_basis_without_field_17():
    app = export_application(
        basis=None,
        goods=export_application().goods.model_copy(update={"commodity_code": "9302000000"}),
    )
    assert "need the basis" in only(decide(app, facts_for(app)), GroundCode.R2)
    assert decide(app.model_copy(update={"basis": "EEC No. 30"}), facts_for(app)).codes == ()


def test_r3_suspended_activity_licence():  # T-L13
    app = import_application(
        applicant=applicant("230440501813"),
        goods=import_application().goods.model_copy(update={"commodity_code": "2914110000"}),
    )
    reasoning = only(decide(app, facts_for(app)), GroundCode.R3)
    assert reasoning == "activity licence AL-2021-000230 is SUSPENDED since 2026-10-01"


def test_r3_terminated_activity_licence_referenced_by_number():
    app = import_application(
        applicant=applicant("040540610852"),
        basis="Conclusion of the authorized body No. 12",
        goods=import_application().goods.model_copy(update={"commodity_code": "3602000000"}),
        activity_licence=ActivityLicenceReference(number="AL-2018-000012"),
    )
    assert "TERMINATED" in only(decide(app, facts_for(app)), GroundCode.R3)


def test_r4_contract_breaching_an_international_obligation():  # T-L14
    app = export_application(
        counterparty=Counterparty(role=CounterpartyRole.BUYER, name="Korea Trading", country="KP"),
        trade_country=TradeCountry(role=TradeCountryRole.DESTINATION, country="KP"),
        goods=export_application().goods.model_copy(update={"commodity_code": "7113190000"}),
    )
    reasoning = only(decide(app, facts_for(app)), GroundCode.R4)
    assert reasoning.startswith("UNSCR-1718-LUXURY")


def test_r4_counts_the_origin_of_imported_goods():
    app = import_application(
        goods=import_application().goods.model_copy(
            update={"commodity_code": "9306210000", "origin_country": "KP"}
        ),
        basis="Conclusion No. 7",
    )
    assert "UNSCR-1718-ARMS" in only(decide(app, facts_for(app)), GroundCode.R4)


def test_r5_tariff_quota_exhausted():  # T-L15
    app = import_application(
        valid_to=dt.date(2026, 12, 31),
        goods=import_application().goods.model_copy(
            update={"commodity_code": "0207141009", "quantity": Decimal("20"), "unit": "t"}
        ),
    )
    reasoning = only(decide(app, facts_for(app)), GroundCode.R5)
    assert reasoning == "the tariff quota for 2026 has 0 t left, 20 t requested"


def test_r5_no_quota_allocated_for_the_year():
    app = import_application(
        valid_to=dt.date(2026, 12, 31),
        goods=import_application().goods.model_copy(update={"commodity_code": "2903710000"}),
    )
    assert "no quota is allocated" in only(decide(app, facts_for(app)), GroundCode.R5)


def test_r5_more_than_the_remaining_quota():
    app = export_application(
        applicant=applicant("170640582744"),
        valid_to=dt.date(2026, 12, 31),
        goods=export_application().goods.model_copy(
            update={"commodity_code": "1001990000", "quantity": Decimal("250000.001")}
        ),
    )
    only(decide(app, facts_for(app)), GroundCode.R5)


def test_r5_quota_fact_given_directly():
    app = export_application(valid_to=dt.date(2026, 12, 31))
    facts = facts_for(app, quota=QuotaCheck(True, QuotaKind.QUOTA, Decimal("39999"), "kg"))
    assert "39999 kg left, 40000 kg requested" in only(decide(app, facts), GroundCode.R5)


def test_r6_no_payment():  # T-L16
    app = export_application()
    assert "no payment found" in only(decide(app, facts_for(app, payments=())), GroundCode.R6)


def test_r6_fee_boundary_exactly_ten_mrp_passes_one_tenge_less_refuses():
    app = export_application()
    exact = facts_for(app, payments=(fee(EXPORTER, FEE_2026),))
    assert decide(app, exact).outcome is Outcome.ISSUE
    short = facts_for(app, payments=(fee(EXPORTER, FEE_2026 - 1),))
    assert "43249" in only(decide(app, short), GroundCode.R6)


@pytest.mark.parametrize(
    "payment_change",
    [
        {"status": PaymentStatus.PENDING},
        {"payer": "150740415286"},
        {"used_by": "ELA-2026-000007"},
        {"purpose": "STATE_DUTY"},
        {"amount": Decimal("39320"), "paid_on": dt.date(2026, 1, 5)},
    ],
    ids=["not-confirmed", "other-payer", "already-used", "other-purpose", "short-for-its-year"],
)
def test_r6_payment_that_does_not_count(payment_change):
    app = export_application()
    payment = replace(fee(EXPORTER), **payment_change)
    reasoning = only(decide(app, facts_for(app, payments=(payment,))), GroundCode.R6)
    assert f"PEP-SAMPLE-0001 of {payment.paid_on}" in reasoning  # each payment seen is listed


def test_r6_fee_is_judged_against_the_mrp_of_its_payment_date():
    # 10 × MRP 2025 paid on 31.12.2025 pays a licence registered in 2026 [LR p.3: no year rule]
    app = export_application(valid_from=dt.date(2026, 1, 5), valid_to=dt.date(2026, 6, 30))
    paid = fee(EXPORTER, MRP_2025 * 10, paid_on=dt.date(2025, 12, 31))
    facts = facts_for(app, registered_on=dt.date(2026, 1, 5), payments=(paid,))
    decision = decide(app, facts)
    assert decision.outcome is Outcome.ISSUE and decision.fee_payment == "PEP-SAMPLE-0001"


def test_r6_one_payment_pays_one_licence_and_the_reasoning_says_which_took_it():
    app = export_application()
    used = replace(fee(EXPORTER), used_by="ELA-2026-000001")
    short = replace(fee(EXPORTER, Decimal("100")), payment_id="PEP-SAMPLE-0002")
    reasoning = only(decide(app, facts_for(app, payments=(used, short))), GroundCode.R6)
    assert "PEP-SAMPLE-0001" in reasoning and "already paid the licence of application" in reasoning
    assert "PEP-SAMPLE-0002" in reasoning and "100 is less than 43250" in reasoning


def test_r6_with_an_unknown_mrp_is_no_decision_but_names_the_year():
    app = export_application()
    paid = fee(EXPORTER, paid_on=dt.date(2027, 1, 4))
    decision = decide(app, facts_for(app, payments=(paid,)))
    assert decision.codes == (GroundCode.R6,) and decision.unknown_mrp_years == (2027,)


def test_r2_an_off_hours_filing_is_judged_by_its_filing_day():
    # filed Thu 31.12.2026 20:00 with validity from that day; registered Tue 05.01.2027
    app = export_application(valid_from=dt.date(2026, 12, 31), valid_to=dt.date(2027, 6, 30))
    facts = facts_for(app, registered_on=dt.date(2027, 1, 5), filed_on=dt.date(2026, 12, 31))
    assert decide(app, facts).outcome is Outcome.ISSUE


def test_r6_fee_paid_through_a_bank_counts_once_confirmed():  # T-L03
    app = export_application(fee_payment_reference=None)
    facts = facts_for(app, payments=(fee(EXPORTER, reference="BANK-HALYK-001"),))
    assert decide(app, facts).outcome is Outcome.ISSUE


@pytest.mark.parametrize(
    "consent",
    [
        None,
        Consent(given=False, date=REGISTERED_ON, signer="Ахметова Д. Б."),
        Consent(given=True, date=None, signer="Ахметова Д. Б."),
        Consent(given=True, date=REGISTERED_ON, signer=None),
    ],
    ids=["absent", "refused", "undated", "unsigned"],
)
def test_r7_no_consent(consent):  # T-L17
    app = export_application(consent=consent)
    only(decide(app, facts_for(app)), GroundCode.R7)


# --- several grounds ------------------------------------------------------------------------


def test_all_applicable_grounds_are_named_in_order():  # T-L18
    app = export_application(
        applicant=applicant(SUSPENDED_COMPANY),  # R1
        valid_from=dt.date(2026, 1, 1),  # R2: before registration
        consent=None,  # R7
    )
    decision = decide(app, facts_for(app, payments=()))  # R6
    assert decision.codes == (GroundCode.R1, GroundCode.R2, GroundCode.R6, GroundCode.R7)
    assert [g.title for g in decision.grounds] == [GROUND_TITLES[c][0] for c in decision.codes]


def test_every_ground_applies_at_once():
    app = import_application(
        applicant=applicant("230440501813").model_copy(update={"name": "Other name"}),  # R1
        valid_from=dt.date(2026, 1, 1),  # R2
        counterparty=Counterparty(role=CounterpartyRole.SELLER, name="X", country="KP"),  # R4
        goods=import_application().goods.model_copy(update={"commodity_code": "2914110000"}),
        consent=None,  # R7
    )
    embargo = InternationalObligation(
        id="TEST", title="test obligation", countries=("KP",), code_prefixes=("2914",)
    )
    facts = facts_for(
        app,
        quota=QuotaCheck(True, QuotaKind.QUOTA, None, "kg"),  # R5
        payments=(),  # R6
        obligations=(embargo,),
    )
    assert decide(app, facts).codes == tuple(GroundCode)  # R3: the suspended licence


def test_rules_are_one_per_code_and_titled_in_both_languages():
    assert len(RULES) == len(GroundCode) == len(GROUND_TITLES)
    for title, title_kk in GROUND_TITLES.values():
        assert title and title_kk and title != title_kk


# --- permits --------------------------------------------------------------------------------


def test_permit_draft_has_no_refusal_only_a_structural_check():
    assert check_permit_draft(permit_draft()) == ()
    incomplete = permit_draft(authorized_person=None, goods=Goods(currency="EUR"))
    problems = check_permit_draft(incomplete)
    assert len(problems) == 1
    assert "authorized person (field 17)" in problems[0]
    assert "commodity code (field 15)" in problems[0]


def test_permit_draft_with_an_inverted_period_is_invalid():
    draft = permit_draft(valid_from=dt.date(2027, 1, 2), valid_to=dt.date(2027, 1, 1))
    assert check_permit_draft(draft) == (
        "validity ends (2027-01-01) before it starts (2027-01-02)",
    )


def test_permit_check_ignores_what_would_refuse_a_licence():
    # No fee, no consent, KP counterparty: none of these is a ground for a permit.
    draft = permit_draft(
        counterparty=Counterparty(role=CounterpartyRole.SELLER, name="X", country="KP"),
        type=TradeType.IMPORT,
    )
    assert check_permit_draft(draft) == ()
