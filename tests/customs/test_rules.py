"""KEDEN's declaration rules without I/O: para 1 exclusions, the permit check field by field,
the 2-hour registration term on the customs calendar, the risk system and the registers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from simulators.customs.declaration_payload import answer_fields, build_register_answer
from simulators.customs.declarations import (
    CUSTOMS_HOURS,
    REGISTRATION_TERM,
    ControlForm,
    Declarant,
    DeclarationItem,
    ExportDeclaration,
    PaymentMethod,
    PermitDocument,
)
from simulators.customs.formation import PermitGoods, exclusions, identification, permit_check
from simulators.customs.models import RecordStatus, TradeCountryRole, TradeType
from simulators.customs.registers import RegisterKind, Registers
from simulators.customs.risk import RiskProfile, RiskRule
from simulators.kit.calendar import WorkingCalendar
from simulators.kit.clock import KZ_TIME

HOLDER = "170640582744"
TODAY = date(2026, 11, 23)
GOODS = PermitGoods(("4107",))
LICENCE = PermitDocument(
    number="KZ-EX-2026-000001",
    kind="LICENCE",
    trade_type=TradeType.EXPORT,
    holder_id=HOLDER,
    codes=("4107129100",),
    trade_country="IT",
    valid_from=date(2026, 11, 23),
    valid_to=date(2027, 6, 30),
    status=RecordStatus.VALID,
    quantity=Decimal("40000"),
    remaining_quantity=Decimal("25000"),
    unit="kg",
)


def item(quantity: str = "100", **changes: object) -> DeclarationItem:
    base = DeclarationItem(
        code="4107129100",
        description="leather",
        quantity=Decimal(quantity),
        unit="kg",
        value=Decimal("10"),
        currency="EUR",
        origin_country="KZ",
        destination_country="IT",
        permit_numbers=(LICENCE.number,),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def declaration(*items: DeclarationItem, **changes: object) -> ExportDeclaration:
    base = ExportDeclaration(
        filing_reference="R-1",
        procedure="EXPORT",
        declarant_id=HOLDER,
        declarant_name="ТОО «Алтын Дала Агро»",
        payment_method=PaymentMethod.PERSONAL_ACCOUNT,
        items=items or (item(),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def codes(reasons) -> list[str]:
    return [r.code for r in reasons]


# --- para 1: where the paperless form does not apply ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"procedure": "IMPORT"}, "NOT_EXPORT_PROCEDURE"),  # title, para 1: export only
        ({"procedure": "TRANSIT"}, "NOT_EXPORT_PROCEDURE"),
        ({"payment_method": PaymentMethod.CUSTOMS_POS_TERMINAL}, "PAYMENT_AT_CUSTOMS_TERMINAL"),
        ({"payment_method": PaymentMethod.CUSTOMS_CASH_DESK}, "PAYMENT_AT_CUSTOMS_CASH_DESK"),
        ({"duty_benefit_claimed": True}, "DUTY_BENEFIT_OR_PREFERENCE"),  # para 1(4)
        ({"tariff_preference_claimed": True}, "DUTY_BENEFIT_OR_PREFERENCE"),
    ],
)
def test_each_para_1_exclusion_refuses_with_its_reason(changes, expected) -> None:
    reasons = exclusions(declaration(**changes))
    assert codes(reasons) == [expected]
    assert all(r.remedy for r in reasons)


def test_an_ordinary_export_declaration_is_in_scope() -> None:
    assert exclusions(declaration()) == []


def test_declarant_unknown_or_inactive_in_the_state_database() -> None:
    assert codes(identification(Declarant(found=False), HOLDER)) == ["DECLARANT_NOT_FOUND"]
    inactive = identification(Declarant(True, active=False, status="LIQUIDATED"), HOLDER)
    assert codes(inactive) == ["DECLARANT_NOT_ACTIVE"] and "LIQUIDATED" in inactive[0].text
    assert identification(Declarant(True, active=True, status="ACTIVE"), HOLDER) == []


# --- the permit check (para 1(3), para 10 process 4-5) --------------------------------------


def test_a_matching_valid_document_with_quantity_left_passes() -> None:
    assert permit_check(declaration(item("25000")), [LICENCE], GOODS, TODAY) == []


@pytest.mark.parametrize(
    ("document", "the_item", "expected"),
    [
        (replace(LICENCE, holder_id="060340450141"), item(), "PERMIT_HOLDER_MISMATCH"),
        (replace(LICENCE, trade_type=TradeType.IMPORT), item(), "PERMIT_NOT_FOR_EXPORT"),
        (LICENCE, item(code="4107199000"), "PERMIT_CODE_MISMATCH"),
        (LICENCE, item(destination_country="CN"), "PERMIT_COUNTRY_MISMATCH"),
        (LICENCE, item(unit="pcs"), "PERMIT_UNIT_MISMATCH"),
        (replace(LICENCE, status=RecordStatus.TERMINATED), item(), "PERMIT_NOT_VALID"),
        (replace(LICENCE, status=RecordStatus.EXHAUSTED), item(), "PERMIT_NOT_VALID"),
        (replace(LICENCE, valid_from=date(2026, 12, 1)), item(), "PERMIT_NOT_VALID"),
        (LICENCE, item("25000.001"), "PERMIT_QUANTITY_EXCEEDED"),
    ],
)
def test_each_mismatch_refuses_formation_naming_item_and_document(
    document, the_item, expected
) -> None:
    [reason] = permit_check(declaration(the_item), [document], GOODS, TODAY)
    assert reason.code == expected and reason.permit_number == LICENCE.number
    assert reason.remedy


def test_document_not_in_elicensing_and_goods_with_no_document() -> None:
    missing = permit_check(declaration(item(permit_numbers=("KZ-X-1",))), [], GOODS, TODAY)
    assert codes(missing) == ["PERMIT_NOT_IN_DATABASE"]
    assert codes(permit_check(declaration(item(permit_numbers=())), [], GOODS, TODAY)) == [
        "PERMIT_ABSENT"
    ]
    # goods under no measure need no document
    free = item(code="0101210000", permit_numbers=())
    assert permit_check(declaration(free), [], GOODS, TODAY) == []
    # … unless E-licensing holds one of the declarant's for them: then it must be cited
    held = replace(LICENCE, codes=("0101210000",))
    assert codes(permit_check(declaration(free), [held], GOODS, TODAY)) == ["PERMIT_ABSENT"]


def test_items_on_one_document_are_summed_and_held_quantities_count() -> None:
    two = declaration(item("15000"), item("15000"))
    [reason] = permit_check(two, [LICENCE], GOODS, TODAY)
    assert reason.code == "PERMIT_QUANTITY_EXCEEDED" and "30000" in reason.text
    held = {LICENCE.number: Decimal("20000")}
    [reason] = permit_check(declaration(item("6000")), [LICENCE], GOODS, TODAY, held)
    assert reason.code == "PERMIT_QUANTITY_EXCEEDED" and "held" in reason.text


# --- 2 working hours on the customs calendar (para 5(1), 8(1)) ------------------------------

CALENDAR = WorkingCalendar(CUSTOMS_HOURS)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KZ_TIME)


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        ("2026-11-23T10:00", "2026-11-23T12:00"),  # Monday morning
        ("2026-11-23T12:30", "2026-11-23T15:30"),  # the lunch hour does not count
        ("2026-11-23T13:20", "2026-11-23T16:00"),  # filed in lunch: counted from 14:00
        ("2026-11-23T19:00", "2026-11-24T11:00"),  # after hours: from the next opening
        ("2026-11-27T17:30", "2026-11-30T10:30"),  # Friday 17:30: 30 min, then Monday
        ("2026-12-15T17:50", "2026-12-17T10:50"),  # before Independence Day (16 Dec)
    ],
)
def test_registration_deadline_counts_working_time_only(filed: str, due: str) -> None:
    assert CALENDAR.add_working_time(at(filed), REGISTRATION_TERM) == at(due)


# --- the risk system ----------------------------------------------------------------------------


def test_risk_profiles_assign_forms_by_code_prefix() -> None:
    risk = RiskProfile(rules=(RiskRule("4107", ControlForm.PAPER_ORIGINALS),))
    assert risk.forms("ED-1", ["4107129100"]) == (
        ControlForm.DOCUMENTARY_CHECK,
        ControlForm.PAPER_ORIGINALS,
    )
    assert risk.forms("ED-1", ["0101210000"]) == (ControlForm.DOCUMENTARY_CHECK,)


def test_seeded_random_share_is_repeatable_and_near_its_share() -> None:
    risk = RiskProfile(examination_share=0.2, seed=7)
    numbers = [f"ED-2026-{n:07d}" for n in range(1000)]
    examined = [n for n in numbers if ControlForm.EXAMINATION in risk.forms(n, ["0101210000"])]
    assert 150 < len(examined) < 250
    again = [n for n in numbers if ControlForm.EXAMINATION in risk.forms(n, ["0101210000"])]
    assert examined == again  # same seed, same choice
    other = RiskProfile(examination_share=0.2, seed=8)
    assert examined != [n for n in numbers if ControlForm.EXAMINATION in other.forms(n, [])]


def test_risk_profile_from_settings_json() -> None:
    risk = RiskProfile.from_json(
        {"rules": [{"code_prefix": "7108", "form": "EXAMINATION"}], "paper_share": 1, "seed": 3}
    )
    assert risk.forms("ED-9", ["7108120000"]) == tuple(ControlForm)


# --- registers ----------------------------------------------------------------------------------


def test_registers_give_status_and_refuse_inactive_or_absent_entries() -> None:
    registers = Registers.from_fixtures()
    [carrier] = registers.look_up("230740502921", RegisterKind.CUSTOMS_CARRIER)
    assert carrier.status.value == "SUSPENDED"
    assert registers.check("030140087380", RegisterKind.CUSTOMS_REPRESENTATIVE) == []
    assert codes(registers.check("230740502921", RegisterKind.CUSTOMS_CARRIER)) == [
        "NOT_ACTIVE_IN_REGISTER_CUSTOMS_CARRIER"
    ]
    assert codes(registers.check("111040099201", RegisterKind.CUSTOMS_REPRESENTATIVE)) == [
        "NOT_IN_REGISTER_CUSTOMS_REPRESENTATIVE"
    ]
    assert registers.check(None, RegisterKind.CUSTOMS_CARRIER) == []
    assert {e.kind.value for e in registers.look_up("030140087380")} == {
        "CUSTOMS_REPRESENTATIVE",
        "CUSTOMS_CARRIER",
    }


def test_an_aeo_is_looked_up_by_bin_with_its_certificate_and_status() -> None:
    registers = Registers.from_fixtures()
    found = answer_fields(
        build_register_answer("170640582744", registers.look_up("170640582744", RegisterKind.AEO))
    )
    [aeo] = found["entry"]  # type: ignore[misc]
    assert (aeo["register"], aeo["name"], aeo["status"]) == (
        "AEO",
        "ТОО «Алтын Дала Агро»",
        "ACTIVE",
    )
    assert (aeo["certificateNumber"], aeo["includedOn"]) == ("УЭО-0031/2025", "2025-04-15")
    # a company in the other registers only is not an AEO
    other = registers.look_up("030140087380", RegisterKind.AEO)
    assert answer_fields(build_register_answer("030140087380", other))["resultCode"] == "NOT_FOUND"


def test_risk_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulators.customs.declaration_service import RISK_ENV, risk_from_env

    monkeypatch.delenv(RISK_ENV, raising=False)
    assert risk_from_env() == RiskProfile()
    monkeypatch.setenv(RISK_ENV, '{"rules": [{"code_prefix": "41", "form": "EXAMINATION"}]}')
    assert ControlForm.EXAMINATION in risk_from_env().forms("ED-1", ["4107129100"])


def test_an_export_permit_names_kazakhstan_as_dispatch_country() -> None:
    permit = replace(
        LICENCE, kind="PERMIT", trade_country="KZ", trade_country_role=TradeCountryRole.DISPATCH
    )
    assert permit_check(declaration(item()), [permit], GOODS, TODAY) == []
    abroad = replace(permit, trade_country="CN")
    assert codes(permit_check(declaration(item()), [abroad], GOODS, TODAY)) == [
        "PERMIT_COUNTRY_MISMATCH"
    ]


def test_a_malformed_risk_setting_fails_loudly() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RiskProfile.from_json({"examination_share": 1.5})
    with pytest.raises(ValidationError):
        RiskProfile.from_json({"rules": [{"code_prefix": "41", "form": "GREEN_CORRIDOR"}]})
