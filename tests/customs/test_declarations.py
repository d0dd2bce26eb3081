"""F6 end to end: a licence issued by F1, then export declarations against it in KEDEN — formed,
registered, controlled, released or refused — everything through the gateway on a virtual clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import httpx2
import pytest
from lxml import etree
from signxml import XMLVerifier

from connectors import XSD_DIR, GatewayFault, parse_datetime, sign_payload
from simulators.customs.declaration_payload import (
    answer_fields,
    build_declaration,
    build_register_request,
    build_status_request,
)
from simulators.customs.declarations import (
    ControlForm,
    DeclarationItem,
    ExportDeclaration,
    PaymentMethod,
)
from simulators.customs.models import RecordStatus
from simulators.customs.risk import RiskProfile, RiskRule
from simulators.elicensing.permit_query import build_execution_notice
from simulators.kit.clock import KZ_TIME
from simulators.kit.personal_keys import declarant_name, personal_key
from simulators.tax.customs_account import build_debit_request
from tests.licensing.world import World, running_world
from tests.simulators.elicensing.samples import EXPORTER as SEMEY_TERI
from tests.simulators.elicensing.samples import applicant, export_application, permit_draft

EXPORTER = "170640582744"  # ТОО «Алтын Дала Агро»: a confirmed 2026 fee in PEP
LEATHER = "4107129100"


async def _licence(world: World) -> str:
    """An export licence for 40 000 kg of leather to Italy, issued by F1 and in KEDEN."""
    filed = await world.file(export_application(number=None, applicant=applicant(EXPORTER)))
    app = await world.delivered(filed.number)
    assert app.document_number is not None
    await world.keden_record(app.document_number)
    return app.document_number


def _declaration(
    reference: str, quantity: str, permits: tuple[str, ...], **changes: object
) -> ExportDeclaration:
    item = DeclarationItem(
        code=str(changes.pop("code", LEATHER)),
        description="Whole bovine leather, tanned",
        quantity=Decimal(quantity),
        unit="kg",
        value=Decimal("46000.00"),
        currency="EUR",
        origin_country="KZ",
        destination_country=str(changes.pop("destination", "IT")),
        permit_numbers=permits,
    )
    base = dict(
        filing_reference=reference,
        procedure="EXPORT",
        declarant_id=EXPORTER,
        declarant_name="ТОО «Алтын Дала Агро»",
        payment_method=PaymentMethod.PERSONAL_ACCOUNT,
        items=(item,),
    )
    return ExportDeclaration(**{**base, **changes})  # type: ignore[arg-type]


async def _file(
    world: World, declaration: ExportDeclaration, *, signer: str | None = None
) -> dict[str, object]:
    """File as the portal, the declaration signed with the declarant's personal key (or
    ``signer``'s; "" for unsigned)."""
    element = build_declaration(declaration)
    name = declarant_name(declaration.declarant_id) if signer is None else signer
    if name:
        sign_payload(element, personal_key(world.harness.pki_dir, name))
    answer = await world.portal_client.send("KedenFileDeclaration_v1", element)
    return answer_fields(answer.response.data[0])


async def _status(world: World, number: str) -> dict[str, object]:
    answer = await world.portal_client.send(
        "KedenDeclarationStatus_v1", build_status_request(number)
    )
    return answer_fields(answer.response.data[0])


def _clearance(world: World):
    assert world.harness.keden is not None and world.harness.keden.clearance is not None
    return world.harness.keden.clearance


