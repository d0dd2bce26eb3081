"""Send attacks to an endpoint and judge each answer: refused, or fallen for.

An endpoint falls for an attack when it answers HTTP 200 with something other than a SOAP fault
(or, for a comment-split value, an answer that does not carry the value that was signed). Before
any attack a control — the same kit's honest message — must be accepted, else nothing can be
judged.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from lxml import etree

from connectors import GatewayError, parse_document, parse_fault
from connectors.attacks.model import Attack, AttackKit, Probe

_ANSWER_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    """What one attack got. ``fell`` is None when the attack was skipped (``note`` says why)."""

    attack: Attack
    status: int | None
    fault_code: str | None
    fell: bool | None
    note: str = ""


def fault_code_of(body: bytes) -> str | None:
    """The ErrorInfo code of a SOAP fault answer; None when the answer is not a fault."""
    try:
        root = parse_document(body, max_bytes=_ANSWER_LIMIT, max_depth=256)
    except GatewayError:
        return None
    info = parse_fault(root)
    if info is not None:
        return info.error_code
    faults = root.xpath("//*[local-name()='Fault']")
    return "(SOAP fault without ErrorInfo)" if faults else None


def judge(probe: Probe, status: int, body: bytes) -> tuple[bool, str | None]:
    """(fell for it, fault code) for one answer."""
    code = fault_code_of(body)
    if status != 200 or code is not None:
        return False, code
    if probe.must_echo is not None:
        return probe.must_echo not in body, None
    return True, None


async def post(http: httpx2.AsyncClient, url: str, probe: Probe) -> httpx2.Response:
    return await http.post(url, content=probe.body, headers={"Content-Type": probe.content_type})


def honest(kit: AttackKit) -> Probe:
    """The kit's honest message: what every endpoint must accept."""
    return Probe(etree.tostring(kit.signed(), xml_declaration=True, encoding="UTF-8"))


async def control(http: httpx2.AsyncClient, url: str, kit: AttackKit) -> str | None:
    """None when the honest message is accepted; else why nothing can be judged."""
    probe = honest(kit)
    response = await post(http, url, probe)
    fell, code = judge(probe, response.status_code, response.content)
    if fell:
        return None
    return f"the honest control message was refused (HTTP {response.status_code}, {code})"


async def run_attack(http: httpx2.AsyncClient, url: str, kit: AttackKit, attack: Attack) -> Outcome:
    probe = attack.build(kit)
    if probe is None:
        return Outcome(attack, None, None, None, "skipped: the kit lacks the key it needs")
    response = await post(http, url, probe)
    if probe.send_twice:
        response = await post(http, url, probe)
    fell, code = judge(probe, response.status_code, response.content)
    return Outcome(attack, response.status_code, code, fell)


async def run_attacks(
    http: httpx2.AsyncClient, url: str, kit: AttackKit, attacks: list[Attack]
) -> list[Outcome]:
    return [await run_attack(http, url, kit, attack) for attack in attacks]


def report(outcomes: list[Outcome]) -> str:
    """A table a tester reads: every attack, its family, what the endpoint answered."""
    lines = [f"{'attack':<38} {'family':<10} verdict"]
    for outcome in outcomes:
        if outcome.fell is None:
            verdict = outcome.note
        elif outcome.fell:
            verdict = f"ACCEPTED (HTTP {outcome.status}) — fell for it"
        elif outcome.status == 200:
            verdict = "held: HTTP 200, answered with the signed value"
        else:
            verdict = f"refused: HTTP {outcome.status} {outcome.fault_code or ''}".rstrip()
        lines.append(f"{outcome.attack.name:<38} {outcome.attack.family:<10} {verdict}")
    fell = [o.attack.name for o in outcomes if o.fell]
    lines.append("")
    lines.append(
        f"{len(fell)} of {sum(o.fell is not None for o in outcomes)} attacks accepted"
        + (": " + ", ".join(fell) if fell else "")
    )
    return "\n".join(lines)
