"""A simulated provider's hostile mode: it answers with one of the catalogue's attacks.

A tester switches it on to check their own client's verifier against the provider's answers —
``POST /ops/hostile {"attack": "xsw-body-in-header-same-id"}`` (``{"attack": null}`` switches it
off, ``GET`` lists the attacks that apply to answers). The answer is the provider's honest answer,
signed with its own key, then turned into the attack, exactly as ``kzgate attack`` turns a
request. It is a rehearsal tool: a state change, so ``simulators.kit.ops`` guards it (operator
only beyond loopback, never under ``KZGATE_ENV=production``).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors import TransportKey
from connectors.attacks.catalogue import BY_NAME, AttackKit, attacks_for
from connectors.attacks.kits import foreign_key
from simulators.kit.ops import ops_refusal


class HostileMode:
    """Which attack, if any, the provider's answers carry."""

    def __init__(self, system_id: str, key: TransportKey) -> None:
        self.system_id = system_id
        self.key = key
        self.attack: str | None = None

    def _kit(self, fresh: Callable[..., etree._Element]) -> AttackKit:
        # A provider holds its own key only; an untrusted CA it can make (once, lazily).
        return AttackKit(fresh=fresh, key=self.key, foreign_key=foreign_key(self.system_id))

    @property
    def attacks(self) -> list[str]:
        """The answer attacks this provider can mount (those needing no key it lacks)."""
        probe_kit = AttackKit(fresh=lambda **_: etree.Element("x"), key=self.key)
        probe_kit.foreign_key = self.key  # stands for "can be made"; never used to build
        return sorted(a.name for a in attacks_for("answer") if a.available(probe_kit))

    def answer(self, fresh: Callable[..., etree._Element]) -> bytes | None:
        """The hostile answer built from ``fresh`` (the unsigned honest answer), or None."""
        if self.attack is None:
            return None
        probe = BY_NAME[self.attack].build(self._kit(fresh))
        return None if probe is None else probe.body

    def routes(self, path: str = "/ops/hostile") -> list[BaseRoute]:
        async def endpoint(request: Request) -> Response:
            refused = ops_refusal(request)
            if refused is not None:
                return refused
            if request.method == "POST":
                try:
                    name = (await request.json())["attack"]
                except (ValueError, KeyError, TypeError):
                    return JSONResponse({"error": 'expected {"attack": NAME or null}'}, 400)
                if name is not None and name not in self.attacks:
                    return JSONResponse({"error": f"no answer attack {name!r} here"}, 400)
                self.attack = name
            return JSONResponse({"attack": self.attack, "attacks": self.attacks})

        return [Route(path, endpoint, methods=["GET", "POST"])]