async def test_part_released_and_written_off_then_more_than_left_refused(world: World) -> None:
    licence = await _licence(world)
    filed = await _file(world, _declaration("EXP-1", "15000", (licence,)))
    assert filed["resultCode"] == "SUBMITTED", filed
    number = str(filed["declarationNumber"])
    await _clearance(world).run_once()
    status = await _status(world, number)
    assert status["status"] == "RELEASE_PERMITTED", status
    assert status["registrationLate"] == "false" and status["controlForm"] == ["DOCUMENTARY_CHECK"]
    record = await world.keden_record(licence)
    assert record is not None and record.remaining_quantity == Decimal("25000")
    assert record.status is RecordStatus.VALID
    # E-licensing learnt the execution: its answer to customs shows what is left
    documents = await _clearance(world)._permit_documents(_declaration("Q", "1", (licence,)))
    assert [(d.number, d.remaining_quantity) for d in documents] == [(licence, Decimal("25000"))]

    second = await _file(world, _declaration("EXP-2", "30000", (licence,)))
    assert second["resultCode"] == "FORMATION_REFUSED"
    [reason] = second["reason"]  # type: ignore[misc]
    assert reason["code"] == "PERMIT_QUANTITY_EXCEEDED" and "25000" in reason["text"]
    assert reason["remedy"]


async def test_goods_with_no_permit_are_refused_formation(world: World) -> None:
    filed = await _file(world, _declaration("EXP-NP", "100", ()))
    assert filed["resultCode"] == "FORMATION_REFUSED"
    assert [r["code"] for r in filed["reason"]] == ["PERMIT_ABSENT"]  # type: ignore[union-attr]
    assert "declarationNumber" not in filed


async def test_paperless_exclusions_refuse_formation(world: World) -> None:
    filed = await _file(
        world,
        _declaration(
            "EXP-X",
            "1",
            (),
            procedure="IMPORT",
            payment_method=PaymentMethod.CUSTOMS_POS_TERMINAL,
            duty_benefit_claimed=True,
        ),
    )
    codes = [r["code"] for r in filed["reason"]]  # type: ignore[union-attr]
    assert codes == [
        "NOT_EXPORT_PROCEDURE",
        "PAYMENT_AT_CUSTOMS_TERMINAL",
        "DUTY_BENEFIT_OR_PREFERENCE",
    ]


async def test_release_notices_reach_the_cabinet_signed_by_the_official(world: World) -> None:
    licence = await _licence(world)
    filed = await _file(world, _declaration("EXP-S", "100", (licence,)))
    await _clearance(world).run_once()
    notices = [
        d
        for d in await world.portal_documents(at_least=5)
        if etree.QName(d).localname == "DeclarationNotice"
    ]
    statuses = [d.findtext("status") for d in notices]
    # each status once; pushes may overtake each other (the gateway delivers concurrently)
    assert sorted(statuses) == sorted(
        ["SUBMITTED", "REGISTERED", "RISK_CHECK", "RELEASE_PERMITTED"]
    )
    assert {d.findtext("declarationNumber") for d in notices} == {filed["declarationNumber"]}
    # the declarant reads each status in the seed's words
    assert {(d.findtext("status"), d.findtext("statusKk")) for d in notices} == {
        ("SUBMITTED", "берілді"),
        ("REGISTERED", "тіркелді"),
        ("RISK_CHECK", "тәуекелдерді басқару жүйесінің тексеруі"),
        ("RELEASE_PERMITTED", "тауарларды шығаруға рұқсат берілді"),
    }
    status = await _status(world, str(filed["declarationNumber"]))
    assert status["statusKk"] == "тауарларды шығаруға рұқсат берілді"
    schema = etree.XMLSchema(etree.parse(str(XSD_DIR / "keden.xsd")))
    for notice in notices:  # KEDEN's contract describes what it sends
        schema.assertValid(notice)
    cert = (world.harness.pki_dir / "personal" / "KEDEN-OFFICIAL-0001.pem").read_bytes()
    for notice in notices:
        XMLVerifier().verify(notice, x509_cert=cert)  # the official's personal key, offline
    assert cert != (world.harness.pki_dir / "KEDEN.pem").read_bytes()


