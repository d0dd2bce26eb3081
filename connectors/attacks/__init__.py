"""Hostile SOAP envelopes from the literature, as a catalogue both the tests and testers use.

``catalogue`` lists every attack in one order; the families are built in ``wrapping``, ``keys``,
``signatures`` and ``structure`` from a legitimate signer's kit (``model.AttackKit``) with the
attacker's tools of ``envelopes``. ``runner`` sends them to an endpoint and reports which it
accepted. The gateway's test corpus (``tests/security/corpus``) runs every one against both
channels; ``kzgate attack`` runs them, signed in the gateway's own name, against a provider under
test; a simulated provider can answer with them (``POST /ops/hostile``) so a tester can check
their own client's verifier.

The catalogue is wire-level — built from any signer's key and the kit's envelopes, judged by the
SOAP fault catalogue — so it lives in the kit, where the gateway, the simulators and a state
system's own tests can all use it. Only what ``kzgate attack`` adds (requests as the gateway
relays them, read from its registry) belongs to the command line: ``kzgate/cli/attack.py``.
"""
