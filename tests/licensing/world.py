"""The whole system in-process for the licensing tests: gateway, every simulator, ELICENSE's
worker, on a virtual business clock. Helpers file applications as EGOV_PORTAL and read what the
portal, KEDEN and MONITORING received — all through the gateway, nothing mocked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx2
from lxml import etree

from connectors import ShepClient, parse_datetime
from simulators.customs.models import CustomsRecord
from simulators.customs.payload import (
    build_by_holder,
    build_by_number,
    parse_lookup_answer,
    standalone,
)
from simulators.elicensing import documents
from simulators.elicensing.forms import LicenceApplication, PermitDraft
from simulators.elicensing.store import Application, State
from simulators.kit.clock import KZ_TIME, VirtualClock, use_clock
from simulators.monitoring.payload import StageEvent, parse_stage_event
from simulators.payments.payload import build_confirm_request, build_create_request
from tests.gateway.harness import Harness, running_gateway
from tests.waiting import eventually

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=KZ_TIME)  # the samples' registration day
SUBMIT = "ElicenseSubmitApplication_v1"
STATUS = "ElicenseApplicationStatus_v1"


@dataclass(frozen=True)
class Filed:
    number: str
    registered_at: datetime
    deadline: datetime
    duplicate: bool


@dataclass
class World:
    harness: Harness
    clock: VirtualClock

    @cached_property
    def portal_client(self) -> ShepClient:
        # One client: loading its private key costs ~0.1 s, too much for every filing.
        return self.harness.client("EGOV_PORTAL")

    async def file(self, form: LicenceApplication | PermitDraft) -> Filed:
        element = (
            documents.build_permit_draft(form)
            if isinstance(form, PermitDraft)
            else documents.build_application(form)
        )
        answer = (await self.portal_client.send(SUBMIT, element)).response.data[0]
        text = {etree.QName(c).localname: c.text for c in answer}
        return Filed(
            text["registrationNumber"],
            parse_datetime(text["registeredAt"]),
            parse_datetime(text["deadline"]),
            text["duplicate"] == "true",
        )

    async def status(self, number: str) -> dict[str, str]:
        request = etree.Element(etree.QName(documents.NAMESPACE, "ApplicationStatusRequest"))
        etree.SubElement(request, "registrationNumber").text = number
        answer = (await self.portal_client.send(STATUS, request)).response.data[0]
        return {etree.QName(c).localname: c.text or "" for c in answer}

    async def application(self, number: str) -> Application:
        app = await self.harness.elicense.store.get(number)
        assert app is not None
        return app

    async def delivered(self, number: str, seconds: float = 30.0) -> Application:
        async def done() -> bool:
            return (await self.application(number)).state is State.DELIVERED

        await eventually(done, seconds=seconds)
        return await self.application(number)

    async def portal_documents(self, at_least: int = 1) -> list[etree._Element]:
        """Each document the applicant's cabinet received, as its issuer wrote it (the push
        follows the gateway's ack, so wait for ``at_least`` of them)."""

        async def arrived() -> bool:
            return len(await self.harness.portal.inbox.messages()) >= at_least

        await eventually(arrived)
        found = []
        for message in await self.harness.portal.inbox.messages():
            data = message.data_element()
            found += [etree.fromstring(standalone(c)) for c in data.iterchildren(tag=etree.Element)]
        return found

    async def keden_record(self, number: str) -> CustomsRecord | None:
        async def registered() -> bool:
            return await self._keden_record(number) is not None

        await eventually(registered)
        return await self._keden_record(number)

    async def _keden_record(self, number: str) -> CustomsRecord | None:
        answer = await self.portal_client.send("KedenRecordByNumber_v1", build_by_number(number))
        records = parse_lookup_answer(answer.response.data).records
        return records[0] if records else None

    async def keden_records_of(self, holder: str, at_least: int = 0) -> list[CustomsRecord]:
        """The holder's customs records in KEDEN (the registration follows the gateway's ack of
        ELICENSE's message, so wait for ``at_least`` of them)."""

        async def registered() -> bool:
            return len(await self._keden_records_of(holder)) >= at_least

        await eventually(registered)
        return await self._keden_records_of(holder)

    async def _keden_records_of(self, holder: str) -> list[CustomsRecord]:
        answer = await self.portal_client.send("KedenRecordsByHolder_v1", build_by_holder(holder))
        return list(parse_lookup_answer(answer.response.data).records)

    async def stages(self, number: str, at_least: int = 4) -> list[str]:
        async def arrived() -> bool:
            return len(await self._stages(number)) >= at_least

        await eventually(arrived)
        await asyncio.sleep(0.1)  # a duplicate, were there one, would land now
        return await self._stages(number)

    async def _stages(self, number: str) -> list[str]:
        events = await self.stage_events()
        return [e.stage.value for e in events if e.application_number == number]

    async def stage_events(self) -> list[StageEvent]:
        """Every stage event MONITORING received, in arrival order (duplicates included)."""
        return [
            parse_stage_event(m.data_element())
            for m in await self.harness.monitoring.inbox.messages()
        ]

    async def ops_get(self, system: str, path: str) -> Any:
        """A simulator's ops endpoint (``/ops/…``), as a tester reads it."""
        async with self._ops_client(system) as http:
            reply = await http.get(path)
            reply.raise_for_status()
            return reply.json()

    async def ops_post(self, system: str, path: str, body: dict[str, Any]) -> None:
        async with self._ops_client(system) as http:
            (await http.post(path, json=body)).raise_for_status()

    def _ops_client(self, system: str) -> httpx2.AsyncClient:
        transport = httpx2.ASGITransport(app=self.harness.apps[system])
        return httpx2.AsyncClient(transport=transport, base_url="http://sim")

    async def pay_fee(
        self, payer: str, amount: str = "43250.00", reference: str = "FEE-T-1"
    ) -> None:
        """The applicant pays the 10-MRP fee through PEP (as the portal would)."""
        create = build_create_request(payer, "LICENCE_FEE_IMPORT_EXPORT", amount, reference)
        created = (await self.portal_client.send("PepCreatePayment_v1", create)).response.data[0]
        payment_id = created.find("payment/paymentId").text
        await self.portal_client.send("PepConfirmPayment_v1", build_confirm_request(payment_id))


@asynccontextmanager
async def running_world(
    pki_dir: Path,
    var_dir: Path,
    *,
    start: datetime = MONDAY_10,
    worker: bool = True,
    **gateway_settings: object,
) -> AsyncIterator[World]:
    """Everything in-process on a frozen virtual clock at ``start``; ELICENSE's worker running."""
    clock = VirtualClock(start)
    use_clock(clock)  # before the apps are built: each simulator takes the process clock
    try:
        async with running_gateway(
            pki_dir, var_dir, **{"retry_delays": (0.05,), **gateway_settings}
        ) as harness:
            # Create every simulator table up front: first pushes racing on CREATE TABLE in
            # the shared SQLite file would otherwise be refused and redelivered.
            await harness.monitoring.inbox.messages()
            await harness.portal.inbox.messages()
            await harness.elicense.store.all()
            if worker:
                harness.elicense.flow.start()
            yield World(harness, clock)
    finally:
        use_clock(None)