async def test_redelivered_execution_and_release_write_off_once(world: World) -> None:
    licence = await _licence(world)
    filed = await _file(world, _declaration("EXP-R", "10000", (licence,)))
    number = str(filed["declarationNumber"])
    clearance = _clearance(world)
    await clearance.run_once()
    await clearance.run_once()  # a second pass (a restarted worker) finds it released
    # the release reaches E-licensing again (a resend after a lost answer)
    [write_off] = await clearance.store.write_offs(licence)
    notice = build_execution_notice(
        licence, number, write_off.quantity, write_off.unit, write_off.written_off_at
    )
    client = clearance.client
    answer = await client.send("ElicensePermitExecution_v1", notice)
    ack = answer_fields(answer.response.data[0])
    assert (ack["resultCode"], ack["remainingQuantity"]) == ("ALREADY_APPLIED", "30000")
    record = await world.keden_record(licence)
    assert record is not None and record.remaining_quantity == Decimal("30000")


async def test_whole_quantity_exhausts_the_licence_in_keden_and_elicensing(world: World) -> None:
    licence = await _licence(world)
    await _file(world, _declaration("EXP-ALL", "40000", (licence,)))
    await _clearance(world).run_once()
    record = await world.keden_record(licence)
    assert record is not None and record.status is RecordStatus.EXHAUSTED
    [document] = await _clearance(world)._permit_documents(_declaration("Q", "1", (licence,)))
    assert document.status is RecordStatus.EXHAUSTED and document.remaining_quantity == 0
    refused = await _file(world, _declaration("EXP-MORE", "1", (licence,)))
    assert [r["code"] for r in refused["reason"]] == ["PERMIT_NOT_VALID"]  # type: ignore[union-attr]


async def test_examination_releases_only_after_the_officers_result(world: World) -> None:
    licence = await _licence(world)
    clearance = _clearance(world)
    clearance.risk = RiskProfile(rules=(RiskRule("4107", ControlForm.EXAMINATION),))
    filed = await _file(world, _declaration("EXP-E", "500", (licence,)))
    number = str(filed["declarationNumber"])
    await clearance.run_once()
    status = await _status(world, number)
    assert status["status"] == "RISK_CHECK"
    assert status["controlForm"] == ["DOCUMENTARY_CHECK", "EXAMINATION"]
    world.clock.advance(timedelta(hours=1))
    await clearance.run_once()
    assert (await _status(world, number))["status"] == "RISK_CHECK"  # still waiting
    record = await world.keden_record(licence)
    assert record is not None and record.remaining_quantity == Decimal("40000")
    await clearance.record_control_result(
        number, "инспектор Сапарова А.", violations=False, finding="goods match the declaration"
    )
    await clearance.run_once()
    assert (await _status(world, number))["status"] == "RELEASE_PERMITTED"
    record = await world.keden_record(licence)
    assert record is not None and record.remaining_quantity == Decimal("39500")


async def test_examination_with_violations_refuses_release_with_remedy(world: World) -> None:
    licence = await _licence(world)
    clearance = _clearance(world)
    clearance.risk = RiskProfile(rules=(RiskRule("4107", ControlForm.PAPER_ORIGINALS),))
    filed = await _file(world, _declaration("EXP-V", "500", (licence,)))
    number = str(filed["declarationNumber"])
    await clearance.run_once()
    await clearance.record_control_result(
        number, "инспектор Сапарова А.", violations=True, finding="contract original differs"
    )
    await clearance.run_once()
    status = await _status(world, number)
    assert status["status"] == "RELEASE_REFUSED"
    [reason] = status["reason"]  # type: ignore[misc]
    assert reason["code"] == "CONTROL_FOUND_VIOLATIONS" and reason["remedy"]
    record = await world.keden_record(licence)
    assert record is not None and record.remaining_quantity == Decimal("40000")


async def test_registers_look_up_by_bin(world: World) -> None:
    answer = await world.portal_client.send(
        "KedenRegisterLookup_v1", build_register_request("230740502921", "CUSTOMS_CARRIER")
    )
    fields = answer_fields(answer.response.data[0])
    [entry] = fields["entry"]  # type: ignore[misc]
    assert (entry["register"], entry["status"]) == ("CUSTOMS_CARRIER", "SUSPENDED")
    licence = await _licence(world)
    refused = await _file(world, _declaration("EXP-C", "1", (licence,), carrier="230740502921"))
    codes = [r["code"] for r in refused["reason"]]  # type: ignore[union-attr]
    assert codes == ["NOT_ACTIVE_IN_REGISTER_CUSTOMS_CARRIER"]


