"""Every service with terms is on ``/metrics`` and on the console's SLA board: ELICENSE's licences,
the export-permit pilot's applications (same port, kind ``EXPORT_PILOT``) and KEDEN's export
declarations — in progress, decided by outcome, refused by ground, missed, time to decision."""

from __future__ import annotations

from datetime import timedelta

from kzgate.cli.demo import DemoReport
from kzgate.cli.demo_declaration import run as demo_declaration
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from tests.export_pilot.world import PilotWorld
from tests.gateway.harness import Harness
from tests.licensing.world import World
from tests.observability.conftest import LicenceFlow
from tests.observability.test_metrics import samples, simulator_metrics, value

ELICENSE = {"system": "ELICENSE"}


async def _boards(harness: Harness) -> dict:
    """The console's SLA boards, read as the console reads them (each system's ops endpoint)."""
    assert harness.app is not None
    return await harness.app.state.console.sla()  # type: ignore[attr-defined]


async def _sla_page(harness: Harness) -> str:
    """The console's SLA board as an operator sees it, logged in."""
    login = {"user": "operator", "password": "dev-console", "next": "/console/sla"}
    assert (await harness.http.post("/console/login", data=login)).status_code == 303
    page = await harness.http.get("/console/sla")
    assert page.status_code == 200
    return page.text


async def test_a_licence_flow_is_counted_once_decided(licence_flow: LicenceFlow) -> None:
    harness = licence_flow.world.harness
    found = samples(await simulator_metrics(harness, "ELICENSE"))
    licence = {**ELICENSE, "kind": "LICENCE"}
    assert value(found, "kzgate_applications_decided_total", **licence, outcome="ISSUED") == 1
    assert ("kzgate_applications_in_progress", tuple(sorted(licence.items()))) in found
    assert value(found, "kzgate_applications_in_progress", **licence) == 0
    assert value(found, "kzgate_applications_missed_deadline_total", **licence) == 0
    assert value(found, "kzgate_application_decision_seconds_count", **licence) == 1
    assert value(found, "kzgate_application_decision_seconds_bucket", **licence, le="+Inf") == 1
    assert not [key for key in found if key[0] == "kzgate_applications_refusal_grounds_total"]

    boards = await _boards(harness)
    assert boards["licences"]["issued"] == 1 and boards["licences"]["inProgress"] == 0
    assert boards["exportPilot"]["total"] == 0 and "error" not in boards["exportPilot"]
    assert boards["declarations"]["total"] == 0 and "error" not in boards["declarations"]


async def test_pilot_refusals_by_ground_and_a_late_registration(pilot: PilotWorld) -> None:
    refused = (await pilot.file(sample_application(Annex.TELECOM, pilot.today)))[
        "applicationNumber"
    ]
    people = pilot.pilot.desk.staff[Annex.TELECOM.committee]
    officer, head = people.officers[0].id, people.head.id
    taken = await pilot.desk("POST", f"/desk/applications/{refused}/take", officer=officer)
    assert taken.is_success, taken.text
    grounds = {"1": "the invoice is forged", "4": "no border crossing point"}
    answer = await pilot.desk(
        "POST", f"/desk/applications/{refused}/refuse", officer=officer, grounds=grounds
    )
    assert answer.is_success, answer.text
    assert (await pilot.desk("POST", f"/desk/applications/{refused}/sign", head=head)).is_success
    waiting = (await pilot.file(sample_application(Annex.INDUSTRY, pilot.today)))[
        "applicationNumber"
    ]
    pilot.world.clock.advance(timedelta(days=3))  # nobody registers it: p.9(1) allows 1 WD

    found = samples(await simulator_metrics(pilot.world.harness, "ELICENSE"))
    kind = {**ELICENSE, "kind": "EXPORT_PILOT"}
    assert value(found, "kzgate_applications_decided_total", **kind, outcome="REFUSED") == 1
    assert value(found, "kzgate_applications_decided_total", **kind, outcome="ISSUED") == 0
    for ground in ("1", "4"):
        assert value(found, "kzgate_applications_refusal_grounds_total", **kind, ground=ground) == 1
    assert value(found, "kzgate_applications_in_progress", **kind) == 1
    assert value(found, "kzgate_applications_missed_deadline_total", **kind) == 1
    assert value(found, "kzgate_application_decision_seconds_count", **kind) == 1

    board = (await _boards(pilot.world.harness))["exportPilot"]
    assert (board["refused"], board["open"]) == (1, 1)
    late = {a["applicationNumber"]: a["late"] for a in board["applications"]}
    assert late[waiting] and not late[refused]
    page = await _sla_page(pilot.world.harness)
    assert f'<tr data-number="{waiting}" class="missed">' in page
    assert f'<tr data-number="{refused}" class="">' in page


async def test_declarations_released_and_counted_on_kedens_metrics(world: World) -> None:
    keden = world.harness.keden
    assert keden is not None and keden.clearance is not None
    keden.clearance.start()  # KEDEN's worker, as its app's lifespan runs it
    report = DemoReport()
    try:
        code = await demo_declaration(
            world.portal_client, world.harness.pki_dir, world.clock.now(), 60.0, report
        )
    finally:
        await keden.clearance.stop()
    assert code == 0, "\n".join(report.lines)

    found = samples(await simulator_metrics(world.harness, "KEDEN"))
    kind = {"system": "KEDEN", "kind": "EXPORT_DECLARATION"}
    # One declaration released; the second was refused at formation and never became one.
    released = {**kind, "outcome": "RELEASE_PERMITTED"}
    assert value(found, "kzgate_applications_decided_total", **released) == 1
    assert value(found, "kzgate_applications_in_progress", **kind) == 0
    assert value(found, "kzgate_applications_missed_deadline_total", **kind) == 0
    assert value(found, "kzgate_application_decision_seconds_count", **kind) == 1
    # KEDEN's SOAP look-ups (its SyncChannel endpoint) are on the same /metrics.
    sync = {"system": "KEDEN", "channel": "sync", "outcome": "ok"}
    assert value(found, "kzgate_simulator_requests_total", **sync) > 0

    board = (await _boards(world.harness))["declarations"]
    assert (board["total"], board["released"], board["inProgress"], board["missed"]) == (1, 1, 0, 0)
    [row] = board["declarations"]
    assert row["status"] == "RELEASE_PERMITTED" and row["missed"] is False
    page = await _sla_page(world.harness)
    assert page.index('id="sla-declarations"') < page.index(f'data-number="{row["number"]}"')
