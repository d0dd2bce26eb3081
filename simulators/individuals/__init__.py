"""GBDFL simulator — the state database "Individuals" (ГБД ФЛ, «Жеке тұлғалар» МДҚ).

A registry look-up on the simulator kit (``simulators.kit.lookup``), so it owns only what is its
own: the person model (``models``), its fixture (``fixtures/persons.json`` and the generator)
and its payload spec (``payload.GBDFL``: by IIN, contract ``xsd/gbdfl.xsd``). ``service`` serves
it (``wsdl/GBDFL.wsdl``); ``python -m simulators.individuals`` runs it alone.
"""