# Tuesday 15 Dec 2026, 17:50: the last working day before Independence Day (Wed 16 Dec).
BEFORE_HOLIDAY = datetime(2026, 12, 15, 17, 50, tzinfo=KZ_TIME)


async def test_filed_1750_before_holiday_registration_deadline_and_lateness(
    licensing_pki, tmp_path
) -> None:
    async with running_world(licensing_pki, tmp_path, start=BEFORE_HOLIDAY) as world:
        free = _declaration("EXP-H2", "1", (), code="0101210000")  # live horses: no measure
        filed = await _file(world, free)
        assert filed["resultCode"] == "SUBMITTED", filed
        # 10 working minutes on Tuesday, the holiday skipped, 1 h 50 min from Thursday 09:00
        deadline = datetime(2026, 12, 17, 10, 50, tzinfo=KZ_TIME)
        assert parse_datetime(str(filed["registrationDeadline"])) == deadline
        number = str(filed["declarationNumber"])
        clearance = _clearance(world)
        world.clock.set(datetime(2026, 12, 17, 11, 30, tzinfo=KZ_TIME))  # the desk ran late
        await clearance.run_once()
        status = await _status(world, number)
        assert status["status"] == "RELEASE_PERMITTED"
        assert status["registrationLate"] == "true"  # counted, never silent
        report = await clearance.report()
        assert report["registrationLate"] == 1


