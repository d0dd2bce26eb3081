"""GBDUL simulator — the state database "Legal entities" (ГБД ЮЛ, «Заңды тұлғалар» МДҚ).

A registry look-up on the simulator kit (``simulators.kit.lookup``), so it owns only what is its
own: the organization model (``models``), its fixture (``fixtures/organizations.json`` and the
generator) and its payload spec (``payload.GBDUL``: by BIN, contract ``xsd/gbdul.xsd``).
``service`` serves it (``wsdl/GBDUL.wsdl``); ``python -m simulators.legal_entities`` runs it
alone.
"""
