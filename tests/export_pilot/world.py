"""Helpers for the pilot's end-to-end tests: file as EGOV_PORTAL through the gateway, act on the
desk over HTTP as officers do, and read what the cabinet, KEDEN and MONITORING received."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from lxml import etree

from connectors import ShepClient
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.forms import ExportPermitApplication
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from simulators.elicensing.export_pilot.service import QUERY_SERVICE, SUBMIT_SERVICE, ExportPilot
from simulators.elicensing.export_pilot.store import PilotApplication, State
from simulators.kit.clock import KZ_TIME
from tests.licensing.world import World
from tests.waiting import eventually


@dataclass
class PilotWorld:
    world: World
    pilot: ExportPilot

    @property
    def portal(self) -> ShepClient:
        return self.world.portal_client

    @property
    def today(self) -> dt.date:
        return self.world.clock.now().astimezone(KZ_TIME).date()

    async def file(self, form: ExportPermitApplication) -> dict[str, str]:
        answer = await self.portal.send(SUBMIT_SERVICE, documents.build(form))
        return _fields(answer.response.data[0])

    async def send(self, form: Any, service: str = SUBMIT_SERVICE) -> dict[str, str]:
        answer = await self.portal.send(service, documents.build(form))
        return _fields(answer.response.data[0])

    async def status(self, number: str) -> etree._Element:
        request = etree.Element(etree.QName(documents.NAMESPACE, "ExportPilotStatusRequest"))
        etree.SubElement(request, "applicationNumber").text = number
        return (await self.portal.send(QUERY_SERVICE, request)).response.data[0]

    async def desk(self, method: str, path: str, **body: Any) -> httpx2.Response:
        """The officers' HTTP desk on ELICENSE's app."""
        transport = httpx2.ASGITransport(app=self.world.harness.apps["ELICENSE"])
        async with httpx2.AsyncClient(transport=transport, base_url="http://elicense") as http:
            return await http.request(method, path, json=body or None)

    async def issue(self, annex: Annex) -> tuple[str, str]:
        """File a complete sample, take, approve and sign it on the desk over HTTP; delivered."""
        receipt = await self.file(sample_application(annex, self.today))
        number = receipt["applicationNumber"]
        committee = annex.committee.value
        assert receipt["committee"] == committee
        queue = (await self.desk("GET", f"/desk/queue?committee={committee}")).json()
        assert [a["applicationNumber"] for a in queue] == [number]
        officer = self.pilot.desk.staff[annex.committee].officers[0].id
        head = self.pilot.desk.staff[annex.committee].head.id
        taken = await self.desk("POST", f"/desk/applications/{number}/take", officer=officer)
        assert taken.status_code == 200 and taken.json()["findings"] == []
        approved = await self.desk("POST", f"/desk/applications/{number}/approve", officer=officer)
        assert approved.json()["decision"] == "APPROVE"
        signed = await self.desk("POST", f"/desk/applications/{number}/sign", head=head)
        assert signed.json()["outcome"] == "ISSUED"
        app = await self.delivered(number)
        assert app.document_number is not None
        return number, app.document_number

    async def app(self, number: str) -> PilotApplication:
        found = await self.pilot.desk.store.get(number)
        assert found is not None
        return found

    async def delivered(self, number: str, *, seconds: float = 30.0) -> PilotApplication:
        async def done() -> bool:
            return (await self.app(number)).state is State.DELIVERED

        await eventually(done, seconds=seconds)
        return await self.app(number)

    async def cabinet(self, at_least: int = 1) -> list[etree._Element]:
        """What the applicants' cabinet received from the pilot: TransportCertified documents."""
        return [
            d for d in await self.world.portal_documents(at_least) if d.tag == documents.CERTIFIED
        ]


@asynccontextmanager
async def running_pilot(world: World) -> AsyncIterator[PilotWorld]:
    """``world`` with the pilot's worker running, nobody at the desk unless the test acts."""
    pilot = world.harness.elicense.pilot if world.harness.elicense else None
    assert pilot is not None
    pilot.flow.start()
    try:
        yield PilotWorld(world, pilot)
    finally:
        await pilot.flow.stop()


def _fields(element: etree._Element) -> dict[str, str]:
    return {etree.QName(c).localname: c.text or "" for c in element}