async def test_a_decreed_day_off_moves_the_registration_deadline(
    licensing_pki, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A decree makes Thursday 17 Dec 2026 a day off too: KEDEN's own setting carries it.
    monkeypatch.setenv("KZGATE_KEDEN_EXTRA_HOLIDAYS", '["2026-12-17"]')
    async with running_world(licensing_pki, tmp_path, start=BEFORE_HOLIDAY) as world:
        filed = await _file(world, _declaration("EXP-D", "1", (), code="0101210000"))
    # 10 working minutes on Tuesday; Wednesday (Independence Day) and the decreed Thursday
    # skipped; 1 h 50 min from Friday 09:00
    deadline = datetime(2026, 12, 18, 10, 50, tzinfo=KZ_TIME)
    assert parse_datetime(str(filed["registrationDeadline"])) == deadline


async def test_registered_in_time_is_not_late(world: World) -> None:
    filed = await _file(world, _declaration("EXP-T", "1", (), code="0101210000"))
    clearance = _clearance(world)
    await clearance.run_once()
    status = await _status(world, str(filed["declarationNumber"]))
    assert (status["status"], status["registrationLate"]) == ("RELEASE_PERMITTED", "false")
    assert (await clearance.report())["registrationLate"] == 0


async def test_document_terminated_in_keden_refuses_formation(world: World) -> None:
    """KEDEN's own record decides too (one status model; F3 terminations land here)."""
    licence = await _licence(world)
    await world.harness.keden.records.terminate(licence, "terminated by the issuing body")
    refused = await _file(world, _declaration("EXP-TERM", "10", (licence,)))
    [reason] = refused["reason"]  # type: ignore[misc]
    assert reason["code"] == "PERMIT_NOT_VALID" and "TERMINATED" in reason["text"]


async def test_terminated_after_filing_refuses_registration_with_reason(world: World) -> None:
    licence = await _licence(world)
    filed = await _file(world, _declaration("EXP-RR", "10", (licence,)))
    await world.harness.keden.records.terminate(licence, "terminated by the issuing body")
    await _clearance(world).run_once()
    status = await _status(world, str(filed["declarationNumber"]))
    assert status["status"] == "REGISTRATION_REFUSED"
    [reason] = status["reason"]  # type: ignore[misc]
    assert reason["code"] == "PERMIT_NOT_VALID" and reason["remedy"]


async def test_two_declarations_in_work_cannot_both_take_the_rest(world: World) -> None:
    licence = await _licence(world)
    first = await _file(world, _declaration("EXP-A", "30000", (licence,)))
    assert first["resultCode"] == "SUBMITTED"
    second = await _file(world, _declaration("EXP-B", "20000", (licence,)))  # 10 000 not held
    [reason] = second["reason"]  # type: ignore[misc]
    assert reason["code"] == "PERMIT_QUANTITY_EXCEEDED" and "held" in reason["text"]


async def test_officer_late_past_release_deadline_is_counted(world: World) -> None:
    licence = await _licence(world)
    clearance = _clearance(world)
    clearance.risk = RiskProfile(rules=(RiskRule("4107", ControlForm.EXAMINATION),))
    filed = await _file(world, _declaration("EXP-LATE", "5", (licence,)))
    number = str(filed["declarationNumber"])
    await clearance.run_once()
    status = await _status(world, number)
    deadline = parse_datetime(str(status["releaseDeadline"]))
    world.clock.set(deadline + timedelta(minutes=1))
    await clearance.run_once()
    status = await _status(world, number)
    assert (status["status"], status["releaseLate"]) == ("RISK_CHECK", "true")
    assert (await clearance.report())["releaseLate"] == 1
    assert (await clearance.report())["waitingForOfficer"] == [number]


async def test_officer_result_through_ops_endpoint_and_repeated_once(world: World) -> None:
    licence = await _licence(world)
    keden = world.harness.keden
    clearance = _clearance(world)
    clearance.risk = RiskProfile(examination_share=1.0)  # every declaration is examined
    filed = await _file(world, _declaration("EXP-OPS", "700", (licence,)))
    number = str(filed["declarationNumber"])
    await clearance.run_once()
    transport = httpx2.ASGITransport(app=keden.app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://keden") as ops:
        body = {"officer": "инспектор Сапарова А.", "finding": "goods match"}
        for _ in range(2):  # the officer's action delivered twice
            answer = await ops.post(f"/ops/declarations/{number}/control-result", json=body)
            assert answer.status_code == 200 and answer.json()["status"] == "RELEASE_PERMITTED"
        listing = (await ops.get("/ops/declarations")).json()
    assert listing["byStatus"]["RELEASE_PERMITTED"] == 1
    record = await world.keden_record(licence)
    assert record is not None and record.remaining_quantity == Decimal("39300")


async def test_customs_payments_debited_once_from_the_personal_account(world: World) -> None:
    licence = await _licence(world)
    filed = await _file(world, _declaration("EXP-PAY", "100", (licence,)))
    clearance = _clearance(world)
    await clearance.run_once()
    status = await _status(world, str(filed["declarationNumber"]))
    assert (status["status"], status["customsPaid"]) == ("RELEASE_PERMITTED", "20000")
    # the debit asked again (a resend after a lost answer) takes nothing twice
    again = await clearance._answer(
        "KgdCustomsPaymentDebit_v1",
        build_debit_request(EXPORTER, str(filed["declarationNumber"]), Decimal("20000"), "X"),
    )
    fields = answer_fields(again)
    assert (fields["resultCode"], fields["balance"]) == ("ALREADY_DEBITED", "2480000.00")


async def test_empty_personal_account_refuses_release_with_remedy(world: World) -> None:
    poor = _declaration(
        "EXP-POOR",
        "1",
        (),
        code="0101210000",
        declarant_id="111040099201",
        declarant_name="ТОО «Ақ Бидай Экспорт»",
    )
    filed = await _file(world, poor)
    await _clearance(world).run_once()
    status = await _status(world, str(filed["declarationNumber"]))
    assert status["status"] == "RELEASE_REFUSED"
    [reason] = status["reason"]  # type: ignore[misc]
    assert reason["code"] == "CUSTOMS_PAYMENTS_NOT_PAID" and "Top up" in reason["remedy"]


def _fault_of(exc: GatewayFault) -> tuple[str, str]:
    """The code and message of KEDEN's refusal, as the gateway relays a provider's fault."""
    info = exc.info.sub_error or exc.info
    return info.error_code, info.error_message


async def test_bad_declarant_identifier_is_a_fault_with_the_reason(world: World) -> None:
    bad = _declaration("EXP-BAD", "1", (), code="0101210000", declarant_id="170640582745")
    with pytest.raises(GatewayFault) as caught:
        await _file(world, bad)
    code, message = _fault_of(caught.value)
    assert code == "Client.Schema.PayloadInvalid" and "170640582745" in message


async def test_declaration_sent_to_the_status_service_is_refused(world: World) -> None:
    element = build_declaration(_declaration("EXP-MIS", "1", (), code="0101210000"))
    with pytest.raises(GatewayFault) as caught:
        await world.portal_client.send("KedenDeclarationStatus_v1", element)
    code, message = _fault_of(caught.value)
    assert code == "Client.Schema.PayloadInvalid"
    assert "takes DeclarationStatusRequest" in message


async def test_elicensing_down_at_release_learns_the_write_off_later_once(world: World) -> None:
    licence = await _licence(world)
    filed = await _file(world, _declaration("EXP-DOWN", "4000", (licence,)))
    clearance = _clearance(world)
    elicense = world.harness.elicense
    assert elicense is not None
    elicense.provider.faults.failures.fail_next(1, "http-503")  # down when the release reports
    await clearance.run_once()
    status = await _status(world, str(filed["declarationNumber"]))
    assert status["status"] == "RELEASE_PERMITTED"  # customs does not wait for E-licensing
    [pending] = await clearance.store.write_offs(licence)
    assert not pending.reported_elicense
    await clearance.run_once()  # the next pass reports it
    [reported] = await clearance.store.write_offs(licence)
    assert reported.reported_elicense
    [document] = await clearance._permit_documents(_declaration("Q", "1", (licence,)))
    assert document.remaining_quantity == Decimal("36000")  # written off once in E-licensing


async def test_statuses_reach_monitoring_as_stages(world: World) -> None:
    filed = await _file(world, _declaration("EXP-MON", "1", (), code="0101210000"))
    await _clearance(world).run_once()
    stages = await world.stages(str(filed["declarationNumber"]), at_least=3)
    assert sorted(stages) == sorted(["REGISTERED", "IN_WORK", "ISSUED"])


async def test_declaration_must_carry_the_declarants_own_valid_signature(world: World) -> None:
    free = _declaration("EXP-SIG", "1", (), code="0101210000")
    unsigned = await _file(world, free, signer="")
    assert [r["code"] for r in unsigned["reason"]] == ["DECLARANT_SIGNATURE_MISSING"]
    by_another = await _file(world, free, signer=declarant_name("111040099201"))
    assert [r["code"] for r in by_another["reason"]] == ["DECLARANT_SIGNATURE_NOT_DECLARANTS"]
    by_system = build_declaration(free)
    sign_payload(by_system, world.harness.key_of("EGOV_PORTAL"))  # a system key is not an EDS
    answer = await world.portal_client.send("KedenFileDeclaration_v1", by_system)
    codes = [r["code"] for r in answer_fields(answer.response.data[0])["reason"]]
    assert codes == ["DECLARANT_SIGNATURE_NOT_DECLARANTS"]
    element = build_declaration(free)
    sign_payload(element, personal_key(world.harness.pki_dir, declarant_name(EXPORTER)))
    element.find("item/quantity").text = "1000"  # altered after signing
    answer = await world.portal_client.send("KedenFileDeclaration_v1", element)
    tampered = answer_fields(answer.response.data[0])
    assert [r["code"] for r in tampered["reason"]] == ["DECLARANT_SIGNATURE_INVALID"]
    assert (await _file(world, free))["resultCode"] == "SUBMITTED"


async def test_elicensing_down_at_formation_is_a_fault_and_nothing_is_filed(world: World) -> None:
    licence = await _licence(world)
    elicense = world.harness.elicense
    assert elicense is not None
    elicense.provider.faults.failures.fail_next(1, "http-503")
    with pytest.raises(GatewayFault) as caught:
        await _file(world, _declaration("EXP-503", "10", (licence,)))
    code, _ = _fault_of(caught.value)
    assert code == "Server.Keden.FormationUnavailable"
    assert await _clearance(world).store.all() == []
    again = await _file(world, _declaration("EXP-503", "10", (licence,)))  # the same, later
    assert (again["resultCode"], again["duplicate"]) == ("SUBMITTED", "false")


FRIDAY_EVENING = datetime(2026, 11, 27, 19, 0, tzinfo=KZ_TIME)


async def test_filed_after_hours_is_registered_at_the_next_opening(licensing_pki, tmp_path) -> None:
    async with running_world(licensing_pki, tmp_path, start=FRIDAY_EVENING) as world:
        filed = await _file(world, _declaration("EXP-FRI", "1", (), code="0101210000"))
        # counted from Monday 09:00: due at 11:00
        due = datetime(2026, 11, 30, 11, 0, tzinfo=KZ_TIME)
        assert parse_datetime(str(filed["registrationDeadline"])) == due
        number = str(filed["declarationNumber"])
        clearance = _clearance(world)
        await clearance.run_once()
        assert (await _status(world, number))["status"] == "SUBMITTED"  # nobody works now
        world.clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=KZ_TIME))
        await clearance.run_once()
        status = await _status(world, number)
        assert (status["status"], status["registrationLate"]) == ("RELEASE_PERMITTED", "false")


