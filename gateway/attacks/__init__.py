"""Hostile SOAP envelopes from the literature, as a catalogue both the tests and testers use.

``catalogue`` builds each attack from a legitimate signer's kit (``AttackKit``); ``runner`` sends
them to an endpoint and reports which it accepted. The gateway's test corpus
(``tests/security/corpus``) runs every one against both channels; ``kzgate attack`` runs them,
signed in the gateway's own name, against a provider under test; a simulated provider can answer
with them (``POST /ops/hostile``) so a tester can check their own client's verifier.
"""
