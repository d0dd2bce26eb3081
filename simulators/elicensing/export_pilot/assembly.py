"""Building the pilot inside ELICENSE: its desk, worker and endpoints share ELICENSE's gateway
client, system key, database and business clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors import ShepClient, TransportKey
from simulators.elicensing.export_pilot.auto import AutoOfficer, AutoOfficerSettings
from simulators.elicensing.export_pilot.desk import Desk
from simulators.elicensing.export_pilot.flow import PilotFlow
from simulators.elicensing.export_pilot.scope import PilotWindow, cis_from_env
from simulators.elicensing.export_pilot.service import ExportPilot
from simulators.elicensing.export_pilot.staff import head_keys, load_staff
from simulators.elicensing.export_pilot.store import PilotStore
from simulators.elicensing.facts import registry_answer
from simulators.elicensing.rule_facts import RegistryAnswer
from simulators.kit.calendar import EXPORT_PILOT_HOURS, WorkingCalendar
from simulators.kit.clock import Clock


def create_export_pilot(
    pki_dir: Path,
    database_url: str,
    *,
    client: ShepClient,
    key: TransportKey,
    clock: Clock,
    auto: AutoOfficerSettings | None = None,
    window: PilotWindow | None = None,
    calendar: WorkingCalendar | None = None,
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0),
) -> ExportPilot:
    """The pilot on ELICENSE's database; settings from the environment unless given."""
    staff = load_staff()

    async def registry(form: Any) -> RegistryAnswer:
        # E-licensing's look-up reads only ``form.applicant``: GBDUL / GBDFL via the gateway
        return await registry_answer(client, form)

    desk = Desk(
        store=PilotStore(database_url),
        clock=clock,
        staff=staff,
        head_keys=head_keys(pki_dir, staff),
        system_key=key,
        registry=registry,
        # The committees' hours (seed 003) on the days ELICENSE's settings decree: one decree
        # moves a day off for the Trade Committee and the pilot's committees alike.
        calendar=calendar or WorkingCalendar(EXPORT_PILOT_HOURS),
    )
    settings = auto or AutoOfficerSettings.from_env()
    officer = AutoOfficer(desk, settings) if settings.enabled else None
    flow = PilotFlow(desk, client, officer, retry_delays=retry_delays)
    return ExportPilot(desk, flow, window or PilotWindow.from_env(), cis_from_env())