async def test_officer_result_violations_must_be_a_json_boolean(world: World) -> None:
    licence = await _licence(world)
    clearance = _clearance(world)
    clearance.risk = RiskProfile(examination_share=1.0)
    filed = await _file(world, _declaration("EXP-STR", "10", (licence,)))
    number = str(filed["declarationNumber"])
    await clearance.run_once()
    transport = httpx2.ASGITransport(app=world.harness.keden.app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://keden") as ops:
        url = f"/ops/declarations/{number}/control-result"
        body = {"officer": "инспектор Сапарова А.", "violations": "false", "finding": "ok"}
        answer = await ops.post(url, json=body)
        assert answer.status_code == 400
        assert "violations must be a JSON boolean" in answer.json()["error"]
        assert (await _status(world, number))["status"] == "RISK_CHECK"  # not refused
        answer = await ops.post(url, json={**body, "violations": False})
    assert answer.status_code == 200 and answer.json()["status"] == "RELEASE_PERMITTED"


async def test_officer_result_for_a_declaration_needing_none_is_refused(world: World) -> None:
    filed = await _file(world, _declaration("EXP-NO", "1", (), code="0101210000"))
    number = str(filed["declarationNumber"])
    await _clearance(world).run_once()
    transport = httpx2.ASGITransport(app=world.harness.keden.app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://keden") as ops:
        body = {"officer": "инспектор Сапарова А.", "violations": True, "finding": "late"}
        answer = await ops.post(f"/ops/declarations/{number}/control-result", json=body)
        unknown = await ops.post("/ops/declarations/ED-2026-9999999/control-result", json=body)
    assert answer.status_code == 409 and "needs no officer" in answer.json()["error"]
    assert unknown.status_code == 409
    assert (await _status(world, number))["status"] == "RELEASE_PERMITTED"  # unchanged


async def test_an_f2_permit_covers_its_declaration_and_is_written_off(world: World) -> None:
    filed = await world.file(permit_draft())
    app = await world.delivered(filed.number)
    permit = app.document_number
    assert permit is not None
    await world.keden_record(permit)
    declaration = _declaration(
        "EXP-F2",
        "1000",
        (permit,),
        declarant_id=SEMEY_TERI,
        declarant_name="ТОО «Семей Тері»",
    )
    answer = await _file(world, declaration)
    assert answer["resultCode"] == "SUBMITTED", answer
    await _clearance(world).run_once()
    assert (await _status(world, str(answer["declarationNumber"])))["status"] == "RELEASE_PERMITTED"
    record = await world.keden_record(permit)
    assert record is not None and record.remaining_quantity == Decimal("39000")
