"""F1/F2 end to end: filed → issued, signed, in the applicant's cabinet and in KEDEN's records."""

from __future__ import annotations

from pathlib import Path

from signxml import XMLVerifier

from simulators.elicensing import documents
from simulators.elicensing.store import Outcome
from tests.licensing.world import World, running_world
from tests.simulators.elicensing.samples import (
    IMPORTER,
    applicant,
    export_application,
    import_application,
    permit_draft,
)

FEE_PAID_EXPORTER = "170640582744"  # ТОО «Алтын Дала Агро»: a confirmed 2026 fee in PEP


def _cert(world: World) -> bytes:
    return (world.harness.pki_dir / "ELICENSE.pem").read_bytes()


async def _issued_and_registered(world: World, form, kind: str) -> None:
    filed = await world.file(form)
    assert filed.registered_at == world.clock.now()  # working time: registered at once
    app = await world.delivered(filed.number)
    assert app.outcome is Outcome.ISSUED, app.grounds
    [document] = await world.portal_documents()
    XMLVerifier().verify(document, x509_cert=_cert(world))  # offline, standard tool
    parse = documents.parse_permit if kind == "PERMIT" else documents.parse_licence
    issued = parse(document)
    assert issued.number == app.document_number
    record = await world.keden_record(issued.number)
    assert record is not None
    c = record.content
    assert (c.kind.value, c.trade_type.value) == (kind, form.type.value)
    assert (c.holder_id, c.holder_name) == (form.applicant.identifier, form.applicant.name)
    assert [g.code for g in c.goods] == [form.goods.commodity_code]
    assert c.quantity == form.goods.quantity and c.unit == form.goods.unit
    assert (c.valid_from, c.valid_to) == (form.valid_from, form.valid_to)
    # each stage once (a redelivered push may arrive out of order; occurredAt orders them)
    stages = await world.stages(filed.number)
    assert sorted(stages) == sorted(["REGISTERED", "IN_WORK", "ISSUED", "DELIVERED"])
    assert app.completed_at <= app.deadline and not app.missed
    status = await world.status(filed.number)  # ElicenseApplicationStatus_v1 via the gateway
    assert (status["state"], status["outcome"]) == ("DELIVERED", "ISSUED")
    assert (status["documentNumber"], status["deadlineMissed"]) == (issued.number, "false")


async def test_import_licence_is_issued_signed_and_in_customs(world: World) -> None:
    await _issued_and_registered(world, import_application(number=None), "LICENCE")


async def test_export_licence_is_issued_signed_and_in_customs(world: World) -> None:
    form = export_application(number=None, applicant=applicant(FEE_PAID_EXPORTER))
    await _issued_and_registered(world, form, "LICENCE")


async def test_permit_is_issued_without_fee_and_registered(world: World) -> None:
    # ТОО «Семей Тері» has paid no fee: a permit (F2) is free.
    await _issued_and_registered(world, permit_draft(), "PERMIT")


async def test_same_application_twice_while_undecided_is_one_licence_one_record(
    licensing_pki: Path, tmp_path: Path
) -> None:
    # The worker is held back, so the second send surely finds the first one still undecided.
    async with running_world(licensing_pki, tmp_path, worker=False) as world:
        form = import_application(number=None)
        first = await world.file(form)
        second = await world.file(form)
        assert second.number == first.number and second.duplicate and not first.duplicate
        world.harness.elicense.flow.start()
        app = await world.delivered(first.number)
        assert len(await world.portal_documents()) == 1
        records = await world.keden_records_of(IMPORTER, at_least=1)
        assert [r.number for r in records] == [app.document_number]
        assert len(await world.harness.elicense.store.all()) == 1
