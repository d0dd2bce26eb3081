"""Hostile SOAP envelopes from the literature, as a catalogue both the tests and testers use.

``catalogue`` lists every attack in one order; the families are built in ``wrapping``, ``keys``,
``signatures`` and ``structure`` from a legitimate signer's kit (``model.AttackKit``) with the
attacker's tools of ``envelopes``. ``runner`` sends them to an endpoint and reports which it
accepted. The gateway's test corpus (``tests/security/corpus``) runs every one against both
channels; ``kzgate attack`` runs them, signed in the gateway's own name, against a provider under
test; a simulated provider can answer with them (``POST /ops/hostile``) so a tester can check
their own client's verifier.
"""
